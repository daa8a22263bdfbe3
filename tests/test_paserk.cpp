// The official PASERK k4 vectors (tests/vectors/paseto/PASERK): public, pid, secret and
// secret-pw, plus wrap/unwrap round trips.

#include "charter/format/base64url.hpp"
#include "charter/format/paserk_public.hpp"
#include "charter/keygen/password_wrap.hpp"
#include "charter/keygen/signing_key.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

using namespace charter;
using charter::testing::from_hex;

namespace {

format::PublicKeyBytes to_key(std::string const& bytes)
{
    format::PublicKeyBytes key {};
    REQUIRE(bytes.size() == key.size());
    std::copy(bytes.begin(), bytes.end(), key.begin());
    return key;
}

}

TEST_CASE("PASERK k4.public vectors")
{
    auto vectors = testing::load_vectors("paseto/PASERK/k4.public.json");
    REQUIRE(vectors["tests"].size() >= 4);
    for (auto const& vector : vectors["tests"]) {
        INFO(vector["name"].get<std::string>());
        auto bytes = from_hex(vector["key"].get<std::string>());
        if (vector["expect-fail"]) {
            // A key of another size can neither be encoded nor decoded as k4.public.
            CHECK(bytes.size() != 32);
            CHECK_FALSE(format::decode_paserk_public("k4.public." + format::base64url_encode(bytes)));
            continue;
        }
        std::string paserk = vector["paserk"];
        CHECK(format::encode_paserk_public(to_key(bytes)) == paserk);
        auto decoded = format::decode_paserk_public(paserk);
        REQUIRE(decoded);
        CHECK(*decoded == to_key(bytes));
    }
    CHECK_FALSE(format::decode_paserk_public("k3.public.cHFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKi4yNjo8"));
    CHECK_FALSE(format::decode_paserk_public("k4.public.cHFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKi4yNjo8="));
    CHECK_FALSE(format::decode_paserk_public("k4.secret.cHFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKi4yNjo8"));
}

TEST_CASE("PASERK k4.pid vectors")
{
    auto vectors = testing::load_vectors("paseto/PASERK/k4.pid.json");
    REQUIRE(vectors["tests"].size() >= 4);
    for (auto const& vector : vectors["tests"]) {
        INFO(vector["name"].get<std::string>());
        auto bytes = from_hex(vector["key"].get<std::string>());
        if (vector["expect-fail"]) {
            CHECK(bytes.size() != 32);
            continue;
        }
        CHECK(format::paserk_pid(to_key(bytes)) == vector["paserk"].get<std::string>());
    }
}

TEST_CASE("PASERK k4.secret vectors")
{
    auto vectors = testing::load_vectors("paseto/PASERK/k4.secret.json");
    REQUIRE(vectors["tests"].size() >= 4);
    for (auto const& vector : vectors["tests"]) {
        INFO(vector["name"].get<std::string>());
        auto bytes = from_hex(vector["key"].get<std::string>());
        auto key = keygen::SigningKey::from_secret_bytes(bytes);
        if (vector["expect-fail"]) {
            CHECK_FALSE(key);
            continue;
        }
        REQUIRE(key);
        CHECK(key->paserk_secret() == vector["paserk"].get<std::string>());
        auto public_key = from_hex(vector["public-key"].get<std::string>());
        CHECK(key->paserk_public() == format::encode_paserk_public(to_key(public_key)));
        auto parsed = keygen::SigningKey::from_paserk_secret(vector["paserk"].get<std::string>());
        REQUIRE(parsed);
        CHECK(parsed->kid() == key->kid());
    }
}

TEST_CASE("k4.secret refuses inconsistent and malformed keys")
{
    auto key = keygen::SigningKey::generate();
    REQUIRE(key);
    std::string bytes(reinterpret_cast<char const*>(key->secret_bytes()), 64);
    bytes[40] ^= 1;
    auto inconsistent = keygen::SigningKey::from_secret_bytes(bytes);
    REQUIRE_FALSE(inconsistent);
    CHECK(inconsistent.error().message.find("public half") != std::string::npos);
    CHECK_FALSE(keygen::SigningKey::from_paserk_secret("k4.public.AAAA"));
    CHECK_FALSE(keygen::SigningKey::from_paserk_secret(key->paserk_secret() + "="));
    CHECK_FALSE(keygen::SigningKey::from_paserk_secret("k3.secret." + key->paserk_secret().substr(10)));
}

TEST_CASE("PASERK k4.secret-pw vectors")
{
    auto vectors = testing::load_vectors("paseto/PASERK/k4.secret-pw.json");
    REQUIRE(vectors["tests"].size() >= 4);
    for (auto const& vector : vectors["tests"]) {
        INFO(vector["name"].get<std::string>());
        // The vectors use the password field as the literal passphrase, hex-looking or not.
        std::string password = vector["password"];
        auto key = keygen::unwrap_secret_key(vector["paserk"].get<std::string>(), password);
        INFO((key ? std::string("unwrapped") : key.error().message));
        if (vector["expect-fail"]) {
            CHECK_FALSE(key);
            continue;
        }
        REQUIRE(key);
        std::string bytes(reinterpret_cast<char const*>(key->secret_bytes()), 64);
        CHECK(bytes == from_hex(vector["unwrapped"].get<std::string>()));
    }
}

TEST_CASE("k4.secret-pw wraps and unwraps; a wrong passphrase is unauthorized")
{
    auto key = keygen::SigningKey::generate();
    REQUIRE(key);
    keygen::Argon2Cost cheap { 8u << 20, 1 };
    auto wrapped = keygen::wrap_secret_key(*key, "hunter2", cheap);
    REQUIRE(wrapped);
    CHECK(wrapped->starts_with("k4.secret-pw."));
    auto unwrapped = keygen::unwrap_secret_key(*wrapped, "hunter2");
    REQUIRE(unwrapped);
    CHECK(unwrapped->paserk_secret() == key->paserk_secret());

    auto wrong = keygen::unwrap_secret_key(*wrapped, "hunter3");
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().kind == ErrorKind::unauthorized);
    CHECK(wrong.error().message.find("wrong passphrase") != std::string::npos);

    // Any altered byte (here: the iteration count) fails authentication.
    auto bytes = *format::base64url_decode(wrapped->substr(13));
    bytes[16 + 8 + 3] = 2;
    auto altered = keygen::unwrap_secret_key("k4.secret-pw." + format::base64url_encode(bytes), "hunter2");
    CHECK_FALSE(altered);
    CHECK_FALSE(keygen::unwrap_secret_key(wrapped->substr(0, wrapped->size() - 4), "hunter2"));
}
