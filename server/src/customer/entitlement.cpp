#include "charter/server/customer/entitlement.hpp"

#include "charter/format/rfc3339.hpp"

namespace charter::server {

namespace {

// Two instants for a customer: dates, unless both fall on the same day, where only the times
// show which came first.
std::pair<std::string, std::string> dates(int64_t first, int64_t second)
{
    auto a = format::format_date(first), b = format::format_date(second);
    if (a != b)
        return { a, b };
    return { format::format_rfc3339(first), format::format_rfc3339(second) };
}

// A license whose expiry took every release of its product.
std::string expired_sentence(LicenseFacts const& license, std::string const& product)
{
    return "license " + license.id + " expired on " + format::format_date(*license.expires_at) + "; renew it to download "
        + product + " releases";
}

}

LicenseFacts license_facts(db::License const& record)
{
    LicenseFacts facts;
    facts.id = record.id;
    facts.product = record.product_id;
    facts.signature_valid = true;
    facts.revoked = record.status == "revoked";
    facts.revoked_at = record.revoked_at;
    facts.suspended_at = record.suspended_at;
    if (record.suspended_at)
        facts.suspend_reason = record.suspend_reason.value_or(std::string());
    facts.expires_at = record.expires_at;
    facts.updates_until = record.updates_until;
    return facts;
}

std::optional<EntitlementDecision> license_refusal(LicenseFacts const& license)
{
    if (!license.signature_valid)
        return EntitlementDecision { Entitlement::invalid_key, "the license key is not valid; check that it was copied whole" };
    if (license.revoked)
        return EntitlementDecision { Entitlement::revoked, "license " + license.id + " has been revoked"
                + (license.revoked_at ? " (on " + format::format_date(*license.revoked_at) + ")" : std::string())
                + "; contact the vendor for a new key" };
    if (license.suspended_at) {
        auto const& reason = license.suspend_reason;
        return EntitlementDecision { Entitlement::suspended, "license " + license.id + " is suspended since "
                + format::format_date(*license.suspended_at) + (reason.empty() ? std::string() : " (" + reason + ")")
                + "; contact the vendor to reinstate it" };
    }
    return std::nullopt;
}

std::optional<EntitlementDecision> license_refusal(LicenseFacts const& license, db::Product const& product, int64_t now)
{
    if (auto refused = license_refusal(license))
        return refused;
    if (license.expires_at && now > *license.expires_at && !product.keep_access_after_expiry)
        return EntitlementDecision { Entitlement::expired, expired_sentence(license, product.id) };
    return std::nullopt;
}

EntitlementDecision decide_entitlement(LicenseFacts const& license, db::Product const& product, db::Release const& release,
    int64_t now)
{
    auto refuse = [](Entitlement outcome, std::string reason) { return EntitlementDecision { outcome, std::move(reason) }; };
    auto const name = release.product_id + " " + release.version;
    if (auto refused = license_refusal(license))
        return *refused;
    if (license.product != release.product_id || product.id != release.product_id)
        return refuse(Entitlement::wrong_product, "license " + license.id + " is for " + license.product + ", not "
                + release.product_id + "; use a license key for " + release.product_id);
    if (license.updates_until && release.released_at > *license.updates_until) {
        auto [ended, released] = dates(*license.updates_until, release.released_at);
        return refuse(Entitlement::updates_ended, "license " + license.id + ": updates ended on " + ended + " and " + name
                + " was released on " + released + "; download an earlier release or renew the license");
    }
    // Expired means now > exp, as in verify-lib: at exp itself the license still runs.
    if (license.expires_at && now > *license.expires_at) {
        if (!product.keep_access_after_expiry)
            return refuse(Entitlement::expired, expired_sentence(license, release.product_id));
        if (release.released_at >= *license.expires_at) {
            auto [expired, released] = dates(*license.expires_at, release.released_at);
            return refuse(Entitlement::expired, "license " + license.id + " expired on " + expired + " and " + name
                    + " was released on " + released
                    + "; only releases published before the expiry stay available, renew the license to download this one");
        }
    }
    return EntitlementDecision { Entitlement::allowed, {} };
}

std::string entitlement_class(LicenseFacts const& license, int64_t now)
{
    // Kept next to decide_entitlement: a fact the rule starts to read belongs here too.
    std::string key = license.signature_valid ? "valid" : "invalid";
    key += license.revoked ? " revoked" : " -";
    key += license.suspended_at ? " suspended" : " -";
    key += " updates_until:";
    if (license.updates_until)
        key += std::to_string(*license.updates_until);
    key += " expired_at:";
    if (license.expires_at && now > *license.expires_at)
        key += std::to_string(*license.expires_at);
    key += " product:";
    key += license.product;
    return key;
}

}
