// Uses the public API only, as an application would: opens a session, cracks
// a URL, and checks an unknown scheme is refused with the right error.
#include <uvinet/uvinet.hpp>

#include <cstdio>

int main() {
  auto url = uvinet::crack_url("https://example.com/x");
  if (!url || url->port != 443) return 1;
  auto session = uvinet::Session::open();
  if (!session) return 2;
  auto conn = session->connect("nosuchscheme://h/");
  if (conn || conn.error() != uvinet::errc::unsupported_scheme) return 3;
  if (!session->close()) return 4;
  std::puts("consumer: uvinet works as a subproject");
  return 0;
}
