#pragma once
// Download credentials: per-environment secrets ("cdl_…") that a customer puts in Bundler,
// curl or a CI job in place of the license key. Each stands for one license and follows that
// license's current state (so it survives renewals); revoking one touches nothing else. The
// secret is shown once; only its BLAKE2b-256 hash is stored (as admin tokens are). The offline
// verifier never accepts one: it is not a license key.

#include "charter/db/store.hpp"
#include "charter/result.hpp"

#include <string>
#include <string_view>

namespace charter::ops {

/// What every credential secret starts with, so a customer (and a secret scanner) can tell
/// one from a license key ("v4.public.…") or an admin token ("chrt_…").
inline constexpr std::string_view credential_prefix = "cdl_";

struct CreatedCredential {
    db::Credential record;
    std::string secret; // shown to the person once, never stored
};

/// True when `text` has the form of a credential secret (the prefix); it may still be unknown.
bool is_credential_secret(std::string_view text);

/// The stored form of a credential secret (hex BLAKE2b-256).
std::string credential_hash(std::string_view secret);

/// A new credential's record and secret, not stored yet: an empty, long or multi-line name is
/// ErrorKind::invalid_input.
Result<CreatedCredential> new_credential(std::string const& license_id, std::string const& name, int64_t now);

/// Stores a credential new_credential made: unknown license ErrorKind::not_found, a revoked
/// license or a live credential of that name ErrorKind::conflict.
Result<void> add_credential(db::Store& store, db::Credential const& credential, db::Actor const& actor);

/// new_credential and add_credential: a new credential of `license_id` named `name` ("ci", "laptop"): unknown license
/// ErrorKind::not_found, a revoked license or a live credential of that name
/// ErrorKind::conflict, an empty or multi-line name ErrorKind::invalid_input.
Result<CreatedCredential> create_credential(db::Store& store, std::string const& license_id, std::string const& name, int64_t now,
    db::Actor const& actor);

}
