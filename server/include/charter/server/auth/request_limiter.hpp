#pragma once
// Requests per credential and per license (docs/operations.md "Fair use"): a runaway CI loop on
// one credential is answered 429 without taking the RubyGems source from everyone else.
//
// Each holder (a credential's or a license's id) has a bucket of `per_minute` requests that
// refills evenly over a minute (a token bucket): a burst of `per_minute` requests passes at
// once, the next waits until one request's worth has refilled, and a steady `per_minute` a
// minute always passes. A request that is refused takes nothing, so a client that keeps
// hammering gets back in as soon as it slows down.
//
// Memory is bounded: at most `max_holders` buckets, the least recently used forgotten first
// (forgetting refills a bucket, which only ever lets a request through). Holders are ids the
// database knew, never a stranger's guesses, so nobody can flush the table with made-up names.

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace charter::server {

class RequestLimiter {
public:
    using Clock = std::chrono::steady_clock;

    static constexpr size_t default_max_holders = 50000;

    /// `per_minute` 0: no limit.
    explicit RequestLimiter(int64_t per_minute, size_t max_holders = default_max_holders);

    bool limited() const { return m_per_minute > 0; }

    /// Counts one request of `holder`: 0 when it may go on, else the whole seconds until it may
    /// (at least 1), and the request is not counted.
    int64_t take(std::string const& holder, Clock::time_point now = Clock::now());

    /// How many holders are tracked now (at most max_holders).
    size_t tracked_holders();

private:
    struct Bucket {
        std::string holder;
        double requests; // left in the bucket at `at`
        Clock::time_point at;
    };
    using Recency = std::list<Bucket>; // most recently used first

    int64_t m_per_minute;
    size_t m_max_holders;
    std::mutex m_mutex;
    Recency m_recency;
    std::unordered_map<std::string, Recency::iterator> m_buckets;
};

}
