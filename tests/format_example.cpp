// format_example: computes the worked example of docs/format.md from a fixed Ed25519 seed and
// prints every value as "name: value" lines. Ed25519 signatures are deterministic, so the
// output never changes; the ctest test_format_example (check_format_example.cmake) requires
// each value to appear verbatim in docs/format.md, so the document cannot drift from the code.
//
// It also checks that the example behaves as the document says: the license verifies, and
// the revocation list revokes it.

#include "charter/format/claims.hpp"
#include "charter/format/pae.hpp"
#include "charter/format/paseto.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/verify.h"

#include <sodium.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace {

using namespace charter;

constexpr std::string_view product = "acme-pro";
constexpr std::string_view message = R"({"iss":"Acme Software","sub":"cus_7TQ2dYc8VxW3nHq5LmRz1k",)"
                                     R"("jti":"lic_4XbN9pKs2WfJ6hTq8VyZ3c","iat":"2026-11-28T10:00:00Z",)"
                                     R"("exp":"2027-11-28T10:00:00Z","product":"acme-pro","name":"Jane Doe",)"
                                     R"("entitlements":["sso","audit-log"],"updates_until":"2027-05-28T10:00:00Z",)"
                                     R"("seats":5,"meta":{"order":"A-1001"}})";
constexpr std::string_view revocation_message = R"({"iss":"Acme Software","iat":"2026-12-01T00:00:00Z",)"
                                                R"("product":"acme-pro","revoked":["lic_4XbN9pKs2WfJ6hTq8VyZ3c"]})";
constexpr int64_t verified_at = 1795860000 + 86400; // 2026-11-29T10:00:00Z

std::string hex(std::string_view bytes, std::string_view separator = "")
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0)
            out += separator;
        auto byte = static_cast<unsigned char>(bytes[i]);
        out += digits[byte >> 4];
        out += digits[byte & 15];
    }
    return out;
}

std::string le64(uint64_t value)
{
    std::string out;
    for (int i = 0; i < 8; ++i, value >>= 8)
        out += static_cast<char>(value & 0xff);
    return hex(out, " ");
}

void print(char const* name, std::string_view value)
{
    std::printf("%s: %.*s\n", name, int(value.size()), value.data());
}

int fail(char const* what)
{
    std::fprintf(stderr, "format_example: %s\n", what);
    return 1;
}

}

int main()
{
    if (sodium_init() < 0)
        return fail("libsodium could not be initialised");

    // The seed is the 32 bytes 00 01 02 … 1f. A key for documentation only: never trust it.
    unsigned char seed[crypto_sign_SEEDBYTES];
    for (size_t i = 0; i < sizeof seed; ++i)
        seed[i] = static_cast<unsigned char>(i);
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES], secret_key[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(public_key, secret_key, seed);
    auto key = keygen::SigningKey::from_secret_bytes(
        std::string_view(reinterpret_cast<char const*>(secret_key), sizeof secret_key));
    if (!key)
        return fail(key.error().message.c_str());

    std::string footer = format::make_footer(key->kid());
    std::string token = keygen::sign_v4_public(*key, message, footer, product);
    std::string signed_bytes = format::v4_public_preauth(message, footer, product);

    print("seed", hex(std::string_view(reinterpret_cast<char const*>(seed), sizeof seed)));
    print("public key bytes", hex(std::string_view(reinterpret_cast<char const*>(public_key), sizeof public_key)));
    print("k4.secret", key->paserk_secret());
    print("k4.public", key->paserk_public());
    print("k4.pid", key->kid());
    print("message", message);
    print("footer", footer);
    print("implicit assertion", product);

    // PAE, piece by piece, then whole in rows of 32 bytes.
    print("PAE([])", hex(format::pae({}), " "));
    print("PAE([\"\"])", hex(format::pae({ "" }), " "));
    print("PAE([\"test\"])", hex(format::pae({ "test" }), " "));
    print("LE64(4)", le64(4));
    print("LE64(len(\"v4.public.\"))", le64(format::v4_public_header.size()));
    print("LE64(len(message))", le64(message.size()));
    print("LE64(len(footer))", le64(footer.size()));
    print("LE64(len(implicit assertion))", le64(product.size()));
    print("len(PAE)", std::to_string(signed_bytes.size()));
    for (size_t row = 0; row < signed_bytes.size(); row += 32)
        print("PAE row", hex(std::string_view(signed_bytes).substr(row, 32)));

    format::DecodedToken decoded;
    std::string detail;
    if (format::decode_v4_public(token, decoded, detail) != CHARTER_OK)
        return fail(detail.c_str());
    print("signature", hex(decoded.signature));
    print("token", token);

    std::string assertion = std::string(format::revocation_assertion_prefix) + std::string(product);
    std::string revocations = keygen::sign_v4_public(*key, revocation_message, footer, assertion);
    print("revocation message", revocation_message);
    print("revocation implicit assertion", assertion);
    print("revocation token", revocations);
    sodium_memzero(secret_key, sizeof secret_key);

    // The example is a valid license at verified_at, and the revocation list revokes it.
    charter_verifier* verifier = charter_verifier_new(std::string(product).c_str());
    if (!verifier || charter_verifier_add_key(verifier, key->paserk_public().c_str()) != CHARTER_OK)
        return fail("cannot configure a verifier");
    char text[256];
    int status = charter_verify(verifier, token.data(), token.size(), verified_at, nullptr, text, sizeof text);
    if (status != CHARTER_OK)
        return fail(text);
    if (charter_verifier_set_revocation_list(verifier, revocations.data(), revocations.size(), text, sizeof text) != CHARTER_OK)
        return fail(text);
    status = charter_verify(verifier, token.data(), token.size(), verified_at, nullptr, text, sizeof text);
    charter_verifier_free(verifier);
    if (status != CHARTER_E_REVOKED)
        return fail("the revocation list does not revoke the example license");
    return 0;
}
