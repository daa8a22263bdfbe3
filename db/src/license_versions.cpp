// Changing a license after the sale: new versions of its key (renewals, updates), suspension
// and reinstatement. A license's row is its current version; add_license_version moves that
// version into license_versions and writes the next one in its place.

#include "store_impl.hpp"

#include <ctime>
#include <functional>

namespace charter::db {

namespace {

constexpr char const* sql_select_change_state
    = "SELECT status, revoked_at, version, suspended_at, suspend_reason FROM licenses WHERE id = ?1";
constexpr char const* sql_keep_current_version
    = "INSERT INTO license_versions (license_id, version, token, claims_json, kid, issued_at, expires_at, updates_until,"
      " plan_id, reason, actor)"
      " SELECT id, version, token, claims_json, kid, issued_at, expires_at, updates_until, plan_id, version_reason,"
      " version_actor FROM licenses WHERE id = ?1";
constexpr char const* sql_write_next_version
    = "UPDATE licenses SET token = ?2, claims_json = ?3, kid = ?4, issued_at = ?5, expires_at = ?6, updates_until = ?7,"
      " plan_id = ?8, version = ?9, version_reason = ?10, version_actor = ?11"
      " WHERE id = ?1 AND version = ?9 - 1 AND status = 'active'";
constexpr char const* sql_suspend
    = "UPDATE licenses SET suspended_at = ?2, suspend_reason = ?3"
      " WHERE id = ?1 AND status = 'active' AND suspended_at IS NULL";
constexpr char const* sql_reinstate
    = "UPDATE licenses SET suspended_at = NULL, suspend_reason = NULL"
      " WHERE id = ?1 AND status = 'active' AND suspended_at IS NOT NULL";
constexpr char const* sql_select_versions
    = "SELECT license_id, version, token, claims_json, kid, issued_at, expires_at, updates_until, plan_id, reason, actor"
      " FROM license_versions WHERE license_id = ?1"
      " UNION ALL"
      " SELECT id, version, token, claims_json, kid, issued_at, expires_at, updates_until, plan_id, version_reason,"
      " version_actor FROM licenses WHERE id = ?1"
      " ORDER BY 2";

// "2026-12-05": messages name days (db depends on nothing of ours, so not verify-lib's formatter).
std::string day(int64_t at)
{
    std::time_t seconds = static_cast<std::time_t>(at);
    std::tm parts {};
    gmtime_r(&seconds, &parts);
    char text[16] = {};
    std::strftime(text, sizeof text, "%Y-%m-%d", &parts);
    return text;
}

struct ChangeState {
    std::string status;
    std::optional<int64_t> revoked_at;
    int64_t version { 0 };
    std::optional<int64_t> suspended_at;
    std::optional<std::string> suspend_reason;
};

Error revoked_error(std::string const& id, ChangeState const& state)
{
    return make_error(ErrorKind::conflict, "license " + id + " is revoked"
            + (state.revoked_at ? " (since " + day(*state.revoked_at) + ")" : std::string())
            + "; a revoked license cannot be changed, issue a new one");
}

// Reads what decides whether a change may be made (inside the change's transaction).
Result<ChangeState> read_change_state(Query& select, std::string const& id, std::function<Error(int)> const& database_failure)
{
    select.bind(1, id);
    int rc = select.step();
    if (rc == code::done)
        return make_error(ErrorKind::not_found, "no license " + id);
    if (rc != code::row)
        return database_failure(rc);
    return ChangeState { select.text(0), select.optional_integer(1), select.integer(2), select.optional_integer(3),
        select.optional_text(4) };
}

// Why a change that matched no row was refused: an unknown license, a revoked one, or what
// `otherwise` says of the state it is in.
Error refusal(Query& select_state, std::string const& id, std::function<Error(int)> const& database_failure,
    std::function<Error(ChangeState const&)> const& otherwise)
{
    auto state = read_change_state(select_state, id, database_failure);
    if (!state)
        return state.error();
    if (state->status == "revoked")
        return revoked_error(id, *state);
    return otherwise(*state);
}

}

Result<void> Store::add_license_version(License const& next, LicenseChange const& change, Actor const& actor)
{
    if (change.action.empty() || change.reason.empty())
        return make_error(ErrorKind::invalid_input, "a license change needs an audit action and a reason");
    return m_impl->atomically([&]() -> Result<void> {
        auto select_state = m_impl->query(sql_select_change_state);
        auto state = read_change_state(select_state, next.id, [&](int rc) { return m_impl->error(rc); });
        if (!state)
            return state.error();
        if (state->status == "revoked")
            return revoked_error(next.id, *state);
        if (next.version != state->version + 1)
            return make_error(ErrorKind::conflict, "license " + next.id + " changed meanwhile (now version "
                    + std::to_string(state->version) + "); retry the change");
        if (int rc = m_impl->query(sql_keep_current_version).bind(1, next.id).step(); rc != code::done)
            return m_impl->error(rc);
        auto write = m_impl->query(sql_write_next_version);
        write.bind(1, next.id).bind(2, next.token).bind(3, next.claims_json).bind(4, next.kid).bind(5, next.issued_at);
        write.bind(6, next.expires_at).bind(7, next.updates_until).bind(8, next.plan_id).bind(9, next.version);
        write.bind(10, change.reason).bind(11, actor.name);
        int rc = write.step();
        if (rc != code::done) {
            if (is_foreign_key_violation(rc) && next.plan_id) {
                if (auto plan = get_plan(*next.plan_id); !plan)
                    return plan.error();
            }
            return m_impl->error(rc);
        }
        if (m_impl->connection->changes() != 1)
            return make_error(ErrorKind::conflict, "license " + next.id + " changed meanwhile; retry the change");
        return m_impl->audit(actor, change.at, change.action, next.id,
            change.details_json.empty() ? std::string("{}") : change.details_json);
    });
}

Result<std::vector<LicenseVersion>> Store::list_license_versions(std::string const& id)
{
    auto select = m_impl->query(sql_select_versions);
    select.bind(1, id);
    std::vector<LicenseVersion> versions;
    int rc;
    while ((rc = select.step()) == code::row) {
        versions.push_back(LicenseVersion {
            .license_id = select.text(0),
            .version = select.integer(1),
            .token = select.text(2),
            .claims_json = select.text(3),
            .kid = select.text(4),
            .issued_at = select.integer(5),
            .expires_at = select.optional_integer(6),
            .updates_until = select.optional_integer(7),
            .plan_id = select.optional_text(8),
            .reason = select.text(9),
            .actor = select.text(10),
        });
    }
    if (rc != code::done)
        return m_impl->error(rc);
    if (versions.empty())
        return make_error(ErrorKind::not_found, "no license " + id);
    return versions;
}

Result<void> Store::suspend_license(std::string const& id, std::string const& reason, int64_t at, Actor const& actor)
{
    if (reason.empty())
        return make_error(ErrorKind::invalid_input, "a suspension needs a reason (the customer is shown it)");
    return m_impl->atomically([&]() -> Result<void> {
        auto suspend = m_impl->query(sql_suspend);
        suspend.bind(1, id).bind(2, at).bind(3, reason);
        if (int rc = suspend.step(); rc != code::done)
            return m_impl->error(rc);
        if (m_impl->connection->changes() == 0) {
            auto select_state = m_impl->query(sql_select_change_state);
            return refusal(select_state, id, [&](int rc) { return m_impl->error(rc); }, [&](ChangeState const& state) {
                return make_error(ErrorKind::conflict, "license " + id + " is already suspended (since "
                        + day(state.suspended_at.value_or(0)) + ": " + state.suspend_reason.value_or("") + ")");
            });
        }
        return m_impl->audit(actor, at, "license.suspend", id, JsonWriter().add("reason", reason).take());
    });
}

Result<void> Store::reinstate_license(std::string const& id, int64_t at, Actor const& actor)
{
    return m_impl->atomically([&]() -> Result<void> {
        if (int rc = m_impl->query(sql_reinstate).bind(1, id).step(); rc != code::done)
            return m_impl->error(rc);
        if (m_impl->connection->changes() == 0) {
            auto select_state = m_impl->query(sql_select_change_state);
            return refusal(select_state, id, [&](int rc) { return m_impl->error(rc); }, [&](ChangeState const&) {
                return make_error(ErrorKind::conflict, "license " + id + " is not suspended; there is nothing to reinstate");
            });
        }
        return m_impl->audit(actor, at, "license.reinstate", id, "{}");
    });
}

}
