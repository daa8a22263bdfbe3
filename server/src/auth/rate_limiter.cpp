#include "charter/server/auth/rate_limiter.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace charter::server {

namespace {
constexpr auto window = std::chrono::seconds(60);
}

std::string RateLimiter::client_of(std::string const& address)
{
    if (address.find(':') == std::string::npos)
        return address;
    unsigned char bytes[16];
    if (::inet_pton(AF_INET6, address.c_str(), bytes) != 1)
        return address;
    static unsigned char const mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    char text[INET6_ADDRSTRLEN];
    if (std::memcmp(bytes, mapped_prefix, sizeof mapped_prefix) == 0) {
        if (!::inet_ntop(AF_INET, bytes + 12, text, sizeof text))
            return address;
        return text;
    }
    std::memset(bytes + 8, 0, 8);
    if (!::inet_ntop(AF_INET6, bytes, text, sizeof text))
        return address;
    return std::string(text) + "/64";
}

void RateLimiter::prune(Client& client, Clock::time_point now)
{
    while (client.first < client.failures.size() && now - client.failures[client.first] >= window)
        ++client.first;
    // Compact once the dead prefix is the larger half: amortised O(1) per failure.
    if (client.first > 0 && client.first * 2 >= client.failures.size()) {
        client.failures.erase(client.failures.begin(), client.failures.begin() + std::ptrdiff_t(client.first));
        client.first = 0;
    }
}

int64_t RateLimiter::retry_after(std::string const& address, Clock::time_point now)
{
    auto key = client_of(address);
    std::lock_guard lock(m_mutex);
    auto it = m_clients.find(key);
    if (it == m_clients.end())
        return 0;
    auto& client = *it->second;
    prune(client, now);
    if (client.count() < m_limit)
        return 0;
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(client.failures[client.first] + window - now).count();
    return wait < 1 ? 1 : wait;
}

void RateLimiter::record_failure(std::string const& address, Clock::time_point now)
{
    auto key = client_of(address);
    std::lock_guard lock(m_mutex);
    auto it = m_clients.find(key);
    if (it == m_clients.end()) {
        if (m_clients.size() >= m_max_clients) {
            // Forget the client whose last failure is the oldest (the end of the recency list).
            m_clients.erase(m_recency.back().key);
            m_recency.pop_back();
        }
        m_recency.push_front(Client { key, {}, 0 });
        it = m_clients.emplace(std::move(key), m_recency.begin()).first;
    } else {
        m_recency.splice(m_recency.begin(), m_recency, it->second);
    }
    auto& client = *it->second;
    prune(client, now);
    client.failures.push_back(now);
    // Only the newest `limit` failures matter for the decision.
    if (client.count() > m_limit)
        ++client.first;
}

size_t RateLimiter::tracked_clients()
{
    std::lock_guard lock(m_mutex);
    return m_clients.size();
}

}
