#pragma once
// Changing a license after the sale: renewing, updating its terms, suspending and reinstating.
// The one code path behind `charter renew|license update|suspend|reinstate` and the admin API's
// POST /v1/licenses/{id}/renew|suspend|reinstate|revoke and PATCH /v1/licenses/{id}. Each change
// queues the customer's mail message (ops/mail_queue) in its own transaction.
//
// A change of terms signs a new version of the license's key: the same license id (jti), a new
// iat, the new terms, signed with the current signing key. The license is read, the new terms
// computed and the new version stored in one transaction (the caller's, when it has one), so
// two changes at once never compute from the same version. Earlier versions stay genuine keys:
// offline they verify until their own end; online the license's current terms decide.

#include "charter/db/store.hpp"
#include "charter/keygen/ops/time_input.hpp"
#include "charter/keygen/signing_key.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charter::ops {

/// Where a renewal's period starts.
enum class RenewalBasis {
    from_expiry,         // the current end: renewing early loses nothing (the default)
    from_now,            // now: the period runs from the renewal
    from_now_if_expired, // now when the license has ended, else its current end
};

/// "from-expiry", "from-now", "from-now-if-expired"; invalid_input naming the three otherwise.
Result<RenewalBasis> parse_renewal_basis(std::string_view text);
char const* renewal_basis_name(RenewalBasis basis);

/// What a renewal asks for: exactly one of `by`, `until`, `plan` (none: one period of the
/// plan the license remembers, when it has one).
struct RenewRequest {
    std::optional<std::string> by;    // a period ("1y") added to the basis
    std::optional<std::string> until; // the new end: RFC 3339, a date, or a duration from now
    std::optional<std::string> plan;  // one period of this plan, and the plan's terms
    std::optional<RenewalBasis> basis; // absent: from_expiry; only with `by` or a plan
    bool keep_updates { false }; // updates_until stays where it is
};

/// What `charter license update` and PATCH /v1/licenses/{id} change; absent fields stay.
struct UpdateRequest {
    std::vector<std::string> add_entitlements;
    std::vector<std::string> remove_entitlements;
    std::optional<int64_t> seats;
    std::optional<std::string> name;
    std::optional<std::string> expires;       // RFC 3339, a date, or a duration from now
    std::optional<std::string> updates_until; // same forms
    /// Moves the license to this plan (of its product): the plan's entitlements and seats, and
    /// the license remembers it (billing: a subscription's price changed). Applied before the
    /// other fields.
    std::optional<std::string> plan;

    bool empty() const
    {
        return add_entitlements.empty() && remove_entitlements.empty() && !seats && !name && !expires && !updates_until
            && !plan;
    }
};

/// A change's outcome: the license as it is now, and whether a new version was signed (an
/// update that asks for the terms the license already has signs nothing).
struct ChangedLicense {
    db::License license;
    bool new_version { false };
};

/// Renews and updates licenses, signing their new versions with `key` (the current signing key).
class LicenseChanges {
public:
    LicenseChanges(db::Store& store, keygen::SigningKey const& key)
        : m_store(store)
        , m_key(key)
    {
    }

    /// A new version whose end is the basis + the period (or `until`); updates_until keeps its
    /// distance to the end (with a plan: the period's start + the plan's updates_for) unless
    /// keep_updates. Refused, with nothing written: a revoked license (conflict, saying since
    /// when), a perpetual one from its expiry, an end that is not after now or before the
    /// current end (a renewal never shortens: `license update --expires` does), an unknown plan
    /// (not_found) or another product's plan.
    Result<ChangedLicense> renew(std::string const& id, RenewRequest const& request, db::Actor const& actor, int64_t now);

    /// A new version with the changed terms, when they change. Refused, with nothing written: a
    /// revoked license, nothing asked, an entitlement removed that the license does not have
    /// (or added and removed at once), an end or updates_until that is not after now.
    Result<ChangedLicense> update(std::string const& id, UpdateRequest const& request, db::Actor const& actor, int64_t now);

private:
    // Signs `claims` (the current ones with the new terms) as the next version and stores it.
    Result<ChangedLicense> store_version(db::License const& current, keygen::LicenseClaims claims,
        std::optional<std::string> plan_id, db::LicenseChange const& change, db::Actor const& actor);

    db::Store& m_store;
    keygen::SigningKey const& m_key;
};

/// Suspends a license (online refusals with `reason` until reinstated); the license as it is now.
Result<db::License> suspend_license(db::Store& store, std::string const& id, std::string const& reason,
    db::Actor const& actor, int64_t now);
/// Lifts a suspension; the license as it is now.
Result<db::License> reinstate_license(db::Store& store, std::string const& id, db::Actor const& actor, int64_t now);
/// Revokes a license for good (`charter revoke`, POST /v1/licenses/{id}/revoke). ErrorKind::conflict
/// when it is revoked already.
Result<void> revoke_license(db::Store& store, std::string const& id, std::optional<std::string> const& reason,
    db::Actor const& actor, int64_t now);

}
