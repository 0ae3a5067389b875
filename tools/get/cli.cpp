#include "cli.hpp"

#include <algorithm>

namespace uvinet::get {

namespace {

// Kept next to the options so --help states the contract scripts rely on.
constexpr const char* kFooter = R"(Exit status:
  0  every transfer succeeded
  1  a transfer failed: a network or file error, or an HTTP status of 400 or
     more (as with curl --fail: the error body is not saved)
  2  the command line is wrong

With one URL and no -o the body goes to stdout. With -o DIR each body is saved
in DIR under the URL's last path segment (index.html when empty), made unique
with a suffix .1, .2, ... when the name is taken. Progress bars are drawn when
stderr is a terminal; a summary line per URL goes to stderr unless -s.)";

void add_transfer_options(CLI::App& cmd, GetOptions& o) {
  cmd.add_option("-o,--output-dir", o.output_dir, "save the bodies in DIR");
  cmd.add_option("-j,--parallel", o.parallel, "transfers at once (default 8)")
      ->check(CLI::Range(1, 1024));
  cmd.add_flag("-L,--location", o.follow_redirects, "follow redirects");
  cmd.add_option("--max-redirs", o.max_redirects,
                 "redirects followed at most, with -L (default 10)")
      ->check(CLI::Range(0, 1000));
  cmd.add_flag("--compressed", o.compressed, "ask for gzip or deflate and decode the body");
  cmd.add_option("--timeout", o.timeout_seconds, "the most seconds a transfer may take")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("-C,--continue-at", o.continue_at,
                 "'-': resume into the existing file of -o DIR (Range from its size)");
}

void add_request_options(CLI::App& cmd, GetOptions& o) {
  cmd.add_option("-X,--request", o.method, "the request method");
  cmd.add_option("-H,--header", o.header_lines, "'Name: value', repeatable")
      ->allow_extra_args(false);
  cmd.add_option("-d,--data", o.data, "POST this body; @FILE reads it from FILE")
      ->each([&o](const std::string&) { o.has_data = true; });
  cmd.add_option("-T,--upload-file", o.upload_file, "PUT FILE (streamed)");
  cmd.add_option("--proxy", o.proxy, "use this HTTP proxy (http://host:port)");
  cmd.add_option("-u,--user", o.user, "user:password for Basic authentication");
  cmd.add_flag("-I,--head", o.head, "HEAD: print the response heads to stdout");
  cmd.add_flag("-v,--verbose", o.verbose,
               "status notifications on stderr, one line each (not those of each read or write)");
  cmd.add_flag("-s,--silent", o.silent, "no progress and no summary lines (errors still show)");
}

void add_tls_options(CLI::App& cmd, GetOptions& o) {
  cmd.add_option("--cacert", o.ca_file, "trust the CAs of this PEM file (not the system's)");
  cmd.add_option("--capath", o.ca_path, "trust the CAs of the PEM files in this directory");
  cmd.add_option("--crlfile", o.crl_file, "refuse certificates this PEM revocation list names");
  cmd.add_option("--cert", o.cert_file, "present this PEM client certificate");
  cmd.add_option("--key", o.key_file,
                 "the client certificate's PEM key (default: the --cert file)");
  cmd.add_flag("-k,--insecure", o.insecure,
               "accept ANY server certificate: no check of issuer, dates or name");
}

}  // namespace

std::string GetOptions::effective_method() const {
  if (!method.empty()) return method;
  if (head) return "HEAD";
  if (!upload_file.empty()) return "PUT";
  if (has_data) return "POST";
  return "GET";
}

CLI::App* add_get_command(CLI::App& app, GetOptions& options) {
  CLI::App* cmd = app.add_subcommand("get", "download URLs concurrently (HTTP)");
  add_transfer_options(*cmd, options);
  add_request_options(*cmd, options);
  add_tls_options(*cmd, options);
  cmd->add_option("URL", options.urls, "the URLs to fetch")->required();
  cmd->footer(kFooter);
  return cmd;
}

std::optional<std::pair<std::string, std::string>> split_header(std::string_view line) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  return std::pair{std::string(line.substr(0, colon)), std::string(value)};
}

std::optional<std::string> check_options(GetOptions& o) {
  for (const auto& line : o.header_lines) {
    auto field = split_header(line);
    if (!field) return "-H wants 'Name: value', not '" + line + "'";
    o.headers.push_back(std::move(*field));
  }
  if (!o.continue_at.empty() && o.continue_at != "-") {
    return "-C takes only '-' (resume from the size of the existing file)";
  }
  o.resume = o.continue_at == "-";
  if (o.resume && o.output_dir.empty()) return "-C - needs -o DIR: it resumes saved files";
  if (o.has_data && !o.upload_file.empty()) return "-d and -T cannot be used together";
  if (!o.key_file.empty() && o.cert_file.empty()) return "--key needs --cert";
  if (!o.cert_file.empty() && o.key_file.empty()) o.key_file = o.cert_file;
  if (o.head && (o.has_data || !o.upload_file.empty())) return "-I sends no body: drop -d / -T";
  if (o.head && !o.output_dir.empty()) return "-I prints heads to stdout: drop -o";
  if (o.urls.size() > 1 && o.output_dir.empty() && !o.head) {
    return "several URLs need -o DIR (only one body can go to stdout)";
  }
  return std::nullopt;
}

tl::expected<GetOptions, std::string> parse_command_line(std::vector<std::string> args) {
  CLI::App app{"uvinet"};
  app.require_subcommand(1);
  GetOptions options;
  add_get_command(app, options);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return tl::unexpected(std::string(e.what()));
  }
  if (auto problem = check_options(options)) return tl::unexpected(*problem);
  return options;
}

}  // namespace uvinet::get
