#pragma once
// The key charter-server signs with: the data directory's current signing key, followed while
// the server runs. `charter key rotate` and `charter key retire` run in another process against
// the same data directory, so the server asks the database which key is current before each
// group commit of POST /v1/licenses and each revocation list (one indexed query), and loads the
// secret from keys/ only when the kid changed, unwrapping it with the passphrase the server was
// started with. A key that cannot be loaded fails the request: the server never goes on
// signing with a key the vendor rotated away from, which a retire may already have made
// untrusted everywhere.

#include "charter/db/store.hpp"
#include "charter/keygen/ops/data_dir.hpp"
#include "charter/keygen/ops/key_store.hpp"
#include "charter/keygen/signing_key.hpp"
#include "charter/result.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace charter::server {

class CurrentSigningKey {
public:
    using KeyPointer = std::shared_ptr<keygen::SigningKey const>;

    /// `loaded` is the current key as loaded at start; `passphrase` (CHARTER_PASSPHRASE) unwraps
    /// the keys made current later. It is kept for the life of the server and wiped after.
    CurrentSigningKey(ops::DataDir dir, keygen::SigningKey loaded, std::optional<std::string> passphrase);
    ~CurrentSigningKey();
    CurrentSigningKey(CurrentSigningKey const&) = delete;
    CurrentSigningKey& operator=(CurrentSigningKey const&) = delete;

    /// The key `store` names as current, loaded from keys/ when it is not the one held.
    /// Inside a write transaction of `store` the answer stays true until the commit: a rotation
    /// or a retirement waits for the write lock. ErrorKind::unavailable when the key cannot be
    /// loaded; a failing key is tried again at most every few seconds, so that requests cannot
    /// make the server run Argon2id (a wrapped key) for each of them.
    Result<KeyPointer> get(db::Store& store);

    /// Every trusted (not retired) key, the current one first: what a revocation file is signed
    /// with, so that builds trusting only an older key still find a list they can verify. Keys
    /// are loaded from keys/ once; ErrorKind::unavailable (naming the key) when one cannot be,
    /// retried at most every few seconds as for the current key.
    Result<std::vector<KeyPointer>> trusted(db::Store& store);

    /// Counts the changes of the key; caches made from the trusted keys before a change are stale
    /// (the new key may be newer than them).
    uint64_t generation() const { return m_generation.load(std::memory_order_acquire); }

private:
    Result<KeyPointer> load(std::string const& kid);

    ops::KeyStore m_keys;
    std::optional<std::string> m_passphrase;
    std::mutex m_mutex;
    KeyPointer m_key;
    std::atomic<uint64_t> m_generation { 0 };
    size_t m_warnings_shown { 0 };
    // The last key that failed to load, when, and why.
    std::string m_failed_kid;
    std::chrono::steady_clock::time_point m_failed_at {};
    Error m_failure { ErrorKind::internal, {} };
    std::string m_failure_cause; // the key store's message, logged once
    // Trusted keys other than the current one, loaded for revocation files; and those that
    // failed to load, when, and the error given.
    std::map<std::string, KeyPointer> m_others;
    std::map<std::string, std::pair<std::chrono::steady_clock::time_point, Error>> m_other_failures;
};

}
