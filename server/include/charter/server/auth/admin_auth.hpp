#pragma once
// Admin-token authentication for the admin API and release uploads: `Authorization: Bearer
// chrt_…`, looked up by its BLAKE2b hash, compared in constant time, and allowed when the token
// has the route's scope (or "admin"). A token's last use is written at most once a minute.

#include "charter/server/auth/auth_throttle.hpp"
#include "charter/server/store_pool.hpp"

#include <httplib.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace charter::server {

/// An admin token that authorised a request.
struct AdminToken {
    std::string id;
    std::vector<std::string> scopes;
};

class AdminAuth {
public:
    AdminAuth(StorePool& pool, AuthThrottle& throttle);

    /// Checks the Bearer token and its scope; on failure sets 401/403/429 and returns nullopt.
    std::optional<AdminToken> authorize(httplib::Request const& request, httplib::Response& response, char const* scope);

private:
    StorePool& m_pool;
    AuthThrottle& m_throttle;
    std::mutex m_mutex;
    std::map<std::string, std::chrono::steady_clock::time_point> m_token_touched;
};

}
