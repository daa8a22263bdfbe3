#include "charter/server/admin/idempotency.hpp"

#include "charter/keygen/ops/admin_tokens.hpp"
#include "charter/server/http/http_util.hpp"

#include <algorithm>

namespace charter::server {

std::optional<IdempotencyKey> IdempotencyKey::read(httplib::Request const& request, httplib::Response& response,
    std::string const& token_id, int64_t now, bool streamed)
{
    IdempotencyKey key;
    if (!request.has_header("Idempotency-Key"))
        return key;
    auto value = request.get_header_value("Idempotency-Key");
    bool printable = std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    if (value.empty() || value.size() > 255 || !printable) {
        send_error(response, 400, "invalid_header", "Idempotency-Key must be 1 to 255 printable ASCII characters");
        return std::nullopt;
    }
    db::IdempotencyRecord record;
    record.token_id = token_id;
    record.key = std::move(value);
    record.fingerprint = streamed
        ? ops::blake2b_hex(request.method + " " + request.target + "\n" + request.get_header_value("Content-Length"))
        : ops::blake2b_hex(request.method + " " + request.path + "\n" + request.body);
    record.created_at = now;
    key.m_record = std::move(record);
    return key;
}

std::optional<db::IdempotencyRecord> IdempotencyKey::record(std::string const& resource) const
{
    if (!m_record)
        return std::nullopt;
    auto record = *m_record;
    record.resource = resource;
    return record;
}

Result<void> IdempotencyKey::apply(db::Store& store, std::string const& resource,
    std::function<Result<void>()> const& change) const
{
    return store.transaction([&]() -> Result<void> {
        if (auto done = change(); !done)
            return done;
        if (auto row = record(resource))
            return store.record_idempotency_key(*row);
        return {};
    });
}

bool IdempotencyKey::answered(db::Store& store, httplib::Response& response, Replay const& replay) const
{
    if (!m_record)
        return false;
    auto found = store.find_idempotency_key(m_record->token_id, m_record->key);
    if (!found) {
        send_failure(response, found.error());
        return true;
    }
    if (!*found)
        return false;
    if ((*found)->fingerprint != m_record->fingerprint) {
        send_error(response, 409, "idempotency_conflict",
            "this Idempotency-Key was used with a different request (another body or path); send a new key for a new request");
        return true;
    }
    response.set_header("Idempotent-Replayed", "true");
    replay(store, (*found)->resource, response);
    return true;
}

std::optional<IdempotentPost> start_idempotent_post(StorePool& pool, httplib::Request const& request,
    httplib::Response& response, std::string const& token_id, int64_t now, IdempotencyKey::Replay const& replay,
    bool streamed)
{
    auto key = IdempotencyKey::read(request, response, token_id, now, streamed);
    if (!key)
        return std::nullopt;
    auto store = pool.lease();
    if (!store) {
        send_failure(response, store.error());
        return std::nullopt;
    }
    if (key->answered(**store, response, replay))
        return std::nullopt;
    return IdempotentPost { std::move(*key), std::move(*store) };
}

}
