#include "content_decoder.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

#include "response_parser.hpp"

namespace uvinet::http::detail {
namespace {

// zlib's windowBits: 15 plus 16 reads gzip only, plus 32 reads zlib or gzip,
// negative reads raw deflate (no header).
constexpr int kGzip = 15 + 16;
constexpr int kZlib = 15;
constexpr int kRawDeflate = -15;

}  // namespace

struct ContentDecoder::Zlib {
  z_stream stream{};
  bool ready = false;
  explicit Zlib(int window_bits) { ready = inflateInit2(&stream, window_bits) == Z_OK; }
  ~Zlib() {
    if (ready) inflateEnd(&stream);
  }
};

std::optional<Coding> decodable_coding(std::string_view value) noexcept {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (iequals(value, "gzip") || iequals(value, "x-gzip")) return Coding::gzip;
  if (iequals(value, "deflate")) return Coding::deflate;
  return std::nullopt;
}

void BodyOutput::put(std::string_view bytes) {
  const auto space = room();
  const std::size_t n = std::min(space.size(), bytes.size());
  if (n > 0 && space.data() != bytes.data()) std::memcpy(space.data(), bytes.data(), n);
  filled_ += n;
  if (n < bytes.size()) spill_.append(bytes.substr(n));
}

ContentDecoder::ContentDecoder(Coding coding, std::uint64_t max_output)
    : z_(std::make_unique<Zlib>(coding == Coding::gzip ? kGzip : kZlib)),
      coding_(coding),
      max_output_(max_output) {}

ContentDecoder::~ContentDecoder() = default;

Result<void> ContentDecoder::decode(std::string_view in, std::string& out) {
  BodyOutput to(std::span<char>(), out);
  return decode(in, to);
}

Result<void> ContentDecoder::decode(std::string_view in, BodyOutput& out) {
  if (!z_->ready) return Error(errc::invalid_response, "content decoding: zlib did not start");
  if (in.empty()) return {};
  if (ended_) {
    return Error(errc::invalid_response, "content decoding: " + std::to_string(in.size()) +
                                             " bytes after the end of the compressed body");
  }
  return inflate_some(in, out);
}

Result<void> ContentDecoder::inflate_some(std::string_view in, BodyOutput& out) {
  z_stream& z = z_->stream;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::array<char, 16 * 1024> chunk;
  // Until zlib has taken all the input and given all the output it can:
  // a call that filled the output may hold more back, input used or not.
  while (!ended_) {
    // Straight into the application's buffer while it has room; the rest
    // through `chunk` to the spill.
    const auto room = out.room();
    char* const to = room.empty() ? chunk.data() : room.data();
    const std::size_t space =
        room.empty() ? chunk.size() : std::min<std::size_t>(room.size(), UINT_MAX);
    z.next_out = reinterpret_cast<Bytef*>(to);
    z.avail_out = static_cast<uInt>(space);
    const int rc = inflate(&z, Z_NO_FLUSH);
    const std::size_t produced = space - z.avail_out;
    if (rc == Z_DATA_ERROR && coding_ == Coding::deflate && !raw_tried_ && total_out_ == 0 &&
        total_in_ == 0) {
      // "deflate" means the zlib format (RFC 9110), but some servers send raw
      // deflate data: try that once, from the start.
      return restart_as_raw_deflate(in, out);
    }
    if (rc == Z_BUF_ERROR && produced == 0 && z.avail_in == 0) break;  // wants more input
    if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && produced > 0)) {
      return Error(errc::invalid_response,
                   std::string("content decoding: corrupt ") +
                       (coding_ == Coding::gzip ? "gzip" : "deflate") + " data (" +
                       (z.msg ? z.msg : "zlib error " + std::to_string(rc)) + ")");
    }
    total_out_ += produced;
    if (max_output_ != 0 && total_out_ > max_output_) {
      return Error(errc::decoded_too_large, "content decoding: the body decodes to more than " +
                                                std::to_string(max_output_) + " bytes");
    }
    if (room.empty()) {
      out.spill().append(chunk.data(), produced);
    } else {
      out.commit(produced);
    }
    if (rc == Z_STREAM_END) ended_ = true;
    if (z.avail_in == 0 && z.avail_out > 0) break;  // all in, all out
  }
  total_in_ += in.size() - z.avail_in;
  if (z.avail_in > 0) {
    return Error(errc::invalid_response, "content decoding: " + std::to_string(z.avail_in) +
                                             " bytes after the end of the compressed body");
  }
  return {};
}

Result<void> ContentDecoder::restart_as_raw_deflate(std::string_view in, BodyOutput& out) {
  raw_tried_ = true;
  z_ = std::make_unique<Zlib>(kRawDeflate);
  if (!z_->ready) return Error(errc::invalid_response, "content decoding: zlib did not start");
  return inflate_some(in, out);
}

Result<void> ContentDecoder::finish() const {
  // An empty body with a Content-Encoding (a 0-length 200) decodes to nothing.
  if (ended_ || total_in_ == 0) return {};
  return Error(errc::response_truncated, std::string("content decoding: the ") +
                                             (coding_ == Coding::gzip ? "gzip" : "deflate") +
                                             " data ended after " + std::to_string(total_in_) +
                                             " bytes, before the end of the compressed stream");
}

}  // namespace uvinet::http::detail
