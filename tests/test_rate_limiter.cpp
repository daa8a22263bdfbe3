// The auth-failure limiter (server/src/auth/rate_limiter.cpp): its window, its bound on memory with
// O(1) eviction, and IPv6 clients counted per /64.

#include "charter/server/auth/rate_limiter.hpp"

#include <catch2/catch.hpp>

using charter::server::RateLimiter;
using namespace std::chrono_literals;

TEST_CASE("an address over the limit waits until its oldest failure leaves the minute")
{
    RateLimiter limiter(3);
    auto start = RateLimiter::Clock::time_point {} + 1h;
    for (int i = 0; i < 2; ++i)
        limiter.record_failure("192.0.2.1", start + std::chrono::seconds(i));
    CHECK(limiter.retry_after("192.0.2.1", start + 2s) == 0);
    limiter.record_failure("192.0.2.1", start + 2s);
    CHECK(limiter.retry_after("192.0.2.1", start + 2s) == 58);
    CHECK(limiter.retry_after("192.0.2.2", start + 2s) == 0);
    // At 60 s the first failure has left the window: two remain, under the limit.
    CHECK(limiter.retry_after("192.0.2.1", start + 59s) == 1);
    CHECK(limiter.retry_after("192.0.2.1", start + 60s) == 0);
}

TEST_CASE("the limiter tracks at most max_clients clients and forgets the one whose last failure is oldest")
{
    RateLimiter limiter(2, 3);
    auto start = RateLimiter::Clock::time_point {} + 1h;
    limiter.record_failure("192.0.2.1", start);
    limiter.record_failure("192.0.2.1", start);
    limiter.record_failure("192.0.2.2", start + 1s);
    limiter.record_failure("192.0.2.3", start + 2s);
    CHECK(limiter.tracked_clients() == 3);
    CHECK(limiter.retry_after("192.0.2.1", start + 3s) > 0);
    // A failure of .1 makes it the most recent; .2 is now the oldest and goes first.
    limiter.record_failure("192.0.2.1", start + 3s);
    limiter.record_failure("192.0.2.4", start + 4s);
    CHECK(limiter.tracked_clients() == 3);
    CHECK(limiter.retry_after("192.0.2.1", start + 4s) > 0);
    limiter.record_failure("192.0.2.2", start + 5s); // tracked afresh: one failure, evicting .3
    CHECK(limiter.retry_after("192.0.2.2", start + 5s) == 0);
    CHECK(limiter.tracked_clients() == 3);
    limiter.record_failure("192.0.2.3", start + 6s); // .3 was forgotten: one failure again
    CHECK(limiter.retry_after("192.0.2.3", start + 6s) == 0);

    // 100,000 distinct addresses leave the table at its bound.
    RateLimiter flooded(20, 1000);
    for (int i = 0; i < 100000; ++i)
        flooded.record_failure("10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "."
                + std::to_string(i % 256), start);
    CHECK(flooded.tracked_clients() == 1000);
}

TEST_CASE("IPv6 clients are counted per /64, IPv4-mapped addresses as IPv4")
{
    CHECK(RateLimiter::client_of("192.0.2.7") == "192.0.2.7");
    CHECK(RateLimiter::client_of("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64");
    CHECK(RateLimiter::client_of("2001:db8:1:2::1") == "2001:db8:1:2::/64");
    CHECK(RateLimiter::client_of("2001:db8:1:3::1") == "2001:db8:1:3::/64");
    CHECK(RateLimiter::client_of("::ffff:192.0.2.7") == "192.0.2.7");
    CHECK(RateLimiter::client_of("::1") == "::/64");
    CHECK(RateLimiter::client_of("") == "");

    RateLimiter limiter(3);
    auto start = RateLimiter::Clock::time_point {} + 1h;
    // Three addresses of one /64 share its count; the next /64 is another client.
    limiter.record_failure("2001:db8:1:2::1", start);
    limiter.record_failure("2001:db8:1:2::2", start);
    limiter.record_failure("2001:db8:1:2:ffff:ffff:ffff:ffff", start);
    CHECK(limiter.retry_after("2001:db8:1:2::99", start) > 0);
    CHECK(limiter.retry_after("2001:db8:1:3::1", start) == 0);
    CHECK(limiter.tracked_clients() == 1);
    // An IPv4-mapped address counts with its IPv4 form.
    for (int i = 0; i < 3; ++i)
        limiter.record_failure("::ffff:192.0.2.9", start);
    CHECK(limiter.retry_after("192.0.2.9", start) > 0);
}
