#include "charter/keygen/ops/json_views.hpp"

#include "charter/format/rfc3339.hpp"

namespace charter::ops {

namespace {

Json time_or_null(std::optional<int64_t> const& time)
{
    return time ? Json(format::format_rfc3339(*time)) : Json(nullptr);
}

}

std::string license_state(db::License const& license, int64_t now)
{
    return db::state_name(db::state_at(license, now));
}

Json license_json(db::License const& license, int64_t now, bool include_key)
{
    Json json;
    json["id"] = license.id;
    json["product"] = license.product_id;
    json["customer"] = license.customer_id;
    json["status"] = license_state(license, now);
    json["issued_at"] = format::format_rfc3339(license.issued_at);
    json["expires_at"] = time_or_null(license.expires_at);
    json["updates_until"] = time_or_null(license.updates_until);
    json["revoked_at"] = time_or_null(license.revoked_at);
    json["revoke_reason"] = license.revoke_reason ? Json(*license.revoke_reason) : Json(nullptr);
    json["suspended_at"] = time_or_null(license.suspended_at);
    json["suspend_reason"] = license.suspend_reason ? Json(*license.suspend_reason) : Json(nullptr);
    json["plan"] = license.plan_id ? Json(*license.plan_id) : Json(nullptr);
    json["version"] = license.version;
    json["kid"] = license.kid;
    json["claims"] = Json::parse(license.claims_json, nullptr, false);
    if (include_key)
        json["key"] = license.token;
    return json;
}

Json license_version_json(db::LicenseVersion const& version, bool include_key)
{
    Json json;
    json["version"] = version.version;
    json["reason"] = version.reason;
    json["issued_at"] = format::format_rfc3339(version.issued_at);
    json["expires_at"] = time_or_null(version.expires_at);
    json["updates_until"] = time_or_null(version.updates_until);
    json["plan"] = version.plan_id ? Json(*version.plan_id) : Json(nullptr);
    json["actor"] = version.actor;
    json["kid"] = version.kid;
    if (include_key)
        json["key"] = version.token;
    return json;
}

Json plan_json(db::Plan const& plan)
{
    return Json { { "id", plan.id }, { "product", plan.product_id }, { "duration", plan.duration },
        { "updates_for", plan.updates_for ? Json(*plan.updates_for) : Json(nullptr) }, { "entitlements", plan.entitlements },
        { "seats", plan.seats ? Json(*plan.seats) : Json(nullptr) }, { "grace_seconds", plan.grace_seconds },
        { "seat_counting", plan.seat_counting }, { "lease_seconds", plan.lease_seconds }, { "reminders", plan.reminders },
        { "stripe_prices", plan.stripe_prices }, { "on_payment_failed", plan.on_payment_failed },
        { "on_cancel", plan.on_cancel }, { "on_refund", plan.on_refund },
        { "created_at", format::format_rfc3339(plan.created_at) }, { "updated_at", format::format_rfc3339(plan.updated_at) } };
}

Json customer_json(db::Customer const& customer)
{
    return Json { { "id", customer.id }, { "email", customer.email }, { "name", customer.name },
        { "created_at", format::format_rfc3339(customer.created_at) } };
}

Json product_json(db::Product const& product)
{
    return Json { { "id", product.id }, { "name", product.name }, { "keep_access_after_expiry", product.keep_access_after_expiry },
        { "created_at", format::format_rfc3339(product.created_at) } };
}

Json signing_key_json(db::SigningKeyRecord const& key)
{
    return Json { { "kid", key.kid }, { "public_key", key.public_paserk }, { "status", key.status }, { "current", key.current },
        { "created_at", format::format_rfc3339(key.created_at) }, { "retired_at", time_or_null(key.retired_at) } };
}

Json audit_json(db::AuditEntry const& entry)
{
    return Json { { "id", entry.id }, { "at", format::format_rfc3339(entry.at) }, { "actor", entry.actor },
        { "action", entry.action }, { "subject", entry.subject },
        { "details", Json::parse(entry.details_json, nullptr, false) } };
}

Json admin_token_json(db::AdminToken const& token)
{
    return Json { { "id", token.id }, { "name", token.name }, { "scopes", token.scopes },
        { "created_at", format::format_rfc3339(token.created_at) }, { "revoked_at", time_or_null(token.revoked_at) },
        { "last_used_at", time_or_null(token.last_used_at) } };
}

Json credential_json(db::Credential const& credential)
{
    return Json { { "id", credential.id }, { "license", credential.license_id }, { "name", credential.name },
        { "created_at", format::format_rfc3339(credential.created_at) }, { "revoked_at", time_or_null(credential.revoked_at) },
        { "last_used_at", time_or_null(credential.last_used_at) },
        { "last_used_from", credential.last_used_from ? Json(*credential.last_used_from) : Json(nullptr) } };
}

Json release_json(db::Release const& release)
{
    return Json { { "id", release.id }, { "product", release.product_id }, { "version", release.version },
        { "filename", release.filename }, { "size", release.size }, { "sha256", release.sha256 },
        { "released_at", format::format_rfc3339(release.released_at) }, { "yanked", release.yanked } };
}

Json download_json(db::DownloadLogEntry const& entry)
{
    auto const& download = entry.download;
    auto const* release = entry.release ? &*entry.release : nullptr;
    auto or_null = [](std::optional<std::string> const& text) { return text ? Json(*text) : Json(nullptr); };
    return Json { { "id", download.id }, { "at", format::format_rfc3339(download.at) }, { "outcome", download.outcome },
        { "license", or_null(download.license_id) }, { "release", or_null(download.release_id) },
        { "product", release ? Json(release->product_id) : Json(nullptr) },
        { "version", release ? Json(release->version) : Json(nullptr) },
        { "filename", release ? Json(release->filename) : Json(nullptr) }, { "bytes", download.bytes },
        { "remote_address", download.remote_address } };
}

}
