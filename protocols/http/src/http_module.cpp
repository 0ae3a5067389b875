#include "http_module.hpp"

#include "exchange.hpp"

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

// Exchange blocks freed on this thread, for the requests it makes next, so
// a steady stream of requests asks malloc for none (the runtime's
// OperationAllocator does the same for operations). Off under
// AddressSanitizer, which then sees each block freed.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kKeptExchanges = 0;
#else
constexpr int kKeptExchanges = 32;
#endif

// Trivially destructible, so usable to the thread's very end: a block freed
// after the drain ran goes straight back to operator delete.
struct SpareExchanges {
  void* blocks[kKeptExchanges + 1];
  int count;
  bool closed;
};
thread_local SpareExchanges spare_exchanges{};

struct DrainSpareExchanges {
  ~DrainSpareExchanges() {
    spare_exchanges.closed = true;
    while (spare_exchanges.count > 0)
      ::operator delete(spare_exchanges.blocks[--spare_exchanges.count]);
  }
};
thread_local DrainSpareExchanges drain_spare_exchanges;

}  // namespace

const std::type_info& http_module_type() {
  return typeid(HttpModule);
}

void* Exchange::operator new(std::size_t size) {
  auto& spare = spare_exchanges;
  if (size == sizeof(Exchange) && spare.count > 0) return spare.blocks[--spare.count];
  return ::operator new(size);
}

void Exchange::operator delete(void* block, std::size_t size) noexcept {
  auto& spare = spare_exchanges;
  if (size == sizeof(Exchange) && spare.count < kKeptExchanges && !spare.closed) {
    if (spare.count == 0) (void)&drain_spare_exchanges;  // first use: emptied at thread exit
    spare.blocks[spare.count++] = block;
    return;
  }
  ::operator delete(block);
}

std::shared_ptr<Module> make_http_module() {
  return std::make_shared<HttpModule>("http", 80);
}

std::shared_ptr<Module> make_https_module() {
  return std::make_shared<HttpModule>("https", 443);
}

}  // namespace uvinet::http::detail
