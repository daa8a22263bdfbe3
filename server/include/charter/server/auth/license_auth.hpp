#pragma once
// License authentication for customer downloads (/downloads/ and the RubyGems source): the
// credential a customer's client presents (the password of HTTP Basic, or Bearer) becomes the
// license it stands for, checked by LicenseKeys (signature, product, time) and by the database
// (known, revoked). Refusals are 401 with a Basic challenge, counted by AuthThrottle; a key not
// yet valid is 403.

#include "charter/server/auth/auth_throttle.hpp"
#include "charter/server/auth/license_keys.hpp"
#include "charter/server/customer/entitlement.hpp"
#include "charter/server/store_pool.hpp"

#include <httplib.h>

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
    LicenseAuth(StorePool& pool, LicenseKeys& keys, AuthThrottle& throttle);

    /// The license of a download request; on failure sets 401/403/429 (or the error's status)
    /// and returns nullopt. The license's status is read with `store` when given (the caller's
    /// read snapshot), else with a connection from the pool.
    std::optional<PresentedLicense> authenticate(httplib::Request const& request, httplib::Response& response,
        db::Store* store = nullptr);

private:
    /// The one place a presented credential becomes a license. A new kind of credential is
    /// recognised here (by its prefix) and ends, like a license key, in with_status.
    std::optional<PresentedLicense> license_of(std::string const& credential, httplib::Request const& request,
        httplib::Response& response, db::Store* store);
    /// What a license key's signed claims say, when its signature holds for the product it names.
    std::optional<PresentedLicense> claims_of_key(std::string const& key, httplib::Request const& request,
        httplib::Response& response);
    /// Completes `presented` with the database's word on the license: known, revoked and since when.
    std::optional<PresentedLicense> with_status(PresentedLicense presented, httplib::Request const& request,
        httplib::Response& response, db::Store* store);
    std::nullopt_t refuse(httplib::Request const& request, httplib::Response& response, std::string const& message);

    StorePool& m_pool;
    LicenseKeys& m_keys;
    AuthThrottle& m_throttle;
};

}
