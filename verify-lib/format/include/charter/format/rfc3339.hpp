#pragma once
// RFC 3339 date-times, our own strict parser and formatter (no locale, no libc time zone).
// Accepted: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), upper-case 'T' and 'Z' only,
// a real calendar date, seconds 00-59, and an instant within years 0000-9999 once converted
// to UTC. Fractions are accepted and truncated to the second.
// Formatting always gives the UTC form YYYY-MM-DDTHH:MM:SSZ.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace charter::format {

/// Seconds since 1970-01-01T00:00:00Z, or nullopt when `text` is not a valid RFC 3339 time.
std::optional<int64_t> parse_rfc3339(std::string_view text);

/// YYYY-MM-DDTHH:MM:SSZ for years 0000-9999; values outside that range are clamped.
std::string format_rfc3339(int64_t unix_seconds);

/// YYYY-MM-DD (UTC) for messages meant for people.
std::string format_date(int64_t unix_seconds);

/// Days since 1970-01-01 of a proleptic Gregorian date, any year.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

bool is_valid_date(int64_t year, unsigned month, unsigned day);

}
