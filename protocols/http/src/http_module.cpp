#include "http_module.hpp"

#include "exchange.hpp"
#include "uvinet/block_cache.hpp"

namespace uvinet::http::detail {
namespace {

// One class for both schemes: the Exchange looks at the URL's scheme to
// choose TCP or TLS, and at nothing else.
class HttpModule final : public Module {
 public:
  HttpModule(std::string scheme, std::uint16_t port) : scheme_(std::move(scheme)), port_(port) {}
  std::string_view scheme() const override { return scheme_; }
  std::uint16_t default_port() const override { return port_; }
  std::unique_ptr<ProtocolRequest> open_request(RequestEnv& env) override {
    return std::make_unique<Exchange>(env,
                                      std::static_pointer_cast<RequestState>(env.request_state()));
  }
  std::shared_ptr<void> make_request_state() override { return std::make_shared<RequestState>(); }

 private:
  std::string scheme_;
  std::uint16_t port_;
};

// Exchange blocks freed on this thread, for the requests it makes next.
using SpareExchanges = ThreadBlockCache<sizeof(Exchange), 32>;

}  // namespace

const std::type_info& http_module_type() {
  return typeid(HttpModule);
}

void* Exchange::operator new(std::size_t size) {
  if (size == sizeof(Exchange)) return SpareExchanges::allocate();
  return ::operator new(size);
}

void Exchange::operator delete(void* block, std::size_t size) noexcept {
  if (size == sizeof(Exchange)) return SpareExchanges::deallocate(block);
  ::operator delete(block);
}

std::shared_ptr<Module> make_http_module() {
  return std::make_shared<HttpModule>("http", 80);
}

std::shared_ptr<Module> make_https_module() {
  return std::make_shared<HttpModule>("https", 443);
}

}  // namespace uvinet::http::detail
