#include "charter/server/portal/portal_sessions.hpp"

#include "charter/format/base64url.hpp"
#include "charter/keygen/ops/admin_tokens.hpp"

#include <sodium.h>

#include <algorithm>

namespace charter::server {

std::string new_portal_secret()
{
    unsigned char random[32];
    randombytes_buf(random, sizeof random);
    auto secret = format::base64url_encode_secret(random, sizeof random);
    sodium_memzero(random, sizeof random);
    return secret;
}

std::string portal_secret_hash(std::string const& secret)
{
    return ops::blake2b_hex(secret);
}

PortalSessions::PortalSessions(ServerConfig const& config)
    : m_own_tls(config.tls_cert.has_value())
    , m_trusted_proxies(config.trusted_proxies)
{
}

bool PortalSessions::is_https(httplib::Request const& request) const
{
    if (m_own_tls)
        return true;
    // Only a proxy we were told to trust may say how the client connected: anyone else could
    // send the header too.
    if (std::find(m_trusted_proxies.begin(), m_trusted_proxies.end(), request.remote_addr) == m_trusted_proxies.end())
        return false;
    return request.get_header_value("X-Forwarded-Proto") == "https";
}

std::string PortalSessions::cookie_attributes(httplib::Request const& request) const
{
    return std::string("; Path=/portal; HttpOnly; SameSite=Lax") + (is_https(request) ? "; Secure" : "");
}

Result<db::PortalSession> PortalSessions::start(db::Store& store, std::string const& customer_id,
    std::string const& signed_in_with, httplib::Request const& request, httplib::Response& response, int64_t now) const
{
    auto secret = new_portal_secret();
    db::PortalSession session;
    session.hash = portal_secret_hash(secret);
    session.customer_id = customer_id;
    session.csrf_token = new_portal_secret();
    session.signed_in_with = signed_in_with;
    session.created_at = now;
    session.expires_at = now + lifetime_seconds;
    if (auto stored = store.insert_portal_session(session, actor(customer_id)); !stored)
        return stored.error();
    response.set_header("Set-Cookie", std::string(cookie_name) + "=" + secret + cookie_attributes(request)
            + "; Max-Age=" + std::to_string(lifetime_seconds));
    sodium_memzero(secret.data(), secret.size());
    return session;
}

Result<std::optional<db::PortalSession>> PortalSessions::current(db::Store& store, httplib::Request const& request,
    int64_t now) const
{
    auto secret = cookie(request, cookie_name);
    if (secret.empty())
        return std::optional<db::PortalSession>();
    auto found = store.find_portal_session(portal_secret_hash(secret));
    if (!found)
        return found.error();
    if (*found && (*found)->expires_at < now)
        return std::optional<db::PortalSession>();
    return found;
}

Result<void> PortalSessions::end(db::Store& store, db::PortalSession const& session, httplib::Request const& request,
    httplib::Response& response, int64_t now) const
{
    auto deleted = store.delete_portal_session(session.hash, now, actor(session.customer_id));
    response.set_header("Set-Cookie", std::string(cookie_name) + "=" + cookie_attributes(request) + "; Max-Age=0");
    if (!deleted && deleted.error().kind != ErrorKind::not_found)
        return deleted.error();
    return {};
}

bool PortalSessions::csrf_matches(db::PortalSession const& session, std::string const& presented)
{
    auto const& expected = session.csrf_token;
    return !expected.empty() && presented.size() == expected.size()
        && sodium_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

std::string PortalSessions::cookie(httplib::Request const& request, std::string const& name)
{
    // Cookie: a=1; b=2 (RFC 6265 §5.4), possibly in several headers.
    auto count = request.get_header_value_count("Cookie");
    for (size_t i = 0; i < count; ++i) {
        auto value = request.get_header_value("Cookie", i);
        std::string_view header = value;
        while (!header.empty()) {
            auto end = header.find(';');
            auto pair = header.substr(0, end);
            header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
            while (!pair.empty() && pair.front() == ' ')
                pair.remove_prefix(1);
            auto equals = pair.find('=');
            if (equals != std::string_view::npos && pair.substr(0, equals) == name)
                return std::string(pair.substr(equals + 1));
        }
    }
    return {};
}

}
