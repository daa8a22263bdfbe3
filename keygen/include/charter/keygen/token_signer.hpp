#pragma once
// Signing PASETO v4.public tokens: Charter license keys and revocation lists.

#include "charter/keygen/signing_key.hpp"
#include "charter/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charter::keygen {

/// "v4.public." + base64url(message || Ed25519(PAE(h, message, footer, implicit))) [+ "." + base64url(footer)].
std::string sign_v4_public(SigningKey const& key, std::string_view message, std::string_view footer,
    std::string_view implicit_assertion);

/// The claims of a license key, as docs/format.md lists them.
struct LicenseClaims {
    std::string issuer;
    std::string customer;   // sub, "cus_…"
    std::string license_id; // jti, "lic_…"
    std::string product;
    int64_t issued_at { 0 };
    std::optional<int64_t> not_before;
    std::optional<int64_t> expires_at;
    std::optional<std::string> name;
    std::vector<std::string> entitlements;
    std::optional<int64_t> updates_until;
    std::optional<int64_t> seats;
    nlohmann::ordered_json meta = nlohmann::ordered_json::object(); // written only when not empty
};

/// The message of a license key: compact JSON with the claims in a fixed order. Every string
/// must be valid UTF-8 (check with charter::is_valid_utf8, charter/utf8.hpp); an ill-formed sequence is written as U+FFFD.
std::string claims_to_json(LicenseClaims const& claims);

/// The claims of a signed message (a stored license's claims_json), for signing its next
/// version: claims_to_json(claims_from_json(x)) == x for every message claims_to_json wrote.
/// ErrorKind::internal when the message is not a license's claims.
Result<LicenseClaims> claims_from_json(std::string_view json);

struct SignedLicense {
    std::string token;
    std::string claims_json;
};

/// Signs `claims` with `key`: footer {"kid":…}, implicit assertion = the product id.
SignedLicense sign_license(SigningKey const& key, LicenseClaims const& claims);

/// The signed revocation list of a product (implicit assertion "charter-revocations:<product>").
std::string sign_revocation_list(SigningKey const& key, std::string_view issuer, std::string_view product,
    int64_t issued_at, std::vector<std::string> const& revoked_ids);

}
