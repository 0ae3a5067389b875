#include <doctest/doctest.h>

#include <set>

#include "uvinet/result.hpp"

using uvinet::errc;

TEST_CASE("every error has a distinct name and a message in the uvinet category") {
  std::set<std::string> names;
  for (int v = 1; v <= static_cast<int>(errc::redirect_refused); ++v) {
    auto e = static_cast<errc>(v);
    std::error_code code = e;
    CHECK(std::string(code.category().name()) == "uvinet");
    CHECK(code.message().size() > 10);
    CHECK(names.insert(uvinet::error_name(e)).second);
  }
  CHECK(std::error_code(errc::busy).message().find("pending") != std::string::npos);
}

TEST_CASE("Error carries where it happened and compares as its code") {
  uvinet::Error e(errc::connect_timeout, "connect to 127.0.0.1:9");
  CHECK(e == errc::connect_timeout);
  CHECK_FALSE(e == errc::receive_timeout);
  CHECK(e.message() == "connect to 127.0.0.1:9: connecting to the server timed out");
  std::error_code code = e;
  CHECK(code == errc::connect_timeout);
  CHECK(uvinet::Error(errc::busy).message() == std::error_code(errc::busy).message());
}

TEST_CASE("Result tells value, error and pending apart") {
  uvinet::Result<int> value = 3;
  uvinet::Result<int> error = errc::busy;
  uvinet::Result<int> pending = uvinet::pending_error();
  CHECK(value.has_value());
  CHECK_FALSE(value.pending());
  CHECK_FALSE(error.pending());
  CHECK(error.code() == errc::busy);
  CHECK(pending.pending());
}
