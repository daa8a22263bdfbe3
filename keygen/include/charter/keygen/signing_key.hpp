#pragma once
// Ed25519 signing keys and their PASERK forms: "k4.secret." (64 bytes: seed || public key),
// "k4.public." and the key id "k4.pid.". Secret bytes are wiped when a key is destroyed.

#include "charter/format/paserk_public.hpp"
#include "charter/result.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace charter::keygen {

class SigningKey {
public:
    static Result<SigningKey> generate();
    /// From the 64 bytes libsodium calls a secret key (seed || public key); the public half
    /// must match the seed.
    static Result<SigningKey> from_secret_bytes(std::string_view bytes);
    static Result<SigningKey> from_paserk_secret(std::string_view paserk);

    SigningKey(SigningKey const&);
    SigningKey& operator=(SigningKey const&);
    ~SigningKey();

    std::string paserk_secret() const;
    std::string paserk_public() const;
    std::string const& kid() const { return m_kid; }
    format::PublicKeyBytes const& public_key() const { return m_public; }
    uint8_t const* secret_bytes() const { return m_secret.data(); }

private:
    SigningKey() = default;
    void derive_public();

    std::array<uint8_t, 64> m_secret {};
    format::PublicKeyBytes m_public {};
    std::string m_kid;
};

}
