#pragma once
// charter-server: the HTTP front of a data directory. Admin API (Bearer admin tokens),
// public validation and key endpoints, metrics; hardened around cpp-httplib 0.11.4's
// defaults (see docs/operations.md "Hardening").

#include "charter/keygen/ops/workspace.hpp"
#include "charter/result.hpp"
#include "charter/server/admin/issue_batcher.hpp"
#include "charter/server/auth/admin_auth.hpp"
#include "charter/server/auth/auth_throttle.hpp"
#include "charter/server/auth/license_auth.hpp"
#include "charter/server/auth/license_keys.hpp"
#include "charter/server/billing/stripe_signature.hpp"
#include "charter/server/clock.hpp"
#include "charter/server/current_signing_key.hpp"
#include "charter/server/customer/downloads_log.hpp"
#include "charter/server/customer/revocation_lists.hpp"
#include "charter/server/http/access_log.hpp"
#include "charter/server/http/hardening.hpp"
#include "charter/server/http/metrics.hpp"
#include "charter/server/http/route_table.hpp"
#include "charter/server/mail/mail_worker.hpp"
#include "charter/server/server_config.hpp"
#include "charter/server/store_pool.hpp"

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace charter::server {

class HttpServer {
public:
    /// Opens the data directory and unlocks the current signing key (CHARTER_PASSPHRASE, which
    /// is kept to unlock the keys that later rotations make current).
    static Result<std::unique_ptr<HttpServer>> create(ServerConfig config);
    ~HttpServer();

    /// Binds the listening socket; returns the port (useful with port 0).
    Result<int> bind();
    /// Serves until stop(); in-flight requests finish first.
    void run();
    void stop();

    std::string url() const;
    std::vector<RouteInfo> const& routes() const { return m_route_table.routes(); }

    // What handlers share; public so that the route files can be plain functions.
    using Handler = std::function<void(httplib::Request const&, httplib::Response&)>;
    using StreamingHandler
        = std::function<void(httplib::Request const&, httplib::Response&, httplib::ContentReader const&)>;

    ServerConfig const& config() const { return m_config; }
    StorePool& pool() { return m_pool; }
    Metrics& metrics() { return m_metrics; }
    DownloadsLog& downloads_log() { return m_downloads_log; }
    std::string const& issuer() const { return m_issuer; }
    /// The time requests are answered at (server_now: CHARTER_NOW when set).
    int64_t now() const { return server_now(); }
    /// Issues a license through ops::Issuer; concurrent calls share one commit (IssueBatcher).
    Result<db::License> issue(ops::IssueRequest const& request, db::Actor const& actor, int64_t now)
    {
        return m_issue_batcher.issue(request, actor, now);
    }
    /// Runs `work` (a renewal, an update) in the commit concurrent issuances and changes share,
    /// with the current signing key (IssueBatcher::run).
    /// `durability` process_crash: for work whose loss in a power cut its client repeats (a
    /// heartbeat); it commits without an fsync unless durable work shares its batch.
    Result<void> commit_signed(IssueBatcher::Work const& work, db::Durability durability = db::Durability::power_loss)
    {
        return m_issue_batcher.run(work, durability);
    }

    /// Admin tokens: the admin API and release uploads.
    AdminAuth& admin_auth() { return m_admin_auth; }
    /// Licenses presented for downloads (files and the RubyGems source).
    LicenseAuth& license_auth() { return m_license_auth; }
    /// The trusted keys and the verdict cache: what POST /v1/validate and LicenseAuth check keys with.
    LicenseKeys& license_keys() { return m_license_keys; }
    /// The signed revocation lists, re-signed only when they changed.
    RevocationLists& revocation_lists() { return m_revocation_lists; }
    ops::DataDir const& dir() const { return m_dir; }
    /// The mail sender; null when no SMTP server is configured.
    MailWorker const* mail_worker() const { return m_mail_worker.get(); }
    /// The Stripe webhook secrets and tolerance (billing/).
    StripeSignature const& stripe_signature() const { return m_stripe_signature; }
    void add_streaming_route(char const* method, std::string const& pattern, StreamingHandler handler);
    /// Sees every request no route matched (any method), before the 404 or 405; returns true
    /// when it has answered. The RubyGems source asks for a license on every path under
    /// /rubygems/, so that a stranger's 404 never tells which paths exist.
    void add_unrouted_handler(RouteTable::UnroutedHandler handler) { m_route_table.add_unrouted_handler(std::move(handler)); }

private:
    HttpServer(ServerConfig config, ops::DataDir dir, keygen::SigningKey key, std::optional<std::string> passphrase,
        std::string issuer);

    void add_route(char const* method, std::string const& pattern, Handler handler);
    void register_routes();
    /// Hardening (http/hardening), with the route table answering what no route matched, and the access log.
    void install_request_handlers();
    void log_request(httplib::Request const& request, httplib::Response const& response);

    ServerConfig m_config;
    ops::DataDir m_dir;
    StorePool m_pool;
    CurrentSigningKey m_signing_key;
    std::string m_issuer;
    IssueBatcher m_issue_batcher { m_pool, m_signing_key, m_issuer };
    LicenseKeys m_license_keys { m_pool, m_signing_key };
    RevocationLists m_revocation_lists { m_pool, m_signing_key, m_issuer };
    Metrics m_metrics;
    AuthThrottle m_auth_throttle { m_config.auth_failures_per_minute, m_metrics };
    AdminAuth m_admin_auth { m_pool, m_auth_throttle };
    LicenseAuth m_license_auth { m_pool, m_license_keys, m_auth_throttle, m_config.credential_requests_per_minute,
        m_config.license_requests_per_minute };
    DownloadsLog m_downloads_log { m_config.downloads_log_limit, m_config.downloads_log_retention_days };
    StripeSignature m_stripe_signature { m_config.stripe_webhook_secrets, m_config.stripe_tolerance_seconds };
    AccessLog m_access_log; // outlives m_http, whose workers write to it
    std::unique_ptr<MailWorker> m_mail_worker;
    std::unique_ptr<httplib::Server> m_http;
    RouteTable m_route_table;
    int m_port { 0 };
};

void register_admin_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_credential_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_download_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_rubygems_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_license_change_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_public_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_license_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_activation_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_portal_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_billing_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);

/// Sends a release's file to a presented license after the entitlement rule allowed it, and
/// writes the downloads log line either way: ETag, If-None-Match, single ranges, digests, and
/// X-Accel-Redirect when configured. Shared by /downloads/ and /rubygems/gems/.
void serve_release_file(HttpServer& server, httplib::Request const& request, httplib::Response& response,
    PresentedLicense const& license, std::string const& product_id, std::string const& version,
    std::string const& filename);

}
