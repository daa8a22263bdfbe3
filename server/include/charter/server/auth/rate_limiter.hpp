#pragma once
// Counts authentication failures per client in a sliding minute. A client over the limit is
// refused (429) until its oldest counted failure leaves the window; other clients are
// unaffected. A client is an IPv4 address, or an IPv6 /64: one customer network gets a /64
// (often more), so counting single IPv6 addresses would hand an attacker 2^64 fresh tries.
//
// Memory is bounded: at most `max_clients` clients are tracked, each with at most `limit`
// failure times. When a new client arrives at the bound, the client whose last failure is
// the oldest is forgotten, in O(1) (a recency list beside the hash map): no request ever
// sweeps the table.

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace charter::server {

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    static constexpr size_t default_max_clients = 50000;

    explicit RateLimiter(int failures_per_minute, size_t max_clients = default_max_clients)
        : m_limit(failures_per_minute < 1 ? 1 : size_t(failures_per_minute))
        , m_max_clients(max_clients < 1 ? 1 : max_clients)
    {
    }

    /// Seconds to wait when `address` is over the limit, 0 when it may try.
    int64_t retry_after(std::string const& address, Clock::time_point now = Clock::now());
    void record_failure(std::string const& address, Clock::time_point now = Clock::now());

    /// How many clients are tracked now (at most max_clients).
    size_t tracked_clients();

    /// The client an address counts for: an IPv4 address as it is, an IPv6 address as its
    /// /64 ("2001:db8:1:2::/64"), an IPv4-mapped IPv6 address as the IPv4 address. Anything
    /// else (a Unix socket's empty address) as it is.
    static std::string client_of(std::string const& address);

private:
    struct Client {
        std::string key;
        // The newest failures, oldest first, from `first` on (a queue without a deque's
        // 512-byte blocks: one failure costs one time point).
        std::vector<Clock::time_point> failures;
        size_t first { 0 };

        size_t count() const { return failures.size() - first; }
    };
    using Recency = std::list<Client>; // most recent failure first

    void prune(Client& client, Clock::time_point now);

    size_t m_limit;
    size_t m_max_clients;
    std::mutex m_mutex;
    Recency m_recency;
    std::unordered_map<std::string, Recency::iterator> m_clients;
};

}
