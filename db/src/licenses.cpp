// Licenses: issuing (the hot path of a batch), revoking, finding and listing.

#include "store_impl.hpp"

namespace charter::db {

namespace {

constexpr char const* sql_insert_license
    = "INSERT INTO licenses (id, customer_id, product_id, token, claims_json, kid, issued_at, expires_at,"
      " updates_until, status, revoked_at, revoke_reason, idempotency_key, idempotency_fingerprint, version_actor, plan_id)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
constexpr char const* sql_delete_license = "DELETE FROM licenses WHERE id = ?1";
constexpr char const* sql_revoke_license
    = "UPDATE licenses SET status = 'revoked', revoked_at = ?2, revoke_reason = ?3 WHERE id = ?1 AND status = 'active'";

#define CHARTER_LICENSE_COLUMNS                                                                                  \
    "SELECT id, customer_id, product_id, token, claims_json, kid, issued_at, expires_at, updates_until, status," \
    " revoked_at, revoke_reason, version, version_reason, suspended_at, suspend_reason, plan_id FROM licenses"

constexpr char const* sql_select_license = CHARTER_LICENSE_COLUMNS " WHERE id = ?1";
// In a read snapshot on PostgreSQL (Store::Impl::snapshot): with the releases' generation.
constexpr char const* sql_select_license_in_snapshot
    = "SELECT id, customer_id, product_id, token, claims_json, kid, issued_at, expires_at, updates_until, status,"
      " revoked_at, revoke_reason, version, version_reason, suspended_at, suspend_reason, plan_id,"
      " (SELECT value FROM generations WHERE name = 'releases') FROM licenses WHERE id = ?1";
constexpr char const* sql_select_license_status = "SELECT status FROM licenses WHERE id = ?1";

// One statement for every combination of filters: a NULL parameter switches its condition
// off. ?3 is the state (LicenseState, records.hpp's state_at in SQL): 0 active (neither
// suspended nor expired at ?4), 1 revoked, 2 expired at ?4 (and not suspended), 3 suspended.
// ?7: ends within [?4, ?4 + ?7] seconds, neither revoked nor suspended.
#define CHARTER_LICENSE_FILTER                                                                          \
    " WHERE (CAST(?1 AS TEXT) IS NULL OR product_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR customer_id = ?2)"                      \
    " AND (CAST(?3 AS BIGINT) IS NULL"                                                                                  \
    "  OR (?3 = 0 AND status = 'active' AND suspended_at IS NULL"                                       \
    "      AND (expires_at IS NULL OR expires_at >= ?4))"                                               \
    "  OR (?3 = 1 AND status = 'revoked')"                                                              \
    "  OR (?3 = 2 AND status = 'active' AND suspended_at IS NULL AND expires_at < ?4)"                  \
    "  OR (?3 = 3 AND status = 'active' AND suspended_at IS NOT NULL))"                                 \
    " AND (CAST(?7 AS BIGINT) IS NULL OR (status = 'active' AND suspended_at IS NULL"                                   \
    "      AND expires_at >= ?4 AND expires_at <= ?4 + ?7))"

// In rowid order, which is the order licenses were issued in, and stable for a cursor.
constexpr char const* sql_select_licenses = CHARTER_LICENSE_COLUMNS CHARTER_LICENSE_FILTER
    " AND (CAST(?5 AS BIGINT) IS NULL OR rowid > ?5) ORDER BY rowid LIMIT ?6";
constexpr char const* sql_count_licenses = "SELECT count(*) FROM licenses" CHARTER_LICENSE_FILTER;
constexpr char const* sql_select_license_position = "SELECT rowid FROM licenses WHERE id = ?1";
constexpr char const* sql_select_revoked_ids
    = "SELECT id FROM licenses WHERE product_id = ?1 AND status = 'revoked' ORDER BY id";

// A plan's licenses due a reminder: neither revoked nor suspended, ending in (?2, ?3].
constexpr char const* sql_select_licenses_ending = CHARTER_LICENSE_COLUMNS
    " WHERE plan_id = ?1 AND status = 'active' AND suspended_at IS NULL AND expires_at > ?2 AND expires_at <= ?3 ORDER BY id";

#undef CHARTER_LICENSE_COLUMNS
#undef CHARTER_LICENSE_FILTER

License read_license(Query const& row)
{
    return License {
        .id = row.text(0),
        .customer_id = row.text(1),
        .product_id = row.text(2),
        .token = row.text(3),
        .claims_json = row.text(4),
        .kid = row.text(5),
        .issued_at = row.integer(6),
        .expires_at = row.optional_integer(7),
        .updates_until = row.optional_integer(8),
        .status = row.text(9),
        .revoked_at = row.optional_integer(10),
        .revoke_reason = row.optional_text(11),
        .version = row.integer(12),
        .version_reason = row.text(13),
        .suspended_at = row.optional_integer(14),
        .suspend_reason = row.optional_text(15),
        .plan_id = row.optional_text(16),
    };
}

void bind_filter(Query& query, LicenseFilter const& filter)
{
    query.bind(1, filter.product_id).bind(2, filter.customer_id);
    if (filter.state)
        query.bind(3, static_cast<int64_t>(*filter.state));
    query.bind(4, filter.now).bind(7, filter.expiring_within);
}

}

Result<void> Store::insert_license(License const& license, Actor const& actor)
{
    if (license.status != "active" && license.status != "revoked")
        return make_error(ErrorKind::invalid_input, "license status must be active or revoked, not \"" + license.status + "\"");

    // Which reference is wrong is found out only after a failed insert (checking up front would
    // cost three lookups on every license of a batch), and only once the failed statement is
    // rolled back: PostgreSQL refuses every statement of a transaction after a failed one.
    bool missing_reference = false;
    auto explain = [&](Result<void> result) -> Result<void> {
        if (result || !missing_reference)
            return result;
        if (auto product = get_product(license.product_id); !product)
            return product.error();
        if (auto customer = find_customer(license.customer_id); !customer)
            return customer.error();
        if (auto key = find_signing_key(license.kid); !key)
            return key.error();
        if (license.plan_id) {
            if (auto plan = get_plan(*license.plan_id); !plan)
                return plan.error();
        }
        return result;
    };
    auto insert_row = [&]() -> Result<void> {
        auto insert = m_impl->query(sql_insert_license);
        insert.bind(1, license.id).bind(2, license.customer_id).bind(3, license.product_id).bind(4, license.token);
        insert.bind(5, license.claims_json).bind(6, license.kid).bind(7, license.issued_at).bind(8, license.expires_at);
        insert.bind(9, license.updates_until).bind(10, license.status).bind(11, license.revoked_at);
        // Columns 13 and 14 (the unscoped idempotency key of schema versions 1 to 3) stay NULL.
        insert.bind(12, license.revoke_reason).bind_null(13).bind_null(14).bind(15, actor.name).bind(16, license.plan_id);
        int rc = insert.step();
        if (rc == code::done)
            return {};
        if (rc == code::primary_key_violation)
            return make_error(ErrorKind::conflict, "license " + license.id + " already exists");
        if (is_foreign_key_violation(rc))
            missing_reference = true;
        return m_impl->error(rc);
    };
    bool idempotency_recorded = false;
    bool mail_queued = false;
    auto write_audit = [&]() -> Result<void> {
        if (license.idempotency) {
            auto record = *license.idempotency;
            record.resource = license.id;
            if (auto recorded = m_impl->insert_idempotency_key(record); !recorded)
                return recorded;
            idempotency_recorded = true;
        }
        if (license.mail) {
            auto message = *license.mail;
            message.license_id = license.id;
            if (auto queued = m_impl->insert_mail(message); !queued)
                return queued.error();
            mail_queued = true;
        }
        auto details = JsonWriter()
                           .add("product", license.product_id)
                           .add("customer", license.customer_id)
                           .add("expires_at", license.expires_at)
                           .add("updates_until", license.updates_until)
                           .take();
        return m_impl->audit(actor, license.issued_at, "license.issue", license.id, details);
    };

    // PostgreSQL aborts the whole transaction at a failed statement, so there a license in the
    // caller's transaction gets a savepoint, which a later ROLLBACK TO undoes cheaply. Its rows
    // go in one round trip; only when one of them fails (a used key, a missing customer) are
    // they written again one at a time, for the failure's own message.
    if (m_impl->backend() == Backend::postgres) {
        bool again = false; // a row failed for a reason of its own, not the database's
        auto together = m_impl->atomically([&]() -> Result<void> {
            m_impl->connection->hold_changes();
            auto written = insert_row();
            if (written)
                written = write_audit();
            int rc = m_impl->connection->send_changes();
            if (!written)
                return written;
            if (rc == code::done)
                return {};
            auto failure = m_impl->error(rc);
            again = failure.kind != ErrorKind::io;
            return failure;
        });
        if (together || !again || (m_impl->depth > 0 && !m_impl->connection->in_transaction()))
            return together;
    }
    if (m_impl->depth == 0 || m_impl->backend() == Backend::postgres) {
        return explain(m_impl->atomically([&]() -> Result<void> {
            if (auto inserted = insert_row(); !inserted)
                return inserted;
            return write_audit();
        }));
    }

    // Inside the caller's transaction (a batch), without a savepoint: a savepoint makes SQLite
    // copy every page the two inserts touch, which doubles the cost of a 100,000-license
    // batch. One INSERT is atomic by itself, so only a failed audit row (or idempotency key or
    // mail message, written before the audit's) needs undoing, and deleting the rows just
    // inserted does that.
    if (auto usable = m_impl->check_transaction(); !usable)
        return usable;
    if (auto inserted = insert_row(); !inserted)
        return explain(inserted);
    auto audited = write_audit();
    if (audited || !m_impl->connection->in_transaction())
        return audited;
    if (int rc = m_impl->query(sql_delete_license).bind(1, license.id).step(); rc != code::done)
        m_impl->doomed = true;
    if (idempotency_recorded && !m_impl->delete_idempotency_key(*license.idempotency))
        m_impl->doomed = true;
    if (mail_queued && !m_impl->delete_mail(*license.mail))
        m_impl->doomed = true;
    return audited;
}

Result<void> Store::revoke_license(std::string const& id, std::optional<std::string> const& reason, int64_t at,
    Actor const& actor)
{
    return m_impl->atomically([&]() -> Result<void> {
        auto revoke = m_impl->query(sql_revoke_license);
        revoke.bind(1, id).bind(2, at).bind(3, reason);
        if (int rc = revoke.step(); rc != code::done)
            return m_impl->error(rc);
        if (m_impl->connection->changes() == 0) {
            auto existing = get_license(id);
            if (!existing)
                return existing.error();
            return make_error(ErrorKind::conflict, "license " + id + " is already revoked");
        }
        return m_impl->audit(actor, at, "license.revoke", id, JsonWriter().add("reason", reason).take());
    });
}

Result<License> Store::get_license(std::string const& id)
{
    bool const snapshot = m_impl->snapshot;
    auto select = m_impl->query(snapshot ? sql_select_license_in_snapshot : sql_select_license);
    select.bind(1, id);
    int rc = select.step();
    if (rc == code::row) {
        if (snapshot)
            m_impl->snapshot_releases_generation = select.optional_integer(17).value_or(0);
        return read_license(select);
    }
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no license " + id);
}

Result<std::string> Store::license_status(std::string const& id)
{
    auto select = m_impl->query(sql_select_license_status);
    select.bind(1, id);
    int rc = select.step();
    if (rc == code::row)
        return select.text(0);
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no license " + id);
}

Result<std::vector<License>> Store::list_licenses(LicenseFilter const& filter)
{
    std::optional<int64_t> after_rowid;
    if (filter.after_id) {
        auto position = m_impl->query(sql_select_license_position);
        position.bind(1, *filter.after_id);
        int rc = position.step();
        if (rc == code::done)
            return make_error(ErrorKind::invalid_input, "the cursor (after) " + *filter.after_id + " is not a license id");
        if (rc != code::row)
            return m_impl->error(rc);
        after_rowid = position.integer(0);
    }
    auto select = m_impl->query(sql_select_licenses);
    bind_filter(select, filter);
    select.bind(5, after_rowid).bind(6, filter.limit.value_or(-1));
    std::vector<License> licenses;
    int rc;
    while ((rc = select.step()) == code::row)
        licenses.push_back(read_license(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return licenses;
}

Result<int64_t> Store::count_licenses(LicenseFilter const& filter)
{
    auto count = m_impl->query(sql_count_licenses);
    bind_filter(count, filter);
    int rc = count.step();
    if (rc != code::row)
        return m_impl->error(rc);
    return count.integer(0);
}

Result<std::vector<std::string>> Store::revoked_license_ids(std::string const& product_id)
{
    auto select = m_impl->query(sql_select_revoked_ids);
    select.bind(1, product_id);
    std::vector<std::string> ids;
    int rc;
    while ((rc = select.step()) == code::row)
        ids.push_back(select.text(0));
    if (rc != code::done)
        return m_impl->error(rc);
    return ids;
}

Result<std::vector<License>> Store::licenses_ending(std::string const& plan_id, int64_t after, int64_t until)
{
    auto select = m_impl->query(sql_select_licenses_ending);
    select.bind(1, plan_id).bind(2, after).bind(3, until);
    std::vector<License> licenses;
    int rc;
    while ((rc = select.step()) == code::row)
        licenses.push_back(read_license(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return licenses;
}

}
