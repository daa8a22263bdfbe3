// Idempotency keys of the admin API: one row per (admin token, key), written in the
// transaction of the change it records, so a retry either finds it or makes the change.

#include "store_impl.hpp"

namespace charter::db {

namespace {

constexpr char const* sql_insert_idempotency_key
    = "INSERT INTO idempotency_keys (token_id, key, fingerprint, resource, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr char const* sql_delete_idempotency_key = "DELETE FROM idempotency_keys WHERE token_id = ?1 AND key = ?2";
constexpr char const* sql_select_idempotency_key
    = "SELECT token_id, key, fingerprint, resource, created_at FROM idempotency_keys WHERE token_id = ?1 AND key = ?2";

}

Result<void> Store::Impl::insert_idempotency_key(IdempotencyRecord const& record)
{
    auto insert = query(sql_insert_idempotency_key);
    insert.bind(1, record.token_id).bind(2, record.key).bind(3, record.fingerprint).bind(4, record.resource);
    insert.bind(5, record.created_at);
    int rc = insert.step();
    if (rc == code::done)
        return {};
    if (rc == code::primary_key_violation)
        return make_error(ErrorKind::conflict, "idempotency key " + record.key + " was already used by admin token "
                + record.token_id);
    return error(rc);
}

bool Store::Impl::delete_idempotency_key(IdempotencyRecord const& record)
{
    return query(sql_delete_idempotency_key).bind(1, record.token_id).bind(2, record.key).step() == code::done;
}

Result<void> Store::record_idempotency_key(IdempotencyRecord const& record)
{
    if (record.token_id.empty() || record.key.empty() || record.resource.empty())
        return make_error(ErrorKind::invalid_input, "an idempotency key needs a token, a key and a resource");
    return m_impl->atomically([&]() { return m_impl->insert_idempotency_key(record); });
}

Result<std::optional<IdempotencyRecord>> Store::find_idempotency_key(std::string const& token_id, std::string const& key)
{
    auto select = m_impl->query(sql_select_idempotency_key);
    select.bind(1, token_id).bind(2, key);
    int rc = select.step();
    if (rc == code::row)
        return std::optional<IdempotencyRecord>(IdempotencyRecord {
            .token_id = select.text(0),
            .key = select.text(1),
            .fingerprint = select.text(2),
            .resource = select.text(3),
            .created_at = select.integer(4),
        });
    if (rc != code::done)
        return m_impl->error(rc);
    return std::optional<IdempotencyRecord>();
}

}
