#pragma once
// The vendor fixture: a data directory made with the real CLI (product acme-pro, customer
// jane@example.com, an admin token), the CLI and sqlite3 run over it, and charter-server
// started on 127.0.0.1 with an ephemeral port and stopped by the test whatever happens
// (SIGTERM, then SIGKILL). Every child gets clean_env() (process.hpp): no CHARTER_* variable
// of the caller's leaks in. POSIX/Linux only.
//
// With CHARTER_TEST_DATABASE=postgres (a suite's NAME_postgres run), every data directory gets
// its own PostgreSQL database of this program's cluster (postgres.hpp), given to the CLI and the
// server as CHARTER_DATABASE_URL; sql() then runs psql on it, dump() pg_dump, and
// test_data_dir() and Vendor::open_store() open it in-process. A test that starts `charter` or
// charter-server itself passes its environment through database_env().

#include "child_process.hpp"
#include "postgres.hpp"
#include "process.hpp"
#include "test_support.hpp"

#include "charter/db/store.hpp"
#include "charter/keygen/ops/data_dir.hpp"
#include "charter/keygen/ops/workspace.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace charter::testing {

/// `env` for a child working on `data_dir`: on PostgreSQL, with CHARTER_DATABASE_URL naming the
/// data directory's database (unless `env` names one).
inline std::map<std::string, std::string> database_env(std::string const& data_dir, std::map<std::string, std::string> env)
{
    if (testing_postgres() && !env.count("CHARTER_DATABASE_URL"))
        env["CHARTER_DATABASE_URL"] = test_database(std::filesystem::path(data_dir) / "charter.db");
    return env;
}

/// The data directory's PostgreSQL database (for an in-process server's ServerConfig); none on SQLite.
inline std::optional<std::string> test_database_url(std::string const& data_dir)
{
    if (!testing_postgres())
        return std::nullopt;
    return test_database(std::filesystem::path(data_dir) / "charter.db");
}

/// The data directory as `charter` and charter-server open it (on PostgreSQL, with its
/// database's URL): for a test that works on it in-process.
inline ops::DataDir test_data_dir(std::string const& data_dir)
{
    return ops::DataDir(data_dir, test_database_url(data_dir));
}

/// `charter --data-dir DIR ARGS...`, with `env` set over the clean environment
/// (CHARTER_PASSPHRASE, CHARTER_NOW).
inline ProcessResult charter_cli(std::string const& data_dir, std::vector<std::string> args,
    std::map<std::string, std::string> const& env = {}, std::string const& input = {})
{
    args.insert(args.begin(), { CHARTER_CLI_PATH, "--data-dir", data_dir });
    return run_process(args, clean_env(database_env(data_dir, env)), input);
}

/// `sqlite3 DB SQL` (waiting up to 10 s for a lock), or psql on PostgreSQL: its stdout (columns
/// separated by |); throws when it fails.
inline std::string sql(std::string const& data_dir, std::string const& statement)
{
    if (testing_postgres()) {
        auto [status, output] = PostgresCluster::get().psql(test_database(std::filesystem::path(data_dir) / "charter.db"), statement);
        if (status != 0)
            throw std::runtime_error("psql failed: " + output);
        return output;
    }
    auto result = run_process({ "/usr/bin/sqlite3", "-cmd", ".timeout 10000", data_dir + "/charter.db", statement });
    if (result.exit_code != 0)
        throw std::runtime_error("sqlite3 failed: " + result.err);
    return result.out;
}

/// The whole database as SQL text (sqlite3 .dump, or pg_dump): to check what is stored anywhere.
inline std::string dump(std::string const& data_dir)
{
    if (testing_postgres())
        return PostgresCluster::get().dump(test_database(std::filesystem::path(data_dir) / "charter.db"));
    auto result = run_process({ "/usr/bin/sqlite3", "-cmd", ".timeout 10000", data_dir + "/charter.db", ".dump" });
    if (result.exit_code != 0)
        throw std::runtime_error("sqlite3 failed: " + result.err);
    return result.out;
}

/// "ok\n" when the database is whole: SQLite's PRAGMA integrity_check; on PostgreSQL (which
/// has no such check and recovers from a crash by itself) every table read to its end.
inline std::string integrity_check(std::string const& data_dir)
{
    if (!testing_postgres())
        return sql(data_dir, "PRAGMA integrity_check");
    sql(data_dir, "DO $$ DECLARE t text; BEGIN FOR t IN SELECT table_name FROM information_schema.tables"
                  " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' LOOP"
                  " EXECUTE format('SELECT count(*) FROM (SELECT * FROM %I) AS every_row', t); END LOOP; END $$;");
    return "ok\n";
}

/// A data directory with product acme-pro, customer jane@example.com and an admin token
/// (returned); the first signing key is wrapped when `env` has CHARTER_PASSPHRASE.
inline std::string make_vendor(std::string const& data_dir, std::map<std::string, std::string> const& env = {})
{
    for (auto const& args : std::vector<std::vector<std::string>> { { "init", "--issuer", "Acme Inc." },
             { "product", "add", "acme-pro", "--name", "Acme Pro" }, { "customer", "add", "--email", "jane@example.com", "--name", "Jane Doe" } }) {
        auto result = charter_cli(data_dir, args, env);
        if (result.exit_code != 0)
            throw std::runtime_error("charter " + args[0] + " failed: " + result.err);
    }
    auto token = charter_cli(data_dir, { "token", "create", "--scope", "admin" }, env);
    if (token.exit_code != 0)
        throw std::runtime_error("charter token create failed: " + token.err);
    return trimmed(token.out);
}

struct Issued {
    std::string id;
    std::string key;
};

/// A vendor in a fresh folder: make_vendor's data directory, the CLI over it with `env` set
/// over the clean environment (CHARTER_NOW, for one).
struct Vendor {
    TempDir temp;
    std::string data_dir = temp / "data";
    std::map<std::string, std::string> env;
    std::string admin_token;
    std::string customer; // jane@example.com's id

    explicit Vendor(std::map<std::string, std::string> cli_env = {})
        : env(std::move(cli_env))
        , admin_token(make_vendor(data_dir, env))
        , customer(nlohmann::json::parse(cli({ "customer", "show", "jane@example.com", "--json" }).out).at("id"))
    {
    }

    /// `charter ARGS`, whatever its exit code.
    ProcessResult run(std::vector<std::string> args, std::string const& input = {}) const
    {
        return charter_cli(data_dir, std::move(args), env, input);
    }

    /// `charter ARGS`, which must succeed.
    ProcessResult cli(std::vector<std::string> args) const
    {
        auto result = run(args);
        INFO("charter " << args[0] << ": " << result.err);
        REQUIRE(result.exit_code == 0);
        return result;
    }

    std::string token(std::string const& scopes) const { return trimmed(cli({ "token", "create", "--scope", scopes }).out); }

    Issued issue(std::string const& product, std::vector<std::string> extra = {}) const
    {
        std::vector<std::string> args { "issue", "--json", "--product", product, "--customer", "jane@example.com" };
        args.insert(args.end(), extra.begin(), extra.end());
        auto json = nlohmann::json::parse(cli(args).out);
        return { json["id"], json["key"] };
    }

    std::set<std::string> license_ids() const
    {
        std::set<std::string> ids;
        for (auto const& license : nlohmann::json::parse(cli({ "list", "--json" }).out))
            ids.insert(license["id"].get<std::string>());
        return ids;
    }

    std::string sql(std::string const& query) const { return testing::sql(data_dir, query); }
    std::string dump() const { return testing::dump(data_dir); }

    /// Every INSERT into `table` fails with `message` (a trigger, in either database's dialect)
    /// until allow_inserts(table): a write that fails in the middle of a change.
    void refuse_inserts(std::string const& table, std::string const& message) const
    {
        if (testing_postgres())
            sql("CREATE FUNCTION refuse_" + table + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '" + message
                + "'; END $$; CREATE TRIGGER refuse_" + table + " BEFORE INSERT ON " + table + " FOR EACH ROW EXECUTE FUNCTION refuse_"
                + table + "();");
        else
            sql("CREATE TRIGGER refuse_" + table + " BEFORE INSERT ON " + table + " BEGIN SELECT RAISE(ABORT, '" + message + "'); END;");
    }
    void allow_inserts(std::string const& table) const
    {
        if (testing_postgres())
            sql("DROP TRIGGER refuse_" + table + " ON " + table + "; DROP FUNCTION refuse_" + table + "();");
        else
            sql("DROP TRIGGER refuse_" + table + ";");
    }

    /// A connection of the test's own to the vendor's database (SQLite file or PostgreSQL), which
    /// reports its changes as the charter CLI does: once a server's change feed was told of them.
    db::Store open_store() const
    {
        auto workspace = ops::Workspace::open_for_changes(test_data_dir(data_dir));
        INFO((workspace ? std::string() : workspace.error().message));
        REQUIRE(workspace);
        return std::move(workspace->store());
    }
};

/// charter-server on 127.0.0.1:0 as a child; stdout and stderr in files under `log_dir`;
/// `env` set over the clean environment. The constructor returns once it listens.
class ServerChild {
public:
    /// `wrapper`: a command that runs the server (strace and its options).
    ServerChild(std::string const& data_dir, std::string const& log_dir, std::vector<std::string> extra = {},
        std::map<std::string, std::string> const& env = {}, std::vector<std::string> wrapper = {})
        : m_process(arguments(data_dir, extra, std::move(wrapper)), clean_env(database_env(data_dir, env)),
            log_dir + "/server-" + std::to_string(++s_started))
    {
        // The first line comes once the socket is bound; a server that exits instead fails here.
        static std::regex const listening("^listening on https?://127\\.0\\.0\\.1:([0-9]+)$");
        for (int i = 0; i < 6000; ++i) {
            auto out = m_process.out();
            if (auto end = out.find('\n'); end != std::string::npos) {
                m_first_line = out.substr(0, end);
                std::smatch match;
                if (!std::regex_match(m_first_line, match, listening))
                    throw std::runtime_error("unexpected first line: " + m_first_line + "; stderr: " + m_process.err());
                m_port = std::stoi(match[1].str());
                return;
            }
            if (!m_process.running())
                throw std::runtime_error("charter-server exited before listening: " + m_process.err());
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        throw std::runtime_error("charter-server did not listen within 60 s");
    }

    /// The vendor's server, its logs beside the data directory.
    explicit ServerChild(Vendor const& vendor, std::vector<std::string> extra = {}, std::map<std::string, std::string> const& env = {})
        : ServerChild(vendor.data_dir, vendor.temp.path(), std::move(extra), env)
    {
    }

    int port() const { return m_port; }
    pid_t pid() const { return m_process.pid(); }
    std::string const& first_line() const { return m_first_line; }
    std::string out() const { return m_process.out(); }
    std::string err() const { return m_process.err(); }
    bool running() { return m_process.running(); }
    ChildProcess& process() { return m_process; }

    /// SIGTERM, then SIGKILL after 10 s; the exit code (128 + signal when killed).
    int stop() { return m_process.stop(); }
    /// SIGKILL: no handler runs, nothing is flushed.
    int kill_hard() { return m_process.kill_hard(); }
    /// Waits for it to exit by itself.
    int wait() { return m_process.wait(); }

    httplib::Client client() const
    {
        httplib::Client client("127.0.0.1", m_port);
        client.set_read_timeout(60, 0);
        client.set_write_timeout(60, 0);
        return client;
    }

    /// Every access-log line written so far (stdout after the first line), fields in order.
    std::vector<nlohmann::ordered_json> access_log() const
    {
        std::vector<nlohmann::ordered_json> lines;
        std::istringstream in(out());
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line))
            lines.push_back(nlohmann::ordered_json::parse(line));
        return lines;
    }

    /// The access-log line of one request. The server logs after the response is sent, so
    /// this waits (up to 60 s) for the line to appear.
    nlohmann::ordered_json log_line(std::string const& request_id) const
    {
        for (int i = 0; i < 6000; ++i) {
            for (auto const& line : access_log()) {
                if (line["request_id"] == request_id)
                    return line;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        FAIL("no access-log line for " << request_id);
        return {};
    }

private:
    static std::vector<std::string> arguments(std::string const& data_dir, std::vector<std::string> const& extra,
        std::vector<std::string> argv = {})
    {
        // An ephemeral port unless `extra` says where to listen (a server restarted on its port).
        argv.insert(argv.end(), { CHARTER_SERVER_PATH, "--data-dir", data_dir });
        if (std::find(extra.begin(), extra.end(), "--listen") == extra.end())
            argv.insert(argv.end(), { "--listen", "127.0.0.1:0" });
        argv.insert(argv.end(), extra.begin(), extra.end());
        return argv;
    }

    static inline int s_started = 0;
    ChildProcess m_process;
    std::string m_first_line;
    int m_port { 0 };
};

inline httplib::Headers bearer(std::string const& token, httplib::Headers extra = {})
{
    extra.emplace("Authorization", "Bearer " + token);
    return extra;
}

/// HTTP Basic with the license key as the password.
inline httplib::Headers basic(std::string const& key, httplib::Headers extra = {})
{
    extra.insert(httplib::make_basic_authentication_header("jane", key));
    return extra;
}

/// An error answer: the status, {"error":{"code","message"}}, and a message naming `mention`.
inline void check_error(httplib::Result const& result, int status, std::string const& code, std::string const& mention = {})
{
    REQUIRE(result);
    INFO("status " << result->status << ": " << result->body);
    CHECK(result->status == status);
    auto body = nlohmann::json::parse(result->body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body["error"]["code"] == code);
    REQUIRE(body["error"]["message"].is_string());
    if (!mention.empty())
        CHECK(contains(body["error"]["message"], mention));
}

}
