// The PostgreSQL connection: statements translated once and prepared on the server, writes
// serialized by one transaction-scoped advisory lock (what SQLite's single writer gave), its
// errors mapped to Charter's, and a connection lost between transactions made again on next use.

#include "postgres_connection.hpp"

#include "postgres_sql.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <strings.h>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <vector>

namespace charter::db {

namespace {

// Every writing transaction takes this lock first, so writers run one at a time, as they do on
// SQLite: whatever a transaction reads before it writes stays true until it commits, and rows
// numbered by the database (audit ids, rowid) are numbered in commit order. "CHRT".
constexpr char const* sql_begin_write = "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(1128813140)";
constexpr char const* sql_begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ";

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
    bool is_null(int column) const override { return PQgetisnull(m_result.result, m_row, column) != 0; }
    std::string text(int column) const override
    {
        return std::string(PQgetvalue(m_result.result, m_row, column), static_cast<size_t>(PQgetlength(m_result.result, m_row, column)));
    }
    int64_t integer(int column) const override
    {
        char const* value = PQgetvalue(m_result.result, m_row, column);
        // Comparisons and EXISTS are booleans in PostgreSQL, integers in SQLite.
        if (value[0] == 't' && value[1] == '\0')
            return 1;
        if (value[0] == 'f' && value[1] == '\0')
            return 0;
        return std::strtoll(value, nullptr, 10);
    }

    uint64_t prepared_in { 0 }; // the connection's generation it was prepared in; 0: never

private:
    int execute(std::vector<char const*> const& values);
    int execute_guarded(std::vector<char const*> const& values);

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
    ResultHandle m_result;
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
    int execute(std::string const& sql) override { return run(sql.c_str()); }
    int64_t changes() const override { return m_changes; }
    int begin(bool write) override
    {
        m_retry_cures = false;
        m_commit_failed = false;
        return run(write ? sql_begin_write : sql_begin_read);
    }
    int commit() override
    {
        int rc = run("COMMIT");
        // A COMMIT in a failed transaction is a ROLLBACK (PostgreSQL answers "ROLLBACK").
        if (rc == code::done && m_last_status == "ROLLBACK") {
            m_sqlstate = "40000";
            m_message = "the transaction was rolled back";
            return code::failed;
        }
        if (rc != code::done)
            m_commit_failed = true;
        return rc;
    }
    int rollback() override { return in_transaction() ? run("ROLLBACK") : code::done; }
    int savepoint() override { return run("SAVEPOINT charter"); }
    int release_savepoint() override { return run("RELEASE SAVEPOINT charter"); }
    int rollback_to_savepoint() override { return run("ROLLBACK TO SAVEPOINT charter"); }
    bool in_transaction() const override
    {
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
        ResultHandle result(PQexec(m_connection, sql));
        auto status = result.result ? PQresultStatus(result.result) : PGRES_FATAL_ERROR;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
            return failed(result.result);
        succeeded(result.result);
        return code::done;
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
    bool m_commit_failed { false };
    // A serialization failure or deadlock happened in this transaction (sticky: the statements
    // that roll back to a savepoint afterwards succeed).
    bool m_retry_cures { false };
};

int PostgresStatement::step()
{
    if (m_row >= 0 || m_result.result) {
        if (m_row + 1 < PQntuples(m_result.result)) {
            ++m_row;
            return code::row;
        }
        return code::done;
    }
    auto* connection = m_connection.handle();
    if (prepared_in != m_connection.generation()) {
        ResultHandle prepared(PQprepare(connection, m_name.c_str(), m_sql.c_str(), static_cast<int>(m_types.size()),
            m_types.empty() ? nullptr : m_types.data()));
        if (!prepared.result || PQresultStatus(prepared.result) != PGRES_COMMAND_OK)
            return m_connection.failed(prepared.result);
        prepared_in = m_connection.generation();
    }
    std::vector<char const*> values(std::max(m_parameters.size(), m_types.size()), nullptr);
    for (size_t i = 0; i < m_parameters.size(); ++i)
        values[i] = m_parameters[i] ? m_parameters[i]->c_str() : nullptr;
    // Inside a transaction, a failed change must leave the transaction as it was (as in
    // SQLite), not aborted: PostgreSQL refuses every later statement of a transaction after a
    // failed one, so a change runs inside its own savepoint.
    bool const guarded = m_writes && PQtransactionStatus(connection) == PQTRANS_INTRANS;
    int rc = guarded ? execute_guarded(values) : execute(values);
    if (rc != code::done)
        return rc;
    m_connection.succeeded(m_result.result);
    m_row = -1;
    if (PQntuples(m_result.result) > 0) {
        m_row = 0;
        return code::row;
    }
    return code::done;
}

int PostgresStatement::execute(std::vector<char const*> const& values)
{
    m_result.reset(PQexecPrepared(m_connection.handle(), m_name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0));
    auto status = m_result.result ? PQresultStatus(m_result.result) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        int rc = m_connection.failed(m_result.result);
        m_result.reset();
        return rc;
    }
    return code::done;
}

// SAVEPOINT, the change and RELEASE in one round trip (libpq's pipeline mode); only a failed
// change costs a second one, to roll back to the savepoint.
int PostgresStatement::execute_guarded(std::vector<char const*> const& values)
{
    auto* connection = m_connection.handle();
    if (PQenterPipelineMode(connection) != 1)
        return execute(values);
    bool sent = PQsendQueryParams(connection, "SAVEPOINT charter_statement", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1
        && PQsendQueryPrepared(connection, m_name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0) == 1
        && PQsendQueryParams(connection, "RELEASE SAVEPOINT charter_statement", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1
        && PQpipelineSync(connection) == 1;
    // The results: the savepoint's, the change's, the release's (each followed by a null), then
    // the sync point.
    ResultHandle results[3];
    size_t query = 0;
    bool lost = !sent;
    while (!lost) {
        PGresult* result = PQgetResult(connection);
        if (!result) {
            if (PQstatus(connection) != CONNECTION_OK) {
                lost = true;
                break;
            }
            if (query < 3)
                ++query;
            continue;
        }
        if (PQresultStatus(result) == PGRES_PIPELINE_SYNC) {
            PQclear(result);
            break;
        }
        if (query < 3 && !results[query].result)
            results[query].reset(result);
        else
            PQclear(result);
    }
    (void)PQexitPipelineMode(connection);
    auto ok = [](ResultHandle const& handle) {
        auto status = handle.result ? PQresultStatus(handle.result) : PGRES_FATAL_ERROR;
        return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    };
    if (!lost && ok(results[0]) && ok(results[1]) && ok(results[2])) {
        m_result.reset(std::exchange(results[1].result, nullptr));
        return code::done;
    }
    PGresult const* failure = !ok(results[0]) ? results[0].result : !ok(results[1]) ? results[1].result : results[2].result;
    int rc = m_connection.failed(failure);
    if (!lost && PQstatus(connection) == CONNECTION_OK && ok(results[0])) {
        ResultHandle undone(PQexec(connection, "ROLLBACK TO SAVEPOINT charter_statement; RELEASE SAVEPOINT charter_statement"));
    }
    return rc;
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
    if (in("23"))
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
