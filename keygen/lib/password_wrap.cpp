#include "charter/keygen/password_wrap.hpp"

#include "charter/format/base64url.hpp"

#include <sodium.h>

#include <cstring>

namespace charter::keygen {

namespace {

constexpr std::string_view header = "k4.secret-pw.";
constexpr size_t salt_size = 16;
constexpr size_t nonce_size = 24;
constexpr size_t key_size = 64;
constexpr size_t tag_size = 32;
// salt || mem (8, BE) || time (4, BE) || para (4, BE) || nonce || edk || tag
constexpr size_t params_size = 8 + 4 + 4;
constexpr size_t wrapped_size = salt_size + params_size + nonce_size + key_size + tag_size;

constexpr uint64_t max_memory_bytes = 4ull << 30;
constexpr uint32_t max_iterations = 64;

void put_be(uint8_t* out, uint64_t value, int bytes)
{
    for (int i = bytes - 1; i >= 0; --i) {
        out[i] = static_cast<uint8_t>(value & 0xff);
        value >>= 8;
    }
}

uint64_t get_be(uint8_t const* in, int bytes)
{
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i)
        value = (value << 8) | in[i];
    return value;
}

// Ek = BLAKE2b-256(0xFF || k), Ak = BLAKE2b-256(0xFE || k).
void split_prekey(uint8_t const* prekey, uint8_t* encryption_key, uint8_t* authentication_key)
{
    uint8_t input[33];
    std::memcpy(input + 1, prekey, 32);
    input[0] = 0xFF;
    crypto_generichash(encryption_key, 32, input, sizeof input, nullptr, 0);
    input[0] = 0xFE;
    crypto_generichash(authentication_key, 32, input, sizeof input, nullptr, 0);
    sodium_memzero(input, sizeof input);
}

// t = BLAKE2b-256(h || s || mem || time || para || n || edk, key = Ak)
void compute_tag(uint8_t const* authentication_key, uint8_t const* body, size_t body_size, uint8_t* tag)
{
    crypto_generichash_state state;
    crypto_generichash_init(&state, authentication_key, 32, tag_size);
    crypto_generichash_update(&state, reinterpret_cast<unsigned char const*>(header.data()), header.size());
    crypto_generichash_update(&state, body, body_size);
    crypto_generichash_final(&state, tag, tag_size);
}

Result<void> derive_prekey(std::string_view passphrase, uint8_t const* salt, uint64_t memory, uint32_t iterations, uint8_t* prekey)
{
    if (crypto_pwhash(prekey, 32, passphrase.data(), passphrase.size(), salt, iterations, memory, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return make_error(ErrorKind::io, "argon2id could not allocate " + std::to_string(memory >> 20) + " MiB");
    return {};
}

}

Result<std::string> wrap_secret_key(SigningKey const& key, std::string_view passphrase, Argon2Cost cost)
{
    if (cost.memory_bytes < crypto_pwhash_MEMLIMIT_MIN || cost.memory_bytes > max_memory_bytes
        || cost.iterations < crypto_pwhash_OPSLIMIT_MIN || cost.iterations > max_iterations)
        return make_error(ErrorKind::invalid_input, "argon2id parameters out of range");

    uint8_t wrapped[wrapped_size];
    uint8_t* salt = wrapped;
    uint8_t* params = salt + salt_size;
    uint8_t* nonce = params + params_size;
    uint8_t* encrypted = nonce + nonce_size;
    uint8_t* tag = encrypted + key_size;
    randombytes_buf(salt, salt_size);
    put_be(params, cost.memory_bytes, 8);
    put_be(params + 8, cost.iterations, 4);
    put_be(params + 12, 1, 4); // parallelism: libsodium's Argon2id uses one lane
    randombytes_buf(nonce, nonce_size);

    uint8_t prekey[32], encryption_key[32], authentication_key[32];
    if (auto derived = derive_prekey(passphrase, salt, cost.memory_bytes, cost.iterations, prekey); !derived)
        return derived.error();
    split_prekey(prekey, encryption_key, authentication_key);
    crypto_stream_xchacha20_xor(encrypted, key.secret_bytes(), key_size, nonce, encryption_key);
    compute_tag(authentication_key, wrapped, wrapped_size - tag_size, tag);
    sodium_memzero(prekey, sizeof prekey);
    sodium_memzero(encryption_key, sizeof encryption_key);
    sodium_memzero(authentication_key, sizeof authentication_key);
    return std::string(header) + format::base64url_encode_secret(wrapped, wrapped_size);
}

Result<SigningKey> unwrap_secret_key(std::string_view paserk, std::string_view passphrase)
{
    if (!paserk.starts_with(header))
        return make_error(ErrorKind::invalid_input, "not a k4.secret-pw PASERK (it must start with \"k4.secret-pw.\")");
    auto bytes = format::base64url_decode_secret(paserk.substr(header.size()));
    if (!bytes)
        return make_error(ErrorKind::invalid_input, "k4.secret-pw PASERK is not canonical base64url");
    if (bytes->size() != wrapped_size)
        return make_error(ErrorKind::invalid_input, "k4.secret-pw PASERK has the wrong length");
    auto const* wrapped = reinterpret_cast<uint8_t const*>(bytes->data());
    uint8_t const* salt = wrapped;
    uint8_t const* params = salt + salt_size;
    uint8_t const* nonce = params + params_size;
    uint8_t const* encrypted = nonce + nonce_size;
    uint8_t const* tag = encrypted + key_size;
    uint64_t memory = get_be(params, 8);
    uint64_t iterations = get_be(params + 8, 4);
    uint64_t parallelism = get_be(params + 12, 4);
    if (parallelism != 1)
        return make_error(ErrorKind::invalid_input, "k4.secret-pw with argon2id parallelism " + std::to_string(parallelism)
                + " is not supported (only 1)");
    if (memory < crypto_pwhash_MEMLIMIT_MIN || memory > max_memory_bytes || iterations < crypto_pwhash_OPSLIMIT_MIN
        || iterations > max_iterations)
        return make_error(ErrorKind::invalid_input, "k4.secret-pw argon2id parameters are out of range");

    uint8_t prekey[32], encryption_key[32], authentication_key[32], expected_tag[tag_size];
    if (auto derived = derive_prekey(passphrase, salt, memory, uint32_t(iterations), prekey); !derived)
        return derived.error();
    split_prekey(prekey, encryption_key, authentication_key);
    compute_tag(authentication_key, wrapped, wrapped_size - tag_size, expected_tag);
    bool authentic = sodium_memcmp(expected_tag, tag, tag_size) == 0;
    std::string secret(key_size, '\0');
    if (authentic)
        crypto_stream_xchacha20_xor(reinterpret_cast<uint8_t*>(secret.data()), encrypted, key_size, nonce, encryption_key);
    sodium_memzero(prekey, sizeof prekey);
    sodium_memzero(encryption_key, sizeof encryption_key);
    sodium_memzero(authentication_key, sizeof authentication_key);
    if (!authentic)
        return make_error(ErrorKind::unauthorized, "wrong passphrase for the signing key (or the wrapped key was altered)");
    auto key = SigningKey::from_secret_bytes(secret);
    sodium_memzero(secret.data(), secret.size());
    return key;
}

}
