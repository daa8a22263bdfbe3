#pragma once
// What admin-token and license authentication share: a client that failed too often is
// answered 429 before its credential is looked at, and every refused credential is a 401 with
// a challenge, counted against the client's address (RateLimiter) and in the metrics.

#include "charter/server/auth/rate_limiter.hpp"
#include "charter/server/http/metrics.hpp"

#include <httplib.h>

#include <string>

namespace charter::server {

class AuthThrottle {
public:
    AuthThrottle(int failures_per_minute, Metrics& metrics);

    /// True (with a 429 set) when the client's address has failed authentication too often.
    bool throttled(httplib::Request const& request, httplib::Response& response);
    /// A 401 with a challenge for `scheme` ("Basic", "Bearer"), counted against the client's address.
    void refuse(httplib::Request const& request, httplib::Response& response, char const* scheme,
        std::string const& message);

private:
    RateLimiter m_limiter;
    Metrics& m_metrics;
};

}
