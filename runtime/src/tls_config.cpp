#include "tls_config.hpp"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include <filesystem>
#include <map>
#include <mutex>

namespace uvinet::detail {
namespace {

constexpr const char* kSystemBundle = "/etc/ssl/certs/ca-certificates.crt";
constexpr const char* kSystemDirectory = "/etc/ssl/certs";

// The one generator of the process: seeding reads the system's entropy,
// too slow to do per connection. The mutex serialises it for every loop
// thread whatever mbedTLS was built with (MBEDTLS_THREADING_C or not).
class Random {
 public:
  static Result<Random*> instance() {
    static Random random;
    if (random.seed_error_ != 0) {
      return Error(errc::tls_error,
                   "seeding the TLS random generator: " + mbedtls_message(random.seed_error_));
    }
    return &random;
  }
  static int generate(void* self, unsigned char* out, std::size_t n) {
    auto* r = static_cast<Random*>(self);
    std::lock_guard lock(r->mutex_);
    return mbedtls_ctr_drbg_random(&r->drbg_, out, n);
  }

 private:
  Random() {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
    static const char personal[] = "uvinet";
    seed_error_ = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                        reinterpret_cast<const unsigned char*>(personal),
                                        sizeof personal - 1);
  }
  ~Random() {
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }

  std::mutex mutex_;
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  int seed_error_ = 0;
};

// mbedTLS keeps the pointer: the list must live as long as the process.
const char* kAlpn[] = {"http/1.1", nullptr};

class Config final : public TlsConfig {
 public:
  Config() {
    mbedtls_ssl_config_init(&conf_);
    mbedtls_x509_crt_init(&ca_);
    mbedtls_x509_crl_init(&crl_);
    mbedtls_x509_crt_init(&own_cert_);
    mbedtls_pk_init(&own_key_);
  }
  ~Config() override {
    mbedtls_ssl_config_free(&conf_);
    mbedtls_x509_crt_free(&ca_);
    mbedtls_x509_crl_free(&crl_);
    mbedtls_x509_crt_free(&own_cert_);
    mbedtls_pk_free(&own_key_);
  }
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;

  Result<void> build(const TlsSettings& s, Random* random) {
    int rc = mbedtls_ssl_config_defaults(&conf_, MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0) return failure("TLS defaults", rc);
    mbedtls_ssl_conf_rng(&conf_, &Random::generate, random);
    // TLS 1.0 and 1.1 are broken and deprecated (RFC 8996).
    mbedtls_ssl_conf_min_version(&conf_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_alpn_protocols(&conf_, kAlpn);
    if (s.verify) {
      if (auto r = load_cas(s); !r) return r;
      if (!s.crl_file.empty()) {
        if (int rc = mbedtls_x509_crl_parse_file(&crl_, s.crl_file.c_str()); rc != 0)
          return failure("crl_file " + s.crl_file, rc);
      }
      mbedtls_ssl_conf_ca_chain(&conf_, &ca_, s.crl_file.empty() ? nullptr : &crl_);
      mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_REQUIRED);
    } else {
      mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_NONE);
    }
    return load_client_certificate(s);
  }

  const mbedtls_ssl_config* ssl_config() const override { return &conf_; }

 private:
  static Error failure(const std::string& what, int rc) {
    return Error(errc::tls_error, what + ": " + mbedtls_message(rc));
  }

  Result<void> load_cas(const TlsSettings& s) {
    const bool own = !s.ca_file.empty() || !s.ca_directory.empty() || !s.ca_pem.empty();
    // A positive result counts certificates that did not parse: a system
    // bundle may hold some mbedTLS does not understand, and the rest serve.
    if (!own) {
      const bool bundle = std::filesystem::exists(kSystemBundle);
      const int rc = bundle ? mbedtls_x509_crt_parse_file(&ca_, kSystemBundle)
                            : mbedtls_x509_crt_parse_path(&ca_, kSystemDirectory);
      if (rc < 0) return failure(bundle ? kSystemBundle : kSystemDirectory, rc);
      return {};
    }
    if (!s.ca_file.empty()) {
      if (const int rc = mbedtls_x509_crt_parse_file(&ca_, s.ca_file.c_str()); rc != 0)
        return failure("ca_file " + s.ca_file, rc);
    }
    if (!s.ca_directory.empty()) {
      if (const int rc = mbedtls_x509_crt_parse_path(&ca_, s.ca_directory.c_str()); rc < 0)
        return failure("ca_directory " + s.ca_directory, rc);
    }
    if (!s.ca_pem.empty()) {
      // PEM input is parsed with its terminating NUL counted in the length.
      const int rc = mbedtls_x509_crt_parse(
          &ca_, reinterpret_cast<const unsigned char*>(s.ca_pem.c_str()), s.ca_pem.size() + 1);
      if (rc != 0) return failure("ca_pem", rc);
    }
    return {};
  }

  Result<void> load_client_certificate(const TlsSettings& s) {
    if (s.client_cert_file.empty() && s.client_key_file.empty()) return {};
    if (s.client_cert_file.empty() || s.client_key_file.empty()) {
      return Error(errc::tls_error, "client_cert_file and client_key_file go together");
    }
    if (int rc = mbedtls_x509_crt_parse_file(&own_cert_, s.client_cert_file.c_str()); rc != 0)
      return failure("client_cert_file " + s.client_cert_file, rc);
    if (int rc = mbedtls_pk_parse_keyfile(&own_key_, s.client_key_file.c_str(), nullptr); rc != 0)
      return failure("client_key_file " + s.client_key_file, rc);
    if (int rc = mbedtls_ssl_conf_own_cert(&conf_, &own_cert_, &own_key_); rc != 0)
      return failure("client certificate", rc);
    return {};
  }

  mbedtls_ssl_config conf_;
  mbedtls_x509_crt ca_;
  mbedtls_x509_crl crl_;
  mbedtls_x509_crt own_cert_;
  mbedtls_pk_context own_key_;
};

}  // namespace

std::string TlsSettings::key() const {
  // NUL cannot occur in a path, and ca_pem goes last: the fields never run
  // into each other.
  std::string k = verify ? "verify" : "no-verify";
  for (const std::string* f :
       {&ca_file, &ca_directory, &crl_file, &client_cert_file, &client_key_file}) {
    k += '\0';
    k += *f;
  }
  k += '\0';
  k += ca_pem;
  return k;
}

namespace {
// Connections with the same settings share one config while any of them is
// alive: files are read again only once every connection made with them is
// gone.
struct ConfigCache {
  std::mutex mutex;
  std::map<std::string, std::weak_ptr<const TlsConfig>> configs;  // guarded by mutex

  static ConfigCache& instance() {
    static ConfigCache cache;
    return cache;
  }
  std::shared_ptr<const TlsConfig> find(const std::string& key) {
    std::lock_guard lock(mutex);
    auto it = configs.find(key);
    return it == configs.end() ? nullptr : it->second.lock();
  }
  /// Keeps `config` unless another thread's build for `key` got in first.
  std::shared_ptr<const TlsConfig> keep(const std::string& key,
                                        std::shared_ptr<const TlsConfig> config) {
    std::lock_guard lock(mutex);
    std::erase_if(configs, [](const auto& entry) { return entry.second.expired(); });
    auto& entry = configs[key];
    if (auto first = entry.lock()) return first;
    entry = config;
    return config;
  }
};
}  // namespace

std::shared_ptr<const TlsConfig> TlsConfig::cached(const TlsSettings& settings) {
  return ConfigCache::instance().find(settings.key());
}

Result<std::shared_ptr<const TlsConfig>> TlsConfig::get(const TlsSettings& settings) {
  auto random = Random::instance();
  if (!random) return random.error();
  const std::string key = settings.key();
  auto& cache = ConfigCache::instance();
  if (auto config = cache.find(key)) return config;
  // Built outside the lock, so that cached() on a loop thread never waits
  // for a file; two threads may build the same config, and one is kept.
  auto config = std::make_shared<Config>();
  if (auto built = config->build(settings, *random); !built) return built.error();
  return cache.keep(key, std::move(config));
}

std::string mbedtls_message(int code) {
  char text[200];
  mbedtls_strerror(code, text, sizeof text);
  return text;
}

}  // namespace uvinet::detail
