// libcharter-verify through its public C++ wrapper (and so its C ABI): round trips, every
// refusal with its own status, time checks with leeway, build time, revocation lists.

#include "charter/format/base64url.hpp"
#include "charter/format/claims.hpp"
#include "charter/format/rfc3339.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/verify.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>

using namespace charter;
using charter::testing::contains;

namespace {

constexpr int64_t t0 = 1795860000; // 2026-11-28T10:00:00Z
constexpr char const* product = "acme-pro";

struct Fixture {
    keygen::SigningKey key_a = *keygen::SigningKey::generate();
    keygen::SigningKey key_b = *keygen::SigningKey::generate();

    keygen::LicenseClaims claims(std::string product_id = product) const
    {
        keygen::LicenseClaims claims;
        claims.issuer = "Acme Inc.";
        claims.customer = "cus_0123456789abcdefghijkl";
        claims.license_id = "lic_ABCDEFGHIJKLMNOPQRSTUV";
        claims.product = std::move(product_id);
        claims.issued_at = t0;
        return claims;
    }

    Verifier verifier(std::string const& product_id = product) const
    {
        Verifier verifier(product_id.c_str());
        REQUIRE(verifier.add_key(key_a.paserk_public().c_str()) == CHARTER_OK);
        return verifier;
    }

    // Signs an arbitrary message exactly as Charter would, to test claim parsing.
    std::string sign_message(std::string const& message, std::string const& product_id = product) const
    {
        return keygen::sign_v4_public(key_a, message, format::make_footer(key_a.kid()), product_id);
    }
};

std::string message_with(std::string const& extra)
{
    return R"({"iss":"Acme","sub":"cus_1","jti":"lic_1","iat":"2026-11-28T10:00:00Z","product":"acme-pro")" + extra + "}";
}

}

TEST_CASE_METHOD(Fixture, "a signed license verifies and exposes its claims")
{
    auto claims = this->claims();
    claims.name = "Jane Doe";
    claims.entitlements = { "sso", "audit-log" };
    claims.seats = 25;
    claims.expires_at = t0 + 365 * 86400;
    claims.updates_until = t0 + 180 * 86400;
    claims.not_before = t0 - 10;
    claims.meta = { { "order", "A-1001" } };
    auto signed_license = keygen::sign_license(key_a, claims);

    auto result = verifier().verify(signed_license.token, t0);
    INFO(result.detail);
    REQUIRE(result.status == CHARTER_OK);
    REQUIRE(result.valid());
    REQUIRE(result.license);
    auto const& license = *result.license;
    CHECK(license.id() == "lic_ABCDEFGHIJKLMNOPQRSTUV");
    CHECK(license.customer() == "cus_0123456789abcdefghijkl");
    CHECK(license.issuer() == "Acme Inc.");
    CHECK(license.product() == "acme-pro");
    CHECK(license.name() == "Jane Doe");
    CHECK(license.kid() == key_a.kid());
    CHECK(license.issued_at() == t0);
    CHECK(license.not_before() == t0 - 10);
    CHECK(license.expires_at() == t0 + 365 * 86400);
    CHECK(license.updates_until() == t0 + 180 * 86400);
    CHECK(license.seats() == 25);
    CHECK(license.has_entitlement("sso"));
    CHECK(license.has_entitlement("audit-log"));
    CHECK_FALSE(license.has_entitlement("ss"));
    CHECK(license.entitlements().size() == 2);
    CHECK(license.claims_json() == signed_license.claims_json);
    CHECK(license.claims_json().find(R"("meta":{"order":"A-1001"})") != std::string_view::npos);
}

TEST_CASE_METHOD(Fixture, "optional claims are absent when not issued")
{
    auto result = verifier().verify(keygen::sign_license(key_a, claims()).token, t0);
    REQUIRE(result.valid());
    CHECK_FALSE(result.license->name());
    CHECK_FALSE(result.license->expires_at());
    CHECK_FALSE(result.license->not_before());
    CHECK_FALSE(result.license->updates_until());
    CHECK_FALSE(result.license->seats());
    CHECK(result.license->entitlements().empty());
    CHECK(charter_license_entitlement(result.license->get(), 0) == nullptr);
}

TEST_CASE_METHOD(Fixture, "every single-bit flip of a valid token is refused")
{
    auto token = keygen::sign_license(key_a, claims()).token;
    auto verifier = this->verifier();
    REQUIRE(verifier.verify(token, t0).valid());
    size_t refused = 0;
    for (size_t i = 0; i < token.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string altered = token;
            altered[i] = static_cast<char>(altered[i] ^ (1 << bit));
            auto result = verifier.verify(altered, t0);
            if (result.valid())
                FAIL("bit " << bit << " of byte " << i << " flipped still verifies");
            CHECK_FALSE(result.license);
            CHECK(result.status < 0);
            ++refused;
        }
    }
    CHECK(refused == token.size() * 8);
}

TEST_CASE_METHOD(Fixture, "a key for one product never verifies for another")
{
    auto token = keygen::sign_license(key_a, claims("acme-pro")).token;
    auto result = verifier("acme-basic").verify(token, t0);
    // Genuine, for another product: said so, not taken for an altered key.
    CHECK(result.status == CHARTER_E_WRONG_PRODUCT);
    CHECK(contains(result.detail, "is for product \"acme-pro\", not \"acme-basic\""));
    // Altered and claiming another product: altered.
    std::string altered = token;
    altered[30] = altered[30] == 'A' ? 'B' : 'A';
    CHECK(verifier("acme-basic").verify(altered, t0).status == CHARTER_E_BAD_SIGNATURE);

    // Even a token signed for the right product but claiming another is refused.
    auto mismatched = sign_message(message_with("").replace(message_with("").find("acme-pro"), 8, "acme-xxx"));
    auto mismatch = verifier().verify(mismatched, t0);
    CHECK(mismatch.status == CHARTER_E_WRONG_PRODUCT);
    CHECK(contains(mismatch.detail, "acme-xxx"));
}

TEST_CASE_METHOD(Fixture, "key selection by kid")
{
    auto signed_by_b = keygen::sign_license(key_b, claims()).token;
    SECTION("a kid that is not trusted is an unknown key")
    {
        auto result = verifier().verify(signed_by_b, t0);
        CHECK(result.status == CHARTER_E_UNKNOWN_KEY);
        CHECK(contains(result.detail, key_b.kid()));
    }
    SECTION("several trusted keys: each verifies its own tokens (rotation)")
    {
        auto verifier = this->verifier();
        REQUIRE(verifier.add_key(key_b.paserk_public().c_str()) == CHARTER_OK);
        CHECK(verifier.verify(signed_by_b, t0).valid());
        CHECK(verifier.verify(keygen::sign_license(key_a, claims()).token, t0).valid());
    }
    SECTION("a footer naming key A on a token signed by key B fails the signature")
    {
        auto message = keygen::claims_to_json(claims());
        auto forged = keygen::sign_v4_public(key_b, message, format::make_footer(key_a.kid()), product);
        CHECK(verifier().verify(forged, t0).status == CHARTER_E_BAD_SIGNATURE);
    }
    SECTION("without a footer every trusted key is tried")
    {
        auto message = keygen::claims_to_json(claims());
        auto no_footer = keygen::sign_v4_public(key_a, message, "", product);
        auto verifier = Verifier(product);
        REQUIRE(verifier.add_key(key_b.paserk_public().c_str()) == CHARTER_OK);
        REQUIRE(verifier.add_key(key_a.paserk_public().c_str()) == CHARTER_OK);
        auto result = verifier.verify(no_footer, t0);
        CHECK(result.valid());
        CHECK(result.license->kid() == key_a.kid());
        auto untrusted = keygen::sign_v4_public(*keygen::SigningKey::generate(), message, "", product);
        CHECK(verifier.verify(untrusted, t0).status == CHARTER_E_BAD_SIGNATURE);
    }
    SECTION("a verifier with no key refuses everything")
    {
        Verifier empty(product);
        CHECK(empty.verify(signed_by_b, t0).status == CHARTER_E_NO_KEYS);
    }
    SECTION("footers that are not {\"kid\":\"k4.pid…\"}")
    {
        auto message = keygen::claims_to_json(claims());
        for (auto const* footer : { "not json", "[]", "{}", R"({"kid":42})", R"({"kid":"k4.lid.abc"})",
                 R"({"kid":"a","kid":"b"})" }) {
            INFO(footer);
            auto token = keygen::sign_v4_public(key_a, message, footer, product);
            CHECK(verifier().verify(token, t0).status == CHARTER_E_BAD_FOOTER);
        }
    }
}

TEST_CASE_METHOD(Fixture, "bad public keys are refused when configured")
{
    Verifier verifier(product);
    CHECK(verifier.add_key("") == CHARTER_E_BAD_KEY);
    CHECK(verifier.add_key("k4.secret.AAAA") == CHARTER_E_BAD_KEY);
    CHECK(verifier.add_key(key_a.paserk_secret().c_str()) == CHARTER_E_BAD_KEY);
    CHECK(verifier.add_key((key_a.paserk_public() + "A").c_str()) == CHARTER_E_BAD_KEY);
    CHECK(verifier.add_key(key_a.paserk_public().c_str()) == CHARTER_OK);
    CHECK(verifier.add_key(key_a.paserk_public().c_str()) == CHARTER_OK); // idempotent
    CHECK(charter_verifier_add_key(nullptr, "x") == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_verifier_add_key(const_cast<charter_verifier*>(verifier.get()), nullptr) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_verifier_new("") == nullptr);
    CHECK(charter_verifier_new(nullptr) == nullptr);
}

TEST_CASE_METHOD(Fixture, "expiry, not-before and leeway edges")
{
    auto claims = this->claims();
    claims.not_before = t0 + 100;
    claims.expires_at = t0 + 1000;
    auto token = keygen::sign_license(key_a, claims).token;
    auto verifier = this->verifier();

    CHECK(verifier.verify(token, t0 + 99).status == CHARTER_E_NOT_YET_VALID);
    CHECK(verifier.verify(token, t0 + 100).valid());
    CHECK(verifier.verify(token, t0 + 1000).valid());
    auto expired = verifier.verify(token, t0 + 1001);
    CHECK(expired.status == CHARTER_E_EXPIRED);
    CHECK(expired.detail == "license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro expired on 2026-11-28T10:16:40Z");
    REQUIRE(expired.license); // the caller may explain the refusal
    CHECK(expired.license->expires_at() == t0 + 1000);

    REQUIRE(verifier.set_leeway(60) == CHARTER_OK);
    CHECK(verifier.verify(token, t0 + 40).valid());
    CHECK(verifier.verify(token, t0 + 39).status == CHARTER_E_NOT_YET_VALID);
    CHECK(verifier.verify(token, t0 + 1060).valid());
    CHECK(verifier.verify(token, t0 + 1061).status == CHARTER_E_EXPIRED);
    CHECK(verifier.set_leeway(-1) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(verifier.set_leeway(int64_t(86400) * 366) == CHARTER_E_INVALID_ARGUMENT);
}

TEST_CASE_METHOD(Fixture, "updates_until against the build time")
{
    auto claims = this->claims();
    claims.updates_until = t0 + 1000;
    auto token = keygen::sign_license(key_a, claims).token;
    auto verifier = this->verifier();
    CHECK(verifier.verify(token, t0 + 5000).valid()); // no build time: not checked
    REQUIRE(verifier.set_build_time(t0 + 1000) == CHARTER_OK);
    CHECK(verifier.verify(token, t0 + 5000).valid());
    REQUIRE(verifier.set_build_time(t0 + 1001) == CHARTER_OK);
    auto result = verifier.verify(token, t0 + 5000);
    CHECK(result.status == CHARTER_E_UPDATES_ENDED);
    CHECK(contains(result.detail, "covers releases up to 2026-11-28T10:16:40Z"));
    CHECK(verifier.verify(keygen::sign_license(key_a, this->claims()).token, t0).valid()); // no updates_until
}

TEST_CASE_METHOD(Fixture, "revocation lists")
{
    auto token = keygen::sign_license(key_a, claims()).token;
    auto verifier = this->verifier();
    std::string detail;
    auto list = keygen::sign_revocation_list(key_a, "Acme Inc.", product, t0, { "lic_other", "lic_ABCDEFGHIJKLMNOPQRSTUV" });
    REQUIRE(verifier.set_revocation_list(list, &detail) == CHARTER_OK);
    auto result = verifier.verify(token, t0);
    CHECK(result.status == CHARTER_E_REVOKED);
    CHECK(contains(result.detail, "has been revoked"));

    SECTION("a list not listing the license leaves it valid")
    {
        auto other = keygen::sign_revocation_list(key_a, "Acme Inc.", product, t0, { "lic_other" });
        REQUIRE(verifier.set_revocation_list(other) == CHARTER_OK);
        CHECK(verifier.verify(token, t0).valid());
    }
    SECTION("a list signed by an untrusted key, for another product, or altered is refused and the old one stays")
    {
        auto untrusted = keygen::sign_revocation_list(key_b, "Acme Inc.", product, t0, {});
        CHECK(verifier.set_revocation_list(untrusted, &detail) == CHARTER_E_BAD_REVOCATION_LIST);
        CHECK(contains(detail, "not a trusted key"));
        auto other_product = keygen::sign_revocation_list(key_a, "Acme Inc.", "acme-basic", t0, {});
        CHECK(verifier.set_revocation_list(other_product, &detail) == CHARTER_E_BAD_REVOCATION_LIST);
        // A license key is not a revocation list: the implicit assertion differs.
        CHECK(verifier.set_revocation_list(token, &detail) == CHARTER_E_BAD_REVOCATION_LIST);
        CHECK(verifier.set_revocation_list("garbage", &detail) == CHARTER_E_BAD_REVOCATION_LIST);
        auto bad_body = keygen::sign_v4_public(key_a, R"({"iss":"x","iat":"2026-11-28T10:00:00Z","product":"acme-pro","revoked":[1]})",
            format::make_footer(key_a.kid()), "charter-revocations:acme-pro");
        CHECK(verifier.set_revocation_list(bad_body, &detail) == CHARTER_E_BAD_REVOCATION_LIST);
        CHECK(contains(detail, "\"revoked\""));
        CHECK(verifier.verify(token, t0).status == CHARTER_E_REVOKED);
    }
    SECTION("a list far longer than a license key is accepted up to CHARTER_MAX_REVOCATION_LIST_SIZE")
    {
        auto ids = [](size_t count, std::string const& last) {
            std::vector<std::string> revoked;
            char id[40];
            for (size_t i = 0; i < count; ++i) {
                std::snprintf(id, sizeof id, "lic_%026zu", i);
                revoked.emplace_back(id);
            }
            revoked.push_back(last);
            return revoked;
        };
        auto claims_of_token = claims();
        auto long_list = keygen::sign_revocation_list(key_a, "Acme Inc.", product, t0, ids(10000, "lic_other"));
        REQUIRE(long_list.size() > 20 * CHARTER_MAX_TOKEN_SIZE);
        REQUIRE(verifier.set_revocation_list(long_list, &detail) == CHARTER_OK);
        CHECK(verifier.verify(token, t0).valid());
        auto listing_it = keygen::sign_revocation_list(key_a, "Acme Inc.", product, t0, ids(10000, claims_of_token.license_id));
        REQUIRE(verifier.set_revocation_list(listing_it, &detail) == CHARTER_OK);
        CHECK(verifier.verify(token, t0).status == CHARTER_E_REVOKED);

        auto too_long = keygen::sign_revocation_list(key_a, "Acme Inc.", product, t0, ids(25000, "lic_other"));
        REQUIRE(too_long.size() > CHARTER_MAX_REVOCATION_LIST_SIZE);
        CHECK(verifier.set_revocation_list(too_long, &detail) == CHARTER_E_BAD_REVOCATION_LIST);
        CHECK(contains(detail, "the limit is " + std::to_string(CHARTER_MAX_REVOCATION_LIST_SIZE)));
        CHECK(verifier.verify(token, t0).status == CHARTER_E_REVOKED); // the list before stays
    }
    SECTION("a revocation file holds one list per line; the first valid one is used")
    {
        auto revoking = [&](keygen::SigningKey const& key, std::vector<std::string> ids) {
            return keygen::sign_revocation_list(key, "Acme Inc.", product, t0, std::move(ids));
        };
        std::string id = claims().license_id;
        // The file exported after a rotation to key_b: key_b's list first, then key_a's. This
        // verifier trusts only key_a, as a build made before the rotation does.
        auto file = revoking(key_b, { "lic_other" }) + "\n" + revoking(key_a, { id }) + "\n";
        auto old_build = this->verifier();
        REQUIRE(old_build.set_revocation_list(file, &detail) == CHARTER_OK);
        CHECK(old_build.verify(token, t0).status == CHARTER_E_REVOKED);
        // CRLF line ends and blank lines are fine.
        auto crlf = "\r\n" + revoking(key_b, { "lic_other" }) + "\r\n\r\n" + revoking(key_a, { "lic_other" }) + "\r\n";
        REQUIRE(old_build.set_revocation_list(crlf, &detail) == CHARTER_OK);
        CHECK(old_build.verify(token, t0).valid());
        // The first valid list wins, even when a later one lists the license.
        REQUIRE(verifier.set_revocation_list(revoking(key_a, { "lic_other" }) + "\n" + revoking(key_a, { id }), &detail) == CHARTER_OK);
        CHECK(verifier.verify(token, t0).valid());
        // No line valid: refused, each line's reason given, the list before stays.
        CHECK(old_build.set_revocation_list(revoking(key_b, { id }) + "\ngarbage\n", &detail) == CHARTER_E_BAD_REVOCATION_LIST);
        CHECK(contains(detail, "none of its 2 lists is valid for this build (line 1: "));
        CHECK(contains(detail, "; line 2: "));
        CHECK(old_build.verify(token, t0).valid());
        CHECK(old_build.set_revocation_list("\n\r\n", &detail) == CHARTER_E_BAD_REVOCATION_LIST);
        CHECK(detail == "revocation list rejected: it is empty");
        // At most CHARTER_MAX_REVOCATION_LISTS lines, and CHARTER_MAX_REVOCATION_FILE_SIZE bytes.
        std::string many;
        for (int i = 0; i < CHARTER_MAX_REVOCATION_LISTS; ++i)
            many += revoking(key_a, { id }) + "\n";
        REQUIRE(old_build.set_revocation_list(many, &detail) == CHARTER_OK);
        many += revoking(key_a, { id });
        CHECK(old_build.set_revocation_list(many, &detail) == CHARTER_E_BAD_REVOCATION_LIST);
        CHECK(contains(detail, "holds 17 lists; the limit is 16"));
        std::string huge(CHARTER_MAX_REVOCATION_FILE_SIZE + 1, '\n');
        CHECK(old_build.set_revocation_list(huge, &detail) == CHARTER_E_BAD_REVOCATION_LIST);
        CHECK(contains(detail, "the limit is " + std::to_string(CHARTER_MAX_REVOCATION_FILE_SIZE)));
    }
}

TEST_CASE_METHOD(Fixture, "malformed tokens each get their own status")
{
    auto token = keygen::sign_license(key_a, claims()).token;
    auto verifier = this->verifier();
    auto status_of = [&](std::string const& text) { return verifier.verify(text, t0).status; };
    auto dot = token.rfind('.');

    CHECK(status_of("") == CHARTER_E_MALFORMED);
    CHECK(status_of("v4.local." + token.substr(10)) == CHARTER_E_MALFORMED);
    CHECK(status_of("v3.public." + token.substr(10)) == CHARTER_E_MALFORMED);
    CHECK(status_of("V4.PUBLIC." + token.substr(10)) == CHARTER_E_MALFORMED);
    CHECK(status_of("v4.public.") == CHARTER_E_MALFORMED);
    CHECK(status_of("v4.public.AAAA") == CHARTER_E_MALFORMED);                 // shorter than a signature
    CHECK(status_of(token + ".extra") == CHARTER_E_MALFORMED);
    CHECK(status_of(token.substr(0, dot + 1)) == CHARTER_E_MALFORMED);        // empty footer after the dot
    CHECK(status_of(token.substr(0, dot) + "=" + token.substr(dot)) == CHARTER_E_BAD_ENCODING);
    CHECK(status_of(token + "=") == CHARTER_E_BAD_ENCODING);
    CHECK(status_of(token.substr(0, 20) + "+" + token.substr(21)) == CHARTER_E_BAD_ENCODING);
    CHECK(status_of(token.substr(0, 20) + " " + token.substr(21)) == CHARTER_E_BAD_ENCODING);
    CHECK(status_of(token.substr(0, 20) + std::string(1, '\0') + token.substr(21)) == CHARTER_E_BAD_ENCODING);
    CHECK(status_of(token.substr(0, dot - 1)) != CHARTER_OK);                  // truncated
    CHECK(status_of(token.substr(0, dot - 5)) != CHARTER_OK);
    CHECK(status_of(std::string(CHARTER_MAX_TOKEN_SIZE + 1, 'A')) == CHARTER_E_TOO_LARGE);
    CHECK(status_of(token + std::string(CHARTER_MAX_TOKEN_SIZE, 'A')) == CHARTER_E_TOO_LARGE);
}

TEST_CASE_METHOD(Fixture, "non-canonical trailing bits in the payload are refused")
{
    auto token = keygen::sign_license(key_a, claims()).token;
    auto dot = token.rfind('.');
    std::string payload = token.substr(10, dot - 10);
    // With a payload length not a multiple of 3 the last character has unused bits.
    if (payload.size() % 4 != 0) {
        char& last = payload.back();
        char const* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int index = int(std::strchr(alphabet, last) - alphabet);
        last = alphabet[index | 1];
        if (alphabet[index] != last) {
            auto result = verifier().verify("v4.public." + payload + token.substr(dot), t0);
            CHECK(result.status == CHARTER_E_BAD_ENCODING);
        }
    }
}

TEST_CASE_METHOD(Fixture, "claims that are not what a license must be")
{
    auto verifier = this->verifier();
    auto status_of = [&](std::string const& message) {
        auto result = verifier.verify(sign_message(message), t0);
        INFO(message << " -> " << result.detail);
        CHECK_FALSE(result.license);
        return result.status;
    };
    CHECK(status_of("not json") == CHARTER_E_BAD_CLAIMS);
    CHECK(status_of("") == CHARTER_E_BAD_CLAIMS);
    CHECK(status_of("[1,2]") == CHARTER_E_BAD_CLAIMS);
    CHECK(status_of("\"text\"") == CHARTER_E_BAD_CLAIMS);
    CHECK(status_of(message_with("") + " {}") == CHARTER_E_BAD_CLAIMS);
    CHECK(status_of(message_with(R"(,"jti":"lic_2")")) == CHARTER_E_BAD_CLAIMS);            // duplicate key
    CHECK(status_of(message_with(R"(,"meta":{"a":1,"a":2})")) == CHARTER_E_BAD_CLAIMS);    // nested duplicate
    CHECK(status_of(message_with(R"(,"meta":)" + std::string(40, '[') + std::string(40, ']'))) == CHARTER_E_BAD_CLAIMS);
    CHECK(status_of(message_with(",\"name\":\"\xff\xfe\"")) == CHARTER_E_BAD_CLAIMS);       // invalid UTF-8
    CHECK(status_of(R"({"iss":"Acme","sub":"cus_1","iat":"2026-11-28T10:00:00Z","product":"acme-pro"})") == CHARTER_E_MISSING_CLAIM);
    CHECK(status_of(R"({"sub":"cus_1","jti":"lic_1","iat":"2026-11-28T10:00:00Z","product":"acme-pro"})") == CHARTER_E_MISSING_CLAIM);
    CHECK(status_of(R"({"iss":"Acme","sub":"cus_1","jti":"lic_1","product":"acme-pro"})") == CHARTER_E_MISSING_CLAIM);
    CHECK(status_of(R"({"iss":"Acme","sub":"cus_1","jti":"lic_1","iat":"2026-11-28T10:00:00Z"})") == CHARTER_E_MISSING_CLAIM);
    CHECK(status_of(R"({"iss":"Acme","sub":1,"jti":"lic_1","iat":"2026-11-28T10:00:00Z","product":"acme-pro"})") == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(R"({"iss":"Acme","sub":"cus_1","jti":"lic_1","iat":1795860000,"product":"acme-pro"})") == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"exp":"2026-02-30T00:00:00Z")")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"exp":"tomorrow")")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"nbf":true)")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"updates_until":null)")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"seats":-1)")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"seats":2.5)")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"seats":"5")")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"seats":18446744073709551615)")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"entitlements":"sso")")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"entitlements":["sso",1])")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"entitlements":[["sso"]])")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"name":["x"])")) == CHARTER_E_WRONG_CLAIM_TYPE);
    CHECK(status_of(message_with(R"(,"meta":"x")")) == CHARTER_E_WRONG_CLAIM_TYPE);

    // Unknown claims are allowed (forward compatibility) and meta may nest.
    auto ok = verifier.verify(sign_message(message_with(R"(,"future":{"x":[1,{"y":null}]},"meta":{"a":{"b":[1,2]}})")), t0);
    CHECK(ok.valid());
}

// The strict JSON reader's nesting limit (docs/security.md: at most 16 levels, the top object
// being the first), at the limit and one past it, in the claims and in the footer.
TEST_CASE_METHOD(Fixture, "JSON nested 16 levels is accepted, 17 refused, in the claims and the footer")
{
    auto arrays = [](int levels) { return std::string(size_t(levels), '[') + std::string(size_t(levels), ']'); };
    auto objects = [](int levels) {
        std::string json = "{}";
        for (int level = 1; level < levels; ++level)
            json = "{\"a\":" + json + "}";
        return json;
    };
    auto verifier = this->verifier();
    for (int levels : { 16, 17 }) {
        INFO(levels << " levels");
        bool accepted = levels == 16;
        // The top object is the first level; the value inside it has the others.
        for (auto const& extra : { ",\"x\":" + arrays(levels - 1), ",\"meta\":" + objects(levels - 1) }) {
            auto result = verifier.verify(sign_message(message_with(extra)), t0);
            INFO(result.detail);
            CHECK(result.valid() == accepted);
            if (!accepted) {
                CHECK(result.status == CHARTER_E_BAD_CLAIMS);
                CHECK(contains(result.detail, "nested deeper than 16 levels"));
            }
        }
        auto footer = "{\"kid\":\"" + key_a.kid() + "\",\"x\":" + arrays(levels - 1) + "}";
        auto result = verifier.verify(keygen::sign_v4_public(key_a, keygen::claims_to_json(claims()), footer, product), t0);
        INFO(result.detail);
        CHECK(result.status == (accepted ? CHARTER_OK : CHARTER_E_BAD_FOOTER));
    }
}

TEST_CASE("status strings are stable and never null")
{
    for (int status = 0; status >= CHARTER_E_INTERNAL; --status)
        CHECK(std::strcmp(charter_status_string(status), "unknown status") != 0);
    CHECK(std::string(charter_status_string(-999)) == "unknown status");
    CHECK(std::string(charter_status_string(CHARTER_E_EXPIRED)) == "license has expired");
    CHECK(std::string(charter_version()) == CHARTER_VERSION_STRING);
}

TEST_CASE_METHOD(Fixture, "the C ABI tolerates NULLs and tiny detail buffers")
{
    auto verifier = this->verifier();
    charter_license* license = reinterpret_cast<charter_license*>(0x1);
    CHECK(charter_verify(nullptr, "x", 1, t0, &license, nullptr, 0) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(license == nullptr);
    CHECK(charter_verify(verifier.get(), nullptr, 0, t0, nullptr, nullptr, 0) == CHARTER_E_INVALID_ARGUMENT);
    char tiny[8];
    CHECK(charter_verify(verifier.get(), "v4.public.x", 11, t0, nullptr, tiny, sizeof tiny) == CHARTER_E_BAD_ENCODING);
    CHECK(std::strlen(tiny) == 7);
    charter_license_free(nullptr);
    charter_verifier_free(nullptr);
    CHECK(charter_license_id(nullptr) == nullptr);
    CHECK(charter_license_has_entitlement(nullptr, "x") == 0);
}
