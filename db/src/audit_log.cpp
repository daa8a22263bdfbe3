// Reading the audit log (every mutator writes its own row; see Store::Impl::audit), and the
// instance-wide settings.

#include "store_impl.hpp"

namespace charter::db {

namespace {

constexpr char const* sql_select_audit
    = "SELECT id, at, actor, action, subject, details_json FROM audit"
      " WHERE (CAST(?1 AS BIGINT) IS NULL OR at >= ?1) AND (CAST(?2 AS BIGINT) IS NULL OR id > ?2)"
      " AND (CAST(?4 AS TEXT) IS NULL OR substr(actor, 1, length(CAST(?4 AS TEXT))) = ?4) ORDER BY id LIMIT ?3";
constexpr char const* sql_select_audit_newest_first
    = "SELECT id, at, actor, action, subject, details_json FROM audit"
      " WHERE (CAST(?1 AS BIGINT) IS NULL OR at >= ?1) AND (CAST(?2 AS BIGINT) IS NULL OR id < ?2)"
      " AND (CAST(?4 AS TEXT) IS NULL OR substr(actor, 1, length(CAST(?4 AS TEXT))) = ?4) ORDER BY id DESC LIMIT ?3";
constexpr char const* sql_select_setting = "SELECT value FROM settings WHERE key = ?1";
constexpr char const* sql_upsert_setting
    = "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

}

Result<std::vector<AuditEntry>> Store::list_audit(AuditFilter const& filter)
{
    auto select = m_impl->query(filter.order == AuditOrder::newest_first ? sql_select_audit_newest_first : sql_select_audit);
    select.bind(1, filter.since).bind(2, filter.after_id).bind(3, filter.limit.value_or(-1)).bind(4, filter.actor_prefix);
    std::vector<AuditEntry> entries;
    int rc;
    while ((rc = select.step()) == code::row) {
        entries.push_back(AuditEntry {
            .id = select.integer(0),
            .at = select.integer(1),
            .actor = select.text(2),
            .action = select.text(3),
            .subject = select.text(4),
            .details_json = select.text(5),
        });
    }
    if (rc != code::done)
        return m_impl->error(rc);
    return entries;
}

Result<std::optional<std::string>> Store::get_setting(std::string const& key)
{
    auto select = m_impl->query(sql_select_setting);
    select.bind(1, key);
    int rc = select.step();
    if (rc == code::row)
        return std::optional<std::string>(select.text(0));
    if (rc != code::done)
        return m_impl->error(rc);
    return std::optional<std::string>();
}

Result<void> Store::set_setting(std::string const& key, std::string const& value, int64_t at, Actor const& actor)
{
    if (key.empty())
        return make_error(ErrorKind::invalid_input, "a setting needs a name");
    return m_impl->atomically([&]() -> Result<void> {
        auto upsert = m_impl->query(sql_upsert_setting);
        upsert.bind(1, key).bind(2, value);
        if (int rc = upsert.step(); rc != code::done)
            return m_impl->error(rc);
        return m_impl->audit(actor, at, "setting.set", key, JsonWriter().add("value", value).take());
    });
}

}
