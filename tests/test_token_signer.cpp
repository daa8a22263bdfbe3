// keygen/lib/token_signer: the claims JSON every license carries (byte for byte what
// nlohmann's dump() writes, so the direct writer changes no license), UTF-8 checks, and ids.

#include "charter/format/claims.hpp"
#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ids.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/utf8.hpp"
#include "charter/verify.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace charter;
using charter::testing::contains;

namespace {

constexpr int64_t t0 = 1795860000; // 2026-11-28T10:00:00Z

// The claims as nlohmann's ordered_json writes them: the reference the writer must match.
std::string reference_json(keygen::LicenseClaims const& claims)
{
    nlohmann::ordered_json json;
    json["iss"] = claims.issuer;
    json["sub"] = claims.customer;
    json["jti"] = claims.license_id;
    json["iat"] = format::format_rfc3339(claims.issued_at);
    if (claims.not_before)
        json["nbf"] = format::format_rfc3339(*claims.not_before);
    if (claims.expires_at)
        json["exp"] = format::format_rfc3339(*claims.expires_at);
    json["product"] = claims.product;
    if (claims.name)
        json["name"] = *claims.name;
    if (!claims.entitlements.empty())
        json["entitlements"] = claims.entitlements;
    if (claims.updates_until)
        json["updates_until"] = format::format_rfc3339(*claims.updates_until);
    if (claims.seats)
        json["seats"] = *claims.seats;
    if (!claims.meta.empty())
        json["meta"] = claims.meta;
    return json.dump();
}

keygen::LicenseClaims minimal_claims()
{
    keygen::LicenseClaims claims;
    claims.issuer = "Acme Inc.";
    claims.customer = "cus_0123456789abcdefghijkl";
    claims.license_id = "lic_ABCDEFGHIJKLMNOPQRSTUV";
    claims.product = "acme-pro";
    claims.issued_at = t0;
    return claims;
}

}

TEST_CASE("claims JSON: the same bytes as nlohmann's dump()")
{
    auto claims = minimal_claims();
    CHECK(keygen::claims_to_json(claims) == reference_json(claims));
    CHECK(keygen::claims_to_json(claims)
        == R"({"iss":"Acme Inc.","sub":"cus_0123456789abcdefghijkl","jti":"lic_ABCDEFGHIJKLMNOPQRSTUV",)"
           R"("iat":"2026-11-28T10:00:00Z","product":"acme-pro"})");

    claims.not_before = t0 - 60;
    claims.expires_at = t0 + 365 * 86400;
    claims.updates_until = t0 + 30 * 86400;
    claims.seats = 1000000000;
    claims.entitlements = { "sso", "audit-log" };
    claims.meta["order"] = "A-1001";
    claims.meta["channel"] = "web";
    // Every character class the writer treats differently: quotes, backslashes, the short
    // escapes, other control characters, DEL, '/', and 2-, 3- and 4-byte UTF-8.
    claims.name = "\"Doe\\ Jane\"\b\f\n\r\t\x01\x1f\x7f/ Zoë 東京 \xF0\x9F\x94\x91";
    claims.issuer = "Ac\"me";
    claims.meta["note \"x\""] = "tab\there, 日本";
    CHECK(keygen::claims_to_json(claims) == reference_json(claims));

    // Meta that is not all strings (only an API caller could build it) still comes out as JSON.
    claims.meta["count"] = 3;
    CHECK(keygen::claims_to_json(claims) == reference_json(claims));
}

TEST_CASE("claims read back from their JSON sign the same bytes: what a renewal starts from")
{
    auto claims = minimal_claims();
    auto round_trip = [](keygen::LicenseClaims const& original) {
        auto json = keygen::claims_to_json(original);
        auto read = keygen::claims_from_json(json);
        REQUIRE(read);
        CHECK(keygen::claims_to_json(*read) == json);
    };
    round_trip(claims);
    claims.not_before = t0 - 60;
    claims.expires_at = t0 + 365 * 86400;
    claims.updates_until = t0 + 30 * 86400;
    claims.seats = 5;
    claims.entitlements = { "sso", "audit-log" };
    claims.name = "Zoë \"meta\" 東京";
    round_trip(claims);
    claims.meta["order"] = "A-1001";
    claims.meta["channel"] = "web";
    round_trip(claims);
    auto bad = keygen::claims_from_json(R"({"iss":"x"})");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::internal);
}

TEST_CASE("a license with escaped claims verifies and reads back unchanged")
{
    auto key = *keygen::SigningKey::generate();
    auto claims = minimal_claims();
    claims.name = "Jane \"JD\" Doe\\\n東京 🔑";
    claims.entitlements = { "a\tb" };
    auto token = keygen::sign_license(key, claims).token;
    Verifier verifier("acme-pro");
    REQUIRE(verifier.add_key(key.paserk_public().c_str()) == CHARTER_OK);
    auto result = verifier.verify(token, t0);
    REQUIRE(result.valid());
    CHECK(result.license->name() == *claims.name);
    CHECK(result.license->entitlements() == std::vector<std::string_view> { "a\tb" });
}

TEST_CASE("UTF-8: well-formed text only")
{
    CHECK(charter::is_valid_utf8(""));
    CHECK(charter::is_valid_utf8("plain ASCII"));
    CHECK(charter::is_valid_utf8("Zoë 東京 \xF0\x9F\x94\x91 \xF4\x8F\xBF\xBF"));
    CHECK_FALSE(charter::is_valid_utf8("\xFF"));
    CHECK_FALSE(charter::is_valid_utf8("Latin-1 caf\xE9"));
    CHECK_FALSE(charter::is_valid_utf8("\xC3"));             // truncated
    CHECK_FALSE(charter::is_valid_utf8("\xC0\xAF"));         // overlong '/'
    CHECK_FALSE(charter::is_valid_utf8("\xE0\x80\xAF"));     // overlong
    CHECK_FALSE(charter::is_valid_utf8("\xED\xA0\x80"));     // a UTF-16 surrogate
    CHECK_FALSE(charter::is_valid_utf8("\xF4\x90\x80\x80")); // above U+10FFFF
    CHECK_FALSE(charter::is_valid_utf8("\x80"));             // a lone continuation byte

    // Never invalid JSON: an ill-formed byte that slipped through becomes U+FFFD.
    auto claims = minimal_claims();
    claims.name = "caf\xE9";
    auto json = keygen::claims_to_json(claims);
    CHECK(contains(json, "\"name\":\"caf\xEF\xBF\xBD\""));
    CHECK(nlohmann::json::accept(json));
}

TEST_CASE("new ids: prefix and 22 base62 characters, all different")
{
    std::set<std::string> ids;
    std::set<char> seen;
    for (int i = 0; i < 2000; ++i) {
        auto id = keygen::new_id("lic_");
        REQUIRE(id.size() == 26);
        REQUIRE(id.starts_with("lic_"));
        for (char c : id.substr(4)) {
            REQUIRE(((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')));
            seen.insert(c);
        }
        ids.insert(id);
    }
    CHECK(ids.size() == 2000);
    CHECK(seen.size() == 62); // 44,000 draws: every character turns up
}
