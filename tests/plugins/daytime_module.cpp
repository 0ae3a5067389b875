// Daytime (RFC 867) as a plugin: the server sends the date as text and closes
// the connection; anything the client sends is ignored, so send is refused.
#include "stream_request.hpp"

namespace {

class DaytimeModule final : public uvinet::Module {
 public:
  std::string_view scheme() const override { return "daytime"; }
  std::uint16_t default_port() const override { return 13; }
  std::unique_ptr<uvinet::ProtocolRequest> open_request(uvinet::RequestEnv& env) override {
    return std::make_unique<uvinet_test_plugins::StreamRequest>(env, /*can_send=*/false);
  }
};

}  // namespace

UVINET_DEFINE_MODULE(DaytimeModule)
