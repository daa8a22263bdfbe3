// GET /v1/license: a customer's own license, authenticated as downloads are (any genuine
// version of its key). It answers the license's state and current terms with its current key,
// so that a product, a deploy script or a CI job fetches the key a renewal signed with the key
// it already has (docs/api.md).

#include "charter/format/rfc3339.hpp"
#include "charter/server/customer/downloads.hpp"
#include "charter/server/customer/entitlement.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/http_server.hpp"

namespace charter::server {

namespace {

using Add = std::function<void(char const*, std::string const&, HttpServer::Handler)>;

Json time_or_null(std::optional<int64_t> const& time)
{
    return time ? Json(format::format_rfc3339(*time)) : Json(nullptr);
}

void show_license(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto store = server.pool().lease();
    if (!store)
        return send_failure(response, store.error());
    std::optional<db::License> record;
    // The license is authenticated and read in one read transaction: one snapshot, one start.
    auto read = (*store)->read_snapshot([&]() -> Result<void> {
        auto license = server.license_auth().authenticate(request, response, &**store);
        if (!license)
            return {};
        auto found = (*store)->get_license(license->facts.id);
        if (!found)
            return found.error();
        record = std::move(*found);
        return {};
    });
    if (!read)
        return send_failure(response, read.error());
    if (!record)
        return;
    // A revoked license has no current key to hand out: the customer needs a new license.
    if (record->status == "revoked") {
        auto refused = license_refusal(license_facts(*record));
        send_error(response, 403, outcome_code(refused->outcome), refused->reason);
        response.reason = refused->reason;
        return;
    }
    int64_t now = server.now();
    // The current key's claims as validation shows them (remembered like any key checked).
    auto current = server.license_keys().check(record->product_id, record->token, now);
    if (!current)
        return send_failure(response, current.error());
    Json terms = current->claims_json.empty() ? Json(nullptr) : Json::parse(current->claims_json);
    Json answer {
        { "id", record->id },
        { "product", record->product_id },
        { "state", db::state_name(db::state_at(*record, now)) },
        { "suspended_at", time_or_null(record->suspended_at) },
        { "suspend_reason", record->suspended_at && record->suspend_reason ? Json(*record->suspend_reason) : Json(nullptr) },
        // Versions are numbered from 1 without gaps, so the current one's number counts them.
        { "version", record->version },
        { "versions", record->version },
        { "key", record->token },
        { "license", terms },
    };
    response.set_header("Cache-Control", "no-store");
    send_json(response, 200, answer);
}

}

void register_license_routes(HttpServer& server, Add add)
{
    add("GET", "/v1/license", [&server](httplib::Request const& request, httplib::Response& response) {
        show_license(server, request, response);
    });
}

}
