#pragma once
// Signed-in portal sessions (docs/portal.md "Security model"): a random secret in a cookie
// (`charter_session`, HttpOnly, SameSite=Lax, Path=/portal, Secure over HTTPS), stored only as
// its hash with the one customer it sees, a CSRF token and an expiry; signing out deletes it.
// Whether a request came over HTTPS: charter-server's own TLS, or a --trusted-proxy address
// that says `X-Forwarded-Proto: https` (the shipped nginx configuration sets it).

#include "charter/db/store.hpp"
#include "charter/result.hpp"
#include "charter/server/server_config.hpp"

#include <httplib.h>

#include <optional>
#include <string>

namespace charter::server {

class PortalSessions {
public:
    /// A session lasts this long after sign-in, active or not.
    static constexpr int64_t lifetime_seconds = 12 * 3600;
    static constexpr char const* cookie_name = "charter_session";

    explicit PortalSessions(ServerConfig const& config);

    /// True when the request came over HTTPS (our TLS, or a trusted proxy's X-Forwarded-Proto).
    bool is_https(httplib::Request const& request) const;

    /// Starts a session for `customer_id` (a new secret, whatever cookie the request had),
    /// stores it (audited "portal.sign_in" with the customer as actor) and sets the cookie.
    Result<db::PortalSession> start(db::Store& store, std::string const& customer_id, std::string const& signed_in_with,
        httplib::Request const& request, httplib::Response& response, int64_t now) const;
    /// The session the request's cookie names, unless unknown or expired.
    Result<std::optional<db::PortalSession>> current(db::Store& store, httplib::Request const& request, int64_t now) const;
    /// Deletes the session (audited "portal.sign_out") and clears the cookie.
    Result<void> end(db::Store& store, db::PortalSession const& session, httplib::Request const& request,
        httplib::Response& response, int64_t now) const;

    /// Whether `presented` (a form's csrf field) is the session's token, compared in constant time.
    static bool csrf_matches(db::PortalSession const& session, std::string const& presented);
    /// The value of cookie `name` in the request's Cookie headers; empty when absent.
    static std::string cookie(httplib::Request const& request, std::string const& name);
    /// The actor of the audit rows a customer's own changes write: "customer:cus_…".
    static db::Actor actor(std::string const& customer_id) { return db::Actor { "customer:" + customer_id }; }

private:
    std::string cookie_attributes(httplib::Request const& request) const;

    bool m_own_tls;
    std::vector<std::string> m_trusted_proxies;
};

/// 32 random bytes, base64url: a session's or a sign-in link's secret.
std::string new_portal_secret();
/// The stored form of a portal secret (hex BLAKE2b-256).
std::string portal_secret_hash(std::string const& secret);

}
