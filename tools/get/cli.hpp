// `uvinet get`'s command line: the options, how CLI11 reads them, and the
// checks across options that CLI11 cannot express. No I/O here, so the
// tests can parse command lines without running anything.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <tl/expected.hpp>

namespace uvinet::get {

struct GetOptions {
  std::vector<std::string> urls;
  std::string output_dir;  ///< -o: empty means stdout (one URL only)
  unsigned parallel = 8;   ///< -j
  bool follow_redirects = false;
  unsigned max_redirects = 10;
  bool compressed = false;
  std::string method;  ///< -X; empty: GET, POST with -d, PUT with -T, HEAD with -I
  std::vector<std::string> header_lines;                     ///< -H, as given
  std::vector<std::pair<std::string, std::string>> headers;  ///< -H, split by check_options()
  std::string data;                                          ///< -d, "@file" as given
  bool has_data = false;
  std::string upload_file;  ///< -T
  double timeout_seconds = 0;
  std::string proxy;
  std::string user;  ///< -u user:password, as given
  bool head = false;
  std::string continue_at;  ///< -C, as given: only "-" is supported
  bool resume = false;      ///< -C -, set by check_options()
  bool verbose = false;
  bool silent = false;
  // TLS, for https:// URLs.
  std::string ca_file;    ///< --cacert
  std::string ca_path;    ///< --capath
  std::string crl_file;   ///< --crlfile
  std::string cert_file;  ///< --cert: client certificate
  std::string key_file;   ///< --key: its key; the --cert file itself when not given
  bool insecure = false;  ///< -k

  /// The method on the wire, from -X or the other options.
  std::string effective_method() const;
};

/// Adds the `get` subcommand with its options to `app`, filling `options`
/// when it parses. Returns the subcommand.
CLI::App* add_get_command(CLI::App& app, GetOptions& options);

/// The checks across options (run after a successful parse): the error
/// message, or nullopt when the options make sense together.
std::optional<std::string> check_options(GetOptions& options);

/// Parses a whole command line, `args` without the program name
/// ({"get", "-j", "4", "http://..."}): the options, or CLI11's or
/// check_options()'s message.
tl::expected<GetOptions, std::string> parse_command_line(std::vector<std::string> args);

/// Splits "Name: value" (-H); nullopt when there is no ':' or no name.
std::optional<std::pair<std::string, std::string>> split_header(std::string_view line);

}  // namespace uvinet::get
