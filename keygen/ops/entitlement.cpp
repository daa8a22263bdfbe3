#include "entitlement.hpp"

#include "rfc3339.hpp"

namespace charter::ops {

EntitlementDecision decide_entitlement(LicenseFacts const& license, db::Product const& product, db::Release const& release,
    int64_t now)
{
    auto refuse = [](Entitlement outcome, std::string reason) { return EntitlementDecision { outcome, std::move(reason) }; };
    if (!license.signature_valid)
        return refuse(Entitlement::invalid_key, "the license key is not valid");
    if (license.revoked)
        return refuse(Entitlement::revoked, "license " + license.id + " has been revoked");
    if (license.product != release.product_id || product.id != release.product_id)
        return refuse(Entitlement::wrong_product, "license " + license.id + " is for " + license.product + ", not "
                + release.product_id);
    if (license.updates_until && release.released_at > *license.updates_until)
        return refuse(Entitlement::updates_ended, "license " + license.id + ": updates ended on "
                + format::format_date(*license.updates_until) + "; " + release.product_id + " " + release.version
                + " was released on " + format::format_date(release.released_at));
    if (license.expires_at && now > *license.expires_at) {
        if (!product.keep_access_after_expiry)
            return refuse(Entitlement::expired, "license " + license.id + " expired on " + format::format_date(*license.expires_at));
        if (release.released_at >= *license.expires_at)
            return refuse(Entitlement::expired, "license " + license.id + " expired on " + format::format_date(*license.expires_at)
                    + "; " + release.product_id + " " + release.version + " was released after that");
    }
    return EntitlementDecision { Entitlement::allowed, {} };
}

}
