#pragma once
// The one owner of what checking a license key needs: the trusted keys (the data directory's
// signing keys that are not retired), a verifier per product built on them, and the remembered
// verdicts (KeyChecker, a map it guards), dropped whenever the trusted keys change. A validation
// and every download ask check(); nothing else holds keys or verifiers.

#include "charter/result.hpp"
#include "charter/server/auth/key_checker.hpp"
#include "charter/server/current_signing_key.hpp"
#include "charter/server/store_pool.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace charter::server {

class LicenseKeys {
public:
    LicenseKeys(StorePool& pool, CurrentSigningKey const& signing_key);

    /// Verifies a license key for `product` at `now`, remembering good verdicts (KeyChecker).
    /// The trusted keys are re-read every few seconds, at once when this server's signing key
    /// changed, and whenever a key names a kid they lack (another server or the CLI may have
    /// just made it current).
    Result<KeyCheck> check(std::string const& product, std::string const& key, int64_t now);
    /// The product a remembered key verified for, so that a known key needs no decoding.
    std::optional<std::string> product_of(std::string const& key) const { return m_checker.product_of(key); }

private:
    /// A verifier for one product, and the generation of the trusted keys it was built on.
    struct TrustedVerifier {
        std::shared_ptr<Verifier const> verifier;
        uint64_t generation;
    };
    /// A verifier for `product` trusting the current set of non-retired keys.
    /// `unknown_key`: a license named a key the cached trusted keys lack, so re-read them now.
    Result<TrustedVerifier> verifier_for(std::string const& product, bool unknown_key = false);
    /// The verifier of `product` on the trusted keys held; m_mutex is held by the caller.
    TrustedVerifier cached_verifier(std::string const& product);
    /// Verifies `key` and remembers a good verdict, unless the trusted keys changed since
    /// `trusted` was built on them.
    KeyCheck verify(TrustedVerifier const& trusted, std::string const& product, std::string const& key, int64_t now);

    StorePool& m_pool;
    CurrentSigningKey const& m_signing_key;
    std::mutex m_mutex;
    std::chrono::steady_clock::time_point m_keys_loaded_at {};
    uint64_t m_reads_started { 0 }; // re-reads of the trusted keys begun, numbered
    uint64_t m_reads_applied { 0 }; // the number of the last one whose keys are held
    uint64_t m_signing_key_generation { 0 }; // m_signing_key's generation when the trusted keys were read
    // Changes whenever the trusted keys do; a verdict reached with older keys is not remembered.
    uint64_t m_generation { 0 };
    std::vector<std::string> m_trusted_keys;
    std::map<std::string, std::shared_ptr<Verifier const>> m_verifiers;
    KeyChecker m_checker;
};

}
