#include "charter/server/auth/admin_auth.hpp"

#include "charter/keygen/ops/admin_tokens.hpp"
#include "charter/server/clock.hpp"
#include "charter/server/http/http_util.hpp"

#include <sodium.h>

#include <algorithm>

namespace charter::server {

namespace {

constexpr auto token_touch_interval = std::chrono::seconds(60);

}

AdminAuth::AdminAuth(StorePool& pool, AuthThrottle& throttle)
    : m_pool(pool)
    , m_throttle(throttle)
{
}

std::optional<AdminToken> AdminAuth::authorize(httplib::Request const& request, httplib::Response& response,
    char const* scope)
{
    if (m_throttle.throttled(request, response))
        return std::nullopt;
    auto refuse = [&](std::string const& message) -> std::optional<AdminToken> {
        m_throttle.refuse(request, response, "Bearer", message);
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
        std::lock_guard lock(m_mutex);
        auto& touched = m_token_touched[token.id];
        auto steady_now = std::chrono::steady_clock::now();
        if (steady_now - touched > token_touch_interval) {
            touched = steady_now;
            (void)(*store)->touch_admin_token(token.id, server_now());
        }
    }
    return AdminToken { token.id, token.scopes };
}

}
