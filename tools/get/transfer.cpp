#include "transfer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace uvinet::get {

namespace {

// Big enough that a fast transfer costs few callbacks, small enough that
// many transfers at once keep memory flat.
constexpr std::size_t kPiece = 256 * 1024;

/// Runs an asynchronous call and hands its result to `then` whether it
/// completes at once (no callback comes then, C1) or later.
template <class T, class Call, class Then>
void async_step(Call call, Then then) {
  AsyncContext<T> async{then};
  Result<T> r = call(&async);
  if (!r.pending()) then(std::move(r));
}

std::string origin_form(const Url& url) {
  std::string target = url.path.empty() ? "/" : url.path;
  if (!url.query.empty()) target += "?" + url.query;
  return target;
}

/// N of a 416's "Content-Range: bytes */N" (RFC 9110 §14.4), the size the
/// server has; nullopt when the value is not of that form.
std::optional<std::uint64_t> unsatisfied_length(std::string_view value) {
  constexpr std::string_view prefix = "bytes */";
  if (value.substr(0, prefix.size()) != prefix) return std::nullopt;
  value.remove_prefix(prefix.size());
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return n;
}

bool has_header(const RequestPlan& plan, std::string_view name) {
  for (const auto& [n, v] : plan.headers) {
    if (n.size() == name.size() && ::strncasecmp(n.data(), name.data(), n.size()) == 0) return true;
  }
  return false;
}

}  // namespace

Transfer::Transfer(Session session, const RequestPlan& plan, TransferSetup setup,
                   std::function<void(std::string)> error, std::function<void()> done)
    : session_(session),
      plan_(plan),
      setup_(std::move(setup)),
      error_(std::move(error)),
      done_(std::move(done)) {}

Transfer::~Transfer() {
  if (upload_fd_ >= 0) ::close(upload_fd_);
}

void Transfer::start() {
  started_ = true;
  started_at_ = std::chrono::steady_clock::now();
  if (auto opened = open(); !opened) return fail(opened.error().message());
  send();
}

Result<void> Transfer::open() {
  auto url = crack_url(setup_.url);
  if (!url) return url.error();
  auto connection = session_.connect(setup_.url, setup_.context);
  if (!connection) return connection.error();
  http::RequestOptions options;
  options.method = plan_.method;
  options.target = origin_form(*url);
  options.flags = plan_.flags;
  options.context = setup_.context;
  auto request = http::open_request(*connection, options);
  (void)connection->close();  // the request keeps what it needs of it
  if (!request) return request.error();
  request_ = *request;
  for (const auto& [name, value] : plan_.headers) {
    if (auto added = http::add_header(request_, name, value); !added) return added;
  }
  if (!plan_.body.empty() && !has_header(plan_, "Content-Type")) {
    // What curl -d sends, and what servers expect of a bare POST body.
    auto added = http::add_header(request_, "Content-Type", "application/x-www-form-urlencoded");
    if (!added) return added;
  }
  if (plan_.resume && !setup_.output_path.empty()) {
    resume_from_ = existing_size(setup_.output_path);
    if (resume_from_ > 0) {
      if (auto ranged = http::set_range(request_, resume_from_); !ranged) return ranged;
    }
  }
  if (plan_.upload_file.empty()) return {};
  return open_upload();
}

Result<void> Transfer::open_upload() {
  upload_fd_ = ::open(plan_.upload_file.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (upload_fd_ < 0 || ::fstat(upload_fd_, &st) != 0) {
    return Error(std::error_code(errno, std::generic_category()), "open " + plan_.upload_file);
  }
  upload_size_ = static_cast<std::uint64_t>(st.st_size);
  return {};
}

void Transfer::send() {
  std::optional<std::uint64_t> total;
  if (upload_fd_ >= 0) total = upload_size_;  // the body follows with write_data()
  async_step<void>(
      [&](const AsyncContext<void>* async) {
        return http::send_request(request_, plan_.body, total, async);
      },
      [this](Result<void> sent) {
        if (!sent) return fail(sent.error().message());
        if (upload_fd_ >= 0) return write_upload();
        receive();
      });
}

void Transfer::write_upload() {
  for (;;) {
    if (finished_) return;
    if (uploaded_ == upload_size_) return receive();
    std::string piece(std::min<std::uint64_t>(kPiece, upload_size_ - uploaded_), '\0');
    const ssize_t n = ::read(upload_fd_, piece.data(), piece.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return fail(fmt::format("read {}: {}", plan_.upload_file,
                              n < 0 ? std::strerror(errno) : "the file shrank while uploading"));
    }
    piece.resize(static_cast<std::size_t>(n));
    uploaded_ += piece.size();
    AsyncContext<std::size_t> async{[this](Result<std::size_t> written) {
      if (!written) return fail(written.error().message());
      write_upload();
    }};
    auto written = http::write_data(request_, std::move(piece), &async);
    if (written.pending()) return;
    if (!written) return fail(written.error().message());
  }
}

void Transfer::receive() {
  async_step<void>(
      [&](const AsyncContext<void>* async) { return http::receive_response(request_, async); },
      [this](Result<void> received) {
        if (!received) return fail(received.error().message());
        on_head();
      });
}

void Transfer::on_head() {
  auto response = http::query_response(request_);
  if (!response) return fail(response.error().message());
  status_ = response->status;
  if (plan_.print_head) {
    output_ = Output::standard_output();
    const auto ec = output_.write(response->raw + "\r\n");
    return ec ? fail("write to stdout: " + ec.message()) : finish();
  }
  if (status_ == 416 && resume_from_ > 0) return finish(check_complete(*response));
  if (status_ >= 400) return fail(fmt::format("HTTP status {} {}", status_, response->reason));
  if (auto problem = accept_body(*response)) return fail(*problem);
  read_body();
}

// 416 to a resume: the range starts at or past the end, so the file is
// whole, unless the server's copy is smaller than ours.
std::optional<std::string> Transfer::check_complete(const http::Response& response) {
  const auto range = response.header("Content-Range");
  const auto length = range ? unsatisfied_length(*range) : std::nullopt;
  if (length && *length != resume_from_) {
    return fmt::format("cannot resume: the file has {} bytes, the server's copy {}", resume_from_,
                       *length);
  }
  bytes_ = resume_from_;
  total_ = resume_from_;
  return std::nullopt;
}

// A 206 to our Range is appended to the file; anything else (200: the
// server ignored the Range) replaces it.
std::optional<std::string> Transfer::accept_body(const http::Response& response) {
  bool append = false;
  if (status_ == 206 && resume_from_ > 0) {
    const auto value = response.header("Content-Range");
    if (!value) return "a 206 response without Content-Range";
    const auto range = http::parse_content_range(*value);
    if (!range) return range.error().message();
    if (range->first != resume_from_) {
      return fmt::format("asked to resume at byte {}, the server sent from byte {}", resume_from_,
                         range->first);
    }
    append = true;
    bytes_ = resume_from_;
    total_ = range->complete_length;
  } else {
    resume_from_ = 0;
    if (!plan_.decoded || !response.header("Content-Encoding")) total_ = response.content_length();
  }
  if (setup_.output_path.empty()) {
    output_ = Output::standard_output();
    return std::nullopt;
  }
  std::error_code ec;
  output_ = Output::open_file(setup_.output_path, append, ec);
  if (ec) return fmt::format("open {}: {}", setup_.output_path, ec.message());
  return std::nullopt;
}

void Transfer::read_body() {
  // The body goes through one buffer, held while reads may write to it.
  if (!piece_) piece_ = std::make_unique_for_overwrite<char[]>(kPiece);
  for (;;) {
    AsyncContext<std::size_t> async{[this](Result<std::size_t> n) {
      if (on_data(n)) read_body();
    }};
    auto n = http::read_data_into(request_, {piece_.get(), kPiece}, &async);
    if (n.pending() || !on_data(n)) return;
  }
}

// True when the body goes on. Otherwise no read is in flight any more: the
// buffer goes.
bool Transfer::on_data(const Result<std::size_t>& n) {
  const bool more = take(n);
  if (!more) piece_.reset();
  return more;
}

bool Transfer::take(const Result<std::size_t>& n) {
  if (finished_) return false;
  if (!n) {
    fail(n.error().message());
    return false;
  }
  if (*n == 0) {
    finish();
    return false;
  }
  if (const auto ec = output_.write(std::string_view(piece_.get(), *n))) {
    const std::string where = setup_.output_path.empty() ? "stdout" : setup_.output_path;
    fail(fmt::format("write {}: {}", where, ec.message()));
    return false;
  }
  bytes_ += *n;
  return true;
}

void Transfer::finish(std::optional<std::string> error) {
  if (finished_) return;
  finished_ = true;
  seconds_ = elapsed();
  if (request_) (void)request_.close();
  if (upload_fd_ >= 0) ::close(upload_fd_);
  upload_fd_ = -1;
  if (const auto ec = output_.close(); ec && !error) {
    error = fmt::format("close {}: {}", setup_.output_path, ec.message());
  }
  if (error) {
    failed_ = true;
    error_(fmt::format("uvinet get: {}: {}", setup_.url, *error));
  }
  done_();
}

double Transfer::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
}

ProgressState Transfer::progress() const {
  return {setup_.name, bytes_, resume_from_, total_, finished_ ? seconds_ : elapsed()};
}

Summary Transfer::summary() const {
  return {status_, bytes_ - std::min(bytes_, resume_from_), seconds_, setup_.url};
}

}  // namespace uvinet::get
