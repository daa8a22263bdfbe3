// The admin API's download credentials (docs/api.md "Credentials"): list a license's
// credentials, create one (its secret in the answer, once), revoke one. Creation and revocation
// go through the same code as `charter credential` (ops/credentials) and honour Idempotency-Key.

#include "charter/keygen/ops/credentials.hpp"
#include "charter/keygen/ops/json_views.hpp"
#include "charter/server/admin/idempotency.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/http/request_bodies.hpp"
#include "charter/server/http_server.hpp"

namespace charter::server {

namespace {

db::Actor actor_of(AdminToken const& token)
{
    return db::Actor { "token:" + token.id };
}

void list_credentials(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    if (!server.admin_auth().authorize(request, response, "read"))
        return;
    auto store = server.pool().lease();
    if (!store)
        return send_failure(response, store.error());
    std::string license_id = request.matches[1];
    // An unknown license is a 404, not an empty list: a typo must not read as "no credentials".
    if (auto license = (*store)->get_license(license_id); !license)
        return send_failure(response, license.error());
    auto credentials = (*store)->list_credentials(license_id);
    if (!credentials)
        return send_failure(response, credentials.error());
    Json data = Json::array();
    for (auto const& credential : *credentials)
        data.push_back(ops::credential_json(credential));
    send_json(response, 200, Json { { "data", data } });
}

Result<db::Credential> get_credential_record(db::Store& store, std::string const& id)
{
    return store.get_credential(id);
}

void create_credential(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto token = server.admin_auth().authorize(request, response, "issue");
    if (!token)
        return;
    auto parsed = read_new_credential(request, response);
    if (!parsed)
        return;
    int64_t now = server.now();
    // A retry gets the credential the first request made, without its secret: only the hash is
    // stored, so the secret cannot be shown twice ("secret": null; docs/api.md says what to do).
    auto replay = replay_record(201, get_credential_record, [](db::Credential const& credential) {
        auto json = ops::credential_json(credential);
        json["secret"] = nullptr;
        return json;
    });
    auto post = start_idempotent_post(server.pool(), request, response, token->id, now, replay);
    if (!post)
        return;
    auto& store = *post->store;
    auto created = ops::new_credential(request.matches[1], parsed->name, now);
    if (!created)
        return send_failure(response, created.error());
    auto added = post->key.apply(store, created->record.id, [&]() { return ops::add_credential(store, created->record, actor_of(*token)); });
    if (!added) {
        if (added.error().kind == ErrorKind::conflict && post->key.answered(store, response, replay))
            return;
        return send_failure(response, added.error());
    }
    auto json = ops::credential_json(created->record);
    json["secret"] = created->secret;
    send_json(response, 201, json);
}

void revoke_credential(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto token = server.admin_auth().authorize(request, response, "revoke");
    if (!token)
        return;
    // No body, or an empty object: a credential's revocation has no fields.
    auto body = read_json_body(request, response, false);
    if (!body || !FieldReader(*body, response).only({}))
        return;
    int64_t now = server.now();
    auto replay = replay_record(200, get_credential_record, ops::credential_json);
    auto post = start_idempotent_post(server.pool(), request, response, token->id, now, replay);
    if (!post)
        return;
    auto& store = *post->store;
    std::string license_id = request.matches[1];
    std::string id = request.matches[2];
    auto revoked = post->key.apply(store, id, [&]() -> Result<void> {
        // The path names the license too: a credential id under another license is not found.
        auto credential = store.get_credential(id);
        if (!credential || credential->license_id != license_id)
            return make_error(ErrorKind::not_found, "license " + license_id + " has no credential " + id);
        return store.revoke_credential(id, now, actor_of(*token));
    });
    if (!revoked) {
        if (revoked.error().kind == ErrorKind::conflict && post->key.answered(store, response, replay))
            return;
        return send_failure(response, revoked.error());
    }
    replay(store, id, response);
}

}

void register_credential_routes(HttpServer& server, std::function<void(char const*, std::string const&, HttpServer::Handler)> add)
{
    auto bind = [&server](void (*handler)(HttpServer&, httplib::Request const&, httplib::Response&)) {
        return [&server, handler](httplib::Request const& request, httplib::Response& response) { handler(server, request, response); };
    };
    add("GET", "/v1/licenses/{id}/credentials", bind(list_credentials));
    add("POST", "/v1/licenses/{id}/credentials", bind(create_credential));
    add("POST", "/v1/licenses/{id}/credentials/{credential}/revoke", bind(revoke_credential));
}

}
