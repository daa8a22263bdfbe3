#pragma once
// Idempotency-Key on every POST of the admin API, one mechanism for all of them. A payment
// webhook retries until it sees an answer; with the same key, a retry gets the answer the first
// request got (the current state of what it made) instead of making it twice.
//
// Keys are scoped to the admin token that sent them: the same key from another token is
// another key, so no token ever reads what another one made through a guessed or leaked key.
// A key is remembered with a fingerprint of its request (method, path and body): reused for
// another request, it is refused (409 idempotency_conflict). The key is recorded in the
// transaction of the change it belongs to, so a crash leaves either both or neither.

#include "charter/db/store.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/store_pool.hpp"

#include <httplib.h>

#include <functional>
#include <optional>
#include <string>

namespace charter::server {

class IdempotencyKey {
public:
    /// Reads the request's Idempotency-Key header for `token_id`. A malformed header sets a 400
    /// and returns nullopt; no header gives a key that is not present().
    /// `streamed`: the body is streamed by the handler (a release upload), so the fingerprint
    /// takes the request target (its query) and Content-Length in its place.
    static std::optional<IdempotencyKey> read(httplib::Request const& request, httplib::Response& response,
        std::string const& token_id, int64_t now, bool streamed = false);

    bool present() const { return m_record.has_value(); }

    /// The row to write in the transaction of the change (nullopt without a header).
    std::optional<db::IdempotencyRecord> record(std::string const& resource = {}) const;

    /// Runs `change` and, with a key, records it for `resource` in the same transaction.
    Result<void> apply(db::Store& store, std::string const& resource, std::function<Result<void>()> const& change) const;

    /// Sends the answer for `resource` (the id a first request with this key made or changed),
    /// read with `store`.
    using Replay = std::function<void(db::Store& store, std::string const& resource, httplib::Response& response)>;

    /// True when the key was used before and the request is answered: a retry of the same
    /// request through `replay` (with Idempotent-Replayed: true), another request with a 409.
    /// False when the key is new (or absent): go on and make the change. Call it again after
    /// a conflict on writing the record, when a retry racing with the first request won.
    bool answered(db::Store& store, httplib::Response& response, Replay const& replay) const;

private:
    std::optional<db::IdempotencyRecord> m_record;
};

/// An admin POST past its retry check: its key, and the store it goes on with.
struct IdempotentPost {
    IdempotencyKey key;
    StorePool::Lease store;
};

/// The start of every admin POST and release upload: reads the Idempotency-Key for `token_id`
/// (IdempotencyKey::read), leases a store, and answers a retry through `replay`. nullopt when
/// the request is answered: a retry, a reused key (409), a malformed key, no store.
std::optional<IdempotentPost> start_idempotent_post(StorePool& pool, httplib::Request const& request,
    httplib::Response& response, std::string const& token_id, int64_t now, IdempotencyKey::Replay const& replay,
    bool streamed = false);

/// A Replay that sends `status` with the record `find(store, id)` reads, as `to_json` writes it.
template <typename Find, typename ToJson>
IdempotencyKey::Replay replay_record(int status, Find find, ToJson to_json)
{
    return [status, find, to_json](db::Store& store, std::string const& id, httplib::Response& answer) {
        auto record = find(store, id);
        if (!record)
            return send_failure(answer, record.error());
        send_json(answer, status, to_json(*record));
    };
}

}
