#include "rfc3339.hpp"

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

bool is_leap_year(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// civil_from_days, the inverse of days_from_civil (same source).
void civil_from_days(int64_t days, int64_t& year, unsigned& month, unsigned& day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    auto day_of_era = static_cast<unsigned>(days - era * 146097);
    unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    year = int64_t(year_of_era) + era * 400;
    unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    unsigned shifted_month = (5 * day_of_year + 2) / 153;
    day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
    year += month <= 2;
}

}

int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    auto year_of_era = static_cast<unsigned>(year - era * 400);
    unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + int64_t(day_of_era) - 719468;
}

bool is_valid_date(int64_t year, unsigned month, unsigned day)
{
    static constexpr unsigned days_in_month[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month < 1 || month > 12 || day < 1)
        return false;
    unsigned limit = days_in_month[month - 1] + (month == 2 && is_leap_year(year) ? 1 : 0);
    return day <= limit;
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
    int64_t year;
    unsigned month, day;
    civil_from_days(days, year, month, day);
    // By hand rather than with snprintf: `charter issue --batch` formats several times per
    // license (docs/performance.md), and the clamp above keeps every field in range.
    std::string text = "0000-00-00T00:00:00Z";
    auto put = [&](size_t at, unsigned value, size_t digits) {
        for (size_t i = digits; i-- > 0; value /= 10)
            text[at + i] = char('0' + value % 10);
    };
    put(0, unsigned(year), 4);
    put(5, month, 2);
    put(8, day, 2);
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
