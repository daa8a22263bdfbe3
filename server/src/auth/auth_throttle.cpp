#include "charter/server/auth/auth_throttle.hpp"

#include "charter/server/http/http_util.hpp"

namespace charter::server {

AuthThrottle::AuthThrottle(int failures_per_minute, Metrics& metrics)
    : m_limiter(failures_per_minute)
    , m_metrics(metrics)
{
}

bool AuthThrottle::throttled(httplib::Request const& request, httplib::Response& response)
{
    auto wait = m_limiter.retry_after(request.remote_addr);
    if (wait <= 0)
        return false;
    response.set_header("Retry-After", std::to_string(wait));
    send_error(response, 429, "too_many_requests", "too many failed authentications from this address; retry in "
            + std::to_string(wait) + " s");
    return true;
}

void AuthThrottle::refuse(httplib::Request const& request, httplib::Response& response, char const* scheme,
    std::string const& message)
{
    m_limiter.record_failure(request.remote_addr);
    m_metrics.auth_failure();
    response.set_header("WWW-Authenticate", std::string(scheme) + " realm=\"charter\"");
    send_error(response, 401, "unauthorized", message);
}

}
