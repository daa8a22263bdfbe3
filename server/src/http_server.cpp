#include "charter/server/http_server.hpp"

#include "charter/keygen/ids.hpp"
#include "charter/keygen/ops/admin_tokens.hpp"
#include "charter/keygen/ops/artifact_store.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/server/http/guarded_server.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/verify.hpp"
#include "claims.hpp"
#include "rfc3339.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iostream>

namespace charter::server {

namespace {

constexpr auto token_touch_interval = std::chrono::seconds(60);

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
    , m_auth_limiter(m_config.auth_failures_per_minute)
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

int64_t HttpServer::now() const
{
    if (char const* pinned = std::getenv("CHARTER_NOW"); pinned && *pinned) {
        if (auto parsed = format::parse_rfc3339(pinned))
            return *parsed;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
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

bool HttpServer::throttled(httplib::Request const& request, httplib::Response& response)
{
    auto wait = m_auth_limiter.retry_after(request.remote_addr);
    if (wait <= 0)
        return false;
    response.set_header("Retry-After", std::to_string(wait));
    send_error(response, 429, "too_many_requests", "too many failed authentications from this address; retry in "
            + std::to_string(wait) + " s");
    return true;
}

void HttpServer::refuse_credential(httplib::Request const& request, httplib::Response& response, char const* scheme,
    std::string const& message)
{
    m_auth_limiter.record_failure(request.remote_addr);
    m_metrics.auth_failure();
    response.set_header("WWW-Authenticate", std::string(scheme) + " realm=\"charter\"");
    send_error(response, 401, "unauthorized", message);
}

std::optional<HttpServer::PresentedLicense> HttpServer::authenticate_license(httplib::Request const& request,
    httplib::Response& response, db::Store* store)
{
    if (throttled(request, response))
        return std::nullopt;
    auto refuse = [&](std::string const& message) -> std::optional<PresentedLicense> {
        refuse_credential(request, response, "Basic", message);
        return std::nullopt;
    };
    auto header = request.get_header_value("Authorization");
    std::string key;
    if (header.starts_with("Basic ")) {
        auto credentials = decode_base64(header.substr(6));
        auto colon = credentials ? credentials->find(':') : std::string::npos;
        if (colon == std::string::npos)
            return refuse("HTTP Basic credentials must be USER:LICENSE_KEY");
        key = credentials->substr(colon + 1);
    } else if (header.starts_with("Bearer ")) {
        key = header.substr(7);
    } else {
        return refuse("send your license key: HTTP Basic with the key as the password, or Authorization: Bearer KEY");
    }
    // The key names its product; the signature (implicit assertion) decides whether that is true.
    // A key that verified before is not decoded again.
    std::string product = m_license_keys.product_of(key).value_or(std::string());
    if (product.empty()) {
        std::string detail;
        auto claimed = format::claimed_product(key, detail);
        if (!claimed)
            return refuse("the license key is not valid: " + detail + "; check that it is the key the vendor sent, copied whole");
        product = std::move(*claimed);
    }
    // A key seen before skips Ed25519 (KeyChecker): customers' clients send the same key with
    // every index and file request. Revocation is read from the database below every time.
    auto checked = check_license_key(product, key, now());
    if (!checked) {
        send_failure(response, checked.error());
        return std::nullopt;
    }
    if (checked->status != CHARTER_OK && checked->status != CHARTER_E_EXPIRED) {
        if (checked->status == CHARTER_E_NOT_YET_VALID) {
            send_error(response, 403, "not_yet_valid", checked->message);
            return std::nullopt;
        }
        return refuse("the license key is not valid: " + checked->message + "; check that it is the key the vendor sent, copied whole");
    }
    PresentedLicense presented;
    presented.facts.id = checked->license_id;
    presented.facts.product = product; // the implicit assertion held
    presented.facts.signature_valid = true;
    presented.facts.expires_at = checked->expires_at;
    presented.facts.updates_until = checked->updates_until;
    presented.customer = checked->customer;
    std::optional<StorePool::Lease> lease;
    if (!store) {
        auto leased = m_pool.lease();
        if (!leased) {
            send_failure(response, leased.error());
            return std::nullopt;
        }
        store = &*lease.emplace(std::move(*leased));
    }
    auto status = store->license_status(presented.facts.id);
    if (!status) {
        if (status.error().kind == ErrorKind::not_found)
            return refuse("license " + presented.facts.id + " is not known to this server");
        send_failure(response, status.error());
        return std::nullopt;
    }
    presented.facts.revoked = *status == "revoked";
    if (presented.facts.revoked) {
        // The refusal says since when: one more read, for revoked licenses only.
        if (auto record = store->get_license(presented.facts.id))
            presented.facts.revoked_at = record->revoked_at;
    }
    return presented;
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

std::optional<HttpServer::AdminToken> HttpServer::authorize(httplib::Request const& request, httplib::Response& response,
    char const* scope)
{
    if (throttled(request, response))
        return std::nullopt;
    auto refuse = [&](std::string const& message) -> std::optional<AdminToken> {
        refuse_credential(request, response, "Bearer", message);
        return std::nullopt;
    };
    auto header = request.get_header_value("Authorization");
    if (header.empty())
        return refuse("send an admin token: Authorization: Bearer chrt_…");
    if (!header.starts_with("Bearer ") || header.size() <= 7)
        return refuse("the Authorization header must be \"Bearer <admin token>\"");
    auto secret = header.substr(7);
    auto hash = ops::blake2b_hex(secret);
    auto store = m_pool.lease();
    if (!store) {
        send_failure(response, store.error());
        return std::nullopt;
    }
    auto found = (*store)->find_admin_token_by_hash(hash);
    if (!found) {
        send_failure(response, found.error());
        return std::nullopt;
    }
    // The lookup is by hash; the final comparison is in constant time all the same.
    if (!*found || (*found)->hash.size() != hash.size()
        || sodium_memcmp((*found)->hash.data(), hash.data(), hash.size()) != 0 || (*found)->revoked_at)
        return refuse("the admin token is not valid (unknown or revoked)");
    auto const& token = **found;
    auto const& scopes = token.scopes;
    bool allowed = std::find(scopes.begin(), scopes.end(), scope) != scopes.end()
        || std::find(scopes.begin(), scopes.end(), "admin") != scopes.end();
    if (!allowed) {
        send_error(response, 403, "forbidden", "the admin token lacks the \"" + std::string(scope) + "\" scope");
        return std::nullopt;
    }
    {
        std::lock_guard lock(m_cache_mutex);
        auto& touched = m_token_touched[token.id];
        auto steady_now = std::chrono::steady_clock::now();
        if (steady_now - touched > token_touch_interval) {
            touched = steady_now;
            (void)(*store)->touch_admin_token(token.id, now());
        }
    }
    return AdminToken { token.id, token.scopes };
}

Result<KeyCheck> HttpServer::check_license_key(std::string const& product, std::string const& key, int64_t now)
{
    return m_license_keys.check(product, key, now);
}

Result<std::string> HttpServer::revocation_list(std::string const& product)
{
    auto store = m_pool.lease();
    if (!store)
        return store.error();
    if (auto found = (*store)->get_product(product); !found)
        return found.error();
    auto revoked = (*store)->revoked_license_ids(product);
    if (!revoked)
        return revoked.error();
    // One list per key trusted now, the current one first: a build made before a key rotation
    // trusts only the older key, and a list signed by a key retired since would be refused by
    // every verifier.
    auto keys = m_signing_key.trusted(**store);
    if (!keys)
        return keys.error();
    std::vector<std::string> kids;
    std::vector<keygen::SigningKey const*> signers;
    for (auto const& key : *keys) {
        kids.push_back(key->kid());
        signers.push_back(key.get());
    }
    std::lock_guard lock(m_cache_mutex);
    auto& cached = m_revocation_lists[product];
    if (cached.token.empty() || cached.revoked != *revoked || cached.kids != kids) {
        auto token = ops::revocation_file(signers, m_issuer, product, now(), *revoked);
        if (!token)
            return token.error();
        cached.revoked = *revoked;
        cached.kids = std::move(kids);
        cached.token = std::move(*token);
    }
    return cached.token;
}

}
