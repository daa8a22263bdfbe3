#pragma once
// License authentication for customer downloads (/downloads/ and the RubyGems source): the
// credential a customer's client presents (the password of HTTP Basic, or Bearer) becomes the
// license it stands for, checked by LicenseKeys (signature, product, nbf) and by the database
// (known; its record's current terms and state decide, whichever version of its key was sent). Refusals are 401 with a Basic challenge, counted by AuthThrottle; a key not
// yet valid is 403.

#include "charter/server/auth/auth_throttle.hpp"
#include "charter/server/auth/license_keys.hpp"
#include "charter/server/auth/request_limiter.hpp"
#include "charter/server/customer/entitlement.hpp"
#include "charter/server/store_pool.hpp"

#include <httplib.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace charter::server {

/// A license presented by a customer, as the entitlement rule needs it.
struct PresentedLicense {
    LicenseFacts facts;
    std::string customer;
};

class LicenseAuth {
public:
    /// `credential_requests_per_minute`, `license_requests_per_minute`: the fair-use limits
    /// (RequestLimiter; 0 is none). Every request of a license counts towards its limit, whether
    /// it presents the key or a credential.
    LicenseAuth(StorePool& pool, LicenseKeys& keys, AuthThrottle& throttle, int64_t credential_requests_per_minute = 0,
        int64_t license_requests_per_minute = 0);

    /// The license of a download request; on failure sets 401/403/429 (or the error's status)
    /// and returns nullopt. The license's status is read with `store` when given (the caller's
    /// read snapshot), else with a connection from the pool.
    std::optional<PresentedLicense> authenticate(httplib::Request const& request, httplib::Response& response,
        db::Store* store = nullptr);

    /// A key or credential typed into a form (the portal's sign-in) as the license it stands
    /// for: the same throttle, checks, refusals and counting as authenticate() gives a header.
    /// On failure `response` holds the refusal (its status and JSON error with the sentence).
    std::optional<PresentedLicense> authenticate_secret(std::string const& secret, httplib::Request const& request,
        httplib::Response& response, db::Store* store = nullptr);

private:
    /// The one place a presented credential becomes a license, recognised by its prefix: a
    /// download credential (license_of_credential) or a license key (claims_of_key, then
    /// with_status); then the license's request limit.
    std::optional<PresentedLicense> license_of(std::string const& credential, httplib::Request const& request,
        httplib::Response& response, db::Store* store);
    /// A download credential ("cdl_…", looked up by its hash) as the license it stands for:
    /// the license's record decides, as for any version of its key.
    std::optional<PresentedLicense> license_of_credential(std::string const& secret, httplib::Request const& request,
        httplib::Response& response, db::Store& store);
    /// Records a credential's last use, at most once a minute per credential.
    void touch(db::Credential const& credential, std::string const& address);
    /// What a license key's signed claims say, when its signature holds for the product it names.
    std::optional<PresentedLicense> claims_of_key(std::string const& key, httplib::Request const& request,
        httplib::Response& response);
    /// Completes `presented` (whose facts.id names the license) with the license's record, read
    /// once: known, its current terms, revoked or suspended and since when (license_facts).
    std::optional<PresentedLicense> with_status(PresentedLicense presented, httplib::Request const& request,
        httplib::Response& response, db::Store& store);
    std::nullopt_t refuse(httplib::Request const& request, httplib::Response& response, std::string const& message);

    StorePool& m_pool;
    LicenseKeys& m_keys;
    AuthThrottle& m_throttle;
    RequestLimiter m_credential_limiter;
    RequestLimiter m_license_limiter;
    std::mutex m_touch_mutex;
    std::map<std::string, std::chrono::steady_clock::time_point> m_credential_touched;
};

}
