#include "rate_limiter.hpp"

namespace charter::server {

namespace {
constexpr auto window = std::chrono::seconds(60);
constexpr size_t max_tracked_addresses = 100000;
}

void RateLimiter::prune(std::deque<Clock::time_point>& failures, Clock::time_point now)
{
    while (!failures.empty() && now - failures.front() >= window)
        failures.pop_front();
}

int64_t RateLimiter::retry_after(std::string const& address, Clock::time_point now)
{
    std::lock_guard lock(m_mutex);
    auto it = m_failures.find(address);
    if (it == m_failures.end())
        return 0;
    prune(it->second, now);
    if (int(it->second.size()) < m_limit)
        return 0;
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(it->second.front() + window - now).count();
    return wait < 1 ? 1 : wait;
}

void RateLimiter::record_failure(std::string const& address, Clock::time_point now)
{
    std::lock_guard lock(m_mutex);
    if (now - m_last_sweep > window || m_failures.size() > max_tracked_addresses) {
        for (auto it = m_failures.begin(); it != m_failures.end();) {
            prune(it->second, now);
            it = it->second.empty() ? m_failures.erase(it) : std::next(it);
        }
        m_last_sweep = now;
    }
    auto& failures = m_failures[address];
    failures.push_back(now);
    // Only the newest `limit` failures matter for the decision.
    while (int(failures.size()) > m_limit)
        failures.pop_front();
}

}
