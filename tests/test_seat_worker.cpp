// A real product process (examples/seat-worker, libcurl) against a real charter-server: it
// activates, heartbeats from its own thread and releases at SIGTERM, which frees the seat for
// another machine; with the server killed (SIGKILL) for longer than the lease it warns, then
// refuses after its grace period; with the server restarted on the same port it recovers.
//
// The plan's lease is 3 seconds and the product's grace 4 seconds, so the whole outage takes
// about 8 seconds. Every wait is bounded (60 s) and waits for what the product prints, never for
// a time.

#include "support/server_harness.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <regex>
#include <thread>

using namespace charter::testing;

namespace {

// The worker, its output in the vendor's temporary folder.
struct Worker {
    ChildProcess process;
    size_t seen { 0 }; // bytes of stdout already matched

    Worker(Vendor const& vendor, int port, std::string const& key, std::string const& public_key, std::string const& fingerprint,
        std::string const& name)
        : process({ ACME_SEAT_WORKER_PATH, "--server", "http://127.0.0.1:" + std::to_string(port), "--public-key", public_key,
                      "--fingerprint", fingerprint, "--label", name, "--grace", "4" },
              clean_env({ { "ACME_PRO_LICENSE", key } }), vendor.temp.path() + "/" + name)
    {
    }

    // Waits (at most 60 s) for a line after the ones matched so far; returns it.
    std::string next(std::string const& pattern)
    {
        std::regex const wanted(pattern);
        for (int i = 0; i < 6000; ++i) {
            auto out = process.out();
            for (size_t start = seen, end; (end = out.find('\n', start)) != std::string::npos; start = end + 1) {
                std::string line = out.substr(start, end - start);
                if (std::regex_search(line, wanted)) {
                    seen = end + 1;
                    return line;
                }
            }
            if (!process.running() && i > 0 && process.out() == out)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        FAIL("no line matching " << pattern << " in the worker's output:\n" << process.out() << "\nstderr:\n" << process.err());
        return {};
    }
};

}

TEST_CASE("a product activates, heartbeats, releases, rides out a server outage within its grace and recovers")
{
    Vendor vendor;
    vendor.cli({ "plan", "add", "floating", "--product", "acme-pro", "--duration", "1y", "--seats", "1", "--lease", "3s" });
    auto license = vendor.issue("acme-pro", { "--plan", "floating" });
    std::string public_key = trimmed(vendor.cli({ "key", "export" }).out);
    public_key = public_key.substr(public_key.find("k4.public."));
    public_key = public_key.substr(0, public_key.find_first_of(" \n\""));

    auto server = std::make_unique<ServerChild>(vendor);
    int port = server->port();

    auto a = std::make_unique<Worker>(vendor, port, license.key, public_key, "machine-a", "worker-a");
    CHECK(std::regex_search(a->next("^activated: "), std::regex("acme-pro holds seat 1 of license " + license.id + " until ")));
    a->next("^state: valid: acme-pro holds seat 1");
    a->next("^heartbeat: valid: acme-pro holds seat 1"); // renewed from its own thread
    a->next("^heartbeat: valid: ");

    // One seat: a second machine is refused, naming the holder.
    {
        Worker b(vendor, port, license.key, public_key, "machine-b", "worker-b");
        auto refused = b.next("^refused: ");
        CHECK(refused.find("acme-pro could not activate this machine: the license server has no free seat for this machine") != std::string::npos);
        CHECK(refused.find("worker-a") != std::string::npos);
        CHECK(b.process.wait() == 1);
    }

    // SIGTERM: the worker releases its seat, which the next machine gets at once.
    CHECK(a->process.stop() == 0);
    a->next("^released after [0-9]+ units of work$");
    {
        Worker b(vendor, port, license.key, public_key, "machine-b", "worker-b2");
        b.next("^activated: acme-pro holds seat 1 of license ");
        CHECK(b.process.stop() == 0);
        b.next("^released ");
    }

    // The outage: the server killed while the worker runs, for longer than the lease.
    a = std::make_unique<Worker>(vendor, port, license.key, public_key, "machine-a", "worker-a2");
    a->next("^activated: ");
    a->next("^state: valid: ");
    CHECK(server->kill_hard() == 128 + 9);
    auto warned = a->next("^state: warning: the license server could not be reached since ");
    CHECK(std::regex_search(warned, std::regex("; acme-pro keeps working until [0-9T:-]+Z$")));
    auto lapsed = a->next("^state: warning: .*, and the lease of seat 1 of license ");
    CHECK(lapsed.find("(grace period of 4 seconds)") != std::string::npos);
    auto refused = a->next("^state: refused: the license server could not be reached since ");
    CHECK(std::regex_search(refused, std::regex("; acme-pro may not run after [0-9T:-]+Z \\(grace period of 4 seconds\\); it works again once "
                                                "the license server renews the seat$")));
    CHECK(a->process.running()); // refusing work, still trying to reach the server

    // The server back on the same port: the next heartbeat activates again, and work resumes.
    server = std::make_unique<ServerChild>(vendor, std::vector<std::string> { "--listen", "127.0.0.1:" + std::to_string(port) });
    REQUIRE(server->port() == port);
    a->next("^state: valid: acme-pro holds seat 1 of license ");
    CHECK(a->process.stop() == 0);
    a->next("^released ");
    // Every seat the workers held was released by them (the one of the outage expired first and
    // was activated again); none is held now.
    auto listed = nlohmann::json::parse(vendor.cli({ "activation", "list", license.id, "--json" }).out);
    INFO(listed.dump(2));
    int active = 0, released = 0;
    for (auto const& activation : listed) {
        active += activation["state"] == "active";
        released += activation["state"] == "released";
    }
    CHECK(active == 0);
    CHECK(released >= 3);
}
