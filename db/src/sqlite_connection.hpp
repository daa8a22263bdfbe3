#pragma once
// The SQLite connection: one database file in WAL mode. Private to db/.

#include "connection.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <unordered_map>

namespace charter::db {

class SqliteConnection final : public Connection {
public:
    /// Opens the file (creating it 0600 for OpenMode::create) and sets the connection up the
    /// way every Charter connection must be (WAL, synchronous FULL, foreign keys, …).
    static Result<std::unique_ptr<SqliteConnection>> open(std::filesystem::path const& path, bool create);
    ~SqliteConnection() override;

    Backend backend() const override { return Backend::sqlite; }
    std::string const& name() const override { return m_name; }
    Statement* statement(char const* sql, int& rc) override;
    std::unique_ptr<Statement> prepare_once(std::string const& sql, int& rc) override;
    int execute(std::string const& sql) override;
    int64_t changes() const override { return sqlite3_changes(m_db); }
    int begin(bool write) override;
    int relax_next_commit() override;
    int commit() override;
    int rollback() override;
    int savepoint() override;
    int release_savepoint() override;
    int rollback_to_savepoint() override;
    bool in_transaction() const override { return sqlite3_get_autocommit(m_db) == 0; }
    Error error(int rc) const override;
    std::string last_message() const override { return sqlite3_errmsg(m_db); }
    bool last_failure_retryable() const override { return false; }
    bool reconnect_if_lost() override { return true; }

    sqlite3* handle() const { return m_db; }
    std::filesystem::path const& path() const { return m_path; }

    /// Makes the -wal file hold nothing past the last commit: checkpoints it and truncates it
    /// to nothing when it is longer than its committed frames. Best effort: when another
    /// connection is writing or reading an older snapshot within `busy_ms`, the frames stay
    /// for the next open.
    void discard_uncommitted_log(int busy_ms);

    /// The first column of the first row of `sql` as text ("" when there is none).
    Result<std::string> pragma_text(char const* sql);

private:
    SqliteConnection(sqlite3* db, std::filesystem::path path);
    int run_cached(char const* sql);
    /// Back to synchronous FULL after a transaction relax_next_commit() relaxed.
    void restore_durability();

    sqlite3* m_db;
    std::filesystem::path m_path;
    std::string m_name;
    std::unordered_map<char const*, std::unique_ptr<Statement>> m_statements;
    // Pages the connection had written to the WAL mid-transaction (its cache overflowing)
    // when the outermost transaction began: more at a rollback means the -wal file holds
    // uncommitted pages (signed keys of licenses that will never exist) to discard.
    int m_spills_at_begin { 0 };
    // The transaction running (or about to begin) commits without an fsync (relax_next_commit).
    bool m_relaxed { false };
};

/// Creates `path` 0600 whatever the umask when it does not exist yet.
Result<void> create_private_file(std::filesystem::path const& path);

}
