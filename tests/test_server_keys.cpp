// charter-server and the data directory's signing keys, as an operator meets them: the server
// runs while `charter key rotate` and `charter key retire` change the keys in another process,
// and it signs licenses and revocation lists with whatever key is current, never with one the
// vendor rotated away from. And a license issued over the API is the license `charter issue`
// makes from the same inputs, audit row included. The real binaries on 127.0.0.1, each server
// stopped by its test.

#include "charter/verify.hpp"
#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

std::map<std::string, std::string> const with_passphrase { { "CHARTER_PASSPHRASE", "correct horse battery staple" } };

ProcessResult cli(std::string const& data_dir, std::vector<std::string> args, std::map<std::string, std::string> const& env = {})
{
    auto result = charter_cli(data_dir, args, env);
    INFO("charter " << args[0] << ": " << result.err);
    REQUIRE(result.exit_code == 0);
    return result;
}

Json keys_of(std::string const& data_dir) { return Json::parse(cli(data_dir, { "key", "list", "--json" }).out); }

std::string current_kid(std::string const& data_dir)
{
    for (auto const& key : keys_of(data_dir)) {
        if (key["current"] == true)
            return key["kid"];
    }
    FAIL("no current key");
    return {};
}

std::string public_key_of(std::string const& data_dir, std::string const& kid)
{
    for (auto const& key : keys_of(data_dir)) {
        if (key["kid"] == kid)
            return key["public_key"];
    }
    FAIL("no key " << kid);
    return {};
}

// A token's footer and claims, decoded (not verified) by `charter inspect`.
Json inspected(std::string const& token)
{
    auto result = run_process({ CHARTER_CLI_PATH, "inspect", "--json", token }, clean_env());
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return Json::parse(result.out);
}

std::string kid_of(std::string const& token) { return inspected(token)["footer"]["kid"]; }


httplib::Result post_license(httplib::Client& client, std::string const& token, Json const& body)
{
    return client.Post("/v1/licenses", bearer(token), body.dump(), "application/json");
}

Json issue_over_api(httplib::Client& client, std::string const& token, Json const& body = Json::object())
{
    Json request { { "product", "acme-pro" }, { "customer", "jane@example.com" } };
    request.update(body);
    auto issued = post_license(client, token, request);
    REQUIRE(issued);
    INFO(issued->body);
    REQUIRE(issued->status == 201);
    return Json::parse(issued->body);
}

std::string validation_status(httplib::Client& client, std::string const& key)
{
    auto result = client.Post("/v1/validate", Json { { "key", key }, { "product", "acme-pro" } }.dump(), "application/json");
    REQUIRE(result);
    REQUIRE(result->status == 200);
    return Json::parse(result->body)["status"];
}

std::string revocation_list(httplib::Client& client)
{
    auto list = client.Get("/v1/revocations/acme-pro");
    REQUIRE(list);
    INFO(list->body);
    REQUIRE(list->status == 200);
    return trimmed(list->body);
}

// An error answer: the status, its code, and a message naming each of `mentions`.
void check_error_naming(httplib::Result const& result, int status, std::string const& code, std::vector<std::string> const& mentions)
{
    REQUIRE(result);
    INFO("status " << result->status << ": " << result->body);
    CHECK(result->status == status);
    auto body = Json::parse(result->body);
    CHECK(body["error"]["code"] == code);
    for (auto const& mention : mentions)
        CHECK(contains(body["error"]["message"], mention));
}

// The kid of each list of a revocation file, in order.
std::vector<std::string> kids_of_file(std::string const& file)
{
    std::vector<std::string> kids;
    std::istringstream lines(file);
    for (std::string line; std::getline(lines, line);)
        kids.push_back(kid_of(line));
    return kids;
}

size_t license_count(std::string const& data_dir) { return Json::parse(cli(data_dir, { "list", "--json" }).out).size(); }

}

TEST_CASE("after `charter key rotate` the running server signs with the new key, and keeps doing so after the old one is retired")
{
    TempDir temp;
    auto data_dir = temp / "data";
    auto token = make_vendor(data_dir);
    ServerChild server(data_dir, temp.path());
    auto client = server.client();
    auto old_kid = current_kid(data_dir);

    auto before = issue_over_api(client, token);
    CHECK(kid_of(before["key"]) == old_kid);
    CHECK(validation_status(client, before["key"]) == "valid"); // the trusted keys are now cached
    CHECK(kids_of_file(revocation_list(client)) == std::vector<std::string> { old_kid });
    auto old_public_key = public_key_of(data_dir, old_kid);

    cli(data_dir, { "key", "rotate" });
    auto new_kid = current_kid(data_dir);
    REQUIRE(new_kid != old_kid);
    auto new_public_key = public_key_of(data_dir, new_kid);

    auto after = issue_over_api(client, token);
    CHECK(after["kid"] == new_kid);
    CHECK(kid_of(after["key"]) == new_kid);
    // The server trusts the key it has just signed with at once, not when its cache of trusted
    // keys next expires.
    CHECK(validation_status(client, after["key"]) == "valid");
    CHECK(charter_cli(data_dir, { "verify", after["key"] }).exit_code == 0);
    // The CLI signs with the same key.
    auto from_cli = trimmed(cli(data_dir, { "issue", "--product", "acme-pro", "--customer", "jane@example.com" }).out);
    CHECK(kid_of(from_cli) == new_kid);
    // No revocation changed, yet the file is signed again: by the new key first, and by the
    // old one for the builds that trust only it.
    CHECK(kids_of_file(revocation_list(client)) == std::vector<std::string> { new_kid, old_kid });

    // A build shipped before the rotation (it trusts only the old key) checks a list served
    // after it: a license revoked now is refused there (it was not before: the only list was
    // signed by the new key, and that build checked no revocations at all).
    auto revoked_before = client.Post("/v1/licenses/" + before["id"].get<std::string>() + "/revoke", bearer(token), "",
        "application/json");
    REQUIRE(revoked_before);
    REQUIRE(revoked_before->status == 200);
    charter::Verifier old_build("acme-pro");
    REQUIRE(old_build.add_key(old_public_key.c_str()) == CHARTER_OK);
    std::string old_build_detail;
    auto served_after_rotation = revocation_list(client);
    CHECK(old_build.set_revocation_list(served_after_rotation, &old_build_detail) == CHARTER_OK);
    INFO(old_build_detail);
    CHECK(old_build.verify(before["key"].get<std::string>()).status == CHARTER_E_REVOKED);

    cli(data_dir, { "key", "retire", old_kid });
    auto retired_era = issue_over_api(client, token);
    CHECK(kid_of(retired_era["key"]) == new_kid);
    CHECK(validation_status(client, retired_era["key"]) == "valid");
    CHECK(charter_cli(data_dir, { "verify", retired_era["key"] }).exit_code == 0);
    // Offline, with the keys the server publishes: only the new one is trusted now.
    auto published = Json::parse(client.Get("/v1/keys")->body)["keys"];
    REQUIRE(published.size() == 1);
    CHECK(published[0]["kid"] == new_kid);
    charter::Verifier offline("acme-pro");
    REQUIRE(offline.add_key(published[0]["public_key"].get<std::string>().c_str()) == CHARTER_OK);
    CHECK(offline.verify(retired_era["key"].get<std::string>()).status == CHARTER_OK);
    CHECK(offline.verify(after["key"].get<std::string>()).status == CHARTER_OK);
    CHECK(offline.verify(before["key"].get<std::string>()).status == CHARTER_E_UNKNOWN_KEY);

    // A revocation list made now is signed by the new key and accepted by a verifier that
    // trusts only it.
    auto revoked = client.Post("/v1/licenses/" + after["id"].get<std::string>() + "/revoke", bearer(token), "", "application/json");
    REQUIRE(revoked);
    REQUIRE(revoked->status == 200);
    auto list = revocation_list(client);
    CHECK(kids_of_file(list) == std::vector<std::string> { new_kid });
    auto listed = inspected(list)["claims"]["revoked"].get<std::set<std::string>>();
    CHECK(listed == std::set<std::string> { before["id"], after["id"] });
    charter::Verifier with_list("acme-pro");
    REQUIRE(with_list.add_key(new_public_key.c_str()) == CHARTER_OK);
    std::string detail;
    CHECK(with_list.set_revocation_list(list, &detail) == CHARTER_OK);
    CHECK(with_list.verify(after["key"].get<std::string>()).status == CHARTER_E_REVOKED);
    CHECK(with_list.verify(retired_era["key"].get<std::string>()).status == CHARTER_OK);

    // The operator sees the change in the server's log.
    CHECK(contains(server.err(), "signing with " + new_kid));
    server.stop();
}

TEST_CASE("a license signed by a key only the CLI has used yet validates at once")
{
    TempDir temp;
    auto data_dir = temp / "data";
    make_vendor(data_dir);
    ServerChild server(data_dir, temp.path());
    auto client = server.client();
    auto first = trimmed(cli(data_dir, { "issue", "--product", "acme-pro", "--customer", "jane@example.com" }).out);
    CHECK(validation_status(client, first) == "valid"); // the trusted keys are now cached

    // The server neither issues nor signs anything in between, so only the license's unknown kid
    // can tell it that the keys changed.
    cli(data_dir, { "key", "rotate" });
    auto second = trimmed(cli(data_dir, { "issue", "--product", "acme-pro", "--customer", "jane@example.com" }).out);
    REQUIRE(kid_of(second) == current_kid(data_dir));
    CHECK(validation_status(client, second) == "valid");
    CHECK(validation_status(client, first) == "valid");
    server.stop();
}

TEST_CASE("with passphrase-protected keys the server unwraps the rotated key with the passphrase it started with")
{
    TempDir temp;
    auto data_dir = temp / "data";
    auto token = make_vendor(data_dir, with_passphrase);
    ServerChild server(data_dir, temp.path(), {}, with_passphrase);
    auto client = server.client();
    auto old_kid = current_kid(data_dir);
    CHECK(kid_of(issue_over_api(client, token)["key"]) == old_kid);

    cli(data_dir, { "key", "rotate" }, with_passphrase);
    auto new_kid = current_kid(data_dir);
    REQUIRE(new_kid != old_kid);
    CHECK(read_text(data_dir + "/keys/" + new_kid.substr(new_kid.rfind('.') + 1) + ".key").starts_with("k4.secret-pw."));

    auto after = issue_over_api(client, token);
    CHECK(kid_of(after["key"]) == new_kid);
    CHECK(validation_status(client, after["key"]) == "valid");
    cli(data_dir, { "key", "retire", old_kid });
    CHECK(kid_of(issue_over_api(client, token)["key"]) == new_kid);
    CHECK(kids_of_file(revocation_list(client)) == std::vector<std::string> { new_kid });
    server.stop();
}

TEST_CASE("a current key the server cannot unwrap is a 503 naming it, and nothing is signed with the old key")
{
    TempDir temp;
    auto data_dir = temp / "data";
    auto token = make_vendor(data_dir);
    ServerChild server(data_dir, temp.path());
    auto client = server.client();
    auto old_kid = current_kid(data_dir);
    issue_over_api(client, token);
    CHECK(kids_of_file(revocation_list(client)) == std::vector<std::string> { old_kid });

    // The vendor protects the next key with a passphrase the server was not started with.
    cli(data_dir, { "key", "rotate" }, with_passphrase);
    auto new_kid = current_kid(data_dir);
    REQUIRE(new_kid != old_kid);
    for (int attempt = 0; attempt < 2; ++attempt) {
        check_error_naming(post_license(client, token, Json { { "product", "acme-pro" }, { "customer", "jane@example.com" } }), 503,
            "unavailable", { new_kid, "CHARTER_PASSPHRASE" });
        check_error_naming(client.Get("/v1/revocations/acme-pro"), 503, "unavailable", { new_kid });
    }
    CHECK(license_count(data_dir) == 1);
    CHECK(contains(server.err(), "cannot load the current signing key " + new_kid));
    server.stop();

    // Restarted with the passphrase, it signs with the new key.
    ServerChild restarted(data_dir, temp.path(), {}, with_passphrase);
    auto again = restarted.client();
    CHECK(kid_of(issue_over_api(again, token)["key"]) == new_kid);
    CHECK(kids_of_file(revocation_list(again)) == std::vector<std::string> { new_kid, old_kid });
    restarted.stop();
}

TEST_CASE("a license issued over the API and one from `charter issue` with the same inputs carry the same claims and audit rows")
{
    TempDir temp;
    auto data_dir = temp / "data";
    auto token = make_vendor(data_dir);
    ServerChild server(data_dir, temp.path());
    auto client = server.client();

    auto from_api = issue_over_api(client, token,
        Json { { "expires", "2099-12-31" }, { "updates_until", "2030-06-30T12:00:00Z" }, { "not_before", "2020-01-01" },
            { "entitlements", { "sso", "audit-log" } }, { "seats", 5 }, { "name", "Jane's team" },
            { "meta", { { "order", "A-1001" }, { "channel", "web" } } } });
    auto from_cli = Json::parse(cli(data_dir,
        { "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--expires", "2099-12-31", "--updates-until",
            "2030-06-30T12:00:00Z", "--not-before", "2020-01-01", "--entitlement", "sso", "--entitlement", "audit-log",
            "--seats", "5", "--name", "Jane's team", "--meta", "order=A-1001", "--meta", "channel=web", "--json" })
                                .out);

    // The signed claims, as the tokens hold them: the same names in the same order, the same
    // values but for the license id and the issue time; the same key signed both.
    auto api_token = inspected(from_api["key"]);
    auto cli_token = inspected(from_cli["key"]);
    CHECK(api_token["footer"] == cli_token["footer"]);
    auto claim_names = [](std::string const& token) {
        auto result = run_process({ CHARTER_CLI_PATH, "inspect", "--json", token }, clean_env());
        std::vector<std::string> names;
        auto document = nlohmann::ordered_json::parse(result.out); // kept: the loop's range refers into it
        for (auto const& [name, value] : document["claims"].items())
            names.push_back(name);
        return names;
    };
    CHECK(claim_names(from_api["key"]) == claim_names(from_cli["key"]));
    auto api_claims = api_token["claims"], cli_claims = cli_token["claims"];
    CHECK(api_claims["jti"] == from_api["id"]);
    CHECK(cli_claims["jti"] == from_cli["id"]);
    for (auto* claims : { &api_claims, &cli_claims }) {
        claims->erase("jti");
        claims->erase("iat");
    }
    CHECK(api_claims == cli_claims);
    CHECK(api_claims.contains("nbf"));
    CHECK(api_claims["meta"] == Json { { "order", "A-1001" }, { "channel", "web" } });

    // The license as both print it: the same fields, the same values but the id, times and key.
    auto api_license = from_api, cli_license = from_cli;
    for (auto* license : { &api_license, &cli_license }) {
        for (auto const* varying : { "id", "issued_at", "key", "claims" })
            license->erase(varying);
    }
    CHECK(api_license == cli_license);

    // One audit row each, of the same shape: the action, a license as subject, the same details.
    std::map<std::string, Json> rows;
    for (auto const& row : Json::parse(cli(data_dir, { "audit", "--json" }).out)) {
        for (auto const& license : { from_api, from_cli }) {
            if (row["subject"] == license["id"]) {
                CHECK_FALSE(rows.contains(license["id"]));
                rows[license["id"]] = row;
            }
        }
    }
    REQUIRE(rows.size() == 2);
    auto const& api_row = rows[from_api["id"]];
    auto const& cli_row = rows[from_cli["id"]];
    CHECK(api_row["action"] == "license.issue");
    CHECK(cli_row["action"] == api_row["action"]);
    CHECK(api_row["actor"].get<std::string>().starts_with("token:tok_"));
    CHECK(cli_row["actor"] == "cli");
    std::set<std::string> api_details, cli_details;
    for (auto const& [name, value] : api_row["details"].items())
        api_details.insert(name);
    for (auto const& [name, value] : cli_row["details"].items())
        cli_details.insert(name);
    CHECK(api_details == cli_details);
    CHECK(api_row["details"] == cli_row["details"]);
    server.stop();
}
