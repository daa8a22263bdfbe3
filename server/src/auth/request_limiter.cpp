#include "charter/server/auth/request_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace charter::server {

RequestLimiter::RequestLimiter(int64_t per_minute, size_t max_holders)
    : m_per_minute(per_minute < 0 ? 0 : per_minute)
    , m_max_holders(max_holders < 1 ? 1 : max_holders)
{
}

int64_t RequestLimiter::take(std::string const& holder, Clock::time_point now)
{
    if (!limited())
        return 0;
    double capacity = double(m_per_minute);
    double per_second = capacity / 60.0;
    std::lock_guard lock(m_mutex);
    auto it = m_buckets.find(holder);
    if (it == m_buckets.end()) {
        if (m_buckets.size() >= m_max_holders) {
            m_buckets.erase(m_recency.back().holder);
            m_recency.pop_back();
        }
        m_recency.push_front(Bucket { holder, capacity, now });
        it = m_buckets.emplace(holder, m_recency.begin()).first;
    } else {
        m_recency.splice(m_recency.begin(), m_recency, it->second);
    }
    auto& bucket = *it->second;
    if (now > bucket.at) {
        double elapsed = std::chrono::duration<double>(now - bucket.at).count();
        bucket.requests = std::min(capacity, bucket.requests + elapsed * per_second);
        bucket.at = now;
    }
    if (bucket.requests >= 1.0) {
        bucket.requests -= 1.0;
        return 0;
    }
    auto wait = int64_t(std::ceil((1.0 - bucket.requests) / per_second));
    return std::max<int64_t>(wait, 1);
}

size_t RequestLimiter::tracked_holders()
{
    std::lock_guard lock(m_mutex);
    return m_buckets.size();
}

}
