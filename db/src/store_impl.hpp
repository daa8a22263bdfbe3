#pragma once
// The inside of a Store: the connection, the cache of prepared statements, the transaction
// depth, and the small helpers every table's file uses. Private to db/.

#include "charter/db/store.hpp"
#include "json_writer.hpp"
#include "sqlite_errors.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace charter::db {

class Query;

struct Store::Impl {
    sqlite3* db { nullptr };
    std::filesystem::path path;
    // Keyed by the address of the SQL literal: every statement is a constant in one of
    // db/src's files, so the address identifies it without hashing the text.
    std::unordered_map<char const*, sqlite3_stmt*> statements;
    int depth { 0 }; // 0: no transaction; 1: BEGIN IMMEDIATE; >1: savepoints inside it
    // Set when a change inside the caller's transaction failed half-way and could not be
    // undone; the transaction can then only be rolled back.
    bool doomed { false };
    // Pages the connection had written to the WAL mid-transaction (its cache overflowing)
    // when the outermost transaction began: more at a rollback means the -wal file holds
    // uncommitted pages (signed keys of licenses that will never exist) to discard.
    int spills_at_begin { 0 };

    ~Impl();

    /// Makes the -wal file hold nothing past the last commit: checkpoints it and truncates it
    /// to nothing when it is longer than its committed frames. Best effort: when another
    /// connection is writing or reading an older snapshot within `busy_ms`, the frames stay
    /// for the next open.
    void discard_uncommitted_log(int busy_ms);

    /// The cached statement for `sql`, prepared on first use.
    Query query(char const* sql);

    /// The Error for a failed SQLite call, with a message that names the file and says what to do.
    Error error(int rc) const { return sqlite_error(db, rc, path); }

    /// Runs `body` atomically: a transaction at the top level, a savepoint inside one.
    template<typename Body>
    Result<void> atomically(Body&& body);

    Result<void> begin();
    Result<void> finish(bool commit);
    /// Inside a transaction: an error when it can no longer commit (SQLite rolled it back
    /// after a full disk or an i/o error, or a change could not be undone).
    Result<void> check_transaction() const;

    /// Appends one audit row; called by each mutator inside its transaction.
    Result<void> audit(Actor const& actor, int64_t at, std::string_view action, std::string_view subject,
        std::string const& details_json);

    /// The idempotency_keys row of `record` (idempotency.cpp), for mutators that write it in
    /// their own statement sequence: insert (a used key: ErrorKind::conflict) and undo.
    Result<void> insert_idempotency_key(IdempotencyRecord const& record);
    bool delete_idempotency_key(IdempotencyRecord const& record);

    /// The mail_outbox row of `message` (mail_outbox.cpp), for mutators that write it in their
    /// own statement sequence: insert (false: its dedupe_key was used, nothing written) and undo.
    Result<bool> insert_mail(MailMessage const& message);
    bool delete_mail(MailMessage const& message);
};

/// A borrowed cached statement: bind, step, read columns. Resetting on destruction makes
/// the statement ready for the next use and releases its read locks.
///
/// Text is bound without copying (SQLITE_STATIC): the bound string must outlive the Query.
class Query {
public:
    Query(sqlite3_stmt* statement, int prepare_rc) : m_statement(statement), m_prepare_rc(prepare_rc) { }
    Query(Query const&) = delete;
    Query& operator=(Query const&) = delete;
    ~Query()
    {
        if (m_statement) {
            sqlite3_reset(m_statement);
            sqlite3_clear_bindings(m_statement);
        }
    }

    Query& bind(int index, std::string_view text)
    {
        if (m_statement)
            sqlite3_bind_text(m_statement, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
        return *this;
    }
    Query& bind(int index, std::string const& text) { return bind(index, std::string_view(text)); }
    Query& bind(int index, char const* text) { return bind(index, std::string_view(text)); }
    Query& bind(int index, int64_t number)
    {
        if (m_statement)
            sqlite3_bind_int64(m_statement, index, number);
        return *this;
    }
    Query& bind(int index, std::optional<std::string> const& text)
    {
        if (text)
            return bind(index, std::string_view(*text));
        return bind_null(index);
    }
    Query& bind(int index, std::optional<int64_t> number)
    {
        if (number)
            return bind(index, *number);
        return bind_null(index);
    }
    Query& bind_bool(int index, bool flag) { return bind(index, int64_t { flag ? 1 : 0 }); }
    Query& bind_null(int index)
    {
        if (m_statement)
            sqlite3_bind_null(m_statement, index);
        return *this;
    }

    /// SQLITE_ROW, SQLITE_DONE, or an (extended) error code.
    int step()
    {
        if (!m_statement)
            return m_prepare_rc;
        return sqlite3_step(m_statement);
    }

    std::string text(int column) const
    {
        auto const* data = sqlite3_column_text(m_statement, column);
        if (!data)
            return {};
        return std::string(reinterpret_cast<char const*>(data), static_cast<size_t>(sqlite3_column_bytes(m_statement, column)));
    }
    std::optional<std::string> optional_text(int column) const
    {
        if (sqlite3_column_type(m_statement, column) == SQLITE_NULL)
            return std::nullopt;
        return text(column);
    }
    int64_t integer(int column) const { return sqlite3_column_int64(m_statement, column); }
    std::optional<int64_t> optional_integer(int column) const
    {
        if (sqlite3_column_type(m_statement, column) == SQLITE_NULL)
            return std::nullopt;
        return integer(column);
    }
    bool boolean(int column) const { return integer(column) != 0; }

private:
    sqlite3_stmt* m_statement;
    int m_prepare_rc;
};

/// Lists of words or requirements are stored one item per line in a TEXT column.
inline std::string join_lines(std::vector<std::string> const& items)
{
    std::string joined;
    for (auto const& item : items) {
        if (!joined.empty())
            joined += '\n';
        joined += item;
    }
    return joined;
}

inline std::vector<std::string> split_lines(std::string const& text)
{
    std::vector<std::string> items;
    size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        items.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return items;
}

inline Query Store::Impl::query(char const* sql)
{
    if (auto found = statements.find(sql); found != statements.end())
        return Query(found->second, SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(statement);
        return Query(nullptr, rc);
    }
    statements.emplace(sql, statement);
    return Query(statement, SQLITE_OK);
}

template<typename Body>
Result<void> Store::Impl::atomically(Body&& body)
{
    if (auto begun = begin(); !begun)
        return begun;
    bool committed = false;
    // A guard rather than straight-line code so that an exception (bad_alloc) thrown by the
    // body still rolls back instead of leaving the transaction open.
    struct Guard {
        Impl& impl;
        bool& committed;
        ~Guard()
        {
            if (!committed)
                (void)impl.finish(false);
        }
    } guard { *this, committed };
    auto result = body();
    if (!result)
        return result;
    committed = true;
    return finish(true);
}

}
