#pragma once
// The connection a Store runs its SQL on, for either backend: SQLite (sqlite_connection.cpp)
// or PostgreSQL (postgres_connection.cpp). The table files write their SQL once, in SQLite's
// spelling of the subset both accept (docs/architecture.md, "One store, two databases"), and
// use only this interface; the PostgreSQL connection translates each statement once, when it
// prepares it (postgres_sql.hpp). Private to db/.

#include "charter/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace charter::db {

class ChangeFeed;

/// What a step or a statement returns: the values are SQLite's result codes, so the SQLite
/// connection passes its own through; the PostgreSQL connection maps to them.
namespace code {
constexpr int failed = 1;                    // any other failure: Connection::error says which
constexpr int row = 100;                     // a row is ready to read
constexpr int done = 101;                    // finished
constexpr int foreign_key_violation = 787;   // SQLITE_CONSTRAINT_FOREIGNKEY
constexpr int primary_key_violation = 1555;  // SQLITE_CONSTRAINT_PRIMARYKEY
constexpr int unique_violation = 2067;       // SQLITE_CONSTRAINT_UNIQUE (another unique key)
}

inline bool is_unique_violation(int rc)
{
    return rc == code::unique_violation || rc == code::primary_key_violation;
}

inline bool is_foreign_key_violation(int rc)
{
    return rc == code::foreign_key_violation;
}

enum class Backend { sqlite, postgres };

/// One prepared statement of a connection. Text is bound by reference: the bound string must
/// outlive the execution (the Query that bound it).
class Statement {
public:
    virtual ~Statement() = default;
    virtual void bind_text(int index, std::string_view text) = 0;
    virtual void bind_integer(int index, int64_t number) = 0;
    virtual void bind_null(int index) = 0;
    /// code::row, code::done, or a failure code.
    virtual int step() = 0;
    /// Ready for the next execution: bindings cleared, locks and results released.
    virtual void reset() = 0;
    virtual bool is_null(int column) const = 0;
    virtual std::string text(int column) const = 0;
    virtual int64_t integer(int column) const = 0;
};

class Connection {
public:
    virtual ~Connection() = default;
    virtual Backend backend() const = 0;
    /// Names the database in messages: the file, or the PostgreSQL URL without its password.
    virtual std::string const& name() const = 0;

    /// The statement for `sql`, prepared on first use and cached by the literal's address
    /// (every statement is a constant in one of db/src's files). Null, with `rc` set, when it
    /// cannot be prepared.
    virtual Statement* statement(char const* sql, int& rc) = 0;
    /// A statement made from text at run time (`charter db copy` names tables and columns it
    /// found), not cached: null, with `rc` set, when it cannot be prepared.
    virtual std::unique_ptr<Statement> prepare_once(std::string const& sql, int& rc) = 0;
    /// Runs statements that return nothing (a migration step); code::done or a failure.
    virtual int execute(std::string const& sql) = 0;
    /// Rows changed by the last INSERT, UPDATE or DELETE.
    virtual int64_t changes() const = 0;

    /// A transaction whose writes serialize with every other writer's (SQLite: BEGIN
    /// IMMEDIATE; PostgreSQL: READ COMMITTED holding the database's writer lock), or a read
    /// transaction that sees one snapshot.
    virtual int begin(bool write) = 0;
    /// Called right before begin(true): that transaction's commit need only survive a crash
    /// of the process, not of the machine (SQLite in WAL mode: synchronous NORMAL, no fsync at
    /// commit; PostgreSQL: synchronous_commit off for the transaction). The transaction after
    /// it is durable again.
    virtual int relax_next_commit() = 0;
    virtual int commit() = 0;
    virtual int rollback() = 0;
    virtual int savepoint() = 0;
    virtual int release_savepoint() = 0;
    virtual int rollback_to_savepoint() = 0;
    /// False when the database ended the transaction by itself after an error.
    virtual bool in_transaction() const = 0;

    /// Changes sent together, in one round trip to PostgreSQL instead of one each (SQLite: each
    /// runs at once, as always). After hold_changes(), an INSERT, UPDATE or DELETE is only
    /// queued: its step() says done and changes() 1 before it ran. send_changes() runs the
    /// queue in order and returns code::done, or the failure of the first that failed (those
    /// after it do not run, and the transaction is aborted: the caller rolls back to the
    /// savepoint the changes ran in, then may run them again one at a time to learn which
    /// failed and why). A read while changes are held sends them first.
    virtual void hold_changes() { }
    virtual int send_changes() { return code::done; }
    /// For the rest of the transaction, every INSERT of one row of values (which changes one
    /// row or fails) is queued as by hold_changes(), and sent with the next read or the COMMIT
    /// (send_changes() does not send it). When one fails, the statement or COMMIT it went with
    /// fails with its error, and held_change_failed() says so: the transaction then rolls back,
    /// and runs again without holding to learn which failed and why (Store::Impl::atomically).
    virtual void hold_inserts() { }
    virtual bool held_change_failed() const { return false; }

    /// PostgreSQL: reads outside a writing transaction are answered from memory while `feed`
    /// says the database has not changed since they were asked, and this connection's commits
    /// tell the feed at once (change_feed.hpp). SQLite: nothing (its reads are not round trips).
    virtual void use_change_feed(std::shared_ptr<ChangeFeed> feed) { (void)feed; }

    /// The Error for failure `rc` of the last call, with a message that names the database
    /// and says what to do.
    virtual Error error(int rc) const = 0;
    /// The database's own wording of the last failure (for messages that add their context).
    virtual std::string last_message() const = 0;
    /// Whether the last failure ended the transaction in a way that running it again from
    /// the start can cure: a serialization failure, a deadlock, a connection lost before COMMIT.
    virtual bool last_failure_retryable() const = 0;
    /// Makes the connection usable again after it was lost (outside a transaction only).
    /// False when the database still cannot be reached.
    virtual bool reconnect_if_lost() = 0;
};

}
