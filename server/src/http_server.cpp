#include "charter/server/http_server.hpp"

#include "charter/keygen/ops/artifact_store.hpp"
#include "charter/server/http/guarded_server.hpp"
#include "charter/server/http/http_util.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>

namespace charter::server {

HttpServer::HttpServer(ServerConfig config, ops::DataDir dir, keygen::SigningKey key, std::optional<std::string> passphrase,
    std::string issuer)
    : m_config(std::move(config))
    , m_dir(std::move(dir))
    , m_pool(m_dir)
    , m_signing_key(m_dir, std::move(key), std::move(passphrase))
    , m_issuer(std::move(issuer))
{
}

HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::create(ServerConfig config)
{
    auto dir = ops::DataDir::resolve(config.data_dir, config.database_url);
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
    if (settings.mail.smtp_url) {
        auto mail = ops::mailer_settings(settings.mail, settings.public_url, dir.mail_templates());
        if (!mail)
            return mail.error();
        server->m_mail_worker = std::make_unique<MailWorker>(dir, std::move(*mail));
    }
    server->install_request_handlers();
    server->register_routes();
    return server;
}

void HttpServer::install_request_handlers()
{
    HardeningSettings settings;
    settings.body_limits = { int64_t(m_config.max_body_bytes), m_config.max_upload_bytes };
    settings.read_timeout_seconds = m_config.read_timeout_seconds;
    settings.write_timeout_seconds = m_config.write_timeout_seconds;
    settings.keep_alive_max_count = m_config.keep_alive_max_count;
    // GuardedServer brings its own pool of --threads workers.
    settings.tls_threads = m_config.tls_cert ? m_config.threads : 0;
    install_hardening(*m_http, settings,
        [this](httplib::Request const& request, httplib::Response& response) { m_route_table.answer_unrouted(request, response); });
    m_http->set_logger([this](httplib::Request const& request, httplib::Response const& response) { log_request(request, response); });
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
    std::string regex = m_route_table.add(method, pattern);
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
    else if (method_name == "PATCH")
        m_http->Patch(regex, wrapped);
    else if (method_name == "DELETE")
        m_http->Delete(regex, wrapped);
}

void HttpServer::add_streaming_route(char const* method, std::string const& pattern, StreamingHandler handler)
{
    std::string regex = m_route_table.add(method, pattern);
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
    register_credential_routes(*this, add);
    register_license_change_routes(*this, add);
    register_download_routes(*this, add);
    register_rubygems_routes(*this, add);
    register_license_routes(*this, add);
    register_activation_routes(*this, add);
    register_portal_routes(*this, add);
    register_billing_routes(*this, add);
}

Result<int> HttpServer::bind()
{
    if (m_config.port == 0) {
        int port = m_http->bind_to_any_port(m_config.host);
        if (port <= 0)
            return make_error(ErrorKind::io, "cannot listen on " + m_config.host + " (no free port or a bad address)");
        m_port = port;
        widen_listen_backlog(*m_http);
        return port;
    }
    if (!m_http->bind_to_port(m_config.host, m_config.port))
        return make_error(ErrorKind::io, "cannot listen on " + m_config.host + ":" + std::to_string(m_config.port)
                + " (in use, not permitted, or a bad address)");
    m_port = m_config.port;
    widen_listen_backlog(*m_http);
    return m_port;
}

void HttpServer::run()
{
    if (m_mail_worker)
        m_mail_worker->start();
    m_http->listen_after_bind();
}

void HttpServer::stop()
{
    m_http->stop();
    if (m_mail_worker)
        m_mail_worker->stop();
}

std::string HttpServer::url() const
{
    std::string host = m_config.host.find(':') != std::string::npos ? "[" + m_config.host + "]" : m_config.host;
    return std::string(m_config.tls_cert ? "https" : "http") + "://" + host + ":" + std::to_string(m_port);
}

}
