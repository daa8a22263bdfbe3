#include "charter/server/auth/license_auth.hpp"

#include "charter/format/claims.hpp"
#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/credentials.hpp"
#include "charter/server/clock.hpp"
#include "charter/server/http/hardening.hpp"
#include "charter/server/http/http_util.hpp"

#include <sodium.h>

namespace charter::server {

namespace {

constexpr auto credential_touch_interval = std::chrono::seconds(60);

// Over a fair-use limit: 429 with Retry-After, the sentence also as the status line's reason
// phrase (what Bundler and gem print), and the connection closed after the answer: a keep-alive
// connection holds a worker thread for its life, so a client in a loop would otherwise keep
// workers from the other customers' requests.
std::nullopt_t too_many(httplib::Response& response, int64_t wait, std::string const& what)
{
    auto sentence = what + "; retry in " + std::to_string(wait) + " s, and slow the client down (a CI job in a loop?)";
    response.set_header("Retry-After", std::to_string(wait));
    send_error(response, 429, "too_many_requests", sentence);
    response.reason = sentence;
    close_after_answer(response);
    return std::nullopt;
}

}

LicenseAuth::LicenseAuth(StorePool& pool, LicenseKeys& keys, AuthThrottle& throttle, int64_t credential_requests_per_minute,
    int64_t license_requests_per_minute)
    : m_pool(pool)
    , m_keys(keys)
    , m_throttle(throttle)
    , m_credential_limiter(credential_requests_per_minute)
    , m_license_limiter(license_requests_per_minute)
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

std::optional<PresentedLicense> LicenseAuth::authenticate_secret(std::string const& secret, httplib::Request const& request,
    httplib::Response& response, db::Store* store)
{
    if (m_throttle.throttled(request, response))
        return std::nullopt;
    return license_of(secret, request, response, store);
}

std::optional<PresentedLicense> LicenseAuth::license_of(std::string const& credential, httplib::Request const& request,
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
    std::optional<PresentedLicense> presented;
    if (ops::is_credential_secret(credential)) {
        presented = license_of_credential(credential, request, response, *store);
    } else {
        presented = claims_of_key(credential, request, response);
        if (presented)
            presented = with_status(std::move(*presented), request, response, *store);
    }
    if (!presented)
        return std::nullopt;
    if (auto wait = m_license_limiter.take(presented->facts.id); wait > 0)
        return too_many(response, wait, "too many requests for license " + presented->facts.id);
    return presented;
}

std::optional<PresentedLicense> LicenseAuth::license_of_credential(std::string const& secret, httplib::Request const& request,
    httplib::Response& response, db::Store& store)
{
    auto hash = ops::credential_hash(secret);
    auto found = store.find_credential_by_hash(hash);
    if (!found) {
        send_failure(response, found.error());
        return std::nullopt;
    }
    // The lookup is by hash; the final comparison is in constant time all the same.
    if (!*found || (*found)->hash.size() != hash.size() || sodium_memcmp((*found)->hash.data(), hash.data(), hash.size()) != 0)
        return refuse(request, response,
            "the credential is not valid: no credential has this secret; check that it was copied whole, or ask the vendor for a new one");
    auto const& credential = **found;
    if (credential.revoked_at)
        return refuse(request, response, "credential " + credential.id + " (\"" + credential.name + "\") was revoked on "
                + format::format_date(*credential.revoked_at) + "; ask the vendor for a new credential, or use the license key");
    if (auto wait = m_credential_limiter.take(credential.id); wait > 0)
        return too_many(response, wait,
            "too many requests with credential \"" + credential.name + "\" (" + credential.id + ") of license " + credential.license_id);
    touch(credential, request.remote_addr);
    // The license's record decides, as it does for any genuine version of the license's key.
    auto record = store.get_license(credential.license_id);
    if (!record) {
        send_failure(response, record.error());
        return std::nullopt;
    }
    // The credential is genuine (the database made it): it stands for its license as a key does.
    PresentedLicense presented;
    presented.facts = license_facts(*record);
    presented.customer = record->customer_id;
    return presented;
}

void LicenseAuth::touch(db::Credential const& credential, std::string const& address)
{
    auto steady_now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(m_touch_mutex);
        auto [touched, first] = m_credential_touched.try_emplace(credential.id, steady_now);
        if (!first && steady_now - touched->second < credential_touch_interval)
            return;
        touched->second = steady_now;
    }
    // A connection of its own: the caller's may be inside a read snapshot.
    auto store = m_pool.lease();
    if (!store)
        return;
    (void)(*store)->touch_credential(credential.id, server_now(), address);
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
    // every index and file request. The license's record is read from the database every time
    // (with_status): only what the key itself proves is remembered, never the license's state.
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
    // Any genuine version of a license's key (its own exp passed or not) stands for the license:
    // with_status puts the license's current terms in place of the key's.
    PresentedLicense presented;
    presented.facts.id = checked->license_id;
    presented.customer = checked->customer;
    return presented;
}

std::optional<PresentedLicense> LicenseAuth::with_status(PresentedLicense presented, httplib::Request const& request,
    httplib::Response& response, db::Store& store)
{
    // One read of the license's record: its state and its current terms decide, whichever
    // genuine version of its key (or which credential of the license) was presented.
    auto record = store.get_license(presented.facts.id);
    if (!record) {
        if (record.error().kind == ErrorKind::not_found)
            return refuse(request, response, "license " + presented.facts.id + " is not known to this server");
        send_failure(response, record.error());
        return std::nullopt;
    }
    presented.facts = license_facts(*record);
    return presented;
}

}
