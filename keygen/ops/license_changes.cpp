#include "charter/keygen/ops/license_changes.hpp"

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "charter/keygen/ops/mail_queue.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace charter::ops {

namespace {

using Json = nlohmann::ordered_json;

Json time_or_null(std::optional<int64_t> const& time)
{
    return time ? Json(format::format_rfc3339(*time)) : Json(nullptr);
}

Error revoked(db::License const& license, char const* what)
{
    return make_error(ErrorKind::conflict, "license " + license.id + " is revoked"
            + (license.revoked_at ? " (since " + format::format_date(*license.revoked_at) + ")" : std::string())
            + "; a revoked license cannot be " + what + ", issue a new one");
}

// The plan a renewal uses: the one named, else the one the license remembers (when no period
// or end is given).
Result<std::optional<db::Plan>> renewal_plan(db::Store& store, db::License const& license, RenewRequest const& request)
{
    std::optional<std::string> name = request.plan;
    if (!name && !request.by && !request.until)
        name = license.plan_id;
    if (!name)
        return make_error(ErrorKind::invalid_input, "license " + license.id
                + " has no plan to renew by; give --by PERIOD (like 1y), --until TIME or --plan NAME");
    auto plan = store.get_plan(*name);
    if (!plan)
        return plan.error();
    if (plan->product_id != license.product_id)
        return make_error(ErrorKind::invalid_input, "plan " + plan->id + " is for product " + plan->product_id + ", and license "
                + license.id + " is for " + license.product_id + "; choose a plan of " + license.product_id);
    return std::optional<db::Plan>(std::move(*plan));
}

}

Result<RenewalBasis> parse_renewal_basis(std::string_view text)
{
    if (text == "from-expiry")
        return RenewalBasis::from_expiry;
    if (text == "from-now")
        return RenewalBasis::from_now;
    if (text == "from-now-if-expired")
        return RenewalBasis::from_now_if_expired;
    return make_error(ErrorKind::invalid_input,
        "basis \"" + std::string(text) + "\" is not one of from-expiry, from-now, from-now-if-expired");
}

char const* renewal_basis_name(RenewalBasis basis)
{
    switch (basis) {
    case RenewalBasis::from_expiry:
        return "from-expiry";
    case RenewalBasis::from_now:
        return "from-now";
    case RenewalBasis::from_now_if_expired:
        return "from-now-if-expired";
    }
    return "from-expiry";
}

Result<ChangedLicense> LicenseChanges::renew(std::string const& id, RenewRequest const& request, db::Actor const& actor,
    int64_t now)
{
    if (int(request.by.has_value()) + int(request.until.has_value()) + int(request.plan.has_value()) > 1)
        return make_error(ErrorKind::invalid_input, "give one of --by PERIOD, --until TIME or --plan NAME, not several");
    if (request.until && request.basis)
        return make_error(ErrorKind::invalid_input,
            "--basis applies to --by and --plan (where the period starts); --until gives the end itself");
    std::optional<Period> by;
    if (request.by) {
        auto parsed = parse_period(*request.by, "by");
        if (!parsed)
            return parsed.error();
        by = *parsed;
    }
    std::optional<ChangedLicense> renewed;
    auto done = m_store.transaction([&]() -> Result<void> {
        auto current = m_store.get_license(id);
        if (!current)
            return current.error();
        if (current->status == "revoked")
            return revoked(*current, "renewed");
        std::optional<db::Plan> plan;
        if (!request.by && !request.until) {
            auto found = renewal_plan(m_store, *current, request);
            if (!found)
                return found.error();
            plan = std::move(*found);
        }
        auto old_end = current->expires_at;

        // The period's start, and the new end.
        auto basis = request.basis.value_or(RenewalBasis::from_expiry);
        int64_t start = now;
        int64_t end = 0;
        if (request.until) {
            auto until = parse_time_input(*request.until, now, "until");
            if (!until)
                return until.error();
            end = *until;
        } else {
            bool ended = old_end && now > *old_end;
            bool from_expiry = basis == RenewalBasis::from_expiry || (basis == RenewalBasis::from_now_if_expired && !ended);
            if (from_expiry) {
                if (!old_end)
                    return make_error(ErrorKind::invalid_input, "license " + id
                            + " is perpetual (it has no end), so there is no expiry to renew from; give --basis from-now "
                              "to start its first period now, or --until TIME");
                start = *old_end;
            }
            auto period = by;
            if (plan) {
                auto parsed = parse_period(plan->duration, "plan " + plan->id + "'s duration");
                if (!parsed)
                    return parsed.error();
                period = *parsed;
            }
            auto added = add_period(start, *period, "the renewed end");
            if (!added)
                return added.error();
            end = *added;
        }
        if (end <= now)
            return make_error(ErrorKind::invalid_input, "the renewed license would end on " + format::format_rfc3339(end)
                    + ", which is not after now (" + format::format_rfc3339(now) + ")"
                    + (request.until ? "; give a later --until" : "; renew --basis from-now-if-expired, or by a longer period"));
        if (old_end && end <= *old_end)
            return make_error(ErrorKind::invalid_input, "the renewed end " + format::format_rfc3339(end)
                    + " is not after the license's current end " + format::format_rfc3339(*old_end)
                    + "; a renewal extends a license (shorten one with `charter license update --expires`)");

        // updates_until keeps its distance to the end, or follows the plan from the period's start.
        auto updates_until = current->updates_until;
        if (!request.keep_updates) {
            if (plan) {
                updates_until.reset();
                if (plan->updates_for) {
                    auto period = parse_period(*plan->updates_for, "plan " + plan->id + "'s updates_for");
                    if (!period)
                        return period.error();
                    auto until = add_period(start, *period, "the renewed updates_until");
                    if (!until)
                        return until.error();
                    updates_until = *until;
                }
            } else if (updates_until && old_end) {
                *updates_until += end - *old_end;
            }
        }

        auto claims = keygen::claims_from_json(current->claims_json);
        if (!claims)
            return claims.error();
        claims->expires_at = end;
        claims->updates_until = updates_until;
        if (claims->not_before && *claims->not_before >= end)
            return make_error(ErrorKind::invalid_input, "the renewed end is not after the license's not_before");
        if (plan) {
            claims->entitlements = plan->entitlements;
            claims->seats = plan->seats;
        }
        Json details;
        details["version"] = current->version + 1;
        details["basis"] = request.until ? Json(nullptr) : Json(renewal_basis_name(basis));
        details["previous_expires_at"] = time_or_null(old_end);
        details["expires_at"] = format::format_rfc3339(end);
        details["previous_updates_until"] = time_or_null(current->updates_until);
        details["updates_until"] = time_or_null(updates_until);
        details["plan"] = plan ? Json(plan->id) : Json(nullptr);
        db::LicenseChange change { "license.renew", "renew", details.dump(), now };
        auto plan_id = plan ? std::optional<std::string>(plan->id) : current->plan_id;
        auto stored = store_version(*current, std::move(*claims), plan_id, change, actor);
        if (!stored)
            return stored.error();
        renewed = std::move(*stored);
        return {};
    });
    if (!done)
        return done.error();
    return std::move(*renewed);
}

Result<ChangedLicense> LicenseChanges::update(std::string const& id, UpdateRequest const& request, db::Actor const& actor,
    int64_t now)
{
    if (request.empty())
        return make_error(ErrorKind::invalid_input,
            "nothing to update; give --entitlement +NAME or -NAME, --seats, --name, --expires or --updates-until");
    for (auto const& name : request.add_entitlements) {
        if (auto checked = check_license_text(name, "an entitlement name"); !checked)
            return checked.error();
        if (std::count(request.remove_entitlements.begin(), request.remove_entitlements.end(), name) > 0)
            return make_error(ErrorKind::invalid_input, "entitlement \"" + name + "\" is both added and removed; give it once");
    }
    if (request.seats) {
        if (auto checked = check_seats(*request.seats); !checked)
            return checked.error();
    }
    if (request.name) {
        if (auto checked = check_license_text(*request.name, "name"); !checked)
            return checked.error();
    }
    auto expires = parse_optional_time(request.expires, now, "expires");
    if (!expires)
        return expires.error();
    auto updates_until = parse_optional_time(request.updates_until, now, "updates_until");
    if (!updates_until)
        return updates_until.error();
    if (*expires && **expires <= now)
        return make_error(ErrorKind::invalid_input, "expires " + format::format_rfc3339(**expires) + " is not after now ("
                + format::format_rfc3339(now) + "); to stop a license at once, suspend or revoke it");
    if (*updates_until && **updates_until <= now)
        return make_error(ErrorKind::invalid_input, "updates_until " + format::format_rfc3339(**updates_until)
                + " is not after now (" + format::format_rfc3339(now) + ")");

    std::optional<ChangedLicense> updated;
    auto done = m_store.transaction([&]() -> Result<void> {
        auto current = m_store.get_license(id);
        if (!current)
            return current.error();
        if (current->status == "revoked")
            return revoked(*current, "changed");
        auto claims = keygen::claims_from_json(current->claims_json);
        if (!claims)
            return claims.error();
        auto before = *claims;
        auto plan_id = current->plan_id;
        if (request.plan) {
            auto plan = m_store.get_plan(*request.plan);
            if (!plan)
                return plan.error();
            if (plan->product_id != current->product_id)
                return make_error(ErrorKind::invalid_input, "plan " + plan->id + " is for product " + plan->product_id
                        + ", and license " + id + " is for " + current->product_id + "; choose a plan of " + current->product_id);
            claims->entitlements = plan->entitlements;
            claims->seats = plan->seats;
            plan_id = plan->id;
        }
        for (auto const& name : request.remove_entitlements) {
            auto found = std::find(claims->entitlements.begin(), claims->entitlements.end(), name);
            if (found == claims->entitlements.end()) {
                std::string has;
                for (auto const& entitlement : claims->entitlements)
                    has += (has.empty() ? "" : ", ") + entitlement;
                return make_error(ErrorKind::invalid_input, "license " + id + " has no entitlement \"" + name + "\" to remove ("
                        + (has.empty() ? std::string("it has none") : "it has " + has) + ")");
            }
            claims->entitlements.erase(found);
        }
        for (auto const& name : request.add_entitlements) {
            if (std::find(claims->entitlements.begin(), claims->entitlements.end(), name) == claims->entitlements.end())
                claims->entitlements.push_back(name);
        }
        if (request.seats)
            claims->seats = request.seats;
        if (request.name)
            claims->name = request.name;
        if (*expires)
            claims->expires_at = *expires;
        if (*updates_until)
            claims->updates_until = *updates_until;
        if (claims->not_before && claims->expires_at && *claims->not_before >= *claims->expires_at)
            return make_error(ErrorKind::invalid_input, "expires is not after the license's not_before");
        bool same = claims->entitlements == before.entitlements && claims->seats == before.seats && claims->name == before.name
            && claims->expires_at == before.expires_at && claims->updates_until == before.updates_until
            && plan_id == current->plan_id;
        if (same) {
            updated = ChangedLicense { std::move(*current), false };
            return {};
        }
        Json changed = Json::object();
        if (claims->entitlements != before.entitlements)
            changed["entitlements"] = claims->entitlements;
        if (claims->seats != before.seats)
            changed["seats"] = *claims->seats;
        if (claims->name != before.name)
            changed["name"] = *claims->name;
        if (claims->expires_at != before.expires_at)
            changed["expires_at"] = time_or_null(claims->expires_at);
        if (claims->updates_until != before.updates_until)
            changed["updates_until"] = time_or_null(claims->updates_until);
        if (plan_id != current->plan_id)
            changed["plan"] = plan_id ? Json(*plan_id) : Json(nullptr);
        Json details { { "version", current->version + 1 }, { "changed", changed } };
        db::LicenseChange change { "license.update", "update", details.dump(), now };
        auto stored = store_version(*current, std::move(*claims), plan_id, change, actor);
        if (!stored)
            return stored.error();
        updated = std::move(*stored);
        return {};
    });
    if (!done)
        return done.error();
    return std::move(*updated);
}

Result<ChangedLicense> LicenseChanges::store_version(db::License const& current, keygen::LicenseClaims claims,
    std::optional<std::string> plan_id, db::LicenseChange const& change, db::Actor const& actor)
{
    claims.issued_at = change.at;
    auto signed_license = sign_license_checked(m_key, claims);
    if (!signed_license)
        return signed_license.error();
    db::License next = current;
    next.token = std::move(signed_license->token);
    next.claims_json = std::move(signed_license->claims_json);
    next.kid = m_key.kid();
    next.issued_at = change.at;
    next.expires_at = claims.expires_at;
    next.updates_until = claims.updates_until;
    next.plan_id = std::move(plan_id);
    next.version = current.version + 1;
    next.version_reason = change.reason;
    next.idempotency.reset();
    if (auto stored = m_store.add_license_version(next, change, actor); !stored)
        return stored.error();
    // The customer's message, in the change's transaction: what changed is the audit row's details.
    auto kind = change.reason == "renew" ? MailKind::renewed : MailKind::updated;
    if (auto queued = queue_license_mail(m_store, kind, next, change.details_json, change.at); !queued)
        return queued.error();
    return ChangedLicense { std::move(next), true };
}

Result<db::License> suspend_license(db::Store& store, std::string const& id, std::string const& reason,
    db::Actor const& actor, int64_t now)
{
    if (auto checked = check_license_text(reason, "the reason (the customer is shown it)"); !checked)
        return checked.error();
    std::optional<db::License> license;
    auto done = store.transaction([&]() -> Result<void> {
        if (auto suspended = store.suspend_license(id, reason, now, actor); !suspended)
            return suspended;
        auto suspended = store.get_license(id);
        if (!suspended)
            return suspended.error();
        license = std::move(*suspended);
        return queue_license_mail(store, MailKind::suspended, *license, Json { { "reason", reason } }.dump(), now);
    });
    if (!done)
        return done.error();
    return std::move(*license);
}

Result<db::License> reinstate_license(db::Store& store, std::string const& id, db::Actor const& actor, int64_t now)
{
    std::optional<db::License> license;
    auto done = store.transaction([&]() -> Result<void> {
        if (auto reinstated = store.reinstate_license(id, now, actor); !reinstated)
            return reinstated;
        auto reinstated = store.get_license(id);
        if (!reinstated)
            return reinstated.error();
        license = std::move(*reinstated);
        return queue_license_mail(store, MailKind::reinstated, *license, "{}", now);
    });
    if (!done)
        return done.error();
    return std::move(*license);
}

Result<void> revoke_license(db::Store& store, std::string const& id, std::optional<std::string> const& reason,
    db::Actor const& actor, int64_t now)
{
    return store.transaction([&]() -> Result<void> {
        if (auto revoked = store.revoke_license(id, reason, now, actor); !revoked)
            return revoked;
        auto license = store.get_license(id);
        if (!license)
            return license.error();
        return queue_license_mail(store, MailKind::revoked, *license, Json { { "reason", reason ? Json(*reason) : Json(nullptr) } }.dump(),
            now);
    });
}

}
