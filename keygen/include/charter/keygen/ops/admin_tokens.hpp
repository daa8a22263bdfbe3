#pragma once
// Admin API tokens: a random secret shown once ("chrt_…"), stored only as its BLAKE2b-256
// hash, with scopes limiting what it may do.

#include "charter/db/store.hpp"
#include "charter/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace charter::ops {

inline constexpr char const* admin_scopes[] = { "issue", "read", "revoke", "upload", "admin" };

struct CreatedToken {
    db::AdminToken record;
    std::string secret; // shown to the person once, never stored
};

/// Parses "issue,read" into scopes; unknown or empty scopes are ErrorKind::invalid_input.
Result<std::vector<std::string>> parse_scopes(std::string_view text);

Result<CreatedToken> create_admin_token(db::Store& store, std::string const& name, std::vector<std::string> const& scopes,
    int64_t now, db::Actor const& actor);

/// Hex BLAKE2b-256 of `bytes`: the stored form of a token secret, and request fingerprints.
std::string blake2b_hex(std::string_view bytes);

}
