// An in-process protocol module for the runtime's own tests: it does no I/O,
// so a test can drive the contract machinery exactly. Its behaviour comes
// from the request target:
//   /now      every operation completes inside start()
//   /later    completes on a later loop pass (?ms=N waits N ms; default 0)
//   /never    completes only when cancelled
//   /fail     completes later with errc::protocol_error
//   /connect  connects to ?port=N (&host=H, default 127.0.0.1) through the
//             runtime, completes when connected, holds the connection until closed
//   /instant  a call with verb 1 is answered by answer_at_once() (count 1,
//             its data echoed) whenever the runtime offers it; in start() it
//             completes later, like /later. Every other operation completes
//             only when cancelled, like /never.
//   /options  a call with verb N answers with the request's option N as the
//             module reads it: count = RequestEnv::int_option(N), data =
//             RequestEnv::string_option(N); an error if option() disagrees
// Send completes with the byte count; receive with min(max, 4) bytes "data";
// a call with its verb as the count and its data echoed.
// Scheme "test" is one-operation-at-a-time; "testduplex" is duplex.
#pragma once

#include <atomic>
#include <typeinfo>

#include "uvinet/module.hpp"

namespace test_support {

struct ModuleCounters {
  std::atomic<int> live_requests{0};
  std::atomic<int> started{0};
  std::atomic<int> cancelled{0};
  std::atomic<int> released{0};
  std::atomic<int> in_flight{0};         // started by the module, not yet completed
  std::atomic<int> max_in_flight{0};     // the most at once since the last reset
  std::atomic<int> session_states{0};    // per-session states the module made
  std::atomic<int> answered_at_once{0};  // calls answer_at_once() answered
};

/// What the test module keeps per request (Module::make_request_state) and
/// per session (RequestEnv::session_state): operations started through it.
struct SharedCount {
  std::atomic<int> started{0};
};

ModuleCounters& counters();

/// Registers "test" and "testduplex" once per process.
void register_test_modules();

/// The test modules' class, for the runtime's checks of a module's own
/// handles (request_state(), open_request() with a state init).
const std::type_info& test_module_type();

}  // namespace test_support
