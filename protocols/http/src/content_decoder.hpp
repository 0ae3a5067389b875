// Content-Encoding gzip and deflate (RFC 9110 §8.4.1), decoded with zlib as
// the body streams in. Pure: bytes in, bytes out, no I/O. The output is
// bounded, so a small compressed body cannot make us allocate without end
// (a "zip bomb").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "uvinet/result.hpp"

namespace uvinet::http::detail {

enum class Coding { gzip, deflate };

/// Where body bytes go: straight into `direct` (an application's buffer)
/// while it has room, the rest appended to `spill`.
class BodyOutput {
 public:
  BodyOutput(std::span<char> direct, std::string& spill) noexcept
      : direct_(direct), spill_(spill) {}
  /// Copies `bytes` out: into the room left in `direct`, the rest to
  /// `spill`. Bytes that are there already (read straight into the room)
  /// are only counted.
  void put(std::string_view bytes);
  /// The part of `direct` not written yet.
  std::span<char> room() const noexcept { return direct_.subspan(filled_); }
  /// `n` bytes of room() were written by the caller.
  void commit(std::size_t n) noexcept { filled_ += n; }
  /// The bytes written into `direct`.
  std::size_t filled() const noexcept { return filled_; }
  std::string& spill() noexcept { return spill_; }

 private:
  std::span<char> direct_;
  std::size_t filled_ = 0;
  std::string& spill_;
};

/// The coding a Content-Encoding value names, when it is one we decode:
/// "gzip", "x-gzip" or "deflate", in any case, alone. Anything else ("br",
/// "identity", "gzip, br") is passed through undecoded.
std::optional<Coding> decodable_coding(std::string_view content_encoding) noexcept;

class ContentDecoder {
 public:
  /// `max_output`: the most bytes the whole body may decode to; 0 for no limit.
  ContentDecoder(Coding coding, std::uint64_t max_output);
  ~ContentDecoder();
  ContentDecoder(const ContentDecoder&) = delete;
  ContentDecoder& operator=(const ContentDecoder&) = delete;

  /// Decodes `in` into `out` (inflating straight into its room while there
  /// is some). Fails with errc::invalid_response on corrupt data or bytes
  /// after the end of the compressed stream, and with
  /// errc::decoded_too_large past the limit.
  Result<void> decode(std::string_view in, BodyOutput& out);
  /// decode(), appending to `out`.
  Result<void> decode(std::string_view in, std::string& out);
  /// The body ended: fails with errc::response_truncated unless the
  /// compressed stream was complete.
  Result<void> finish() const;
  std::uint64_t decoded() const noexcept { return total_out_; }

 private:
  Result<void> restart_as_raw_deflate(std::string_view in, BodyOutput& out);
  Result<void> inflate_some(std::string_view in, BodyOutput& out);

  struct Zlib;
  std::unique_ptr<Zlib> z_;
  Coding coding_;
  std::uint64_t max_output_;
  std::uint64_t total_in_ = 0;
  std::uint64_t total_out_ = 0;
  bool ended_ = false;
  bool raw_tried_ = false;
};

}  // namespace uvinet::http::detail
