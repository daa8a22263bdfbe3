#include "charter/server/http_server.hpp"

#include "charter/keygen/ops/artifact_store.hpp"
#include "charter/server/http/guarded_server.hpp"
#include "charter/server/http/http_util.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>

namespace charter::server {

namespace {

// "/v1/licenses/{id}" → "^/v1/licenses/([^/]+)$"
std::string to_regex(std::string const& pattern)
{
    std::string regex;
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '{') {
            i = pattern.find('}', i);
            regex += "([^/]+)";
        } else if (pattern[i] == '.') {
            regex += "\\.";
        } else {
            regex += pattern[i];
        }
    }
    return regex;
}

}

HttpServer::HttpServer(ServerConfig config, ops::DataDir dir, keygen::SigningKey key, std::optional<std::string> passphrase,
    std::string issuer)
    : m_config(std::move(config))
    , m_dir(std::move(dir))
    , m_pool(m_dir.database())
    , m_signing_key(m_dir, std::move(key), std::move(passphrase))
    , m_issuer(std::move(issuer))
{
}

HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::create(ServerConfig config)
{
    auto dir = ops::DataDir::resolve(config.data_dir);
    auto workspace = ops::Workspace::open(dir);
    if (!workspace)
        return workspace.error();
    std::optional<std::string> passphrase;
    if (char const* env = std::getenv("CHARTER_PASSPHRASE"); env && *env)
        passphrase = env;
    auto key = workspace->current_signing_key(passphrase);
    for (auto const& warning : workspace->key_store().warnings())
        std::cerr << "charter-server: warning: " << warning << "\n";
    if (!key)
        return key.error();
    auto issuer = workspace->issuer();
    if (!issuer)
        return issuer.error();
    // Uploads that a killed server or CLI left half-written would stay in artifacts/ forever.
    auto abandoned = ops::ArtifactStore(dir).remove_abandoned_uploads();
    if (!abandoned)
        std::cerr << "charter-server: warning: " << abandoned.error().message << "\n";
    else if (*abandoned > 0)
        std::cerr << "charter-server: removed " << *abandoned << " unfinished upload(s) from " << dir.artifacts().string() << "\n";

    std::unique_ptr<HttpServer> server(
        new HttpServer(std::move(config), dir, std::move(*key), std::move(passphrase), std::move(*issuer)));
    auto const& settings = server->m_config;
    if (settings.tls_cert) {
        auto https = std::make_unique<httplib::SSLServer>(settings.tls_cert->c_str(), settings.tls_key->c_str());
        if (!https->is_valid())
            return make_error(ErrorKind::invalid_input, "cannot use --tls-cert " + *settings.tls_cert + " and --tls-key "
                    + *settings.tls_key + " (unreadable, not PEM, or not a matching pair)");
        server->m_http = std::move(https);
    } else {
        // Plain HTTP bounds the time to send a request (GuardedServer); over TLS, cpp-httplib's
        // own loop bounds each read only, and nginx in front bounds the rest.
        server->m_http = std::make_unique<GuardedServer>(settings.threads, is_release_upload,
            std::chrono::seconds(settings.upload_timeout_seconds));
    }
    server->install_hardening();
    server->register_routes();
    return server;
}

void HttpServer::install_hardening()
{
    auto& http = *m_http;
    // Without TCP_NODELAY every small response waits for the peer's delayed ACK (~40 ms).
    http.set_tcp_nodelay(true);
    // The library-wide limit is the largest body any route takes (release uploads); the
    // pre-routing handler applies the per-route limit before anything is read.
    http.set_payload_max_length(std::max<size_t>(m_config.max_body_bytes, size_t(m_config.max_upload_bytes)));
    http.set_read_timeout(m_config.read_timeout_seconds, 0);
    http.set_write_timeout(m_config.write_timeout_seconds, 0);
    http.set_keep_alive_max_count(m_config.keep_alive_max_count);
    http.set_keep_alive_timeout(m_config.read_timeout_seconds);
    // GuardedServer brings its own pool of --threads workers.
    if (m_config.tls_cert) {
        size_t threads = m_config.threads;
        http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    }

    http.set_exception_handler([](httplib::Request const&, httplib::Response& response, std::exception_ptr) {
        // Never show exception text to a client: it may hold paths or SQL.
        send_error(response, 500, "internal", "internal error");
    });

    http.set_pre_routing_handler([this](httplib::Request const& request, httplib::Response& response) {
        begin_request();
        response.set_header("X-Request-Id", current_request().id);
        return refuse_unsafe_request(request, response, { int64_t(m_config.max_body_bytes), m_config.max_upload_bytes });
    });

    http.set_error_handler([this](httplib::Request const& request, httplib::Response& response) {
        // Requests cpp-httplib rejects while reading the request line or headers never reach
        // the pre-routing handler.
        if (current_request().id.empty()) {
            begin_request();
            response.set_header("X-Request-Id", current_request().id);
        }
        // 304 and 416 carry no body by design.
        if (!response.body.empty() || current_request().closing || response.status == 304 || response.status == 416)
            return;
        // cpp-httplib's own refusals: a malformed request line or header, a target over 8 KiB,
        // a body it could not read. Where the request ends on the socket is unknown, so the
        // connection ends with the answer.
        switch (response.status) {
        case 400:
            if (GuardedServer::request_deadline_missed()) {
                refuse_and_close(response, 408, "request_timeout", "the request took longer than "
                        + std::to_string(m_config.read_timeout_seconds) + " s to arrive (--read-timeout); send it without pauses");
                return;
            }
            refuse_and_close(response, 400, "bad_request", "malformed request (request line, headers or body)");
            return;
        case 413:
            refuse_and_close(response, 413, "payload_too_large", "the request body is too large");
            return;
        case 414:
            refuse_and_close(response, 414, "uri_too_long", "the request target is longer than 8192 bytes");
            return;
        default: break;
        }
        if (response.status == 404) {
            for (auto const& unrouted : m_unrouted_handlers) {
                if (unrouted(request, response))
                    return;
            }
            std::string allowed;
            for (auto const& [method, regex] : m_route_matchers) {
                if (std::regex_match(request.path, regex) && allowed.find(method) == std::string::npos)
                    allowed += (allowed.empty() ? "" : ", ") + method;
            }
            if (!allowed.empty()) {
                response.set_header("Allow", allowed);
                return send_error(response, 405, "method_not_allowed", method_label(request.method) + " is not allowed here (allowed: "
                        + allowed + ")");
            }
            return send_error(response, 404, "not_found", "no such endpoint");
        }
        send_error(response, response.status, "error", "request failed with status " + std::to_string(response.status));
    });

    http.set_logger([this](httplib::Request const& request, httplib::Response const& response) { log_request(request, response); });
}

void HttpServer::log_request(httplib::Request const& request, httplib::Response const& response)
{
    if (current_request().id.empty())
        begin_request();
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - current_request().started).count();
    auto method = method_label(request.method);
    m_metrics.record_request(method, current_request().route, response.status, elapsed);
    // What went on the wire: cpp-httplib sets Content-Length for bodies, compressed bodies,
    // ranges and content providers alike before the logger runs.
    auto length = response.get_header_value("Content-Length");
    auto bytes = length.empty() ? std::to_string(response.body.size()) : length;
    AccessLine entry;
    entry.time = now();
    entry.request_id = current_request().id;
    entry.method = method;
    entry.path = request.path;
    entry.route = current_request().route;
    entry.status = response.status;
    entry.bytes = bytes;
    entry.seconds = elapsed;
    entry.remote = request.remote_addr;
    auto line = format_access_line(entry);
    m_access_log.write(line);
    current_request().id.clear();
}

void HttpServer::add_route(char const* method, std::string const& pattern, Handler handler)
{
    m_routes.push_back({ method, pattern });
    std::string regex = to_regex(pattern);
    m_route_matchers.emplace_back(method, std::regex(regex));
    auto wrapped = [pattern, handler = std::move(handler)](httplib::Request const& request, httplib::Response& response) {
        current_request().route = pattern;
        handler(request, response);
    };
    std::string method_name = method;
    if (method_name == "GET")
        m_http->Get(regex, wrapped);
    else if (method_name == "POST")
        m_http->Post(regex, wrapped);
    else if (method_name == "PUT")
        m_http->Put(regex, wrapped);
    else if (method_name == "DELETE")
        m_http->Delete(regex, wrapped);
}

void HttpServer::add_streaming_route(char const* method, std::string const& pattern, StreamingHandler handler)
{
    m_routes.push_back({ method, pattern });
    std::string regex = to_regex(pattern);
    m_route_matchers.emplace_back(method, std::regex(regex));
    m_http->Post(regex, [pattern, handler = std::move(handler)](httplib::Request const& request, httplib::Response& response,
                            httplib::ContentReader const& reader) {
        current_request().route = pattern;
        handler(request, response, reader);
    });
}

void HttpServer::register_routes()
{
    auto add = [this](char const* method, std::string const& pattern, Handler handler) { add_route(method, pattern, std::move(handler)); };
    register_public_routes(*this, add);
    register_admin_routes(*this, add);
    register_download_routes(*this, add);
    register_rubygems_routes(*this, add);
}

Result<int> HttpServer::bind()
{
    if (m_config.port == 0) {
        int port = m_http->bind_to_any_port(m_config.host);
        if (port <= 0)
            return make_error(ErrorKind::io, "cannot listen on " + m_config.host + " (no free port or a bad address)");
        m_port = port;
        return port;
    }
    if (!m_http->bind_to_port(m_config.host, m_config.port))
        return make_error(ErrorKind::io, "cannot listen on " + m_config.host + ":" + std::to_string(m_config.port)
                + " (in use, not permitted, or a bad address)");
    m_port = m_config.port;
    return m_port;
}

void HttpServer::run()
{
    m_http->listen_after_bind();
}

void HttpServer::stop()
{
    m_http->stop();
}

std::string HttpServer::url() const
{
    std::string host = m_config.host.find(':') != std::string::npos ? "[" + m_config.host + "]" : m_config.host;
    return std::string(m_config.tls_cert ? "https" : "http") + "://" + host + ":" + std::to_string(m_port);
}

}
