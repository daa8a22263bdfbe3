#pragma once
// The entitlement rule (docs/operations.md "Entitlement rule"), in one place for
// every download path (files, RubyGems): may this license have this release?
//
//   1. the license key's signature verified (the caller used verify-lib);
//   2. the license is neither revoked nor suspended (the database's record);
//   3. the license is for the release's product;
//   4. when the license has updates_until, the release was published at or before it;
//   5. after the license's exp: nothing — unless the product keeps access after expiry, in
//      which case only releases published before exp.
//
// The dates are the license's current terms (its record in the database), not the presented
// key's claims: any genuine version of a license's key stands for the license, so a key issued
// before a renewal gets what the renewal covers (license_facts).

#include "charter/db/records.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace charter::server {

/// What the download paths know about a presented license.
struct LicenseFacts {
    std::string id;
    std::string product;
    bool signature_valid { false };
    bool revoked { false };
    std::optional<int64_t> revoked_at; // when revoked, if known
    std::optional<int64_t> suspended_at; // set while suspended
    std::string suspend_reason;          // the vendor's words, while suspended
    std::optional<int64_t> expires_at;
    std::optional<int64_t> updates_until;
};

/// The facts of a license as its record in the database has them now (its current version's
/// terms, revocation, suspension), for a presented key whose signature held.
LicenseFacts license_facts(db::License const& record);

enum class Entitlement {
    allowed,
    invalid_key,
    revoked,
    suspended,
    wrong_product,
    updates_ended,
    expired,
};

struct EntitlementDecision {
    Entitlement outcome { Entitlement::invalid_key };
    std::string reason; // a sentence for the customer when refused

    bool allowed() const { return outcome == Entitlement::allowed; }
};

/// The refusals that depend on the license alone (a key that did not verify, a revoked or a
/// suspended license, in the order of db::state_at), for answers about no particular release; nullopt when the license itself is fine.
std::optional<EntitlementDecision> license_refusal(LicenseFacts const& license);

/// The refusals that leave `license` nothing of `product` at `now`: those above, and an expiry
/// passed where the product keeps no access after it. nullopt when some release may still be
/// allowed.
std::optional<EntitlementDecision> license_refusal(LicenseFacts const& license, db::Product const& product, int64_t now);

/// The rule itself: may `license` download `release` of `product` at `now`?
EntitlementDecision decide_entitlement(LicenseFacts const& license, db::Product const& product, db::Release const& release,
    int64_t now);

/// The facts of `license` that decide_entitlement reads at `now`, as a string: licenses with
/// equal strings get the same outcome for every release, so what one of them may have can be
/// worked out once for all of them (the RubyGems indexes). The expiry counts once passed.
std::string entitlement_class(LicenseFacts const& license, int64_t now);

}
