// RFC 3339 times: parsing arbitrary text, and the round trips the format relies on: every
// parsed time formats to a canonical UTC string that parses back to the same instant, a
// canonical string is its own formatting, and every int64 formats to something parseable.

#include "charter/format/rfc3339.hpp"
#include "fuzz_support.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

using namespace charter::format;

namespace {

constexpr int64_t min_formattable = -62167219200; // 0000-01-01T00:00:00Z
constexpr int64_t max_formattable = 253402300799; // 9999-12-31T23:59:59Z

}

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view text(reinterpret_cast<char const*>(data), size);

    if (auto parsed = parse_rfc3339(text)) {
        std::string formatted = format_rfc3339(*parsed);
        FUZZ_CHECK(formatted.size() == 20);
        auto again = parse_rfc3339(formatted);
        FUZZ_CHECK(again && *again == *parsed);
        FUZZ_CHECK(format_date(*parsed) == formatted.substr(0, 10));
        // The canonical form (UTC, no fraction) is the only one format_rfc3339 writes.
        if (text.size() == 20 && text.back() == 'Z')
            FUZZ_CHECK(formatted == text);
    }

    // Any 64-bit value formats (clamped to years 0000-9999) to a time that parses back.
    if (size >= sizeof(int64_t)) {
        int64_t value;
        std::memcpy(&value, data, sizeof value);
        auto parsed = parse_rfc3339(format_rfc3339(value));
        FUZZ_CHECK(parsed && *parsed == std::clamp(value, min_formattable, max_formattable));
    }

    // days_from_civil and the formatter share one calendar: a valid date survives the trip.
    if (size >= 4) {
        int64_t year = (int64_t(data[0]) << 8 | data[1]) % 10000;
        unsigned month = data[2] % 13;
        unsigned day = data[3] % 32;
        if (is_valid_date(year, month, day)) {
            int64_t days = days_from_civil(year, month, day);
            std::string formatted = format_date(days * 86400);
            char expected[16];
            std::snprintf(expected, sizeof expected, "%04d-%02u-%02u", int(year), month, day);
            FUZZ_CHECK(formatted == expected);
        }
    }
    return 0;
}
