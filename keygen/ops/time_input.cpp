#include "charter/keygen/ops/time_input.hpp"

#include "charter/format/rfc3339.hpp"

#include <charconv>
#include <limits>
#include <optional>

namespace charter::ops {

namespace {

constexpr int64_t max_duration_count = 100000;
constexpr int64_t earliest_time = -62167219200; // 0000-01-01T00:00:00Z
constexpr int64_t latest_time = 253402300799;   // 9999-12-31T23:59:59Z

bool all_digits(std::string_view text)
{
    if (text.empty())
        return false;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
    }
    return true;
}

// The unit of a period, or nullopt when unknown.
std::optional<Period::Unit> period_unit(std::string_view unit)
{
    if (unit == "h")
        return Period::Unit::hours;
    if (unit == "d")
        return Period::Unit::days;
    if (unit == "w")
        return Period::Unit::weeks;
    if (unit == "mo")
        return Period::Unit::months;
    if (unit == "y")
        return Period::Unit::years;
    return std::nullopt;
}

// `at` + `count` periods of `unit` (count may be negative: a duration ago).
int64_t shift(int64_t at, int64_t count, Period::Unit unit)
{
    switch (unit) {
    case Period::Unit::hours:
        return at + count * 3600;
    case Period::Unit::days:
        return at + count * 86400;
    case Period::Unit::weeks:
        return at + count * 7 * 86400;
    case Period::Unit::months:
        return add_months(at, count);
    case Period::Unit::years:
        return add_months(at, count * 12);
    }
    return at;
}

// A count and a unit ("30d"), or why `text` is not one (`neither` when it has no count or no unit).
struct ReadPeriod {
    std::optional<Period> period;
    char const* why { nullptr };
};

ReadPeriod read_period(std::string_view text, char const* neither)
{
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    if (digits < text.size() && (text[digits] == '.' || text[digits] == ','))
        return { {}, "is not a whole number of units (write 36h, not 1.5d)" };
    if (digits == 0 || digits == text.size())
        return { {}, neither };
    int64_t count = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + digits, count);
    if (error != std::errc() || end != text.data() + digits || count <= 0 || count > max_duration_count)
        return { {}, "has an out-of-range count" };
    auto unit = period_unit(text.substr(digits));
    if (!unit)
        return { {}, "has an unknown unit (use h, d, w, mo or y)" };
    return { Period { count, *unit }, nullptr };
}

}

int64_t add_months(int64_t unix_seconds, int64_t months)
{
    auto date = format::format_rfc3339(unix_seconds);
    int64_t year = std::stoll(date.substr(0, 4));
    int64_t month = std::stoll(date.substr(5, 2)) - 1 + months;
    unsigned day = unsigned(std::stoul(date.substr(8, 2)));
    year += month / 12;
    month %= 12;
    if (month < 0) {
        month += 12;
        year -= 1;
    }
    while (day > 28 && !format::is_valid_date(year, unsigned(month + 1), day))
        --day;
    int64_t seconds_of_day = ((unix_seconds % 86400) + 86400) % 86400;
    return format::days_from_civil(year, unsigned(month + 1), day) * 86400 + seconds_of_day;
}

Result<int64_t> parse_time_input(std::string_view text, int64_t now, std::string_view what, DurationFromNow direction)
{
    auto invalid = [&](std::string_view why) {
        return make_error(ErrorKind::invalid_input, std::string(what) + " \"" + std::string(text) + "\" " + std::string(why)
                + " (use an RFC 3339 time like 2027-01-31T00:00:00Z, a date like 2027-01-31, or a duration like 30d, 12h, 2w, 6mo, 1y)");
    };
    if (text.empty())
        return invalid("is empty");

    if (auto parsed = format::parse_rfc3339(text))
        return *parsed;
    if (text.size() == 10 && text[4] == '-' && text[7] == '-' && all_digits(text.substr(0, 4)) && all_digits(text.substr(5, 2))
        && all_digits(text.substr(8, 2))) {
        int64_t year = std::stoll(std::string(text.substr(0, 4)));
        unsigned month = unsigned(std::stoul(std::string(text.substr(5, 2))));
        unsigned day = unsigned(std::stoul(std::string(text.substr(8, 2))));
        if (!format::is_valid_date(year, month, day))
            return invalid("is not a calendar date");
        return format::days_from_civil(year, month, day) * 86400;
    }

    // What is left after the digits tells a mistyped time (2027-01-31t10:00:00z, 2027-1-31)
    // from a mistyped duration (1.5d, -5d, 30).
    if (text.find_first_of("-:") != std::string_view::npos && text.front() != '-')
        return invalid("is not a valid RFC 3339 time or YYYY-MM-DD date (note: 'T' and 'Z' are upper case)");
    if (text.front() == '-')
        return invalid("is negative");
    auto duration = read_period(text, "is neither a time nor a duration");
    if (!duration.period)
        return invalid(duration.why);
    int64_t sign = direction == DurationFromNow::ahead ? 1 : -1;
    int64_t at = shift(now, sign * duration.period->count, duration.period->unit);
    // A license key holds RFC 3339 times, years 0000-9999: a later expiry was signed as
    // 9999-12-31T23:59:59Z while the database kept the real one (found by fuzz_csv_batch).
    if (at < earliest_time || at > latest_time)
        return invalid("goes past the years 0000-9999 that a time can be written in");
    return at;
}

Result<std::optional<int64_t>> parse_optional_time(std::optional<std::string> const& text, int64_t now, std::string_view what)
{
    if (!text)
        return std::optional<int64_t> {};
    auto parsed = parse_time_input(*text, now, what);
    if (!parsed)
        return parsed.error();
    return std::optional<int64_t>(*parsed);
}

Result<Period> parse_period(std::string_view text, std::string_view what)
{
    auto invalid = [&](std::string_view why) {
        return make_error(ErrorKind::invalid_input, std::string(what) + " \"" + std::string(text) + "\" " + std::string(why)
                + " (use a period like 30d, 12h, 2w, 6mo or 1y)");
    };
    if (text.empty())
        return invalid("is empty");
    auto read = read_period(text, "is not a period");
    if (!read.period)
        return invalid(read.why);
    return *read.period;
}

Result<int64_t> add_period(int64_t at, Period const& period, std::string_view what)
{
    int64_t result = shift(at, period.count, period.unit);
    if (result < earliest_time || result > latest_time)
        return make_error(ErrorKind::invalid_input,
            std::string(what) + " goes past the years 0000-9999 that a time can be written in; give a shorter period");
    return result;
}

Result<int64_t> fixed_seconds(Period const& period, std::string_view what)
{
    if (period.unit == Period::Unit::months || period.unit == Period::Unit::years)
        return make_error(ErrorKind::invalid_input,
            std::string(what) + " must be in hours, days or weeks (h, d, w): months and years have no fixed length");
    return shift(0, period.count, period.unit);
}

}
