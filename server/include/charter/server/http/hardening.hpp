#pragma once
// What every request passes through before its route, whatever the route: its scope (request
// id, route, timing) for the access log and metrics, and the refusals of bodies cpp-httplib
// would otherwise read (chunked, compressed, oversized, on a method that takes none). See
// docs/operations.md "Hardening".

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace charter::server {

// Per-request bookkeeping for the access log and metrics. cpp-httplib runs the pre-routing
// handler, the route, the error handler and the logger of one request on the same worker
// thread. Requests that fail before pre-routing (a bad request line, an oversized header) get
// their scope from the error handler; the logger ends every scope, so a stale id never leaks
// into the next request of the thread.
struct RequestScope {
    std::chrono::steady_clock::time_point started;
    std::string id;
    std::string route;
    bool closing { false }; // a refusal that ends the connection (refuse_and_close)
};

/// The scope of the request this thread is serving.
RequestScope& current_request();
/// Starts a scope: a new request id, no route yet.
void begin_request();

/// Ends the connection once `response` (an answer already set, body and all) is written, so
/// that a request body left unread on the socket is never parsed as the next request (a client,
/// or a proxy sharing the connection, could smuggle requests inside it). cpp-httplib 0.11.4
/// lets a handler close the connection in one way only: a content provider that reports
/// failure ends it, after the provider has written the whole body.
void close_after_answer(httplib::Response& response);
/// An error answer that closes the connection after it (close_after_answer).
httplib::Server::HandlerResponse refuse_and_close(httplib::Response& response, int status, std::string const& code,
    std::string const& message);

/// A release upload: the one route with a larger body limit, whose body the handler streams.
bool is_release_upload(httplib::Request const& request);
/// The method as a metrics label, from a fixed set ("other" beyond it).
std::string method_label(std::string const& method);

struct BodyLimits {
    int64_t max_body_bytes;
    int64_t max_upload_bytes;
};
/// The pre-routing checks: drops what cpp-httplib would misuse (Range, "br"), and refuses a
/// body it would read unbounded or that no route takes, before it reads a byte of it.
httplib::Server::HandlerResponse refuse_unsafe_request(httplib::Request const& request, httplib::Response& response,
    BodyLimits limits);

/// cpp-httplib's limits, from the server's settings.
struct HardeningSettings {
    BodyLimits body_limits;
    int read_timeout_seconds;
    int write_timeout_seconds;
    size_t keep_alive_max_count;
    size_t tls_threads; // the workers over TLS; 0 for plain HTTP, whose GuardedServer brings its own
};
/// cpp-httplib 0.11.4 listens with a backlog of 5 connections: a burst of new connections (50
/// machines activating at once, clients reconnecting after an outage) overflows it and the
/// kernel drops or resets some. Call after binding: listens again on the bound socket with the
/// system's maximum (SOMAXCONN, capped by net.core.somaxconn).
void widen_listen_backlog(httplib::Server& http);

/// Sets `http`'s limits and installs the pre-routing checks (refuse_unsafe_request), the
/// exception handler (a 500 that never shows the exception's text) and the error handler:
/// cpp-httplib's own refusals answered as JSON errors that close the connection, and a request
/// no route matched handed to `unrouted` (the route table decides 404 or 405).
void install_hardening(httplib::Server& http, HardeningSettings const& settings,
    std::function<void(httplib::Request const&, httplib::Response&)> unrouted);

}
