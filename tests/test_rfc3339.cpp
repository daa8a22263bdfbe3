#include "charter/format/rfc3339.hpp"

#include <catch2/catch.hpp>

using namespace charter::format;

TEST_CASE("rfc3339 parses UTC, offsets and fractions")
{
    CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
    CHECK(parse_rfc3339("2026-11-28T10:00:00Z") == 1795860000);
    CHECK(parse_rfc3339("2026-11-28T11:30:00+01:30") == 1795860000);
    CHECK(parse_rfc3339("2026-11-28T05:00:00-05:00") == 1795860000);
    CHECK(parse_rfc3339("2026-11-28T10:00:00.999999Z") == 1795860000);
    CHECK(parse_rfc3339("2026-11-28T10:00:00.5+00:00") == 1795860000);
    CHECK(parse_rfc3339("2024-02-29T00:00:00Z") == 1709164800);
    CHECK(parse_rfc3339("2000-02-29T23:59:59Z") == 951868799);
    CHECK(parse_rfc3339("1969-12-31T23:59:59Z") == -1);
    CHECK(parse_rfc3339("9999-12-31T23:59:59Z") == 253402300799);
}

TEST_CASE("rfc3339 refuses everything else")
{
    for (auto const* text : {
             "", "2026-11-28", "2026-11-28T10:00Z", "2026-11-28t10:00:00Z", "2026-11-28T10:00:00z",
             "2026-11-28 10:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-02-30T00:00:00Z",
             "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-28T24:00:00Z",
             "2026-11-28T10:60:00Z", "2026-11-28T10:00:60Z", "2026-11-28T10:00:00", "2026-11-28T10:00:00.Z",
             "2026-11-28T10:00:00+0100", "2026-11-28T10:00:00+01", "2026-11-28T10:00:00+24:00",
             "2026-11-28T10:00:00+01:60", "2026-11-28T10:00:00ZZ", "2026-11-28T10:00:00Z ", " 2026-11-28T10:00:00Z",
             "+2026-11-28T10:00:00Z", "2026-1-28T10:00:00Z", "2026-11-28T1:00:00Z", "2026-11-28T10:00:00.12a Z",
             "2026-11-28T10:00:00UTC", "２026-11-28T10:00:00Z" }) {
        INFO(text);
        CHECK_FALSE(parse_rfc3339(text));
    }
}

TEST_CASE("rfc3339 formats UTC with a Z and round-trips")
{
    CHECK(format_rfc3339(0) == "1970-01-01T00:00:00Z");
    CHECK(format_rfc3339(1795860000) == "2026-11-28T10:00:00Z");
    CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59Z");
    CHECK(format_date(1795860000) == "2026-11-28");
    for (int64_t t = -5000000000; t < 250000000000; t += 987654321) {
        auto parsed = parse_rfc3339(format_rfc3339(t));
        REQUIRE(parsed);
        CHECK(*parsed == t);
    }
}

TEST_CASE("days_from_civil agrees with known days")
{
    CHECK(days_from_civil(1970, 1, 1) == 0);
    CHECK(days_from_civil(2000, 3, 1) == 11017);
    CHECK(days_from_civil(1969, 12, 31) == -1);
    CHECK(is_valid_date(2024, 2, 29));
    CHECK_FALSE(is_valid_date(2023, 2, 29));
    CHECK_FALSE(is_valid_date(2100, 2, 29));
    CHECK(is_valid_date(2000, 2, 29));
}
