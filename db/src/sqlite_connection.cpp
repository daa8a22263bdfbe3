// The SQLite connection: opening the file the way every Charter connection must, its
// statements, transactions, and the -wal file's uncommitted pages.

#include "sqlite_connection.hpp"

#include "sqlite_errors.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace charter::db {

namespace {

constexpr int busy_timeout_ms = 5000;

static_assert(code::failed == SQLITE_ERROR && code::row == SQLITE_ROW && code::done == SQLITE_DONE);
static_assert(code::foreign_key_violation == SQLITE_CONSTRAINT_FOREIGNKEY);
static_assert(code::primary_key_violation == SQLITE_CONSTRAINT_PRIMARYKEY);
static_assert(code::unique_violation == SQLITE_CONSTRAINT_UNIQUE);

// Each statement is a constant: run_cached caches it by address.
constexpr char const* sql_begin = "BEGIN IMMEDIATE";
constexpr char const* sql_begin_read = "BEGIN DEFERRED";
constexpr char const* sql_commit = "COMMIT";
constexpr char const* sql_rollback = "ROLLBACK";
// In WAL mode NORMAL writes the commit to the -wal file without an fsync: it survives a crash
// of the process (the operating system has the pages), not a power loss.
constexpr char const* sql_synchronous_normal = "PRAGMA synchronous = NORMAL";
constexpr char const* sql_synchronous_full = "PRAGMA synchronous = FULL";
// One name for every level: ROLLBACK TO and RELEASE act on the most recent savepoint of
// that name, which is the innermost one.
constexpr char const* sql_savepoint = "SAVEPOINT charter";
constexpr char const* sql_rollback_to_savepoint = "ROLLBACK TO charter";
constexpr char const* sql_release_savepoint = "RELEASE charter";

class SqliteStatement final : public Statement {
public:
    explicit SqliteStatement(sqlite3_stmt* statement) : m_statement(statement) { }
    ~SqliteStatement() override { sqlite3_finalize(m_statement); }

    void bind_text(int index, std::string_view text) override
    {
        sqlite3_bind_text(m_statement, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    }
    void bind_integer(int index, int64_t number) override { sqlite3_bind_int64(m_statement, index, number); }
    void bind_null(int index) override { sqlite3_bind_null(m_statement, index); }
    int step() override { return sqlite3_step(m_statement); }
    void reset() override
    {
        sqlite3_reset(m_statement);
        sqlite3_clear_bindings(m_statement);
    }
    bool is_null(int column) const override { return sqlite3_column_type(m_statement, column) == SQLITE_NULL; }
    std::string text(int column) const override
    {
        auto const* data = sqlite3_column_text(m_statement, column);
        if (!data)
            return {};
        return std::string(reinterpret_cast<char const*>(data), static_cast<size_t>(sqlite3_column_bytes(m_statement, column)));
    }
    int64_t integer(int column) const override { return sqlite3_column_int64(m_statement, column); }

private:
    sqlite3_stmt* m_statement;
};

struct Handle {
    sqlite3* db { nullptr };
    ~Handle()
    {
        if (db)
            sqlite3_close_v2(db);
    }
    sqlite3* release() { return std::exchange(db, nullptr); }
};

Result<std::string> first_text(sqlite3* db, std::filesystem::path const& path, char const* sql)
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

int cache_spills(sqlite3* db)
{
    int spills = 0, highwater = 0;
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_SPILL, &spills, &highwater, 0);
    return spills;
}

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

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::open(std::filesystem::path const& path, bool create)
{
    Handle connection;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (create) {
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
    if (auto page_size = first_text(connection.db, path, "PRAGMA page_size = 16384"); !page_size)
        return page_size.error();
    // WAL: readers (the server, `charter list`) never block the writer or each other.
    auto journal = first_text(connection.db, path, "PRAGMA journal_mode = WAL");
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
        auto set = first_text(connection.db, path, pragma);
        if (!set)
            return set.error();
    }
    return std::unique_ptr<SqliteConnection>(new SqliteConnection(connection.release(), path));
}

SqliteConnection::SqliteConnection(sqlite3* db, std::filesystem::path path)
    : m_db(db)
    , m_path(std::move(path))
    , m_name(m_path.string())
{
}

SqliteConnection::~SqliteConnection()
{
    m_statements.clear();
    sqlite3_close_v2(m_db);
}

Statement* SqliteConnection::statement(char const* sql, int& rc)
{
    if (auto found = m_statements.find(sql); found != m_statements.end())
        return found->second.get();
    sqlite3_stmt* prepared = nullptr;
    rc = sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, &prepared, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(prepared);
        return nullptr;
    }
    return m_statements.emplace(sql, std::make_unique<SqliteStatement>(prepared)).first->second.get();
}

std::unique_ptr<Statement> SqliteConnection::prepare_once(std::string const& sql, int& rc)
{
    sqlite3_stmt* prepared = nullptr;
    rc = sqlite3_prepare_v2(m_db, sql.c_str(), -1, &prepared, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(prepared);
        return nullptr;
    }
    return std::make_unique<SqliteStatement>(prepared);
}

int SqliteConnection::run_cached(char const* sql)
{
    int rc = SQLITE_OK;
    auto* prepared = statement(sql, rc);
    if (!prepared)
        return rc;
    rc = prepared->step();
    prepared->reset();
    return rc;
}

int SqliteConnection::execute(std::string const& sql)
{
    int rc = sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? SQLITE_DONE : rc;
}

int SqliteConnection::begin(bool write)
{
    int rc = run_cached(write ? sql_begin : sql_begin_read);
    if (rc == SQLITE_DONE && write)
        m_spills_at_begin = cache_spills(m_db);
    return rc;
}

int SqliteConnection::relax_next_commit()
{
    // SQLite refuses to change it inside a transaction; it is read at COMMIT.
    int rc = run_cached(sql_synchronous_normal);
    if (rc == SQLITE_DONE)
        m_relaxed = true;
    return rc;
}

void SqliteConnection::restore_durability()
{
    if (!m_relaxed)
        return;
    // Cannot fail short of a broken connection, whose next statement reports it; until then
    // the next commit of this connection would still be relaxed, so try again at the next end.
    if (run_cached(sql_synchronous_full) == SQLITE_DONE)
        m_relaxed = false;
}

int SqliteConnection::commit()
{
    int rc = run_cached(sql_commit);
    if (rc != SQLITE_DONE && in_transaction())
        (void)run_cached(sql_rollback);
    restore_durability();
    if (rc == SQLITE_DONE)
        return rc;
    if (cache_spills(m_db) > m_spills_at_begin)
        discard_uncommitted_log(busy_timeout_ms);
    return rc;
}

int SqliteConnection::rollback()
{
    int rc = SQLITE_DONE;
    if (in_transaction())
        rc = run_cached(sql_rollback);
    restore_durability();
    if (cache_spills(m_db) > m_spills_at_begin)
        discard_uncommitted_log(busy_timeout_ms);
    return rc;
}

int SqliteConnection::savepoint()
{
    return run_cached(sql_savepoint);
}

int SqliteConnection::release_savepoint()
{
    return run_cached(sql_release_savepoint);
}

int SqliteConnection::rollback_to_savepoint()
{
    return run_cached(sql_rollback_to_savepoint);
}

Error SqliteConnection::error(int rc) const
{
    return sqlite_error(m_db, rc, m_path);
}

Result<std::string> SqliteConnection::pragma_text(char const* sql)
{
    return first_text(m_db, m_path, sql);
}

// A transaction too big for the page cache (a batch of thousands of licenses) writes pages to
// the -wal file before it commits. When it is rolled back, or its process killed, SQLite only
// forgets those frames: their bytes, signed license keys included, stay in the file until
// overwritten, and when another connection keeps the database open (charter-server) that can
// be forever. Those keys verify, yet no license row exists to revoke them.
void SqliteConnection::discard_uncommitted_log(int busy_ms)
{
    int committed_frames = 0, checkpointed = 0;
    if (sqlite3_wal_checkpoint_v2(m_db, "main", SQLITE_CHECKPOINT_PASSIVE, &committed_frames, &checkpointed) != SQLITE_OK)
        return;
    std::error_code failed;
    auto wal = m_path;
    wal += "-wal";
    auto size = std::filesystem::file_size(wal, failed);
    if (failed)
        return;
    auto page_size = pragma_text("PRAGMA page_size");
    if (!page_size)
        return;
    // The WAL format: a 32-byte header, then frames of a 24-byte header and one page.
    uintmax_t const committed_size = committed_frames > 0 ? 32 + uintmax_t(committed_frames) * (24 + std::stoull(*page_size)) : 32;
    if (size <= committed_size)
        return;
    sqlite3_busy_timeout(m_db, busy_ms);
    (void)sqlite3_wal_checkpoint_v2(m_db, "main", SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    sqlite3_busy_timeout(m_db, busy_timeout_ms);
}

}
