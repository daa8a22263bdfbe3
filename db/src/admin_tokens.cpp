// Admin API tokens. Only a hash of each token is stored; the caller hashes.

#include "store_impl.hpp"

namespace charter::db {

namespace {

constexpr char const* sql_insert_token
    = "INSERT INTO admin_tokens (id, name, hash, scopes, created_at, revoked_at, last_used_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char const* sql_revoke_token
    = "UPDATE admin_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";
constexpr char const* sql_touch_token = "UPDATE admin_tokens SET last_used_at = ?2 WHERE id = ?1";
constexpr char const* sql_select_token_by_hash
    = "SELECT id, name, hash, scopes, created_at, revoked_at, last_used_at FROM admin_tokens WHERE hash = ?1";
constexpr char const* sql_select_token
    = "SELECT id, name, hash, scopes, created_at, revoked_at, last_used_at FROM admin_tokens WHERE id = ?1";
constexpr char const* sql_select_tokens
    = "SELECT id, name, hash, scopes, created_at, revoked_at, last_used_at FROM admin_tokens ORDER BY created_at, id";

// Scopes are single words, stored space-separated.
std::string join_scopes(std::vector<std::string> const& scopes)
{
    std::string joined;
    for (auto const& scope : scopes) {
        if (!joined.empty())
            joined += ' ';
        joined += scope;
    }
    return joined;
}

std::vector<std::string> split_scopes(std::string const& joined)
{
    std::vector<std::string> scopes;
    size_t start = 0;
    while (start < joined.size()) {
        size_t end = joined.find(' ', start);
        if (end == std::string::npos)
            end = joined.size();
        if (end > start)
            scopes.push_back(joined.substr(start, end - start));
        start = end + 1;
    }
    return scopes;
}

AdminToken read_token(Query const& row)
{
    return AdminToken {
        .id = row.text(0),
        .name = row.text(1),
        .hash = row.text(2),
        .scopes = split_scopes(row.text(3)),
        .created_at = row.integer(4),
        .revoked_at = row.optional_integer(5),
        .last_used_at = row.optional_integer(6),
    };
}

}

Result<void> Store::insert_admin_token(AdminToken const& token, Actor const& actor)
{
    if (token.id.empty() || token.hash.empty())
        return make_error(ErrorKind::invalid_input, "an admin token needs an id and a hash");
    for (auto const& scope : token.scopes) {
        if (scope.empty() || scope.find_first_of(" \t\n") != std::string::npos)
            return make_error(ErrorKind::invalid_input, "token scope \"" + scope + "\" is not a single word");
    }
    return m_impl->atomically([&]() -> Result<void> {
        auto const scopes = join_scopes(token.scopes);
        auto insert = m_impl->query(sql_insert_token);
        insert.bind(1, token.id).bind(2, token.name).bind(3, token.hash).bind(4, scopes).bind(5, token.created_at);
        insert.bind(6, token.revoked_at).bind(7, token.last_used_at);
        if (int rc = insert.step(); rc != code::done) {
            if (rc == code::primary_key_violation)
                return make_error(ErrorKind::conflict, "admin token " + token.id + " already exists");
            if (rc == code::unique_violation)
                return make_error(ErrorKind::conflict, "an admin token with the same hash already exists; generate a new secret");
            return m_impl->error(rc);
        }
        auto details = JsonWriter().add("name", token.name).add("scopes", scopes).take();
        return m_impl->audit(actor, token.created_at, "token.create", token.id, details);
    });
}

Result<void> Store::revoke_admin_token(std::string const& id, int64_t at, Actor const& actor)
{
    return m_impl->atomically([&]() -> Result<void> {
        auto revoke = m_impl->query(sql_revoke_token);
        revoke.bind(1, id).bind(2, at);
        if (int rc = revoke.step(); rc != code::done)
            return m_impl->error(rc);
        if (m_impl->connection->changes() == 0) {
            auto select = m_impl->query(sql_select_token);
            select.bind(1, id);
            int rc = select.step();
            if (rc == code::row)
                return make_error(ErrorKind::conflict, "admin token " + id + " is already revoked");
            if (rc != code::done)
                return m_impl->error(rc);
            return make_error(ErrorKind::not_found, "no admin token " + id);
        }
        return m_impl->audit(actor, at, "token.revoke", id, "{}");
    });
}

Result<void> Store::touch_admin_token(std::string const& id, int64_t at)
{
    auto touch = m_impl->query(sql_touch_token);
    touch.bind(1, id).bind(2, at);
    if (int rc = touch.step(); rc != code::done)
        return m_impl->error(rc);
    if (m_impl->connection->changes() == 0)
        return make_error(ErrorKind::not_found, "no admin token " + id);
    return {};
}

Result<std::optional<AdminToken>> Store::find_admin_token_by_hash(std::string const& hash)
{
    auto select = m_impl->query(sql_select_token_by_hash);
    select.bind(1, hash);
    int rc = select.step();
    if (rc == code::row)
        return std::optional<AdminToken>(read_token(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return std::optional<AdminToken>();
}

Result<std::vector<AdminToken>> Store::list_admin_tokens()
{
    auto select = m_impl->query(sql_select_tokens);
    std::vector<AdminToken> tokens;
    int rc;
    while ((rc = select.step()) == code::row)
        tokens.push_back(read_token(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return tokens;
}

}
