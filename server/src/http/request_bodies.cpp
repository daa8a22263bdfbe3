#include "charter/server/http/request_bodies.hpp"

#include "charter/keygen/ops/customers.hpp"
#include "charter/server/http/http_util.hpp"

#include <algorithm>

namespace charter::server {

namespace {

// POST /v1/licenses "customer": an existing customer's id or email (a string), or a customer
// given inline ({"email": …, "name": …}), created unless one has that email already.
bool read_license_customer(Json const& body, httplib::Response& response, std::optional<std::string>& customer,
    ops::IssueRequest& issue)
{
    auto it = body.find("customer");
    if (it == body.end() || it->is_null())
        return true;
    if (it->is_string()) {
        customer = it->get<std::string>();
        return true;
    }
    if (!it->is_object()) {
        send_error(response, 400, "invalid_field", "field \"customer\" must be a customer id, an email, or {\"email\": …, \"name\": …}");
        return false;
    }
    FieldReader fields(*it, response, "customer.");
    std::optional<std::string> email;
    if (!fields.only({ "email", "name" }) || !fields.string("email", email) || !fields.string("name", issue.new_customer_name))
        return false;
    if (!email) {
        send_error(response, 400, "invalid_field", "field \"customer.email\" is required and must be a string");
        return false;
    }
    if (auto checked = ops::check_customer(*email, issue.new_customer_name.value_or("")); !checked) {
        send_error(response, 422, "invalid", checked.error().message);
        return false;
    }
    customer = std::move(*email);
    issue.create_customer = true;
    return true;
}

}

std::optional<ops::IssueRequest> read_issue_request(httplib::Request const& request, httplib::Response& response)
{
    auto body = read_json_body(request, response);
    if (!body)
        return std::nullopt;
    FieldReader fields(*body, response);
    ops::IssueRequest issue;
    std::optional<std::string> product, customer;
    if (!fields.only({ "plan", "product", "customer", "expires", "updates_until", "not_before", "entitlements", "seats", "name",
            "meta" })
        || !fields.string("plan", issue.plan) || !fields.string("product", product) || !read_license_customer(*body, response, customer, issue)
        || !fields.string("expires", issue.expires) || !fields.string("updates_until", issue.updates_until)
        || !fields.string("not_before", issue.not_before) || !fields.strings("entitlements", issue.entitlements)
        || !fields.integer("seats", issue.seats) || !fields.string("name", issue.name) || !fields.string_map("meta", issue.meta))
        return std::nullopt;
    if ((!product && !issue.plan) || !customer) {
        send_error(response, 400, "invalid_field", product || issue.plan ? "field \"customer\" is required: a customer id, an email, or {\"email\": …, \"name\": …}"
                : "field \"product\" (or \"plan\") is required and must be a string");
        return std::nullopt;
    }
    issue.product = product.value_or("");
    issue.customer = std::move(*customer);
    return issue;
}

std::optional<ops::RenewRequest> read_renew_request(httplib::Request const& request, httplib::Response& response)
{
    auto body = read_json_body(request, response, false);
    if (!body)
        return std::nullopt;
    FieldReader fields(*body, response);
    ops::RenewRequest renew;
    std::optional<std::string> basis;
    std::optional<bool> keep_updates;
    if (!fields.only({ "by", "until", "plan", "basis", "keep_updates" }) || !fields.string("by", renew.by)
        || !fields.string("until", renew.until) || !fields.string("plan", renew.plan) || !fields.string("basis", basis)
        || !fields.boolean("keep_updates", keep_updates))
        return std::nullopt;
    if (basis) {
        auto parsed = ops::parse_renewal_basis(*basis);
        if (!parsed) {
            send_error(response, 422, "invalid", parsed.error().message);
            return std::nullopt;
        }
        renew.basis = *parsed;
    }
    renew.keep_updates = keep_updates.value_or(false);
    return renew;
}

std::optional<ops::UpdateRequest> read_update_request(httplib::Request const& request, httplib::Response& response)
{
    auto body = read_json_body(request, response);
    if (!body)
        return std::nullopt;
    FieldReader fields(*body, response);
    ops::UpdateRequest update;
    if (!fields.only({ "add_entitlements", "remove_entitlements", "seats", "name", "expires", "updates_until" })
        || !fields.strings("add_entitlements", update.add_entitlements)
        || !fields.strings("remove_entitlements", update.remove_entitlements) || !fields.integer("seats", update.seats)
        || !fields.string("name", update.name) || !fields.string("expires", update.expires)
        || !fields.string("updates_until", update.updates_until))
        return std::nullopt;
    return update;
}

std::optional<SuspendRequest> read_suspend_request(httplib::Request const& request, httplib::Response& response)
{
    auto body = read_json_body(request, response);
    if (!body)
        return std::nullopt;
    FieldReader fields(*body, response);
    std::optional<std::string> reason;
    if (!fields.only({ "reason" }) || !fields.string("reason", reason))
        return std::nullopt;
    if (!reason) {
        send_error(response, 400, "invalid_field", "field \"reason\" is required and must be a string (the customer is shown it)");
        return std::nullopt;
    }
    return SuspendRequest { std::move(*reason) };
}

std::optional<RevokeRequest> read_revoke_request(httplib::Request const& request, httplib::Response& response)
{
    auto body = read_json_body(request, response, false);
    if (!body)
        return std::nullopt;
    FieldReader fields(*body, response);
    RevokeRequest revoke;
    if (!fields.only({ "reason" }) || !fields.string("reason", revoke.reason))
        return std::nullopt;
    return revoke;
}

std::optional<NewCustomer> read_new_customer(httplib::Request const& request, httplib::Response& response)
{
    auto body = read_json_body(request, response);
    if (!body)
        return std::nullopt;
    FieldReader fields(*body, response);
    std::optional<std::string> email;
    NewCustomer customer;
    if (!fields.only({ "email", "name" }) || !fields.string("email", email) || !fields.string("name", customer.name))
        return std::nullopt;
    if (!email) {
        send_error(response, 400, "invalid_field", "field \"email\" is required and must be a string");
        return std::nullopt;
    }
    // What an email address and a name may be: the check `charter customer add` makes too.
    if (auto checked = ops::check_customer(*email, customer.name.value_or("")); !checked) {
        send_error(response, 422, "invalid", checked.error().message);
        return std::nullopt;
    }
    customer.email = std::move(*email);
    return customer;
}

std::optional<NewProduct> read_new_product(httplib::Request const& request, httplib::Response& response)
{
    auto body = read_json_body(request, response);
    if (!body)
        return std::nullopt;
    FieldReader fields(*body, response);
    std::optional<std::string> id;
    NewProduct product;
    if (!fields.only({ "id", "name", "keep_access_after_expiry" }) || !fields.string("id", id)
        || !fields.string("name", product.name) || !fields.boolean("keep_access_after_expiry", product.keep_access_after_expiry))
        return std::nullopt;
    if (!id) {
        send_error(response, 400, "invalid_field", "field \"id\" is required and must be a string");
        return std::nullopt;
    }
    bool valid_id = !id->empty() && id->size() <= 64 && std::all_of(id->begin(), id->end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
    if (!valid_id) {
        send_error(response, 422, "invalid", "product id must be 1 to 64 characters of a-z, 0-9, '-', '_' and '.'");
        return std::nullopt;
    }
    product.id = std::move(*id);
    return product;
}

std::optional<NewCredential> read_new_credential(httplib::Request const& request, httplib::Response& response)
{
    auto body = read_json_body(request, response);
    if (!body)
        return std::nullopt;
    FieldReader fields(*body, response);
    std::optional<std::string> name;
    if (!fields.only({ "name" }) || !fields.string("name", name))
        return std::nullopt;
    if (!name) {
        send_error(response, 400, "invalid_field", "field \"name\" is required and must be a string (where the credential is used: \"ci\")");
        return std::nullopt;
    }
    return NewCredential { std::move(*name) };
}

std::optional<ValidateRequest> read_validate_request(httplib::Request const& request, httplib::Response& response)
{
    auto body = read_json_body(request, response);
    if (!body)
        return std::nullopt;
    FieldReader fields(*body, response);
    std::optional<std::string> key, product;
    if (!fields.only({ "key", "product" }) || !fields.string("key", key) || !fields.string("product", product))
        return std::nullopt;
    if (!key || !product || product->empty()) {
        send_error(response, 400, "invalid_field", std::string("field \"") + (key ? "product" : "key")
                + "\" is required and must be a non-empty string");
        return std::nullopt;
    }
    return ValidateRequest { std::move(*key), std::move(*product) };
}

}
