#include "http_module.hpp"

#include "exchange.hpp"

namespace uvinet::http::detail {
namespace {

class HttpModule final : public Module {
 public:
  std::string_view scheme() const override { return "http"; }
  std::uint16_t default_port() const override { return 80; }
  std::unique_ptr<ProtocolRequest> open_request(RequestEnv& env) override {
    return std::make_unique<Exchange>(env,
                                      std::static_pointer_cast<RequestState>(env.request_state()));
  }
  std::shared_ptr<void> make_request_state() override {
    // The deleter's type marks the state as ours (see state_of() in http_api.cpp).
    return std::shared_ptr<RequestState>(new RequestState, RequestStateDeleter{});
  }
};

}  // namespace

void RequestStateDeleter::operator()(RequestState* state) const {
  delete state;
}

std::shared_ptr<Module> make_http_module() {
  return std::make_shared<HttpModule>();
}

}  // namespace uvinet::http::detail
