#pragma once
// What a Charter license says (PRODUCT.md "The license key"), read from its verified
// message, plus the two other small JSON documents of the format: the footer and the
// revocation list.

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

/// The kid of a footer {"kid":"k4.pid.…"}: CHARTER_OK or CHARTER_E_BAD_FOOTER.
int parse_footer_kid(std::string_view json, std::string& kid, std::string& detail);

/// The footer Charter writes for a key id.
std::string make_footer(std::string_view kid);

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
