// Seats (docs/activations.md, docs/api.md "Activations"): machines, processes and cores counted
// against a license's seats at the exact limit, the same fingerprint twice, release, leases that
// end on a pinned clock, refused licenses, the admin API and the CLI, 50 machines at once against
// 10 seats, and a server killed with SIGKILL while they activate. The real `charter` CLI makes the
// data directory, the real charter-server serves it on 127.0.0.1 with an ephemeral port; tokens
// are checked with libcharter-verify's PASETO functions.

#include "charter/format/paserk_public.hpp"
#include "charter/format/paseto.hpp"
#include "charter/verify.hpp"
#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

constexpr char const* vendor_now = "2026-12-01T00:00:00Z";
constexpr char const* t0 = "2026-12-05T06:00:00Z";

struct Shop : Vendor {
    Shop()
        : Vendor(std::map<std::string, std::string> { { "CHARTER_NOW", vendor_now } })
    {
    }

    std::string public_paserk() const { return Json::parse(cli({ "key", "list", "--json" }).out)[0]["public_key"]; }
    int64_t count(std::string const& query) const { return std::stoll(sql(query)); }
};

struct Server : ServerChild {
    explicit Server(Shop const& shop, std::string const& now = t0, std::string const& threads = "4")
        : ServerChild(shop, { "--threads", threads, "--auth-failure-limit", "100000" }, { { "CHARTER_NOW", now } })
    {
    }
};

httplib::Result activate(httplib::Client& client, std::string const& key, Json body)
{
    return client.Post("/v1/activations", bearer(key), body.dump(), "application/json");
}

Json activated(httplib::Client& client, std::string const& key, Json body, int status = 201)
{
    auto result = activate(client, key, std::move(body));
    REQUIRE(result);
    INFO(result->body);
    REQUIRE(result->status == status);
    return Json::parse(result->body);
}

httplib::Result heartbeat(httplib::Client& client, std::string const& key, std::string const& id)
{
    return client.Post("/v1/activations/" + id + "/heartbeat", bearer(key), "", "application/json");
}

// The token's claims when its signature holds with `paserk` for `assertion`; otherwise null.
Json verified_claims(std::string const& token, std::string const& paserk, std::string const& assertion)
{
    charter::format::DecodedToken decoded;
    std::string detail;
    REQUIRE(charter::format::decode_v4_public(token, decoded, detail) == CHARTER_OK);
    auto key = charter::format::decode_paserk_public(paserk);
    REQUIRE(key);
    if (!charter::format::v4_public_signature_valid(decoded, key->data(), assertion))
        return nullptr;
    auto footer = Json::parse(decoded.footer);
    CHECK(footer.size() == 1);
    CHECK(footer["kid"].get<std::string>().starts_with("k4.pid."));
    return Json::parse(decoded.message);
}

}

TEST_CASE("machines: N seats are granted, the N+1st is refused with the holders; the same fingerprint keeps its seat")
{
    Shop shop;
    // No plan: machines, with the default lease of 15 minutes.
    auto license = shop.issue("acme-pro", { "--seats", "3", "--expires", "1y" });
    Server server(shop);
    auto client = server.client();

    std::vector<Json> granted;
    for (int i = 1; i <= 3; ++i) {
        auto answer = activated(client, license.key, { { "fingerprint", "machine-" + std::to_string(i) }, { "label", "web-" + std::to_string(i) } });
        CHECK(answer["seat"] == i);
        CHECK(answer["license"] == license.id);
        CHECK(answer["product"] == "acme-pro");
        CHECK(answer["label"] == "web-" + std::to_string(i));
        CHECK(answer["lease_ends_at"] == "2026-12-05T06:15:00Z");
        CHECK(answer["id"].get<std::string>().starts_with("act_"));
        granted.push_back(answer);
    }
    // The 4th machine: 409 with a sentence naming the limit, the holders and their heartbeats.
    auto refused = activate(client, license.key, { { "fingerprint", "machine-4" }, { "label", "web-4" } });
    check_error(refused, 409, "seats_exhausted", "all 3 seats of license " + license.id + " are held");
    auto message = Json::parse(refused->body)["error"]["message"].get<std::string>();
    for (auto const& label : { "\"web-1\" (seat 1, last heartbeat 2026-12-05T06:00:00Z)", "\"web-2\"", "\"web-3\"" })
        CHECK(contains(message, label));
    CHECK(contains(message, "15m after its last heartbeat"));
    CHECK(shop.count("SELECT count(*) FROM activations") == 3);

    // The same fingerprint again: its seat, a fresh token, 200.
    auto again = activated(client, license.key, { { "fingerprint", "machine-2" }, { "label", "web-2b" } }, 200);
    CHECK(again["id"] == granted[1]["id"]);
    CHECK(again["seat"] == 2);
    CHECK(again["label"] == "web-2b");
    CHECK(verified_claims(again["token"], shop.public_paserk(), "charter-activation:acme-pro")["seat"] == 2);
    CHECK(shop.count("SELECT count(*) FROM activations") == 3);

    // The token: PASETO v4.public of the current key, implicit assertion charter-activation:<product>.
    auto claims = verified_claims(granted[0]["token"], shop.public_paserk(), "charter-activation:acme-pro");
    REQUIRE(claims.is_object());
    CHECK(claims["iss"] == "Acme Inc.");
    CHECK(claims["jti"] == granted[0]["id"]);
    CHECK(claims["license"] == license.id);
    CHECK(claims["product"] == "acme-pro");
    CHECK(claims["fingerprint"] == sha256_hex("machine-1"));
    CHECK(claims["seat"] == 1);
    CHECK(claims["iat"] == "2026-12-05T06:00:00Z");
    CHECK(claims["exp"] == "2026-12-05T06:15:00Z");
    // Bound to its product: the license's own assertion (the product id) does not verify it.
    CHECK(verified_claims(granted[0]["token"], shop.public_paserk(), "acme-pro").is_null());
    CHECK(verified_claims(granted[0]["token"], shop.public_paserk(), "charter-activation:other").is_null());
    // What a product checks offline: libcharter-verify's charter_verify_activation, for this
    // machine's fingerprint, until the lease end.
    charter::Verifier verifier("acme-pro");
    REQUIRE(verifier.add_key(shop.public_paserk().c_str()) == CHARTER_OK);
    constexpr int64_t at_t0 = 1796450400, lease_end = at_t0 + 15 * 60;
    auto checked = verifier.verify_activation(granted[0]["token"].get<std::string>(), "machine-1", at_t0);
    INFO(checked.detail);
    REQUIRE(checked.valid());
    CHECK(checked.activation->seat() == 1);
    CHECK(checked.activation->license_id() == license.id);
    CHECK(checked.activation->lease_ends_at() == lease_end);
    CHECK(verifier.verify_activation(granted[0]["token"].get<std::string>(), "machine-1", lease_end).valid());
    CHECK(!verifier.verify_activation(granted[0]["token"].get<std::string>(), "machine-1", lease_end + 1).valid());
    CHECK(!verifier.verify_activation(granted[0]["token"].get<std::string>(), "machine-2", at_t0).valid());
    CHECK(!charter::Verifier("other").verify_activation(granted[0]["token"].get<std::string>(), "machine-1", at_t0).valid());
    // Only the fingerprint's hash is stored.
    CHECK(shop.count("SELECT count(*) FROM activations WHERE fingerprint_sha256 = '" + sha256_hex("machine-1") + "'") == 1);
    CHECK(!contains(shop.dump(), "machine-1"));

    // Released: the seat is free, and the next machine gets the lowest free number.
    auto released = client.Delete("/v1/activations/" + granted[1]["id"].get<std::string>(), bearer(license.key));
    REQUIRE(released);
    CHECK(released->status == 204);
    auto fourth = activated(client, license.key, { { "fingerprint", "machine-4" }, { "label", "web-4" } });
    CHECK(fourth["seat"] == 2);
    check_error(activate(client, license.key, { { "fingerprint", "machine-5" } }), 409, "seats_exhausted", "\"web-4\" (seat 2");
    // Released twice: still 204; its heartbeat: 410.
    CHECK(client.Delete("/v1/activations/" + granted[1]["id"].get<std::string>(), bearer(license.key))->status == 204);
    check_error(heartbeat(client, license.key, granted[1]["id"]), 410, "activation_expired", "activate again");
    // Unknown, or another license's: 404.
    auto other = shop.issue("acme-pro", { "--seats", "1" });
    check_error(client.Delete("/v1/activations/act_unknown", bearer(license.key)), 404, "not_found");
    check_error(client.Delete("/v1/activations/" + granted[0]["id"].get<std::string>(), bearer(other.key)), 404, "not_found");
    check_error(heartbeat(client, other.key, granted[0]["id"]), 404, "not_found");

    // Every activation and release is audited.
    CHECK(shop.count("SELECT count(*) FROM audit WHERE action = 'activation.create'") == 4);
    CHECK(shop.count("SELECT count(*) FROM audit WHERE action = 'activation.release' AND actor = 'license:" + license.id + "'") == 1);

    // Metrics: seats held per product.
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    CHECK(contains(metrics->body, "charter_active_seats{product=\"acme-pro\"} 3\n"));
    CHECK(server.stop() == 0);
}

TEST_CASE("the 409's sentence reaches curl's output")
{
    Shop shop;
    auto license = shop.issue("acme-pro", { "--seats", "1" });
    Server server(shop);
    auto client = server.client();
    activated(client, license.key, { { "fingerprint", "a" }, { "label", "build-01" } });
    auto curl = run_process({ "/usr/bin/curl", "-sS", "-H", "Authorization: Bearer " + license.key, "-H", "Content-Type: application/json",
        "--data", R"({"fingerprint":"b","label":"build-02"})", "http://127.0.0.1:" + std::to_string(server.port()) + "/v1/activations" });
    INFO(curl.out << curl.err);
    CHECK(contains(curl.out, "seats_exhausted"));
    CHECK(contains(curl.out, "all 1 seats of license " + license.id + " are held: \\\"build-01\\\" (seat 1, last heartbeat 2026-12-05T06:00:00Z)"));
    CHECK(server.stop() == 0);
}

TEST_CASE("processes and cores: an activation occupies its count, at the exact limit")
{
    Shop shop;
    shop.cli({ "plan", "add", "workers", "--product", "acme-pro", "--duration", "1y", "--seats", "8", "--count-seats", "processes",
        "--lease", "1h" });
    shop.cli({ "plan", "add", "cpu", "--product", "acme-pro", "--duration", "1y", "--seats", "4", "--count-seats", "cores", "--lease", "0" });
    auto workers = shop.issue("acme-pro", { "--plan", "workers" });
    auto cpu = shop.issue("acme-pro", { "--plan", "cpu" });
    Server server(shop);
    auto client = server.client();

    // The count is required on such a plan.
    check_error(activate(client, workers.key, { { "fingerprint", "host-a" } }), 422, "invalid",
        "this license's seats are counted in processes; send \"processes\"");
    check_error(activate(client, workers.key, { { "fingerprint", "host-a" }, { "processes", 0 } }), 422, "invalid",
        "\"processes\" must be a whole number from 1");
    check_error(activate(client, workers.key, { { "fingerprint", "host-a" }, { "processes", "5" } }), 400, "invalid_field");
    // 5 + 3 = 8: both fit; one more process does not.
    auto a = activated(client, workers.key, { { "fingerprint", "host-a" }, { "label", "a" }, { "processes", 5 } });
    CHECK(a["lease_ends_at"] == "2026-12-05T07:00:00Z");
    activated(client, workers.key, { { "fingerprint", "host-b" }, { "label", "b" }, { "processes", 3 } });
    check_error(activate(client, workers.key, { { "fingerprint", "host-c" }, { "label", "c" }, { "processes", 1 } }), 409,
        "seats_exhausted", "license " + workers.id + " allows 8 processes and 8 are held (\"a\" (seat 1, 5 processes");
    // host-a again with 6 processes would make 9: refused; with 4 it fits and frees one.
    check_error(activate(client, workers.key, { { "fingerprint", "host-a" }, { "processes", 6 } }), 409, "seats_exhausted",
        "this activation asks for 6");
    CHECK(activated(client, workers.key, { { "fingerprint", "host-a" }, { "processes", 4 } }, 200)["seat"] == 1);
    CHECK(activated(client, workers.key, { { "fingerprint", "host-c" }, { "processes", 1 } })["seat"] == 3);

    // Cores, node-locked (lease 0): no lease end, no exp in the token.
    auto whole = activated(client, cpu.key, { { "fingerprint", "box" }, { "cores", 4 } });
    CHECK(whole["lease_ends_at"].is_null());
    auto claims = verified_claims(whole["token"], shop.public_paserk(), "charter-activation:acme-pro");
    REQUIRE(claims.is_object());
    CHECK(!claims.contains("exp"));
    check_error(activate(client, cpu.key, { { "fingerprint", "box-2" }, { "cores", 1 } }), 409, "seats_exhausted",
        "allows 4 cores and 4 are held");
    CHECK(contains(Json::parse(activate(client, cpu.key, { { "fingerprint", "box-2" }, { "cores", 1 } })->body).dump(),
        "ask the vendor to release one"));

    // The CLI lists them; the admin API too.
    auto listed = Json::parse(shop.cli({ "activation", "list", workers.id, "--json" }).out);
    REQUIRE(listed.size() == 3);
    CHECK(listed[0]["processes"] == 4);
    CHECK(listed[0]["units"] == 4);
    CHECK(listed[0]["state"] == "active");
    auto text = shop.cli({ "activation", "list", cpu.id }).out;
    CHECK(contains(text, "seat 1  active  (no label)  4 cores"));
    CHECK(contains(text, "lease none (node-locked)"));
    CHECK(server.stop() == 0);
}

TEST_CASE("an ended lease frees its seat at the next count, on a pinned clock")
{
    Shop shop;
    auto license = shop.issue("acme-pro", { "--seats", "1" });
    std::string first_id;
    {
        Server server(shop, "2026-12-05T06:00:00Z");
        auto client = server.client();
        first_id = activated(client, license.key, { { "fingerprint", "old" }, { "label", "old" } })["id"];
        CHECK(server.stop() == 0);
    }
    {
        // 10 minutes later a heartbeat renews the lease to 06:25.
        Server server(shop, "2026-12-05T06:10:00Z");
        auto client = server.client();
        auto renewed = heartbeat(client, license.key, first_id);
        REQUIRE(renewed);
        INFO(renewed->body);
        REQUIRE(renewed->status == 200);
        auto answer = Json::parse(renewed->body);
        CHECK(answer["id"] == first_id);
        CHECK(answer["lease_ends_at"] == "2026-12-05T06:25:00Z");
        auto claims = verified_claims(answer["token"], shop.public_paserk(), "charter-activation:acme-pro");
        CHECK(claims["exp"] == "2026-12-05T06:25:00Z");
        CHECK(claims["iat"] == "2026-12-05T06:10:00Z");
        CHECK(server.stop() == 0);
    }
    {
        // At the lease's end the seat is still held.
        Server server(shop, "2026-12-05T06:25:00Z");
        auto client = server.client();
        check_error(activate(client, license.key, { { "fingerprint", "new" } }), 409, "seats_exhausted",
            "\"old\" (seat 1, last heartbeat 2026-12-05T06:10:00Z)");
        CHECK(server.stop() == 0);
    }
    {
        // One second later the next count expires it (audited) and grants the seat.
        Server server(shop, "2026-12-05T06:25:01Z");
        auto client = server.client();
        auto metrics = client.Get("/metrics");
        REQUIRE(metrics);
        CHECK(!contains(metrics->body, "charter_active_seats{product=\"acme-pro\"}"));
        CHECK(activated(client, license.key, { { "fingerprint", "new" } })["seat"] == 1);
        CHECK(shop.count("SELECT count(*) FROM audit WHERE action = 'activation.expire' AND subject = '" + first_id + "'") == 1);
        CHECK(trimmed(shop.sql("SELECT expired_at FROM activations WHERE id = '" + first_id + "'")) == "1796451900");
        check_error(heartbeat(client, license.key, first_id), 410, "activation_expired", "lease ended at 2026-12-05T06:25:00Z");
        auto listed = Json::parse(shop.cli({ "activation", "list", license.id, "--json" }).out);
        REQUIRE(listed.size() == 2);
        CHECK(listed[0]["state"] == "expired");
        CHECK(listed[1]["state"] == "active");
        CHECK(server.stop() == 0);
    }
}

TEST_CASE("a suspended, revoked or expired license can neither activate nor heartbeat; bad bodies are refused")
{
    Shop shop;
    auto license = shop.issue("acme-pro", { "--seats", "2", "--expires", "2026-12-31" });
    auto revoked = shop.issue("acme-pro", { "--seats", "2" });
    std::string id;
    {
        Server server(shop);
        auto client = server.client();
        id = activated(client, license.key, { { "fingerprint", "m" } })["id"];
        activated(client, revoked.key, { { "fingerprint", "m" } });

        check_error(activate(client, license.key, Json::object()), 400, "invalid_field", "\"fingerprint\" is required");
        check_error(activate(client, license.key, { { "fingerprint", "" } }), 422, "invalid", "1 to 256 bytes");
        check_error(activate(client, license.key, { { "fingerprint", std::string(257, 'x') } }), 422, "invalid", "(it is 257)");
        CHECK(activated(client, license.key, { { "fingerprint", std::string(256, 'x') } })["seat"] == 2);
        check_error(activate(client, license.key, { { "fingerprint", "m" }, { "hostname", "x" } }), 400, "unknown_field");
        check_error(activate(client, license.key, { { "fingerprint", "m" }, { "label", "a\nb" } }), 422, "invalid");
        check_error(activate(client, "v4.public.not-a-key", { { "fingerprint", "m" } }), 401, "unauthorized");
        CHECK(server.stop() == 0);
    }
    shop.cli({ "suspend", license.id, "--reason", "unpaid invoice" });
    shop.cli({ "revoke", revoked.id });
    {
        Server server(shop);
        auto client = server.client();
        check_error(activate(client, license.key, { { "fingerprint", "m2" } }), 403, "suspended", "unpaid invoice");
        check_error(heartbeat(client, license.key, id), 403, "suspended", "contact the vendor to reinstate it");
        check_error(activate(client, revoked.key, { { "fingerprint", "m2" } }), 403, "revoked", "has been revoked");
        // Giving a seat back is always allowed.
        CHECK(client.Delete("/v1/activations/" + id, bearer(license.key))->status == 204);
        CHECK(server.stop() == 0);
    }
    shop.cli({ "reinstate", license.id });
    {
        Server server(shop, "2027-01-01T00:00:00Z");
        auto client = server.client();
        check_error(activate(client, license.key, { { "fingerprint", "m2" } }), 403, "expired", "expired on 2026-12-31");
        CHECK(server.stop() == 0);
    }
}

TEST_CASE("operators: the admin API lists a license's activations and releases any; the CLI releases too")
{
    Shop shop;
    auto license = shop.issue("acme-pro", { "--seats", "2" });
    Server server(shop);
    auto client = server.client();
    auto one = activated(client, license.key, { { "fingerprint", "a" }, { "label", "a" } });
    auto two = activated(client, license.key, { { "fingerprint", "b" }, { "label", "b" } });

    auto reader = shop.token("read");
    auto listed = client.Get("/v1/licenses/" + license.id + "/activations", bearer(reader));
    REQUIRE(listed);
    INFO(listed->body);
    REQUIRE(listed->status == 200);
    auto data = Json::parse(listed->body)["data"];
    REQUIRE(data.size() == 2);
    CHECK(data[0]["id"] == one["id"]);
    CHECK(data[0]["label"] == "a");
    CHECK(data[0]["last_heartbeat_at"] == "2026-12-05T06:00:00Z");
    CHECK(data[0]["fingerprint_sha256"] == sha256_hex("a"));
    check_error(client.Get("/v1/licenses/lic_unknown/activations", bearer(reader)), 404, "not_found");

    // DELETE with an admin token: the revoke scope (or admin); read is not enough.
    check_error(client.Delete("/v1/activations/" + one["id"].get<std::string>(), bearer(reader)), 403, "forbidden",
        "lacks the \"revoke\" scope");
    auto revoker = shop.token("revoke");
    auto released = client.Delete("/v1/activations/" + one["id"].get<std::string>(), bearer(revoker));
    REQUIRE(released);
    CHECK(released->status == 204);
    check_error(client.Delete("/v1/activations/act_unknown", bearer(revoker)), 404, "not_found");
    auto token_id = trimmed(shop.sql("SELECT actor FROM audit WHERE action = 'activation.release'"));
    CHECK(token_id.starts_with("token:tok_"));

    // The CLI: release by id, audited as the CLI.
    auto cli = shop.run({ "activation", "release", two["id"] });
    CHECK(cli.exit_code == 0);
    CHECK(contains(cli.err, "released " + two["id"].get<std::string>() + " (seat 2 of " + license.id + ")"));
    CHECK(shop.count("SELECT count(*) FROM audit WHERE action = 'activation.release' AND actor = 'cli'") == 1);
    auto unknown = shop.run({ "activation", "release", "act_nope" });
    CHECK(unknown.exit_code != 0);
    CHECK(contains(unknown.err, "no activation act_nope"));
    auto no_license = shop.run({ "activation", "list", "lic_nope" });
    CHECK(no_license.exit_code != 0);
    CHECK(activated(client, license.key, { { "fingerprint", "c" } })["seat"] == 1);
    CHECK(server.stop() == 0);
}

TEST_CASE("50 machines activating at once against 10 seats: exactly 10 hold one, with distinct seat numbers")
{
    Shop shop;
    auto license = shop.issue("acme-pro", { "--seats", "10" });
    // A worker per machine: every request is in the server at once, and the database decides.
    Server server(shop, t0, "50");
    std::mutex mutex;
    std::vector<int> statuses;
    std::set<int64_t> seats;
    std::vector<std::string> others; // any answer but 201 and 409
    std::atomic<int> ready { 0 };
    std::vector<std::thread> machines;
    for (int i = 0; i < 50; ++i) {
        machines.emplace_back([&, i] {
            auto client = server.client();
            ++ready;
            while (ready < 50)
                std::this_thread::yield();
            auto result = activate(client, license.key, { { "fingerprint", "machine-" + std::to_string(i) } });
            std::lock_guard lock(mutex);
            statuses.push_back(result ? result->status : 0);
            if (!result)
                others.push_back("no answer: " + httplib::to_string(result.error()));
            if (result && result->status != 201 && result->status != 409)
                others.push_back(std::to_string(result->status) + ": " + result->body);
            if (result && result->status == 201)
                seats.insert(Json::parse(result->body)["seat"].get<int64_t>());
        });
    }
    for (auto& machine : machines)
        machine.join();
    std::string unexpected;
    for (auto const& other : others)
        unexpected += other + "\n";
    INFO(unexpected);
    CHECK(std::count(statuses.begin(), statuses.end(), 201) == 10);
    CHECK(std::count(statuses.begin(), statuses.end(), 409) == 40);
    CHECK(seats == std::set<int64_t> { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 });
    CHECK(shop.count("SELECT count(*) FROM activations WHERE license_id = '" + license.id + "'") == 10);
    CHECK(server.stop() == 0);
}

TEST_CASE("charter-server killed with SIGKILL while machines activate and release: no seat granted twice, none lost")
{
    Shop shop;
    auto license = shop.issue("acme-pro", { "--seats", "10" });
    auto server = std::make_unique<Server>(shop, t0, "50");
    int port = server->port();
    std::mutex mutex;
    std::vector<std::pair<std::string, int64_t>> received; // every 201: (id, seat)
    std::atomic<bool> stop { false };
    std::vector<std::thread> machines;
    for (int i = 0; i < 50; ++i) {
        machines.emplace_back([&, i] {
            httplib::Client client("127.0.0.1", port);
            client.set_connection_timeout(5, 0);
            client.set_read_timeout(10, 0);
            for (int round = 0; !stop; ++round) {
                auto result = activate(client, license.key, { { "fingerprint", "m-" + std::to_string(i) + "-" + std::to_string(round) } });
                if (!result)
                    return;
                if (result->status != 201)
                    continue;
                auto answer = Json::parse(result->body);
                {
                    std::lock_guard lock(mutex);
                    received.emplace_back(answer["id"], answer["seat"]);
                }
                // Some machines give their seat back at once, so seats keep changing hands.
                if (i % 2 == 0)
                    (void)client.Delete("/v1/activations/" + answer["id"].get<std::string>(), bearer(license.key));
            }
        });
    }
    for (int i = 0; i < 500; ++i) {
        {
            std::lock_guard lock(mutex);
            if (received.size() >= 30)
                break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    server->kill_hard();
    stop = true;
    for (auto& machine : machines)
        machine.join();
    INFO(received.size() << " activations granted before the kill");
    REQUIRE(received.size() >= 10);

    server = std::make_unique<Server>(shop, t0, "2");
    // Every 201 a machine saw is a row with that seat.
    for (auto const& [id, seat] : received)
        CHECK(shop.count("SELECT seat FROM activations WHERE id = '" + id + "'") == seat);
    // No seat held twice, no more than 10 held.
    CHECK(shop.count("SELECT count(*) FROM activations WHERE released_at IS NULL AND expired_at IS NULL") <= 10);
    CHECK(shop.count("SELECT count(*) FROM (SELECT seat FROM activations WHERE released_at IS NULL AND expired_at IS NULL"
                     " GROUP BY seat HAVING count(*) > 1) AS held_twice")
        == 0);
    CHECK(integrity_check(shop.data_dir) == "ok\n");
    // The server counts on: the seats still free are granted, and no more.
    auto client = server->client();
    auto live = shop.count("SELECT count(*) FROM activations WHERE released_at IS NULL AND expired_at IS NULL");
    for (int64_t i = live; i < 10; ++i)
        activated(client, license.key, { { "fingerprint", "after-" + std::to_string(i) } });
    check_error(activate(client, license.key, { { "fingerprint", "one-too-many" } }), 409, "seats_exhausted");
    CHECK(server->stop() == 0);
}

TEST_CASE("heartbeats answered 200 survive a SIGKILL of the server right after: the renewed leases still hold their seats")
{
    // Heartbeats commit without an fsync (docs/activations.md, "Durability"): a crash of the
    // process must still keep every renewal it answered; only a power loss may undo one.
    Shop shop;
    auto license = shop.issue("acme-pro", { "--seats", "16" });
    std::vector<std::string> ids;
    {
        Server server(shop, "2026-12-05T06:00:00Z");
        auto client = server.client();
        for (int i = 0; i < 16; ++i)
            ids.push_back(activated(client, license.key, { { "fingerprint", "m-" + std::to_string(i) } })["id"]);
        CHECK(server.stop() == 0);
    }
    {
        // Ten minutes later the 16 machines renew at once (their leases then end at 06:25), and
        // the server is killed as soon as the last answer has arrived.
        Server server(shop, "2026-12-05T06:10:00Z", "16");
        int port = server.port();
        std::vector<std::string> answers(ids.size());
        std::vector<std::thread> machines;
        for (size_t i = 0; i < ids.size(); ++i) {
            machines.emplace_back([&, i] {
                httplib::Client client("127.0.0.1", port);
                client.set_read_timeout(60, 0);
                auto renewed = heartbeat(client, license.key, ids[i]);
                answers[i] = renewed ? std::to_string(renewed->status) + " " + renewed->body : "no answer";
            });
        }
        for (auto& machine : machines)
            machine.join();
        server.kill_hard();
        for (auto const& answer : answers) {
            INFO(answer);
            REQUIRE(answer.starts_with("200 "));
            CHECK(Json::parse(answer.substr(4))["lease_ends_at"] == "2026-12-05T06:25:00Z");
        }
    }
    // Every answered renewal is in the database: heartbeat 06:10, lease end 06:25.
    CHECK(shop.count("SELECT count(*) FROM activations WHERE heartbeat_at = 1796451000 AND lease_ends_at = 1796451900") == 16);
    CHECK(integrity_check(shop.data_dir) == "ok\n");
    {
        // At 06:20, past the leases' first ends (06:15), the 16 seats are still held.
        Server server(shop, "2026-12-05T06:20:00Z");
        auto client = server.client();
        check_error(activate(client, license.key, { { "fingerprint", "one-too-many" } }), 409, "seats_exhausted");
        CHECK(server.stop() == 0);
    }
}
