// The PostgreSQL connection: statements translated once and prepared on the server, writes
// serialized by one transaction-scoped advisory lock (what SQLite's single writer gave), its
// errors mapped to Charter's, and a connection lost between transactions made again on next use.
//
// Round trips are what a transaction costs on PostgreSQL (each is a wake-up of the server process
// and of ours), so commands whose answer nobody waits for are not sent on their own: BEGIN,
// SAVEPOINT, RELEASE and ROLLBACK TO are held back and sent in one pipeline (libpq's pipeline
// mode) with the next statement or the COMMIT, and a statement is prepared in the same pipeline
// as its first execution. A statement whose work is only a read costs one round trip, and the
// COMMIT of a read is sent without waiting for its answer (read before the connection's next
// use): a read of one statement is one round trip.

#include "postgres_connection.hpp"

#include "postgres_sql.hpp"

#include "charter/db/change_feed.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <strings.h>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace charter::db {

namespace {

// Every writing transaction takes this lock first, so writers run one at a time, as they do on
// SQLite: whatever a transaction reads before it writes stays true until it commits, and rows
// numbered by the database (audit ids, rowid) are numbered in commit order. "CHRT".
constexpr char const* sql_begin_write = "BEGIN ISOLATION LEVEL READ COMMITTED";
constexpr char const* sql_write_lock = "SELECT pg_advisory_xact_lock(1128813140)";
constexpr char const* sql_relax_commit = "SET LOCAL synchronous_commit = off";
constexpr char const* sql_begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ";
constexpr char const* sql_savepoint = "SAVEPOINT charter";
constexpr char const* sql_release = "RELEASE SAVEPOINT charter";
constexpr char const* sql_rollback_to = "ROLLBACK TO SAVEPOINT charter";

// A result that a statement and the connection's memory of reads (PostgresConnection::remember)
// may share.
using SharedResult = std::shared_ptr<PGresult>;
SharedResult shared_result(PGresult* result)
{
    return SharedResult(result, [](PGresult* r) { PQclear(r); });
}

struct ResultHandle {
    PGresult* result { nullptr };
    ResultHandle() = default;
    explicit ResultHandle(PGresult* r) : result(r) { }
    ResultHandle(ResultHandle const&) = delete;
    ResultHandle& operator=(ResultHandle const&) = delete;
    ~ResultHandle() { reset(); }
    void reset(PGresult* next = nullptr)
    {
        if (result)
            PQclear(result);
        result = next;
    }
};

std::string first_line(char const* message)
{
    std::string text = message ? message : "";
    if (auto end = text.find('\n'); end != std::string::npos)
        text.resize(end);
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '.'))
        text.pop_back();
    if (text.rfind("ERROR:  ", 0) == 0)
        text.erase(0, 8);
    if (text.rfind("FATAL:  ", 0) == 0)
        text.erase(0, 8);
    return text;
}

bool succeeded_result(PGresult const* result)
{
    auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

// One command of a pipeline: SQL without parameters (a transaction command), the preparing of
// a statement, or the execution of a prepared one.
struct Command {
    enum class Kind { text, prepare, execute };
    Kind kind;
    char const* text;                      // text, prepare: the SQL; execute: the statement's name
    char const* name { nullptr };          // prepare: the statement's name
    int count { 0 };                       // the parameters (prepare: their types, execute: values)
    unsigned const* types { nullptr };     // Oid
    char const* const* values { nullptr };
};

// The results of a pipeline's commands, in order (null where none came).
struct Replies {
    std::vector<PGresult*> results;
    // The command that failed first, among the caller's (-1: one of those held back); only when
    // the exchange failed.
    int failed { -1 };
    Replies() = default;
    Replies(Replies const&) = delete;
    Replies& operator=(Replies const&) = delete;
    ~Replies()
    {
        for (auto* result : results) {
            if (result)
                PQclear(result);
        }
    }
    bool ok(size_t index) const { return index < results.size() && succeeded_result(results[index]); }
    PGresult* take(size_t index) { return std::exchange(results[index], nullptr); }
};

class PostgresConnection;

class PostgresStatement final : public Statement {
public:
    PostgresStatement(PostgresConnection& connection, std::string name, std::string sql)
        : m_connection(connection)
        , m_name(std::move(name))
        , m_sql(std::move(sql))
    {
        size_t start = 0;
        while (start < m_sql.size() && std::isspace(static_cast<unsigned char>(m_sql[start])))
            ++start;
        for (char const* verb : { "INSERT", "UPDATE", "DELETE" }) {
            if (strncasecmp(m_sql.c_str() + start, verb, 6) == 0)
                m_writes = true;
        }
        // An INSERT of one row of values changes one row or fails: what it did is known
        // before it ran (Connection::hold_inserts).
        std::string upper = m_sql;
        for (auto& c : upper)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        // A read whose answer depends only on the database's rows (no sequence moved, no lock
        // taken) may be answered from memory (ChangeFeed); the schema's version never is: it is
        // what the health check asks the database (GET /healthz).
        m_rememberable = upper.compare(start, 6, "SELECT") == 0 && upper.find("VAL(") == std::string::npos
            && upper.find(" FOR UPDATE") == std::string::npos && upper.find(" FOR SHARE") == std::string::npos
            && upper.find("PG_") == std::string::npos && upper.find("SCHEMA_VERSION") == std::string::npos;
        m_one_row_insert = upper.compare(start, 6, "INSERT") == 0 && upper.find(" VALUES") != std::string::npos
            && upper.find("ON CONFLICT") == std::string::npos && upper.find("RETURNING") == std::string::npos
            && upper.find("SELECT") == std::string::npos;
        // Parameters the statement binds but does not use ($5 of a count that shares its filter
        // with a listing) have no type PostgreSQL could infer: declare them text.
        std::vector<bool> used;
        for (size_t i = 0; i + 1 < m_sql.size(); ++i) {
            if (m_sql[i] != '$' || !std::isdigit(static_cast<unsigned char>(m_sql[i + 1])))
                continue;
            auto number = static_cast<size_t>(std::strtoul(m_sql.c_str() + i + 1, nullptr, 10));
            if (number > used.size())
                used.resize(number, false);
            used[number - 1] = true;
        }
        m_types.resize(used.size(), 0);
        for (size_t i = 0; i < used.size(); ++i)
            m_types[i] = used[i] ? 0 : 25; // 25: text
    }

    void bind_text(int index, std::string_view text) override { slot(index) = std::string(text); }
    void bind_integer(int index, int64_t number) override { slot(index) = std::to_string(number); }
    void bind_null(int index) override { slot(index).reset(); }
    int step() override;
    void reset() override
    {
        m_result.reset();
        m_parameters.clear();
        m_row = -1;
    }
    bool is_null(int column) const override { return PQgetisnull(m_result.get(), m_row, column) != 0; }
    std::string text(int column) const override
    {
        return std::string(PQgetvalue(m_result.get(), m_row, column), static_cast<size_t>(PQgetlength(m_result.get(), m_row, column)));
    }
    int64_t integer(int column) const override
    {
        char const* value = PQgetvalue(m_result.get(), m_row, column);
        // Comparisons and EXISTS are booleans in PostgreSQL, integers in SQLite.
        if (value[0] == 't' && value[1] == '\0')
            return 1;
        if (value[0] == 'f' && value[1] == '\0')
            return 0;
        return std::strtoll(value, nullptr, 10);
    }

    int first_row();

    uint64_t prepared_in { 0 }; // the connection's generation it was prepared in; 0: never
    std::string const& name() const { return m_name; }
    std::string const& sql() const { return m_sql; }
    std::vector<unsigned> const& types() const { return m_types; }

private:
    std::optional<std::string>& slot(int index)
    {
        if (static_cast<size_t>(index) > m_parameters.size())
            m_parameters.resize(static_cast<size_t>(index));
        return m_parameters[static_cast<size_t>(index - 1)];
    }

    PostgresConnection& m_connection;
    std::string m_name;
    std::string m_sql;
    std::vector<std::optional<std::string>> m_parameters;
    std::vector<unsigned> m_types; // Oid
    bool m_writes { false };
    bool m_one_row_insert { false };
    bool m_rememberable { false };
    SharedResult m_result;
    int m_row { -1 };
};

class PostgresConnection final : public Connection {
public:
    PostgresConnection(PGconn* connection, std::string url, std::string name)
        : m_connection(connection)
        , m_url(std::move(url))
        , m_name(std::move(name))
    {
    }
    ~PostgresConnection() override
    {
        m_statements.clear();
        PQfinish(m_connection);
    }

    Backend backend() const override { return Backend::postgres; }
    std::string const& name() const override { return m_name; }
    void use_change_feed(std::shared_ptr<ChangeFeed> feed) override
    {
        m_feed = std::move(feed);
        m_remembered.clear();
    }

    // The state of the database (ChangeFeed::generation) under which a read may be answered
    // from memory now; 0: it may not (no feed, the feed is not listening, or a writing
    // transaction is open, whose reads see its own changes and decide what it writes).
    uint64_t readable_state()
    {
        if (!m_feed || (in_transaction() && !m_reading))
            return 0;
        return m_feed->generation();
    }
    // What the read `key` answered under `state`, if it was remembered then.
    SharedResult recall(std::string const& key, uint64_t state)
    {
        if (state != m_remembered_state) {
            m_remembered.clear();
            m_remembered_state = state;
        }
        auto found = m_remembered.find(key);
        m_feed->count(found != m_remembered.end());
        return found == m_remembered.end() ? nullptr : found->second;
    }
    void remember(std::string const& key, uint64_t state, SharedResult const& result)
    {
        // Only the answers of the lookups requests repeat (a license, a credential, the
        // releases' generation): a listing is read once per change, and would only take memory.
        if (state != m_remembered_state || PQntuples(result.get()) > max_remembered_rows)
            return;
        if (m_remembered.size() >= max_remembered_reads)
            m_remembered.clear();
        m_remembered.emplace(key, result);
    }
    // A change was sent: this transaction (or this statement, outside one) changed the database.
    void wrote()
    {
        if (!m_feed)
            return;
        if (in_transaction())
            m_wrote = true;
        else
            m_feed->changed();
    }

    Statement* statement(char const* sql, int& rc) override
    {
        (void)rc;
        if (auto found = m_statements.find(sql); found != m_statements.end())
            return found->second.get();
        auto name = "charter" + std::to_string(m_statements.size() + 1);
        return m_statements.emplace(sql, std::make_unique<PostgresStatement>(*this, name, postgres_statement(sql))).first->second.get();
    }

    std::unique_ptr<Statement> prepare_once(std::string const& sql, int& rc) override
    {
        (void)rc;
        return std::make_unique<PostgresStatement>(*this, "charter_once" + std::to_string(++m_once), postgres_statement(sql));
    }
    int execute(std::string const& sql) override
    {
        // Several statements in one text (a migration step): the simple protocol, after
        // whatever was held back.
        if (int rc = flush(); rc != code::done)
            return rc;
        drain();
        ResultHandle result(PQexec(m_connection, sql.c_str()));
        if (!succeeded_result(result.result))
            return failed(result.result);
        succeeded(result.result);
        wrote();
        return code::done;
    }
    int64_t changes() const override { return m_changes; }
    // BEGIN (and the writers' lock) goes with the transaction's first statement.
    int begin(bool write) override
    {
        m_retry_cures = false;
        m_commit_failed = false;
        m_wrote = false;
        m_holding = false;
        m_hold_inserts = false;
        m_held_change_failed = false;
        m_held.clear();
        m_held.push_back(Held { write ? sql_begin_write : sql_begin_read });
        m_reading = !write;
        if (write && std::exchange(m_relax_next, false))
            m_held.push_back(Held { sql_relax_commit });
        if (write)
            m_held.push_back(Held { sql_write_lock });
        m_begin_held = true;
        return code::done;
    }
    // The commit is then acknowledged before its WAL record is flushed: it survives a crash of
    // charter-server, not one of PostgreSQL's machine (which loses at most the last fraction
    // of a second of such commits, never a durable one). LOCAL: for that transaction only.
    int relax_next_commit() override
    {
        m_relax_next = true;
        return code::done;
    }
    int commit() override
    {
        // Whether it committed or not, what this process remembered may be stale now. A change
        // committed is reported once the feed has heard it (ChangeFeed::await_notification_after).
        bool const notifies = std::exchange(m_wrote, false) && m_feed;
        uint64_t const heard = notifies ? m_feed->heard() : 0;
        struct Changed {
            PostgresConnection& connection;
            bool notifies;
            uint64_t heard;
            bool committed { false };
            ~Changed()
            {
                if (!notifies)
                    return;
                connection.m_feed->changed();
                if (committed)
                    connection.m_feed->await_notification_after(heard, std::chrono::milliseconds(100));
            }
        } changed { *this, notifies, heard };
        m_holding = false;
        m_hold_inserts = false;
        if (m_begin_held && !holds_changes()) {
            // Nothing was sent: there is nothing to commit.
            m_held.clear();
            m_begin_held = false;
            return code::done;
        }
        if (m_reading && m_held.empty()) {
            // Nothing was written: nobody needs to wait for the end of the snapshot.
            m_reading = false;
            bool const sent = PQenterPipelineMode(m_connection) == 1
                && PQsendQueryParams(m_connection, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1
                && PQpipelineSync(m_connection) == 1;
            m_unread = sent;
            if (!sent) {
                (void)PQexitPipelineMode(m_connection);
                return run("COMMIT");
            }
            return code::done;
        }
        m_reading = false;
        // A transaction lost before its COMMIT was sent may run again (last_failure_retryable),
        // so the COMMIT does not go in the pipeline of the BEGIN: the lost connection is found
        // first.
        if (m_begin_held) {
            if (int rc = flush(); rc != code::done)
                return rc;
        }
        int rc = run("COMMIT");
        // A COMMIT in a failed transaction is a ROLLBACK (PostgreSQL answers "ROLLBACK").
        if (rc == code::done && m_last_status == "ROLLBACK") {
            m_sqlstate = "40000";
            m_message = "the transaction was rolled back";
            return code::failed;
        }
        if (rc != code::done)
            m_commit_failed = true;
        changed.committed = rc == code::done;
        return rc;
    }
    int rollback() override
    {
        m_wrote = false;
        bool const sent = !m_begin_held;
        m_reading = false;
        m_holding = false;
        m_hold_inserts = false;
        m_held.clear();
        m_begin_held = false;
        return sent && in_transaction() ? run("ROLLBACK") : code::done;
    }
    // A savepoint with nothing done in it costs nothing: RELEASE or ROLLBACK TO cancels it.
    int savepoint() override
    {
        m_held.push_back(Held { sql_savepoint });
        return code::done;
    }
    int release_savepoint() override
    {
        if (!m_held.empty() && m_held.back().text == sql_savepoint)
            m_held.pop_back();
        else
            m_held.push_back(Held { sql_release });
        return code::done;
    }
    int rollback_to_savepoint() override
    {
        if (m_held.empty() || m_held.back().text != sql_savepoint)
            m_held.push_back(Held { sql_rollback_to });
        return code::done;
    }
    void hold_changes() override { m_holding = true; }
    int send_changes() override
    {
        m_holding = false;
        // Held for the whole transaction: they go with its next read or its COMMIT.
        if (m_hold_inserts || !holds_changes())
            return code::done;
        Replies replies;
        return exchange({}, replies);
    }
    void hold_inserts() override { m_hold_inserts = true; }
    bool held_change_failed() const override { return m_held_change_failed; }
    // Whether `statement`'s execution is queued rather than sent (for a change: hold_changes,
    // or hold_inserts and an INSERT of one row of values).
    bool queues(bool change, bool one_row_insert) const { return change && (m_holding || (m_hold_inserts && one_row_insert)); }
    void queue(PostgresStatement& statement, std::vector<std::optional<std::string>> const& parameters)
    {
        m_held.push_back(Held { nullptr, &statement, parameters });
        m_changes = 1;
        wrote();
    }
    bool holds_changes() const
    {
        return std::any_of(m_held.begin(), m_held.end(), [](Held const& held) { return held.statement != nullptr; });
    }
    bool in_transaction() const override
    {
        if (m_begin_held)
            return true;
        if (m_unread)
            return false; // a read's COMMIT is on its way
        auto status = PQtransactionStatus(m_connection);
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
    }

    Error error(int rc) const override;
    std::string last_message() const override { return m_message; }
    bool last_failure_retryable() const override
    {
        if (m_retry_cures)
            return true;
        // Lost before COMMIT was sent: the server rolled the transaction back. Lost during
        // COMMIT: nobody knows whether it committed, so it must not run twice.
        return lost() && !m_commit_failed;
    }
    bool reconnect_if_lost() override
    {
        m_commit_failed = false;
        if (!lost())
            return true;
        m_held.clear();
        m_begin_held = false;
        m_holding = false;
        m_hold_inserts = false;
        m_unread = false;
        // The database may have failed over: the feed's connection may be as dead, silently.
        if (m_feed)
            m_feed->reconnect();
        PQreset(m_connection);
        if (PQstatus(m_connection) != CONNECTION_OK) {
            m_sqlstate = "08006";
            m_message = first_line(PQerrorMessage(m_connection));
            return false;
        }
        ++m_generation; // prepared statements died with the old session
        return true;
    }

    // Used by the statements.
    PGconn* handle() const { return m_connection; }
    uint64_t generation() const { return m_generation; }
    bool lost() const { return PQstatus(m_connection) != CONNECTION_OK; }
    int exchange(std::vector<Command> const& commands, Replies& replies);
    // Reads the answer to a read's COMMIT sent without waiting (commit()), if one is due.
    void drain()
    {
        if (!m_unread)
            return;
        m_unread = false;
        // The COMMIT's result, the null that ends it, then the sync point.
        for (int nulls = 0; nulls < 2 && PQstatus(m_connection) == CONNECTION_OK;) {
            PGresult* result = PQgetResult(m_connection);
            if (!result) {
                ++nulls;
                continue;
            }
            bool const end = PQresultStatus(result) == PGRES_PIPELINE_SYNC;
            PQclear(result);
            if (end)
                break;
        }
        (void)PQexitPipelineMode(m_connection);
    }
    int failed(PGresult const* result)
    {
        m_last_status.clear();
        if (result) {
            char const* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
            m_sqlstate = state ? state : "";
            char const* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
            m_constraint = constraint ? constraint : "";
            m_message = first_line(PQresultErrorMessage(result));
        } else {
            m_sqlstate.clear();
            m_constraint.clear();
            m_message = first_line(PQerrorMessage(m_connection));
        }
        if (m_message.empty())
            m_message = first_line(PQerrorMessage(m_connection));
        if (lost() && m_sqlstate.empty())
            m_sqlstate = "08006";
        if (m_sqlstate == "40001" || m_sqlstate == "40P01")
            m_retry_cures = true;
        if (m_sqlstate == "23505")
            return m_constraint.size() > 5 && m_constraint.compare(m_constraint.size() - 5, 5, "_pkey") == 0
                ? code::primary_key_violation
                : code::unique_violation;
        if (m_sqlstate == "23503")
            return code::foreign_key_violation;
        return code::failed;
    }
    int refuse_nul()
    {
        m_sqlstate = "22021"; // character_not_in_repertoire, as PostgreSQL answers a NUL it is sent
        m_constraint.clear();
        m_message = "text holds a NUL byte, which PostgreSQL cannot store; remove it";
        return code::failed;
    }
    void succeeded(PGresult const* result)
    {
        m_sqlstate.clear();
        char const* tuples = PQcmdTuples(const_cast<PGresult*>(result));
        m_changes = tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0;
        char const* status = PQcmdStatus(const_cast<PGresult*>(result));
        m_last_status = status ? status : "";
    }

private:
    int run(char const* sql)
    {
        Replies replies;
        if (int rc = exchange({ Command { Command::Kind::text, sql } }, replies); rc != code::done)
            return rc;
        succeeded(replies.results[0]);
        return code::done;
    }
    int flush()
    {
        if (m_held.empty())
            return code::done;
        Replies replies;
        return exchange({}, replies);
    }

    PGconn* m_connection;
    std::string m_url;
    std::string m_name;
    std::unordered_map<char const*, std::unique_ptr<PostgresStatement>> m_statements;
    uint64_t m_generation { 1 };
    uint64_t m_once { 0 };
    int64_t m_changes { 0 };
    std::string m_sqlstate;
    std::string m_constraint;
    std::string m_message;
    std::string m_last_status;
    // What was held back, in order: transaction commands (one of the constants above) and
    // queued changes (hold_changes, hold_inserts) with copies of their parameters. They go
    // first in the next pipeline.
    struct Held {
        char const* text { nullptr };
        PostgresStatement* statement { nullptr };
        std::vector<std::optional<std::string>> parameters {};
    };
    std::vector<Held> m_held;
    bool m_begin_held { false };    // the transaction's BEGIN is among them
    bool m_holding { false };       // hold_changes()
    bool m_hold_inserts { false };  // hold_inserts()
    bool m_held_change_failed { false };
    bool m_reading { false }; // the transaction is a read (begin(false))
    bool m_unread { false };  // a read's COMMIT was sent and its answer not read yet
    bool m_commit_failed { false };
    bool m_relax_next { false };
    // Reads answered from memory (use_change_feed): the feed, the state the remembered answers
    // belong to, the answers by statement and parameters; whether the open transaction wrote.
    static constexpr size_t max_remembered_reads = 1024;
    static constexpr int max_remembered_rows = 16;
    std::shared_ptr<ChangeFeed> m_feed;
    uint64_t m_remembered_state { 0 };
    std::unordered_map<std::string, SharedResult> m_remembered;
    bool m_wrote { false };
    // A serialization failure or deadlock happened in this transaction (sticky: the statements
    // that roll back to a savepoint afterwards succeed).
    bool m_retry_cures { false };
};

// The held-back commands and `commands` in one pipeline, and all their results: one round trip.
// After the first failure PostgreSQL skips the rest of the pipeline (each answered "aborted").
int PostgresConnection::exchange(std::vector<Command> const& commands, Replies& replies)
{
    // The held-back commands first, each queued change prepared in the pipeline if needed.
    auto held_back = std::move(m_held);
    m_held.clear();
    m_begin_held = false;
    std::vector<Command> all;
    std::vector<std::vector<char const*>> values;
    values.reserve(held_back.size());
    std::vector<std::pair<PostgresStatement*, size_t>> prepares; // and the command's index
    for (auto const& item : held_back) {
        if (item.text) {
            all.push_back(Command { Command::Kind::text, item.text });
            continue;
        }
        auto& statement = *item.statement;
        auto const& types = statement.types();
        bool const prepared = statement.prepared_in == m_generation
            || std::any_of(prepares.begin(), prepares.end(), [&](auto const& entry) { return entry.first == &statement; });
        if (!prepared) {
            prepares.emplace_back(&statement, all.size());
            all.push_back(Command { Command::Kind::prepare, statement.sql().c_str(), statement.name().c_str(),
                static_cast<int>(types.size()), types.empty() ? nullptr : types.data() });
        }
        auto& bound = values.emplace_back(std::max(item.parameters.size(), types.size()), nullptr);
        for (size_t j = 0; j < item.parameters.size(); ++j)
            bound[j] = item.parameters[j] ? item.parameters[j]->c_str() : nullptr;
        all.push_back(Command { Command::Kind::execute, statement.name().c_str(), nullptr, static_cast<int>(bound.size()),
            nullptr, bound.data() });
    }
    size_t const held = all.size();
    all.insert(all.end(), commands.begin(), commands.end());

    drain();
    auto* connection = m_connection;
    bool sent = PQenterPipelineMode(connection) == 1;
    for (size_t i = 0; sent && i < all.size(); ++i) {
        auto const& command = all[i];
        switch (command.kind) {
        case Command::Kind::text:
            sent = PQsendQueryParams(connection, command.text, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
            break;
        case Command::Kind::prepare:
            sent = PQsendPrepare(connection, command.name, command.text, command.count, command.types) == 1;
            break;
        case Command::Kind::execute:
            sent = PQsendQueryPrepared(connection, command.text, command.count, command.values, nullptr, nullptr, 0) == 1;
            break;
        }
    }
    sent = sent && PQpipelineSync(connection) == 1;
    // Each command's result is followed by a null; the sync point ends the pipeline.
    std::vector<PGresult*> results(all.size(), nullptr);
    size_t index = 0;
    while (sent) {
        PGresult* result = PQgetResult(connection);
        if (!result) {
            if (PQstatus(connection) != CONNECTION_OK)
                break;
            ++index;
            continue;
        }
        if (PQresultStatus(result) == PGRES_PIPELINE_SYNC) {
            PQclear(result);
            break;
        }
        if (index < results.size() && !results[index])
            results[index] = result;
        else
            PQclear(result);
    }
    (void)PQexitPipelineMode(connection);
    // The first failure that is not "aborted" (the failures after it are).
    std::optional<size_t> failure;
    for (size_t i = 0; i < results.size() && !failure; ++i) {
        if (!succeeded_result(results[i]) && !(results[i] && PQresultStatus(results[i]) == PGRES_PIPELINE_ABORTED))
            failure = i;
    }
    for (size_t i = 0; i < results.size() && !failure; ++i) {
        if (!succeeded_result(results[i]))
            failure = i;
    }
    for (auto const& [statement, index] : prepares) {
        if (succeeded_result(results[index]))
            statement->prepared_in = m_generation;
    }
    int rc = failure ? failed(results[*failure]) : code::done;
    replies.failed = failure && *failure >= held ? static_cast<int>(*failure - held) : -1;
    // A queued change failed (or could not be prepared): whoever sees it cannot tell which.
    if (failure && *failure < held && all[*failure].kind != Command::Kind::text)
        m_held_change_failed = true;
    for (size_t i = 0; i < held; ++i) {
        if (results[i])
            PQclear(results[i]);
    }
    replies.results.assign(results.begin() + static_cast<std::ptrdiff_t>(held), results.end());
    return rc;
}

int PostgresStatement::step()
{
    if (m_row >= 0 || m_result) {
        if (m_row + 1 < PQntuples(m_result.get())) {
            ++m_row;
            return code::row;
        }
        return code::done;
    }
    // libpq sends text up to its first NUL byte: refused, never cut (PostgreSQL's text holds no NUL).
    for (auto const& parameter : m_parameters) {
        if (parameter && parameter->find('\0') != std::string::npos)
            return m_connection.refuse_nul();
    }
    if (m_connection.queues(m_writes, m_one_row_insert)) {
        m_connection.queue(*this, m_parameters);
        return code::done;
    }
    // A read outside a writing transaction that the same state of the database answered before
    // is answered from memory (ChangeFeed); `state` is taken before asking, so that a change
    // committed meanwhile makes the answer stale at once.
    uint64_t const state = m_rememberable ? m_connection.readable_state() : 0;
    std::string remembered_as;
    if (state) {
        remembered_as = m_name;
        for (auto const& parameter : m_parameters) {
            remembered_as += parameter ? "," + std::to_string(parameter->size()) + ":" + *parameter : std::string(",null");
        }
        if (auto known = m_connection.recall(remembered_as, state)) {
            m_result = std::move(known);
            return first_row();
        }
    }
    std::vector<char const*> values(std::max(m_parameters.size(), m_types.size()), nullptr);
    for (size_t i = 0; i < m_parameters.size(); ++i)
        values[i] = m_parameters[i] ? m_parameters[i]->c_str() : nullptr;
    // Inside a transaction, a failed change must leave the transaction as it was (as in
    // SQLite), not aborted: PostgreSQL refuses every later statement of a transaction after a
    // failed one, so a change runs inside its own savepoint, made and released in the same
    // pipeline; only a failed change costs a second round trip, to roll back to it.
    bool const guarded = m_writes && m_connection.in_transaction();
    std::vector<Command> commands;
    bool const prepare = prepared_in != m_connection.generation();
    if (prepare)
        commands.push_back(Command { Command::Kind::prepare, m_sql.c_str(), m_name.c_str(), static_cast<int>(m_types.size()), m_types.empty() ? nullptr : m_types.data() });
    if (guarded)
        commands.push_back(Command { Command::Kind::text, "SAVEPOINT charter_statement" });
    size_t const at = commands.size();
    commands.push_back(Command { Command::Kind::execute, m_name.c_str(), nullptr, static_cast<int>(values.size()), nullptr, values.data() });
    if (guarded)
        commands.push_back(Command { Command::Kind::text, "RELEASE SAVEPOINT charter_statement" });
    Replies replies;
    int rc = m_connection.exchange(commands, replies);
    if (prepare && replies.ok(0))
        prepared_in = m_connection.generation();
    if (rc != code::done) {
        // The savepoint was made before the failure: undo the change.
        if (guarded && replies.failed >= static_cast<int>(at) && !m_connection.lost())
            ResultHandle undone(PQexec(m_connection.handle(), "ROLLBACK TO SAVEPOINT charter_statement; RELEASE SAVEPOINT charter_statement"));
        return rc;
    }
    m_result = shared_result(replies.take(at));
    if (m_writes)
        m_connection.wrote();
    if (state)
        m_connection.remember(remembered_as, state, m_result);
    return first_row();
}

int PostgresStatement::first_row()
{
    m_connection.succeeded(m_result.get());
    m_row = -1;
    if (PQntuples(m_result.get()) > 0) {
        m_row = 0;
        return code::row;
    }
    return code::done;
}

Error PostgresConnection::error(int rc) const
{
    (void)rc;
    std::string const& state = m_sqlstate;
    auto in = [&](char const* prefix) { return state.rfind(prefix, 0) == 0; };
    if (lost() || in("08") || state == "57P01" || state == "57P02" || state == "57P03")
        return make_error(ErrorKind::io,
            "lost the connection to the database " + m_name + " (" + m_message + "); nothing was changed; check that PostgreSQL is running, then try again");
    if (state == "40001" || state == "40P01")
        return make_error(ErrorKind::io,
            "the database " + m_name + " could not serialize this change with concurrent ones (" + m_message + "); nothing was changed; try again");
    if (state == "53100")
        return make_error(ErrorKind::disk_full, "disk full on the database server of " + m_name + "; nothing was changed; free some space and try again");
    if (state == "23505")
        return make_error(ErrorKind::conflict, "already exists (" + m_message + ")");
    if (state == "23503")
        return make_error(ErrorKind::not_found, "refers to something that does not exist (" + m_message + ")");
    if (in("23") || state == "22021")
        return make_error(ErrorKind::invalid_input, "rejected by database " + m_name + " (" + m_message + ")");
    if (state == "25006" || state == "42501")
        return make_error(ErrorKind::io, "database " + m_name + " refuses this change (" + m_message + "); nothing was changed; charter needs a role that may write");
    if (in("53") || in("54") || in("58") || state == "57014")
        return make_error(ErrorKind::io, "database " + m_name + " failed (" + m_message + "); nothing was changed");
    return make_error(ErrorKind::internal, "database " + m_name + ": " + m_message + " (sqlstate " + state + ")");
}

}

bool is_postgres_url(std::string_view location)
{
    return location.rfind("postgres://", 0) == 0 || location.rfind("postgresql://", 0) == 0;
}

std::string url_without_password(std::string const& url)
{
    char* failure = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &failure);
    if (!options) {
        PQfreemem(failure);
        return "(an unreadable PostgreSQL URL)";
    }
    std::string user, host, port, database;
    for (auto* option = options; option->keyword; ++option) {
        if (!option->val)
            continue;
        std::string_view keyword = option->keyword;
        if (keyword == "user")
            user = option->val;
        else if (keyword == "host")
            host = option->val;
        else if (keyword == "port")
            port = option->val;
        else if (keyword == "dbname")
            database = option->val;
    }
    PQconninfoFree(options);
    std::string name = "postgresql://";
    if (!user.empty())
        name += user + "@";
    if (!host.empty() && host[0] != '/')
        name += host;
    if (!port.empty())
        name += ":" + port;
    name += "/" + database;
    if (!host.empty() && host[0] == '/')
        name += "?host=" + host;
    return name;
}

Result<std::unique_ptr<Connection>> connect_postgres(std::string const& url)
{
    auto name = url_without_password(url);
    char* failure = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &failure);
    if (!options) {
        std::string why = first_line(failure);
        PQfreemem(failure);
        return make_error(ErrorKind::invalid_input, "the database URL is not a PostgreSQL URL libpq can read (" + why + "); write it as postgres://USER@HOST:PORT/DATABASE");
    }
    PQconninfoFree(options);
    PGconn* connection = PQconnectdb(url.c_str());
    if (!connection)
        return make_error(ErrorKind::internal, "out of memory while connecting to " + name);
    if (PQstatus(connection) != CONNECTION_OK) {
        std::string why = first_line(PQerrorMessage(connection));
        PQfinish(connection);
        return make_error(ErrorKind::io, "cannot connect to the database " + name + " (" + why + "); check the URL, the password (in the URL, PGPASSFILE or PGPASSWORD) and that PostgreSQL is running");
    }
    // Warnings and notices (an existing object skipped) are not for the operator's terminal.
    PQsetNoticeProcessor(connection, [](void*, char const*) { }, nullptr);
    return std::unique_ptr<Connection>(new PostgresConnection(connection, url, name));
}

}
