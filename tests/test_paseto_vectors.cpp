// The official PASETO v4.public test vectors (tests/vectors/paseto/v4.json): our signer
// reproduces every valid token byte for byte, our decoder and signature check accept them,
// and every token marked expect-fail is refused.

#include "charter/format/paseto.hpp"
#include "charter/keygen/signing_key.hpp"
#include "charter/keygen/token_signer.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

using namespace charter;
using charter::testing::from_hex;

TEST_CASE("PASETO v4.public official vectors")
{
    auto vectors = testing::load_vectors("paseto/v4.json");
    int public_success = 0;
    int failures_refused = 0;
    for (auto const& vector : vectors["tests"]) {
        std::string name = vector["name"];
        INFO(name);
        bool expect_fail = vector["expect-fail"];
        std::string token = vector["token"];
        std::string implicit = vector["implicit-assertion"];
        if (!expect_fail) {
            if (!vector.contains("public-key"))
                continue; // v4.local vectors are not ours
            auto key = keygen::SigningKey::from_secret_bytes(from_hex(vector["secret-key"].get<std::string>()));
            REQUIRE(key);
            CHECK(key->paserk_public() == format::encode_paserk_public(*format::decode_paserk_public(key->paserk_public())));
            std::string payload = vector["payload"];
            std::string footer = vector["footer"];
            CHECK(keygen::sign_v4_public(*key, payload, footer, implicit) == token);

            format::DecodedToken decoded;
            std::string detail;
            REQUIRE(format::decode_v4_public(token, decoded, detail) == 0);
            CHECK(decoded.message == payload);
            CHECK(decoded.footer == footer);
            auto public_key = from_hex(vector["public-key"].get<std::string>());
            auto const* key_bytes = reinterpret_cast<uint8_t const*>(public_key.data());
            CHECK(format::v4_public_signature_valid(decoded, key_bytes, implicit));
            CHECK_FALSE(format::v4_public_signature_valid(decoded, key_bytes, implicit + "x"));
            ++public_success;
            continue;
        }
        std::string key_hex = vector.contains("public-key") ? vector["public-key"] : vector["key"];
        auto public_key = from_hex(key_hex);
        REQUIRE(public_key.size() == 32);
        format::DecodedToken decoded;
        std::string detail;
        bool accepted = format::decode_v4_public(token, decoded, detail) == 0
            && format::v4_public_signature_valid(decoded, reinterpret_cast<uint8_t const*>(public_key.data()), implicit);
        CHECK_FALSE(accepted);
        ++failures_refused;
    }
    CHECK(public_success == 3);
    CHECK(failures_refused >= 3);
}
