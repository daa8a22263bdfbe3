#pragma once
// Counts authentication failures per client address in a sliding minute. An address over
// the limit is refused (429) until its oldest counted failure leaves the window; other
// addresses are unaffected. Memory is bounded: idle entries are pruned.

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace charter::server {

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    explicit RateLimiter(int failures_per_minute) : m_limit(failures_per_minute) { }

    /// Seconds to wait when `address` is over the limit, 0 when it may try.
    int64_t retry_after(std::string const& address, Clock::time_point now = Clock::now());
    void record_failure(std::string const& address, Clock::time_point now = Clock::now());

private:
    void prune(std::deque<Clock::time_point>& failures, Clock::time_point now);

    int m_limit;
    std::mutex m_mutex;
    std::unordered_map<std::string, std::deque<Clock::time_point>> m_failures;
    Clock::time_point m_last_sweep {};
};

}
