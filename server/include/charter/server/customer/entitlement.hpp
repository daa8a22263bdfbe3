#pragma once
// The entitlement rule (docs/operations.md "Entitlement rule"), in one place for
// every download path (files, RubyGems): may this license have this release?
//
//   1. the license key's signature verified (the caller used verify-lib);
//   2. the license is not revoked (the database's status);
//   3. the license is for the release's product;
//   4. when the license has updates_until, the release was published at or before it;
//   5. after the license's exp: nothing — unless the product keeps access after expiry, in
//      which case only releases published before exp.

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
    std::optional<int64_t> expires_at;
    std::optional<int64_t> updates_until;
};

enum class Entitlement {
    allowed,
    invalid_key,
    revoked,
    wrong_product,
    updates_ended,
    expired,
};

struct EntitlementDecision {
    Entitlement outcome { Entitlement::invalid_key };
    std::string reason; // a sentence for the customer when refused

    bool allowed() const { return outcome == Entitlement::allowed; }
};

/// The refusals that depend on the license alone (a key that did not verify, a revoked
/// license), for answers about no particular release; nullopt when the license itself is fine.
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
