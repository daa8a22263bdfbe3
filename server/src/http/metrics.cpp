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

void Metrics::stripe_webhook_refused(std::string const& code)
{
    std::lock_guard lock(m_mutex);
    ++m_stripe_refused[code];
}

void Metrics::stripe_event(std::string const& type, std::string const& outcome)
{
    std::lock_guard lock(m_mutex);
    // The type comes from a signed body: Stripe's names only, but bounded all the same.
    if (m_stripe_events.size() >= 256 && !m_stripe_events.contains({ type, outcome }))
        return;
    ++m_stripe_events[{ type, outcome }];
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
        << "charter_auth_failures_total " << m_auth_failures.load() << "\n"
        << "# HELP charter_stripe_webhooks_refused_total Stripe webhook deliveries refused before reading, by reason.\n"
        << "# TYPE charter_stripe_webhooks_refused_total counter\n";
    for (auto const& [code, count] : m_stripe_refused)
        out << "charter_stripe_webhooks_refused_total{reason=\"" << code << "\"} " << count << "\n";
    out << "# HELP charter_stripe_events_total Stripe events received, by type and outcome.\n"
        << "# TYPE charter_stripe_events_total counter\n";
    for (auto const& [key, count] : m_stripe_events)
        out << "charter_stripe_events_total{type=\"" << key.first << "\",outcome=\"" << key.second << "\"} " << count << "\n";
    return out.str();
}

}
