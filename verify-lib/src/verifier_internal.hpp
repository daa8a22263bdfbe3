#pragma once
// The verifier's state and the verification steps the startup check shares with
// charter_verify(). Private to libcharter-verify: nothing here is part of the C ABI.
//
// A charter_verifier may be shared by many threads once configured, so code that needs a
// variation of its configuration (the startup check's revocation-list file) passes the
// variation alongside it instead of copying or mutating the verifier.

#include "charter/verify.h"

#include "charter/format/claims.hpp"
#include "charter/format/paserk_public.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct charter_verifier {
    struct TrustedKey {
        charter::format::PublicKeyBytes key;
        std::string kid;
    };
    std::string product;
    std::vector<TrustedKey> keys;
    int64_t leeway { 0 };
    std::optional<int64_t> build_time;
    std::optional<charter::format::RevocationList> revocations;
};

struct charter_license {
    charter::format::Claims claims;
    std::string kid;
    std::string claims_json;
};

struct charter_activation {
    charter::format::ActivationClaims claims;
    std::string kid;
    std::string claims_json;
};

namespace charter::internal {

inline constexpr int64_t max_leeway = int64_t(86400) * 365;

/// charter_verify_activation() without the C boundary. Throws std::bad_alloc.
int verify_activation(charter_verifier const& verifier, std::string_view token, std::string_view fingerprint, int64_t now,
    int64_t leeway, charter_activation** activation_out, std::string& detail);

/// The SHA-256 of a fingerprint, in 64 lowercase hex digits, as activation tokens carry it.
std::string fingerprint_hash(std::string_view fingerprint);


/// charter_verify() without the C boundary: `extra_revocations` (may be null) is checked in
/// addition to the verifier's own list. Throws std::bad_alloc.
int verify(charter_verifier const& verifier, std::string_view token, int64_t now,
    format::RevocationList const* extra_revocations, charter_license** license_out, std::string& detail);

/// Verifies and parses a revocation file (one signed list per line; the first valid one is
/// used) against the verifier's keys and product, without installing it. Returns CHARTER_OK or
/// CHARTER_E_BAD_REVOCATION_LIST.
int load_revocation_list(charter_verifier const& verifier, std::string_view file, format::RevocationList& out,
    std::string& detail);


}
