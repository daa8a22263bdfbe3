// The customer portal's sessions and sign-in links: each stored as the hash of the secret the
// browser (a cookie) or the customer's mailbox (a link) holds, bound to one customer.

#include "store_impl.hpp"

namespace charter::db {

namespace {

constexpr char const* sql_delete_expired_sessions = "DELETE FROM portal_sessions WHERE expires_at < ?1";
constexpr char const* sql_insert_session = "INSERT INTO portal_sessions (hash, customer_id, csrf_token, signed_in_with,"
                                           " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char const* sql_select_session
    = "SELECT hash, customer_id, csrf_token, signed_in_with, created_at, expires_at FROM portal_sessions WHERE hash = ?1";
constexpr char const* sql_delete_session = "DELETE FROM portal_sessions WHERE hash = ?1 RETURNING customer_id";
constexpr char const* sql_delete_expired_links = "DELETE FROM portal_sign_in_links WHERE expires_at < ?1";
constexpr char const* sql_insert_link
    = "INSERT INTO portal_sign_in_links (hash, customer_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)";
constexpr char const* sql_use_link = "UPDATE portal_sign_in_links SET used_at = ?2"
                                     " WHERE hash = ?1 AND used_at IS NULL AND expires_at >= ?2 RETURNING customer_id";

}

Result<void> Store::insert_portal_session(PortalSession const& session, Actor const& actor)
{
    if (session.hash.empty() || session.customer_id.empty() || session.csrf_token.empty())
        return make_error(ErrorKind::invalid_input, "a portal session needs a hash, a customer and a CSRF token");
    return m_impl->atomically([&]() -> Result<void> {
        auto expired = m_impl->query(sql_delete_expired_sessions);
        expired.bind(1, session.created_at);
        if (int rc = expired.step(); rc != code::done)
            return m_impl->error(rc);
        auto insert = m_impl->query(sql_insert_session);
        insert.bind(1, session.hash).bind(2, session.customer_id).bind(3, session.csrf_token).bind(4, session.signed_in_with);
        insert.bind(5, session.created_at).bind(6, session.expires_at);
        if (int rc = insert.step(); rc != code::done) {
            if (is_foreign_key_violation(rc))
                return find_customer(session.customer_id).error();
            return m_impl->error(rc);
        }
        auto details = JsonWriter().add("with", session.signed_in_with).take();
        return m_impl->audit(actor, session.created_at, "portal.sign_in", session.customer_id, details);
    });
}

Result<std::optional<PortalSession>> Store::find_portal_session(std::string const& hash)
{
    auto select = m_impl->query(sql_select_session);
    select.bind(1, hash);
    int rc = select.step();
    if (rc == code::row) {
        return std::optional<PortalSession>(PortalSession {
            .hash = select.text(0),
            .customer_id = select.text(1),
            .csrf_token = select.text(2),
            .signed_in_with = select.text(3),
            .created_at = select.integer(4),
            .expires_at = select.integer(5),
        });
    }
    if (rc != code::done)
        return m_impl->error(rc);
    return std::optional<PortalSession>();
}

Result<void> Store::delete_portal_session(std::string const& hash, int64_t at, Actor const& actor)
{
    return m_impl->atomically([&]() -> Result<void> {
        auto remove = m_impl->query(sql_delete_session);
        remove.bind(1, hash);
        int rc = remove.step();
        if (rc == code::done)
            return make_error(ErrorKind::not_found, "no such portal session (signed out already, or expired)");
        if (rc != code::row)
            return m_impl->error(rc);
        auto customer = remove.text(0);
        if (rc = remove.step(); rc != code::done)
            return m_impl->error(rc);
        return m_impl->audit(actor, at, "portal.sign_out", customer, "{}");
    });
}

Result<void> Store::insert_sign_in_link(SignInLink const& link)
{
    if (link.hash.empty() || link.customer_id.empty())
        return make_error(ErrorKind::invalid_input, "a sign-in link needs a hash and a customer");
    return m_impl->atomically([&]() -> Result<void> {
        auto expired = m_impl->query(sql_delete_expired_links);
        expired.bind(1, link.created_at);
        if (int rc = expired.step(); rc != code::done)
            return m_impl->error(rc);
        auto insert = m_impl->query(sql_insert_link);
        insert.bind(1, link.hash).bind(2, link.customer_id).bind(3, link.created_at).bind(4, link.expires_at);
        if (int rc = insert.step(); rc != code::done) {
            if (is_foreign_key_violation(rc))
                return find_customer(link.customer_id).error();
            return m_impl->error(rc);
        }
        return Result<void> {};
    });
}

Result<std::optional<std::string>> Store::use_sign_in_link(std::string const& hash, int64_t at)
{
    std::optional<std::string> customer;
    auto used = m_impl->atomically([&]() -> Result<void> {
        auto use = m_impl->query(sql_use_link);
        use.bind(1, hash).bind(2, at);
        int rc = use.step();
        if (rc == code::done)
            return {};
        if (rc != code::row)
            return m_impl->error(rc);
        customer = use.text(0);
        if (rc = use.step(); rc != code::done)
            return m_impl->error(rc);
        return {};
    });
    if (!used)
        return used.error();
    return customer;
}

}
