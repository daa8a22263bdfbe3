// Opening a Store (an SQLite file or a PostgreSQL database), its transactions and savepoints,
// the audit row every change writes, and maintenance (backup, integrity check).

#include "postgres_connection.hpp"
#include "schema.hpp"
#include "sqlite_connection.hpp"
#include "sqlite_errors.hpp"
#include "store_impl.hpp"

#include <chrono>
#include <thread>

namespace charter::db {

namespace {

constexpr int busy_timeout_ms = 5000;
constexpr int discard_busy_ms = 500;

constexpr char const* sql_insert_audit
    = "INSERT INTO audit (at, actor, action, subject, details_json) VALUES (?1, ?2, ?3, ?4, ?5)";

SqliteConnection* sqlite_of(std::unique_ptr<Connection> const& connection)
{
    if (connection->backend() != Backend::sqlite)
        return nullptr;
    return static_cast<SqliteConnection*>(connection.get());
}

}

Result<void> Store::Impl::check_transaction() const
{
    // The database may roll the whole transaction back by itself after some errors (a full
    // disk, an i/o error, a lost connection). Going on would run the rest of the caller's
    // batch outside any transaction, one autocommit at a time; refuse instead.
    if (!connection->in_transaction()) {
        return make_error(ErrorKind::io,
            "the transaction on " + connection->name() + " was rolled back after an earlier error; nothing was changed");
    }
    if (doomed) {
        return make_error(ErrorKind::io,
            "a change in the transaction on " + connection->name() + " failed half-way and could not be undone; the whole transaction is rolled back, nothing was changed");
    }
    // A change held back (hold_inserts) failed when a later statement sent it: the database
    // skipped what followed it in that round trip, the RELEASE of the savepoint it was made in
    // among them, so a later ROLLBACK TO would undo that change's whole piece of work, which
    // its caller already took as done. Nothing more goes in this transaction: it is rolled back
    // and runs again one statement at a time (atomically()).
    if (hold_inserts && connection->held_change_failed()) {
        return make_error(ErrorKind::io,
            "a change held back in the batch on " + connection->name() + " failed; the batch is rolled back to run again one statement at a time");
    }
    return {};
}

Result<void> Store::Impl::begin()
{
    if (depth == 0) {
        if (!connection->reconnect_if_lost())
            return error(code::failed);
        if (relaxed) {
            if (int rc = connection->relax_next_commit(); rc != code::done)
                return error(rc);
        }
        if (int rc = connection->begin(true); rc != code::done) {
            retryable = connection->last_failure_retryable();
            auto failure = error(rc);
            (void)connection->rollback();
            return failure;
        }
        if (hold_inserts)
            connection->hold_inserts();
        depth = 1;
        doomed = false;
        retryable = false;
        return {};
    }
    if (auto usable = check_transaction(); !usable)
        return usable;
    if (int rc = connection->savepoint(); rc != code::done)
        return error(rc);
    ++depth;
    return {};
}

Result<void> Store::Impl::finish(bool commit)
{
    bool const outermost = depth == 1;
    --depth;
    bool const transaction_lost = !connection->in_transaction();
    Result<void> refusal;
    if (commit)
        refusal = check_transaction();
    if (!refusal)
        commit = false;
    if (outermost) {
        doomed = false;
        if (commit) {
            int rc = connection->commit();
            if (rc == code::done)
                return {};
            retryable = connection->last_failure_retryable();
            auto failure = error(rc);
            (void)connection->rollback();
            return failure;
        }
        retryable = connection->last_failure_retryable();
        if (!transaction_lost)
            (void)connection->rollback();
        return refusal;
    }
    if (commit) {
        int rc = connection->release_savepoint();
        if (rc == code::done)
            return {};
        auto failure = error(rc);
        (void)connection->rollback_to_savepoint();
        (void)connection->release_savepoint();
        return failure;
    }
    if (!transaction_lost) {
        // ROLLBACK TO undoes the savepoint's work but keeps it open; RELEASE then closes it.
        // (In PostgreSQL it also makes a transaction that a failed statement aborted usable again.)
        (void)connection->rollback_to_savepoint();
        (void)connection->release_savepoint();
    }
    return refusal;
}

Result<void> Store::Impl::audit(Actor const& actor, int64_t at, std::string_view action, std::string_view subject,
    std::string const& details_json)
{
    auto insert = query(sql_insert_audit);
    insert.bind(1, at).bind(2, actor.name).bind(3, action).bind(4, subject).bind(5, details_json);
    int rc = insert.step();
    if (rc == code::done)
        return {};
    auto failure = error(rc);
    if (failure.kind == ErrorKind::io)
        return failure;
    return make_error(failure.kind,
        "could not write the audit row for " + std::string(action) + " " + std::string(subject) + " ("
            + connection->last_message() + "); nothing was changed");
}

Result<Store> Store::open(std::filesystem::path const& db_path, OpenMode mode)
{
    std::error_code ignored;
    if (mode == OpenMode::existing && !std::filesystem::exists(db_path, ignored))
        return make_error(ErrorKind::not_found, "no database at " + db_path.string() + "; run `charter init` first");
    auto connection = SqliteConnection::open(db_path, mode == OpenMode::create);
    if (!connection)
        return connection.error();
    auto impl = std::make_unique<Impl>();
    auto* sqlite = connection->get();
    impl->connection = std::move(*connection);
    if (auto migrated = migrate(*impl->connection, latest_schema_version()); !migrated)
        return migrated.error();
    // After a process died mid-transaction. Briefly: a writer busy right now (a batch in
    // another process) owns the frames past the commit, and this open must not wait for it.
    sqlite->discard_uncommitted_log(discard_busy_ms);
    return Store(std::move(impl));
}

Result<Store> Store::connect(std::string const& url, OpenMode mode)
{
    if (!is_postgres_url(url))
        return make_error(ErrorKind::invalid_input, "the database URL must start with postgres:// or postgresql://");
    auto connection = connect_postgres(url);
    if (!connection)
        return connection.error();
    auto impl = std::make_unique<Impl>();
    impl->connection = std::move(*connection);
    if (mode == OpenMode::existing) {
        auto version = schema_version_of(*impl->connection);
        if (!version)
            return version.error();
        if (*version == 0)
            return make_error(ErrorKind::not_found, "database " + impl->connection->name() + " has no charter data; run `charter init` with it first");
    }
    if (auto migrated = migrate(*impl->connection, latest_schema_version()); !migrated)
        return migrated.error();
    return Store(std::move(impl));
}

Store::Store(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) { }
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

std::filesystem::path const& Store::path() const
{
    static std::filesystem::path const none;
    if (auto* sqlite = sqlite_of(m_impl->connection))
        return sqlite->path();
    return none;
}

std::string const& Store::name() const
{
    return m_impl->connection->name();
}

bool Store::is_postgres() const
{
    return m_impl->backend() == Backend::postgres;
}

Result<int> Store::schema_version()
{
    return schema_version_of(*m_impl->connection);
}

Result<void> Store::transaction(std::function<Result<void>()> const& body)
{
    return m_impl->atomically(body);
}

Result<void> Store::transaction(std::function<Result<void>()> const& body, Durability durability)
{
    if (m_impl->depth > 0 || durability == Durability::power_loss)
        return m_impl->atomically(body);
    struct Relaxed {
        Impl& impl;
        explicit Relaxed(Impl& of) : impl(of) { impl.relaxed = true; }
        ~Relaxed() { impl.relaxed = false; }
    } relaxed { *m_impl };
    return m_impl->atomically(body);
}

void Store::use_change_feed(std::shared_ptr<ChangeFeed> feed)
{
    m_impl->connection->use_change_feed(std::move(feed));
}

Result<void> Store::batch_transaction(std::function<Result<void>()> const& body, Durability durability)
{
    if (m_impl->depth > 0)
        return m_impl->atomically(body);
    struct Batching {
        Impl& impl;
        explicit Batching(Impl& of) : impl(of) { impl.batching = true; }
        ~Batching() { impl.batching = false; }
    } batching { *m_impl };
    return transaction(body, durability);
}

Result<void> Store::read_snapshot(std::function<Result<void>()> const& body)
{
    if (m_impl->depth > 0)
        return body();
    if (!m_impl->connection->reconnect_if_lost())
        return m_impl->error(code::failed);
    if (int rc = m_impl->connection->begin(false); rc != code::done)
        return m_impl->error(rc);
    m_impl->snapshot = m_impl->backend() == Backend::postgres;
    m_impl->snapshot_releases_generation.reset();
    auto result = body();
    m_impl->snapshot = false;
    m_impl->snapshot_releases_generation.reset();
    // Nothing was written, so COMMIT only ends the read; the database may have ended it
    // already after an error.
    if (m_impl->connection->in_transaction())
        (void)m_impl->connection->commit();
    return result;
}

Result<void> Store::backup(std::filesystem::path const& destination)
{
    auto* sqlite = sqlite_of(m_impl->connection);
    if (!sqlite) {
        return make_error(ErrorKind::invalid_input,
            "the database is PostgreSQL (" + name() + "): back it up with pg_dump or a base backup (pg_basebackup), "
            "or copy it to an SQLite file with `charter db copy --to FILE.db`");
    }
    std::error_code ignored;
    if (std::filesystem::exists(destination, ignored) && std::filesystem::equivalent(destination, sqlite->path(), ignored))
        return make_error(ErrorKind::invalid_input, "backup destination " + destination.string() + " is the database itself");
    // Written under a temporary name and renamed when complete, so that an interrupted
    // backup never leaves a truncated file where a good backup is expected.
    auto partial = destination;
    partial += ".partial";
    std::filesystem::remove(partial, ignored);
    // A backup holds every license key, as the database does.
    if (auto created = create_private_file(partial); !created)
        return created.error();
    struct Target {
        sqlite3* db { nullptr };
        ~Target()
        {
            if (db)
                sqlite3_close_v2(db);
        }
        sqlite3* release() { return std::exchange(db, nullptr); }
    } target;
    int rc = sqlite3_open_v2(partial.c_str(), &target.db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nullptr);
    if (rc != SQLITE_OK)
        return sqlite_error(target.db, rc, destination);
    sqlite3_busy_timeout(target.db, busy_timeout_ms);

    auto fail = [&](int code) -> Error {
        auto failure = sqlite_error(target.db, code, destination);
        sqlite3_close_v2(target.release());
        std::filesystem::remove(partial, ignored);
        return failure;
    };

    sqlite3_backup* backup = sqlite3_backup_init(target.db, "main", sqlite->handle(), "main");
    if (!backup)
        return fail(sqlite3_extended_errcode(target.db));
    // All pages in one step: one read transaction on the source, so the copy is a consistent
    // snapshot. In WAL mode that read transaction does not block writers in other processes.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
    do {
        rc = sqlite3_backup_step(backup, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && std::chrono::steady_clock::now() < deadline);
    int finish_rc = sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE)
        return fail(rc);
    if (finish_rc != SQLITE_OK)
        return fail(finish_rc);
    // The copy keeps the source's WAL flag; checkpointing and closing leave a single file.
    rc = sqlite3_exec(target.db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        return fail(rc);
    rc = sqlite3_close_v2(target.release());
    if (rc != SQLITE_OK) {
        std::filesystem::remove(partial, ignored);
        return sqlite_error(nullptr, rc, destination);
    }
    std::error_code renamed;
    std::filesystem::rename(partial, destination, renamed);
    if (renamed) {
        std::filesystem::remove(partial, ignored);
        return make_error(ErrorKind::io, "cannot write backup " + destination.string() + ": " + renamed.message());
    }
    return {};
}

Result<std::string> Store::integrity_check()
{
    auto* sqlite = sqlite_of(m_impl->connection);
    if (!sqlite) {
        // PostgreSQL checks its own pages (data checksums, amcheck); what Charter can check is
        // that the schema is its own and the connection answers.
        auto version = schema_version();
        if (!version)
            return version.error();
        return std::string("ok");
    }
    sqlite3_stmt* statement = nullptr;
    int rc = sqlite3_prepare_v2(sqlite->handle(), "PRAGMA integrity_check", -1, &statement, nullptr);
    std::string findings;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(statement);
        if (rc == SQLITE_ROW) {
            if (!findings.empty())
                findings += '\n';
            findings += reinterpret_cast<char const*>(sqlite3_column_text(statement, 0));
        }
    }
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE)
        return m_impl->error(rc);
    return findings;
}

Result<void> create_database_at_version(std::filesystem::path const& db_path, int version)
{
    if (version < 1 || version > latest_schema_version())
        return make_error(ErrorKind::invalid_input, "no schema version " + std::to_string(version));
    auto connection = SqliteConnection::open(db_path, true);
    if (!connection)
        return connection.error();
    return migrate(**connection, version);
}

}
