#include "uvinet/error.hpp"

namespace uvinet {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "uvinet"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ok: return "success";
#define UVINET_ERRC_MESSAGE(name, text) \
  case errc::name: return text;
        UVINET_ERRORS(UVINET_ERRC_MESSAGE)
#undef UVINET_ERRC_MESSAGE
    }
    return "unknown uvinet error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

const char* error_name(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
#define UVINET_ERRC_NAME(name, text) \
  case errc::name: return #name;
      UVINET_ERRORS(UVINET_ERRC_NAME)
#undef UVINET_ERRC_NAME
  }
  return "unknown";
}

const std::string& Error::where() const noexcept {
  static const std::string empty;
  return where_ ? *where_ : empty;
}

std::string Error::message() const {
  std::string what = code_ ? code_.message() : std::string("success");
  if (!where_ || where_->empty()) return what;
  return *where_ + ": " + what;
}

}  // namespace uvinet
