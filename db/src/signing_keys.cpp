// The public halves of the signing keys: which is current, which are trusted.

#include "store_impl.hpp"

namespace charter::db {

namespace {

constexpr char const* sql_insert_key
    = "INSERT INTO signing_keys (kid, public_paserk, status, is_current, created_at, retired_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char const* sql_clear_current = "UPDATE signing_keys SET is_current = 0 WHERE is_current = 1";
constexpr char const* sql_make_current = "UPDATE signing_keys SET is_current = 1 WHERE kid = ?1";
constexpr char const* sql_retire_key
    = "UPDATE signing_keys SET status = 'retired', retired_at = ?2 WHERE kid = ?1";
constexpr char const* sql_select_keys
    = "SELECT kid, public_paserk, status, is_current, created_at, retired_at FROM signing_keys"
      " ORDER BY created_at, kid";
constexpr char const* sql_select_key
    = "SELECT kid, public_paserk, status, is_current, created_at, retired_at FROM signing_keys WHERE kid = ?1";
constexpr char const* sql_select_current_key
    = "SELECT kid, public_paserk, status, is_current, created_at, retired_at FROM signing_keys WHERE is_current = 1";

SigningKeyRecord read_key(Query const& row)
{
    return SigningKeyRecord {
        .kid = row.text(0),
        .public_paserk = row.text(1),
        .status = row.text(2),
        .current = row.boolean(3),
        .created_at = row.integer(4),
        .retired_at = row.optional_integer(5),
    };
}

}

Result<void> Store::add_signing_key(SigningKeyRecord const& key, Actor const& actor)
{
    if (key.status != "active" && key.status != "retired")
        return make_error(ErrorKind::invalid_input, "signing key status must be active or retired, not \"" + key.status + "\"");
    if (key.current && key.status == "retired")
        return make_error(ErrorKind::invalid_input, "signing key " + key.kid + " cannot be both current and retired");
    return m_impl->atomically([&]() -> Result<void> {
        if (key.current) {
            if (int rc = m_impl->query(sql_clear_current).step(); rc != code::done)
                return m_impl->error(rc);
        }
        auto insert = m_impl->query(sql_insert_key);
        insert.bind(1, key.kid).bind(2, key.public_paserk).bind(3, key.status).bind_bool(4, key.current);
        insert.bind(5, key.created_at).bind(6, key.retired_at);
        if (int rc = insert.step(); rc != code::done) {
            if (is_unique_violation(rc))
                return make_error(ErrorKind::conflict, "signing key " + key.kid + " already exists");
            return m_impl->error(rc);
        }
        auto details = JsonWriter().add("public_key", key.public_paserk).add_bool("current", key.current).take();
        return m_impl->audit(actor, key.created_at, "key.add", key.kid, details);
    });
}

Result<void> Store::set_current_key(std::string const& kid, int64_t at, Actor const& actor)
{
    return m_impl->atomically([&]() -> Result<void> {
        auto key = find_signing_key(kid);
        if (!key)
            return key.error();
        if (key->status == "retired")
            return make_error(ErrorKind::conflict, "signing key " + kid + " is retired and cannot sign again; create a new key");
        if (key->current)
            return make_error(ErrorKind::conflict, "signing key " + kid + " is already the current key");
        auto previous = current_signing_key();
        if (int rc = m_impl->query(sql_clear_current).step(); rc != code::done)
            return m_impl->error(rc);
        if (int rc = m_impl->query(sql_make_current).bind(1, kid).step(); rc != code::done)
            return m_impl->error(rc);
        JsonWriter details;
        if (previous)
            details.add("previous", previous->kid);
        return m_impl->audit(actor, at, "key.rotate", kid, details.take());
    });
}

Result<void> Store::retire_key(std::string const& kid, int64_t at, Actor const& actor)
{
    return m_impl->atomically([&]() -> Result<void> {
        auto key = find_signing_key(kid);
        if (!key)
            return key.error();
        if (key->current) {
            return make_error(ErrorKind::conflict,
                "signing key " + kid + " is the current signing key; rotate to a new key first, then retire this one");
        }
        if (key->status == "retired")
            return make_error(ErrorKind::conflict, "signing key " + kid + " is already retired");
        if (int rc = m_impl->query(sql_retire_key).bind(1, kid).bind(2, at).step(); rc != code::done)
            return m_impl->error(rc);
        return m_impl->audit(actor, at, "key.retire", kid, "{}");
    });
}

Result<std::vector<SigningKeyRecord>> Store::list_signing_keys()
{
    auto select = m_impl->query(sql_select_keys);
    std::vector<SigningKeyRecord> keys;
    int rc;
    while ((rc = select.step()) == code::row)
        keys.push_back(read_key(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return keys;
}

Result<SigningKeyRecord> Store::find_signing_key(std::string const& kid)
{
    auto select = m_impl->query(sql_select_key);
    select.bind(1, kid);
    int rc = select.step();
    if (rc == code::row)
        return read_key(select);
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no signing key " + kid);
}

Result<SigningKeyRecord> Store::current_signing_key()
{
    auto select = m_impl->query(sql_select_current_key);
    int rc = select.step();
    if (rc == code::row)
        return read_key(select);
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no current signing key; create one with `charter key new`");
}

}
