#include "charter/server/http/metrics.hpp"

#include <sstream>

namespace charter::server {

void Metrics::record_request(std::string const& method, std::string const& route, int status, double seconds)
{
    std::lock_guard lock(m_mutex);
    ++m_requests[{ method, route, status }];
    for (size_t i = 0; i < buckets.size(); ++i) {
        if (seconds <= buckets[i])
            ++m_bucket_counts[i];
    }
    ++m_latency_count;
    m_latency_sum += seconds;
}

std::string Metrics::render() const
{
    std::ostringstream out;
    std::lock_guard lock(m_mutex);
    out << "# HELP charter_http_requests_total HTTP requests by method, route pattern and status.\n"
        << "# TYPE charter_http_requests_total counter\n";
    for (auto const& [key, count] : m_requests) {
        auto const& [method, route, status] = key;
        out << "charter_http_requests_total{method=\"" << method << "\",route=\"" << route << "\",status=\"" << status << "\"} "
            << count << "\n";
    }
    out << "# HELP charter_http_request_duration_seconds Time from request parsed to response produced.\n"
        << "# TYPE charter_http_request_duration_seconds histogram\n";
    for (size_t i = 0; i < buckets.size(); ++i)
        out << "charter_http_request_duration_seconds_bucket{le=\"" << buckets[i] << "\"} " << m_bucket_counts[i] << "\n";
    out << "charter_http_request_duration_seconds_bucket{le=\"+Inf\"} " << m_latency_count << "\n"
        << "charter_http_request_duration_seconds_sum " << m_latency_sum << "\n"
        << "charter_http_request_duration_seconds_count " << m_latency_count << "\n"
        << "# HELP charter_licenses_issued_total Licenses issued through this server.\n"
        << "# TYPE charter_licenses_issued_total counter\n"
        << "charter_licenses_issued_total " << m_issued.load() << "\n"
        << "# HELP charter_licenses_revoked_total Licenses revoked through this server.\n"
        << "# TYPE charter_licenses_revoked_total counter\n"
        << "charter_licenses_revoked_total " << m_revoked.load() << "\n"
        << "# HELP charter_auth_failures_total Requests refused for a missing or bad credential.\n"
        << "# TYPE charter_auth_failures_total counter\n"
        << "charter_auth_failures_total " << m_auth_failures.load() << "\n";
    return out.str();
}

}
