#pragma once
// PASERK "k4.secret-pw." (PBKW, version 4): a signing key wrapped with a passphrase for
// storage at rest. Argon2id derives a pre-key; BLAKE2b splits it into an XChaCha20 key and
// a BLAKE2b-MAC key; the MAC covers the header and every parameter, so nothing can be
// altered undetected.

#include "charter/keygen/signing_key.hpp"
#include "charter/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace charter::keygen {

struct Argon2Cost {
    uint64_t memory_bytes { 64ull * 1024 * 1024 };
    uint32_t iterations { 2 };
};

/// Wraps `key` with `passphrase`; the salt and nonce are random.
Result<std::string> wrap_secret_key(SigningKey const& key, std::string_view passphrase, Argon2Cost cost = {});

/// Unwraps a "k4.secret-pw." PASERK. A wrong passphrase is ErrorKind::unauthorized.
/// Parameters beyond 4 GiB of memory or 64 iterations are refused before any work.
Result<SigningKey> unwrap_secret_key(std::string_view paserk, std::string_view passphrase);

}
