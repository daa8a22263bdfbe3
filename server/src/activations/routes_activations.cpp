// Seats (docs/activations.md): a product activates a machine (POST /v1/activations), renews its
// lease (POST /v1/activations/{id}/heartbeat) and releases it (DELETE /v1/activations/{id}),
// authenticated as downloads are; operators list a license's activations and release any
// (GET /v1/licenses/{id}/activations, DELETE /v1/activations/{id} with an admin token). The
// count is the store's, one transaction per activation, written in the commits issuance shares
// (HttpServer::commit_signed: one fsync for the activations that arrive together; a batch of
// heartbeats alone commits without one, db::Durability::process_crash, docs/activations.md);
// the token is signed after the commit, so a token handed out always has its row.

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ids.hpp"
#include "charter/keygen/ops/activations.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "charter/server/customer/downloads.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/http_server.hpp"
#include "charter/utf8.hpp"

namespace charter::server {

namespace {

using Add = std::function<void(char const*, std::string const&, HttpServer::Handler)>;

// The most holders a refusal names; the rest are counted.
constexpr size_t holders_named = 20;
constexpr size_t max_label_bytes = 200;

struct ActivationBody {
    std::string fingerprint;
    std::optional<std::string> label;
    std::optional<int64_t> processes;
    std::optional<int64_t> cores;
};

std::optional<ActivationBody> read_activation_body(httplib::Request const& request, httplib::Response& response)
{
    auto body = read_json_body(request, response);
    if (!body)
        return std::nullopt;
    FieldReader fields(*body, response);
    std::optional<std::string> fingerprint, label;
    std::optional<int64_t> processes, cores;
    if (!fields.only({ "fingerprint", "label", "processes", "cores" }) || !fields.string("fingerprint", fingerprint)
        || !fields.string("label", label) || !fields.integer("processes", processes) || !fields.integer("cores", cores))
        return std::nullopt;
    if (!fingerprint) {
        send_error(response, 400, "invalid_field",
            "field \"fingerprint\" is required and must be a string (what identifies this machine: its /etc/machine-id, a container id)");
        return std::nullopt;
    }
    if (fingerprint->empty() || fingerprint->size() > ops::max_fingerprint_bytes) {
        send_error(response, 422, "invalid", "field \"fingerprint\" must be 1 to " + std::to_string(ops::max_fingerprint_bytes)
                + " bytes (it is " + std::to_string(fingerprint->size()) + "); send a shorter value, or its hash");
        return std::nullopt;
    }
    if (label) {
        auto checked = ops::check_license_text(*label, "field \"label\"");
        if (!checked) {
            send_error(response, 422, "invalid", checked.error().message);
            return std::nullopt;
        }
        if (label->size() > max_label_bytes) {
            send_error(response, 422, "invalid", "field \"label\" must be at most 200 bytes; send the host name");
            return std::nullopt;
        }
    }
    return ActivationBody { std::move(*fingerprint), std::move(label), processes, cores };
}

db::Actor actor_of(PresentedLicense const& license)
{
    return db::Actor { "license:" + license.facts.id };
}

// A license that can neither activate nor heartbeat: revoked, suspended (the sentences of
// downloads), or expired. Sets the 403; true when refused.
bool refused(PresentedLicense const& license, int64_t now, httplib::Response& response)
{
    auto refusal = license_refusal(license.facts);
    if (!refusal && license.facts.expires_at && now > *license.facts.expires_at)
        refusal = EntitlementDecision { Entitlement::expired,
            "license " + license.facts.id + " expired on " + format::format_date(*license.facts.expires_at)
                + "; renew it to run " + license.facts.product };
    if (!refusal)
        return false;
    send_error(response, 403, outcome_code(refusal->outcome), refusal->reason);
    response.reason = refusal->reason;
    return true;
}

std::string holder_text(db::Activation const& holder, std::string const& counting)
{
    std::string text = holder.label ? "\"" + *holder.label + "\"" : "(no label)";
    text += " (seat " + std::to_string(holder.seat);
    if (counting != "machines")
        text += ", " + std::to_string(holder.units) + " " + counting;
    text += ", last heartbeat " + format::format_rfc3339(holder.heartbeat_at) + ")";
    return text;
}

// The 409's sentence: the limit, who holds it, and what frees a seat.
std::string exhausted_sentence(std::string const& license_id, ops::SeatPolicy const& policy, db::SeatOutcome const& outcome,
    int64_t units)
{
    std::string holders;
    for (size_t i = 0; i < outcome.holders.size() && i < holders_named; ++i)
        holders += (i ? ", " : "") + holder_text(outcome.holders[i], policy.counting);
    if (outcome.holders.size() > holders_named)
        holders += " and " + std::to_string(outcome.holders.size() - holders_named) + " more";
    std::string sentence;
    if (policy.counting == "machines")
        sentence = "all " + std::to_string(*policy.limit) + " seats of license " + license_id + " are held: " + holders;
    else
        sentence = "license " + license_id + " allows " + std::to_string(*policy.limit) + " " + policy.counting + " and "
            + std::to_string(outcome.held_units) + " are held (" + holders + "); this activation asks for "
            + std::to_string(units);
    if (policy.lease_seconds > 0)
        sentence += "; stop the product on one of them (it releases its seat) or wait until a lease ends, "
            + ops::lease_text(policy.lease_seconds) + " after its last heartbeat";
    else
        sentence += "; stop the product on one of them (it releases its seat) or ask the vendor to release one";
    return sentence;
}

// The answer of an activation or a heartbeat: the activation and a token signed now, with the
// key that was current in the transaction that wrote it (signed here, after the commit, on the
// request's own thread).
void send_activation(HttpServer& server, httplib::Response& response, int status, db::Activation const& activation,
    std::string const& product, int64_t now, keygen::SigningKey const& key)
{
    ops::ActivationClaims claims {
        .issuer = server.issuer(),
        .activation_id = activation.id,
        .license_id = activation.license_id,
        .product = product,
        .fingerprint_sha256 = activation.fingerprint_sha256,
        .seat = activation.seat,
        .issued_at = now,
        .lease_ends_at = activation.lease_ends_at,
    };
    Json answer {
        { "id", activation.id },
        { "license", activation.license_id },
        { "product", product },
        { "seat", activation.seat },
        { "label", activation.label ? Json(*activation.label) : Json(nullptr) },
        { "lease_ends_at", activation.lease_ends_at ? Json(format::format_rfc3339(*activation.lease_ends_at)) : Json(nullptr) },
        { "token", ops::sign_activation_token(key, claims) },
    };
    response.set_header("Cache-Control", "no-store");
    send_json(response, status, answer);
}

void activate(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto body = read_activation_body(request, response);
    if (!body)
        return;
    auto license = server.license_auth().authenticate(request, response);
    if (!license)
        return;
    int64_t now = server.now();
    if (refused(*license, now, response))
        return;
    db::SeatOutcome outcome;
    ops::SeatPolicy policy;
    int64_t units = 1;
    db::Activation wanted {
        .id = keygen::new_id("act_"),
        .license_id = license->facts.id,
        .fingerprint_sha256 = ops::fingerprint_sha256(body->fingerprint),
        .label = body->label,
        .processes = body->processes,
        .cores = body->cores,
    };
    std::optional<keygen::SigningKey> key;
    auto done = server.commit_signed([&](db::Store& store, ops::Issuer& issuer) -> Result<void> {
        key = issuer.key();
        // The license's terms and plan as of this transaction, which the count is part of.
        auto record = store.get_license(license->facts.id);
        if (!record)
            return record.error();
        auto found = ops::seat_policy(store, *record);
        if (!found)
            return found.error();
        policy = std::move(*found);
        auto counted = ops::activation_units(policy, body->processes, body->cores);
        if (!counted)
            return counted.error();
        units = *counted;
        wanted.units = units;
        wanted.lease_seconds = policy.lease_seconds;
        auto granted = store.activate(db::SeatRequest { .activation = wanted, .limit = policy.limit, .now = now },
            actor_of(*license));
        if (!granted)
            return granted.error();
        outcome = std::move(*granted);
        return {};
    });
    if (!done)
        return send_failure(response, done.error());
    if (!outcome.activation) {
        auto sentence = exhausted_sentence(license->facts.id, policy, outcome, units);
        send_error(response, 409, "seats_exhausted", sentence);
        response.reason = sentence;
        return;
    }
    send_activation(server, response, outcome.created ? 201 : 200, *outcome.activation, license->facts.product, now, *key);
}

void heartbeat(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    // No body, or an empty object: a heartbeat has no fields.
    if (!request.body.empty()) {
        auto body = read_json_body(request, response, false);
        if (!body || !FieldReader(*body, response).only({}))
            return;
    }
    auto license = server.license_auth().authenticate(request, response);
    if (!license)
        return;
    int64_t now = server.now();
    if (refused(*license, now, response))
        return;
    std::string id = request.matches[1];
    std::optional<std::pair<db::LeaseState, db::Activation>> found;
    std::optional<keygen::SigningKey> key;
    auto done = server.commit_signed([&](db::Store& store, ops::Issuer& issuer) -> Result<void> {
        key = issuer.key();
        auto renewed = store.renew_activation(license->facts.id, id, now, actor_of(*license));
        if (!renewed)
            return renewed.error();
        found = std::move(*renewed);
        return {};
    }, db::Durability::process_crash);
    if (!done)
        return send_failure(response, done.error());
    auto const& [state, activation] = *found;
    if (state == db::LeaseState::ended) {
        auto sentence = "activation " + id
            + (activation.released_at ? " was released on " + format::format_rfc3339(*activation.released_at)
                                      : "'s lease ended at " + format::format_rfc3339(activation.expired_at.value_or(now)))
            + " and no longer holds a seat; activate again";
        send_error(response, 410, "activation_expired", sentence);
        response.reason = sentence;
        return;
    }
    send_activation(server, response, 200, activation, license->facts.product, now, *key);
}

// An operator's admin token (Bearer chrt_…) releases any activation; anything else is a
// product releasing its own.
bool presents_admin_token(httplib::Request const& request)
{
    return request.get_header_value("Authorization").starts_with("Bearer chrt_");
}

void release(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    std::string id = request.matches[1];
    int64_t now = server.now();
    std::optional<std::string> license_id;
    db::Actor actor;
    if (presents_admin_token(request)) {
        auto token = server.admin_auth().authorize(request, response, "revoke");
        if (!token)
            return;
        actor = db::Actor { "token:" + token->id };
    } else {
        // A suspended, revoked or expired license may still give its seats back.
        auto license = server.license_auth().authenticate(request, response);
        if (!license)
            return;
        license_id = license->facts.id;
        actor = actor_of(*license);
    }
    auto store = server.pool().lease();
    if (!store)
        return send_failure(response, store.error());
    auto released = (*store)->release_activation(id, license_id, now, actor);
    if (!released)
        return send_failure(response, released.error());
    response.status = 204;
}

void list_activations(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    if (!server.admin_auth().authorize(request, response, "read"))
        return;
    auto store = server.pool().lease();
    if (!store)
        return send_failure(response, store.error());
    std::string license_id = request.matches[1];
    // An unknown license is a 404, not an empty list: a typo must not read as "no seats held".
    if (auto license = (*store)->get_license(license_id); !license)
        return send_failure(response, license.error());
    auto activations = (*store)->list_activations(license_id);
    if (!activations)
        return send_failure(response, activations.error());
    int64_t now = server.now();
    Json data = Json::array();
    for (auto const& activation : *activations)
        data.push_back(ops::activation_json(activation, now));
    send_json(response, 200, Json { { "data", data } });
}

}

void register_activation_routes(HttpServer& server, Add add)
{
    auto bind = [&server](void (*handler)(HttpServer&, httplib::Request const&, httplib::Response&)) {
        return [&server, handler](httplib::Request const& request, httplib::Response& response) { handler(server, request, response); };
    };
    add("POST", "/v1/activations", bind(activate));
    add("POST", "/v1/activations/{id}/heartbeat", bind(heartbeat));
    add("DELETE", "/v1/activations/{id}", bind(release));
    add("GET", "/v1/licenses/{id}/activations", bind(list_activations));
}

}
