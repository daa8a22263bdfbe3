#pragma once
// Times as people type them on a command line or send them to the API: an RFC 3339 time,
// a bare date (YYYY-MM-DD, meaning 00:00:00Z that day), or a duration from now with the
// units h, d, w, mo (calendar months) and y (calendar years): "12h", "30d", "2w", "6mo", "1y".

#include "charter/result.hpp"

#include <cstdint>
#include <string_view>

namespace charter::ops {

/// Which way a duration counts from now: `--expires 30d` means 30 days ahead, `charter audit
/// --since 7d` means the last 7 days.
enum class DurationFromNow { ahead, ago };

/// `text` as an absolute time, or relative to `now` when it is a duration.
/// `what` names the option in error messages ("--expires").
Result<int64_t> parse_time_input(std::string_view text, int64_t now, std::string_view what,
    DurationFromNow direction = DurationFromNow::ahead);

/// Adds whole calendar months to a time, clamping the day (Jan 31 + 1mo = Feb 28/29).
int64_t add_months(int64_t unix_seconds, int64_t months);

}
