#include "charter/keygen/ops/time_input.hpp"

#include "rfc3339.hpp"

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

    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    // What is left after the digits tells a mistyped time (2027-01-31t10:00:00z, 2027-1-31)
    // from a mistyped duration (1.5d, -5d, 30).
    if (text.find_first_of("-:") != std::string_view::npos && text.front() != '-')
        return invalid("is not a valid RFC 3339 time or YYYY-MM-DD date (note: 'T' and 'Z' are upper case)");
    if (text.front() == '-')
        return invalid("is negative");
    if (digits < text.size() && (text[digits] == '.' || text[digits] == ','))
        return invalid("is not a whole number of units (write 36h, not 1.5d)");
    if (digits == 0 || digits == text.size())
        return invalid("is neither a time nor a duration");
    int64_t count = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + digits, count);
    if (error != std::errc() || end != text.data() + digits || count <= 0 || count > max_duration_count)
        return invalid("has an out-of-range count");
    std::string_view unit = text.substr(digits);
    int64_t sign = direction == DurationFromNow::ahead ? 1 : -1;
    std::optional<int64_t> at;
    if (unit == "h")
        at = now + sign * count * 3600;
    else if (unit == "d")
        at = now + sign * count * 86400;
    else if (unit == "w")
        at = now + sign * count * 7 * 86400;
    else if (unit == "mo")
        at = add_months(now, sign * count);
    else if (unit == "y")
        at = add_months(now, sign * count * 12);
    if (!at)
        return invalid("has an unknown unit (use h, d, w, mo or y)");
    // A license key holds RFC 3339 times, years 0000-9999: a later expiry was signed as
    // 9999-12-31T23:59:59Z while the database kept the real one (found by fuzz_csv_batch).
    if (*at < earliest_time || *at > latest_time)
        return invalid("goes past the years 0000-9999 that a time can be written in");
    return *at;
}

}
