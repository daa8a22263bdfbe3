#include "charter/format/rfc3339.hpp"

#include <chrono>
#include <string>

namespace charter::format {

namespace {

// The instants an RFC 3339 UTC string can name: years 0000-9999.
constexpr int64_t min_seconds = -62167219200; // 0000-01-01T00:00:00Z
constexpr int64_t max_seconds = 253402300799; // 9999-12-31T23:59:59Z

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` digits at text[pos..]; false when any is missing or not a digit.
bool read_digits(std::string_view text, size_t pos, size_t count, unsigned& out)
{
    if (pos + count > text.size())
        return false;
    unsigned value = 0;
    for (size_t i = 0; i < count; ++i) {
        char c = text[pos + i];
        if (!is_digit(c))
            return false;
        value = value * 10 + unsigned(c - '0');
    }
    out = value;
    return true;
}

// The civil calendar is <chrono>'s (C++20 year_month_day and sys_days). Its year holds
// -32767..32767 only, while callers may ask about any year (a duration of 100000 years must
// come out as past 9999 to be refused); the Gregorian calendar repeats every 400 years, which
// are 146097 days, so a year outside is moved by whole cycles into the range and back.
constexpr int64_t years_per_cycle = 400;
constexpr int64_t days_per_cycle = 146097;

// The date in years 0-399 of the same cycle, and how many whole cycles were taken off.
std::chrono::year_month_day in_first_cycle(int64_t year, unsigned month, unsigned day, int64_t& cycles)
{
    cycles = year / years_per_cycle - (year % years_per_cycle < 0 ? 1 : 0);
    auto year_in_cycle = static_cast<int>(year - cycles * years_per_cycle);
    return { std::chrono::year(year_in_cycle), std::chrono::month(month), std::chrono::day(day) };
}

}

int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    int64_t cycles = 0;
    auto date = in_first_cycle(year, month, day, cycles);
    return std::chrono::sys_days(date).time_since_epoch().count() + cycles * days_per_cycle;
}

bool is_valid_date(int64_t year, unsigned month, unsigned day)
{
    int64_t cycles = 0;
    return day <= 31 && in_first_cycle(year, month, day, cycles).ok();
}

std::optional<int64_t> parse_rfc3339(std::string_view text)
{
    // 0         1         2
    // 0123456789012345678901234
    // YYYY-MM-DDTHH:MM:SS[.f+](Z|+HH:MM)
    unsigned year, month, day, hour, minute, second;
    if (text.size() < 20)
        return std::nullopt;
    if (!read_digits(text, 0, 4, year) || text[4] != '-' || !read_digits(text, 5, 2, month) || text[7] != '-'
        || !read_digits(text, 8, 2, day) || text[10] != 'T' || !read_digits(text, 11, 2, hour) || text[13] != ':'
        || !read_digits(text, 14, 2, minute) || text[16] != ':' || !read_digits(text, 17, 2, second))
        return std::nullopt;
    if (!is_valid_date(year, month, day) || hour > 23 || minute > 59 || second > 59)
        return std::nullopt;

    size_t pos = 19;
    if (text[pos] == '.') {
        ++pos;
        size_t digits_start = pos;
        while (pos < text.size() && is_digit(text[pos]))
            ++pos;
        if (pos == digits_start)
            return std::nullopt;
    }
    if (pos >= text.size())
        return std::nullopt;

    int64_t offset_seconds = 0;
    if (text[pos] == 'Z') {
        ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
        unsigned offset_hour, offset_minute;
        if (!read_digits(text, pos + 1, 2, offset_hour) || pos + 3 >= text.size() || text[pos + 3] != ':'
            || !read_digits(text, pos + 4, 2, offset_minute) || offset_hour > 23 || offset_minute > 59)
            return std::nullopt;
        offset_seconds = int64_t(offset_hour) * 3600 + int64_t(offset_minute) * 60;
        if (text[pos] == '-')
            offset_seconds = -offset_seconds;
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != text.size())
        return std::nullopt;

    int64_t days = days_from_civil(year, month, day);
    // Local time = UTC + offset, so UTC = local - offset.
    int64_t seconds = days * 86400 + int64_t(hour) * 3600 + int64_t(minute) * 60 + int64_t(second) - offset_seconds;
    // An offset can push a local time in year 0000 or 9999 out of the four-digit years; such an
    // instant has no UTC form, so format_rfc3339 could not give it back (found by fuzz_rfc3339).
    if (seconds < min_seconds || seconds > max_seconds)
        return std::nullopt;
    return seconds;
}

std::string format_rfc3339(int64_t unix_seconds)
{
    if (unix_seconds < min_seconds)
        unix_seconds = min_seconds;
    if (unix_seconds > max_seconds)
        unix_seconds = max_seconds;
    int64_t days = unix_seconds / 86400;
    int64_t rest = unix_seconds % 86400;
    if (rest < 0) {
        rest += 86400;
        days -= 1;
    }
    std::chrono::year_month_day date { std::chrono::sys_days(std::chrono::days(days)) };
    // By hand rather than with snprintf: `charter issue --batch` formats several times per
    // license (docs/performance.md), and the clamp above keeps every field in range.
    std::string text = "0000-00-00T00:00:00Z";
    auto put = [&](size_t at, unsigned value, size_t digits) {
        for (size_t i = digits; i-- > 0; value /= 10)
            text[at + i] = char('0' + value % 10);
    };
    put(0, unsigned(int(date.year())), 4);
    put(5, unsigned(date.month()), 2);
    put(8, unsigned(date.day()), 2);
    put(11, unsigned(rest / 3600), 2);
    put(14, unsigned(rest % 3600 / 60), 2);
    put(17, unsigned(rest % 60), 2);
    return text;
}

std::string format_date(int64_t unix_seconds)
{
    return format_rfc3339(unix_seconds).substr(0, 10);
}

}
