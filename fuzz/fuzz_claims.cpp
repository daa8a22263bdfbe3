// The strict JSON reader and the three documents read with it (license claims, the footer,
// the revocation list), called directly so every input reaches them; verification only
// reaches the claims after a valid signature. nlohmann's DOM parser is the reference: the
// strict reader may refuse valid JSON only for a duplicate key or excessive nesting, and what
// it accepts must agree with the DOM member by member.

#include "charter/format/rfc3339.hpp"
#include "charter/format/strict_json.hpp"
#include "fuzz_support.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

using namespace charter::format;

namespace {

void check_against_dom(JsonObject const& object, nlohmann::json const& dom)
{
    FUZZ_CHECK(dom.is_object());
    // nlohmann keeps the last of duplicate keys, so equal sizes also mean no duplicates.
    FUZZ_CHECK(dom.size() == object.members.size());
    for (auto const& member : object.members) {
        auto it = dom.find(member.key);
        FUZZ_CHECK(it != dom.end());
        auto const& value = *it;
        switch (member.type) {
        case JsonType::null: FUZZ_CHECK(value.is_null()); break;
        case JsonType::boolean: FUZZ_CHECK(value.is_boolean()); break;
        case JsonType::integer:
            FUZZ_CHECK(value.is_number_integer());
            FUZZ_CHECK(value.get<int64_t>() == member.integer_value);
            break;
        case JsonType::unsigned_integer:
            FUZZ_CHECK(value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX));
            break;
        case JsonType::floating: FUZZ_CHECK(value.is_number_float()); break;
        case JsonType::string: FUZZ_CHECK(value.is_string() && value.get<std::string>() == member.string_value); break;
        case JsonType::object: FUZZ_CHECK(value.is_object()); break;
        case JsonType::array: {
            FUZZ_CHECK(value.is_array());
            bool all_strings = std::all_of(value.begin(), value.end(), [](auto const& element) { return element.is_string(); });
            FUZZ_CHECK(member.array_of_strings == all_strings);
            if (all_strings) {
                FUZZ_CHECK(member.strings.size() == value.size());
                for (size_t i = 0; i < member.strings.size(); ++i)
                    FUZZ_CHECK(value[i].get<std::string>() == member.strings[i]);
            }
            break;
        }
        }
    }
}

void check_time_round_trips(int64_t seconds)
{
    auto again = parse_rfc3339(format_rfc3339(seconds));
    FUZZ_CHECK(again && *again == seconds);
}

}

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view text(reinterpret_cast<char const*>(data), size);

    std::string error;
    auto object = read_json_object(text, error);
    auto dom = nlohmann::json::parse(text, nullptr, /* allow_exceptions */ false);
    if (object) {
        FUZZ_CHECK(!dom.is_discarded());
        check_against_dom(*object, dom);
    } else {
        FUZZ_CHECK(!error.empty());
        if (!dom.is_discarded() && dom.is_object())
            FUZZ_CHECK(error.starts_with("duplicate key") || error.starts_with("nested deeper"));
    }

    Claims claims;
    std::string detail;
    int status = parse_claims(text, claims, detail);
    FUZZ_CHECK(status == CHARTER_OK || status == CHARTER_E_BAD_CLAIMS || status == CHARTER_E_MISSING_CLAIM
        || status == CHARTER_E_WRONG_CLAIM_TYPE);
    FUZZ_CHECK((status == CHARTER_OK) == detail.empty());
    if (status == CHARTER_OK) {
        FUZZ_CHECK(object.has_value());
        check_time_round_trips(claims.issued_at);
        for (auto const& time : { claims.not_before, claims.expires_at, claims.updates_until }) {
            if (time)
                check_time_round_trips(*time);
        }
        FUZZ_CHECK(!claims.seats || *claims.seats >= 0);
    }

    std::string kid;
    detail.clear();
    status = parse_footer_kid(text, kid, detail);
    FUZZ_CHECK(status == CHARTER_OK || status == CHARTER_E_BAD_FOOTER);
    if (status == CHARTER_OK)
        FUZZ_CHECK(kid.starts_with("k4.pid."));

    RevocationList list;
    detail.clear();
    status = parse_revocation_list(text, list, detail);
    FUZZ_CHECK(status == CHARTER_OK || status == CHARTER_E_BAD_REVOCATION_LIST);
    if (status == CHARTER_OK) {
        FUZZ_CHECK(std::is_sorted(list.revoked.begin(), list.revoked.end()));
        check_time_round_trips(list.issued_at);
    }
    return 0;
}
