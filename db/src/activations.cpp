// Activations: the seats of licenses (docs/activations.md). The count is exact because each
// activation counts and writes inside one write transaction; expiry is a time compared at each
// count, so no background job is needed for a seat to come free.

#include "store_impl.hpp"

namespace charter::db {

namespace {

#define CHARTER_ACTIVATION_FIELDS \
    "id, license_id, fingerprint_sha256, label, processes, cores, units, seat, lease_seconds, created_at," \
    " heartbeat_at, lease_ends_at, released_at, expired_at"
#define CHARTER_ACTIVATION_COLUMNS "SELECT " CHARTER_ACTIVATION_FIELDS " FROM activations"

constexpr char const* sql_select_activation = CHARTER_ACTIVATION_COLUMNS " WHERE id = ?1";
constexpr char const* sql_select_activations = CHARTER_ACTIVATION_COLUMNS " WHERE license_id = ?1 ORDER BY created_at, seat, id";
constexpr char const* sql_select_live_activations
    = CHARTER_ACTIVATION_COLUMNS " WHERE license_id = ?1 AND released_at IS NULL AND expired_at IS NULL ORDER BY seat";

// A heartbeat of a live lease that has not ended, in one statement (no read before the write,
// no savepoint): the lease runs from now again. No row: not this license's, unknown, released,
// expired or ended, which the slower path below tells apart.
constexpr char const* sql_renew_live = "UPDATE activations SET heartbeat_at = ?3,"
                                       " lease_ends_at = CASE WHEN lease_seconds > 0 THEN ?3 + lease_seconds ELSE NULL END"
                                       " WHERE id = ?1 AND license_id = ?2 AND released_at IS NULL AND expired_at IS NULL"
                                       " AND (lease_ends_at IS NULL OR lease_ends_at >= ?3) RETURNING " CHARTER_ACTIVATION_FIELDS;

#undef CHARTER_ACTIVATION_COLUMNS
#undef CHARTER_ACTIVATION_FIELDS

// The license row, known or not. The counts of a license are serialised by the transaction's
// write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the writers' advisory lock the store takes at
// BEGIN), so nothing else writes between this count and its insert.
constexpr char const* sql_lock_license = "SELECT id FROM licenses WHERE id = ?1";
constexpr char const* sql_expire_ended
    = "UPDATE activations SET expired_at = lease_ends_at WHERE license_id = ?1 AND released_at IS NULL"
      " AND expired_at IS NULL AND lease_ends_at IS NOT NULL AND lease_ends_at < ?2 RETURNING id, seat, lease_ends_at";
constexpr char const* sql_expire_one
    = "UPDATE activations SET expired_at = lease_ends_at WHERE id = ?1 AND released_at IS NULL AND expired_at IS NULL";
constexpr char const* sql_insert_activation
    = "INSERT INTO activations (id, license_id, fingerprint_sha256, label, processes, cores, units, seat, lease_seconds,"
      " created_at, heartbeat_at, lease_ends_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
constexpr char const* sql_renew_activation
    = "UPDATE activations SET label = ?2, processes = ?3, cores = ?4, units = ?5, lease_seconds = ?6, heartbeat_at = ?7,"
      " lease_ends_at = ?8 WHERE id = ?1";
constexpr char const* sql_heartbeat = "UPDATE activations SET heartbeat_at = ?2, lease_ends_at = ?3 WHERE id = ?1";
constexpr char const* sql_release_activation = "UPDATE activations SET released_at = ?2 WHERE id = ?1";
constexpr char const* sql_active_seats
    = "SELECT licenses.product_id, SUM(activations.units) FROM activations JOIN licenses ON licenses.id = activations.license_id"
      " WHERE activations.released_at IS NULL AND activations.expired_at IS NULL"
      " AND (activations.lease_ends_at IS NULL OR activations.lease_ends_at >= ?1)"
      " GROUP BY licenses.product_id ORDER BY licenses.product_id";

Activation read_activation(Query const& row)
{
    return Activation {
        .id = row.text(0),
        .license_id = row.text(1),
        .fingerprint_sha256 = row.text(2),
        .label = row.optional_text(3),
        .processes = row.optional_integer(4),
        .cores = row.optional_integer(5),
        .units = row.integer(6),
        .seat = row.integer(7),
        .lease_seconds = row.integer(8),
        .created_at = row.integer(9),
        .heartbeat_at = row.integer(10),
        .lease_ends_at = row.optional_integer(11),
        .released_at = row.optional_integer(12),
        .expired_at = row.optional_integer(13),
    };
}

std::optional<int64_t> lease_end(int64_t lease_seconds, int64_t now)
{
    if (lease_seconds <= 0)
        return std::nullopt;
    return now + lease_seconds;
}

}

// The steps every path that finds an ended lease shares: marked expired, audited, in the
// caller's transaction.
namespace {

// A template so that Store's private Impl need not be named here.
template<typename StoreImpl>
Result<void> audit_expiry(StoreImpl& impl, Actor const& actor, int64_t now, std::string const& id, std::string const& license_id,
    int64_t seat, int64_t lease_ended_at)
{
    return impl.audit(actor, now, "activation.expire", id,
        JsonWriter().add("license", license_id).add("seat", seat).add("lease_ended_at", lease_ended_at).take());
}

}

Result<SeatOutcome> Store::activate(SeatRequest const& request, Actor const& actor)
{
    auto const& wanted = request.activation;
    if (wanted.id.empty() || wanted.fingerprint_sha256.size() != 64 || wanted.units < 1 || wanted.lease_seconds < 0)
        return make_error(ErrorKind::invalid_input, "an activation needs an id, a SHA-256 fingerprint and units of 1 or more");
    SeatOutcome outcome;
    auto done = m_impl->atomically([&]() -> Result<void> {
        outcome = SeatOutcome {}; // the body runs again when a retry cures its failure
        int64_t const now = request.now;
        {
            auto lock = m_impl->query(sql_lock_license);
            lock.bind(1, wanted.license_id);
            int rc = lock.step();
            if (rc == code::done)
                return make_error(ErrorKind::not_found, "no license " + wanted.license_id);
            if (rc != code::row)
                return m_impl->error(rc);
        }
        struct Ended {
            std::string id;
            int64_t seat;
            int64_t lease_ended_at;
        };
        std::vector<Ended> ended;
        {
            auto expire = m_impl->query(sql_expire_ended);
            expire.bind(1, wanted.license_id).bind(2, now);
            int rc;
            while ((rc = expire.step()) == code::row)
                ended.push_back(Ended { expire.text(0), expire.integer(1), expire.integer(2) });
            if (rc != code::done)
                return m_impl->error(rc);
        }
        for (auto const& lease : ended) {
            if (auto audited = audit_expiry(*m_impl, actor, now, lease.id, wanted.license_id, lease.seat, lease.lease_ended_at);
                !audited)
                return audited;
        }
        std::vector<Activation> live;
        {
            auto select = m_impl->query(sql_select_live_activations);
            select.bind(1, wanted.license_id);
            int rc;
            while ((rc = select.step()) == code::row)
                live.push_back(read_activation(select));
            if (rc != code::done)
                return m_impl->error(rc);
        }
        int64_t held = 0;
        Activation const* same = nullptr;
        for (auto const& activation : live) {
            held += activation.units;
            if (activation.fingerprint_sha256 == wanted.fingerprint_sha256)
                same = &activation;
        }
        int64_t const others = held - (same ? same->units : 0);
        if (request.limit && others + wanted.units > *request.limit) {
            outcome.holders = std::move(live);
            outcome.held_units = held;
            return {};
        }
        if (same) {
            Activation renewed = *same;
            renewed.label = wanted.label;
            renewed.processes = wanted.processes;
            renewed.cores = wanted.cores;
            renewed.units = wanted.units;
            renewed.lease_seconds = wanted.lease_seconds;
            renewed.heartbeat_at = now;
            renewed.lease_ends_at = lease_end(wanted.lease_seconds, now);
            auto update = m_impl->query(sql_renew_activation);
            update.bind(1, renewed.id).bind(2, renewed.label).bind(3, renewed.processes).bind(4, renewed.cores);
            update.bind(5, renewed.units).bind(6, renewed.lease_seconds).bind(7, now).bind(8, renewed.lease_ends_at);
            if (int rc = update.step(); rc != code::done)
                return m_impl->error(rc);
            outcome.activation = std::move(renewed);
            return {};
        }
        // The lowest seat number no live activation holds (`live` is in seat order).
        int64_t seat = 1;
        for (auto const& activation : live) {
            if (activation.seat == seat)
                ++seat;
            else if (activation.seat > seat)
                break;
        }
        Activation created = wanted;
        created.seat = seat;
        created.created_at = now;
        created.heartbeat_at = now;
        created.lease_ends_at = lease_end(wanted.lease_seconds, now);
        created.released_at.reset();
        created.expired_at.reset();
        auto insert = m_impl->query(sql_insert_activation);
        insert.bind(1, created.id).bind(2, created.license_id).bind(3, created.fingerprint_sha256).bind(4, created.label);
        insert.bind(5, created.processes).bind(6, created.cores).bind(7, created.units).bind(8, created.seat);
        insert.bind(9, created.lease_seconds).bind(10, now).bind(11, now).bind(12, created.lease_ends_at);
        if (int rc = insert.step(); rc != code::done) {
            if (is_unique_violation(rc))
                return make_error(ErrorKind::conflict, "activation " + created.id + " already exists");
            return m_impl->error(rc);
        }
        auto details = JsonWriter()
                           .add("license", created.license_id)
                           .add("seat", created.seat)
                           .add("units", created.units)
                           .add("label", created.label)
                           .add("fingerprint_sha256", created.fingerprint_sha256)
                           .take();
        if (auto audited = m_impl->audit(actor, now, "activation.create", created.id, details); !audited)
            return audited;
        outcome.activation = std::move(created);
        outcome.created = true;
        return {};
    });
    if (!done)
        return done.error();
    return outcome;
}

Result<std::pair<LeaseState, Activation>> Store::renew_activation(std::string const& license_id, std::string const& id,
    int64_t now, Actor const& actor)
{
    {
        auto renew = m_impl->query(sql_renew_live);
        renew.bind(1, id).bind(2, license_id).bind(3, now);
        int rc = renew.step();
        if (rc == code::row)
            return std::pair { LeaseState::renewed, read_activation(renew) };
        if (rc != code::done)
            return m_impl->error(rc);
    }
    std::pair<LeaseState, Activation> answer { LeaseState::ended, Activation {} };
    auto done = m_impl->atomically([&]() -> Result<void> {
        auto found = get_activation(id);
        if (!found)
            return found.error();
        if (found->license_id != license_id)
            return make_error(ErrorKind::not_found, "no activation " + id + " of license " + license_id);
        auto& activation = found.value();
        if (activation.released_at || activation.expired_at) {
            answer.second = std::move(activation);
            return {};
        }
        if (activation.lease_ends_at && now > *activation.lease_ends_at) {
            auto expire = m_impl->query(sql_expire_one);
            expire.bind(1, id);
            if (int rc = expire.step(); rc != code::done)
                return m_impl->error(rc);
            activation.expired_at = activation.lease_ends_at;
            answer.second = std::move(activation);
            return audit_expiry(*m_impl, actor, now, id, license_id, answer.second.seat, *answer.second.lease_ends_at);
        }
        activation.heartbeat_at = now;
        activation.lease_ends_at = lease_end(activation.lease_seconds, now);
        auto update = m_impl->query(sql_heartbeat);
        update.bind(1, id).bind(2, now).bind(3, activation.lease_ends_at);
        if (int rc = update.step(); rc != code::done)
            return m_impl->error(rc);
        answer = { LeaseState::renewed, std::move(activation) };
        return {};
    });
    if (!done)
        return done.error();
    return answer;
}

Result<Activation> Store::release_activation(std::string const& id, std::optional<std::string> const& license_id, int64_t now,
    Actor const& actor)
{
    Activation answer;
    auto done = m_impl->atomically([&]() -> Result<void> {
        auto found = get_activation(id);
        if (!found)
            return found.error();
        if (license_id && found->license_id != *license_id)
            return make_error(ErrorKind::not_found, "no activation " + id + " of license " + *license_id);
        answer = std::move(*found);
        if (answer.released_at || answer.expired_at)
            return {};
        if (answer.lease_ends_at && now > *answer.lease_ends_at) {
            auto expire = m_impl->query(sql_expire_one);
            expire.bind(1, id);
            if (int rc = expire.step(); rc != code::done)
                return m_impl->error(rc);
            answer.expired_at = answer.lease_ends_at;
            return audit_expiry(*m_impl, actor, now, id, answer.license_id, answer.seat, *answer.lease_ends_at);
        }
        auto release = m_impl->query(sql_release_activation);
        release.bind(1, id).bind(2, now);
        if (int rc = release.step(); rc != code::done)
            return m_impl->error(rc);
        answer.released_at = now;
        return m_impl->audit(actor, now, "activation.release", id,
            JsonWriter().add("license", answer.license_id).add("seat", answer.seat).add("label", answer.label).take());
    });
    if (!done)
        return done.error();
    return answer;
}

Result<Activation> Store::get_activation(std::string const& id)
{
    auto select = m_impl->query(sql_select_activation);
    select.bind(1, id);
    int rc = select.step();
    if (rc == code::row)
        return read_activation(select);
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no activation " + id);
}

Result<std::vector<Activation>> Store::list_activations(std::string const& license_id)
{
    auto select = m_impl->query(sql_select_activations);
    select.bind(1, license_id);
    std::vector<Activation> activations;
    int rc;
    while ((rc = select.step()) == code::row)
        activations.push_back(read_activation(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return activations;
}

Result<std::vector<std::pair<std::string, int64_t>>> Store::active_seats_by_product(int64_t now)
{
    auto select = m_impl->query(sql_active_seats);
    select.bind(1, now);
    std::vector<std::pair<std::string, int64_t>> seats;
    int rc;
    while ((rc = select.step()) == code::row)
        seats.emplace_back(select.text(0), select.integer(1));
    if (rc != code::done)
        return m_impl->error(rc);
    return seats;
}

}
