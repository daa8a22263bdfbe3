#pragma once
// Times as people type them on a command line or send them to the API: an RFC 3339 time,
// a bare date (YYYY-MM-DD, meaning 00:00:00Z that day), or a duration from now with the
// units h, d, w, mo (calendar months) and y (calendar years): "12h", "30d", "2w", "6mo", "1y".

#include "charter/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace charter::ops {

/// Which way a duration counts from now: `--expires 30d` means 30 days ahead, `charter audit
/// --since 7d` means the last 7 days.
enum class DurationFromNow { ahead, ago };

/// `text` as an absolute time, or relative to `now` when it is a duration.
/// `what` names the option in error messages ("--expires").
Result<int64_t> parse_time_input(std::string_view text, int64_t now, std::string_view what,
    DurationFromNow direction = DurationFromNow::ahead);

/// parse_time_input for an optional value: absent stays absent.
Result<std::optional<int64_t>> parse_optional_time(std::optional<std::string> const& text, int64_t now, std::string_view what);

/// Adds whole calendar months to a time, clamping the day (Jan 31 + 1mo = Feb 28/29).
int64_t add_months(int64_t unix_seconds, int64_t months);

/// A calendar period as plans and renewals write it: "12h", "30d", "2w", "6mo", "1y". Months
/// and years are calendar ones (not a fixed number of seconds), so a period is kept as text
/// and added to a time when it is used.
struct Period {
    enum class Unit { hours, days, weeks, months, years };
    int64_t count { 0 };
    Unit unit { Unit::days };
};

/// `text` as a period; ErrorKind::invalid_input naming `what` ("--by") otherwise.
Result<Period> parse_period(std::string_view text, std::string_view what);
/// `at` + `period`: months and years clamp the day (Jan 31 + 1mo = Feb 28/29, Feb 29 + 1y =
/// Feb 28). ErrorKind::invalid_input when the result leaves the years 0000-9999.
Result<int64_t> add_period(int64_t at, Period const& period, std::string_view what);
/// The period's length in seconds when it has a fixed one (h, d, w); invalid_input for mo and y.
Result<int64_t> fixed_seconds(Period const& period, std::string_view what);

}
