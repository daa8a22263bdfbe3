#include "charter/server/http/hardening.hpp"

#include "charter/keygen/ids.hpp"
#include "charter/server/http/guarded_server.hpp"
#include "charter/server/http/http_util.hpp"

#include <algorithm>
#include <regex>

namespace charter::server {

namespace {

thread_local RequestScope scope;

}

RequestScope& current_request()
{
    return scope;
}

namespace {

// cpp-httplib compresses a text or JSON response with Brotli at its highest quality whenever
// the client accepts "br": 3 to 40 ms of CPU and megabytes of window for a 200-byte answer, on
// any request any client cares to send. gzip costs a fraction of a millisecond. So "br" leaves
// Accept-Encoding before the library reads it (which it does with a substring search for
// "br", hence every coding containing those letters goes). The request is the library's own
// mutable object, handed to the pre-routing handler as const.
void drop_brotli(httplib::Request const& request)
{
    auto range = request.headers.equal_range("Accept-Encoding");
    for (auto it = range.first; it != range.second; ++it) {
        auto& value = const_cast<std::string&>(it->second);
        if (value.find("br") == std::string::npos)
            continue;
        std::string kept;
        size_t start = 0;
        for (;;) {
            auto comma = value.find(',', start);
            auto token = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            token.erase(0, token.find_first_not_of(' '));
            if (!token.empty() && token.find("br") == std::string::npos)
                kept += (kept.empty() ? "" : ", ") + token;
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
        value = kept;
    }
}

// Methods whose body cpp-httplib reads; on any other, a body would stay on the socket.
bool reads_body(std::string const& method)
{
    return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

}

void begin_request()
{
    scope.started = std::chrono::steady_clock::now();
    scope.id = keygen::new_id("req_");
    scope.route.assign(1, '-');
    scope.closing = false;
}

// Refuses a request whose body is still unread on the socket, and closes the connection after
// the answer (close_after_answer).
httplib::Server::HandlerResponse refuse_and_close(httplib::Response& response, int status, std::string const& code,
    std::string const& message)
{
    send_error(response, status, code, message);
    close_after_answer(response);
    return httplib::Server::HandlerResponse::Handled;
}

std::regex const upload_route("^/v1/products/[^/]+/releases$");

// A release upload: the one route with a larger body limit, whose body the handler streams.
bool is_release_upload(httplib::Request const& request)
{
    return request.method == "POST" && std::regex_match(request.path, upload_route);
}

// Metrics label the method only from a fixed set, so that clients cannot add series.
std::string method_label(std::string const& method)
{
    for (char const* known : { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" }) {
        if (method == known)
            return method;
    }
    return "other";
}

void close_after_answer(httplib::Response& response)
{
    auto body = std::make_shared<std::string>(std::move(response.body));
    auto type = response.get_header_value("Content-Type");
    response.body.clear();
    response.headers.erase("Content-Type");
    response.set_header("Connection", "close");
    scope.closing = true;
    response.set_content_provider(body->size(), type.empty() ? "application/json" : type.c_str(),
        [body](size_t offset, size_t length, httplib::DataSink& sink) {
            sink.write(body->data() + offset, length);
            return false;
        });
}

httplib::Server::HandlerResponse refuse_unsafe_request(httplib::Request const& request, httplib::Response& response,
    BodyLimits limits)
{
    // cpp-httplib cuts every response to the request's Range header after the handler, even a
    // 200 JSON body or an error; only the file downloads serve ranges, and they set them again.
    const_cast<httplib::Request&>(request).ranges.clear();
    drop_brotli(request);
    // A NUL byte (%00) in the path names nothing here, and PostgreSQL's client library would cut
    // the text at it (pro-1.0.tgz%00 would find pro-1.0.tgz): it never reaches a lookup.
    if (request.path.find('\0') != std::string::npos)
        return refuse_and_close(response, 400, "bad_request", "the request path holds a NUL byte (%00); remove it");
    // Refuse bodies we will not read before cpp-httplib reads (and inflates) them.
    if (request.has_header("Transfer-Encoding"))
        return refuse_and_close(response, 411, "length_required", "chunked request bodies are not accepted; send a Content-Length");
    if (request.has_header("Content-Encoding"))
        return refuse_and_close(response, 415, "unsupported_media_type", "compressed request bodies are not accepted");
    // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112,
    // 6.3). cpp-httplib 0.11.4 would read one until the client closes, without any size
    // limit: say so explicitly, and it reads nothing.
    if (!request.has_header("Content-Length")) {
        const_cast<httplib::Request&>(request).headers.emplace("Content-Length", "0");
    } else {
        if (request.get_header_value_count("Content-Length") > 1)
            return refuse_and_close(response, 400, "bad_request", "send one Content-Length header");
        auto const& text = request.get_header_value("Content-Length");
        bool digits = !text.empty() && text.size() <= 18
            && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits)
            return refuse_and_close(response, 400, "bad_request", "Content-Length is not a number");
        auto length = std::stoull(text);
        bool upload = is_release_upload(request);
        uint64_t limit = upload ? uint64_t(limits.max_upload_bytes) : uint64_t(limits.max_body_bytes);
        if (length > limit)
            return refuse_and_close(response, 413, "payload_too_large", "the request body is larger than "
                    + std::to_string(limit) + " bytes");
        if (length > 0 && !reads_body(request.method))
            return refuse_and_close(response, 400, "bad_request", request.method + " requests take no body");
    }
    return httplib::Server::HandlerResponse::Unhandled;
}

namespace {

void apply_limits(httplib::Server& http, HardeningSettings const& settings)
{
    // Without TCP_NODELAY every small response waits for the peer's delayed ACK (~40 ms).
    http.set_tcp_nodelay(true);
    // The library-wide limit is the largest body any route takes (release uploads); the
    // pre-routing handler applies the per-route limit before anything is read.
    auto const& limits = settings.body_limits;
    http.set_payload_max_length(std::max<size_t>(size_t(limits.max_body_bytes), size_t(limits.max_upload_bytes)));
    http.set_read_timeout(settings.read_timeout_seconds, 0);
    http.set_write_timeout(settings.write_timeout_seconds, 0);
    http.set_keep_alive_max_count(settings.keep_alive_max_count);
    http.set_keep_alive_timeout(settings.read_timeout_seconds);
    if (size_t threads = settings.tls_threads; threads > 0)
        http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
}

// cpp-httplib's own refusals: a malformed request line or header, a target over 8 KiB, a body
// it could not read. Where the request ends on the socket is unknown, so the connection ends
// with the answer. False for any other status.
bool answer_library_refusal(httplib::Response& response, int read_timeout_seconds)
{
    switch (response.status) {
    case 400:
        if (GuardedServer::request_deadline_missed()) {
            refuse_and_close(response, 408, "request_timeout", "the request took longer than "
                    + std::to_string(read_timeout_seconds) + " s to arrive (--read-timeout); send it without pauses");
            return true;
        }
        refuse_and_close(response, 400, "bad_request", "malformed request (request line, headers or body)");
        return true;
    case 413:
        refuse_and_close(response, 413, "payload_too_large", "the request body is too large");
        return true;
    case 414:
        refuse_and_close(response, 414, "uri_too_long", "the request target is longer than 8192 bytes");
        return true;
    default: return false;
    }
}

}

void widen_listen_backlog(httplib::Server& http)
{
    // The listening socket is a protected member; a derived class may name it.
    struct Listener : httplib::Server {
        static socket_t socket_of(httplib::Server& server) { return (server.*(&Listener::svr_sock_)).load(); }
    };
    if (auto sock = Listener::socket_of(http); sock != INVALID_SOCKET)
        (void)::listen(sock, SOMAXCONN);
}

void install_hardening(httplib::Server& http, HardeningSettings const& settings,
    std::function<void(httplib::Request const&, httplib::Response&)> unrouted)
{
    apply_limits(http, settings);
    http.set_exception_handler([](httplib::Request const&, httplib::Response& response, std::exception_ptr) {
        // Never show exception text to a client: it may hold paths or SQL.
        send_error(response, 500, "internal", "internal error");
    });
    http.set_pre_routing_handler([limits = settings.body_limits](httplib::Request const& request, httplib::Response& response) {
        begin_request();
        response.set_header("X-Request-Id", current_request().id);
        return refuse_unsafe_request(request, response, limits);
    });
    http.set_error_handler([read_timeout = settings.read_timeout_seconds, unrouted = std::move(unrouted)](
                               httplib::Request const& request, httplib::Response& response) {
        // Requests cpp-httplib rejects while reading the request line or headers never reach
        // the pre-routing handler.
        if (current_request().id.empty()) {
            begin_request();
            response.set_header("X-Request-Id", current_request().id);
        }
        // 304 and 416 carry no body by design.
        if (!response.body.empty() || current_request().closing || response.status == 304 || response.status == 416)
            return;
        if (answer_library_refusal(response, read_timeout))
            return;
        if (response.status == 404)
            return unrouted(request, response);
        send_error(response, response.status, "error", "request failed with status " + std::to_string(response.status));
    });
}

}
