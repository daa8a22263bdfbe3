#include "charter/keygen/signing_key.hpp"

#include "charter/format/base64url.hpp"

#include <sodium.h>

#include <cstring>

namespace charter::keygen {

namespace {

constexpr std::string_view secret_header = "k4.secret.";

Result<void> ensure_sodium()
{
    if (sodium_init() < 0)
        return make_error(ErrorKind::internal, "libsodium could not be initialised");
    return {};
}

}

Result<SigningKey> SigningKey::generate()
{
    if (auto ready = ensure_sodium(); !ready)
        return ready.error();
    SigningKey key;
    crypto_sign_keypair(key.m_public.data(), key.m_secret.data());
    key.derive_public();
    return key;
}

Result<SigningKey> SigningKey::from_secret_bytes(std::string_view bytes)
{
    if (auto ready = ensure_sodium(); !ready)
        return ready.error();
    if (bytes.size() != 64)
        return make_error(ErrorKind::invalid_input, "a k4 secret key is 64 bytes, not " + std::to_string(bytes.size()));
    SigningKey key;
    std::memcpy(key.m_secret.data(), bytes.data(), 64);
    // Recompute the public key from the seed: a secret key whose halves disagree would sign
    // tokens that its own published public key cannot verify.
    std::array<uint8_t, 64> check {};
    format::PublicKeyBytes public_key {};
    crypto_sign_seed_keypair(public_key.data(), check.data(), key.m_secret.data());
    sodium_memzero(check.data(), check.size());
    if (sodium_memcmp(public_key.data(), key.m_secret.data() + 32, 32) != 0)
        return make_error(ErrorKind::invalid_input, "secret key is inconsistent: its public half does not match its seed");
    key.derive_public();
    return key;
}

Result<SigningKey> SigningKey::from_paserk_secret(std::string_view paserk)
{
    if (!paserk.starts_with(secret_header))
        return make_error(ErrorKind::invalid_input, "not a k4.secret PASERK (it must start with \"k4.secret.\")");
    auto bytes = format::base64url_decode_secret(paserk.substr(secret_header.size()));
    if (!bytes)
        return make_error(ErrorKind::invalid_input, "k4.secret PASERK is not canonical base64url");
    auto key = from_secret_bytes(*bytes);
    sodium_memzero(bytes->data(), bytes->size());
    return key;
}

SigningKey::SigningKey(SigningKey const& other)
    : m_secret(other.m_secret)
    , m_public(other.m_public)
    , m_kid(other.m_kid)
{
}

SigningKey& SigningKey::operator=(SigningKey const& other)
{
    m_secret = other.m_secret;
    m_public = other.m_public;
    m_kid = other.m_kid;
    return *this;
}

SigningKey::~SigningKey()
{
    sodium_memzero(m_secret.data(), m_secret.size());
}

void SigningKey::derive_public()
{
    std::memcpy(m_public.data(), m_secret.data() + 32, 32);
    m_kid = format::paserk_pid(m_public);
}

std::string SigningKey::paserk_secret() const
{
    return std::string(secret_header) + format::base64url_encode_secret(m_secret.data(), m_secret.size());
}

std::string SigningKey::paserk_public() const
{
    return format::encode_paserk_public(m_public);
}

}
