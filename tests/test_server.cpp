// charter-server as a payment webhook, an application and an operator meet it: the real binary
// on an ephemeral loopback port, driven over HTTP (cpp-httplib's client) and, where a client
// library would refuse to send the request, over a raw socket. Every server is stopped by the
// test that started it.

#include "charter/server/http_server.hpp"
#include "charter/verify.hpp"
#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <yaml-cpp/yaml.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

using Server = ServerChild;

// The vendor's one signing key, as `charter key list` shows it.
std::string public_key_of(Vendor const& vendor)
{
    auto keys = Json::parse(vendor.cli({ "key", "list", "--json" }).out);
    REQUIRE(keys.size() == 1);
    return keys[0]["public_key"];
}

Json body_of(httplib::Result const& result)
{
    REQUIRE(result);
    return Json::parse(result->body);
}

Json issue_body(Vendor const& vendor, Json extra = Json::object())
{
    Json body { { "product", "acme-pro" }, { "customer", vendor.customer } };
    body.update(extra);
    return body;
}

httplib::Result issue(httplib::Client& client, std::string const& token, Json const& body, httplib::Headers extra = {})
{
    return client.Post("/v1/licenses", bearer(token, std::move(extra)), body.dump(), "application/json");
}

Json validate(httplib::Client& client, std::string const& key, std::string const& product = "acme-pro")
{
    auto result = client.Post("/v1/validate", Json { { "key", key }, { "product", product } }.dump(), "application/json");
    REQUIRE(result);
    REQUIRE(result->status == 200);
    return Json::parse(result->body);
}

// --- Raw sockets, for requests an HTTP client library would not send ---------------------------

int status_of(std::string const& response)
{
    if (!response.starts_with("HTTP/1.1 ") || response.size() < 12)
        return -1;
    return std::stoi(response.substr(9, 3));
}

size_t response_count(std::string const& stream)
{
    size_t count = 0;
    for (size_t at = stream.find("HTTP/1.1 "); at != std::string::npos; at = stream.find("HTTP/1.1 ", at + 1))
        ++count;
    return count;
}

std::string header_of(std::string const& response, std::string const& name)
{
    std::smatch match;
    std::regex pattern("\r\n" + name + ": *([^\r]*)\r\n", std::regex::icase);
    auto head = response.substr(0, response.find("\r\n\r\n") + 2);
    return std::regex_search(head, match, pattern) ? std::string(match[1]) : std::string();
}

std::string body_of_raw(std::string const& response)
{
    auto end = response.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : response.substr(end + 4);
}

// Bytes of a connection's data that the server has not read yet (its receive queue in
// /proc/net/tcp), or -1 when the server's end of the connection is not listed.
long unread_by_server(int server_port, int client_port)
{
    std::ifstream in("/proc/net/tcp");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        unsigned local_address = 0, local_port = 0, remote_address = 0, remote_port = 0, state = 0;
        unsigned long tx_queue = 0, rx_queue = 0;
        if (std::sscanf(line.c_str(), " %*d: %8X:%4X %8X:%4X %2X %8lX:%8lX", &local_address, &local_port, &remote_address,
                &remote_port, &state, &tx_queue, &rx_queue)
            != 7)
            continue;
        if (int(local_port) == server_port && int(remote_port) == client_port)
            return long(rx_queue);
    }
    return -1;
}

std::string metric_line_value(std::string const& metrics, std::string const& series)
{
    std::istringstream in(metrics);
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with(series + " "))
            return line.substr(series.size() + 1);
    }
    return "absent";
}

}

// --- The license lifecycle ---------------------------------------------------------------------

TEST_CASE("a license issued over HTTP validates, is revoked, then validates as revoked")
{
    Vendor vendor;
    Server server(vendor);
    CHECK(server.first_line() == "listening on http://127.0.0.1:" + std::to_string(server.port()));
    auto client = server.client();

    auto issued = issue(client, vendor.admin_token,
        issue_body(vendor, { { "expires", "2099-12-31" }, { "entitlements", { "sso", "audit-log" } }, { "seats", 5 } }));
    REQUIRE(issued);
    INFO(issued->body);
    REQUIRE(issued->status == 201);
    auto license = Json::parse(issued->body);
    std::string id = license["id"];
    std::string key = license["key"];
    CHECK(id.starts_with("lic_"));
    CHECK(key.starts_with("v4.public."));
    CHECK(license["status"] == "active");
    CHECK(license["product"] == "acme-pro");
    CHECK(license["customer"] == vendor.customer);
    CHECK(license["expires_at"] == "2099-12-31T00:00:00Z");
    CHECK(license["claims"]["seats"] == 5);
    CHECK(issued->get_header_value("Location") == "/v1/licenses/" + id);
    CHECK(vendor.license_ids() == std::set<std::string> { id });

    // The key verifies offline with the public key the server publishes.
    auto keys = body_of(client.Get("/v1/keys"));
    REQUIRE(keys["keys"].size() == 1);
    charter::Verifier verifier("acme-pro");
    REQUIRE(verifier.add_key(keys["keys"][0]["public_key"].get<std::string>().c_str()) == CHARTER_OK);
    CHECK(verifier.verify(key).status == CHARTER_OK);

    auto valid = validate(client, key);
    CHECK(valid["valid"] == true);
    CHECK(valid["status"] == "valid");
    CHECK(valid["license"]["id"] == id);
    CHECK(valid["license"]["entitlements"] == Json { "sso", "audit-log" });
    // Validation tells no more than the key itself holds: no email, no revocation reason.
    CHECK_FALSE(contains(valid.dump(), "jane@example.com"));

    auto other_product = validate(client, key, "acme-enterprise");
    CHECK(other_product["valid"] == false);
    CHECK(other_product["status"] == "wrong_product");
    CHECK(validate(client, "v4.public.not-a-key")["status"] == "bad_encoding");

    auto revoked = client.Post("/v1/licenses/" + id + "/revoke", bearer(vendor.admin_token),
        Json { { "reason", "refunded" } }.dump(), "application/json");
    REQUIRE(revoked);
    REQUIRE(revoked->status == 200);
    CHECK(Json::parse(revoked->body)["status"] == "revoked");
    CHECK(Json::parse(revoked->body)["revoke_reason"] == "refunded");

    auto after = validate(client, key);
    CHECK(after["valid"] == false);
    CHECK(after["status"] == "revoked");
    CHECK(contains(after["message"], "revoked"));
    CHECK_FALSE(contains(after.dump(), "refunded"));

    auto shown = body_of(client.Get("/v1/licenses/" + id, bearer(vendor.admin_token)));
    CHECK(shown["status"] == "revoked");
    CHECK(shown["key"] == key);
    check_error(client.Post("/v1/licenses/" + id + "/revoke", bearer(vendor.admin_token), "", "application/json"), 409,
        "conflict", "already revoked");

    // Both changes are in the audit log, attributed to the token.
    auto audit = body_of(client.Get("/v1/audit", bearer(vendor.admin_token)));
    std::set<std::string> actions;
    for (auto const& entry : audit["data"]) {
        if (entry["subject"] == id) {
            actions.insert(entry["action"].get<std::string>());
            CHECK(entry["actor"].get<std::string>().starts_with("token:tok_"));
        }
    }
    CHECK(actions == std::set<std::string> { "license.issue", "license.revoke" });
    CHECK(server.stop() == 0);
}

TEST_CASE("validation remembers good keys, but expiry and retired signing keys still apply")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    // A license that ends a few seconds from now: valid at first, expired later in this test.
    auto ends = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) + 4;
    std::tm parts {};
    gmtime_r(&ends, &parts);
    char expires[32];
    std::strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", &parts);
    auto short_lived = body_of(issue(client, vendor.admin_token, issue_body(vendor, { { "expires", expires } })));
    auto lasting = body_of(issue(client, vendor.admin_token, issue_body(vendor)));
    for (int i = 0; i < 3; ++i) {
        CHECK(validate(client, short_lived["key"])["status"] == "valid");
        CHECK(validate(client, lasting["key"])["status"] == "valid");
    }
    // Once the server's clock is past the expiry, the remembered key is expired.
    while (std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) <= ends + 1)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto expired = validate(client, short_lived["key"]);
    CHECK(expired["status"] == "expired");
    CHECK(expired["valid"] == false);
    CHECK(contains(expired["message"], "expired on"));
    // The same key for another product never matches a remembered verdict.
    CHECK(validate(client, lasting["key"], "acme-other")["status"] == "wrong_product");

    // The vendor rotates keys and retires the old one: the server notices within seconds and
    // forgets what it verified with it.
    auto old_kid = Json::parse(vendor.cli({ "key", "list", "--json" }).out)[0]["kid"].get<std::string>();
    vendor.cli({ "key", "rotate" });
    vendor.cli({ "key", "retire", old_kid });
    std::string status = "valid";
    for (int i = 0; i < 600 && status == "valid"; ++i) {
        status = validate(client, lasting["key"])["status"];
        if (status == "valid")
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(status == "unknown_key");
    client.stop();
    CHECK(server.stop() == 0);
}

TEST_CASE("an Idempotency-Key makes a retried issuance return the same license")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    auto body = issue_body(vendor, { { "name", "Order A-1001" } });
    httplib::Headers retry { { "Idempotency-Key", "order-A-1001" } };

    auto first = issue(client, vendor.admin_token, body, retry);
    REQUIRE(first);
    REQUIRE(first->status == 201);
    CHECK_FALSE(first->has_header("Idempotent-Replayed"));
    auto second = issue(client, vendor.admin_token, body, retry);
    REQUIRE(second);
    REQUIRE(second->status == 201);
    CHECK(second->get_header_value("Idempotent-Replayed") == "true");
    CHECK(Json::parse(second->body)["id"] == Json::parse(first->body)["id"]);
    CHECK(Json::parse(second->body)["key"] == Json::parse(first->body)["key"]);

    // The same key with another body is a client bug, not a retry.
    check_error(issue(client, vendor.admin_token, issue_body(vendor, { { "name", "Order A-1002" } }), retry), 409,
        "idempotency_conflict", "Idempotency-Key");
    check_error(issue(client, vendor.admin_token, body, { { "Idempotency-Key", std::string(256, 'k') } }), 400,
        "invalid_header", "Idempotency-Key");
    CHECK(vendor.license_ids().size() == 1);

    // Eight webhooks retrying at once with one key: one license.
    std::vector<std::string> ids(8);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < ids.size(); ++i) {
        threads.emplace_back([&, i] {
            auto parallel = server.client();
            auto result = issue(parallel, vendor.admin_token, body, { { "Idempotency-Key", "order-A-2000" } });
            if (result && result->status == 201)
                ids[i] = Json::parse(result->body)["id"];
        });
    }
    for (auto& thread : threads)
        thread.join();
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 1);
    CHECK_FALSE(ids[0].empty());
    CHECK(vendor.license_ids().size() == 2);
    CHECK(server.stop() == 0);
}

TEST_CASE("field report: a key over 16 KiB is refused (422, nothing stored), the name claim defaults to the customer's, "
          "control characters are refused in customers")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();

    // 3,000 entitlements sign to a key no verifier accepts: refused with both sizes, nothing stored.
    Json entitlements = Json::array();
    for (int i = 0; i < 3000; ++i)
        entitlements.push_back("feature-" + std::to_string(i));
    check_error(issue(client, vendor.admin_token, issue_body(vendor, { { "entitlements", entitlements } })), 422, "invalid",
        "over the 16384 bytes verifiers accept");
    CHECK(vendor.license_ids().empty());
    CHECK(vendor.cli({ "audit", "--json" }).out.find("license.issue") == std::string::npos);

    // The licensee's name: the customer's, unless the request names another.
    auto named = issue(client, vendor.admin_token, issue_body(vendor));
    REQUIRE(named);
    REQUIRE(named->status == 201);
    CHECK(Json::parse(named->body)["claims"]["name"] == "Jane Doe");
    auto renamed = issue(client, vendor.admin_token, issue_body(vendor, { { "name", "Acme GmbH" } }));
    REQUIRE(renamed);
    CHECK(Json::parse(renamed->body)["claims"]["name"] == "Acme GmbH");

    // Customers: ESC, BEL, CR, LF, NUL, C1 and DEL refused in names and emails, as by the CLI.
    for (std::string const& bad : std::vector<std::string> { "\x1b[2J", "\a", "\r", "\ncus_FAKE", std::string(1, '\0'), "\xc2\x9b", "\x7f" }) {
        Json by_name { { "email", "eve@example.com" }, { "name", "Eve" + bad } };
        check_error(client.Post("/v1/customers", bearer(vendor.admin_token), by_name.dump(), "application/json"), 422, "invalid",
            "the customer's name contains a control character");
        Json by_email { { "email", "eve" + bad + "@example.com" } };
        check_error(client.Post("/v1/customers", bearer(vendor.admin_token), by_email.dump(), "application/json"), 422, "invalid",
            "the email address contains a control character");
    }
    CHECK(Json::parse(vendor.cli({ "customer", "list", "--json" }).out).size() == 1);
    auto added = client.Post("/v1/customers", bearer(vendor.admin_token), R"({"email":"zoe@example.com","name":"Zoë Ångström"})",
        "application/json");
    REQUIRE(added);
    CHECK(added->status == 201);
    CHECK(server.stop() == 0);
}

TEST_CASE("an Idempotency-Key is scoped to the admin token that sent it")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    auto webhook = vendor.token("issue,read");
    auto body = issue_body(vendor);
    httplib::Headers key { { "Idempotency-Key", "order-7" } };

    auto first = issue(client, vendor.admin_token, body, key);
    REQUIRE(first);
    REQUIRE(first->status == 201);
    // Another token with the same key and body makes its own license: it never reads the
    // first token's license (and key) through a guessed or leaked Idempotency-Key.
    auto other = issue(client, webhook, body, key);
    REQUIRE(other);
    REQUIRE(other->status == 201);
    CHECK_FALSE(other->has_header("Idempotent-Replayed"));
    CHECK(Json::parse(other->body)["id"] != Json::parse(first->body)["id"]);
    // Each token's retry replays its own.
    auto again = issue(client, webhook, body, key);
    REQUIRE(again);
    CHECK(again->get_header_value("Idempotent-Replayed") == "true");
    CHECK(Json::parse(again->body)["id"] == Json::parse(other->body)["id"]);
    auto first_again = issue(client, vendor.admin_token, body, key);
    REQUIRE(first_again);
    CHECK(Json::parse(first_again->body)["id"] == Json::parse(first->body)["id"]);
    CHECK(vendor.license_ids().size() == 2);
    CHECK(server.stop() == 0);
}

TEST_CASE("Idempotency-Key on every POST of the admin API: customers, products, revocations")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    auto const& token = vendor.admin_token;
    auto post = [&](std::string const& path, Json const& body, std::string const& key = {}) {
        httplib::Headers headers;
        if (!key.empty())
            headers.emplace("Idempotency-Key", key);
        return client.Post(path.c_str(), bearer(token, headers), body.dump(), "application/json");
    };
    auto customers = [&]() { return Json::parse(vendor.cli({ "customer", "list", "--json" }).out).size(); };

    // A sign-up webhook retried: the same customer, 201 both times, with Idempotent-Replayed.
    Json signup { { "email", "sam@example.com" }, { "name", "Sam Roe" } };
    auto created = post("/v1/customers", signup, "signup-sam");
    REQUIRE(created);
    REQUIRE(created->status == 201);
    auto replayed = post("/v1/customers", signup, "signup-sam");
    REQUIRE(replayed);
    CHECK(replayed->status == 201);
    CHECK(replayed->get_header_value("Idempotent-Replayed") == "true");
    CHECK(body_of(replayed) == body_of(created));
    CHECK(replayed->get_header_value("Location") == "/v1/customers/" + body_of(created)["id"].get<std::string>());
    CHECK(customers() == 2);

    // Without a key, an email that exists: 409 with the existing id as a field.
    auto exists = post("/v1/customers", Json { { "email", "SAM@example.com" } });
    check_error(exists, 409, "conflict", "SAM@example.com already exists");
    CHECK(body_of(exists)["error"]["existing_id"] == body_of(created)["id"]);
    CHECK(exists->get_header_value("Location") == "/v1/customers/" + body_of(created)["id"].get<std::string>());

    // The same key for another request (body or path) is refused, and changes nothing.
    check_error(post("/v1/customers", Json { { "email", "other@example.com" } }, "signup-sam"), 409, "idempotency_conflict");
    check_error(post("/v1/products", Json { { "id", "acme-lite" } }, "signup-sam"), 409, "idempotency_conflict");
    CHECK(customers() == 2);
    CHECK(Json::parse(vendor.cli({ "product", "list", "--json" }).out).size() == 1);

    // Products.
    auto product = post("/v1/products", Json { { "id", "acme-lite" } }, "product-lite");
    REQUIRE(product);
    CHECK(product->status == 201);
    auto product_again = post("/v1/products", Json { { "id", "acme-lite" } }, "product-lite");
    REQUIRE(product_again);
    CHECK(product_again->status == 201);
    CHECK(product_again->get_header_value("Idempotent-Replayed") == "true");
    check_error(post("/v1/products", Json { { "id", "acme-lite" } }), 409, "conflict", "acme-lite");

    // Revocations: a retried revoke answers the revoked license again instead of a 409.
    auto license = body_of(issue(client, token, issue_body(vendor)));
    std::string revoke_path = "/v1/licenses/" + license["id"].get<std::string>() + "/revoke";
    auto revoked = post(revoke_path, Json { { "reason", "refund" } }, "refund-1");
    REQUIRE(revoked);
    REQUIRE(revoked->status == 200);
    auto revoked_again = post(revoke_path, Json { { "reason", "refund" } }, "refund-1");
    REQUIRE(revoked_again);
    CHECK(revoked_again->status == 200);
    CHECK(revoked_again->get_header_value("Idempotent-Replayed") == "true");
    CHECK(body_of(revoked_again)["status"] == "revoked");
    check_error(post(revoke_path, Json { { "reason", "refund" } }), 409, "conflict", "already revoked");
    CHECK(server.stop() == 0);
}

TEST_CASE("POST /v1/licenses with the customer inline creates or reuses it by email, in the license's transaction")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    auto const& token = vendor.admin_token;
    auto customers = [&]() { return Json::parse(vendor.cli({ "customer", "list", "--json" }).out); };

    auto first = issue(client, token, Json { { "product", "acme-pro" }, { "customer", { { "email", "kim@example.com" }, { "name", "Kim Lee" } } } });
    REQUIRE(first);
    REQUIRE(first->status == 201);
    auto listed = customers();
    REQUIRE(listed.size() == 2);
    // Created in the same second as Jane: listed in id order, so find Kim by email.
    auto kim = listed[0]["email"] == "kim@example.com" ? listed[0] : listed[1];
    CHECK(kim["email"] == "kim@example.com");
    CHECK(kim["name"] == "Kim Lee");
    CHECK(body_of(first)["customer"] == kim["id"]);

    // The same email again (any case): the customer is reused, not duplicated.
    auto second = issue(client, token, Json { { "product", "acme-pro" }, { "customer", { { "email", "KIM@example.com" } } } });
    REQUIRE(second);
    REQUIRE(second->status == 201);
    CHECK(body_of(second)["customer"] == kim["id"]);
    // An existing customer given inline is reused too.
    auto jane = issue(client, token, Json { { "product", "acme-pro" }, { "customer", { { "email", "jane@example.com" } } } });
    REQUIRE(jane);
    CHECK(body_of(jane)["customer"] == vendor.customer);
    CHECK(customers().size() == 2);

    // A license that is refused creates no customer.
    check_error(issue(client, token, Json { { "product", "acme-unknown" }, { "customer", { { "email", "lou@example.com" } } } }), 422,
        "invalid", "acme-unknown");
    check_error(issue(client, token, Json { { "product", "acme-pro" }, { "expires", "2001-01-01" },
        { "customer", { { "email", "lou@example.com" } } } }), 422, "invalid", "expires");
    check_error(issue(client, token, Json { { "product", "acme-pro" }, { "customer", { { "email", "not-an-email" } } } }), 422,
        "invalid", "not-an-email");
    check_error(issue(client, token, Json { { "product", "acme-pro" }, { "customer", { { "name", "No Email" } } } }), 400,
        "invalid_field", "customer.email");
    check_error(issue(client, token, Json { { "product", "acme-pro" }, { "customer", { { "email", "lou@example.com" }, { "phone", "1" } } } }),
        400, "unknown_field", "customer.phone");
    check_error(issue(client, token, Json { { "product", "acme-pro" }, { "customer", 42 } }), 400, "invalid_field", "\"customer\"");
    CHECK(customers().size() == 2);
    CHECK(vendor.license_ids().size() == 3);
    CHECK(server.stop() == 0);
}

TEST_CASE("JSON bodies with a key given twice are refused with 400 and store nothing")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    auto post = [&](char const* path, std::string const& body) {
        return client.Post(path, bearer(vendor.admin_token), body, "application/json");
    };
    std::string const customer = "\"" + vendor.customer + "\"";
    check_error(post("/v1/licenses", "{\"product\":\"x\",\"product\":\"acme-pro\",\"customer\":" + customer + ",\"seats\":1,\"seats\":500}"),
        400, "duplicate_key", "\"product\"");
    check_error(post("/v1/licenses", "{\"product\":\"acme-pro\",\"customer\":" + customer + ",\"meta\":{\"plan\":\"a\",\"plan\":\"b\"}}"),
        400, "duplicate_key", "\"plan\"");
    check_error(post("/v1/licenses", "{\"product\":\"acme-pro\",\"customer\":{\"email\":\"a@example.com\",\"email\":\"b@example.com\"}}"),
        400, "duplicate_key", "\"email\"");
    check_error(post("/v1/customers", "{\"email\":\"a@example.com\",\"email\":\"b@example.com\"}"), 400, "duplicate_key", "\"email\"");
    check_error(post("/v1/products", "{\"id\":\"acme-a\",\"id\":\"acme-b\"}"), 400, "duplicate_key", "\"id\"");
    check_error(client.Post("/v1/validate", "{\"key\":\"v4.public.x\",\"product\":\"acme-pro\",\"product\":\"other\"}", "application/json"),
        400, "duplicate_key", "\"product\"");
    CHECK(vendor.license_ids().empty());
    CHECK(Json::parse(vendor.cli({ "customer", "list", "--json" }).out).size() == 1);
    CHECK(Json::parse(vendor.cli({ "product", "list", "--json" }).out).size() == 1);
    CHECK(server.stop() == 0);
}

TEST_CASE("concurrent issuance from 8 clients loses nothing")
{
    Vendor vendor;
    Server server(vendor, { "--threads", "8" });
    constexpr int clients = 8;
    constexpr int per_client = 25;
    std::mutex mutex;
    std::vector<std::string> ids;
    std::vector<std::string> failures;
    int refused = 0;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            auto client = server.client();
            client.set_keep_alive(true);
            for (int i = 0; i < per_client; ++i) {
                // Every fifth request names an unknown product: concurrent issues share commits,
                // and a bad one must fail alone.
                bool bad = i % 5 == 4;
                auto body = issue_body(vendor, { { "meta", { { "order", std::to_string(c) + "-" + std::to_string(i) } } } });
                if (bad)
                    body["product"] = "acme-unknown";
                auto result = issue(client, vendor.admin_token, body);
                std::lock_guard lock(mutex);
                if (result && result->status == (bad ? 422 : 201)) {
                    if (!bad)
                        ids.push_back(Json::parse(result->body)["id"]);
                    else
                        ++refused;
                } else {
                    failures.push_back(result ? std::to_string(result->status) + " " + result->body : httplib::to_string(result.error()));
                }
            }
        });
    }
    for (auto& thread : threads)
        thread.join();
    INFO("first failure: " << (failures.empty() ? "" : failures[0]));
    CHECK(failures.empty());
    CHECK(refused == clients * per_client / 5);
    REQUIRE(ids.size() == size_t(clients * per_client * 4 / 5));
    std::set<std::string> unique(ids.begin(), ids.end());
    CHECK(unique.size() == ids.size());
    // Every returned license is in the database, each with its one audit row ...
    CHECK(vendor.license_ids() == unique);
    auto audited = vendor.sql("select count(*), count(distinct subject) from audit where action = 'license.issue'");
    CHECK(trimmed(audited) == std::to_string(ids.size()) + "|" + std::to_string(ids.size()));

    // ... and the API lists each exactly once across pages.
    auto client = server.client();
    std::vector<std::string> listed;
    std::string cursor;
    int pages = 0;
    for (;;) {
        auto page = body_of(client.Get("/v1/licenses?limit=64" + (cursor.empty() ? "" : "&after=" + cursor), bearer(vendor.admin_token)));
        ++pages;
        for (auto const& license : page["data"]) {
            listed.push_back(license["id"]);
            CHECK_FALSE(license.contains("key"));
        }
        if (page["next_cursor"].is_null())
            break;
        cursor = page["next_cursor"];
    }
    CHECK(pages == 3);
    CHECK(listed.size() == unique.size());
    CHECK(std::set<std::string>(listed.begin(), listed.end()) == unique);
    CHECK(server.stop() == 0);
}

TEST_CASE("GET /v1/licenses filters by product, customer (id or email) and status, alone and together")
{
    Vendor vendor;
    vendor.cli({ "product", "add", "acme-basic" });
    auto jane = vendor.customer;
    auto bob = trimmed(vendor.cli({ "customer", "add", "--email", "bob@example.com" }).out);
    // Licenses that ended in 2020, issued by the CLI with its clock pinned there: an end
    // before the issue time is refused, so the server cannot issue them today.
    auto issue_in_2020 = [&](std::string const& product, std::string const& customer, std::string const& expires) {
        auto env = clean_env(database_env(vendor.data_dir, {}));
        env["CHARTER_NOW"] = "2020-01-01T00:00:00Z";
        auto result = run_process({ CHARTER_CLI_PATH, "--data-dir", vendor.data_dir, "issue", "--json", "--product", product,
                                      "--customer", customer, "--expires", expires },
            env);
        INFO(result.err);
        REQUIRE(result.exit_code == 0);
        return Json::parse(result.out)["id"].get<std::string>();
    };
    auto jane_pro_expired = issue_in_2020("acme-pro", jane, "30d");
    auto bob_basic_expired = issue_in_2020("acme-basic", "bob@example.com", "2020-06-01");
    auto jane_pro_expired_then_revoked = issue_in_2020("acme-pro", jane, "30d");

    Server server(vendor);
    auto client = server.client();
    auto issue_over_http = [&](std::string const& product, std::string const& customer, Json extra = Json::object()) {
        extra["product"] = product;
        extra["customer"] = customer;
        auto result = issue(client, vendor.admin_token, extra);
        REQUIRE(result);
        INFO(result->body);
        REQUIRE(result->status == 201);
        return Json::parse(result->body)["id"].get<std::string>();
    };
    auto jane_pro = issue_over_http("acme-pro", "jane@example.com");
    auto jane_basic = issue_over_http("acme-basic", jane, { { "expires", "2040-01-01" } });
    auto bob_pro = issue_over_http("acme-pro", bob);
    auto bob_basic_revoked = issue_over_http("acme-basic", bob);
    for (auto const& id : { bob_basic_revoked, jane_pro_expired_then_revoked }) {
        auto revoked = client.Post("/v1/licenses/" + id + "/revoke", bearer(vendor.admin_token), "", "application/json");
        REQUIRE(revoked);
        REQUIRE(revoked->status == 200);
    }

    // The ids listed for a query, two to a page, following next_cursor; every license listed
    // must match each filter given (its product, its customer's id, its status).
    std::map<std::string, std::string> const customer_ids { { jane, jane }, { "jane@example.com", jane }, { bob, bob },
        { "bob@example.com", bob } };
    using Filters = std::vector<std::pair<std::string, std::string>>;
    auto listed = [&](Filters const& filters) {
        std::string query;
        for (auto const& [name, value] : filters)
            query += "&" + name + "=" + std::regex_replace(value, std::regex("@"), "%40");
        std::set<std::string> ids;
        std::string cursor;
        for (int pages = 0; pages <= 7; ++pages) {
            auto path = "/v1/licenses?limit=2" + query + (cursor.empty() ? "" : "&after=" + cursor);
            auto result = client.Get(path, bearer(vendor.admin_token));
            REQUIRE(result);
            INFO("GET " << path << ": " << result->status << " " << result->body);
            REQUIRE(result->status == 200);
            auto body = Json::parse(result->body);
            CHECK(body["data"].size() <= 2);
            for (auto const& license : body["data"]) {
                CHECK(ids.insert(license["id"].get<std::string>()).second);
                for (auto const& [name, value] : filters) {
                    if (name == "customer")
                        CHECK(license["customer"] == customer_ids.at(value));
                    else
                        CHECK(license[name] == value);
                }
            }
            if (body["next_cursor"].is_null())
                return ids;
            cursor = body["next_cursor"];
        }
        FAIL("GET /v1/licenses?" << query << ": more pages than licenses");
        return ids;
    };
    using Ids = std::set<std::string>;

    CHECK(listed({}) == Ids { jane_pro, jane_basic, bob_pro, bob_basic_revoked, jane_pro_expired, bob_basic_expired,
        jane_pro_expired_then_revoked });
    CHECK(listed({ { "product", "acme-pro" } }) == Ids { jane_pro, bob_pro, jane_pro_expired, jane_pro_expired_then_revoked });
    CHECK(listed({ { "product", "acme-basic" } }) == Ids { jane_basic, bob_basic_revoked, bob_basic_expired });
    CHECK(listed({ { "product", "acme-unknown" } }).empty());
    Ids const of_jane { jane_pro, jane_basic, jane_pro_expired, jane_pro_expired_then_revoked };
    Ids const of_bob { bob_pro, bob_basic_revoked, bob_basic_expired };
    CHECK(listed({ { "customer", jane } }) == of_jane);
    CHECK(listed({ { "customer", "jane@example.com" } }) == of_jane);
    CHECK(listed({ { "customer", bob } }) == of_bob);
    CHECK(listed({ { "customer", "bob@example.com" } }) == of_bob);
    // A revoked license is revoked whether or not it has ended; expired means ended and not revoked.
    CHECK(listed({ { "status", "active" } }) == Ids { jane_pro, jane_basic, bob_pro });
    CHECK(listed({ { "status", "revoked" } }) == Ids { bob_basic_revoked, jane_pro_expired_then_revoked });
    CHECK(listed({ { "status", "expired" } }) == Ids { jane_pro_expired, bob_basic_expired });
    CHECK(listed({ { "product", "acme-pro" }, { "status", "expired" } }) == Ids { jane_pro_expired });
    CHECK(listed({ { "customer", "bob@example.com" }, { "status", "revoked" } }) == Ids { bob_basic_revoked });
    CHECK(listed({ { "product", "acme-basic" }, { "customer", jane }, { "status", "active" } }) == Ids { jane_basic });
    CHECK(listed({ { "product", "acme-pro" }, { "customer", bob }, { "status", "expired" } }).empty());
    client.stop();
    CHECK(server.stop() == 0);
}

// --- Admin tokens and scopes -------------------------------------------------------------------

TEST_CASE("admin tokens: 401 without a valid token, 403 without the scope")
{
    Vendor vendor;
    auto read_only = vendor.token("read");
    auto issue_only = vendor.token("issue");
    auto revoked = Json::parse(vendor.cli({ "token", "create", "--scope", "admin", "--json" }).out);
    vendor.cli({ "token", "revoke", revoked["id"] });
    Server server(vendor);
    auto client = server.client();
    auto body = issue_body(vendor);

    auto check_unauthorized = [](httplib::Result const& result, std::string const& mention) {
        check_error(result, 401, "unauthorized", mention);
        CHECK(result->get_header_value("WWW-Authenticate") == "Bearer realm=\"charter\"");
    };
    check_unauthorized(client.Post("/v1/licenses", body.dump(), "application/json"), "Authorization: Bearer");
    check_unauthorized(issue(client, "chrt_not-a-real-token", body), "not valid");
    check_unauthorized(issue(client, revoked["token"], body), "not valid");
    check_unauthorized(client.Post("/v1/licenses", { { "Authorization", "Basic dXNlcjpwYXNz" } }, body.dump(), "application/json"),
        "Bearer");
    check_unauthorized(client.Get("/v1/licenses", bearer("")), "");

    check_error(issue(client, read_only, body), 403, "forbidden", "\"issue\"");

    // Each scope opens what it names (every route and scope: the table test below).
    auto issued = issue(client, issue_only, body);
    REQUIRE(issued);
    CHECK(issued->status == 201);
    auto listed = client.Get("/v1/licenses", bearer(read_only));
    REQUIRE(listed);
    CHECK(listed->status == 200);
    auto audit = client.Get("/v1/audit", bearer(vendor.admin_token));
    REQUIRE(audit);
    CHECK(audit->status == 200);
    // A refused request changed nothing.
    CHECK(vendor.license_ids().size() == 1);
    CHECK(server.stop() == 0);
}

// Who may call each route: one row per route the server registers (a route without a row, or
// a row without a route, fails), each admin route tried with no token, a token that is not
// valid, and a token of each scope alone. The scope it names and `admin` open it (any status
// but 401 and 403: the requests are deliberately incomplete); every other scope is 403.
TEST_CASE("every route against every admin scope: one table")
{
    enum class Access { public_, license, portal, issue, read, revoke, upload, admin };
    std::map<std::string, Access> const table {
        { "POST /v1/licenses", Access::issue },
        { "GET /v1/licenses", Access::read },
        { "GET /v1/licenses/{id}", Access::read },
        { "POST /v1/licenses/{id}/revoke", Access::revoke },
        { "GET /v1/licenses/{id}/credentials", Access::read },
        { "POST /v1/licenses/{id}/credentials", Access::issue },
        { "POST /v1/licenses/{id}/credentials/{credential}/revoke", Access::revoke },
        { "POST /v1/licenses/{id}/renew", Access::issue },
        { "PATCH /v1/licenses/{id}", Access::issue },
        { "POST /v1/licenses/{id}/suspend", Access::revoke },
        { "POST /v1/licenses/{id}/reinstate", Access::revoke },
        { "GET /v1/plans", Access::read },
        { "GET /v1/plans/{id}", Access::read },
        { "POST /v1/customers", Access::issue },
        { "GET /v1/customers", Access::read },
        { "GET /v1/customers/{id}", Access::read },
        { "POST /v1/products", Access::admin },
        { "GET /v1/products", Access::read },
        { "POST /v1/products/{id}/releases", Access::upload },
        { "GET /v1/audit", Access::admin },
        { "POST /v1/validate", Access::public_ },
        { "POST /v1/webhooks/stripe", Access::public_ }, // its Stripe-Signature authenticates it (test_billing)
        { "GET /v1/keys", Access::public_ },
        { "GET /v1/revocations/{product}", Access::public_ },
        { "GET /healthz", Access::public_ },
        { "GET /metrics", Access::public_ },
        { "GET /v1/downloads", Access::license },
        { "GET /v1/license", Access::license },
        { "GET /downloads/{product}/{version}/{file}", Access::license },
        { "GET /rubygems/", Access::license },
        { "GET /rubygems/versions", Access::license },
        { "GET /rubygems/names", Access::license },
        { "GET /rubygems/info/{name}", Access::license },
        { "GET /rubygems/specs.4.8.gz", Access::license },
        { "GET /rubygems/latest_specs.4.8.gz", Access::license },
        { "GET /rubygems/prerelease_specs.4.8.gz", Access::license },
        { "GET /rubygems/quick/Marshal.4.8/{file}", Access::license },
        { "GET /rubygems/gems/{file}", Access::license },
        { "POST /v1/activations", Access::license },
        { "POST /v1/activations/{id}/heartbeat", Access::license },
        // A product releases its own seat with its license; an operator any, with a revoke token.
        { "DELETE /v1/activations/{id}", Access::revoke },
        { "GET /v1/licenses/{id}/activations", Access::read },
        // The customer portal: a session cookie (tests/test_portal.cpp), never an admin token.
        { "GET /portal/", Access::portal },
        { "POST /portal/sign-in", Access::portal },
        { "POST /portal/sign-out", Access::portal },
        { "POST /portal/sign-in/email", Access::portal },
        { "GET /portal/sign-in/link/{token}", Access::portal },
        { "POST /portal/sign-in/link/{token}", Access::portal },
        { "GET /portal/licenses", Access::portal },
        { "GET /portal/licenses/{id}", Access::portal },
        { "GET /portal/licenses/{id}/setup", Access::portal },
        { "GET /portal/licenses/{id}/downloads", Access::portal },
        { "GET /portal/licenses/{id}/downloads/{version}/{file}", Access::portal },
        { "GET /portal/licenses/{id}/credentials", Access::portal },
        { "POST /portal/licenses/{id}/credentials", Access::portal },
        { "POST /portal/licenses/{id}/credentials/{credential}/revoke", Access::portal },
        { "POST /portal/licenses/{id}/activations/{activation}/deactivate", Access::portal },
        { "GET /portal/static/portal.css", Access::portal },
        { "GET /portal/static/portal.js", Access::portal },
    };
    std::map<Access, std::string> const scopes { { Access::issue, "issue" }, { Access::read, "read" },
        { Access::revoke, "revoke" }, { Access::upload, "upload" }, { Access::admin, "admin" } };

    Vendor vendor;
    std::set<std::string> registered;
    {
        charter::server::ServerConfig config;
        config.data_dir = vendor.data_dir;
        config.database_url = test_database_url(vendor.data_dir);
        auto server = charter::server::HttpServer::create(config);
        REQUIRE(server);
        for (auto const& route : (*server)->routes())
            registered.insert(route.method + " " + route.pattern);
    }
    for (auto const& route : registered) {
        INFO(route << ": add its row to this table");
        CHECK(table.count(route) == 1);
    }
    for (auto const& [route, access] : table) {
        INFO(route << ": a row for a route the server does not register");
        CHECK(registered.count(route) == 1);
    }

    std::map<std::string, std::string> tokens;
    for (auto const& [access, scope] : scopes)
        tokens[scope] = vendor.token(scope);
    Server server(vendor, { "--auth-failure-limit", "1000000" });
    auto client = server.client();
    auto send = [&](std::string const& route, std::optional<std::string> const& token) {
        auto space = route.find(' ');
        auto method = route.substr(0, space);
        // Every path parameter is "x": nothing that exists, so nothing is changed.
        auto path = std::regex_replace(route.substr(space + 1), std::regex("\\{[a-z]+\\}"), "x");
        httplib::Headers headers;
        if (token)
            headers = bearer(*token);
        if (method == "GET")
            return client.Get(path, headers);
        if (method == "PATCH")
            return client.Patch(path, headers, "{}", "application/json");
        if (method == "DELETE")
            return client.Delete(path, headers);
        REQUIRE(method == "POST");
        return client.Post(path, headers, "{}", "application/json");
    };
    for (auto const& [route, access] : table) {
        if (!scopes.count(access))
            continue;
        auto const& needed = scopes.at(access);
        INFO(route << " (scope " << needed << ")");
        check_error(send(route, std::nullopt), 401, "unauthorized", "Authorization: Bearer");
        check_error(send(route, "chrt_not-a-real-token"), 401, "unauthorized", "not valid");
        for (auto const& [scope, token] : tokens) {
            INFO("a token of scope " << scope);
            auto result = send(route, token);
            if (scope == needed || scope == "admin") {
                REQUIRE(result);
                CHECK(result->status != 401);
                CHECK(result->status != 403);
            } else {
                check_error(result, 403, "forbidden", "the admin token lacks the \"" + needed + "\" scope");
            }
        }
    }
    // Nothing was created by the refused (or incomplete) requests.
    CHECK(vendor.license_ids().empty());
    CHECK(server.stop() == 0);
}

TEST_CASE("an address that keeps failing authentication gets 429 with Retry-After")
{
    Vendor vendor;
    Server server(vendor, { "--auth-failure-limit", "3" });
    auto client = server.client();
    for (int i = 0; i < 3; ++i)
        check_error(client.Get("/v1/licenses", bearer("chrt_wrong")), 401, "unauthorized");
    auto limited = client.Get("/v1/licenses", bearer("chrt_wrong"));
    check_error(limited, 429, "too_many_requests", "retry in");
    auto retry_after = limited->get_header_value("Retry-After");
    REQUIRE_FALSE(retry_after.empty());
    CHECK(std::stoi(retry_after) >= 1);
    CHECK(std::stoi(retry_after) <= 60);
    // The address is limited, whatever token it now presents; public endpoints stay open.
    check_error(client.Get("/v1/licenses", bearer(vendor.admin_token)), 429, "too_many_requests");
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    CHECK(metric_line_value(metrics->body, "charter_auth_failures_total") == "3");
    CHECK(server.stop() == 0);
}

// --- Every error status ------------------------------------------------------------------------

TEST_CASE("request errors: 400, 404, 405, 409, 415, 422, each as a JSON error")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    auto const& token = vendor.admin_token;
    auto post = [&](std::string const& path, std::string const& body, std::string const& type = "application/json") {
        return client.Post(path.c_str(), bearer(token), body, type.c_str());
    };

    SECTION("400: malformed JSON, wrong types (naming the field), unknown fields, bad parameters")
    {
        check_error(post("/v1/licenses", "{\"product\": "), 400, "malformed_json");
        check_error(post("/v1/licenses", "[1, 2]"), 400, "malformed_json", "object");
        check_error(post("/v1/licenses", issue_body(vendor, { { "product", 5 } }).dump()), 400, "invalid_field", "\"product\"");
        check_error(post("/v1/licenses", issue_body(vendor, { { "seats", "five" } }).dump()), 400, "invalid_field", "\"seats\"");
        check_error(post("/v1/licenses", issue_body(vendor, { { "entitlements", "sso" } }).dump()), 400, "invalid_field",
            "\"entitlements\"");
        check_error(post("/v1/licenses", issue_body(vendor, { { "meta", { { "order", 1 } } } }).dump()), 400, "invalid_field",
            "\"meta\"");
        check_error(post("/v1/licenses", Json { { "product", "acme-pro" } }.dump()), 400, "invalid_field", "\"customer\"");
        check_error(post("/v1/licenses", issue_body(vendor, { { "colour", "red" } }).dump()), 400, "unknown_field", "\"colour\"");
        check_error(post("/v1/customers", Json { { "email", true } }.dump()), 400, "invalid_field", "\"email\"");
        check_error(post("/v1/products", Json { { "id", "acme-lite" }, { "keep_access_after_expiry", "yes" } }.dump()), 400,
            "invalid_field", "\"keep_access_after_expiry\"");
        check_error(client.Post("/v1/validate", Json { { "key", 1 }, { "product", "acme-pro" } }.dump(), "application/json"), 400,
            "invalid_field", "\"key\"");
        check_error(post("/v1/licenses", ""), 400, "bad_request", "empty");
        check_error(client.Get("/v1/licenses?limit=0", bearer(token)), 400, "invalid_parameter", "limit");
        check_error(client.Get("/v1/licenses?status=lost", bearer(token)), 400, "invalid_parameter", "status");
        check_error(client.Get("/v1/audit?since=yesterday", bearer(token)), 400, "invalid_parameter", "since");
        check_error(client.Get("/v1/audit?after=last", bearer(token)), 400, "invalid_parameter", "after");
    }
    SECTION("404: unknown license, customer, product, route")
    {
        check_error(client.Get("/v1/licenses/lic_unknown", bearer(token)), 404, "not_found", "lic_unknown");
        check_error(post("/v1/licenses/lic_unknown/revoke", ""), 404, "not_found", "lic_unknown");
        check_error(client.Get("/v1/customers/cus_unknown", bearer(token)), 404, "not_found");
        check_error(client.Get("/v1/revocations/acme-unknown"), 404, "not_found", "acme-unknown");
        check_error(client.Get("/v1/licenses?customer=nobody@example.com", bearer(token)), 404, "not_found", "nobody@example.com");
        check_error(client.Get("/v2/licenses"), 404, "not_found");
        check_error(client.Get("/"), 404, "not_found");
    }
    SECTION("405 with Allow")
    {
        auto put = client.Put("/v1/licenses", bearer(token), "{}", "application/json");
        check_error(put, 405, "method_not_allowed", "PUT");
        auto allow = put->get_header_value("Allow");
        CHECK(contains(allow, "GET"));
        CHECK(contains(allow, "POST"));
        auto remove = client.Delete("/v1/licenses/lic_x", bearer(token));
        check_error(remove, 405, "method_not_allowed");
        CHECK(remove->get_header_value("Allow") == "GET, PATCH");
        auto health = client.Post("/healthz", "{}", "application/json");
        check_error(health, 405, "method_not_allowed");
        CHECK(health->get_header_value("Allow") == "GET");
    }
    SECTION("409: a product id or a customer email that exists")
    {
        check_error(post("/v1/products", Json { { "id", "acme-pro" } }.dump()), 409, "conflict", "acme-pro");
        check_error(post("/v1/customers", Json { { "email", "jane@example.com" } }.dump()), 409, "conflict", "jane@example.com");
    }
    SECTION("415: a body that is not application/json")
    {
        check_error(post("/v1/licenses", issue_body(vendor).dump(), "text/plain"), 415, "unsupported_media_type", "application/json");
        check_error(post("/v1/licenses", "product=acme-pro", "application/x-www-form-urlencoded"), 415, "unsupported_media_type");
        CHECK(post("/v1/licenses", issue_body(vendor).dump(), "application/json; charset=utf-8")->status == 201);
    }
    SECTION("422: an unknown product or customer, a bad date, a bad email or product id")
    {
        check_error(post("/v1/licenses", issue_body(vendor, { { "product", "acme-unknown" } }).dump()), 422, "invalid", "acme-unknown");
        check_error(post("/v1/licenses", issue_body(vendor, { { "customer", "nobody@example.com" } }).dump()), 422, "invalid",
            "nobody@example.com");
        check_error(post("/v1/licenses", issue_body(vendor, { { "expires", "next tuesday" } }).dump()), 422, "invalid", "next tuesday");
        check_error(post("/v1/licenses", issue_body(vendor, { { "updates_until", "2026-02-30" } }).dump()), 422, "invalid");
        check_error(post("/v1/customers", Json { { "email", "not-an-email" } }.dump()), 422, "invalid", "not-an-email");
        check_error(post("/v1/products", Json { { "id", "Acme Pro!" } }.dump()), 422, "invalid", "product id");
        check_error(client.Get("/v1/licenses?after=yesterday", bearer(token)), 422, "invalid", "after");
    }
    // Nothing above issued a license, except the one 415 case that was correct.
    CHECK(vendor.license_ids().size() <= 1);
    CHECK(server.stop() == 0);
}

TEST_CASE("bodies refused before they are read: 411 chunked, 415 encoded, 413 too large, 400 bad length")
{
    Vendor vendor;
    Server server(vendor, { "--max-body", "4096" });
    std::string auth = "Authorization: Bearer " + vendor.admin_token + "\r\n";
    std::string json = issue_body(vendor).dump();

    SECTION("411: Transfer-Encoding: chunked; the chunks are never parsed as requests")
    {
        RawConnection connection(server.port());
        connection.send_all("POST /v1/licenses HTTP/1.1\r\nHost: x\r\n" + auth
            + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        auto response = connection.read_response();
        CHECK(status_of(response) == 411);
        CHECK(header_of(response, "Connection") == "close");
        CHECK(Json::parse(body_of_raw(response))["error"]["code"] == "length_required");
        // The chunks arrive after the refusal and smuggle a request: a server that kept the
        // connection open would answer it.
        std::string smuggled = "GET /v1/keys HTTP/1.1\r\nHost: x\r\n\r\n";
        char size[16];
        std::snprintf(size, sizeof size, "%zx", smuggled.size());
        connection.send_all(size + ("\r\n" + smuggled + "\r\n0\r\n\r\n"));
        CHECK(connection.read_to_end().empty());
    }
    SECTION("415: Content-Encoding: gzip is refused without inflating")
    {
        RawConnection connection(server.port());
        connection.send_all("POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Encoding: gzip\r\nContent-Length: 10\r\n\r\n");
        // No body sent: the answer must not wait for it.
        auto stream = connection.read_to_end();
        CHECK(status_of(stream) == 415);
        CHECK(response_count(stream) == 1);
        CHECK(Json::parse(body_of_raw(stream))["error"]["code"] == "unsupported_media_type");
        auto client = server.client();
        check_error(client.Post("/v1/validate", { { "Content-Encoding", "gzip" } }, "{}", "application/json"), 415,
            "unsupported_media_type", "compressed");
    }
    SECTION("413: an oversized Content-Length is answered before the body is sent")
    {
        RawConnection connection(server.port());
        connection.send_all("POST /v1/licenses HTTP/1.1\r\nHost: x\r\n" + auth
            + "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n");
        auto stream = connection.read_to_end();
        CHECK(status_of(stream) == 413);
        CHECK(response_count(stream) == 1);
        CHECK(Json::parse(body_of_raw(stream))["error"]["code"] == "payload_too_large");
        CHECK(contains(body_of_raw(stream), "4096"));
        // Just over the limit, with the body sent.
        auto client = server.client();
        check_error(client.Post("/v1/validate", std::string(4097, ' '), "application/json"), 413, "payload_too_large");
    }
    SECTION("400: a Content-Length that is not a number, or given twice with different values")
    {
        for (auto const* length : { "ten", "-1", "0x10", "99999999999999999999999" }) {
            RawConnection connection(server.port());
            connection.send_all(std::string("POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
                + "Content-Length: " + length + "\r\n\r\n{}");
            auto stream = connection.read_to_end();
            INFO("Content-Length: " << length);
            CHECK(status_of(stream) == 400);
            CHECK(response_count(stream) == 1);
        }
        RawConnection connection(server.port());
        connection.send_all("POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Length: 2\r\nContent-Length: 36\r\n\r\n");
        auto response = connection.read_response();
        CHECK(status_of(response) == 400);
        CHECK(contains(body_of_raw(response), "Content-Length"));
        connection.send_all("{}GET /v1/keys HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK(connection.read_to_end().empty());
    }
    SECTION("400: a GET with a body; the body is never parsed as a request")
    {
        RawConnection connection(server.port());
        std::string smuggled = "GET /v1/keys HTTP/1.1\r\nHost: x\r\n\r\n";
        connection.send_all("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n\r\n");
        auto response = connection.read_response();
        CHECK(status_of(response) == 400);
        CHECK(contains(body_of_raw(response), "body"));
        connection.send_all(smuggled);
        CHECK(connection.read_to_end().empty());
    }
    SECTION("400 or 431: a 1 MB header line, and the server is fine afterwards")
    {
        RawConnection connection(server.port());
        connection.send_all("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(1 << 20, 'a') + "\r\n\r\n");
        auto stream = connection.read_to_end();
        int status = status_of(stream);
        CHECK((status == 400 || status == 431));
        CHECK(response_count(stream) == 1);
        CHECK(header_of(stream, "X-Request-Id").starts_with("req_"));
        CHECK(Json::parse(body_of_raw(stream), nullptr, false).contains("error"));
    }
    SECTION("414: a request target over 8 KiB")
    {
        RawConnection connection(server.port());
        connection.send_all("GET /v1/" + std::string(10000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
        auto stream = connection.read_to_end();
        CHECK(status_of(stream) == 414);
        CHECK(header_of(stream, "X-Request-Id").starts_with("req_"));
    }
    // After every refusal the server still answers, and none of them issued anything.
    auto client = server.client();
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    CHECK(vendor.license_ids().empty());
    CHECK(server.stop() == 0);
}

TEST_CASE("a database failure is a 500 that shows no internals", "[sqlite]")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    REQUIRE(client.Get("/v1/products", bearer(vendor.admin_token))->status == 200);
    // An operator mangles the schema under the running server.
    auto altered = run_process({ "/usr/bin/sqlite3", vendor.data_dir + "/charter.db", "alter table products rename to products_gone" });
    REQUIRE(altered.exit_code == 0);
    auto failed = client.Get("/v1/products", bearer(vendor.admin_token));
    check_error(failed, 500, "internal");
    CHECK(Json::parse(failed->body)["error"]["message"] == "internal error");
    for (auto const* internal : { "products", "sqlite", "SQL", "table", "charter.db", "/tmp" })
        CHECK_FALSE(contains(failed->body, internal));
    CHECK(server.log_line(failed->get_header_value("X-Request-Id"))["status"] == 500);
    CHECK(server.stop() == 0);
}

TEST_CASE("a database another process keeps locked for writing: issuing is a 503, nothing changes, and the server recovers", "[sqlite]")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    auto licenses_before = vendor.license_ids();

    // sqlite3 holds the write lock in an open transaction until the test creates `release`
    // (the destructor does, so that the holder never outlives a failed REQUIRE).
    struct Holder {
        std::string ready, release;
        std::thread thread;
        int exit_code = -1;
        ~Holder()
        {
            std::ofstream(release) << "release\n";
            if (thread.joinable())
                thread.join();
        }
    } holder { vendor.temp / "locked", vendor.temp / "release", {} };
    holder.thread = std::thread([&] {
        auto script = ".bail on\n.timeout 10000\nBEGIN IMMEDIATE;\nUPDATE products SET name = name;\n.shell touch " + holder.ready
            + "; while [ ! -e " + holder.release + " ]; do sleep 0.05; done\nCOMMIT;\n";
        holder.exit_code = run_process({ "/usr/bin/sqlite3", vendor.data_dir + "/charter.db" }, {}, script).exit_code;
    });
    for (int i = 0; i < 6000 && !std::filesystem::exists(holder.ready); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(std::filesystem::exists(holder.ready));

    // Issuing waits out the busy timeout (5 s), then gives up and says so; reading goes on (WAL).
    auto refused = client.Post("/v1/licenses", bearer(vendor.admin_token), issue_body(vendor).dump(), "application/json");
    check_error(refused, 503, "unavailable", "nothing was changed");
    CHECK(client.Get("/healthz")->status == 200);
    CHECK(client.Get("/v1/products", bearer(vendor.admin_token))->status == 200);

    std::ofstream(holder.release) << "release\n";
    holder.thread.join();
    CHECK(holder.exit_code == 0);
    CHECK(vendor.license_ids() == licenses_before);
    CHECK(client.Post("/v1/licenses", bearer(vendor.admin_token), issue_body(vendor).dump(), "application/json")->status == 201);
    CHECK(vendor.license_ids().size() == licenses_before.size() + 1);
    CHECK(server.stop() == 0);
}

// --- Shutdown, logging, metrics ----------------------------------------------------------------

TEST_CASE("SIGINT stops the server like SIGTERM")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    REQUIRE(client.Get("/healthz")->status == 200);
    REQUIRE(kill(server.pid(), SIGINT) == 0);
    CHECK(server.wait() == 0);
    CHECK(contains(server.err(), "SIGINT"));
    CHECK(contains(server.err(), "stopped"));
}

TEST_CASE("SIGTERM: in-flight requests complete, then the server exits 0 and accepts nothing")
{
    Vendor vendor;
    auto key = Json::parse(vendor.cli({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--json" }).out)["key"]
                   .get<std::string>();
    Server server(vendor, { "--threads", "4", "--read-timeout", "120" });

    // Three requests whose bodies arrive in two halves: the server is reading them when the
    // signal comes.
    std::vector<std::string> bodies {
        Json { { "key", key }, { "product", "acme-pro" } }.dump(),
        Json { { "key", key }, { "product", "acme-pro" } }.dump(),
        issue_body(vendor, { { "name", "in flight" } }).dump(),
    };
    std::vector<std::string> paths { "/v1/validate", "/v1/validate", "/v1/licenses" };
    std::vector<std::unique_ptr<RawConnection>> connections;
    for (size_t i = 0; i < bodies.size(); ++i) {
        auto connection = std::make_unique<RawConnection>(server.port());
        auto half = bodies[i].size() / 2;
        REQUIRE(connection->send_all("POST " + paths[i] + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + vendor.admin_token
            + "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(bodies[i].size()) + "\r\n\r\n"
            + bodies[i].substr(0, half)));
        connections.push_back(std::move(connection));
    }
    // Wait until a worker has read each request's first half (the server's receive queue is
    // empty), so each is really in flight and not waiting in the listen backlog.
    for (auto const& connection : connections) {
        long unread = -1;
        for (int i = 0; i < 6000 && unread != 0; ++i) {
            unread = unread_by_server(server.port(), connection->local_port());
            if (unread != 0)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        REQUIRE(unread == 0);
    }

    REQUIRE(kill(server.pid(), SIGTERM) == 0);
    // The listening socket closes: new connections are refused.
    bool refused = false;
    for (int i = 0; i < 6000 && !refused; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_port = htons(uint16_t(server.port()));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        refused = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0;
        close(fd);
        if (!refused)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(refused);

    // The requests in flight finish normally.
    for (size_t i = 0; i < connections.size(); ++i) {
        REQUIRE(connections[i]->send_all(bodies[i].substr(bodies[i].size() / 2)));
        auto response = connections[i]->read_response();
        INFO(paths[i] << ": " << response);
        CHECK(status_of(response) == (paths[i] == "/v1/licenses" ? 201 : 200));
        if (paths[i] == "/v1/validate")
            CHECK(Json::parse(body_of_raw(response))["valid"] == true);
    }
    CHECK(server.wait() == 0);
    CHECK(contains(server.err(), "SIGTERM"));
    CHECK(contains(server.err(), "stopped"));
    // The license issued during shutdown is in the database, which was closed cleanly.
    CHECK(vendor.license_ids().size() == 2);
    if (!testing_postgres())
        CHECK(vendor.cli({ "db", "backup", vendor.temp / "after-shutdown.db" }).exit_code == 0);
}

TEST_CASE("the access log: one JSON line per request, ids made by the server, paths without queries")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    auto result = client.Get("/v1/licenses?limit=5&customer=jane%40example.com",
        bearer(vendor.admin_token, { { "X-Request-Id", "client-chosen-id" }, { "X-Forwarded-For", "203.0.113.9" } }));
    REQUIRE(result);
    REQUIRE(result->status == 200);
    auto id = result->get_header_value("X-Request-Id");
    CHECK(id.starts_with("req_"));
    CHECK(id != "client-chosen-id");
    CHECK_FALSE(contains(result->body, "client-chosen-id"));

    auto line = server.log_line(id);
    std::vector<std::string> fields;
    for (auto const& [name, value] : line.items())
        fields.push_back(name);
    CHECK(fields == std::vector<std::string> { "time", "request_id", "method", "path", "route", "status", "bytes", "duration_ms", "remote" });
    CHECK(std::regex_match(line["time"].get<std::string>(), std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")));
    CHECK(line["method"] == "GET");
    CHECK(line["path"] == "/v1/licenses");
    CHECK(line["route"] == "/v1/licenses");
    CHECK(line["status"] == 200);
    CHECK(line["bytes"] == std::stoll(result->get_header_value("Content-Length")));
    CHECK(line["duration_ms"].is_number());
    CHECK(line["duration_ms"].get<double>() >= 0);
    CHECK(line["remote"] == "127.0.0.1");
    CHECK_FALSE(contains(line.dump(), "jane"));
    CHECK_FALSE(contains(line.dump(), vendor.admin_token));

    // Refusals and unknown routes are logged too, each with its own id.
    auto refused = client.Get("/v1/nowhere?token=secret");
    REQUIRE(refused);
    auto refused_line = server.log_line(refused->get_header_value("X-Request-Id"));
    CHECK(refused_line["status"] == 404);
    CHECK(refused_line["path"] == "/v1/nowhere");
    CHECK(refused_line["route"] == "-");

    // Ids are unique across requests.
    std::set<std::string> ids;
    auto lines = server.access_log();
    for (auto const& entry : lines)
        ids.insert(entry["request_id"].get<std::string>());
    CHECK(ids.size() == lines.size());
    CHECK(server.stop() == 0);
}

TEST_CASE("/metrics counts requests by route and status, licenses, auth failures")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    // One connection: its requests run one after another on one worker, each logged (and
    // counted) before the next is read.
    client.set_keep_alive(true);
    auto issued = issue(client, vendor.admin_token, issue_body(vendor));
    REQUIRE(issued);
    REQUIRE(issued->status == 201);
    std::string key = Json::parse(issued->body)["key"];
    std::string id = Json::parse(issued->body)["id"];
    for (int i = 0; i < 3; ++i)
        validate(client, key);
    REQUIRE(client.Get("/v1/licenses", bearer("chrt_wrong"))->status == 401);
    REQUIRE(client.Post("/v1/licenses/" + id + "/revoke", bearer(vendor.admin_token), "", "application/json")->status == 200);
    REQUIRE(client.Get("/nowhere")->status == 404);

    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    REQUIRE(metrics->status == 200);
    CHECK(contains(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4"));
    auto const& text = metrics->body;
    CHECK(metric_line_value(text, "charter_http_requests_total{method=\"POST\",route=\"/v1/licenses\",status=\"201\"}") == "1");
    CHECK(metric_line_value(text, "charter_http_requests_total{method=\"POST\",route=\"/v1/validate\",status=\"200\"}") == "3");
    CHECK(metric_line_value(text, "charter_http_requests_total{method=\"GET\",route=\"/v1/licenses\",status=\"401\"}") == "1");
    CHECK(metric_line_value(text, "charter_http_requests_total{method=\"POST\",route=\"/v1/licenses/{id}/revoke\",status=\"200\"}") == "1");
    CHECK(metric_line_value(text, "charter_http_requests_total{method=\"GET\",route=\"-\",status=\"404\"}") == "1");
    CHECK(metric_line_value(text, "charter_http_request_duration_seconds_count") == "7");
    CHECK(metric_line_value(text, "charter_http_request_duration_seconds_bucket{le=\"+Inf\"}") == "7");
    CHECK(metric_line_value(text, "charter_licenses_issued_total") == "1");
    CHECK(metric_line_value(text, "charter_licenses_revoked_total") == "1");
    CHECK(metric_line_value(text, "charter_auth_failures_total") == "1");
    CHECK(contains(text, "# TYPE charter_http_request_duration_seconds histogram"));
    // An idle keep-alive connection holds its worker (and a graceful stop) until it times out.
    client.stop();
    CHECK(server.stop() == 0);
}

// --- Public keys and revocation lists ----------------------------------------------------------

TEST_CASE("/v1/keys lists the trusted keys; /v1/revocations/{product} verifies and is cacheable")
{
    Vendor vendor;
    Server server(vendor);
    auto client = server.client();
    auto public_key = public_key_of(vendor);

    auto keys = client.Get("/v1/keys");
    REQUIRE(keys);
    REQUIRE(keys->status == 200);
    auto listed = Json::parse(keys->body)["keys"];
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["public_key"] == public_key);
    CHECK(listed[0]["kid"].get<std::string>().starts_with("k4.pid."));
    CHECK(listed[0]["status"] == "current");
    CHECK_FALSE(contains(keys->body, "k4.secret"));
    // Brotli at cpp-httplib's quality costs milliseconds per response: never offered.
    for (auto const* accepted : { "br", "gzip, deflate, br", "br;q=1.0, gzip;q=0.5" }) {
        RawConnection connection(server.port());
        connection.send_all(std::string("GET /v1/keys HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept-Encoding: ") + accepted + "\r\n\r\n");
        auto response = connection.read_to_end();
        INFO(accepted);
        CHECK(status_of(response) == 200);
        CHECK(header_of(response, "Content-Encoding") != "br");
    }

    std::vector<std::string> license_keys, ids;
    for (int i = 0; i < 2; ++i) {
        auto issued = body_of(issue(client, vendor.admin_token, issue_body(vendor)));
        license_keys.push_back(issued["key"]);
        ids.push_back(issued["id"]);
    }
    REQUIRE(client.Post("/v1/licenses/" + ids[0] + "/revoke", bearer(vendor.admin_token), "", "application/json")->status == 200);

    auto list = client.Get("/v1/revocations/acme-pro");
    REQUIRE(list);
    REQUIRE(list->status == 200);
    auto etag = list->get_header_value("ETag");
    CHECK(etag.size() > 2);
    CHECK(contains(list->get_header_value("Cache-Control"), "max-age"));
    std::string token = trimmed(list->body);
    CHECK(token.starts_with("v4.public."));

    charter::Verifier verifier("acme-pro");
    REQUIRE(verifier.add_key(public_key.c_str()) == CHARTER_OK);
    std::string detail;
    REQUIRE(verifier.set_revocation_list(token, &detail) == CHARTER_OK);
    CHECK(verifier.verify(license_keys[0]).status == CHARTER_E_REVOKED);
    CHECK(verifier.verify(license_keys[1]).status == CHARTER_OK);
    // The list is for one product only.
    charter::Verifier other("acme-other");
    REQUIRE(other.add_key(public_key.c_str()) == CHARTER_OK);
    CHECK(other.set_revocation_list(token) != CHARTER_OK);

    auto unchanged = client.Get("/v1/revocations/acme-pro", { { "If-None-Match", etag } });
    REQUIRE(unchanged);
    CHECK(unchanged->status == 304);
    CHECK(unchanged->body.empty());
    CHECK(unchanged->get_header_value("ETag") == etag);

    // A new revocation changes the list and its ETag.
    REQUIRE(client.Post("/v1/licenses/" + ids[1] + "/revoke", bearer(vendor.admin_token), "", "application/json")->status == 200);
    auto changed = client.Get("/v1/revocations/acme-pro", { { "If-None-Match", etag } });
    REQUIRE(changed);
    CHECK(changed->status == 200);
    CHECK(changed->get_header_value("ETag") != etag);
    charter::Verifier updated("acme-pro");
    REQUIRE(updated.add_key(public_key.c_str()) == CHARTER_OK);
    REQUIRE(updated.set_revocation_list(trimmed(changed->body)) == CHARTER_OK);
    CHECK(updated.verify(license_keys[1]).status == CHARTER_E_REVOKED);
    CHECK(server.stop() == 0);
}

// --- Running it --------------------------------------------------------------------------------

TEST_CASE("TLS: with --tls-cert and --tls-key the server speaks https")
{
    Vendor vendor;
    auto cert = vendor.temp / "cert.pem";
    auto key = vendor.temp / "key.pem";
    auto made = run_process({ "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1" });
    INFO(made.err);
    REQUIRE(made.exit_code == 0);

    Server server(vendor, { "--tls-cert", cert, "--tls-key", key });
    CHECK(server.first_line() == "listening on https://127.0.0.1:" + std::to_string(server.port()));
    httplib::SSLClient client("127.0.0.1", server.port());
    client.enable_server_certificate_verification(false);
    client.set_read_timeout(60, 0);
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    auto issued = client.Post("/v1/licenses", bearer(vendor.admin_token), issue_body(vendor).dump(), "application/json");
    REQUIRE(issued);
    CHECK(issued->status == 201);
    // Plain HTTP on the TLS port gets no answer.
    auto plain = server.client().Get("/healthz");
    CHECK((!plain || plain->status != 200));
    CHECK(server.stop() == 0);

    auto bad = run_process({ CHARTER_SERVER_PATH, "--data-dir", vendor.data_dir, "--listen", "127.0.0.1:0", "--tls-cert", key,
                               "--tls-key", cert },
        clean_env(database_env(vendor.data_dir, {})));
    CHECK(bad.exit_code == 1);
    CHECK(contains(bad.err, "--tls-cert"));
}

TEST_CASE("options and environment variables")
{
    Vendor vendor;
    auto run = [&](std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
        args.insert(args.begin(), CHARTER_SERVER_PATH);
        return run_process(args, clean_env(database_env(vendor.data_dir, env)));
    };
    auto help = run({ "--help" });
    CHECK(help.exit_code == 0);
    CHECK(contains(help.out, "CHARTER_LISTEN"));
    auto threads = run({ "--threads", "0" });
    CHECK(threads.exit_code == 2);
    CHECK(contains(threads.err, "--threads"));
    auto lonely = run({ "--tls-cert", "cert.pem" });
    CHECK(lonely.exit_code == 2);
    CHECK(contains(lonely.err, "--tls-key"));
    auto from_env = run({}, { { "CHARTER_LISTEN", "nowhere" } });
    CHECK(from_env.exit_code == 2);
    CHECK(contains(from_env.err, "CHARTER_LISTEN"));
    auto no_data = run({ "--data-dir", vendor.temp / "missing", "--listen", "127.0.0.1:0" });
    CHECK(no_data.exit_code == 1);
    CHECK(contains(no_data.err, "charter init"));

    // The environment alone is enough to run it.
    Server server(vendor, {}, { { "CHARTER_THREADS", "2" }, { "CHARTER_AUTH_FAILURE_LIMIT", "1" } });
    auto client = server.client();
    REQUIRE(client.Get("/v1/licenses", bearer("chrt_wrong"))->status == 401);
    CHECK(client.Get("/v1/licenses", bearer("chrt_wrong"))->status == 429);
    CHECK(server.stop() == 0);
}

// --- The documents match the server ------------------------------------------------------------

// The portal's pages are documented in docs/portal.md, the API's routes in the API documents.
TEST_CASE("every registered route is in docs/openapi.yaml and docs/api.md (the portal's in docs/portal.md), and nothing else is")
{
    Vendor vendor;
    charter::server::ServerConfig config;
    config.data_dir = vendor.data_dir;
    config.database_url = test_database_url(vendor.data_dir);
    auto server = charter::server::HttpServer::create(config);
    REQUIRE(server);
    std::set<std::string> registered, portal;
    for (auto const& route : (*server)->routes())
        (route.pattern.starts_with("/portal/") ? portal : registered).insert(route.method + " " + route.pattern);
    REQUIRE(registered.size() + portal.size() == (*server)->routes().size());
    auto portal_doc = read_file(std::string(CHARTER_SOURCE_DIR) + "/docs/portal.md");
    for (auto const& route : portal) {
        INFO(route << ": list it in docs/portal.md");
        CHECK(contains(portal_doc, "`" + route + "`"));
    }

    auto document = YAML::LoadFile(std::string(CHARTER_SOURCE_DIR) + "/docs/openapi.yaml");
    CHECK(document["openapi"].as<std::string>().starts_with("3.0"));
    std::set<std::string> documented;
    for (auto const& path : document["paths"]) {
        for (auto const& operation : path.second) {
            auto method = operation.first.as<std::string>();
            if (method == "parameters")
                continue;
            std::transform(method.begin(), method.end(), method.begin(), [](char c) { return char(std::toupper(c)); });
            documented.insert(method + " " + path.first.as<std::string>());
            CHECK(operation.second["responses"].IsMap());
        }
    }
    CHECK(documented == registered);

    auto api = read_file(std::string(CHARTER_SOURCE_DIR) + "/docs/api.md");
    for (auto const& route : registered) {
        INFO(route);
        CHECK(contains(api, "### `" + route + "`"));
    }
    std::regex heading("### `([A-Z]+ /[^`]*)`");
    for (std::sregex_iterator it(api.begin(), api.end(), heading), end; it != end; ++it) {
        INFO((*it)[1]);
        CHECK(registered.count((*it)[1]) == 1);
    }
}

TEST_CASE("postgres: while the database is down every request that needs it is a 503 that changes nothing, and the server recovers by itself", "[postgres]")
{
    Vendor vendor;
    auto issued = vendor.issue("acme-pro");
    ServerChild server(vendor);
    auto client = server.client();
    auto first = issue(client, vendor.admin_token, issue_body(vendor));
    REQUIRE(first);
    REQUIRE(first->status == 201);
    CHECK(validate(client, issued.key)["valid"] == true);

    auto& cluster = PostgresCluster::get();
    cluster.pause();
    // Started again whatever happens, for the tests after this one.
    struct Resume {
        PostgresCluster& cluster;
        ~Resume()
        {
            try {
                cluster.resume();
            } catch (...) {
            }
        }
    } resume_at_end { cluster };
    auto refused = issue(client, vendor.admin_token, issue_body(vendor), { { "Idempotency-Key", "during-outage" } });
    REQUIRE(refused);
    CHECK(refused->status == 503);
    CHECK(Json::parse(refused->body)["error"]["code"] == "unavailable");
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 503);
    auto validated = client.Post("/v1/validate", Json { { "key", issued.key }, { "product", "acme-pro" } }.dump(), "application/json");
    REQUIRE(validated);
    CHECK(validated->status == 503);
    CHECK_FALSE(contains(refused->body, "postgresql://"));

    cluster.resume();
    // The same server, not restarted: its connections are made again on their next use.
    auto after = issue(client, vendor.admin_token, issue_body(vendor), { { "Idempotency-Key", "during-outage" } });
    REQUIRE(after);
    CHECK(after->status == 201);
    CHECK(validate(client, issued.key)["valid"] == true);
    CHECK(server.running());
    // Nothing was written during the outage: the two licenses issued through the server and
    // the CLI's, each audited once.
    CHECK(vendor.license_ids().size() == 3);
    CHECK(trimmed(vendor.sql("select count(*) from audit where action = 'license.issue'")) == "3");
}
