// Several charter-servers on one database behind the shipped nginx front (docs/operations.md
// "Several servers"): docs/deploy/nginx.conf with the upstream block of
// docs/deploy/nginx-upstream.conf, two real charter-servers on 127.0.0.1 started as the systemd
// unit starts them, one database for both, the real CLI beside them. The database is SQLite
// (one data directory, which WAL lets several processes share) in test_several_servers, and a
// PostgreSQL database of the program's cluster (tests/support/postgres.hpp) in
// test_several_servers_postgres: the same cases, and PostgreSQL restarted under load. What one server or the CLI changes, the other
// honours on its next request; issuance stays exactly-once per Idempotency-Key across servers;
// one server killed with SIGKILL costs no acknowledged license and no Bundler run.

#include "support/nginx.hpp"
#include "support/postgres.hpp"
#include "support/server_harness.hpp"

#include "charter/format/base64url.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

constexpr char const* accel_prefix = "/_charter_artifacts";

// The shipped front with the several-servers upstream block. Its per-address request limits
// (limit_req) are left out: every client of this test is 127.0.0.1, which they would count as
// one customer.
std::string front_config()
{
    std::istringstream lines(several_servers_nginx_config());
    std::string config;
    for (std::string line; std::getline(lines, line);) {
        if (!contains(line, "limit_req "))
            config += line + "\n";
    }
    return config;
}

// The kid in a license key's footer ({"kid":"k4.pid.…"}).
std::string kid_of(std::string const& key)
{
    auto footer = key.substr(key.rfind('.') + 1);
    auto decoded = charter::format::base64url_decode(footer);
    REQUIRE(decoded);
    return Json::parse(*decoded).at("kid");
}

// `gem build` of NAME-VERSION.gem in `dir` (HOME there: nothing read from the user's).
std::string build_gem(std::string const& dir, std::string const& name, std::string const& version)
{
    auto source = dir + "/src-" + name + "-" + version;
    std::filesystem::create_directories(source + "/lib");
    write_file(source + "/lib/x.rb", "module X; end\n");
    write_file(source + "/x.gemspec", "Gem::Specification.new do |s|\n  s.name = '" + name + "'; s.version = '" + version
            + "'\n  s.summary = 'Acme'; s.authors = ['Acme Inc.']; s.files = ['lib/x.rb']\nend\n");
    auto built = run_process({ "/bin/sh", "-c", "cd '" + source + "' && gem build x.gemspec" },
        { { "HOME", source }, { "SOURCE_DATE_EPOCH", "1764288000" } });
    INFO(built.out << built.err);
    REQUIRE(built.exit_code == 0);
    return source + "/" + name + "-" + version + ".gem";
}

// Two servers on the vendor's database behind nginx.
struct Fleet : Vendor {
    std::vector<std::unique_ptr<ServerChild>> servers;
    std::optional<HttpsFront> front;

    // On PostgreSQL the harness gives the CLI and both servers the data directory's database
    // (CHARTER_DATABASE_URL, server_harness.hpp).
    Fleet()
    {
        for (int i = 0; i < 2; ++i)
            servers.push_back(start_server());
        front.emplace(temp / "front", front_config(),
            std::map<std::string, std::string> { { "CHARTER_UPSTREAM_A", "127.0.0.1:" + std::to_string(servers[0]->port()) },
                { "CHARTER_UPSTREAM_B", "127.0.0.1:" + std::to_string(servers[1]->port()) },
                { "CHARTER_ARTIFACTS", data_dir + "/artifacts" } });
    }

    /// A charter-server on the vendor's database, as the shipped unit runs it.
    std::unique_ptr<ServerChild> start_server()
    {
        return std::make_unique<ServerChild>(*this, std::vector<std::string> { "--threads", "8", "--accel-redirect", accel_prefix },
            unit_env(env));
    }

    ServerChild& a() { return *servers[0]; }
    ServerChild& b() { return *servers[1]; }

    /// What the servers logged, for a failure's message.
    std::string logs() const
    {
        std::string text;
        for (auto const& server : servers)
            text += "server :" + std::to_string(server->port()) + ": " + server->err() + "\n";
        return text + "nginx: " + front->nginx().error_log();
    }
};

// Waits (up to 2 minutes) until `ready()`; fails the test otherwise.
template<typename Ready>
void wait_until(Ready const& ready, char const* what)
{
    for (int i = 0; i < 120000 && !ready(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    INFO(what);
    REQUIRE(ready());
}

// The fleet with the gem acme-pro 1.0.0 released.
struct GemFleet : Fleet {
    GemFleet()
    {
        cli({ "release", "add", "--product", "acme-pro", "--released-at", "2026-01-01", build_gem(temp.path(), "acme-pro", "1.0.0") });
    }
};

Json json_of(httplib::Result const& result)
{
    REQUIRE(result);
    auto json = Json::parse(result->body, nullptr, false);
    INFO(result->status << " " << result->body);
    REQUIRE(json.is_object());
    return json;
}

Json validate(httplib::Client& client, std::string const& key)
{
    auto result = client.Post("/v1/validate", Json { { "key", key }, { "product", "acme-pro" } }.dump(), "application/json");
    REQUIRE(result);
    REQUIRE(result->status == 200);
    return json_of(result);
}

template<typename Client>
httplib::Result post_license(Client& client, std::string const& token, std::string const& idempotency_key)
{
    return client.Post("/v1/licenses", bearer(token, { { "Idempotency-Key", idempotency_key } }),
        R"({"product":"acme-pro","customer":"jane@example.com"})", "application/json");
}

}

TEST_CASE_METHOD(Fleet, "concurrent issuance through both servers and nginx: one license per Idempotency-Key")
{
    // Each key is sent four times at once: twice through nginx (which alternates between the
    // servers), once to each server directly.
    constexpr int keys = 24;
    std::mutex mutex;
    std::map<std::string, std::set<std::string>> licenses_of; // Idempotency-Key → license ids answered
    std::vector<std::string> failures;
    std::atomic<int> ready { 0 };
    auto sender = [&](int which) {
        std::unique_ptr<httplib::ClientImpl> client;
        if (which < 2) {
            client = front->client();
        } else {
            client = std::make_unique<httplib::ClientImpl>("127.0.0.1", servers[which - 2]->port());
            client->set_read_timeout(60, 0);
        }
        ready.fetch_add(1);
        while (ready.load() < 4)
            std::this_thread::yield();
        for (int i = 0; i < keys; ++i) {
            auto key = "order-" + std::to_string(i);
            auto result = post_license(*client, admin_token, key);
            std::lock_guard lock(mutex);
            if (!result || result->status != 201) {
                failures.push_back(key + ": " + (result ? std::to_string(result->status) + " " + result->body : "no answer"));
                continue;
            }
            licenses_of[key].insert(Json::parse(result->body).at("id").get<std::string>());
        }
    };
    std::vector<std::thread> threads;
    for (int which = 0; which < 4; ++which)
        threads.emplace_back(sender, which);
    for (auto& thread : threads)
        thread.join();
    INFO(logs());
    CHECK(failures.empty());
    for (auto const& failure : failures)
        UNSCOPED_INFO(failure);
    REQUIRE(licenses_of.size() == size_t(keys));
    std::set<std::string> answered;
    for (auto const& [key, ids] : licenses_of) {
        INFO(key);
        CHECK(ids.size() == 1);
        answered.insert(ids.begin(), ids.end());
    }
    // The database holds exactly the licenses answered: one per key, none behind a lost race.
    CHECK(license_ids() == answered);
    // Both servers issued (each answered its direct requests with licenses of its own commits
    // or the other's: the access logs show 201 on both).
    for (auto* server : { &a(), &b() }) {
        int created = 0;
        for (auto const& line : server->access_log())
            created += line["route"] == "/v1/licenses" && line["status"] == 201;
        CHECK(created >= keys);
    }
}

TEST_CASE_METHOD(Fleet, "a change made through one server or the CLI is honoured by the other on its next request")
{
    auto license = issue("acme-pro");
    auto client_a = a().client();
    auto client_b = b().client();
    // B has seen the license: its verdict is remembered, the catalogue built.
    CHECK(validate(client_b, license.key)["status"] == "valid");
    auto versions = client_b.Get("/rubygems/versions", basic(license.key));
    REQUIRE(versions);
    REQUIRE(versions->status == 200);

    SECTION("suspension through A, reinstatement and revocation with the CLI")
    {
        auto suspended = client_a.Post("/v1/licenses/" + license.id + "/suspend", bearer(admin_token),
            R"({"reason":"payment failed"})", "application/json");
        REQUIRE(suspended);
        REQUIRE(suspended->status == 200);
        auto verdict = validate(client_b, license.key);
        CHECK(verdict["status"] == "suspended");
        CHECK(contains(verdict["message"], "payment failed"));
        auto index = client_b.Get("/rubygems/versions", basic(license.key));
        REQUIRE(index);
        CHECK(index->status == 402);

        cli({ "reinstate", license.id });
        CHECK(validate(client_b, license.key)["status"] == "valid");
        index = client_b.Get("/rubygems/versions", basic(license.key));
        REQUIRE(index);
        CHECK(index->status == 200);

        cli({ "revoke", license.id, "--reason", "chargeback" });
        CHECK(validate(client_b, license.key)["status"] == "revoked");
        index = client_b.Get("/rubygems/versions", basic(license.key));
        REQUIRE(index);
        CHECK(index->status == 402);
    }

    SECTION("a credential made and revoked through A")
    {
        auto made = client_a.Post("/v1/licenses/" + license.id + "/credentials", bearer(admin_token), R"({"name":"ci"})",
            "application/json");
        REQUIRE(made);
        REQUIRE(made->status == 201);
        auto credential = json_of(made);
        std::string secret = credential["secret"];
        auto index = client_b.Get("/rubygems/versions", basic(secret));
        REQUIRE(index);
        CHECK(index->status == 200);
        auto revoked = client_a.Post("/v1/licenses/" + license.id + "/credentials/" + std::string(credential["id"]) + "/revoke",
            bearer(admin_token), "", "application/json");
        REQUIRE(revoked);
        REQUIRE(revoked->status == 200);
        // The RubyGems source answers every refusal with 402 and the reason (docs/rubygems.md).
        index = client_b.Get("/rubygems/versions", basic(secret));
        REQUIRE(index);
        CHECK(index->status == 402);
        CHECK(contains(index->reason, "was revoked"));
        auto listing = client_b.Get("/v1/downloads", basic(secret));
        REQUIRE(listing);
        CHECK(listing->status == 401);
        CHECK(contains(json_of(listing)["error"]["message"], "was revoked"));
    }
}

TEST_CASE_METHOD(GemFleet, "a release uploaded through one server is in the other's RubyGems index at its next request")
{
    auto license = issue("acme-pro");
    auto client_a = a().client();
    auto client_b = b().client();
    auto versions = client_b.Get("/rubygems/versions", basic(license.key));
    REQUIRE(versions);
    CHECK(contains(versions->body, "acme-pro 1.0.0 "));
    auto file = read_file(build_gem(temp.path(), "acme-pro", "1.1.0"));
    auto uploaded = client_a.Post("/v1/products/acme-pro/releases?version=1.1.0&filename=acme-pro-1.1.0.gem",
        bearer(admin_token), file, "application/octet-stream");
    REQUIRE(uploaded);
    INFO(uploaded->body);
    REQUIRE(uploaded->status == 201);
    auto index = client_b.Get("/rubygems/versions", basic(license.key));
    REQUIRE(index);
    CHECK(index->status == 200);
    CHECK(contains(index->body, "acme-pro 1.0.0,1.1.0 "));
    auto info = client_b.Get("/rubygems/info/acme-pro", basic(license.key));
    REQUIRE(info);
    CHECK(contains(info->body, "\n1.1.0 |checksum:" + sha256_hex(file)));
    // Through nginx, from whichever server, by X-Accel-Redirect from the artifacts folder.
    auto https = front->client();
    for (int i = 0; i < 2; ++i) {
        auto gem = https->Get("/rubygems/gems/acme-pro-1.1.0.gem", basic(license.key));
        REQUIRE(gem);
        CHECK(gem->status == 200);
        CHECK(gem->body == file);
    }
}

TEST_CASE_METHOD(Fleet, "a key rotated with the CLI signs the new licenses of both servers")
{
    auto client_a = a().client();
    auto client_b = b().client();
    auto first = post_license(client_a, admin_token, "before-a");
    REQUIRE(first);
    REQUIRE(first->status == 201);
    auto old_kid = kid_of(json_of(first)["key"]);
    // Anyone can send a key naming a kid B does not trust; B re-reads its trusted keys for it.
    // That must not keep B from re-reading them for the genuine key just below.
    std::string forged = json_of(first)["key"];
    auto forged_kid = old_kid;
    forged_kid[20] = forged_kid[20] == 'A' ? 'B' : 'A';
    forged = forged.substr(0, forged.rfind('.') + 1) + charter::format::base64url_encode(R"({"kid":")" + forged_kid + "\"}");
    CHECK(validate(client_b, forged)["status"] == "unknown_key");

    auto rotated = cli({ "key", "rotate" });
    auto new_kid = trimmed(rotated.out);
    REQUIRE(new_kid.starts_with("k4.pid."));
    REQUIRE(new_kid != old_kid);

    // Each server signs its next license with the new key, and the other validates it at once:
    // B before it has signed anything with the new key itself.
    auto issue_on = [&](httplib::Client& client, std::string const& idempotency_key) {
        auto issued = post_license(client, admin_token, idempotency_key);
        REQUIRE(issued);
        INFO(issued->body);
        REQUIRE(issued->status == 201);
        std::string key = json_of(issued)["key"];
        CHECK(kid_of(key) == new_kid);
        return key;
    };
    auto from_a = issue_on(client_a, "after-a");
    CHECK(validate(client_b, from_a)["status"] == "valid");
    auto from_b = issue_on(client_b, "after-b");
    CHECK(validate(client_a, from_b)["status"] == "valid");
    // The license signed before the rotation still validates on both.
    CHECK(validate(client_b, json_of(first)["key"])["status"] == "valid");
}

TEST_CASE_METHOD(Fleet, "one server killed during an issuance load through nginx: no acknowledged license is lost")
{
    // Six clients issue through nginx, each request with its own Idempotency-Key, sent again
    // (bounded) when it got no answer or a 502/503: what a payment webhook does. Server A is
    // killed once 60 licenses were acknowledged.
    constexpr int clients = 6, per_client = 40;
    std::mutex mutex;
    std::map<std::string, std::string> acknowledged; // Idempotency-Key → license id
    std::vector<std::string> failures;
    std::atomic<int> answered { 0 };
    std::atomic<int> retried { 0 }; // answers other than 201 the clients saw
    auto client_loop = [&](int which) {
        auto client = front->client();
        for (int i = 0; i < per_client; ++i) {
            auto key = "load-" + std::to_string(which) + "-" + std::to_string(i);
            std::string outcome;
            for (int attempt = 0; attempt < 20; ++attempt) {
                auto result = post_license(*client, admin_token, key);
                if (result && result->status == 201) {
                    std::lock_guard lock(mutex);
                    acknowledged[key] = Json::parse(result->body).at("id").get<std::string>();
                    outcome.clear();
                    break;
                }
                outcome = result ? std::to_string(result->status) + " " + result->body : "no answer";
                retried.fetch_add(1);
                if (result && result->status != 502 && result->status != 503)
                    break;
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            answered.fetch_add(1);
            if (!outcome.empty()) {
                std::lock_guard lock(mutex);
                failures.push_back(key + ": " + outcome);
            }
        }
    };
    std::vector<std::thread> threads;
    for (int which = 0; which < clients; ++which)
        threads.emplace_back(client_loop, which);
    wait_until([&] { return answered.load() >= 60; }, "60 requests answered");
    int before_kill = answered.load();
    a().kill_hard();
    for (auto& thread : threads)
        thread.join();
    INFO(logs());
    CHECK(before_kill < clients * per_client);
    CHECK(failures.empty());
    // nginx itself passed the requests A never answered to B (they carry an Idempotency-Key):
    // no client saw the failure.
    CHECK(retried.load() == 0);
    for (auto const& failure : failures)
        UNSCOPED_INFO(failure);
    CHECK(acknowledged.size() == size_t(clients * per_client));
    std::set<std::string> ids;
    for (auto const& [key, id] : acknowledged)
        ids.insert(id);
    CHECK(ids.size() == acknowledged.size());
    // Every acknowledged license is in the database, and nothing else: a license A committed
    // without answering was found by the retry of its key.
    CHECK(license_ids() == ids);
}

TEST_CASE_METHOD(GemFleet, "one server killed during a bundle install loop: every run succeeds through nginx")
{
    REQUIRE(std::filesystem::exists("/usr/bin/bundle"));
    auto license = issue("acme-pro");
    auto app = temp / "app";
    std::filesystem::create_directories(app);
    write_file(app + "/Gemfile",
        "source \"https://127.0.0.1:" + std::to_string(front->https_port()) + "/rubygems/\"\n\ngem \"acme-pro\"\n");
    constexpr int runs = 6;
    std::atomic<int> started { 0 };
    std::vector<ProcessResult> results(runs);
    std::thread loop([&] {
        for (int run = 0; run < runs; ++run) {
            started.fetch_add(1);
            // A fresh install each time (no gems, no lockfile), with Bundler's index cache kept
            // as a CI machine keeps it.
            auto bundle_path = temp / ("bundle-" + std::to_string(run));
            std::filesystem::remove(app + "/Gemfile.lock");
            std::map<std::string, std::string> env { { "HOME", temp / "ruby-home" }, { "GEM_HOME", temp / "ruby-gems" },
                { "GEM_PATH", temp / "ruby-gems" }, { "SSL_CERT_FILE", front->cert() },
                { "BUNDLE_USER_HOME", temp / "ruby-home/.bundle" }, { "BUNDLE_PATH", bundle_path },
                { "BUNDLE_GEMFILE", app + "/Gemfile" }, { "BUNDLE_APP_CONFIG", app + "/.bundle" }, { "BUNDLE_RETRY", "0" },
                { "BUNDLE_SILENCE_ROOT_WARNING", "true" }, { "BUNDLE_127__0__0__1", "license:" + license.key },
                { "http_proxy", "" }, { "https_proxy", "" } };
            results[run] = run_process({ "/bin/sh", "-c", "cd \"$1\" && /usr/bin/bundle install", "sh", app }, env);
        }
    });
    wait_until([&] { return started.load() >= 2; }, "the second bundle install started");
    a().kill_hard();
    loop.join();
    INFO(logs());
    for (int run = 0; run < runs; ++run) {
        INFO("run " << run << ": " << results[run].out << results[run].err);
        CHECK(results[run].exit_code == 0);
        CHECK(contains(results[run].out, "acme-pro 1.0.0"));
    }
    // B answered after A was gone.
    bool b_served = false;
    for (auto const& line : b().access_log())
        b_served = b_served || (line["route"] == "/rubygems/gems/{file}" && line["status"] == 200);
    CHECK(b_served);
}

// What /metrics says of reads answered from memory (charter_database_reads_total) and of the
// change feed (charter_change_feed_listening).
int64_t metric(ServerChild& server, std::string const& line_start)
{
    auto client = server.client();
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    REQUIRE(metrics->status == 200);
    std::istringstream lines(metrics->body);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(line_start + " ", 0) == 0)
            return std::stoll(line.substr(line_start.size() + 1));
    }
    FAIL("no metric " << line_start << " in\n" << metrics->body);
    return -1;
}

int64_t from_memory(ServerChild& server)
{
    return metric(server, "charter_database_reads_total{answered=\"memory\"}");
}

TEST_CASE_METHOD(Fleet, "on PostgreSQL a repeated read is answered from memory until anyone changes anything: a server, the CLI, psql", "[postgres]")
{
    auto license = issue("acme-pro");
    auto client_b = b().client();
    wait_until([&] { return metric(b(), "charter_change_feed_listening") == 1; }, "B listens for changes");
    CHECK(validate(client_b, license.key)["status"] == "valid");
    auto before = from_memory(b());
    for (int i = 0; i < 5; ++i)
        CHECK(validate(client_b, license.key)["status"] == "valid");
    // Each validation reads the license once: the repeated ones from memory (one may still ask,
    // if the notification of the issuance reached B after the first).
    CHECK(from_memory(b()) - before >= 4);

    // A change made by hand, outside Charter, tells the servers too (the schema's triggers), as
    // soon as PostgreSQL delivers the notification (psql does not wait for that, as charter and
    // charter-server do).
    sql("UPDATE licenses SET suspended_at = 1764288000, suspend_reason = 'changed by hand' WHERE id = '" + license.id + "'");
    wait_until([&] { return validate(client_b, license.key)["status"] == "suspended"; }, "B honours the change by hand");
    auto verdict = validate(client_b, license.key);
    CHECK(verdict["status"] == "suspended");
    CHECK(contains(verdict["message"], "changed by hand"));

    // The feed's connection cut: until it is made again, every read goes to the database, so a
    // change made meanwhile is honoured all the same (made by hand: once delivered, if the feed
    // listens again by then); then memory answers again.
    auto cut = sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'charter change feed'");
    CHECK(trimmed(cut) == "2"); // A's and B's
    sql("UPDATE licenses SET suspended_at = NULL, suspend_reason = NULL WHERE id = '" + license.id + "'");
    wait_until([&] { return validate(client_b, license.key)["status"] == "valid"; }, "B honours the reinstatement by hand");
    wait_until([&] { return metric(b(), "charter_change_feed_listening") == 1; }, "B listens again");
    cli({ "suspend", license.id, "--reason", "suspended with the CLI" });
    verdict = validate(client_b, license.key);
    CHECK(verdict["status"] == "suspended");
    CHECK(contains(verdict["message"], "suspended with the CLI"));
    before = from_memory(b());
    CHECK(validate(client_b, license.key)["status"] == "suspended");
    CHECK(from_memory(b()) > before);
}

TEST_CASE_METHOD(Fleet, "PostgreSQL restarted under load: 503 while it is down, recovery without restarting the servers", "[postgres]")
{
    auto& cluster = PostgresCluster::get();
    // Four clients issue directly on the servers (two each), each request with its own
    // Idempotency-Key, sent again after a 503 until it is answered 201.
    constexpr int clients = 4, per_client = 40;
    std::mutex mutex;
    std::map<std::string, std::string> acknowledged;
    std::vector<std::string> failures;
    std::atomic<int> done { 0 }, unavailable { 0 };
    auto client_loop = [&](int which) {
        auto client = servers[which % 2]->client();
        client.set_read_timeout(30, 0);
        for (int i = 0; i < per_client; ++i) {
            auto key = "restart-" + std::to_string(which) + "-" + std::to_string(i);
            std::string outcome;
            for (int attempt = 0; attempt < 600; ++attempt) {
                auto result = post_license(client, admin_token, key);
                if (result && result->status == 201) {
                    std::lock_guard lock(mutex);
                    acknowledged[key] = Json::parse(result->body).at("id").get<std::string>();
                    outcome.clear();
                    break;
                }
                outcome = result ? std::to_string(result->status) + " " + result->body : "no answer";
                if (!result || result->status != 503)
                    break;
                unavailable.fetch_add(1);
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            done.fetch_add(1);
            if (!outcome.empty()) {
                std::lock_guard lock(mutex);
                failures.push_back(key + ": " + outcome);
            }
        }
    };
    std::vector<std::thread> threads;
    for (int which = 0; which < clients; ++which)
        threads.emplace_back(client_loop, which);
    wait_until([&] { return done.load() >= 30; }, "30 licenses answered");
    cluster.pause();
    // While it is down, both servers answer 503 (to issuance and to /healthz), and stay up.
    for (auto* server : { &a(), &b() }) {
        auto client = server->client();
        auto health = client.Get("/healthz");
        REQUIRE(health);
        CHECK(health->status == 503);
    }
    auto down_answered = [&] { return unavailable.load() >= 8; };
    for (int i = 0; i < 120000 && !down_answered(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(down_answered());
    int done_while_down = done.load();
    cluster.resume();
    for (auto& thread : threads)
        thread.join();
    INFO(logs());
    CHECK(done_while_down < clients * per_client);
    CHECK(failures.empty());
    for (auto const& failure : failures)
        UNSCOPED_INFO(failure);
    CHECK(acknowledged.size() == size_t(clients * per_client));
    std::set<std::string> ids;
    for (auto const& [key, id] : acknowledged)
        ids.insert(id);
    CHECK(license_ids() == ids);
    // The same processes serve again.
    for (auto* server : { &a(), &b() }) {
        CHECK(server->running());
        auto client = server->client();
        auto health = client.Get("/healthz");
        REQUIRE(health);
        CHECK(health->status == 200);
    }
}

TEST_CASE("each server with a data directory of its own: keys and artifacts copied between them", "[postgres]")
{
    // A is the vendor's data directory; B has its own, on the same database: a copy of keys/ and
    // an artifacts folder of its own (docs/operations.md, "Several servers").
    Vendor vendor;
    auto b_dir = vendor.temp / "data-b";
    std::filesystem::create_directories(b_dir + "/artifacts");
    std::filesystem::permissions(b_dir, std::filesystem::perms::owner_all);
    std::filesystem::permissions(b_dir + "/artifacts", std::filesystem::perms::owner_all);
    auto copy_folder = [&](std::string const& name) {
        std::filesystem::copy(vendor.data_dir + "/" + name, b_dir + "/" + name,
            std::filesystem::copy_options::recursive | std::filesystem::copy_options::skip_existing);
    };
    copy_folder("keys");
    auto database = test_database_url(vendor.data_dir);
    REQUIRE(database);
    ServerChild a(vendor);
    ServerChild b(b_dir, vendor.temp.path(), {}, { { "CHARTER_DATABASE_URL", *database } });
    auto client_a = a.client();
    auto client_b = b.client();

    // A release added on A's machine: B answers 503 (nginx passes the request on to A) until
    // the file is copied into B's folder, then serves the same bytes.
    write_file(vendor.temp / "acme-pro-1.0.tar.gz", "acme pro one");
    vendor.cli({ "release", "add", "--product", "acme-pro", "--version", "1.0", "--released-at", "2026-01-01",
        vendor.temp / "acme-pro-1.0.tar.gz" });
    auto license = vendor.issue("acme-pro");
    auto url = "/downloads/acme-pro/1.0/acme-pro-1.0.tar.gz";
    auto from_a = client_a.Get(url, basic(license.key));
    REQUIRE(from_a);
    CHECK(from_a->status == 200);
    CHECK(from_a->body == "acme pro one");
    auto missing = client_b.Get(url, basic(license.key));
    check_error(missing, 503, "unavailable", "does not have acme-pro-1.0.tar.gz yet");
    CHECK(missing->get_header_value("Retry-After") == "5");
    CHECK(contains(b.err(), "is missing; copy it from the artifacts folder"));
    copy_folder("artifacts");
    auto copied = client_b.Get(url, basic(license.key));
    REQUIRE(copied);
    CHECK(copied->status == 200);
    CHECK(copied->body == "acme pro one");

    // A key made with the CLI on A's machine and made current before its file reached B: B
    // refuses to issue (503, naming the key and what to do), signs nothing with the old key, and
    // signs with the new one once the file is copied.
    auto new_kid = trimmed(vendor.cli({ "key", "new" }).out);
    REQUIRE(new_kid.starts_with("k4.pid."));
    vendor.cli({ "key", "rotate", new_kid });
    auto refused = post_license(client_b, vendor.admin_token, "before-copy");
    check_error(refused, 503, "unavailable", new_kid);
    CHECK(contains(refused->body, "copy it there"));
    auto issued_a = post_license(client_a, vendor.admin_token, "on-a");
    REQUIRE(issued_a);
    REQUIRE(issued_a->status == 201);
    CHECK(kid_of(json_of(issued_a)["key"]) == new_kid);
    copy_folder("keys");
    // B tries a key that failed to load again after a few seconds: poll (bounded).
    auto issued_b = post_license(client_b, vendor.admin_token, "after-copy");
    for (int attempt = 0; attempt < 300 && (!issued_b || issued_b->status == 503); ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        issued_b = post_license(client_b, vendor.admin_token, "after-copy");
    }
    REQUIRE(issued_b);
    INFO(issued_b->body);
    REQUIRE(issued_b->status == 201);
    CHECK(kid_of(json_of(issued_b)["key"]) == new_kid);
    CHECK(validate(client_a, json_of(issued_b)["key"])["status"] == "valid");
}
