// Echo (RFC 862) as a plugin: what the client sends, the server sends back.
// Built outside protocols/ as a shared module and loaded with
// uvinet::load_module(); everything it uses of the runtime comes from the
// program that loads it.
#include "stream_request.hpp"

namespace {

class EchoModule final : public uvinet::Module {
 public:
  std::string_view scheme() const override { return "echo"; }
  std::uint16_t default_port() const override { return 7; }
  // Send and receive are independent: the application may keep a receive
  // pending while it sends.
  bool duplex() const override { return true; }
  std::unique_ptr<uvinet::ProtocolRequest> open_request(uvinet::RequestEnv& env) override {
    return std::make_unique<uvinet_test_plugins::StreamRequest>(env, /*can_send=*/true);
  }
};

}  // namespace

UVINET_DEFINE_MODULE(EchoModule)
