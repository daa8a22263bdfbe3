#include "charter/server/auth/license_auth.hpp"

#include "charter/server/clock.hpp"
#include "charter/server/http/http_util.hpp"
#include "claims.hpp"

namespace charter::server {

LicenseAuth::LicenseAuth(StorePool& pool, LicenseKeys& keys, AuthThrottle& throttle)
    : m_pool(pool)
    , m_keys(keys)
    , m_throttle(throttle)
{
}

std::nullopt_t LicenseAuth::refuse(httplib::Request const& request, httplib::Response& response, std::string const& message)
{
    m_throttle.refuse(request, response, "Basic", message);
    return std::nullopt;
}

std::optional<PresentedLicense> LicenseAuth::authenticate(httplib::Request const& request, httplib::Response& response,
    db::Store* store)
{
    if (m_throttle.throttled(request, response))
        return std::nullopt;
    auto header = request.get_header_value("Authorization");
    if (header.starts_with("Basic ")) {
        auto credentials = decode_base64(header.substr(6));
        auto colon = credentials ? credentials->find(':') : std::string::npos;
        if (colon == std::string::npos)
            return refuse(request, response, "HTTP Basic credentials must be USER:LICENSE_KEY");
        return license_of(credentials->substr(colon + 1), request, response, store);
    }
    if (header.starts_with("Bearer "))
        return license_of(header.substr(7), request, response, store);
    return refuse(request, response,
        "send your license key: HTTP Basic with the key as the password, or Authorization: Bearer KEY");
}

std::optional<PresentedLicense> LicenseAuth::license_of(std::string const& credential, httplib::Request const& request,
    httplib::Response& response, db::Store* store)
{
    auto presented = claims_of_key(credential, request, response);
    if (!presented)
        return std::nullopt;
    return with_status(std::move(*presented), request, response, store);
}

std::optional<PresentedLicense> LicenseAuth::claims_of_key(std::string const& key, httplib::Request const& request,
    httplib::Response& response)
{
    // The key names its product; the signature (implicit assertion) decides whether that is true.
    // A key that verified before is not decoded again.
    std::string product = m_keys.product_of(key).value_or(std::string());
    if (product.empty()) {
        std::string detail;
        auto claimed = format::claimed_product(key, detail);
        if (!claimed)
            return refuse(request, response,
                "the license key is not valid: " + detail + "; check that it is the key the vendor sent, copied whole");
        product = std::move(*claimed);
    }
    // A key seen before skips Ed25519 (KeyChecker): customers' clients send the same key with
    // every index and file request. Revocation is read from the database every time (with_status).
    auto checked = m_keys.check(product, key, server_now());
    if (!checked) {
        send_failure(response, checked.error());
        return std::nullopt;
    }
    if (checked->status != CHARTER_OK && checked->status != CHARTER_E_EXPIRED) {
        if (checked->status == CHARTER_E_NOT_YET_VALID) {
            send_error(response, 403, "not_yet_valid", checked->message);
            return std::nullopt;
        }
        return refuse(request, response,
            "the license key is not valid: " + checked->message + "; check that it is the key the vendor sent, copied whole");
    }
    PresentedLicense presented;
    presented.facts.id = checked->license_id;
    presented.facts.product = product; // the implicit assertion held
    presented.facts.signature_valid = true;
    presented.facts.expires_at = checked->expires_at;
    presented.facts.updates_until = checked->updates_until;
    presented.customer = checked->customer;
    return presented;
}

std::optional<PresentedLicense> LicenseAuth::with_status(PresentedLicense presented, httplib::Request const& request,
    httplib::Response& response, db::Store* store)
{
    std::optional<StorePool::Lease> lease;
    if (!store) {
        auto leased = m_pool.lease();
        if (!leased) {
            send_failure(response, leased.error());
            return std::nullopt;
        }
        store = &*lease.emplace(std::move(*leased));
    }
    auto status = store->license_status(presented.facts.id);
    if (!status) {
        if (status.error().kind == ErrorKind::not_found)
            return refuse(request, response, "license " + presented.facts.id + " is not known to this server");
        send_failure(response, status.error());
        return std::nullopt;
    }
    presented.facts.revoked = *status == "revoked";
    if (presented.facts.revoked) {
        // The refusal says since when: one more read, for revoked licenses only.
        if (auto record = store->get_license(presented.facts.id))
            presented.facts.revoked_at = record->revoked_at;
    }
    return presented;
}

}
