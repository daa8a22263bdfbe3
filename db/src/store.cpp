// Opening a Store, its transactions and savepoints, the audit row every change writes, and
// maintenance (backup, integrity check).

#include "schema.hpp"
#include "store_impl.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace charter::db {

namespace {

constexpr int busy_timeout_ms = 5000;
constexpr int discard_busy_ms = 500;

// Each statement is a constant: Impl::query caches it by address.
constexpr char const* sql_begin = "BEGIN IMMEDIATE";
constexpr char const* sql_begin_read = "BEGIN DEFERRED";
constexpr char const* sql_commit = "COMMIT";
constexpr char const* sql_rollback = "ROLLBACK";
// One name for every level: ROLLBACK TO and RELEASE act on the most recent savepoint of
// that name, which is the innermost one.
constexpr char const* sql_savepoint = "SAVEPOINT charter";
constexpr char const* sql_rollback_to_savepoint = "ROLLBACK TO charter";
constexpr char const* sql_release_savepoint = "RELEASE charter";
constexpr char const* sql_insert_audit
    = "INSERT INTO audit (at, actor, action, subject, details_json) VALUES (?1, ?2, ?3, ?4, ?5)";

struct Connection {
    sqlite3* db { nullptr };
    ~Connection()
    {
        if (db)
            sqlite3_close_v2(db);
    }
    sqlite3* release() { return std::exchange(db, nullptr); }
};

Result<std::string> pragma_text(sqlite3* db, std::filesystem::path const& path, char const* sql)
{
    sqlite3_stmt* statement = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &statement, nullptr);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(statement);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_finalize(statement);
        return sqlite_error(db, rc, path);
    }
    std::string value;
    if (rc == SQLITE_ROW && sqlite3_column_text(statement, 0))
        value = reinterpret_cast<char const*>(sqlite3_column_text(statement, 0));
    sqlite3_finalize(statement);
    return value;
}

// The database holds every license key, and a license key is a download credential: the file
// is created 0600 whatever the umask. SQLite gives the -wal and -shm files it creates beside a
// database the database's own mode, so they are 0600 too.
Result<void> create_private_file(std::filesystem::path const& path)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    // Already there, or not creatable (a missing folder, no permission): SQLite's own open
    // then uses it or says what is wrong, with the message every other open failure has.
    if (fd < 0)
        return {};
    int failed = ::fchmod(fd, 0600) != 0 ? errno : 0;
    ::close(fd);
    if (failed)
        return make_error(ErrorKind::io, "cannot restrict " + path.string() + " to mode 0600: " + std::strerror(failed));
    return {};
}

// Opens the file and sets the connection up the way every Charter connection must be.
Result<sqlite3*> connect(std::filesystem::path const& path, OpenMode mode)
{
    std::error_code ignored;
    if (mode == OpenMode::existing && !std::filesystem::exists(path, ignored))
        return make_error(ErrorKind::not_found, "no database at " + path.string() + "; run `charter init` first");

    Connection connection;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (mode == OpenMode::create) {
        flags |= SQLITE_OPEN_CREATE;
        if (auto created = create_private_file(path); !created)
            return created.error();
    }
    int rc = sqlite3_open_v2(path.c_str(), &connection.db, flags, nullptr);
    if (rc != SQLITE_OK)
        return sqlite_error(connection.db, rc, path);
    sqlite3_busy_timeout(connection.db, busy_timeout_ms);

    // Only takes effect while the file is still empty. 16 KiB pages: licenses are ~1 KiB rows,
    // and a large batch then writes a quarter of the pages (and system calls) it would with 4 KiB.
    if (auto page_size = pragma_text(connection.db, path, "PRAGMA page_size = 16384"); !page_size)
        return page_size.error();
    // WAL: readers (the server, `charter list`) never block the writer or each other.
    auto journal = pragma_text(connection.db, path, "PRAGMA journal_mode = WAL");
    if (!journal)
        return journal.error();
    bool const read_only = sqlite3_db_readonly(connection.db, "main") == 1;
    if (*journal != "wal" && !read_only) {
        return make_error(ErrorKind::io,
            "cannot switch database " + path.string() + " to WAL mode (it stays in " + *journal
                + " mode); put the data directory on a local file system");
    }
    // FULL, not NORMAL: in WAL mode NORMAL skips the fsync at commit, so a power loss can undo
    // the last transactions, and a license key already shown to a customer would vanish from
    // the database. See docs/operations.md, "Durability".
    // temp_store MEMORY: statement and savepoint journals stay in memory instead of temporary
    // files. cache_size: 32 MiB keeps the license id index of a large batch in memory; the
    // cache fills only as pages are used.
    // secure_delete: a deleted row (a license whose insert was undone inside a transaction
    // that went on to commit) is overwritten, so no signed key of a license that does not
    // exist stays readable in the file's free space.
    for (char const* pragma : { "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON", "PRAGMA temp_store = MEMORY",
             "PRAGMA cache_size = -32768", "PRAGMA secure_delete = ON" }) {
        auto set = pragma_text(connection.db, path, pragma);
        if (!set)
            return set.error();
    }
    return connection.release();
}

}

Store::Impl::~Impl()
{
    for (auto& [sql, statement] : statements)
        sqlite3_finalize(statement);
    if (db)
        sqlite3_close_v2(db);
}

Result<void> Store::Impl::check_transaction() const
{
    // SQLite rolls the whole transaction back by itself after some errors (a full disk, an
    // i/o error). Going on would run the rest of the caller's batch outside any transaction,
    // one autocommit at a time; refuse instead.
    if (sqlite3_get_autocommit(db)) {
        return make_error(ErrorKind::io,
            "the transaction on " + path.string() + " was rolled back after an earlier error; nothing was changed");
    }
    if (doomed) {
        return make_error(ErrorKind::io,
            "a change in the transaction on " + path.string() + " failed half-way and could not be undone; the whole transaction is rolled back, nothing was changed");
    }
    return {};
}

namespace {

int cache_spills(sqlite3* db)
{
    int spills = 0, highwater = 0;
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_SPILL, &spills, &highwater, 0);
    return spills;
}

}

// A transaction too big for the page cache (a batch of thousands of licenses) writes pages to
// the -wal file before it commits. When it is rolled back, or its process killed, SQLite only
// forgets those frames: their bytes, signed license keys included, stay in the file until
// overwritten, and when another connection keeps the database open (charter-server) that can
// be forever. Those keys verify, yet no license row exists to revoke them.
void Store::Impl::discard_uncommitted_log(int busy_ms)
{
    int committed_frames = 0, checkpointed = 0;
    if (sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &committed_frames, &checkpointed) != SQLITE_OK)
        return;
    std::error_code failed;
    auto wal = path;
    wal += "-wal";
    auto size = std::filesystem::file_size(wal, failed);
    if (failed)
        return;
    auto page_size = pragma_text(db, path, "PRAGMA page_size");
    if (!page_size)
        return;
    // The WAL format: a 32-byte header, then frames of a 24-byte header and one page.
    uintmax_t const committed_size = committed_frames > 0 ? 32 + uintmax_t(committed_frames) * (24 + std::stoull(*page_size)) : 32;
    if (size <= committed_size)
        return;
    sqlite3_busy_timeout(db, busy_ms);
    (void)sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    sqlite3_busy_timeout(db, busy_timeout_ms);
}

Result<void> Store::Impl::begin()
{
    if (depth == 0) {
        if (int rc = query(sql_begin).step(); rc != SQLITE_DONE)
            return error(rc);
        depth = 1;
        doomed = false;
        spills_at_begin = cache_spills(db);
        return {};
    }
    if (auto usable = check_transaction(); !usable)
        return usable;
    if (int rc = query(sql_savepoint).step(); rc != SQLITE_DONE)
        return error(rc);
    ++depth;
    return {};
}

Result<void> Store::Impl::finish(bool commit)
{
    bool const outermost = depth == 1;
    --depth;
    bool const transaction_lost = sqlite3_get_autocommit(db) != 0;
    Result<void> refusal;
    if (commit)
        refusal = check_transaction();
    if (!refusal)
        commit = false;
    if (outermost) {
        doomed = false;
        if (commit) {
            int rc = query(sql_commit).step();
            if (rc == SQLITE_DONE)
                return {};
            auto failure = error(rc);
            if (!sqlite3_get_autocommit(db))
                (void)query(sql_rollback).step();
            if (cache_spills(db) > spills_at_begin)
                discard_uncommitted_log(busy_timeout_ms);
            return failure;
        }
        if (!transaction_lost)
            (void)query(sql_rollback).step();
        if (cache_spills(db) > spills_at_begin)
            discard_uncommitted_log(busy_timeout_ms);
        return refusal;
    }
    if (commit) {
        int rc = query(sql_release_savepoint).step();
        if (rc == SQLITE_DONE)
            return {};
        auto failure = error(rc);
        (void)query(sql_rollback_to_savepoint).step();
        (void)query(sql_release_savepoint).step();
        return failure;
    }
    if (!transaction_lost) {
        // ROLLBACK TO undoes the savepoint's work but keeps it open; RELEASE then closes it.
        (void)query(sql_rollback_to_savepoint).step();
        (void)query(sql_release_savepoint).step();
    }
    return refusal;
}

Result<void> Store::Impl::audit(Actor const& actor, int64_t at, std::string_view action, std::string_view subject,
    std::string const& details_json)
{
    auto insert = query(sql_insert_audit);
    insert.bind(1, at).bind(2, actor.name).bind(3, action).bind(4, subject).bind(5, details_json);
    int rc = insert.step();
    if (rc == SQLITE_DONE)
        return {};
    auto failure = error(rc);
    if (failure.kind == ErrorKind::io)
        return failure;
    return make_error(failure.kind,
        "could not write the audit row for " + std::string(action) + " " + std::string(subject) + " ("
            + sqlite3_errmsg(db) + "); nothing was changed");
}

Result<Store> Store::open(std::filesystem::path const& db_path, OpenMode mode)
{
    auto db = connect(db_path, mode);
    if (!db)
        return db.error();
    auto impl = std::make_unique<Impl>();
    impl->db = *db;
    impl->path = db_path;
    if (auto migrated = migrate(impl->db, db_path, latest_schema_version()); !migrated)
        return migrated.error();
    // After a process died mid-transaction. Briefly: a writer busy right now (a batch in
    // another process) owns the frames past the commit, and this open must not wait for it.
    impl->discard_uncommitted_log(discard_busy_ms);
    return Store(std::move(impl));
}

Store::Store(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) { }
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

std::filesystem::path const& Store::path() const
{
    return m_impl->path;
}

Result<int> Store::schema_version()
{
    auto version = pragma_text(m_impl->db, m_impl->path, "PRAGMA user_version");
    if (!version)
        return version.error();
    return std::stoi(*version);
}

Result<void> Store::transaction(std::function<Result<void>()> const& body)
{
    return m_impl->atomically(body);
}

Result<void> Store::read_snapshot(std::function<Result<void>()> const& body)
{
    if (m_impl->depth > 0)
        return body();
    if (int rc = m_impl->query(sql_begin_read).step(); rc != SQLITE_DONE)
        return m_impl->error(rc);
    auto result = body();
    // Nothing was written, so COMMIT only ends the read; SQLite may have ended it already
    // after an error.
    if (!sqlite3_get_autocommit(m_impl->db))
        (void)m_impl->query(sql_commit).step();
    return result;
}

Result<void> Store::backup(std::filesystem::path const& destination)
{
    std::error_code ignored;
    if (std::filesystem::exists(destination, ignored) && std::filesystem::equivalent(destination, m_impl->path, ignored))
        return make_error(ErrorKind::invalid_input, "backup destination " + destination.string() + " is the database itself");

    // Written under a temporary name and renamed when complete, so that an interrupted
    // backup never leaves a truncated file where a good backup is expected.
    auto partial = destination;
    partial += ".partial";
    std::filesystem::remove(partial, ignored);
    // A backup holds every license key, as the database does.
    if (auto created = create_private_file(partial); !created)
        return created.error();
    Connection target;
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

    sqlite3_backup* backup = sqlite3_backup_init(target.db, "main", m_impl->db, "main");
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
    sqlite3_stmt* statement = nullptr;
    int rc = sqlite3_prepare_v2(m_impl->db, "PRAGMA integrity_check", -1, &statement, nullptr);
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
    auto db = connect(db_path, OpenMode::create);
    if (!db)
        return db.error();
    Connection connection { *db };
    return migrate(connection.db, db_path, version);
}

}
