// The registry: scheme -> module. Built-ins and plugins register alike.
#include <uv.h>

#include <map>
#include <mutex>
#include <vector>

#include "builtin_modules.hpp"
#include "uvinet/module.hpp"

namespace uvinet {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<Module>, std::less<>> modules;
  // Plugins stay loaded for the life of the process: their code must outlive
  // every object they made, which may be anywhere.
  std::vector<std::unique_ptr<uv_lib_t>> libraries;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Registry& registry() {
  // Outlives every handle that uses a module.
  static auto* r = [] {
    auto* registry = new Registry;
    for (auto& module : detail::builtin_modules()) {
      registry->modules.emplace(lower(module->scheme()), std::move(module));
    }
    return registry;
  }();
  return *r;
}

}  // namespace

Result<void> register_module(std::shared_ptr<Module> module) {
  if (!module) return Error(errc::invalid_argument, "register_module: no module");
  const std::string scheme = lower(module->scheme());
  if (scheme.empty()) return Error(errc::invalid_argument, "register_module: empty scheme");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (!r.modules.emplace(scheme, std::move(module)).second) {
    return Error(errc::module_conflict, "register_module: scheme '" + scheme + "'");
  }
  return {};
}

Result<void> unregister_module(std::string_view scheme) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.modules.find(lower(scheme));
  if (it == r.modules.end()) {
    return Error(errc::unsupported_scheme,
                 "unregister_module: scheme '" + std::string(scheme) + "'");
  }
  r.modules.erase(it);
  return {};
}

Result<std::shared_ptr<Module>> find_module(std::string_view scheme) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.modules.find(lower(scheme));
  if (it == r.modules.end()) {
    return Error(errc::unsupported_scheme, "no module for scheme '" + std::string(scheme) + "'");
  }
  return it->second;
}

Result<std::shared_ptr<Module>> load_module(const std::string& path) {
  auto owned = std::make_unique<uv_lib_t>();
  uv_lib_t* lib = owned.get();
  if (uv_dlopen(path.c_str(), lib) != 0) {
    std::string why = uv_dlerror(lib);
    uv_dlclose(lib);
    return Error(errc::module_load_failed, "load " + path + ": " + why);
  }
  auto fail = [&](const std::string& why) -> Result<std::shared_ptr<Module>> {
    uv_dlclose(lib);
    return Error(errc::module_load_failed, "load " + path + ": " + why);
  };
  void* version_sym = nullptr;
  void* create_sym = nullptr;
  if (uv_dlsym(lib, "uvinet_module_abi_version", &version_sym) != 0 ||
      uv_dlsym(lib, "uvinet_module_create", &create_sym) != 0) {
    return fail("not a uvinet module (missing uvinet_module_abi_version or uvinet_module_create)");
  }
  const int version = reinterpret_cast<int (*)()>(version_sym)();
  if (version != module_abi_version) {
    return fail("built for module ABI " + std::to_string(version) + ", this runtime has " +
                std::to_string(module_abi_version));
  }
  std::shared_ptr<Module> module(reinterpret_cast<Module* (*)()>(create_sym)());
  if (!module) return fail("uvinet_module_create returned no module");
  if (auto ok = register_module(module); !ok) {
    module.reset();  // its code goes with the library
    uv_dlclose(lib);
    return Error(ok.error().code(), "load " + path + ": " + ok.error().message());
  }
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.libraries.push_back(std::move(owned));
  return module;
}

}  // namespace uvinet
