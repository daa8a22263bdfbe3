#pragma once
// What a Charter license says (docs/format.md "The license key"), read from its verified
// message, plus the two other small JSON documents of the format: the footer and the
// revocation list.

#include "charter/verify.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charter::format {

struct Claims {
    std::string issuer;      // iss
    std::string customer;    // sub
    std::string license_id;  // jti
    std::string product;
    std::optional<std::string> name;
    int64_t issued_at { 0 }; // iat
    std::optional<int64_t> not_before;
    std::optional<int64_t> expires_at;
    std::optional<int64_t> updates_until;
    std::optional<int64_t> seats;
    std::vector<std::string> entitlements;
};

/// Returns CHARTER_OK, CHARTER_E_BAD_CLAIMS, CHARTER_E_MISSING_CLAIM or CHARTER_E_WRONG_CLAIM_TYPE.
int parse_claims(std::string_view json, Claims& out, std::string& detail);

/// The time checks of a license, the one place they are made: CHARTER_E_NOT_YET_VALID before
/// nbf - leeway, CHARTER_E_EXPIRED after exp + leeway, CHARTER_OK otherwise (the instants
/// themselves are inside).
int check_validity_period(std::optional<int64_t> not_before, std::optional<int64_t> expires_at, int64_t now,
    int64_t leeway);

/// The product a token's claims name, read before verification and without trusting it: the
/// non-empty "product" string of the message when it is a JSON object (read strictly, as claims
/// are), and nullopt otherwise. It only says which product to verify for, or words a refusal; the
/// signature (the product is its implicit assertion) decides whether it is true.
/// Which claims name a product: any message with a product string (to choose the product to
/// verify for), or only complete claims (to word a refusal to a customer as another product's,
/// as the generated Ruby, Python and JavaScript verifiers do: tests/conformance).
enum class ClaimedProductRule { product_string, complete_claims };

std::optional<std::string> claimed_product_of_message(std::string_view claims_json,
    ClaimedProductRule rule = ClaimedProductRule::product_string);

/// The same from a whole token (decoded with decode_v4_public, at most `max_token_size` bytes).
/// Without a product, `detail` says why: the decoding error, or "it names no product".
std::optional<std::string> claimed_product(std::string_view token, std::string& detail,
    size_t max_token_size = CHARTER_MAX_TOKEN_SIZE, ClaimedProductRule rule = ClaimedProductRule::product_string);

/// The kid of a footer {"kid":"k4.pid.…"}: CHARTER_OK or CHARTER_E_BAD_FOOTER.
int parse_footer_kid(std::string_view json, std::string& kid, std::string& detail);

/// The footer Charter writes for a key id.
std::string make_footer(std::string_view kid);

/// What an activation token says (docs/format.md "The activation token"): this machine (the
/// SHA-256 of its fingerprint) holds seat `seat` of license `license_id` until `lease_ends_at`
/// (absent: node-locked, no expiry).
struct ActivationClaims {
    std::string issuer;        // iss
    std::string activation_id; // jti, "act_…"
    std::string license_id;    // license, "lic_…"
    std::string product;
    std::string fingerprint;   // SHA-256 of the fingerprint bytes, 64 lowercase hex digits
    int64_t seat { 0 };        // >= 1
    int64_t issued_at { 0 };   // iat
    std::optional<int64_t> lease_ends_at; // exp
};

inline constexpr std::string_view activation_assertion_prefix = "charter-activation:";
inline constexpr size_t fingerprint_hash_hex_size = 64;

/// Returns CHARTER_OK, CHARTER_E_BAD_CLAIMS, CHARTER_E_MISSING_CLAIM or CHARTER_E_WRONG_CLAIM_TYPE
/// (a seat below 1, a fingerprint that is not 64 lowercase hex digits: the wrong type).
int parse_activation_claims(std::string_view json, ActivationClaims& out, std::string& detail);

struct RevocationList {
    std::string issuer;
    std::string product;
    int64_t issued_at { 0 };
    std::vector<std::string> revoked; // sorted, for binary search
};

inline constexpr std::string_view revocation_assertion_prefix = "charter-revocations:";

/// Returns CHARTER_OK or CHARTER_E_BAD_REVOCATION_LIST.
int parse_revocation_list(std::string_view json, RevocationList& out, std::string& detail);

}
