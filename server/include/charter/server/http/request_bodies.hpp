#pragma once
// The JSON bodies of the POST endpoints (docs/api.md) as request structs: the
// Content-Type, JSON syntax, field types, unknown and required fields, and the checks that need
// no database. The handlers call these before they lease a store; tests and fuzz/ call them
// with a hand-made httplib::Request.

#include "charter/keygen/ops/license_changes.hpp"
#include "charter/keygen/ops/licensing.hpp"

#include <httplib.h>

#include <optional>
#include <string>

namespace charter::server {

/// POST /v1/licenses/{id}/revoke (the body is optional).
struct RevokeRequest {
    std::optional<std::string> reason;
};

/// POST /v1/licenses/{id}/suspend.
struct SuspendRequest {
    std::string reason; // required: the customer is shown it
};

/// POST /v1/customers.
struct NewCustomer {
    std::string email; // has an '@' with text on both sides, no spaces or list separators
    std::optional<std::string> name;
};

/// POST /v1/products.
struct NewProduct {
    std::string id; // 1 to 64 characters of a-z, 0-9, '-', '_' and '.'
    std::optional<std::string> name;
    std::optional<bool> keep_access_after_expiry;
};

/// POST /v1/licenses/{id}/credentials.
struct NewCredential {
    std::string name; // checked by ops::create_credential (one line, 1 to 100 bytes)
};

/// POST /v1/validate.
struct ValidateRequest {
    std::string key;
    std::string product; // not empty
};

// Each reads request.body (and its Content-Type and Content-Length headers). On a body the
// endpoint refuses, it sets the error response (400, 411, 415 or 422) and returns nullopt;
// otherwise it leaves the response alone.

/// POST /v1/licenses: the idempotency fields are left empty (they come from a header).
std::optional<ops::IssueRequest> read_issue_request(httplib::Request const& request, httplib::Response& response);
/// POST /v1/licenses/{id}/renew: {"by"|"until"|"plan", "basis", "keep_updates"} (an empty body
/// renews by one period of the license's plan).
std::optional<ops::RenewRequest> read_renew_request(httplib::Request const& request, httplib::Response& response);
/// PATCH /v1/licenses/{id}: {"add_entitlements", "remove_entitlements", "seats", "name",
/// "expires", "updates_until"}.
std::optional<ops::UpdateRequest> read_update_request(httplib::Request const& request, httplib::Response& response);
std::optional<SuspendRequest> read_suspend_request(httplib::Request const& request, httplib::Response& response);
std::optional<RevokeRequest> read_revoke_request(httplib::Request const& request, httplib::Response& response);
std::optional<NewCustomer> read_new_customer(httplib::Request const& request, httplib::Response& response);
std::optional<NewProduct> read_new_product(httplib::Request const& request, httplib::Response& response);
std::optional<NewCredential> read_new_credential(httplib::Request const& request, httplib::Response& response);
std::optional<ValidateRequest> read_validate_request(httplib::Request const& request, httplib::Response& response);

}
