#pragma once
// charter-server: the HTTP front of a data directory. Admin API (Bearer admin tokens),
// public validation and key endpoints, metrics; hardened around cpp-httplib 0.11.4's
// defaults (see docs/operations.md "Hardening").

#include "charter/keygen/ops/workspace.hpp"
#include "charter/result.hpp"
#include "charter/server/admin/issue_batcher.hpp"
#include "charter/server/auth/key_checker.hpp"
#include "charter/server/auth/license_keys.hpp"
#include "charter/server/auth/rate_limiter.hpp"
#include "charter/server/current_signing_key.hpp"
#include "charter/server/customer/downloads_log.hpp"
#include "charter/server/customer/entitlement.hpp"
#include "charter/server/http/access_log.hpp"
#include "charter/server/http/hardening.hpp"
#include "charter/server/http/metrics.hpp"
#include "charter/server/server_config.hpp"
#include "charter/server/store_pool.hpp"

#include <httplib.h>

#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <shared_mutex>
#include <string>
#include <vector>


namespace charter {
class Verifier;
}

namespace charter::server {

struct RouteInfo {
    std::string method;
    std::string pattern; // OpenAPI-style, e.g. /v1/licenses/{id}
};

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
    std::vector<RouteInfo> const& routes() const { return m_routes; }

    // What handlers share; public so that the route files can be plain functions.
    struct AdminToken {
        std::string id;
        std::vector<std::string> scopes;
    };
    using Handler = std::function<void(httplib::Request const&, httplib::Response&)>;
    using StreamingHandler
        = std::function<void(httplib::Request const&, httplib::Response&, httplib::ContentReader const&)>;

    /// A license presented by a customer (HTTP Basic password, or Bearer).
    struct PresentedLicense {
        ops::LicenseFacts facts;
        std::string customer;
    };

    ServerConfig const& config() const { return m_config; }
    StorePool& pool() { return m_pool; }
    Metrics& metrics() { return m_metrics; }
    DownloadsLog& downloads_log() { return m_downloads_log; }
    std::string const& issuer() const { return m_issuer; }
    int64_t now() const;
    /// Issues a license through ops::Issuer; concurrent calls share one commit (IssueBatcher).
    Result<db::License> issue(ops::IssueRequest const& request, db::Actor const& actor, int64_t now)
    {
        return m_issue_batcher.issue(request, actor, now);
    }

    /// Checks the Bearer token and its scope; on failure sets 401/403/429 and returns nullopt.
    std::optional<AdminToken> authorize(httplib::Request const& request, httplib::Response& response, char const* scope);
    /// Checks the license key of a download request; on failure sets 401/403/429 and returns nullopt.
    /// The license's status is read with `store` when given (the caller's read snapshot), else
    /// with a connection from the pool.
    std::optional<PresentedLicense> authenticate_license(httplib::Request const& request, httplib::Response& response,
        db::Store* store = nullptr);
    ops::DataDir const& dir() const { return m_dir; }
    void add_streaming_route(char const* method, std::string const& pattern, StreamingHandler handler);
    /// Sees every request no route matched (any method), before the 404 or 405; returns true
    /// when it has answered. The RubyGems source asks for a license on every path under
    /// /rubygems/, so that a stranger's 404 never tells which paths exist.
    using UnroutedHandler = std::function<bool(httplib::Request const&, httplib::Response&)>;
    void add_unrouted_handler(UnroutedHandler handler) { m_unrouted_handlers.push_back(std::move(handler)); }
    /// Verifies a license key for `product` at `now` (LicenseKeys).
    Result<KeyCheck> check_license_key(std::string const& product, std::string const& key, int64_t now);
    /// The signed revocation list of a product, re-signed only when the list or the current
    /// signing key changed.
    Result<std::string> revocation_list(std::string const& product);

private:
    HttpServer(ServerConfig config, ops::DataDir dir, keygen::SigningKey key, std::optional<std::string> passphrase,
        std::string issuer);

    void add_route(char const* method, std::string const& pattern, Handler handler);
    /// True (with a 429 set) when the client's address has failed authentication too often.
    bool throttled(httplib::Request const& request, httplib::Response& response);
    /// A 401 with a challenge for `scheme`, counted against the client's address.
    void refuse_credential(httplib::Request const& request, httplib::Response& response, char const* scheme,
        std::string const& message);
    void register_routes();
    void install_hardening();
    void log_request(httplib::Request const& request, httplib::Response const& response);

    ServerConfig m_config;
    ops::DataDir m_dir;
    StorePool m_pool;
    CurrentSigningKey m_signing_key;
    std::string m_issuer;
    IssueBatcher m_issue_batcher { m_pool, m_signing_key, m_issuer };
    LicenseKeys m_license_keys { m_pool, m_signing_key };
    Metrics m_metrics;
    DownloadsLog m_downloads_log { m_config.downloads_log_limit, m_config.downloads_log_retention_days };
    RateLimiter m_auth_limiter;
    AccessLog m_access_log; // outlives m_http, whose workers write to it
    std::unique_ptr<httplib::Server> m_http;
    std::vector<RouteInfo> m_routes;
    std::vector<std::pair<std::string, std::regex>> m_route_matchers;
    std::vector<UnroutedHandler> m_unrouted_handlers;
    int m_port { 0 };

    std::mutex m_cache_mutex;
    struct SignedRevocationList {
        std::vector<std::string> revoked; // the license ids it lists
        std::vector<std::string> kids;    // the keys that signed it, one list each
        std::string token;
    };
    std::map<std::string, SignedRevocationList> m_revocation_lists;
    std::map<std::string, std::chrono::steady_clock::time_point> m_token_touched;
};

void register_admin_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_download_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_rubygems_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);
void register_public_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add);

/// Sends a release's file to a presented license after the entitlement rule allowed it, and
/// writes the downloads log line either way: ETag, If-None-Match, single ranges, digests, and
/// X-Accel-Redirect when configured. Shared by /downloads/ and /rubygems/gems/.
void serve_release_file(HttpServer& server, httplib::Request const& request, httplib::Response& response,
    HttpServer::PresentedLicense const& license, std::string const& product_id, std::string const& version,
    std::string const& filename);

}
