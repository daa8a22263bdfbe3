// charter_verify_activation through the C++ wrapper (and so the C ABI): an activation token is
// valid for its product, this machine's fingerprint and until its lease end (with leeway); every
// other token is refused with its own status, in the documented order.

#include "charter/verify.hpp"
#include "support/activation_tokens.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace charter;
using charter::testing::ActivationFields;
using charter::testing::contains;
using charter::testing::sign_activation;
using charter::testing::sign_activation_message;

namespace {

constexpr int64_t t0 = 1795860000; // 2026-11-28T10:00:00Z
constexpr int64_t lease_end = t0 + 900;

struct Fixture {
    keygen::SigningKey key = *keygen::SigningKey::generate();
    keygen::SigningKey other_key = *keygen::SigningKey::generate();

    Verifier verifier(char const* product = "acme-pro") const
    {
        Verifier verifier(product);
        REQUIRE(verifier.add_key(key.paserk_public().c_str()) == CHARTER_OK);
        return verifier;
    }
};

std::string message_without(std::string const& claim)
{
    auto claims = nlohmann::ordered_json::parse(charter::testing::activation_message(ActivationFields {}));
    claims.erase(claim);
    return claims.dump();
}

std::string message_with(std::string const& claim, nlohmann::ordered_json value)
{
    auto claims = nlohmann::ordered_json::parse(charter::testing::activation_message(ActivationFields {}));
    claims[claim] = std::move(value);
    return claims.dump();
}

}

TEST_CASE_METHOD(Fixture, "a valid activation token verifies and exposes its claims")
{
    auto token = sign_activation(key, ActivationFields {});
    auto result = verifier().verify_activation(token, "machine-1", t0 + 60);
    REQUIRE(result.status == CHARTER_OK);
    CHECK(result.detail.empty());
    REQUIRE(result.activation);
    auto const& activation = *result.activation;
    CHECK(activation.id() == "act_TESTACTIVATION000000001");
    CHECK(activation.license_id() == "lic_TESTLICENSE0000000000001");
    CHECK(activation.issuer() == "Acme Inc.");
    CHECK(activation.product() == "acme-pro");
    CHECK(activation.fingerprint() == charter::testing::fingerprint_sha256("machine-1"));
    CHECK(activation.kid() == key.kid());
    CHECK(activation.seat() == 1);
    CHECK(activation.issued_at() == t0);
    CHECK(activation.lease_ends_at() == lease_end);
    CHECK_FALSE(activation.node_locked());
    CHECK(activation.claims_json() == charter::testing::activation_message(ActivationFields {}));
}

TEST_CASE_METHOD(Fixture, "the lease end, with and without leeway, at its exact boundary")
{
    auto token = sign_activation(key, ActivationFields {});
    auto v = verifier();
    CHECK(v.verify_activation(token, "machine-1", lease_end).status == CHARTER_OK);
    auto ended = v.verify_activation(token, "machine-1", lease_end + 1);
    CHECK(ended.status == CHARTER_E_LEASE_EXPIRED);
    CHECK(ended.detail
        == "the lease of activation act_TESTACTIVATION000000001 of license lic_TESTLICENSE0000000000001 ended at "
           "2026-11-28T10:15:00Z; renew it with a heartbeat or activate again");
    REQUIRE(ended.activation); // explained: the claims are there, the status refuses
    CHECK(ended.activation->lease_ends_at() == lease_end);
    CHECK(std::string(ended.status_string()) == "activation lease has ended");

    CHECK(v.verify_activation(token, "machine-1", lease_end + 30, 30).status == CHARTER_OK);
    CHECK(v.verify_activation(token, "machine-1", lease_end + 31, 30).status == CHARTER_E_LEASE_EXPIRED);
    // The verifier's own leeway (for licenses) is not the lease's.
    REQUIRE(v.set_leeway(86400) == CHARTER_OK);
    CHECK(v.verify_activation(token, "machine-1", lease_end + 1).status == CHARTER_E_LEASE_EXPIRED);
}

TEST_CASE_METHOD(Fixture, "a node-locked activation (no exp) never expires")
{
    ActivationFields fields;
    fields.lease_ends_at = std::nullopt;
    fields.seat = 7;
    auto result = verifier().verify_activation(sign_activation(key, fields), "machine-1", t0 + 100 * 365 * 86400LL);
    REQUIRE(result.status == CHARTER_OK);
    CHECK(result.activation->node_locked());
    CHECK(result.activation->seat() == 7);
    int64_t ignored = 0;
    CHECK(charter_activation_lease_ends_at(result.activation->get(), &ignored) == 0);
}

TEST_CASE_METHOD(Fixture, "another machine's token is refused with its own status")
{
    auto token = sign_activation(key, ActivationFields {});
    auto result = verifier().verify_activation(token, "machine-2", t0);
    CHECK(result.status == CHARTER_E_WRONG_MACHINE);
    CHECK(result.detail
        == "activation act_TESTACTIVATION000000001 of license lic_TESTLICENSE0000000000001 belongs to another machine (its "
           "fingerprint differs from this machine's); activate this machine");
    CHECK(std::string(result.status_string()) == "activation is for another machine");
    REQUIRE(result.activation);
    // The fingerprint is compared as bytes: a prefix, a trailing newline, another case all differ.
    CHECK(verifier().verify_activation(token, "machine-", t0).status == CHARTER_E_WRONG_MACHINE);
    CHECK(verifier().verify_activation(token, "machine-1\n", t0).status == CHARTER_E_WRONG_MACHINE);
    CHECK(verifier().verify_activation(token, "MACHINE-1", t0).status == CHARTER_E_WRONG_MACHINE);
    // Another machine and an ended lease: the machine is reported first.
    CHECK(verifier().verify_activation(token, "machine-2", lease_end + 1).status == CHARTER_E_WRONG_MACHINE);
}

TEST_CASE_METHOD(Fixture, "another product's token is refused, also when its claims are edited to match")
{
    ActivationFields basic;
    basic.product = "acme-basic";
    auto result = verifier().verify_activation(sign_activation(key, basic), "machine-1", t0);
    CHECK(result.status == CHARTER_E_WRONG_PRODUCT);
    CHECK(result.detail == "activation act_TESTACTIVATION000000001 is for product \"acme-basic\", not \"acme-pro\"");
    CHECK_FALSE(result.activation);
    // Signed for acme-basic but claiming acme-pro: the signature does not hold for acme-pro.
    auto relabelled = sign_activation_message(key, charter::testing::activation_message(ActivationFields {}), "acme-basic");
    CHECK(verifier().verify_activation(relabelled, "machine-1", t0).status == CHARTER_E_BAD_SIGNATURE);
    // Signed for acme-pro, claiming acme-basic.
    CHECK(verifier().verify_activation(sign_activation_message(key, charter::testing::activation_message(basic)), "machine-1", t0).status
        == CHARTER_E_WRONG_PRODUCT);
}

TEST_CASE_METHOD(Fixture, "a license key is never an activation token, nor the reverse")
{
    keygen::LicenseClaims claims;
    claims.issuer = "Acme Inc.";
    claims.customer = "cus_1";
    claims.license_id = "lic_1";
    claims.product = "acme-pro";
    claims.issued_at = t0;
    auto license = keygen::sign_license(key, claims).token;
    CHECK(verifier().verify_activation(license, "machine-1", t0).status == CHARTER_E_BAD_SIGNATURE);
    auto activation = sign_activation(key, ActivationFields {});
    CHECK(verifier().verify(activation, t0).status == CHARTER_E_BAD_SIGNATURE);
}

TEST_CASE_METHOD(Fixture, "every single-bit flip of an activation token is refused")
{
    auto token = sign_activation(key, ActivationFields {});
    auto v = verifier();
    for (size_t i = 0; i < token.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string altered = token;
            altered[i] = static_cast<char>(altered[i] ^ (1 << bit));
            auto result = v.verify_activation(altered, "machine-1", t0);
            INFO("byte " << i << " bit " << bit);
            REQUIRE(result.status != CHARTER_OK);
        }
    }
    std::string altered = token;
    altered[30] = altered[30] == 'A' ? 'B' : 'A';
    auto result = v.verify_activation(altered, "machine-1", t0);
    CHECK(result.status == CHARTER_E_BAD_SIGNATURE);
    CHECK(result.detail == "activation token signature does not verify for product \"acme-pro\" (the token was altered)");
}

TEST_CASE_METHOD(Fixture, "keys: an unknown kid, no footer and no trusted key fail closed")
{
    auto unknown = verifier().verify_activation(sign_activation(other_key, ActivationFields {}), "machine-1", t0);
    CHECK(unknown.status == CHARTER_E_UNKNOWN_KEY);
    CHECK(unknown.detail == "activation token was signed by " + other_key.kid() + ", which is not a trusted key");
    CHECK_FALSE(unknown.activation);

    // Without a footer no key is tried, not even the one that signed it.
    auto token = sign_activation(key, ActivationFields {});
    auto without_footer = token.substr(0, token.rfind('.'));
    auto no_footer = verifier().verify_activation(without_footer, "machine-1", t0);
    CHECK(no_footer.status == CHARTER_E_BAD_FOOTER);
    CHECK(no_footer.detail == "activation token has no footer naming the key that signed it");

    Verifier empty("acme-pro");
    CHECK(empty.verify_activation(token, "machine-1", t0).status == CHARTER_E_NO_KEYS);

    // Several trusted keys: the footer picks the right one.
    auto both = verifier();
    REQUIRE(both.add_key(other_key.paserk_public().c_str()) == CHARTER_OK);
    CHECK(both.verify_activation(sign_activation(other_key, ActivationFields {}), "machine-1", t0).status == CHARTER_OK);
}

TEST_CASE_METHOD(Fixture, "missing and mistyped claims")
{
    auto v = verifier();
    for (char const* claim : { "iss", "jti", "license", "product", "fingerprint", "seat", "iat" }) {
        auto result = v.verify_activation(sign_activation_message(key, message_without(claim)), "machine-1", t0);
        INFO(claim);
        CHECK(result.status == CHARTER_E_MISSING_CLAIM);
        CHECK(result.detail == std::string("activation token: required claim \"") + claim + "\" is missing");
        CHECK_FALSE(result.activation);
    }
    struct Mistyped {
        char const* claim;
        nlohmann::ordered_json value;
        char const* detail;
    };
    Mistyped const cases[] = {
        { "seat", "1", "claim \"seat\" must be an integer of at least 1, not a string" },
        { "seat", 0, "claim \"seat\" must be at least 1, not 0" },
        { "seat", -3, "claim \"seat\" must be at least 1, not -3" },
        { "seat", 1.5, "claim \"seat\" must be an integer of at least 1, not a number" },
        { "jti", 12, "claim \"jti\" must be a string, not an integer" },
        { "license", nullptr, "claim \"license\" must be a string, not null" },
        { "fingerprint", std::string(64, 'A'), "claim \"fingerprint\" must be a SHA-256 hash in 64 lowercase hexadecimal digits" },
        { "fingerprint", std::string(63, 'a'), "claim \"fingerprint\" must be a SHA-256 hash in 64 lowercase hexadecimal digits" },
        { "fingerprint", "machine-1", "claim \"fingerprint\" must be a SHA-256 hash in 64 lowercase hexadecimal digits" },
        { "exp", 1795860900, "claim \"exp\" must be an RFC 3339 time string, not an integer" },
        { "exp", "2026-11-28 10:15:00", "claim \"exp\" is not an RFC 3339 time: \"2026-11-28 10:15:00\"" },
        { "iat", true, "claim \"iat\" must be an RFC 3339 time string, not a boolean" },
    };
    for (auto const& c : cases) {
        auto result = v.verify_activation(sign_activation_message(key, message_with(c.claim, c.value)), "machine-1", t0);
        INFO(c.claim << " = " << c.value.dump());
        CHECK(result.status == CHARTER_E_WRONG_CLAIM_TYPE);
        CHECK(result.detail == std::string("activation token: ") + c.detail);
    }
    auto not_object = v.verify_activation(sign_activation_message(key, "[1,2]"), "machine-1", t0);
    CHECK(not_object.status == CHARTER_E_BAD_CLAIMS);
    auto duplicate = v.verify_activation(
        sign_activation_message(key, message_with("seat", 2).substr(0, message_with("seat", 2).size() - 1) + ",\"seat\":3}"),
        "machine-1", t0);
    CHECK(duplicate.status == CHARTER_E_BAD_CLAIMS);
    // Unknown claims are ignored, as in licenses.
    CHECK(v.verify_activation(sign_activation_message(key, message_with("label", "build-7")), "machine-1", t0).status == CHARTER_OK);
}

TEST_CASE_METHOD(Fixture, "malformed tokens and bad arguments")
{
    auto v = verifier();
    CHECK(v.verify_activation("", "machine-1", t0).status == CHARTER_E_MALFORMED);
    CHECK(v.verify_activation("v4.public.AAAA", "machine-1", t0).status == CHARTER_E_MALFORMED);
    auto too_large = v.verify_activation(std::string(CHARTER_MAX_TOKEN_SIZE + 1, 'a'), "machine-1", t0);
    CHECK(too_large.status == CHARTER_E_TOO_LARGE);
    CHECK(too_large.detail == "activation token is 16385 bytes; the limit is 16384");
    auto token = sign_activation(key, ActivationFields {});
    CHECK(v.verify_activation(token + "=", "machine-1", t0).status == CHARTER_E_BAD_ENCODING);

    auto no_fingerprint = v.verify_activation(token, "", t0);
    CHECK(no_fingerprint.status == CHARTER_E_INVALID_ARGUMENT);
    CHECK(no_fingerprint.detail == "the fingerprint must be 1 to 256 bytes");
    ActivationFields long_fingerprint;
    long_fingerprint.fingerprint = std::string(256, 'f');
    CHECK(v.verify_activation(sign_activation(key, long_fingerprint), std::string(256, 'f'), t0).status == CHARTER_OK);
    CHECK(v.verify_activation(token, std::string(257, 'f'), t0).status == CHARTER_E_INVALID_ARGUMENT);
    CHECK(v.verify_activation(token, "machine-1", t0, -1).status == CHARTER_E_INVALID_ARGUMENT);
    CHECK(v.verify_activation(token, "machine-1", t0, 86400 * 365 + 1).status == CHARTER_E_INVALID_ARGUMENT);
    CHECK(v.verify_activation(token, "machine-1", t0, 86400 * 365).status == CHARTER_OK);

    // The C ABI: NULLs, a NULL out-parameter, a one-byte detail buffer.
    char detail[1] = { 'x' };
    charter_activation* out = reinterpret_cast<charter_activation*>(&detail);
    CHECK(charter_verify_activation(nullptr, token.data(), token.size(), "m", 1, t0, 0, &out, detail, sizeof detail)
        == CHARTER_E_INVALID_ARGUMENT);
    CHECK(out == nullptr);
    CHECK(detail[0] == '\0');
    CHECK(charter_verify_activation(v.get(), token.data(), token.size(), nullptr, 1, t0, 0, nullptr, nullptr, 0)
        == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_verify_activation(v.get(), token.data(), token.size(), "machine-1", 9, t0, 0, nullptr, nullptr, 0) == CHARTER_OK);
    CHECK(charter_activation_id(nullptr) == nullptr);
    CHECK(charter_activation_seat(nullptr) == 0);
    CHECK(charter_activation_lease_ends_at(nullptr, nullptr) == 0);
    CHECK(charter_activation_copy(nullptr) == nullptr);
    charter_activation_free(nullptr);
}

TEST_CASE("the activation statuses keep their codes and messages")
{
    CHECK(CHARTER_E_WRONG_MACHINE == -22);
    CHECK(CHARTER_E_LEASE_EXPIRED == -23);
    CHECK(CHARTER_E_SEATS_EXHAUSTED == -24);
    CHECK(CHARTER_E_UNREACHABLE == -25);
    CHECK(CHARTER_E_ACTIVATION_REFUSED == -26);
    CHECK(std::string(charter_status_string(CHARTER_E_WRONG_MACHINE)) == "activation is for another machine");
    CHECK(std::string(charter_status_string(CHARTER_E_LEASE_EXPIRED)) == "activation lease has ended");
    CHECK(std::string(charter_status_string(CHARTER_E_SEATS_EXHAUSTED)) == "every seat of the license is taken");
    CHECK(std::string(charter_status_string(CHARTER_E_UNREACHABLE)) == "license server could not be reached");
    CHECK(std::string(charter_status_string(CHARTER_E_ACTIVATION_REFUSED)) == "license server refused the activation");
    CHECK(std::string(charter_status_string(-27)) == "unknown status");
}
