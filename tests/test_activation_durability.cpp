// Which commits of seats are flushed to disk (docs/activations.md, "Heartbeats are committed
// without an fsync"): charter-server runs under strace, which counts its fsync and fdatasync
// calls. An activation and a release are durable (at least one flush before the answer); a
// heartbeat is not (none). SQLite only: PostgreSQL's flushes happen in its
// own processes. The program reports "skipped" (exit 77) where strace is missing or may not
// trace.

#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <regex>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

// charter-server under `strace -f`, its flushes written to a file as they happen (strace writes
// each line before the traced thread goes on, so a flush before an answer is in the file when
// the answer arrives).
struct TracedServer {
    TracedServer(Vendor const& vendor, std::string const& now)
        : trace(vendor.temp / "flushes.txt")
        , server(vendor.data_dir, vendor.temp.path(), { "--threads", "8" },
              { { "CHARTER_NOW", now }, { "ASAN_OPTIONS", without_leak_check() } },
              { "/usr/bin/env", "strace", "-f", "-qq", "-y", "-e", "trace=fsync,fdatasync", "-o", trace })
    {
    }

    // LeakSanitizer cannot run under ptrace: at exit it would report a fatal error (an abort
    // with the sanitizer pass's abort_on_error) instead of checking. The traced server alone runs
    // without the leak check; every other server of the sanitizer pass keeps it.
    static std::string without_leak_check()
    {
        char const* options = std::getenv("ASAN_OPTIONS");
        return std::string(options ? options : "") + (options && *options ? ":" : "") + "detect_leaks=0";
    }

    // The flushes so far.
    size_t flushes() const
    {
        static std::regex const flush("\\bf(data)?sync\\(");
        auto text = read_file(trace);
        return static_cast<size_t>(std::distance(std::sregex_iterator(text.begin(), text.end(), flush), std::sregex_iterator()));
    }

    ~TracedServer() { stop(); }

    // SIGTERM to charter-server itself (strace's child); strace then ends with its exit code.
    // (strace told to stop would only detach, leaving the server running.)
    int stop()
    {
        auto pid = std::to_string(server.pid());
        std::ifstream children("/proc/" + pid + "/task/" + pid + "/children");
        pid_t child = 0;
        if (children >> child && child > 0)
            ::kill(child, SIGTERM);
        return server.wait();
    }

    std::string trace;
    ServerChild server;
};

Json answered(httplib::Result const& result, int status)
{
    REQUIRE(result);
    INFO(result->body);
    REQUIRE(result->status == status);
    return result->body.empty() ? Json() : Json::parse(result->body);
}

}

TEST_CASE("an activation and a release are flushed to disk before their answer; a heartbeat is not")
{
    Vendor vendor(std::map<std::string, std::string> { { "CHARTER_NOW", "2026-12-01T00:00:00Z" } });
    auto license = vendor.issue("acme-pro", { "--seats", "30" });
    // 20 machines activated at 06:00, renewed at 06:10: each heartbeat changes its row (a
    // renewal within the same second would write nothing, flushed or not).
    std::vector<std::string> ids;
    {
        ServerChild server(vendor, {}, { { "CHARTER_NOW", "2026-12-05T06:00:00Z" } });
        auto client = server.client();
        for (int i = 0; i < 20; ++i)
            ids.push_back(answered(client.Post("/v1/activations", bearer(license.key),
                                       Json { { "fingerprint", "machine-" + std::to_string(i) } }.dump(), "application/json"),
                201)["id"]);
        CHECK(server.stop() == 0);
    }
    TracedServer traced(vendor, "2026-12-05T06:10:00Z");
    // One request at a time: the server keeps using its one database connection, so no new
    // connection's opening checkpoint (which flushes) falls between the counts.
    auto client = traced.server.client();
    auto activate = [&](std::string const& fingerprint) {
        return client.Post("/v1/activations", bearer(license.key), Json { { "fingerprint", fingerprint } }.dump(), "application/json");
    };

    auto before = traced.flushes();
    std::string id = answered(activate("machine-new"), 201)["id"];
    CHECK(traced.flushes() > before);

    auto before_heartbeats = traced.flushes();
    for (auto const& renewed_id : ids) {
        auto renewed = answered(client.Post("/v1/activations/" + renewed_id + "/heartbeat", bearer(license.key), "", "application/json"), 200);
        CHECK(renewed["lease_ends_at"] == "2026-12-05T06:25:00Z");
    }
    INFO(read_file(traced.trace));
    CHECK(traced.flushes() == before_heartbeats);

    auto before_release = traced.flushes();
    answered(client.Delete("/v1/activations/" + ids[0], bearer(license.key)), 204);
    CHECK(traced.flushes() > before_release);

    auto before_second = traced.flushes();
    answered(activate("machine-newer"), 201);
    CHECK(traced.flushes() > before_second);
    CHECK(traced.stop() == 0);
    CHECK(vendor.sql("SELECT count(*) FROM activations WHERE heartbeat_at = 1796451000 AND lease_ends_at = 1796451900") == "22\n");
}
