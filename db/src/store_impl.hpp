#pragma once
// The inside of a Store: the connection, the cache of prepared statements, the transaction
// depth, and the small helpers every table's file uses. Private to db/.

#include "charter/db/store.hpp"
#include "connection.hpp"
#include "json_writer.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charter::db {

class Query;

struct Store::Impl {
    std::unique_ptr<Connection> connection;
    int depth { 0 }; // 0: no transaction; 1: a writing transaction; >1: savepoints inside it
    // Set when a change inside the caller's transaction failed half-way and could not be
    // undone; the transaction can then only be rolled back.
    bool doomed { false };
    // Set when the outermost transaction was rolled back after a failure that running it
    // again can cure (Connection::last_failure_retryable).
    bool retryable { false };
    // The top-level transaction about to begin commits with Durability::process_crash.
    bool relaxed { false };
    // The outermost transaction being attempted holds its inserts back until its next read or
    // its COMMIT (Connection::hold_inserts): in a Store::batch_transaction on PostgreSQL, until
    // one of them fails.
    bool batching { false };
    bool hold_inserts { false };
    // Inside Store::read_snapshot on PostgreSQL: a license read there also reads the releases'
    // generation (the same snapshot), which releases_generation() then answers without a
    // second round trip (a RubyGems index request is one).
    bool snapshot { false };
    std::optional<int64_t> snapshot_releases_generation;

    Backend backend() const { return connection->backend(); }

    /// The cached statement for `sql`, prepared on first use. Outside a transaction, a
    /// connection lost since its last use is made again first.
    Query query(char const* sql);

    /// The Error for a failed call, with a message that names the database and says what to do.
    Error error(int rc) const { return connection->error(rc); }

    /// How many times a top-level transaction runs in all when it keeps failing in a way
    /// running it again cures.
    static constexpr int transaction_attempts = 4;

    /// Runs `body` atomically: a transaction at the top level, a savepoint inside one. At the
    /// top level, `body` runs again when the transaction failed in a way that cures (see
    /// Store::transaction): every body given here must be re-runnable.
    template<typename Body>
    Result<void> atomically(Body&& body);
    template<typename Body>
    Result<void> attempt_atomically(Body& body);

    Result<void> begin();
    Result<void> finish(bool commit);
    /// Inside a transaction: an error when it can no longer commit (the database rolled it
    /// back after a full disk, an i/o error or a lost connection, or a change could not be undone).
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
/// Text is bound without copying: the bound string must outlive the Query.
class Query {
public:
    Query(Statement* statement, int prepare_rc) : m_statement(statement), m_prepare_rc(prepare_rc) { }
    Query(Query const&) = delete;
    Query& operator=(Query const&) = delete;
    ~Query()
    {
        if (m_statement)
            m_statement->reset();
    }

    Query& bind(int index, std::string_view text)
    {
        if (m_statement)
            m_statement->bind_text(index, text);
        return *this;
    }
    Query& bind(int index, std::string const& text) { return bind(index, std::string_view(text)); }
    Query& bind(int index, char const* text) { return bind(index, std::string_view(text)); }
    Query& bind(int index, int64_t number)
    {
        if (m_statement)
            m_statement->bind_integer(index, number);
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
            m_statement->bind_null(index);
        return *this;
    }

    /// code::row, code::done, or a failure code.
    int step()
    {
        if (!m_statement)
            return m_prepare_rc;
        return m_statement->step();
    }

    std::string text(int column) const { return m_statement->text(column); }
    std::optional<std::string> optional_text(int column) const
    {
        if (m_statement->is_null(column))
            return std::nullopt;
        return text(column);
    }
    int64_t integer(int column) const { return m_statement->integer(column); }
    std::optional<int64_t> optional_integer(int column) const
    {
        if (m_statement->is_null(column))
            return std::nullopt;
        return integer(column);
    }
    bool boolean(int column) const { return integer(column) != 0; }

private:
    Statement* m_statement;
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
    if (depth == 0)
        (void)connection->reconnect_if_lost();
    int rc = code::done;
    auto* statement = connection->statement(sql, rc);
    return Query(statement, rc);
}
template<typename Body>
Result<void> Store::Impl::atomically(Body&& body)
{
    bool const outermost = depth == 0;
    // A batch's inserts go in as few round trips as its reads allow; when one of them fails,
    // the batch runs again one statement at a time, which says which failed and why.
    if (outermost)
        hold_inserts = batching && backend() == Backend::postgres;
    for (int attempt = 1;; ++attempt) {
        auto result = attempt_atomically(body);
        if (!result && outermost && hold_inserts && connection->held_change_failed()) {
            hold_inserts = false;
            retryable = false;
            --attempt;
            continue;
        }
        // At the top level, a transaction that failed in a way running it again cures (a
        // serialization failure, a deadlock, a connection lost before COMMIT) runs again.
        if (result || !outermost || !retryable || attempt == transaction_attempts)
            return result;
        retryable = false;
        if (!connection->reconnect_if_lost())
            return result;
    }
}

template<typename Body>
Result<void> Store::Impl::attempt_atomically(Body& body)
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
