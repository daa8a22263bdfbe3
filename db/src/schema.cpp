#include "schema.hpp"

#include "charter/db/store.hpp"
#include "postgres_sql.hpp"
#include "sqlite_connection.hpp"

#include <array>
#include <string>

namespace charter::db {

namespace {

// "CHRT": marks the file as Charter's, so that another program's SQLite database is
// refused instead of being "upgraded" by adding our tables to it.
constexpr int application_id = 0x43485254;

// Step i takes a database from user_version i to i + 1. Steps are only ever appended:
// a released step never changes, because databases out there have already run it.
constexpr std::array<char const*, 11> migrations {
    // 1: the base schema.
    R"sql(
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    public_paserk TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    is_current INTEGER NOT NULL DEFAULT 0 CHECK (is_current IN (0, 1)),
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    CHECK (NOT (is_current = 1 AND status = 'retired'))
);
-- At most one current key; the store keeps it exactly one once a key exists.
CREATE UNIQUE INDEX signing_keys_current ON signing_keys (is_current) WHERE is_current = 1;

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    keep_access_after_expiry INTEGER NOT NULL DEFAULT 0 CHECK (keep_access_after_expiry IN (0, 1)),
    created_at INTEGER NOT NULL
);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE licenses (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    token TEXT NOT NULL,
    claims_json TEXT NOT NULL,
    kid TEXT NOT NULL REFERENCES signing_keys (kid),
    issued_at INTEGER NOT NULL,
    expires_at INTEGER,
    updates_until INTEGER,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    revoked_at INTEGER,
    revoke_reason TEXT,
    idempotency_key TEXT,
    idempotency_fingerprint TEXT
);
-- Few indexes, because every one is paid for on each license of a 100,000-license batch.
-- Listing is in rowid (= issue) order and needs none; the partial indexes cost nothing for
-- the common row (active, no idempotency key).
CREATE INDEX licenses_by_customer ON licenses (customer_id);
CREATE INDEX licenses_revoked ON licenses (product_id, id) WHERE status = 'revoked';
CREATE UNIQUE INDEX licenses_by_idempotency_key ON licenses (idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL, -- space-separated
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_used_at INTEGER
);

CREATE TABLE releases (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    version TEXT NOT NULL,
    filename TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    released_at INTEGER NOT NULL,
    yanked INTEGER NOT NULL DEFAULT 0 CHECK (yanked IN (0, 1)),
    created_at INTEGER NOT NULL,
    UNIQUE (product_id, version, filename)
);

-- Audit rows are never deleted, so plain rowids only grow and serve as a cursor (no
-- AUTOINCREMENT, which would update sqlite_sequence on every row).
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details_json TEXT NOT NULL DEFAULT '{}'
);
)sql",
    // 2: the customer downloads log. Not foreign keys: the log also records refused
    // requests whose license or release does not exist.
    R"sql(
CREATE TABLE downloads (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    license_id TEXT,
    release_id TEXT,
    bytes INTEGER NOT NULL DEFAULT 0,
    remote_address TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL
);
CREATE INDEX downloads_by_license ON downloads (license_id, at);
)sql",
    // 3: gem metadata beside releases, and a change counter that triggers keep, so that a
    // server notices releases added by the CLI (another process) with one row read.
    R"sql(
CREATE TABLE gems (
    release_id TEXT PRIMARY KEY REFERENCES releases (id),
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    platform TEXT NOT NULL DEFAULT 'ruby',
    required_ruby_version TEXT NOT NULL DEFAULT '',     -- requirements, one per line
    required_rubygems_version TEXT NOT NULL DEFAULT '', -- requirements, one per line
    summary TEXT NOT NULL DEFAULT '',
    authors TEXT NOT NULL DEFAULT '',  -- one per line
    licenses TEXT NOT NULL DEFAULT '', -- one per line
    date TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL
);
CREATE INDEX gems_by_name ON gems (name);

CREATE TABLE gem_dependencies (
    release_id TEXT NOT NULL REFERENCES gems (release_id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    requirements TEXT NOT NULL, -- one per line
    PRIMARY KEY (release_id, position)
);

CREATE TABLE generations (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO generations (name, value) VALUES ('releases', 0);
CREATE TRIGGER releases_insert_generation AFTER INSERT ON releases
    BEGIN UPDATE generations SET value = value + 1 WHERE name = 'releases'; END;
CREATE TRIGGER releases_update_generation AFTER UPDATE ON releases
    BEGIN UPDATE generations SET value = value + 1 WHERE name = 'releases'; END;
CREATE TRIGGER releases_delete_generation AFTER DELETE ON releases
    BEGIN UPDATE generations SET value = value + 1 WHERE name = 'releases'; END;
CREATE TRIGGER gems_insert_generation AFTER INSERT ON gems
    BEGIN UPDATE generations SET value = value + 1 WHERE name = 'releases'; END;
CREATE TRIGGER gems_update_generation AFTER UPDATE ON gems
    BEGIN UPDATE generations SET value = value + 1 WHERE name = 'releases'; END;
CREATE TRIGGER gems_delete_generation AFTER DELETE ON gems
    BEGIN UPDATE generations SET value = value + 1 WHERE name = 'releases'; END;
)sql",
    // 4: Idempotency-Key of every admin API POST, scoped to the admin token that sent it (the
    // same key from another token is another key), with a fingerprint of the request and the
    // id of what it made. Written in the transaction of the change it records. The
    // licenses.idempotency_* columns are no longer written: keys sent before this version
    // replay no more (they were unscoped).
    R"sql(
CREATE TABLE idempotency_keys (
    token_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    resource TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (token_id, key)
) WITHOUT ROWID;
)sql",
    // 5: the license after the sale. A license's row is its current version; a change of its
    // terms moves that version to license_versions and writes the new one in its place, so
    // issuing (the batch hot path) writes one row as before and every reader of "the license"
    // reads its current terms. Suspension is a column beside the status (active, revoked):
    // a suspended license is still active underneath and comes back by reinstating it.
    // Plans are named templates of terms; credentials are per-environment download secrets,
    // stored as a hash only.
    R"sql(
CREATE TABLE plans (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    duration TEXT NOT NULL,              -- a calendar period: "1y", "6mo", "30d"
    updates_for TEXT,                    -- a period; NULL: no updates_until claim
    entitlements TEXT NOT NULL DEFAULT '', -- one per line
    seats INTEGER,
    grace_seconds INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

ALTER TABLE licenses ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE licenses ADD COLUMN version_reason TEXT NOT NULL DEFAULT 'issue';
ALTER TABLE licenses ADD COLUMN version_actor TEXT NOT NULL DEFAULT '';
ALTER TABLE licenses ADD COLUMN suspended_at INTEGER;
ALTER TABLE licenses ADD COLUMN suspend_reason TEXT;
ALTER TABLE licenses ADD COLUMN plan_id TEXT REFERENCES plans (id);

CREATE TABLE license_versions (
    license_id TEXT NOT NULL REFERENCES licenses (id),
    version INTEGER NOT NULL,
    token TEXT NOT NULL,
    claims_json TEXT NOT NULL,
    kid TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER,
    updates_until INTEGER,
    plan_id TEXT,
    reason TEXT NOT NULL,  -- what signed it: "issue", "renew", "update"
    actor TEXT NOT NULL,
    PRIMARY KEY (license_id, version)
) WITHOUT ROWID;

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    license_id TEXT NOT NULL REFERENCES licenses (id),
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_used_at INTEGER,
    last_used_from TEXT
);
CREATE INDEX credentials_by_license ON credentials (license_id);
-- A name is unique among a license's live credentials; a revoked one frees its name.
CREATE UNIQUE INDEX credentials_live_name ON credentials (license_id, name) WHERE revoked_at IS NULL;
)sql",
    // 6: the mail outbox. A message is a row written in the transaction of the change it tells
    // of, holding what it is about (kind, license, version), not its text (rendered when sent).
    // Senders claim rows with a lease (claimed_until), so two senders never send one at once.
    // A reminder's dedupe_key (license, end, offset) makes it be queued once. Plans gain
    // their reminders (periods before a license's end, one per line).
    R"sql(
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    recipient_name TEXT NOT NULL DEFAULT '',
    license_id TEXT,
    license_version INTEGER,
    details_json TEXT NOT NULL DEFAULT '{}',
    dedupe_key TEXT UNIQUE,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_until INTEGER,
    claimed_by TEXT,
    last_error TEXT,
    sent_at INTEGER
);
CREATE INDEX mail_outbox_pending ON mail_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX mail_outbox_by_license ON mail_outbox (license_id);

ALTER TABLE plans ADD COLUMN reminders TEXT NOT NULL DEFAULT '';
)sql",
    // 7: seats. A plan says how its licenses' seats are counted (machines, processes or
    // cores) and how long a lease runs (0: node-locked, no expiry). An activation holds a seat
    // (its number, the lowest free one) and occupies `units` of the license's limit (1 for a
    // machine, its processes or cores otherwise) while live: neither released nor expired.
    // Expiry is a time compared at each count: a lease whose end has passed is marked expired
    // by the next count that finds it. The two partial unique indexes let no fingerprint hold
    // two live activations of a license and no seat number be held twice, whatever a writer
    // does. Only the SHA-256 of a fingerprint is stored.
    R"sql(
ALTER TABLE plans ADD COLUMN seat_counting TEXT NOT NULL DEFAULT 'machines'
    CHECK (seat_counting IN ('machines', 'processes', 'cores'));
ALTER TABLE plans ADD COLUMN lease_seconds INTEGER NOT NULL DEFAULT 900 CHECK (lease_seconds >= 0);

CREATE TABLE activations (
    id TEXT PRIMARY KEY,
    license_id TEXT NOT NULL REFERENCES licenses (id),
    fingerprint_sha256 TEXT NOT NULL,
    label TEXT,
    processes INTEGER,
    cores INTEGER,
    units INTEGER NOT NULL CHECK (units >= 1),
    seat INTEGER NOT NULL CHECK (seat >= 1),
    lease_seconds INTEGER NOT NULL CHECK (lease_seconds >= 0),
    created_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    lease_ends_at INTEGER,  -- NULL: node-locked
    released_at INTEGER,
    expired_at INTEGER
);
CREATE INDEX activations_by_license ON activations (license_id, created_at);
CREATE UNIQUE INDEX activations_live_fingerprint ON activations (license_id, fingerprint_sha256)
    WHERE released_at IS NULL AND expired_at IS NULL;
CREATE UNIQUE INDEX activations_live_seat ON activations (license_id, seat)
    WHERE released_at IS NULL AND expired_at IS NULL;
)sql",
    // 8: the customer portal. A session and a sign-in link are stored as the hash of the
    // secret the browser or the email holds; each is bound to one customer. Expired rows are
    // deleted as new ones are written (the expiry indexes).
    R"sql(
CREATE TABLE portal_sessions (
    hash TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    csrf_token TEXT NOT NULL,
    signed_in_with TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX portal_sessions_by_expiry ON portal_sessions (expires_at);

CREATE TABLE portal_sign_in_links (
    hash TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX portal_sign_in_links_by_expiry ON portal_sign_in_links (expires_at);
)sql",
    // 9: Stripe (docs/billing.md). Every event received, with its outcome, by its unique id;
    // the merged state of each subscription item (or one-time Checkout session) the events
    // described, from which its license is derived; a Stripe customer's details as the latest
    // event gave them, and the Charter customer it is linked to; the invoices, payments and
    // refunds that tie a refund to a subscription item; each plan's Stripe prices and policies.
    R"sql(
ALTER TABLE customers ADD COLUMN stripe_customer_id TEXT;
CREATE UNIQUE INDEX customers_by_stripe_id ON customers (stripe_customer_id) WHERE stripe_customer_id IS NOT NULL;

ALTER TABLE plans ADD COLUMN on_payment_failed TEXT NOT NULL DEFAULT 'warn';
ALTER TABLE plans ADD COLUMN on_cancel TEXT NOT NULL DEFAULT 'end';
ALTER TABLE plans ADD COLUMN on_refund TEXT NOT NULL DEFAULT 'keep';

CREATE TABLE plan_stripe_prices (
    price_id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES plans (id)
);
CREATE INDEX plan_stripe_prices_by_plan ON plan_stripe_prices (plan_id);

CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    created INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'ignored', 'failed')),
    reason TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX stripe_events_by_outcome ON stripe_events (outcome, received_at);

CREATE TABLE stripe_customers (
    id TEXT PRIMARY KEY,
    email TEXT,
    name TEXT,
    info_created INTEGER NOT NULL DEFAULT 0,
    info_event TEXT NOT NULL DEFAULT ''
);

CREATE TABLE stripe_items (
    id TEXT PRIMARY KEY,
    subscription_id TEXT,
    stripe_customer_id TEXT,
    email TEXT,
    name TEXT,
    price_id TEXT,
    price_created INTEGER NOT NULL DEFAULT 0,
    price_event TEXT NOT NULL DEFAULT '',
    plan_id TEXT,
    status TEXT,
    status_created INTEGER NOT NULL DEFAULT 0,
    status_event TEXT NOT NULL DEFAULT '',
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    period_end INTEGER,
    canceled INTEGER NOT NULL DEFAULT 0,
    license_id TEXT REFERENCES licenses (id)
);
CREATE INDEX stripe_items_by_customer ON stripe_items (stripe_customer_id);
CREATE INDEX stripe_items_by_license ON stripe_items (license_id);

CREATE TABLE stripe_invoice_items (
    invoice_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (invoice_id, item_id)
);
CREATE INDEX stripe_invoice_items_by_item ON stripe_invoice_items (item_id);
CREATE TABLE stripe_payments (
    payment_id TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    PRIMARY KEY (payment_id, invoice_id)
);
CREATE TABLE stripe_refunds (
    payment_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL
);
)sql",
    // 10: the payments of an invoice, by invoice: whether a subscription item was refunded
    // (Store::stripe_item_refunded, asked by every event that touches the item) goes from the
    // item's invoices to their payments; without it each question read every payment ever
    // recorded, and Stripe webhooks slowed down as the table grew.
    R"sql(
CREATE INDEX stripe_payments_by_invoice ON stripe_payments (invoice_id);
)sql",
    // 11: on PostgreSQL, every change tells the servers that remember reads
    // (charter/db/change_feed.hpp); nothing on SQLite.
    R"sql(
-- nothing on SQLite
)sql",
};

// What a migration step cannot say in the subset both databases accept, said for PostgreSQL:
// the step's CREATE TRIGGER … END; statements are left out of its translation and this text
// runs after it instead (index: the step, 0-based).
constexpr std::array<char const*, 11> postgres_additions {
    nullptr,
    nullptr,
    // 3: the triggers that move the releases generation.
    R"sql(
CREATE FUNCTION charter_bump_releases_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE generations SET value = value + 1 WHERE name = 'releases';
    RETURN NULL;
END $$;
CREATE TRIGGER releases_generation AFTER INSERT OR UPDATE OR DELETE ON releases
    FOR EACH ROW EXECUTE FUNCTION charter_bump_releases_generation();
CREATE TRIGGER gems_generation AFTER INSERT OR UPDATE OR DELETE ON gems
    FOR EACH ROW EXECUTE FUNCTION charter_bump_releases_generation();
)sql",
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    // 11: NOTIFY charter_changes once per transaction that changes anything (a notification
    // repeated in one transaction is sent once); the triggers are made by
    // sql_postgres_notify_triggers, for the tables of every step, later ones included.
    R"sql(
CREATE FUNCTION charter_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('charter_changes', '');
    RETURN NULL;
END $$;
)sql",
};

// Once the schema has charter_notify_change (step 11), every table of it without the trigger
// gets it: the tables of step 11 and before, then those a later step adds.
constexpr char const* sql_postgres_notify_triggers = R"sql(
DO $$
DECLARE
    missing regclass;
BEGIN
    IF to_regproc('charter_notify_change') IS NULL THEN
        RETURN;
    END IF;
    FOR missing IN
        SELECT c.oid::regclass FROM pg_class c
        WHERE c.relkind = 'r' AND c.relnamespace = to_regnamespace(current_schema())
            AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'charter_notify_change')
    LOOP
        EXECUTE format('CREATE TRIGGER charter_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
            'FOR EACH STATEMENT EXECUTE FUNCTION charter_notify_change()', missing);
    END LOOP;
END $$;
)sql";

// The step as PostgreSQL runs it.
std::string postgres_step(size_t step)
{
    std::string sql = migrations[step];
    for (auto at = sql.find("CREATE TRIGGER"); at != std::string::npos; at = sql.find("CREATE TRIGGER", at)) {
        auto end = sql.find("END;", at);
        sql.erase(at, end == std::string::npos ? std::string::npos : end + 4 - at);
    }
    auto translated = postgres_schema(sql);
    if (step < postgres_additions.size() && postgres_additions[step])
        translated += postgres_additions[step];
    return translated;
}

// PostgreSQL keeps the version in a table; SQLite in the file header (user_version).
constexpr char const* sql_postgres_has_version = "SELECT to_regclass('schema_version') IS NOT NULL";
constexpr char const* sql_postgres_version = "SELECT coalesce(max(version), 0) FROM schema_version";
constexpr char const* sql_postgres_tables
    = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()";
// Customers' email compares case-insensitively (COLLATE NOCASE in SQLite): an ICU collation
// of that name makes the same column definition mean the same in PostgreSQL.
constexpr char const* sql_postgres_nocase
    = "CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false)";

Result<int64_t> first_integer(Connection& connection, char const* sql)
{
    int rc = code::done;
    auto* statement = connection.statement(sql, rc);
    if (!statement)
        return connection.error(rc);
    rc = statement->step();
    if (rc != code::row) {
        statement->reset();
        return connection.error(rc);
    }
    auto value = statement->integer(0);
    statement->reset();
    return value;
}

Result<int> checked_version(Connection& connection)
{
    auto const& name = connection.name();
    int version = 0;
    if (connection.backend() == Backend::sqlite) {
        auto read = first_integer(connection, "PRAGMA user_version");
        if (!read)
            return read.error();
        version = static_cast<int>(*read);
    } else {
        auto has_version = first_integer(connection, sql_postgres_has_version);
        if (!has_version)
            return has_version.error();
        if (*has_version) {
            auto read = first_integer(connection, sql_postgres_version);
            if (!read)
                return read.error();
            version = static_cast<int>(*read);
        }
    }
    if (version > latest_schema_version()) {
        return make_error(ErrorKind::version,
            "database " + name + " has schema version " + std::to_string(version)
                + ", newer than this charter (" + std::to_string(latest_schema_version()) + "); upgrade charter");
    }
    if (connection.backend() == Backend::postgres) {
        if (version > 0)
            return version;
        auto tables = first_integer(connection, sql_postgres_tables);
        if (!tables)
            return tables.error();
        if (*tables > 0)
            return make_error(ErrorKind::io, "database " + name + " holds tables but is not a charter database; give charter a database of its own");
        return version;
    }
    if (version > 0) {
        auto id = first_integer(connection, "PRAGMA application_id");
        if (!id)
            return id.error();
        if (*id != application_id)
            return make_error(ErrorKind::io, name + " is an SQLite database but not a charter database");
        return version;
    }
    auto tables = first_integer(connection, "SELECT count(*) FROM sqlite_schema");
    if (!tables)
        return tables.error();
    if (*tables > 0)
        return make_error(ErrorKind::io, name + " is an SQLite database but not a charter database");
    return version;
}

Result<void> execute(Connection& connection, std::string const& sql)
{
    if (int rc = connection.execute(sql); rc != code::done)
        return connection.error(rc);
    return {};
}

Result<void> upgrade(Connection& connection, int target)
{
    // Check again under the write lock: another process may have migrated meanwhile.
    auto version = checked_version(connection);
    if (!version)
        return version.error();
    if (*version >= target)
        return {};
    bool const postgres = connection.backend() == Backend::postgres;
    if (postgres) {
        if (auto done = execute(connection, sql_postgres_nocase); !done)
            return done;
        if (auto done = execute(connection, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); !done)
            return done;
    }
    for (int step = *version; step < target; ++step) {
        auto const index = static_cast<size_t>(step);
        if (auto done = execute(connection, postgres ? postgres_step(index) : std::string(migrations[index])); !done)
            return done;
    }
    if (postgres) {
        if (auto done = execute(connection, sql_postgres_notify_triggers); !done)
            return done;
        return execute(connection, "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (" + std::to_string(target) + ")");
    }
    if (auto done = execute(connection, "PRAGMA application_id = " + std::to_string(application_id)); !done)
        return done;
    return execute(connection, "PRAGMA user_version = " + std::to_string(target));
}

}

int latest_schema_version()
{
    return static_cast<int>(migrations.size());
}

Result<int> schema_version_of(Connection& connection)
{
    return checked_version(connection);
}

std::string postgres_migration(int step)
{
    return postgres_step(static_cast<size_t>(step));
}

Result<void> migrate(Connection& connection, int target)
{
    auto version = checked_version(connection);
    if (!version)
        return version.error();
    if (*version >= target)
        return {};
    // The whole upgrade is one transaction: a crash or a full disk half-way leaves the
    // database at its old version, never between two. (PostgreSQL's DDL is transactional too.)
    if (int rc = connection.begin(true); rc != code::done)
        return connection.error(rc);
    auto upgraded = upgrade(connection, target);
    if (!upgraded) {
        (void)connection.rollback();
        return upgraded;
    }
    if (int rc = connection.commit(); rc != code::done) {
        auto failure = connection.error(rc);
        (void)connection.rollback();
        return failure;
    }
    return {};
}

}
