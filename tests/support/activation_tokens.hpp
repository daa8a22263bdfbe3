#pragma once
// Activation tokens signed the way the license server signs them (docs/format.md "The
// activation token"), for the product-side tests that run without a server: libcharter-verify's
// charter_verify_activation and the lease's token handling. Every field can be changed or left
// out, to provoke each refusal.

#include "charter/format/claims.hpp"
#include "charter/format/rfc3339.hpp"
#include "charter/keygen/token_signer.hpp"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace charter::testing {

/// The SHA-256 of a fingerprint in lowercase hex, as the server stores and signs it.
inline std::string fingerprint_sha256(std::string_view fingerprint)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<unsigned char const*>(fingerprint.data()), fingerprint.size());
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return hex;
}

struct ActivationFields {
    std::string issuer = "Acme Inc.";
    std::string activation_id = "act_TESTACTIVATION000000001";
    std::string license_id = "lic_TESTLICENSE0000000000001";
    std::string product = "acme-pro";
    std::string fingerprint = "machine-1"; // the raw bytes; the claim is their SHA-256
    int64_t seat = 1;
    int64_t issued_at = 1795860000;        // 2026-11-28T10:00:00Z
    std::optional<int64_t> lease_ends_at = 1795860000 + 900;
};

/// The claims as the server writes them (compact JSON, this order).
inline std::string activation_message(ActivationFields const& fields)
{
    nlohmann::ordered_json claims;
    claims["iss"] = fields.issuer;
    claims["jti"] = fields.activation_id;
    claims["license"] = fields.license_id;
    claims["product"] = fields.product;
    claims["fingerprint"] = fingerprint_sha256(fields.fingerprint);
    claims["seat"] = fields.seat;
    claims["iat"] = format::format_rfc3339(fields.issued_at);
    if (fields.lease_ends_at)
        claims["exp"] = format::format_rfc3339(*fields.lease_ends_at);
    return claims.dump();
}

/// Signs any message as an activation token of `product`: footer {"kid":…}, implicit assertion
/// "charter-activation:<product>".
inline std::string sign_activation_message(keygen::SigningKey const& key, std::string const& message,
    std::string_view product = "acme-pro")
{
    return keygen::sign_v4_public(key, message, format::make_footer(key.kid()),
        std::string(format::activation_assertion_prefix) + std::string(product));
}

inline std::string sign_activation(keygen::SigningKey const& key, ActivationFields const& fields)
{
    return sign_activation_message(key, activation_message(fields), fields.product);
}

}
