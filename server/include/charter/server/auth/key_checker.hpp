#pragma once
// The verdict on a license key for POST /v1/validate and the customer downloads (files and
// the RubyGems source), remembered for keys whose signature held. Applications present the same key again and again (at every start, on a timer); an
// Ed25519 verification costs more than everything else a validation does, so a key seen
// before skips it: the exact key string (with the product) finds the claims it had, and the
// time checks (nbf, exp) are made again at every request. Only keys that verified are kept, so
// nothing a client invents can take up room; revocation is not cached (the caller asks the
// database every time), and the whole cache is dropped when the trusted keys change.

#include "charter/verify.hpp"

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace charter::server {

struct KeyCheck {
    int status { CHARTER_E_MALFORMED };
    std::string message;
    std::string license_id;  // empty when the signature did not hold
    std::string claims_json; // the license's public claims as a JSON object; empty likewise
    // What the download paths need of the license (the entitlement rule); empty likewise.
    std::string customer;
    std::optional<int64_t> not_before;
    std::optional<int64_t> expires_at;
    std::optional<int64_t> updates_until;
};

/// The remembered verdicts, a map it guards. LicenseKeys verifies and decides what is kept and
/// when all of it is dropped (the trusted keys changed).
class KeyChecker {
public:
    /// The remembered verdict for `key`, when it is still valid at `now`.
    std::optional<KeyCheck> find(std::string const& product, std::string const& key, int64_t now) const;
    /// The product a remembered key verified for (a key verifies for one product only: the
    /// product is its implicit assertion), so that a known key needs no decoding.
    std::optional<std::string> product_of(std::string const& key) const;
    /// Remembers a good verdict (`check.status` CHARTER_OK) on `key`.
    void remember(std::string const& product, std::string const& key, KeyCheck const& check);
    void clear();

private:
    struct Entry {
        std::string product;
        KeyCheck check;
    };

    mutable std::shared_mutex m_mutex;
    std::unordered_map<std::string, Entry> m_entries; // by key
};

}
