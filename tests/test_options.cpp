// Options: per handle, inherited down the tree, checked for kind, type and
// range; the timeouts they set take effect.
#include <doctest/doctest.h>

#include "support/fixture.hpp"

using test_support::Fixture;
using uvinet::errc;
using uvinet::Option;

TEST_CASE("options are inherited down the tree and may be overridden per handle") {
  Fixture f;
  auto r = f.request("/now");
  CHECK(r.query_int(Option::connect_timeout_ms).value() == 30000);  // the default
  CHECK(r.query_string(Option::user_agent).value() == "uvinet/0.1");
  REQUIRE(f.session.set_option(Option::connect_timeout_ms, std::int64_t{500}));
  CHECK(r.query_int(Option::connect_timeout_ms).value() == 500);
  REQUIRE(f.connection.set_option(Option::connect_timeout_ms, std::int64_t{700}));
  CHECK(r.query_int(Option::connect_timeout_ms).value() == 700);
  CHECK(f.session.query_int(Option::connect_timeout_ms).value() == 500);
  REQUIRE(r.set_option(Option::user_agent, std::string("agent/2")));
  CHECK(r.query_string(Option::user_agent).value() == "agent/2");
  CHECK(f.connection.query_string(Option::user_agent).value() == "uvinet/0.1");
  REQUIRE(r.set_option(Option::context_value, std::int64_t{99}));
  CHECK(r.context().value() == 99);
  f.close(r);
}

TEST_CASE("a module reads options as plain numbers and strings, inherited and defaulted") {
  Fixture f;
  auto r = f.request("/options");
  const auto read = [&](Option o) {
    auto v = r.call(static_cast<int>(o), {}, 0);
    REQUIRE(v);
    return *v;
  };
  CHECK(read(Option::connect_timeout_ms).count == 30000);  // the default
  CHECK(read(Option::user_agent).data == "uvinet/0.1");
  CHECK(read(Option::proxy).data.empty());
  REQUIRE(f.session.set_option(Option::connect_timeout_ms, std::int64_t{500}));
  REQUIRE(f.connection.set_option(Option::user_agent, std::string("agent/1")));
  CHECK(read(Option::connect_timeout_ms).count == 500);
  CHECK(read(Option::user_agent).data == "agent/1");
  REQUIRE(r.set_option(Option::connect_timeout_ms, std::int64_t{700}));
  REQUIRE(r.set_option(Option::user_agent, std::string("agent/2")));
  CHECK(read(Option::connect_timeout_ms).count == 700);
  CHECK(read(Option::user_agent).data == "agent/2");
  // The context value is the handle's, not a stored option.
  REQUIRE(r.set_option(Option::context_value, std::int64_t{99}));
  CHECK(read(Option::context_value).count == 99);
  f.close(r);
}

TEST_CASE("an option that does not apply, or a bad value, is a clear error") {
  Fixture f;
  auto r = f.request("/now");
  auto wrong_kind = r.set_option(Option::max_operations, std::int64_t{5});
  CHECK(wrong_kind.error() == errc::option_not_applicable);
  CHECK(wrong_kind.error().message().find("max_operations") != std::string::npos);
  CHECK(wrong_kind.error().message().find("request") != std::string::npos);
  CHECK(r.query_option(Option::callback_model).error() == errc::option_not_applicable);
  auto wrong_type = r.set_option(Option::user_agent, std::int64_t{5});
  CHECK(wrong_type.error() == errc::invalid_option_value);
  CHECK(wrong_type.error().message().find("string") != std::string::npos);
  auto out_of_range = f.session.set_option(Option::connect_timeout_ms, std::int64_t{-1});
  CHECK(out_of_range.error() == errc::invalid_option_value);
  CHECK(f.session.set_option(Option::callback_model, std::int64_t{7}).error() ==
        errc::invalid_option_value);
  CHECK(r.query_int(Option::user_agent).error() == errc::invalid_option_value);
  f.close(r);
}

TEST_CASE("send, receive and transfer timeouts end an operation with their own error") {
  Fixture f;
  auto r = f.request("/never");
  REQUIRE(r.set_option(Option::receive_timeout_ms, std::int64_t{20}));
  auto got = r.receive(1);
  CHECK(got.error() == errc::receive_timeout);
  CHECK(got.error().message().find("20 ms") != std::string::npos);
  REQUIRE(r.set_option(Option::send_timeout_ms, std::int64_t{20}));
  CHECK(r.send("x").error() == errc::send_timeout);
  f.close(r);

  auto t = f.request("/never");
  REQUIRE(f.connection.set_option(Option::transfer_timeout_ms, std::int64_t{30}));
  CHECK(t.receive(1).error() == errc::transfer_timeout);
  CHECK(t.receive(1).error() == errc::transfer_timeout);  // the transfer is over
  f.close(t);
}

TEST_CASE("a session config with an unknown callback model is refused") {
  uvinet::SessionConfig config;
  config.callback_model = static_cast<uvinet::CallbackModel>(9);
  auto s = uvinet::Session::open(config);
  REQUIRE_FALSE(s);
  CHECK(s.error() == errc::invalid_argument);
}
