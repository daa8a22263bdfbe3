#pragma once
// The database a parametrised suite runs against: SQLite files (the default), or, with
// CHARTER_TEST_DATABASE=postgres, databases of ONE PostgreSQL 15 cluster that this test program
// starts on first use (tests/support/postgres.sh: initdb in a temporary folder as the postgres
// user, a Unix socket in that folder), one empty database per test, the cluster stopped and
// its folder removed when the program exits, however it ends. Without PostgreSQL the program
// exits 77, which ctest reports as skipped.

#include "charter/db/store.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CHARTER_SOURCE_DIR
#error "tests/support/postgres.hpp needs CHARTER_SOURCE_DIR (tests/CMakeLists.txt defines it)"
#endif

namespace charter::testing {

/// Whether this run of the suite uses PostgreSQL (CHARTER_TEST_DATABASE=postgres).
inline bool testing_postgres()
{
    char const* which = std::getenv("CHARTER_TEST_DATABASE");
    return which && std::string(which) == "postgres";
}

class PostgresCluster {
public:
    /// The cluster of this program, started on first use.
    static PostgresCluster& get()
    {
        static PostgresCluster cluster;
        return cluster;
    }

    PostgresCluster(PostgresCluster const&) = delete;
    PostgresCluster& operator=(PostgresCluster const&) = delete;
    ~PostgresCluster() { (void)run(script() + " stop '" + m_dir + "'"); }

    std::string const& dir() const { return m_dir; }

    /// A new, empty database; returns its URL.
    std::string create_database()
    {
        auto name = "charter_test_" + std::to_string(::getpid()) + "_" + std::to_string(++m_databases);
        auto [status, output] = run(script() + " createdb '" + m_dir + "' " + name + " 2>&1");
        if (status != 0)
            throw std::runtime_error("cannot create test database " + name + ": " + output);
        return url(name);
    }

    std::string url(std::string const& database) const { return "postgresql://postgres@/" + database + "?host=" + m_dir; }

    /// Runs `sql` with psql in `database` (the last path segment of a URL from create_database);
    /// returns psql's exit status and its output (unaligned, tuples only).
    std::pair<int, std::string> psql(std::string const& database_url, std::string const& sql) const
    {
        auto name = database_name(database_url);
        auto sql_file = m_dir + "/statement.sql";
        if (FILE* out = std::fopen(sql_file.c_str(), "w")) {
            std::fputs(sql.c_str(), out);
            std::fclose(out);
        }
        return run(script() + " psql '" + m_dir + "' " + name + " -f '" + sql_file + "' 2>&1");
    }

    /// The database at `database_url` as SQL (pg_dump: its schema and every row).
    std::string dump(std::string const& database_url) const
    {
        auto [status, output] = run(script() + " dump '" + m_dir + "' " + database_name(database_url) + " 2>&1");
        if (status != 0)
            throw std::runtime_error("pg_dump failed: " + output);
        return output;
    }

    /// Keeps a copy of every table's rows of the database at `database_url` (in a schema of its
    /// own, which Charter never reads) for restore_rows(): much cheaper than copying the database
    /// for a test that replays many variations on one state.
    void keep_rows(std::string const& database_url) const
    {
        run_sql(database_url, "CREATE SCHEMA kept; DO $$ DECLARE t text; BEGIN"
                              " FOR t IN SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                              " AND table_type = 'BASE TABLE' LOOP"
                              " EXECUTE format('CREATE TABLE kept.%I AS SELECT * FROM %I', t, t); END LOOP; END $$;");
    }

    /// Puts back the rows keep_rows() kept, in every table (its triggers, foreign keys
    /// included, off meanwhile); sequences go on from where they are.
    void restore_rows(std::string const& database_url) const
    {
        run_sql(database_url, "SET session_replication_role = replica; DO $$ DECLARE t text; BEGIN"
                              " FOR t IN SELECT table_name FROM information_schema.tables WHERE table_schema = 'kept' LOOP"
                              " EXECUTE format('DELETE FROM %I', t);"
                              " EXECUTE format('INSERT INTO %I OVERRIDING SYSTEM VALUE SELECT * FROM kept.%I', t, t); END LOOP; END $$;");
    }

    /// Stops PostgreSQL (its connections are closed), keeping the cluster; resume() starts it again.
    void pause() const
    {
        if (run(script() + " pause '" + m_dir + "' 2>&1").first != 0)
            throw std::runtime_error("cannot stop PostgreSQL");
    }
    void resume() const
    {
        if (run(script() + " resume '" + m_dir + "' 2>&1").first != 0)
            throw std::runtime_error("cannot start PostgreSQL again");
    }

    static std::pair<int, std::string> run(std::string const& command)
    {
        std::string output;
        FILE* pipe = ::popen(command.c_str(), "r");
        if (!pipe)
            return { -1, "popen failed" };
        char buffer[4096];
        size_t got;
        while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
            output.append(buffer, got);
        int status = ::pclose(pipe);
        return { WIFEXITED(status) ? WEXITSTATUS(status) : -1, output };
    }

private:
    PostgresCluster()
    {
        auto [status, output] = run(script() + " start " + std::to_string(::getpid()));
        if (status == 77) {
            std::fprintf(stderr, "%s", output.c_str());
            std::fflush(stderr);
            std::_Exit(77);
        }
        while (!output.empty() && (output.back() == '\n' || output.back() == '\r'))
            output.pop_back();
        if (status != 0 || output.empty())
            throw std::runtime_error("cannot start a PostgreSQL cluster for the tests: " + output);
        m_dir = output;
    }

    void run_sql(std::string const& database_url, std::string const& sql) const
    {
        auto [status, output] = psql(database_url, sql);
        if (status != 0)
            throw std::runtime_error("psql failed: " + output);
    }

    static std::string database_name(std::string const& database_url)
    {
        auto name = database_url.substr(database_url.find("@/") + 2);
        return name.substr(0, name.find('?'));
    }

    static std::string script() { return std::string("bash '") + CHARTER_SOURCE_DIR + "/tests/support/postgres.sh'"; }

    std::string m_dir;
    int m_databases { 0 };
};

/// Where a test's database is: the SQLite file `sqlite_path`, or (testing_postgres()) a new
/// PostgreSQL database made for it; the same `sqlite_path` gives the same database again.
inline std::string test_database(std::filesystem::path const& sqlite_path)
{
    if (!testing_postgres())
        return sqlite_path.string();
    static std::map<std::string, std::string> made;
    auto& url = made[std::filesystem::absolute(sqlite_path).string()];
    if (url.empty())
        url = PostgresCluster::get().create_database();
    return url;
}

/// Opens the test's database at `sqlite_path` (test_database()): for a test of the store itself.
inline Result<db::Store> open_test_store(std::filesystem::path const& sqlite_path, db::OpenMode mode)
{
    if (testing_postgres())
        return db::Store::connect(test_database(sqlite_path), mode);
    return db::Store::open(sqlite_path, mode);
}

}
