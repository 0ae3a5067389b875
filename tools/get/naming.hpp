// Output file names for -o DIR: pure functions, so the rules are tested
// without a file system.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace uvinet::get {

/// The name a URL's body is saved under: the last segment of its path, as
/// written (percent escapes kept, so no '/' can appear), or "index.html"
/// when that segment is empty, "." or "..". The query and fragment are not
/// part of it.
std::string file_name_for_url(std::string_view url);

/// Makes each of `names` unique, in order: a name already given to an
/// earlier one, or for which `exists` says true, gets the first free suffix
/// of ".1", ".2", ... ("a.bin" -> "a.bin.1").
std::vector<std::string> unique_names(const std::vector<std::string>& names,
                                      const std::function<bool(const std::string&)>& exists);

/// The URL a -T upload goes to: `url` itself, or with the uploaded file's
/// own name appended when `url` ends in '/' (as curl does).
std::string upload_url(std::string_view url, std::string_view file);

}  // namespace uvinet::get
