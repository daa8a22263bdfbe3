// Crash safety (issue 8): charter-server killed with SIGKILL while 8 clients issue licenses,
// `charter issue --batch` killed midway, and a full disk during issuance through the server.
// Whatever a client was told (a key) must be in the database and verify; nothing else may be
// half-written; the database passes integrity_check (SQLite's PRAGMA; on PostgreSQL every table
// reads). Run on both databases (test_crash_safety_postgres) but the cases about the -wal file.

#include "charter/verify.hpp"
#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sys/mount.h>
#include <sys/stat.h>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

std::string const issue_body = R"({"product":"acme-pro","customer":"jane@example.com"})";


// Every (id, key) the database holds.
std::map<std::string, std::string> stored_licenses(std::string const& data_dir)
{
    std::map<std::string, std::string> licenses;
    std::istringstream rows(sql(data_dir, "select id || '|' || token from licenses"));
    std::string row;
    while (std::getline(rows, row)) {
        auto bar = row.find('|');
        licenses[row.substr(0, bar)] = row.substr(bar + 1);
    }
    return licenses;
}

// What a vendor needs to find signed keys in the files of a data directory: the trusted key,
// and the footer every key it signs carries (the payload is followed by ".<footer>").
struct KeyScanner {
    std::string public_key;
    std::string footer;

    explicit KeyScanner(std::string const& data_dir)
    {
        public_key = trimmed(charter_cli(data_dir, { "key", "export" }).out);
        auto issued = charter_cli(data_dir, { "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
        if (issued.exit_code != 0)
            throw std::runtime_error("charter issue failed: " + issued.err);
        auto key = trimmed(issued.out);
        footer = key.substr(key.rfind('.') + 1);
    }

    // The ids of the genuine license keys readable anywhere in the data directory (database,
    // -wal, -shm, any other file), read straight from the bytes as an attacker would.
    std::set<std::string> readable_license_ids(std::string const& data_dir) const
    {
        charter::Verifier verifier("acme-pro");
        if (verifier.add_key(public_key.c_str()) != CHARTER_OK)
            throw std::runtime_error("bad public key");
        std::set<std::string> ids;
        for (auto const& entry : std::filesystem::recursive_directory_iterator(data_dir)) {
            if (!entry.is_regular_file())
                continue;
            std::string bytes = read_text(entry.path());
            constexpr std::string_view header = "v4.public.";
            for (size_t at = bytes.find(header); at != std::string::npos; at = bytes.find(header, at + 1)) {
                size_t end = at + header.size();
                while (end < bytes.size() && (std::isalnum(static_cast<unsigned char>(bytes[end])) || bytes[end] == '-' || bytes[end] == '_'))
                    ++end;
                auto result = verifier.verify(bytes.substr(at, end - at) + "." + footer);
                if (result.license)
                    ids.insert(std::string(result.license->id()));
            }
        }
        return ids;
    }
};

// The licenses the database has, as the CLI lists them.
std::set<std::string> listed_license_ids(std::string const& data_dir)
{
    auto listed = charter_cli(data_dir, { "list", "--json" });
    if (listed.exit_code != 0)
        throw std::runtime_error("charter list failed: " + listed.err);
    std::set<std::string> ids;
    for (auto const& license : Json::parse(listed.out))
        ids.insert(license.at("id").get<std::string>());
    return ids;
}

// A batch file of `rows` licenses for jane@example.com, then `last_row` if given.
void write_batch(std::string const& path, int rows, std::string const& last_row = {})
{
    std::ofstream out(path);
    out << "customer,product,name\n";
    for (int i = 0; i < rows; ++i)
        out << "jane@example.com,acme-pro,Row " << i << "\n";
    out << last_row;
}

// charter-server on the data directory with the database open (a request made), as in
// production: the -wal file then outlives every CLI process.
std::unique_ptr<ServerChild> serving(std::string const& data_dir, std::string const& log_dir, std::string const& admin)
{
    auto server = std::make_unique<ServerChild>(data_dir, log_dir);
    httplib::Client client("127.0.0.1", server->port());
    auto listed = client.Get("/v1/licenses", bearer(admin));
    if (!listed || listed->status != 200)
        throw std::runtime_error("the server does not answer");
    return server;
}

// A vendor's data directory with charter-server serving it, and the licenses it holds before a
// test's batch runs.
struct ServedVendor {
    TempDir temp;
    std::string data_dir = temp / "data";
    std::string admin = make_vendor(data_dir);
    KeyScanner scanner { data_dir };
    std::unique_ptr<ServerChild> server = serving(data_dir, temp.path(), admin);
    std::set<std::string> before = listed_license_ids(data_dir);
};

}

// SQLite only (this case and the next): they look for keys in the -wal file's frames.
TEST_CASE_METHOD(ServedVendor, "a batch failing on its last row leaves no signed key of a license that does not exist, -wal included", "[sqlite]")
{
    REQUIRE(before.size() == 1);

    // Enough rows that the transaction outgrows the page cache and writes pages to the -wal.
    std::string csv = temp / "batch.csv";
    write_batch(csv, 60000, "nobody@example.com,acme-pro,Last\n");
    auto failed = charter_cli(data_dir, { "issue", "--batch", csv });
    CHECK(failed.exit_code == 4);
    CHECK(contains(failed.err, "line 60002"));
    CHECK(contains(failed.err, "nothing was issued"));
    CHECK(failed.out.empty());

    // Right after the batch, before any other command opens the database.
    auto readable = scanner.readable_license_ids(data_dir);
    CHECK(readable.size() <= before.size());
    for (auto const& id : readable)
        CHECK(before.count(id) == 1);
    CHECK(listed_license_ids(data_dir) == before);
    CHECK(integrity_check(data_dir) == "ok\n");
    // Issuing goes on as before.
    CHECK(charter_cli(data_dir, { "issue", "--product", "acme-pro", "--customer", "jane@example.com" }).exit_code == 0);
}

TEST_CASE_METHOD(ServedVendor, "a batch killed with SIGKILL mid-transaction: the next command leaves no signed key of a license that does not exist", "[sqlite]")
{

    std::string csv = temp / "batch.csv";
    write_batch(csv, 60000);
    ChildProcess batch({ CHARTER_CLI_PATH, "--data-dir", data_dir, "issue", "--batch", csv }, clean_env(database_env(data_dir, {})), temp / "batch");
    // Killed once its uncommitted pages are in the -wal (it commits only at the end): 8 MB of them.
    std::string wal = data_dir + "/charter.db-wal";
    std::error_code no_file;
    while (std::filesystem::file_size(wal, no_file) < 8u << 20 && batch.running())
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(batch.running());
    REQUIRE(batch.kill_hard() == 128 + SIGKILL);
    // Before: the frames are there, as the tester found them.
    auto left_behind = scanner.readable_license_ids(data_dir);
    INFO(left_behind.size() << " keys readable right after the kill");

    auto after = listed_license_ids(data_dir); // the next command
    CHECK(after == before);
    auto readable = scanner.readable_license_ids(data_dir);
    for (auto const& id : readable)
        CHECK(before.count(id) == 1);
    CHECK(integrity_check(data_dir) == "ok\n");
}

TEST_CASE("charter-server killed with SIGKILL while 8 clients issue: every key a client received is stored and verifies")
{
    TempDir temp;
    std::string data_dir = temp / "data";
    std::string admin = make_vendor(data_dir);
    auto server = std::make_unique<ServerChild>(data_dir, temp.path(), std::vector<std::string> { "--threads", "8" });
    int port = server->port();

    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> received; // (id, key) of every 201
    std::atomic<bool> stop { false };
    std::atomic<int> failures_after_kill { 0 };
    std::vector<std::thread> clients;
    for (int i = 0; i < 8; ++i) {
        clients.emplace_back([&] {
            httplib::Client client("127.0.0.1", port);
            client.set_connection_timeout(5, 0);
            client.set_read_timeout(10, 0);
            while (!stop) {
                auto result = client.Post("/v1/licenses", bearer(admin), issue_body, "application/json");
                if (!result) {
                    ++failures_after_kill;
                    if (stop)
                        return;
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    continue;
                }
                if (result->status != 201)
                    continue;
                auto json = Json::parse(result->body);
                std::lock_guard lock(mutex);
                received.emplace_back(json.at("id").get<std::string>(), json.at("key").get<std::string>());
            }
        });
    }
    // About two seconds of issuance, then the kill, while requests are in flight.
    for (int i = 0; i < 200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::lock_guard lock(mutex);
        if (i >= 200 - 1 && received.empty())
            i -= 50; // a loaded machine: wait until something was issued
    }
    server->kill_hard();
    stop = true;
    for (auto& client : clients)
        client.join();
    INFO("keys received before the kill: " << received.size());
    REQUIRE(!received.empty());

    // Restart on the same data directory.
    server = std::make_unique<ServerChild>(data_dir, temp.path(), std::vector<std::string> { "--threads", "2" });
    auto stored = stored_licenses(data_dir);
    std::set<std::string> ids;
    httplib::Client client("127.0.0.1", server->port());
    size_t verified = 0;
    for (auto const& [id, key] : received) {
        CHECK(ids.insert(id).second); // ids unique
        auto found = stored.find(id);
        REQUIRE(found != stored.end());
        CHECK(found->second == key);
        auto result = client.Post("/v1/validate", Json { { "key", key }, { "product", "acme-pro" } }.dump(), "application/json");
        REQUIRE(result);
        CHECK(result->status == 200);
        auto json = Json::parse(result->body);
        if (json.value("valid", false))
            ++verified;
    }
    CHECK(verified == received.size());
    // A few with the CLI too (the offline verifier, verify-lib).
    for (size_t i = 0; i < received.size(); i += std::max<size_t>(1, received.size() / 5)) {
        auto verify = charter_cli(data_dir, { "verify", received[i].second });
        CHECK(verify.exit_code == 0);
    }
    CHECK(charter_cli(data_dir, { "verify", received.back().second }).exit_code == 0);
    // Stored ones no client saw (in flight at the kill) are whole licenses too.
    CHECK(stored.size() >= received.size());
    CHECK(sql(data_dir, "select count(*) from licenses where token not like 'v4.public.%'") == "0\n");
    CHECK(sql(data_dir, "select count(*) from licenses l where not exists (select 1 from audit a where a.subject = l.id)") == "0\n");
    CHECK(integrity_check(data_dir) == "ok\n");
    // Service continues.
    auto again = client.Post("/v1/licenses", bearer(admin), issue_body, "application/json");
    REQUIRE(again);
    CHECK(again->status == 201);
    WARN("crash safety (server): " << received.size() << " keys received by 8 clients before SIGKILL, " << stored.size()
                                   << " licenses stored, all received ones stored and valid; " << failures_after_kill.load()
                                   << " requests failed at the kill");
}

TEST_CASE("charter issue --batch killed with SIGKILL midway: all rows or none")
{
    TempDir temp;
    std::string data_dir = temp / "data";
    make_vendor(data_dir);
    std::string csv = temp / "batch.csv";
    int const rows = 20000;
    {
        std::ofstream out(csv);
        out << "customer,product,name\n";
        for (int i = 0; i < rows; ++i)
            out << "jane@example.com,acme-pro,Row " << i << "\n";
    }
    int64_t before = std::stoll(sql(data_dir, "select count(*) from licenses"));
    int kills = 0, completed = 0;
    std::vector<int64_t> counts;
    // Kill at growing delays until one run is cut midway; a run that finishes must hold every row.
    for (int delay_ms : { 300, 1000, 2500 }) {
        ChildProcess batch({ CHARTER_CLI_PATH, "--data-dir", data_dir, "issue", "--batch", csv }, clean_env(database_env(data_dir, {})),
            temp / ("batch-" + std::to_string(delay_ms)));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        int exit_code = batch.kill_hard();
        bool was_killed = exit_code == 128 + SIGKILL;
        int64_t count = std::stoll(sql(data_dir, "select count(*) from licenses"));
        counts.push_back(count - before);
        CHECK(integrity_check(data_dir) == "ok\n");
        if (was_killed) {
            ++kills;
            CHECK((count == before || count == before + rows)); // all or nothing
        } else {
            ++completed;
            CHECK(exit_code == 0);
            CHECK(count == before + rows);
        }
        before = count;
    }
    CHECK(kills >= 1);
    std::string seen;
    for (auto count : counts)
        seen += std::to_string(count) + " ";
    WARN("crash safety (batch): " << rows << "-row batch, " << kills << " runs killed, " << completed
                                  << " completed; rows added per run: " << seen);
}

TEST_CASE("a full disk during issuance through the server: 507, no key, nothing half-written, service continues", "[root]")
{
    TempDir temp;
    // A [root] case: its own ctest, which reports "skipped" when not root or when no tmpfs can
    // be mounted here (catch_main.cpp).
    MountedTmpfs small(temp / "small", "4m");
    std::string const& mount_point = small.path();
    std::string data_dir = mount_point + "/data";
    std::string admin = make_vendor(data_dir);
    ServerChild server(data_dir, temp.path(), { "--threads", "2" });
    httplib::Client client("127.0.0.1", server.port());
    auto first = client.Post("/v1/licenses", bearer(admin), issue_body, "application/json");
    REQUIRE(first);
    REQUIRE(first->status == 201);

    std::string filler = mount_point + "/filler";
    {
        std::ofstream out(filler, std::ios::binary);
        std::string block(65536, 'x');
        while (out.write(block.data(), std::streamsize(block.size())) && out.flush()) { }
    }
    std::set<std::string> acknowledged { Json::parse(first->body).at("id").get<std::string>() };
    int refused = 0;
    for (int i = 0; i < 200 && refused == 0; ++i) {
        auto result = client.Post("/v1/licenses", bearer(admin), issue_body, "application/json");
        REQUIRE(result);
        auto json = Json::parse(result->body); // always JSON
        if (result->status == 201) {
            acknowledged.insert(json.at("id").get<std::string>()); // the WAL may have room for a few
            continue;
        }
        ++refused;
        INFO(result->body);
        CHECK(result->status >= 500);
        CHECK(result->status == 507);
        CHECK(!json.contains("key"));
        CHECK(contains(json.at("error").at("message").get<std::string>(), "disk is full"));
    }
    REQUIRE(refused == 1);
    CHECK(server.running());
    auto health = client.Get("/healthz");
    REQUIRE(health);

    REQUIRE(unlink(filler.c_str()) == 0);
    // Space is back: exactly the acknowledged licenses are stored, and issuance works again.
    auto stored = stored_licenses(data_dir);
    CHECK(stored.size() == acknowledged.size());
    for (auto const& id : acknowledged)
        CHECK(stored.count(id) == 1);
    auto again = client.Post("/v1/licenses", bearer(admin), issue_body, "application/json");
    REQUIRE(again);
    CHECK(again->status == 201);
    CHECK(charter_cli(data_dir, { "verify", Json::parse(again->body).at("key").get<std::string>() }).exit_code == 0);
    CHECK(stored_licenses(data_dir).size() == acknowledged.size() + 1);
    CHECK(integrity_check(data_dir) == "ok\n");
    WARN("crash safety (full disk): " << acknowledged.size() << " licenses acknowledged on a 4 MB tmpfs, then 1 refused with 507; "
                                      << "issuance resumed after freeing space");
}
