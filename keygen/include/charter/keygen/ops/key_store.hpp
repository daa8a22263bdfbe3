#pragma once
// Signing keys at rest: one file per key under keys/, holding its PASERK ("k4.secret." or,
// with a passphrase, "k4.secret-pw."), mode 0600, written atomically (temporary file,
// fsync, rename) so a crash never leaves half a key.

#include "charter/db/records.hpp"
#include "charter/keygen/ops/data_dir.hpp"
#include "charter/keygen/signing_key.hpp"
#include "charter/result.hpp"

#include <optional>
#include <string>
#include <vector>

namespace charter::ops {

enum class KeyProtection { plain, passphrase };

/// Checks a public key read from the database before it is trusted or written into anything:
/// its public_paserk must be exactly a canonical "k4.public." + 43 base64url characters (32
/// bytes), and its kid the PASERK id of that key. Generated source code (`charter key export`,
/// `charter verifier export`) embeds the value between quotes, so a database value altered
/// to anything else could inject code; ErrorKind::invalid_input naming the kid otherwise.
/// Workspace::trusted_keys() applies it to every key it returns.
Result<void> check_public_key(db::SigningKeyRecord const& key);

class KeyStore {
public:
    explicit KeyStore(DataDir dir) : m_dir(std::move(dir)) { }

    /// Writes `key`, wrapped with `passphrase` when one is given.
    Result<void> save(keygen::SigningKey const& key, std::optional<std::string> const& passphrase) const;

    /// Reads the key `kid`. A wrapped key without a passphrase, or with a wrong one, is
    /// ErrorKind::unauthorized with a message saying how to supply it.
    Result<keygen::SigningKey> load(std::string const& kid, std::optional<std::string> const& passphrase) const;

    /// Whether the key file of `kid` is passphrase-protected.
    Result<KeyProtection> protection(std::string const& kid) const;

    /// Warnings a person should see (e.g. a key file readable by others).
    std::vector<std::string> const& warnings() const { return m_warnings; }

private:
    DataDir m_dir;
    mutable std::vector<std::string> m_warnings;
};

}
