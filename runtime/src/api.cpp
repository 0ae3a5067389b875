// The public handle calls: look the handle up, then hand over to its object.
#include "loop.hpp"
#include "request.hpp"
#include "workers.hpp"

namespace uvinet {

using detail::HandleTable;
using detail::lookup;
using detail::lookup_as;

const char* status_name(Status s) noexcept {
  switch (s) {
    case Status::handle_created: return "handle_created";
    case Status::resolving_name: return "resolving_name";
    case Status::name_resolved: return "name_resolved";
    case Status::connecting_to_server: return "connecting_to_server";
    case Status::connected_to_server: return "connected_to_server";
    case Status::sending_request: return "sending_request";
    case Status::request_sent: return "request_sent";
    case Status::receiving_response: return "receiving_response";
    case Status::response_received: return "response_received";
    case Status::redirect: return "redirect";
    case Status::intermediate_response: return "intermediate_response";
    case Status::closing_connection: return "closing_connection";
    case Status::connection_closed: return "connection_closed";
    case Status::headers_available: return "headers_available";
    case Status::data_available: return "data_available";
    case Status::read_complete: return "read_complete";
    case Status::write_complete: return "write_complete";
    case Status::request_complete: return "request_complete";
    case Status::request_error: return "request_error";
    case Status::secure_failure: return "secure_failure";
    case Status::cookie_sent: return "cookie_sent";
    case Status::cookie_received: return "cookie_received";
    case Status::handle_closing: return "handle_closing";
  }
  return "unknown";
}

Result<void> Handle::close() const {
  auto object = HandleTable::instance().remove(*this);
  if (!object) return Error(errc::invalid_handle, "close of handle " + std::to_string(id()));
  object->begin_close();
  return {};
}

Result<HandleKind> Handle::kind() const {
  auto object = lookup(*this);
  if (!object) return object.error();
  return (*object)->kind();
}

Result<Context> Handle::context() const {
  auto object = lookup(*this);
  if (!object) return object.error();
  return (*object)->context();
}

Result<void> Handle::set_context(Context value) const {
  auto object = lookup(*this);
  if (!object) return object.error();
  (*object)->set_context(value);
  return {};
}

Result<void> Handle::set_status_callback(StatusCallback callback, StatusMask mask) const {
  auto object = lookup(*this);
  if (!object) return object.error();
  (*object)->set_status_callback(std::move(callback), mask);
  return {};
}

Result<void> Handle::set_option(Option option, OptionValue value) const {
  auto object = lookup(*this);
  if (!object) return object.error();
  return (*object)->set_option(option, std::move(value));
}

Result<OptionValue> Handle::query_option(Option option) const {
  auto object = lookup(*this);
  if (!object) return object.error();
  return (*object)->query_option(option);
}

Result<std::int64_t> Handle::query_int(Option option) const {
  auto v = query_option(option);
  if (!v) return v.error();
  if (auto* n = std::get_if<std::int64_t>(&*v)) return *n;
  return Error(errc::invalid_option_value,
               std::string("option ") + option_name(option) + " is a string");
}

Result<std::string> Handle::query_string(Option option) const {
  auto v = query_option(option);
  if (!v) return v.error();
  if (auto* s = std::get_if<std::string>(&*v)) return *s;
  return Error(errc::invalid_option_value,
               std::string("option ") + option_name(option) + " is an integer");
}

Result<void> Handle::post(std::function<void()> fn, CallbackModel model) const {
  if (!fn) return Error(errc::invalid_argument, "post: no function");
  return HandleTable::instance().deliver(*this, std::move(fn), model);
}

// ---------------------------------------------------------------------------

Result<Session> Session::open(SessionConfig config) {
  if (config.callback_model != CallbackModel::short_callback &&
      config.callback_model != CallbackModel::long_callback) {
    return Error(errc::invalid_argument, "SessionConfig: callback_model is neither short nor long");
  }
  auto loop = config.loop ? detail::Loop::attach(config.loop) : detail::Loop::acquire_default();
  auto session = std::make_shared<detail::SessionObject>(config, std::move(loop),
                                                         detail::WorkerPool::acquire());
  const Handle h = HandleTable::instance().insert(session);
  session->notify(Status::handle_created);
  return Session(h.id());
}

Result<Connection> Session::connect(std::string_view url, Context context) const {
  auto session = lookup_as<detail::SessionObject>(*this, HandleKind::session);
  if (!session) return session.error();
  auto cracked = crack_url(url);
  if (!cracked) return cracked.error();
  auto module = find_module(cracked->scheme);
  if (!module) return module.error();
  if (cracked->port == 0) cracked->port = (*module)->default_port();
  cracked->path.clear();
  cracked->query.clear();
  cracked->fragment.clear();
  auto connection =
      std::make_shared<detail::ConnectionObject>(*session, context, std::move(*cracked), *module);
  const Handle h = HandleTable::instance().insert(connection);
  connection->notify(Status::handle_created);
  return Connection(h.id());
}

namespace {

using StateInit = std::function<Result<void>(void* state)>;

// A module's API met a handle of another module's.
Error foreign_module(const char* what, Handle h, const Module& module) {
  return Error(errc::wrong_handle_kind, std::string(what) + " " + std::to_string(h.id()) +
                                            " belongs to the " + std::string(module.scheme()) +
                                            " module");
}

Result<Request> make_request(const Connection& on, std::string_view target, Context context,
                             const std::type_info* module_type, const StateInit* init) {
  auto connection = lookup_as<detail::ConnectionObject>(on, HandleKind::connection);
  if (!connection) return connection.error();
  const Module& module = *(*connection)->module();
  if (module_type && typeid(module) != *module_type)
    return foreign_module("connection", on, module);
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Error(errc::invalid_argument, "request target contains a space or control character");
    }
  }
  // The URL is made in place inside the request: no Url moved on the way.
  // Our reference to the connection becomes the request's.
  auto request = std::make_shared<detail::RequestObject>(std::move(*connection), context, target);
  if (init) {
    if (auto ok = (*init)(request->state().get()); !ok) return ok.error();
  }
  const Handle h = HandleTable::instance().insert(request);
  request->notify(Status::handle_created);
  return Request(h.id());
}

}  // namespace

Result<Request> Connection::open_request(std::string_view target, Context context) const {
  return make_request(*this, target, context, nullptr, nullptr);
}

Result<Request> open_request(const Connection& connection, std::string_view target, Context context,
                             const std::type_info& module_type, const StateInit& init) {
  return make_request(connection, target, context, &module_type, &init);
}

namespace {

Result<OperationValue> start_operation(Handle h, OperationKind kind, int verb, std::string&& data,
                                       std::size_t max, std::span<char> buffer,
                                       detail::Completion completion, CallbackModel model) {
  auto request = lookup_as<detail::RequestObject>(h, HandleKind::request);
  if (!request) return request.error();
  detail::RequestObject& object = **request;
  // Our reference goes to the operation: no second one counted.
  return object.start(std::move(*request), kind, verb, std::move(data), max, buffer,
                      std::move(completion), model);
}

// The application's callback itself is the completion, which converts the
// OperationValue as detail::converted() does here for a result the call
// returns at once or synchronously.
template <class T>
Result<T> run_operation(Handle h, OperationKind kind, int verb, std::string&& data, std::size_t max,
                        std::span<char> buffer, const AsyncContext<T>* async) {
  detail::Completion completion;
  CallbackModel model{};
  if (async) {
    if (!async->callback) return Error(errc::invalid_argument, "AsyncContext without a callback");
    completion = async->callback;
    model = async->model;
  }
  return detail::converted<T>(
      start_operation(h, kind, verb, std::move(data), max, buffer, std::move(completion), model));
}

// Request::call()/call_into() with a typed callback: asynchronous only, and
// the result at once stays an OperationValue for the protocol API.
template <class T>
Result<OperationValue> run_typed_call(Handle h, int verb, std::string&& data, std::size_t max,
                                      std::span<char> buffer, const AsyncContext<T>& async) {
  if (!async.callback) return Error(errc::invalid_argument, "AsyncContext without a callback");
  return start_operation(h, OperationKind::call, verb, std::move(data), max, buffer,
                         detail::Completion(async.callback), async.model);
}

}  // namespace

Result<std::shared_ptr<void>> request_state(const Request& request) {
  auto object = lookup_as<detail::RequestObject>(request, HandleKind::request);
  if (!object) return object.error();
  return (*object)->state();
}

Result<std::shared_ptr<void>> request_state(const Request& request,
                                            const std::type_info& module_type) {
  auto object = lookup_as<detail::RequestObject>(request, HandleKind::request);
  if (!object) return object.error();
  const Module& module = *(*object)->module();
  if (typeid(module) != module_type) return foreign_module("request", request, module);
  void* state = (*object)->state().get();
  return std::shared_ptr<void>(std::move(*object), state);  // aliasing: no count
}

Result<std::size_t> Request::send(std::string data, const AsyncContext<std::size_t>* async) const {
  return run_operation<std::size_t>(*this, OperationKind::send, 0, std::move(data), 0, {}, async);
}

Result<std::string> Request::receive(std::size_t max_bytes,
                                     const AsyncContext<std::string>* async) const {
  if (max_bytes == 0) return Error(errc::invalid_argument, "receive of 0 bytes");
  return run_operation<std::string>(*this, OperationKind::receive, 0, {}, max_bytes, {}, async);
}

Result<OperationValue> Request::call(int verb, std::string data, std::size_t max_bytes,
                                     const AsyncContext<OperationValue>* async) const {
  return run_operation<OperationValue>(*this, OperationKind::call, verb, std::move(data), max_bytes,
                                       {}, async);
}

Result<OperationValue> Request::call_into(int verb, std::span<char> buffer,
                                          const AsyncContext<OperationValue>* async) const {
  if (buffer.empty()) return Error(errc::invalid_argument, "call_into with an empty buffer");
  return run_operation<OperationValue>(*this, OperationKind::call, verb, {}, buffer.size(), buffer,
                                       async);
}

Result<OperationValue> Request::call(int verb, std::string data, std::size_t max_bytes,
                                     const AsyncContext<void>& async) const {
  return run_typed_call(*this, verb, std::move(data), max_bytes, {}, async);
}

Result<OperationValue> Request::call(int verb, std::string data, std::size_t max_bytes,
                                     const AsyncContext<std::size_t>& async) const {
  return run_typed_call(*this, verb, std::move(data), max_bytes, {}, async);
}

Result<OperationValue> Request::call(int verb, std::string data, std::size_t max_bytes,
                                     const AsyncContext<std::string>& async) const {
  return run_typed_call(*this, verb, std::move(data), max_bytes, {}, async);
}

Result<OperationValue> Request::call_into(int verb, std::span<char> buffer,
                                          const AsyncContext<std::size_t>& async) const {
  if (buffer.empty()) return Error(errc::invalid_argument, "call_into with an empty buffer");
  return run_typed_call(*this, verb, {}, buffer.size(), buffer, async);
}

Result<OperationValue> Request::call(int verb, std::string data, std::size_t max_bytes,
                                     AsyncContext<OperationValue>&& async) const {
  if (!async.callback) return Error(errc::invalid_argument, "AsyncContext without a callback");
  return start_operation(*this, OperationKind::call, verb, std::move(data), max_bytes, {},
                         std::move(async.callback), async.model);
}

}  // namespace uvinet
