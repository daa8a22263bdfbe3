// The per-credential and per-license request limiter (server/src/auth/request_limiter.cpp):
// its boundary (N pass, N+1 waits), its refill, holders apart, and its bound on memory.

#include "charter/server/auth/request_limiter.hpp"

#include <catch2/catch.hpp>

using charter::server::RequestLimiter;
using namespace std::chrono_literals;

TEST_CASE("a limit of N a minute: N requests at once pass, the next waits for one request's refill")
{
    RequestLimiter limiter(6); // one request refills every 10 s
    auto start = RequestLimiter::Clock::time_point {} + 1h;
    for (int i = 0; i < 6; ++i)
        CHECK(limiter.take("cred_a", start) == 0);
    CHECK(limiter.take("cred_a", start) == 10);
    // Another holder is unaffected.
    CHECK(limiter.take("cred_b", start) == 0);
    // A refused request takes nothing: after 9 s one more is still 1 s away, at 10 s it passes.
    CHECK(limiter.take("cred_a", start + 9s) == 1);
    CHECK(limiter.take("cred_a", start + 10s) == 0);
    CHECK(limiter.take("cred_a", start + 10s) == 10);
    // A steady N a minute always passes; an idle minute refills the whole burst, never more.
    CHECK(limiter.take("cred_a", start + 20s) == 0);
    for (int i = 0; i < 6; ++i)
        CHECK(limiter.take("cred_a", start + 10min) == 0);
    CHECK(limiter.take("cred_a", start + 10min) > 0);
}

TEST_CASE("a limit of 0 is no limit")
{
    RequestLimiter limiter(0);
    auto now = RequestLimiter::Clock::now();
    for (int i = 0; i < 10000; ++i)
        REQUIRE(limiter.take("lic_a", now) == 0);
    CHECK(limiter.tracked_holders() == 0);
}

TEST_CASE("the limiter tracks at most max_holders and forgets the least recently used")
{
    RequestLimiter limiter(1, 2);
    auto start = RequestLimiter::Clock::time_point {} + 1h;
    CHECK(limiter.take("a", start) == 0);
    CHECK(limiter.take("b", start) == 0);
    CHECK(limiter.take("a", start) == 60);
    CHECK(limiter.take("c", start) == 0); // b is forgotten
    CHECK(limiter.tracked_holders() == 2);
    CHECK(limiter.take("a", start) == 60);
    CHECK(limiter.take("b", start) == 0); // a fresh bucket; c goes
    CHECK(limiter.tracked_holders() == 2);
}
