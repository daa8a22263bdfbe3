// The admin API (docs/api.md): licenses, customers, products, audit, each behind a scoped
// admin token; every POST honours Idempotency-Key (idempotency.hpp). Issuing goes through
// ops::Issuer, the same code as `charter issue`.

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/admin_tokens.hpp"
#include "charter/keygen/ops/customers.hpp"
#include "charter/keygen/ops/json_views.hpp"
#include "charter/keygen/ops/license_changes.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "charter/keygen/ops/time_input.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/server/admin/idempotency.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/http/request_bodies.hpp"
#include "charter/server/http_server.hpp"

#include <charconv>

namespace charter::server {

namespace {

using Add = std::function<void(char const*, std::string const&, HttpServer::Handler)>;

constexpr int64_t default_page_size = 100;
constexpr int64_t max_page_size = 1000;

db::Actor actor_of(AdminToken const& token)
{
    return db::Actor { "token:" + token.id };
}

// ?limit=N within 1..max_page_size; sets a 400 and returns nullopt when malformed.
std::optional<int64_t> page_limit(httplib::Request const& request, httplib::Response& response)
{
    if (!request.has_param("limit"))
        return default_page_size;
    auto text = request.get_param_value("limit");
    int64_t limit = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (error != std::errc() || end != text.data() + text.size() || limit < 1 || limit > max_page_size) {
        send_error(response, 400, "invalid_parameter", "limit must be a whole number from 1 to " + std::to_string(max_page_size));
        return std::nullopt;
    }
    return limit;
}

Result<db::License> get_license_record(db::Store& store, std::string const& id)
{
    return store.get_license(id);
}

// A license as the API shows it, at the time of the answer.
auto license_json_at(HttpServer& server)
{
    return [&server](db::License const& license) { return ops::license_json(license, server.now()); };
}

// A GET of the admin API (the "read" scope): `read` finds what to show, `to_json` writes it.
template <typename Read, typename ToJson>
void answer_read(HttpServer& server, httplib::Request const& request, httplib::Response& response, Read read, ToJson to_json)
{
    if (!server.admin_auth().authorize(request, response, "read"))
        return;
    auto store = server.pool().lease();
    if (!store)
        return send_failure(response, store.error());
    auto found = read(**store);
    if (!found)
        return send_failure(response, found.error());
    send_json(response, 200, to_json(*found));
}

// A whole collection: {"data": [...]}.
template <typename Record, typename ToJson>
Json data_of(std::vector<Record> const& records, ToJson to_json)
{
    Json data = Json::array();
    for (auto const& record : records)
        data.push_back(to_json(record));
    return Json { { "data", data } };
}

// A page of at most `limit` records, read as limit + 1: one more tells that there is a next
// page, which starts after the last record shown (next_cursor).
template <typename Record, typename ToJson>
void send_page(httplib::Response& response, std::vector<Record>& records, int64_t limit, ToJson to_json)
{
    bool more = int64_t(records.size()) > limit;
    if (more)
        records.pop_back();
    Json data = Json::array();
    for (auto const& record : records)
        data.push_back(to_json(record));
    send_json(response, 200, Json { { "data", data }, { "next_cursor", more ? Json(records.back().id) : Json(nullptr) } });
}

// Issue errors: a product or customer named in the body that does not exist is a semantic
// error of the request (422), not a missing resource.
void send_issue_failure(httplib::Response& response, Error const& error)
{
    if (error.kind == ErrorKind::not_found)
        return send_error(response, 422, "invalid", error.message);
    send_failure(response, error);
}

void issue_license(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto token = server.admin_auth().authorize(request, response, "issue");
    if (!token)
        return;
    auto parsed = read_issue_request(request, response);
    if (!parsed)
        return;
    auto& issue = *parsed;
    int64_t now = server.now();
    auto replay = replay_record(201, get_license_record, license_json_at(server));
    auto post = start_idempotent_post(server.pool(), request, response, token->id, now, replay);
    if (!post)
        return;
    issue.idempotency = post->key.record();
    auto license = server.issue(issue, actor_of(*token), now);
    if (!license) {
        // Two retries racing with one Idempotency-Key: the loser finds the winner's license.
        if (license.error().kind == ErrorKind::conflict && post->key.answered(*post->store, response, replay))
            return;
        return send_issue_failure(response, license.error());
    }
    server.metrics().license_issued();
    response.set_header("Location", "/v1/licenses/" + license->id);
    send_json(response, 201, ops::license_json(*license, now));
}

void list_licenses(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    if (!server.admin_auth().authorize(request, response, "read"))
        return;
    auto limit = page_limit(request, response);
    if (!limit)
        return;
    auto store = server.pool().lease();
    if (!store)
        return send_failure(response, store.error());
    db::LicenseFilter filter;
    filter.now = server.now();
    filter.limit = *limit + 1; // one more tells whether there is a next page
    if (request.has_param("product"))
        filter.product_id = request.get_param_value("product");
    if (request.has_param("customer")) {
        auto customer = (*store)->find_customer(request.get_param_value("customer"));
        if (!customer)
            return send_failure(response, customer.error());
        filter.customer_id = customer->id;
    }
    // "state" (and its older name "status"): db::state_at's words.
    for (char const* name : { "state", "status" }) {
        if (!request.has_param(name))
            continue;
        auto state = request.get_param_value(name);
        if (state == "active")
            filter.state = db::LicenseState::active;
        else if (state == "suspended")
            filter.state = db::LicenseState::suspended;
        else if (state == "revoked")
            filter.state = db::LicenseState::revoked;
        else if (state == "expired")
            filter.state = db::LicenseState::expired;
        else
            return send_error(response, 400, "invalid_parameter", std::string(name) + " must be active, suspended, revoked or expired");
    }
    if (request.has_param("expiring_within")) {
        auto text = request.get_param_value("expiring_within");
        auto period = ops::parse_period(text, "expiring_within");
        auto until = period ? ops::add_period(filter.now, *period, "expiring_within") : Result<int64_t>(period.error());
        if (!until)
            return send_error(response, 400, "invalid_parameter", until.error().message);
        filter.expiring_within = *until - filter.now;
    }
    if (request.has_param("after"))
        filter.after_id = request.get_param_value("after");
    auto licenses = (*store)->list_licenses(filter);
    if (!licenses)
        return send_failure(response, licenses.error());
    send_page(response, *licenses, *limit,
        [&](db::License const& license) { return ops::license_json(license, filter.now, false); });
}

void get_license(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    // The license with every version of its key, the current one last.
    struct LicenseWithVersions {
        db::License license;
        std::vector<db::LicenseVersion> versions;
    };
    auto read = [&](db::Store& store) -> Result<LicenseWithVersions> {
        auto license = store.get_license(request.matches[1]);
        if (!license)
            return license.error();
        auto versions = store.list_license_versions(license->id);
        if (!versions)
            return versions.error();
        return LicenseWithVersions { std::move(*license), std::move(*versions) };
    };
    answer_read(server, request, response, read, [&](LicenseWithVersions const& found) {
        auto json = ops::license_json(found.license, server.now());
        json["versions"] = Json::array();
        for (auto const& version : found.versions)
            json["versions"].push_back(ops::license_version_json(version));
        return json;
    });
}

void revoke_license(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto token = server.admin_auth().authorize(request, response, "revoke");
    if (!token)
        return;
    auto revoke = read_revoke_request(request, response);
    if (!revoke)
        return;
    int64_t now = server.now();
    auto replay = replay_record(200, get_license_record, license_json_at(server));
    auto post = start_idempotent_post(server.pool(), request, response, token->id, now, replay);
    if (!post)
        return;
    auto& store = *post->store;
    std::string id = request.matches[1];
    auto revoked = post->key.apply(store, id, [&]() { return ops::revoke_license(store, id, revoke->reason, actor_of(*token), now); });
    if (!revoked) {
        if (revoked.error().kind == ErrorKind::conflict && post->key.answered(store, response, replay))
            return;
        return send_failure(response, revoked.error());
    }
    server.metrics().license_revoked();
    replay(store, id, response);
}

void create_customer(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto token = server.admin_auth().authorize(request, response, "issue");
    if (!token)
        return;
    auto parsed = read_new_customer(request, response);
    if (!parsed)
        return;
    int64_t now = server.now();
    auto replay = [](db::Store& store, std::string const& id, httplib::Response& answer) {
        auto customer = store.find_customer(id);
        if (!customer)
            return send_failure(answer, customer.error());
        answer.set_header("Location", "/v1/customers/" + customer->id);
        send_json(answer, 201, ops::customer_json(*customer));
    };
    auto post = start_idempotent_post(server.pool(), request, response, token->id, now, replay);
    if (!post)
        return;
    auto& store = *post->store;
    auto checked = ops::new_customer(parsed->email, parsed->name.value_or(""), now);
    if (!checked)
        return send_failure(response, checked.error());
    auto const& customer = *checked;
    auto added = post->key.apply(store, customer.id, [&]() { return store.add_customer(customer, actor_of(*token)); });
    if (!added) {
        if (added.error().kind != ErrorKind::conflict)
            return send_failure(response, added.error());
        if (post->key.answered(store, response, replay))
            return;
        // The email is taken: a webhook retrying a sign-up (without an Idempotency-Key) finds
        // the customer's id in a field rather than inside the sentence. 409, not 200: this
        // request did not create anything, and its other fields (the name) were not applied.
        auto existing = store.find_customer(customer.email);
        if (!existing)
            return send_failure(response, added.error());
        response.set_header("Location", "/v1/customers/" + existing->id);
        return send_json(response, 409,
            Json { { "error",
                { { "code", "conflict" },
                    { "message", "a customer with email " + customer.email + " already exists (" + existing->id
                            + "); use its id, or issue with \"customer\": {\"email\": …} to reuse it" },
                    { "existing_id", existing->id } } } });
    }
    response.set_header("Location", "/v1/customers/" + customer.id);
    send_json(response, 201, ops::customer_json(customer));
}

void list_customers(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    answer_read(server, request, response, [](db::Store& store) { return store.list_customers(); },
        [](std::vector<db::Customer> const& customers) { return data_of(customers, ops::customer_json); });
}

void get_customer(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    answer_read(server, request, response, [&](db::Store& store) { return store.find_customer(request.matches[1]); },
        ops::customer_json);
}

void create_product(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto token = server.admin_auth().authorize(request, response, "admin");
    if (!token)
        return;
    auto parsed = read_new_product(request, response);
    if (!parsed)
        return;
    int64_t now = server.now();
    auto replay = replay_record(201, [](db::Store& store, std::string const& id) { return store.get_product(id); }, ops::product_json);
    auto post = start_idempotent_post(server.pool(), request, response, token->id, now, replay);
    if (!post)
        return;
    auto& store = *post->store;
    db::Product product { parsed->id, parsed->name.value_or(parsed->id), parsed->keep_access_after_expiry.value_or(false), now };
    auto added = post->key.apply(store, product.id, [&]() { return store.add_product(product, actor_of(*token)); });
    if (!added) {
        if (added.error().kind == ErrorKind::conflict && post->key.answered(store, response, replay))
            return;
        return send_failure(response, added.error());
    }
    send_json(response, 201, ops::product_json(product));
}

void list_products(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    answer_read(server, request, response, [](db::Store& store) { return store.list_products(); },
        [](std::vector<db::Product> const& products) { return data_of(products, ops::product_json); });
}

void list_plans(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    answer_read(server, request, response, [](db::Store& store) { return store.list_plans(); },
        [](std::vector<db::Plan> const& plans) { return data_of(plans, ops::plan_json); });
}

void get_plan(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    answer_read(server, request, response, [&](db::Store& store) { return store.get_plan(request.matches[1]); }, ops::plan_json);
}

void list_audit(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    if (!server.admin_auth().authorize(request, response, "admin"))
        return;
    auto limit = page_limit(request, response);
    if (!limit)
        return;
    db::AuditFilter filter;
    filter.limit = *limit + 1;
    if (request.has_param("since")) {
        auto since = format::parse_rfc3339(request.get_param_value("since"));
        if (!since)
            return send_error(response, 400, "invalid_parameter", "since must be an RFC 3339 time");
        filter.since = *since;
    }
    if (request.has_param("after")) {
        auto text = request.get_param_value("after");
        int64_t after = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), after);
        if (error != std::errc() || end != text.data() + text.size())
            return send_error(response, 400, "invalid_parameter", "after must be an audit entry id");
        filter.after_id = after;
    }
    auto store = server.pool().lease();
    if (!store)
        return send_failure(response, store.error());
    auto entries = (*store)->list_audit(filter);
    if (!entries)
        return send_failure(response, entries.error());
    send_page(response, *entries, *limit, [](db::AuditEntry const& entry) { return ops::audit_json(entry); });
}

}

void register_admin_routes(HttpServer& server, Add add)
{
    auto bind = [&server](void (*handler)(HttpServer&, httplib::Request const&, httplib::Response&)) {
        return [&server, handler](httplib::Request const& request, httplib::Response& response) { handler(server, request, response); };
    };
    add("POST", "/v1/licenses", bind(issue_license));
    add("GET", "/v1/licenses", bind(list_licenses));
    add("GET", "/v1/licenses/{id}", bind(get_license));
    add("POST", "/v1/licenses/{id}/revoke", bind(revoke_license));
    add("POST", "/v1/customers", bind(create_customer));
    add("GET", "/v1/customers", bind(list_customers));
    add("GET", "/v1/customers/{id}", bind(get_customer));
    add("POST", "/v1/products", bind(create_product));
    add("GET", "/v1/products", bind(list_products));
    add("GET", "/v1/plans", bind(list_plans));
    add("GET", "/v1/plans/{id}", bind(get_plan));
    add("GET", "/v1/audit", bind(list_audit));
}

}
