#pragma once
// A vendor's Charter installation as the tools see it: the data directory, its database and
// its signing keys. The CLI and the server both act through it, so a license issued either
// way is made by the same code.

#include "charter/db/store.hpp"
#include "charter/keygen/ops/data_dir.hpp"
#include "charter/keygen/ops/key_store.hpp"
#include "charter/result.hpp"

#include <optional>
#include <string>
#include <vector>

namespace charter::ops {

class Workspace {
public:
    /// `charter init`: creates the data directory, the database, the issuer setting and a
    /// first signing key (wrapped with `passphrase` when given).
    static Result<Workspace> initialize(DataDir const& dir, std::string const& issuer,
        std::optional<std::string> const& passphrase, int64_t now, db::Actor const& actor);

    /// Every other command: the data directory and its database must exist.
    static Result<Workspace> open(DataDir const& dir);
    /// open(), for a process that changes the database while servers run on it: on PostgreSQL
    /// its store gets a change feed, so that a change it commits is reported only once the
    /// servers' listeners have been told of it (charter/db/change_feed.hpp). The charter CLI.
    static Result<Workspace> open_for_changes(DataDir const& dir);

    DataDir const& dir() const { return m_dir; }
    db::Store& store() { return m_store; }
    KeyStore const& key_store() const { return m_keys; }

    /// The issuer name set at init ("iss" of every license).
    Result<std::string> issuer();

    /// The current signing key, unwrapped with `passphrase` when it is protected.
    Result<keygen::SigningKey> current_signing_key(std::optional<std::string> const& passphrase);

    /// The public keys verifiers should trust: every key not retired, each checked with
    /// check_public_key (an altered one is an error, never returned).
    Result<std::vector<db::SigningKeyRecord>> trusted_keys();

    /// The secret keys of every trusted (not retired) key, the current one first, unwrapped with
    /// `passphrase`: what a revocation file is signed with.
    Result<std::vector<keygen::SigningKey>> trusted_signing_keys(std::optional<std::string> const& passphrase);

    /// Generates a key and records it; `make_current` makes it the signing key (rotation).
    /// It is protected with `passphrase` when given or when the current key is protected.
    Result<db::SigningKeyRecord> add_key(bool make_current, std::optional<std::string> const& passphrase, int64_t now,
        db::Actor const& actor);

private:
    Workspace(DataDir dir, db::Store store) : m_dir(std::move(dir)), m_store(std::move(store)), m_keys(m_dir) { }

    DataDir m_dir;
    db::Store m_store;
    KeyStore m_keys;
};

}
