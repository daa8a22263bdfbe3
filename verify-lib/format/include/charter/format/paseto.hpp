#pragma once
// The PASETO v4.public wire format, independent of what the message means: splitting and
// strictly decoding a token, and checking its Ed25519 signature over
// PAE("v4.public.", message, footer, implicit assertion).

#include "charter/verify.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace charter::format {

inline constexpr std::string_view v4_public_header = "v4.public.";
inline constexpr size_t ed25519_signature_size = 64;
inline constexpr size_t ed25519_public_key_size = 32;

struct DecodedToken {
    std::string message;   // the signed payload (for Charter: the claims JSON)
    std::string signature; // 64 bytes
    std::string footer;    // empty when the token has none
    bool has_footer { false };
};

/// Splits and decodes `token`. Returns CHARTER_OK, CHARTER_E_TOO_LARGE (over `max_size` bytes),
/// CHARTER_E_MALFORMED or CHARTER_E_BAD_ENCODING; `detail` says which part is wrong.
int decode_v4_public(std::string_view token, DecodedToken& out, std::string& detail, size_t max_size = CHARTER_MAX_TOKEN_SIZE);

/// True when the signature verifies with `public_key` (32 bytes) for `implicit_assertion`.
bool v4_public_signature_valid(DecodedToken const& token, uint8_t const* public_key, std::string_view implicit_assertion);

/// The bytes an Ed25519 signature covers: PAE("v4.public.", message, footer, implicit).
std::string v4_public_preauth(std::string_view message, std::string_view footer, std::string_view implicit_assertion);

}
