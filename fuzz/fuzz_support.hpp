#pragma once
// What the fuzz harnesses share: a property check that aborts (so libFuzzer, and the replay
// programs under ctest, report it), a reader for the control bytes at the start of an input,
// and the fixed signing keys that let a harness produce validly signed tokens from fuzz bytes.
//
// The keys are derived from fixed seeds so that the seed corpus (written by make_seeds.cpp)
// holds tokens these harnesses trust. They protect nothing: never use them outside fuzz/.

#include "charter/format/claims.hpp"
#include "charter/keygen/signing_key.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/verify.h"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(condition)                                                         \
    do {                                                                              \
        if (!(condition))                                                             \
            ::charter::fuzz::check_failed(#condition, __FILE__, __LINE__);            \
    } while (0)

namespace charter::fuzz {

[[noreturn]] inline void check_failed(char const* condition, char const* file, int line)
{
    std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, condition);
    std::abort();
}

/// Consumes control bytes from the front of an input; the rest is the payload.
class Input {
public:
    Input(uint8_t const* data, size_t size)
        : m_text(reinterpret_cast<char const*>(data), size)
    {
    }

    /// The next byte, or 0 once the input is exhausted.
    uint8_t take_byte()
    {
        if (m_text.empty())
            return 0;
        auto byte = static_cast<uint8_t>(m_text.front());
        m_text.remove_prefix(1);
        return byte;
    }

    std::string_view rest() const { return m_text; }

private:
    std::string_view m_text;
};

inline constexpr char const* product = "acme-pro";
inline constexpr int64_t t0 = 1795860000; // 2026-11-28T10:00:00Z
inline constexpr std::string_view passphrase = "correct horse battery staple";

/// The Ed25519 key whose 32-byte seed is first_byte, first_byte + 1, ...
inline keygen::SigningKey key_from_seed(uint8_t first_byte)
{
    if (sodium_init() < 0)
        check_failed("sodium_init() >= 0", __FILE__, __LINE__);
    std::array<uint8_t, 32> seed {};
    for (size_t i = 0; i < seed.size(); ++i)
        seed[i] = static_cast<uint8_t>(first_byte + i);
    std::array<uint8_t, 32> public_key {};
    std::array<uint8_t, 64> secret {};
    crypto_sign_seed_keypair(public_key.data(), secret.data(), seed.data());
    auto key = keygen::SigningKey::from_secret_bytes(
        std::string_view(reinterpret_cast<char const*>(secret.data()), secret.size()));
    FUZZ_CHECK(key.ok());
    return key.value();
}

/// The key the harnesses' verifiers trust.
inline keygen::SigningKey const& trusted_key()
{
    static keygen::SigningKey const key = key_from_seed(0);
    return key;
}

/// A key no harness trusts.
inline keygen::SigningKey const& untrusted_key()
{
    static keygen::SigningKey const key = key_from_seed(32);
    return key;
}

/// Signs `message` as Charter signs a license (kid footer, product as implicit assertion).
inline std::string sign_message(keygen::SigningKey const& key, std::string_view message, std::string_view assertion)
{
    return keygen::sign_v4_public(key, message, format::make_footer(key.kid()), assertion);
}

/// True for the statuses that hand out a license (the signature verified, the claims parsed).
inline bool status_has_license(int status)
{
    return status == CHARTER_OK || status == CHARTER_E_NOT_YET_VALID || status == CHARTER_E_EXPIRED
        || status == CHARTER_E_UPDATES_ENDED || status == CHARTER_E_REVOKED;
}

}
