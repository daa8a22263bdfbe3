// Public endpoints: online validation, trusted keys, revocation lists, health, metrics.
// None needs an admin token; validation reveals no more than the license's current key would
// (its claims), and its state.

#include "charter/format/rfc3339.hpp"
#include "charter/format/statuses.hpp"
#include "charter/keygen/ops/admin_tokens.hpp"
#include "charter/keygen/ops/billing.hpp"
#include "charter/server/customer/entitlement.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/http/request_bodies.hpp"
#include "charter/server/http_server.hpp"
#include "charter/verify.hpp"

namespace charter::server {

namespace {

using Add = std::function<void(char const*, std::string const&, HttpServer::Handler)>;

// The license's record decides a genuine key (a valid signature for the product, the key's own
// exp passed or not): any version of a license's key stands for the license, and the answer is
// the license's current state and terms, with whether a newer version of the key exists.
void validate(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto body = read_validate_request(request, response);
    if (!body)
        return;
    int64_t now = server.now();
    auto check = server.license_keys().check(body->product, body->key, now);
    if (!check)
        return send_failure(response, check.error());
    std::string status = format::status_name(check->status);
    std::string message = check->status == CHARTER_OK ? std::string("the license is valid") : check->message;
    std::string claims = check->claims_json;
    std::optional<db::License> record;
    std::optional<std::string> warning;
    if (check->status == CHARTER_OK || check->status == CHARTER_E_EXPIRED) {
        // The signature is ours; the database knows the license's state and current terms.
        auto store = server.pool().lease();
        if (!store)
            return send_failure(response, store.error());
        auto found = (*store)->get_license(check->license_id);
        if (!found && found.error().kind != ErrorKind::not_found)
            return send_failure(response, found.error());
        if (found && found->plan_id && db::state_at(*found, now) == db::LicenseState::active) {
            // A subscription whose payment failed, under a plan that says warn (docs/billing.md).
            auto warned = ops::billing_warning(**store, found->id);
            if (!warned)
                return send_failure(response, warned.error());
            warning = std::move(*warned);
        }
        if (found)
            record = std::move(*found);
        else {
            status = format::status_name(CHARTER_E_REVOKED);
            message = "license " + check->license_id + " is not known to this server";
        }
    }
    bool superseded = false;
    std::optional<db::LicenseState> state;
    if (record) {
        state = db::state_at(*record, now);
        switch (*state) {
        case db::LicenseState::active:
            status = format::status_name(CHARTER_OK);
            message = "the license is valid";
            break;
        case db::LicenseState::revoked:
            status = format::status_name(CHARTER_E_REVOKED);
            message = "license " + record->id + " for " + record->product_id + " has been revoked";
            break;
        case db::LicenseState::suspended:
            status = "suspended";
            message = license_refusal(license_facts(*record))->reason;
            break;
        case db::LicenseState::expired:
            status = format::status_name(CHARTER_E_EXPIRED);
            message = "license " + record->id + " expired on " + format::format_rfc3339(*record->expires_at)
                + "; renew it to use " + record->product_id + " again";
            break;
        }
        // A key older than the license's current version shows the current terms: those of the
        // current key (remembered like any key checked here).
        superseded = record->token != body->key;
        if (superseded) {
            auto current = server.license_keys().check(body->product, record->token, now);
            if (current && !current->claims_json.empty())
                claims = current->claims_json;
        }
    }
    bool valid = status == format::status_name(CHARTER_OK);
    // Assembled as text: the claims are JSON already (LicenseKeys writes them once per key).
    std::string answer;
    answer.reserve(160 + message.size() + claims.size());
    answer += valid ? "{\"valid\":true" : "{\"valid\":false";
    answer += ",\"status\":\"";
    answer += status;
    answer += "\",\"message\":";
    answer += Json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    answer += ",\"state\":";
    answer += state ? std::string("\"") + db::state_name(*state) + "\"" : std::string("null");
    answer += ",\"version\":";
    answer += record ? std::to_string(record->version) : std::string("null");
    answer += superseded ? ",\"superseded\":true" : ",\"superseded\":false";
    if (warning) {
        answer += ",\"warning\":";
        answer += Json(*warning).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    answer += ",\"license\":";
    answer += claims.empty() ? std::string("null") : claims;
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
    // PostgreSQL: reads answered from memory while no change was committed (change feed).
    if (auto* feed = server.pool().change_feed()) {
        auto counts = feed->counts();
        text += "# HELP charter_database_reads_total Reads outside writing transactions, by where they were answered:"
                " memory (nothing changed since they were last asked) or database.\n"
                "# TYPE charter_database_reads_total counter\n"
                "charter_database_reads_total{answered=\"memory\"} " + std::to_string(counts.remembered) + "\n"
                "charter_database_reads_total{answered=\"database\"} " + std::to_string(counts.asked) + "\n"
                "# HELP charter_change_feed_listening Whether the server hears of every change to the database (1),"
                " or reads every time (0).\n"
                "# TYPE charter_change_feed_listening gauge\n"
                "charter_change_feed_listening " + std::string(feed->listening() ? "1" : "0") + "\n";
    }
    // Seats held now (docs/activations.md): live activations' units, per product.
    if (auto store = server.pool().lease()) {
        if (auto seats = (*store)->active_seats_by_product(server.now())) {
            text += "# HELP charter_active_seats Seats held by live activations (machines, processes or cores), per product.\n"
                    "# TYPE charter_active_seats gauge\n";
            for (auto const& [product, units] : *seats)
                text += "charter_active_seats{product=\"" + product + "\"} " + std::to_string(units) + "\n";
        }
    }
    // The mail outbox, as the database holds it (also what `charter` queued and sent).
    auto store = server.pool().lease();
    if (store) {
        if (auto stats = (*store)->mail_stats()) {
            int64_t age = stats->oldest_pending_at ? std::max<int64_t>(0, server.now() - *stats->oldest_pending_at) : 0;
            text += "# HELP charter_mail_messages Messages in the mail outbox by status (pending: queued, not yet delivered).\n"
                    "# TYPE charter_mail_messages gauge\n"
                    "charter_mail_messages{status=\"pending\"} "
                + std::to_string(stats->pending) + "\ncharter_mail_messages{status=\"sent\"} " + std::to_string(stats->sent)
                + "\ncharter_mail_messages{status=\"failed\"} " + std::to_string(stats->failed)
                + "\n# HELP charter_mail_oldest_pending_age_seconds Age of the oldest undelivered message (0: none).\n"
                  "# TYPE charter_mail_oldest_pending_age_seconds gauge\n"
                  "charter_mail_oldest_pending_age_seconds "
                + std::to_string(age) + "\n";
        }
    }
    if (auto const* worker = server.mail_worker()) {
        text += "# HELP charter_mail_attempts_total Delivery attempts by this server's sender, by outcome.\n"
                "# TYPE charter_mail_attempts_total counter\n"
                "charter_mail_attempts_total{outcome=\"sent\"} "
            + std::to_string(worker->sent()) + "\ncharter_mail_attempts_total{outcome=\"retry\"} " + std::to_string(worker->retried())
            + "\ncharter_mail_attempts_total{outcome=\"failed\"} " + std::to_string(worker->failed()) + "\n";
    }
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
