// Download credentials: per-environment secrets ("cdl_…") that stand for a license on the
// download paths. Only a hash of each secret is stored; the caller hashes.

#include "store_impl.hpp"

namespace charter::db {

namespace {

#define CHARTER_CREDENTIAL_COLUMNS \
    "SELECT id, license_id, name, hash, created_at, revoked_at, last_used_at, last_used_from FROM credentials"

constexpr char const* sql_insert_credential
    = "INSERT INTO credentials (id, license_id, name, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr char const* sql_revoke_credential
    = "UPDATE credentials SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";
constexpr char const* sql_touch_credential = "UPDATE credentials SET last_used_at = ?2, last_used_from = ?3 WHERE id = ?1";
constexpr char const* sql_select_credential = CHARTER_CREDENTIAL_COLUMNS " WHERE id = ?1";
constexpr char const* sql_select_credential_by_hash = CHARTER_CREDENTIAL_COLUMNS " WHERE hash = ?1";
constexpr char const* sql_select_credentials = CHARTER_CREDENTIAL_COLUMNS " WHERE license_id = ?1 ORDER BY created_at, rowid";
constexpr char const* sql_select_live_name
    = "SELECT id FROM credentials WHERE license_id = ?1 AND name = ?2 AND revoked_at IS NULL";

#undef CHARTER_CREDENTIAL_COLUMNS

Credential read_credential(Query const& row)
{
    return Credential {
        .id = row.text(0),
        .license_id = row.text(1),
        .name = row.text(2),
        .hash = row.text(3),
        .created_at = row.integer(4),
        .revoked_at = row.optional_integer(5),
        .last_used_at = row.optional_integer(6),
        .last_used_from = row.optional_text(7),
    };
}

}

Result<void> Store::insert_credential(Credential const& credential, Actor const& actor)
{
    if (credential.id.empty() || credential.hash.empty() || credential.name.empty())
        return make_error(ErrorKind::invalid_input, "a credential needs an id, a name and a hash");
    return m_impl->atomically([&]() -> Result<void> {
        auto insert = m_impl->query(sql_insert_credential);
        insert.bind(1, credential.id).bind(2, credential.license_id).bind(3, credential.name).bind(4, credential.hash);
        insert.bind(5, credential.created_at);
        if (int rc = insert.step(); rc != code::done) {
            if (is_foreign_key_violation(rc))
                return get_license(credential.license_id).error();
            if (is_unique_violation(rc)) {
                auto live = m_impl->query(sql_select_live_name);
                live.bind(1, credential.license_id).bind(2, credential.name);
                if (live.step() == code::row)
                    return make_error(ErrorKind::conflict, "license " + credential.license_id + " already has a credential named \""
                            + credential.name + "\" (" + live.text(0) + "); revoke it first or choose another name");
                return make_error(ErrorKind::conflict, "credential " + credential.id + " already exists");
            }
            return m_impl->error(rc);
        }
        auto details = JsonWriter().add("license", credential.license_id).add("name", credential.name).take();
        return m_impl->audit(actor, credential.created_at, "credential.create", credential.id, details);
    });
}

Result<void> Store::revoke_credential(std::string const& id, int64_t at, Actor const& actor)
{
    return m_impl->atomically([&]() -> Result<void> {
        auto revoke = m_impl->query(sql_revoke_credential);
        revoke.bind(1, id).bind(2, at);
        if (int rc = revoke.step(); rc != code::done)
            return m_impl->error(rc);
        if (m_impl->connection->changes() == 0) {
            auto existing = get_credential(id);
            if (!existing)
                return existing.error();
            return make_error(ErrorKind::conflict, "credential " + id + " is already revoked");
        }
        auto credential = get_credential(id);
        if (!credential)
            return credential.error();
        return m_impl->audit(actor, at, "credential.revoke", id, JsonWriter().add("license", credential->license_id).take());
    });
}

Result<Credential> Store::get_credential(std::string const& id)
{
    auto select = m_impl->query(sql_select_credential);
    select.bind(1, id);
    int rc = select.step();
    if (rc == code::row)
        return read_credential(select);
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no credential " + id);
}

Result<std::optional<Credential>> Store::find_credential_by_hash(std::string const& hash)
{
    auto select = m_impl->query(sql_select_credential_by_hash);
    select.bind(1, hash);
    int rc = select.step();
    if (rc == code::row)
        return std::optional<Credential>(read_credential(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return std::optional<Credential>();
}

Result<std::vector<Credential>> Store::list_credentials(std::string const& license_id)
{
    auto select = m_impl->query(sql_select_credentials);
    select.bind(1, license_id);
    std::vector<Credential> credentials;
    int rc;
    while ((rc = select.step()) == code::row)
        credentials.push_back(read_credential(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return credentials;
}

Result<void> Store::touch_credential(std::string const& id, int64_t at, std::string const& address)
{
    auto touch = m_impl->query(sql_touch_credential);
    touch.bind(1, id).bind(2, at).bind(3, address);
    if (int rc = touch.step(); rc != code::done)
        return m_impl->error(rc);
    if (m_impl->connection->changes() == 0)
        return make_error(ErrorKind::not_found, "no credential " + id);
    return {};
}

}
