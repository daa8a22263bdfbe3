#pragma once
// Prometheus text-format metrics: requests by method, route and status, a latency histogram,
// licenses issued and revoked, authentication failures.

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

namespace charter::server {

class Metrics {
public:
    void record_request(std::string const& method, std::string const& route, int status, double seconds);
    void license_issued() { ++m_issued; }
    void license_revoked() { ++m_revoked; }
    void auth_failure() { ++m_auth_failures; }
    /// A Stripe webhook refused before it was read: "signature_missing", "signature_mismatch", ….
    void stripe_webhook_refused(std::string const& code);
    /// A Stripe event received: its type, and "applied", "ignored", "failed" or "duplicate".
    void stripe_event(std::string const& type, std::string const& outcome);

    std::string render() const;

    static constexpr std::array<double, 12> buckets { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5 };

private:
    mutable std::mutex m_mutex;
    std::map<std::tuple<std::string, std::string, int>, uint64_t> m_requests; // method, route, status
    std::array<uint64_t, buckets.size()> m_bucket_counts {};
    uint64_t m_latency_count { 0 };
    double m_latency_sum { 0 };
    std::atomic<uint64_t> m_issued { 0 };
    std::atomic<uint64_t> m_revoked { 0 };
    std::atomic<uint64_t> m_auth_failures { 0 };
    std::map<std::string, uint64_t> m_stripe_refused; // by code
    std::map<std::pair<std::string, std::string>, uint64_t> m_stripe_events; // type, outcome
};

}
