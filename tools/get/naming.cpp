#include "naming.hpp"

#include <set>

#include "uvinet/url.hpp"

namespace uvinet::get {

namespace {

// The path of a URL that crack_url() rejects, found by hand: after the
// authority, before any query or fragment. A bad URL fails later anyway;
// its name only has to be harmless.
std::string_view rough_path(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
    const auto slash = url.find('/');
    return slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
  }
  return url;
}

}  // namespace

std::string file_name_for_url(std::string_view url) {
  const auto cracked = crack_url(url);
  const std::string path = cracked ? cracked->path : std::string(rough_path(url));
  std::string name = path.substr(path.rfind('/') + 1);  // npos + 1 == 0: the whole path
  if (name.empty() || name == "." || name == "..") return "index.html";
  return name;
}

std::vector<std::string> unique_names(const std::vector<std::string>& names,
                                      const std::function<bool(const std::string&)>& exists) {
  std::set<std::string> given;
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    std::string candidate = name;
    for (unsigned n = 1; given.count(candidate) || exists(candidate); ++n) {
      candidate = name + "." + std::to_string(n);
    }
    given.insert(candidate);
    out.push_back(std::move(candidate));
  }
  return out;
}

std::string upload_url(std::string_view url, std::string_view file) {
  if (url.empty() || url.back() != '/') return std::string(url);
  const auto slash = file.rfind('/');
  return std::string(url) +
         std::string(slash == std::string_view::npos ? file : file.substr(slash + 1));
}

}  // namespace uvinet::get
