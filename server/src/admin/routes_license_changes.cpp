// The admin API's changes of a license after the sale (docs/api.md "Changing a license"):
// renew, update, suspend, reinstate through ops::LicenseChanges, the code of
// `charter renew|license update|suspend|reinstate`. Renewals and updates sign a new version of
// the key, so they share the issuance's group commit (IssueBatcher::run) and its signing key.

#include "charter/keygen/ops/json_views.hpp"
#include "charter/keygen/ops/license_changes.hpp"
#include "charter/server/admin/idempotency.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/http/request_bodies.hpp"
#include "charter/server/http_server.hpp"

namespace charter::server {

namespace {

using Add = std::function<void(char const*, std::string const&, HttpServer::Handler)>;

db::Actor actor_of(AdminToken const& token)
{
    return db::Actor { "token:" + token.id };
}

// A plan named in the body that does not exist is a semantic error of the request (422); a
// license in the path that does not exist is a missing resource (404).
void send_change_failure(db::Store& store, std::string const& id, httplib::Response& response, Error const& error)
{
    if (error.kind == ErrorKind::not_found) {
        if (auto license = store.get_license(id); license)
            return send_error(response, 422, "invalid", error.message);
    }
    send_failure(response, error);
}

// A replay answers with the license as it is now (the answer of a change).
IdempotencyKey::Replay license_replay(HttpServer& server)
{
    return replay_record(200, [](db::Store& store, std::string const& id) { return store.get_license(id); },
        [&server](db::License const& license) { return ops::license_json(license, server.now()); });
}

// Where a change is committed: renewals and updates sign a new version, so they share
// issuance's group commit (and its signing key); suspension and reinstatement sign nothing.
enum class Commit { own_transaction, shared_with_issuance };

// Makes a change of the license in the path (`write` returns the license as it leaves it),
// with the request's Idempotency-Key recorded in the change's transaction. `issuer` is the
// shared commit's (null in an own transaction).
using Write = std::function<Result<db::License>(db::Store& store, ops::Issuer* issuer)>;

void change_license(HttpServer& server, httplib::Request const& request, httplib::Response& response,
    AdminToken const& token, Commit commit, Write const& write)
{
    int64_t now = server.now();
    auto replay = license_replay(server);
    auto post = start_idempotent_post(server.pool(), request, response, token.id, now, replay);
    if (!post)
        return;
    auto& store = *post->store;
    std::string id = request.matches[1];
    std::optional<db::License> changed;
    auto apply = [&](db::Store& target, ops::Issuer* issuer) {
        return post->key.apply(target, id, [&]() -> Result<void> {
            auto license = write(target, issuer);
            if (!license)
                return license.error();
            changed = std::move(*license);
            return {};
        });
    };
    auto done = commit == Commit::shared_with_issuance
        ? server.commit_signed([&](db::Store& batch_store, ops::Issuer& issuer) { return apply(batch_store, &issuer); })
        : apply(store, nullptr);
    if (!done) {
        // Two retries racing with one Idempotency-Key: the loser's change is undone, and it
        // answers as the winner did.
        if (done.error().kind == ErrorKind::conflict && post->key.answered(store, response, replay))
            return;
        return send_change_failure(store, id, response, done.error());
    }
    send_json(response, 200, ops::license_json(*changed, now));
}

// A route of a change that signs (scope issue): the body read by `read`, then `change` of ops::LicenseChanges.
template <typename Body>
void signed_change_route(HttpServer& server, httplib::Request const& request, httplib::Response& response,
    std::optional<Body> (*read)(httplib::Request const&, httplib::Response&),
    Result<ops::ChangedLicense> (ops::LicenseChanges::*change)(std::string const&, Body const&, db::Actor const&, int64_t))
{
    auto token = server.admin_auth().authorize(request, response, "issue");
    if (!token)
        return;
    auto body = read(request, response);
    if (!body)
        return;
    std::string id = request.matches[1];
    auto actor = actor_of(*token);
    int64_t now = server.now();
    change_license(server, request, response, *token, Commit::shared_with_issuance,
        [&](db::Store& store, ops::Issuer* issuer) -> Result<db::License> {
            ops::LicenseChanges changes(store, issuer->key());
            auto changed = (changes.*change)(id, *body, actor, now);
            if (!changed)
                return changed.error();
            return std::move(changed->license);
        });
}

void renew_license(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    signed_change_route(server, request, response, read_renew_request, &ops::LicenseChanges::renew);
}

void update_license(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    signed_change_route(server, request, response, read_update_request, &ops::LicenseChanges::update);
}

void suspend_license(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto token = server.admin_auth().authorize(request, response, "revoke");
    if (!token)
        return;
    auto suspend = read_suspend_request(request, response);
    if (!suspend)
        return;
    std::string id = request.matches[1];
    auto actor = actor_of(*token);
    int64_t now = server.now();
    change_license(server, request, response, *token, Commit::own_transaction,
        [&](db::Store& store, ops::Issuer*) { return ops::suspend_license(store, id, suspend->reason, actor, now); });
}

void reinstate_license(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto token = server.admin_auth().authorize(request, response, "revoke");
    if (!token)
        return;
    // The body is optional, and has no fields.
    auto body = read_json_body(request, response, false);
    if (!body)
        return;
    if (FieldReader fields(*body, response); !fields.only({}))
        return;
    std::string id = request.matches[1];
    auto actor = actor_of(*token);
    int64_t now = server.now();
    change_license(server, request, response, *token, Commit::own_transaction,
        [&](db::Store& store, ops::Issuer*) { return ops::reinstate_license(store, id, actor, now); });
}

}

void register_license_change_routes(HttpServer& server, Add add)
{
    auto bind = [&server](void (*handler)(HttpServer&, httplib::Request const&, httplib::Response&)) {
        return [&server, handler](httplib::Request const& request, httplib::Response& response) { handler(server, request, response); };
    };
    add("POST", "/v1/licenses/{id}/renew", bind(renew_license));
    add("PATCH", "/v1/licenses/{id}", bind(update_license));
    add("POST", "/v1/licenses/{id}/suspend", bind(suspend_license));
    add("POST", "/v1/licenses/{id}/reinstate", bind(reinstate_license));
}

}
