// Download credentials (docs/cli.md "charter credential", docs/api.md "Credentials"): made,
// listed and revoked with the real CLI and over the admin API of a real charter-server, and
// presented where a license key is (downloads, the RubyGems source) over HTTP.

#include "charter/db/store.hpp"
#include "charter/format/rfc3339.hpp"
#include "charter/verify.hpp"
#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <regex>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

// The secret `charter credential create` prints on its one line of stdout.
std::string create_credential(Vendor const& vendor, std::string const& license, std::string const& name)
{
    return trimmed(vendor.cli({ "credential", "create", license, "--name", name }).out);
}

int64_t audit_count(Vendor const& vendor)
{
    return std::stoll(vendor.sql("SELECT count(*) FROM audit"));
}

}

// --- The CLI ---------------------------------------------------------------------------------

TEST_CASE("credential create prints a cdl_ secret once; only its hash is stored; list never shows it")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro", { "--expires", "1y" });
    auto created = vendor.cli({ "credential", "create", license.id, "--name", "ci" });
    auto secret = trimmed(created.out);
    // cdl_ and 32 random bytes in base64url (256 bits).
    CHECK(std::regex_match(secret, std::regex("cdl_[A-Za-z0-9_-]{43}")));
    CHECK(contains(created.err, "only time the secret is shown"));
    auto other = create_credential(vendor, license.id, "laptop");
    CHECK(other != secret);

    // The database holds the hash, never the secret.
    auto dump = vendor.dump();
    CHECK(contains(dump, "ci"));
    CHECK(!contains(dump, secret.substr(4)));
    CHECK(vendor.sql("SELECT count(*) FROM credentials WHERE license_id = '" + license.id + "'") == "2\n");

    auto listed = Json::parse(vendor.cli({ "credential", "list", license.id, "--json" }).out);
    REQUIRE(listed.size() == 2);
    CHECK(listed[0]["name"] == "ci");
    CHECK(listed[0]["license"] == license.id);
    CHECK(listed[0]["last_used_at"].is_null());
    CHECK(listed[0]["revoked_at"].is_null());
    CHECK(!listed[0].contains("secret"));
    CHECK(!listed[0].contains("hash"));
    CHECK(!contains(listed.dump(), secret.substr(4)));
    auto text = vendor.cli({ "credential", "list", license.id }).out;
    CHECK(contains(text, "active   ci  created "));
    CHECK(contains(text, "never used"));
    CHECK(!contains(text, secret.substr(4)));

    // --json gives the secret once, in "secret", with the record.
    auto json = Json::parse(vendor.cli({ "credential", "create", license.id, "--name", "deploy", "--json" }).out);
    CHECK(std::string(json["secret"]).starts_with("cdl_"));
    CHECK(std::string(json["id"]).starts_with("cred_"));
    CHECK(json["name"] == "deploy");

    // Each creation is audited, without the secret.
    auto audit = vendor.cli({ "audit", "--json" }).out;
    CHECK(contains(audit, "credential.create"));
    CHECK(!contains(audit, secret.substr(4)));
}

TEST_CASE("credential revoke revokes that one credential only; the name is free again")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro");
    auto ci = Json::parse(vendor.cli({ "credential", "create", license.id, "--name", "ci", "--json" }).out);
    create_credential(vendor, license.id, "laptop");
    auto revoked = vendor.cli({ "credential", "revoke", ci["id"], "--json" });
    CHECK(!Json::parse(revoked.out)["revoked_at"].is_null());
    auto listed = Json::parse(vendor.cli({ "credential", "list", license.id, "--json" }).out);
    REQUIRE(listed.size() == 2);
    CHECK(!listed[0]["revoked_at"].is_null());
    CHECK(listed[1]["revoked_at"].is_null());
    CHECK(Json::parse(vendor.cli({ "show", license.id, "--json" }).out)["status"] == "active");
    CHECK(contains(vendor.cli({ "credential", "list", license.id }).out, "revoked  ci"));
    // A new "ci" after the old one is revoked.
    create_credential(vendor, license.id, "ci");
    CHECK(contains(vendor.cli({ "audit", "--json" }).out, "credential.revoke"));
}

TEST_CASE("credential commands: bad input is refused with its exit code and a sentence, nothing written")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro");
    auto ci = Json::parse(vendor.cli({ "credential", "create", license.id, "--name", "ci", "--json" }).out);
    auto before = audit_count(vendor);
    auto credentials = vendor.sql("SELECT * FROM credentials");
    auto refused = [&](std::vector<std::string> args, int code, std::string const& mention) {
        auto result = vendor.run(args);
        INFO("charter " << args[0] << " " << args[1] << ": " << result.err);
        CHECK(result.exit_code == code);
        CHECK(contains(result.err, mention));
        CHECK(result.out.empty());
    };
    refused({ "credential", "create", "lic_unknown", "--name", "ci" }, 4, "lic_unknown");
    refused({ "credential", "create", license.id, "--name", "ci" }, 5, "already has a credential named \"ci\"");
    refused({ "credential", "create", license.id, "--name", "" }, 3, "needs a name");
    refused({ "credential", "create", license.id, "--name", "two\nlines" }, 3, "control character");
    refused({ "credential", "create", license.id, "--name", std::string(101, 'x') }, 3, "at most 100");
    refused({ "credential", "create", license.id }, 2, "--name");
    refused({ "credential", "list", "lic_unknown" }, 4, "lic_unknown");
    refused({ "credential", "revoke", "cred_unknown" }, 4, "cred_unknown");
    refused({ "credential", "revoke", "cdl_AAAA" }, 3, "give its id (cred_…)");
    vendor.cli({ "credential", "revoke", ci["id"] });
    ++before;
    refused({ "credential", "revoke", ci["id"] }, 5, "already revoked");
    vendor.cli({ "revoke", license.id, "--reason", "refund" });
    ++before;
    refused({ "credential", "create", license.id, "--name", "laptop" }, 5, "was revoked on");
    CHECK(audit_count(vendor) == before);
    CHECK(vendor.sql("SELECT count(*) FROM credentials") == "1\n");
}

TEST_CASE("the offline verifier refuses a credential as not a license key, and says what it is")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro");
    auto secret = create_credential(vendor, license.id, "ci");
    auto verified = vendor.run({ "verify", secret, "--product", "acme-pro" });
    INFO(verified.out << verified.err);
    CHECK(verified.exit_code == 1);
    CHECK(contains(verified.out + verified.err, "download credential"));
}

// --- The admin API ---------------------------------------------------------------------------

TEST_CASE("admin API: create answers the secret once, list never, revoke the one named")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro");
    ServerChild server(vendor);
    auto client = server.client();
    auto path = "/v1/licenses/" + license.id + "/credentials";

    auto created = client.Post(path, bearer(vendor.admin_token), R"({"name":"ci"})", "application/json");
    REQUIRE(created);
    INFO(created->body);
    CHECK(created->status == 201);
    auto credential = Json::parse(created->body);
    std::string secret = credential["secret"];
    CHECK(std::regex_match(secret, std::regex("cdl_[A-Za-z0-9_-]{43}")));
    CHECK(credential["name"] == "ci");
    CHECK(credential["license"] == license.id);
    std::string id = credential["id"];

    auto listed = client.Get(path, bearer(vendor.admin_token));
    REQUIRE(listed);
    CHECK(listed->status == 200);
    CHECK(!contains(listed->body, secret.substr(4)));
    auto data = Json::parse(listed->body)["data"];
    REQUIRE(data.size() == 1);
    CHECK(data[0]["id"] == id);
    CHECK(!data[0].contains("secret"));
    // The CLI sees what the API made.
    CHECK(Json::parse(vendor.cli({ "credential", "list", license.id, "--json" }).out)[0]["id"] == id);

    auto revoked = client.Post(path + "/" + id + "/revoke", bearer(vendor.admin_token), "", "application/json");
    REQUIRE(revoked);
    CHECK(revoked->status == 200);
    CHECK(!Json::parse(revoked->body)["revoked_at"].is_null());
    CHECK(Json::parse(vendor.cli({ "show", license.id, "--json" }).out)["status"] == "active");
    auto audit = vendor.sql("SELECT action, actor FROM audit WHERE action LIKE 'credential.%' ORDER BY id");
    CHECK(audit == "credential.create|token:" + Json::parse(vendor.cli({ "token", "list", "--json" }).out)[0]["id"].get<std::string>()
            + "\ncredential.revoke|token:" + Json::parse(vendor.cli({ "token", "list", "--json" }).out)[0]["id"].get<std::string>() + "\n");
    CHECK(server.stop() == 0);
}

TEST_CASE("admin API: a retry with the same Idempotency-Key makes one credential and answers it without the secret")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro");
    ServerChild server(vendor);
    auto client = server.client();
    auto path = "/v1/licenses/" + license.id + "/credentials";
    auto headers = bearer(vendor.admin_token, { { "Idempotency-Key", "order-42-ci" } });
    auto first = client.Post(path, headers, R"({"name":"ci"})", "application/json");
    REQUIRE(first);
    CHECK(first->status == 201);
    auto again = client.Post(path, headers, R"({"name":"ci"})", "application/json");
    REQUIRE(again);
    INFO(again->body);
    CHECK(again->status == 201);
    CHECK(again->get_header_value("Idempotent-Replayed") == "true");
    CHECK(Json::parse(again->body)["id"] == Json::parse(first->body)["id"]);
    CHECK(Json::parse(again->body)["secret"].is_null());
    CHECK(vendor.sql("SELECT count(*) FROM credentials") == "1\n");
    // The same key for another request is a conflict, nothing made.
    check_error(client.Post(path, headers, R"({"name":"laptop"})", "application/json"), 409, "idempotency_conflict");

    // Revocation: a retry answers the revoked credential again; without a key, a second
    // revocation is a 409.
    std::string id = Json::parse(first->body)["id"];
    auto revoke_headers = bearer(vendor.admin_token, { { "Idempotency-Key", "revoke-ci" } });
    auto revoked = client.Post(path + "/" + id + "/revoke", revoke_headers, "", "application/json");
    REQUIRE(revoked);
    CHECK(revoked->status == 200);
    auto retried = client.Post(path + "/" + id + "/revoke", revoke_headers, "", "application/json");
    REQUIRE(retried);
    CHECK(retried->status == 200);
    CHECK(retried->body == revoked->body);
    check_error(client.Post(path + "/" + id + "/revoke", bearer(vendor.admin_token), "", "application/json"), 409, "conflict",
        "already revoked");
    CHECK(vendor.sql("SELECT count(*) FROM audit WHERE action LIKE 'credential.%'") == "2\n");
    CHECK(server.stop() == 0);
}

TEST_CASE("admin API: bad requests for credentials are refused with a specific error, nothing written")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro");
    auto other = vendor.issue("acme-pro");
    auto ci = Json::parse(vendor.cli({ "credential", "create", license.id, "--name", "ci", "--json" }).out);
    std::string id = ci["id"];
    ServerChild server(vendor);
    auto client = server.client();
    auto path = "/v1/licenses/" + license.id + "/credentials";
    auto before = audit_count(vendor);
    auto post = [&](std::string const& target, std::string const& body) {
        return client.Post(target, bearer(vendor.admin_token), body, "application/json");
    };
    check_error(post("/v1/licenses/lic_unknown/credentials", R"({"name":"ci"})"), 404, "not_found", "lic_unknown");
    check_error(client.Get("/v1/licenses/lic_unknown/credentials", bearer(vendor.admin_token)), 404, "not_found", "lic_unknown");
    check_error(post(path, R"({"name":"ci"})"), 409, "conflict", "already has a credential named \"ci\"");
    check_error(post(path, R"({})"), 400, "invalid_field", "\"name\" is required");
    check_error(post(path, R"({"name":7})"), 400, "invalid_field", "name");
    check_error(post(path, R"({"name":"ci","scope":"all"})"), 400, "unknown_field", "scope");
    check_error(post(path, R"({"name":""})"), 422, "invalid", "needs a name");
    check_error(post(path, R"({"name":"a\nb"})"), 422, "invalid", "control character");
    check_error(post(path, "not json"), 400, "malformed_json");
    // A credential under another license's path is not found there.
    check_error(post("/v1/licenses/" + other.id + "/credentials/" + id + "/revoke", ""), 404, "not_found", "has no credential " + id);
    check_error(post(path + "/cred_unknown/revoke", ""), 404, "not_found", "cred_unknown");
    vendor.cli({ "revoke", license.id, "--reason", "refund" });
    ++before;
    check_error(post(path, R"({"name":"laptop"})"), 409, "conflict", "was revoked on");
    CHECK(audit_count(vendor) == before);
    CHECK(vendor.sql("SELECT count(*) FROM credentials") == "1\n");
    CHECK(vendor.sql("SELECT count(*) FROM credentials WHERE revoked_at IS NOT NULL") == "0\n");
    CHECK(server.stop() == 0);
}

// --- Presented to the server ------------------------------------------------------------------

namespace {

// A vendor with one acme-pro release and a license with a credential, as a customer sets it up.
struct Customer : Vendor {
    Issued license;
    std::string secret;

    Customer()
    {
        write_file(temp / "acme-pro-1.0.tgz", "acme pro one");
        cli({ "release", "add", "--product", "acme-pro", "--version", "1.0", temp / "acme-pro-1.0.tgz" });
        license = issue("acme-pro");
        secret = create_credential(*this, license.id, "ci");
    }
};

}

TEST_CASE("a credential is accepted wherever the license key is for downloads: HTTP Basic or Bearer")
{
    Customer customer;
    ServerChild server(customer);
    auto client = server.client();
    auto with_key = client.Get("/v1/downloads", basic(customer.license.key));
    REQUIRE(with_key);
    REQUIRE(with_key->status == 200);
    for (auto const& headers : { basic(customer.secret), bearer(customer.secret) }) {
        auto listed = client.Get("/v1/downloads", headers);
        REQUIRE(listed);
        INFO(listed->body);
        CHECK(listed->status == 200);
        CHECK(listed->body == with_key->body);
        auto file = client.Get("/downloads/acme-pro/1.0/acme-pro-1.0.tgz", headers);
        REQUIRE(file);
        CHECK(file->status == 200);
        CHECK(file->body == "acme pro one");
        auto versions = client.Get("/rubygems/versions", headers);
        REQUIRE(versions);
        CHECK(versions->status == 200);
    }
    // The downloads log names the license the credential stands for.
    CHECK(contains(customer.cli({ "downloads", "--license", customer.license.id, "--json" }).out, "acme-pro-1.0.tgz"));
    // Its last use is recorded: when and from where.
    auto listed = Json::parse(customer.cli({ "credential", "list", customer.license.id, "--json" }).out);
    CHECK(!listed[0]["last_used_at"].is_null());
    CHECK(listed[0]["last_used_from"] == "127.0.0.1");
    CHECK(server.stop() == 0);
}

TEST_CASE("a revoked credential is refused while the license key and the other credentials still work")
{
    Customer customer;
    auto laptop = create_credential(customer, customer.license.id, "laptop");
    auto id = Json::parse(customer.cli({ "credential", "list", customer.license.id, "--json" }).out)[0]["id"].get<std::string>();
    ServerChild server(customer);
    auto client = server.client();
    customer.cli({ "credential", "revoke", id });
    check_error(client.Get("/v1/downloads", basic(customer.secret)), 401, "unauthorized", "credential " + id + " (\"ci\") was revoked on");
    // Through the RubyGems source the sentence is the reason phrase Bundler prints.
    auto gems = client.Get("/rubygems/versions", basic(customer.secret));
    REQUIRE(gems);
    CHECK(gems->status == 402);
    CHECK(contains(gems->reason, "was revoked on"));
    for (auto const& still : { customer.license.key, laptop }) {
        auto listed = client.Get("/v1/downloads", basic(still));
        REQUIRE(listed);
        CHECK(listed->status == 200);
    }
    // A secret nobody was given: 401, saying what to check.
    check_error(client.Get("/v1/downloads", basic("cdl_" + std::string(43, 'A'))), 401, "unauthorized", "no credential has this secret");
    CHECK(server.stop() == 0);
}

TEST_CASE("a credential follows its license: refused with the license's own sentence once it is revoked")
{
    Customer customer;
    ServerChild server(customer);
    auto client = server.client();
    customer.cli({ "revoke", customer.license.id, "--reason", "chargeback" });
    auto by_key = client.Get("/v1/downloads", basic(customer.license.key));
    auto by_credential = client.Get("/v1/downloads", basic(customer.secret));
    REQUIRE(by_key);
    REQUIRE(by_credential);
    CHECK(by_credential->status == by_key->status);
    CHECK(by_credential->body == by_key->body);
    check_error(by_credential, 403, "revoked", "license " + customer.license.id + " has been revoked");
    CHECK(server.stop() == 0);
}

TEST_CASE("POST /v1/validate refuses a credential: it is not a license key, and the answer says so")
{
    Customer customer;
    ServerChild server(customer);
    auto client = server.client();
    auto validated = client.Post("/v1/validate", Json { { "key", customer.secret }, { "product", "acme-pro" } }.dump(), "application/json");
    REQUIRE(validated);
    INFO(validated->body);
    auto body = Json::parse(validated->body);
    CHECK(body["valid"] == false);
    CHECK(body["status"] == "malformed");
    CHECK(contains(body["message"], "download credential"));
    CHECK(server.stop() == 0);
}

TEST_CASE("requests per credential: N pass, the next is 429 with Retry-After and a sentence; others are unaffected")
{
    Customer customer;
    auto laptop = create_credential(customer, customer.license.id, "laptop");
    ServerChild server(customer, { "--credential-request-limit", "5" });
    auto client = server.client();
    for (int i = 0; i < 5; ++i) {
        auto passed = client.Get("/rubygems/versions", basic(customer.secret));
        REQUIRE(passed);
        REQUIRE(passed->status == 200);
    }
    auto refused = client.Get("/rubygems/versions", basic(customer.secret));
    REQUIRE(refused);
    INFO(refused->body);
    CHECK(refused->status == 429);
    auto wait = std::stoi(refused->get_header_value("Retry-After"));
    CHECK(wait >= 1);
    CHECK(wait <= 12);
    // The sentence is the reason phrase too: Bundler prints it.
    CHECK(contains(refused->reason, "too many requests with credential \"ci\""));
    // The connection is closed after it, though the client asked to keep it: a client in a loop
    // never holds a worker thread. An answer within the limit keeps it.
    auto keep_alive = server.client();
    keep_alive.set_keep_alive(true);
    auto closed = keep_alive.Get("/rubygems/versions", basic(customer.secret));
    REQUIRE(closed);
    CHECK(closed->status == 429);
    CHECK(closed->get_header_value("Connection") == "close");
    auto kept = keep_alive.Get("/rubygems/versions", basic(laptop));
    REQUIRE(kept);
    CHECK(kept->status == 200);
    CHECK(kept->get_header_value("Connection") != "close");
    check_error(client.Get("/v1/downloads", basic(customer.secret)), 429, "too_many_requests", "retry in");
    // Another credential of the license and the license key are counted apart.
    for (auto const& other : { laptop, customer.license.key }) {
        auto passed = client.Get("/rubygems/versions", basic(other));
        REQUIRE(passed);
        CHECK(passed->status == 200);
    }
    CHECK(server.stop() == 0);
}

TEST_CASE("requests per license: key and credentials together, N pass, the next is 429; other licenses are unaffected")
{
    Customer customer;
    auto other = customer.issue("acme-pro");
    ServerChild server(customer, { "--license-request-limit", "4" });
    auto client = server.client();
    for (auto const& presented : { customer.license.key, customer.secret, customer.license.key, customer.secret }) {
        auto passed = client.Get("/v1/downloads", basic(presented));
        REQUIRE(passed);
        REQUIRE(passed->status == 200);
    }
    check_error(client.Get("/v1/downloads", basic(customer.license.key)), 429, "too_many_requests",
        "too many requests for license " + customer.license.id);
    check_error(client.Get("/v1/downloads", basic(customer.secret)), 429, "too_many_requests", "retry in");
    auto unaffected = client.Get("/v1/downloads", basic(other.key));
    REQUIRE(unaffected);
    CHECK(unaffected->status == 200);
    CHECK(server.stop() == 0);
}

TEST_CASE("a credential follows its license's current terms: after a renewal it gets what the renewal covers")
{
    Vendor vendor;
    // 1.0 released before the license's updates_until, 2.0 after it.
    write_file(vendor.temp / "acme-pro-1.0.tgz", "one");
    write_file(vendor.temp / "acme-pro-2.0.tgz", "two");
    vendor.cli({ "release", "add", "--product", "acme-pro", "--version", "1.0", "--released-at", "2026-01-01", vendor.temp / "acme-pro-1.0.tgz" });
    vendor.cli({ "release", "add", "--product", "acme-pro", "--version", "2.0", "--released-at", "2026-06-01", vendor.temp / "acme-pro-2.0.tgz" });
    vendor.env["CHARTER_NOW"] = "2026-02-01T00:00:00Z";
    auto license = vendor.issue("acme-pro", { "--updates-until", "2026-03-01" });
    vendor.env.erase("CHARTER_NOW");
    auto secret = create_credential(vendor, license.id, "ci");
    ServerChild server(vendor);
    auto client = server.client();
    check_error(client.Get("/downloads/acme-pro/2.0/acme-pro-2.0.tgz", basic(secret)), 403, "updates_ended");

    // A renewal moves updates_until past 2.0: a new version of the license, as `charter renew`
    // writes it (the credential never reads a key, so the version's key is the old one here).
    {
        auto store = vendor.open_store();
        auto current = store.get_license(license.id);
        REQUIRE(current);
        auto next = *current;
        next.version = current->version + 1;
        next.updates_until = *charter::format::parse_rfc3339("2027-03-01T00:00:00Z");
        REQUIRE(store.add_license_version(next, { .action = "license.renew", .reason = "renew", .at = current->issued_at + 1 },
            charter::db::Actor { "cli" }));
    }
    auto file = client.Get("/downloads/acme-pro/2.0/acme-pro-2.0.tgz", basic(secret));
    REQUIRE(file);
    INFO(file->body);
    CHECK(file->status == 200);
    CHECK(file->body == "two");
    CHECK(server.stop() == 0);
}

TEST_CASE("a credential's last use is written at most once a minute, not on every request")
{
    Customer customer;
    ServerChild server(customer);
    auto client = server.client();
    auto last_used = [&] {
        return Json::parse(customer.cli({ "credential", "list", customer.license.id, "--json" }).out)[0]["last_used_at"];
    };
    auto first = client.Get("/v1/downloads", basic(customer.secret));
    REQUIRE(first);
    REQUIRE(first->status == 200);
    auto recorded = last_used();
    REQUIRE(recorded.is_string());
    // A later second (times are stored in whole seconds), well within the minute.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    auto again = client.Get("/v1/downloads", basic(customer.secret));
    REQUIRE(again);
    REQUIRE(again->status == 200);
    CHECK(last_used() == recorded);
    CHECK(server.stop() == 0);
}
