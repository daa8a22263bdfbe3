// Public endpoints: online validation, trusted keys, revocation lists, health, metrics.
// None needs an admin token; none reveals more than the presented key's own claims.

#include "charter/keygen/ops/admin_tokens.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/http/request_bodies.hpp"
#include "charter/server/http_server.hpp"
#include "charter/verify.hpp"
#include "rfc3339.hpp"
#include "statuses.hpp"

namespace charter::server {

namespace {

using Add = std::function<void(char const*, std::string const&, HttpServer::Handler)>;

void validate(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto body = read_validate_request(request, response);
    if (!body)
        return;
    int64_t now = server.now();
    auto check = server.license_keys().check(body->product, body->key, now);
    if (!check)
        return send_failure(response, check.error());
    int status = check->status;
    std::string message = check->message;
    if (status == CHARTER_OK) {
        // The signature is ours; the database knows about revocations.
        auto store = server.pool().lease();
        if (!store)
            return send_failure(response, store.error());
        auto license = (*store)->get_license(check->license_id);
        if (!license && license.error().kind != ErrorKind::not_found)
            return send_failure(response, license.error());
        if (!license) {
            status = CHARTER_E_REVOKED;
            message = "license " + check->license_id + " is not known to this server";
        } else if (license->status == "revoked") {
            status = CHARTER_E_REVOKED;
            message = "license " + license->id + " for " + license->product_id + " has been revoked";
        }
    }
    // Assembled as text: the claims are JSON already (LicenseKeys writes them once per key).
    std::string answer;
    answer.reserve(96 + message.size() + check->claims_json.size());
    answer += status == CHARTER_OK ? "{\"valid\":true" : "{\"valid\":false";
    answer += ",\"status\":\"";
    answer += format::status_name(status);
    answer += "\",\"message\":";
    answer += Json(status == CHARTER_OK ? std::string("the license is valid") : message)
                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    answer += ",\"license\":";
    answer += check->claims_json.empty() ? std::string("null") : check->claims_json;
    answer += "}\n";
    response.set_header("Cache-Control", "no-store");
    response.status = 200;
    response.body = std::move(answer);
    response.set_header("Content-Type", "application/json");
}

void list_keys(HttpServer& server, httplib::Request const&, httplib::Response& response)
{
    auto store = server.pool().lease();
    if (!store)
        return send_failure(response, store.error());
    auto keys = (*store)->list_signing_keys();
    if (!keys)
        return send_failure(response, keys.error());
    Json data = Json::array();
    for (auto const& key : *keys) {
        if (key.status == "retired")
            continue;
        data.push_back(Json { { "kid", key.kid }, { "public_key", key.public_paserk },
            { "status", key.current ? "current" : "trusted" }, { "created_at", format::format_rfc3339(key.created_at) } });
    }
    response.set_header("Cache-Control", "public, max-age=300");
    send_json(response, 200, Json { { "keys", data } });
}

void revocations(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto list = server.revocation_lists().signed_list(request.matches[1], server.now());
    if (!list)
        return send_failure(response, list.error());
    std::string etag = "\"";
    etag.append(ops::blake2b_hex(*list), 0, 32);
    etag += '"';
    response.set_header("ETag", etag);
    response.set_header("Cache-Control", "public, max-age=300");
    if (request.get_header_value("If-None-Match") == etag) {
        response.status = 304;
        return;
    }
    response.status = 200;
    response.set_content(*list + "\n", "text/plain; charset=utf-8");
}

void healthz(HttpServer& server, httplib::Request const&, httplib::Response& response)
{
    auto store = server.pool().lease();
    if (!store)
        return send_error(response, 503, "unavailable", "the database cannot be opened");
    auto version = (*store)->schema_version();
    if (!version)
        return send_error(response, 503, "unavailable", "the database does not answer");
    send_json(response, 200, Json { { "status", "ok" } });
}

void metrics(HttpServer& server, httplib::Request const&, httplib::Response& response)
{
    response.status = 200;
    auto text = server.metrics().render();
    text += "# HELP charter_downloads_log_dropped_total Downloads log lines not written: the license had"
            " --downloads-log-limit lines in the last hour.\n"
            "# TYPE charter_downloads_log_dropped_total counter\n"
            "charter_downloads_log_dropped_total "
        + std::to_string(server.downloads_log().dropped()) + "\n";
    response.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
}

}

void register_public_routes(HttpServer& server, Add add)
{
    auto bind = [&server](void (*handler)(HttpServer&, httplib::Request const&, httplib::Response&)) {
        return [&server, handler](httplib::Request const& request, httplib::Response& response) { handler(server, request, response); };
    };
    add("POST", "/v1/validate", bind(validate));
    add("GET", "/v1/keys", bind(list_keys));
    add("GET", "/v1/revocations/{product}", bind(revocations));
    add("GET", "/healthz", bind(healthz));
    add("GET", "/metrics", bind(metrics));
}

}
