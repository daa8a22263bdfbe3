// The `charter` CLI as a vendor uses it: real processes, real SQLite files in fresh data
// directories. Each bad input gets its exit code and a message naming the cause, and loses
// nothing.

#include "charter/verify.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace charter::testing;

namespace {

struct Cli {
    TempDir temp;
    std::string data_dir = temp / "data";
    std::map<std::string, std::string> env = clean_env();

    ProcessResult run(std::vector<std::string> args, std::string const& input = {}) const
    {
        args.insert(args.begin(), { CHARTER_CLI_PATH, "--data-dir", data_dir });
        return run_process(args, env, input);
    }

    ProcessResult ok(std::vector<std::string> args, std::string const& input = {}) const
    {
        auto result = run(args, input);
        INFO("charter " << args[0] << " stderr: " << result.err);
        REQUIRE(result.exit_code == 0);
        return result;
    }

    std::string line(std::vector<std::string> args) const
    {
        auto out = ok(std::move(args)).out;
        REQUIRE(!out.empty());
        REQUIRE(out.back() == '\n');
        out.pop_back();
        REQUIRE(out.find('\n') == std::string::npos);
        return out;
    }

    // A data directory with a product and a customer, ready to issue.
    std::string setup()
    {
        ok({ "init", "--issuer", "Acme Inc." });
        ok({ "product", "add", "acme-pro", "--name", "Acme Pro" });
        return line({ "customer", "add", "--email", "jane@example.com", "--name", "Jane Doe" });
    }

    int64_t count(std::string const& status = {}) const
    {
        std::vector<std::string> args { "list", "--json" };
        if (!status.empty()) {
            args.push_back("--status");
            args.push_back(status);
        }
        return int64_t(nlohmann::json::parse(ok(args).out).size());
    }

    std::string sql(std::string const& query) const
    {
        auto result = run_process({ "/usr/bin/sqlite3", data_dir + "/charter.db", query });
        REQUIRE(result.exit_code == 0);
        return result.out;
    }
};

}

TEST_CASE("init creates the database, a 0700 keys folder and a 0600 key file")
{
    Cli cli;
    auto result = cli.ok({ "init", "--issuer", "Acme Inc." });
    CHECK(contains(result.out, "k4.pid."));
    struct stat info {};
    REQUIRE(stat((cli.data_dir + "/charter.db").c_str(), &info) == 0);
    REQUIRE(stat((cli.data_dir + "/keys").c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0700);
    auto keys = nlohmann::json::parse(cli.ok({ "key", "list", "--json" }).out);
    REQUIRE(keys.size() == 1);
    CHECK(keys[0]["current"] == true);
    std::string kid = keys[0]["kid"];
    std::string key_file = cli.data_dir + "/keys/" + kid.substr(7) + ".key";
    REQUIRE(stat(key_file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    CHECK(read_file(key_file).starts_with("k4.secret."));
    // The database holds only the public half.
    CHECK_FALSE(contains(cli.sql("select * from signing_keys"), "k4.secret"));

    auto again = cli.run({ "init", "--issuer", "Acme Inc." });
    CHECK(again.exit_code == 5);
    CHECK(contains(again.err, "already initialised"));
}

TEST_CASE("issue prints only the key on stdout; it verifies and is listed")
{
    Cli cli;
    auto customer = cli.setup();
    auto result = cli.ok({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--expires", "1y",
        "--updates-until", "2030-01-01", "--entitlement", "sso", "--entitlement", "audit-log", "--seats", "5", "--name",
        "Jane Doe", "--meta", "order=A-1001" });
    std::string key = result.out.substr(0, result.out.size() - 1);
    CHECK(result.out == key + "\n");
    CHECK(key.starts_with("v4.public."));
    CHECK(contains(result.err, "issued lic_"));

    auto verified = cli.ok({ "verify", key });
    CHECK(contains(verified.out, "valid"));
    CHECK(contains(verified.out, "sso audit-log"));
    auto json = nlohmann::json::parse(cli.ok({ "verify", "--json", key }).out);
    CHECK(json["valid"] == true);
    CHECK(json["claims"]["sub"] == customer);
    CHECK(json["claims"]["iss"] == "Acme Inc.");
    CHECK(json["claims"]["seats"] == 5);
    CHECK(json["claims"]["meta"]["order"] == "A-1001");
    CHECK(json["claims"]["updates_until"] == "2030-01-01T00:00:00Z");

    auto listed = nlohmann::json::parse(cli.ok({ "list", "--json", "--product", "acme-pro" }).out);
    REQUIRE(listed.size() == 1);
    std::string id = listed[0]["id"];
    CHECK(listed[0]["status"] == "active");
    auto shown = nlohmann::json::parse(cli.ok({ "show", id, "--json" }).out);
    CHECK(shown["key"] == key);
    CHECK(shown["customer"] == customer);
    // The same key from stdin, and the issue audit row.
    CHECK(cli.ok({ "verify", "-" }, key + "\n").exit_code == 0);
    auto audit = nlohmann::json::parse(cli.ok({ "audit", "--json" }).out);
    CHECK(std::any_of(audit.begin(), audit.end(), [&](auto const& entry) {
        return entry["action"] == "license.issue" && entry["subject"] == id;
    }));

    auto issued_json = nlohmann::json::parse(cli.ok({ "issue", "--product", "acme-pro", "--customer", customer, "--json" }).out);
    CHECK(issued_json["key"].get<std::string>().starts_with("v4.public."));
    CHECK(issued_json["expires_at"].is_null());
}

TEST_CASE("verify with explicit keys, a time, a tampered key and another product")
{
    Cli cli;
    cli.setup();
    cli.ok({ "product", "add", "acme-basic" });
    auto key = cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--expires", "2030-01-01" });
    auto public_key = cli.line({ "key", "export" });
    CHECK(public_key.starts_with("k4.public."));

    Cli elsewhere; // no data directory at all: --key is enough
    CHECK(elsewhere.ok({ "verify", "--key", public_key, key }).exit_code == 0);
    auto expired = elsewhere.run({ "verify", "--key", public_key, "--at", "2030-01-02", key });
    CHECK(expired.exit_code == 1);
    CHECK(contains(expired.out, "expired on 2030-01-01"));
    auto other_product = elsewhere.run({ "verify", "--key", public_key, "--product", "acme-basic", key });
    CHECK(other_product.exit_code == 1);
    CHECK(contains(other_product.out, "is for product \"acme-pro\", not \"acme-basic\""));
    std::string tampered = key;
    tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
    auto bad = elsewhere.run({ "verify", "--key", public_key, tampered });
    CHECK(bad.exit_code == 1);
    auto no_dir = elsewhere.run({ "verify", key });
    CHECK(no_dir.exit_code == 4);
    CHECK(contains(no_dir.err, "--key"));
    auto bad_key = elsewhere.run({ "verify", "--key", "k4.public.nope", key });
    CHECK(bad_key.exit_code == 3);

    auto inspected = cli.ok({ "inspect", key });
    CHECK(contains(inspected.err, "NOT VERIFIED"));
    CHECK(contains(inspected.out, "acme-pro"));
    CHECK(cli.run({ "inspect", "garbage" }).exit_code == 3);
}

TEST_CASE("revoke: verify then says revoked; the revocation list names it")
{
    Cli cli;
    cli.setup();
    auto key = cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    std::string id = nlohmann::json::parse(cli.ok({ "list", "--json" }).out)[0]["id"];
    cli.ok({ "revoke", id, "--reason", "chargeback" });
    auto verified = cli.run({ "verify", key });
    CHECK(verified.exit_code == 1);
    CHECK(contains(verified.out, "revoked"));
    CHECK(contains(verified.out, "chargeback"));
    CHECK(cli.count("revoked") == 1);
    CHECK(cli.count("active") == 0);

    auto again = cli.run({ "revoke", id });
    CHECK(again.exit_code == 5);
    auto unknown = cli.run({ "revoke", "lic_doesnotexist" });
    CHECK(unknown.exit_code == 4);
    CHECK(contains(unknown.err, "lic_doesnotexist"));
    CHECK(cli.run({ "show", "lic_doesnotexist" }).exit_code == 4);

    auto list = cli.line({ "revocations", "export", "--product", "acme-pro" });
    charter::Verifier verifier("acme-pro");
    REQUIRE(verifier.add_key(cli.line({ "key", "export" }).c_str()) == CHARTER_OK);
    std::string detail;
    REQUIRE(verifier.set_revocation_list(list, &detail) == CHARTER_OK);
    CHECK(verifier.verify(key).status == CHARTER_E_REVOKED);
    CHECK(cli.run({ "revocations", "export", "--product", "nope" }).exit_code == 4);
}

TEST_CASE("bad input: unknown product or customer, duplicates, bad dates and durations")
{
    Cli cli;
    cli.setup();
    auto issue = [&](std::vector<std::string> extra) {
        std::vector<std::string> args { "issue", "--product", "acme-pro", "--customer", "jane@example.com" };
        args.insert(args.end(), extra.begin(), extra.end());
        return cli.run(args);
    };
    auto unknown_product = cli.run({ "issue", "--product", "nope", "--customer", "jane@example.com" });
    CHECK(unknown_product.exit_code == 4);
    CHECK(contains(unknown_product.err, "nope"));
    auto unknown_customer = cli.run({ "issue", "--product", "acme-pro", "--customer", "who@example.com" });
    CHECK(unknown_customer.exit_code == 4);
    CHECK(contains(unknown_customer.err, "who@example.com"));
    auto duplicate_product = cli.run({ "product", "add", "acme-pro" });
    CHECK(duplicate_product.exit_code == 5);
    CHECK(contains(duplicate_product.err, "acme-pro"));
    auto duplicate_email = cli.run({ "customer", "add", "--email", "JANE@example.com" });
    CHECK(duplicate_email.exit_code == 5);
    CHECK(cli.run({ "customer", "add", "--email", "not-an-email" }).exit_code == 3);
    CHECK(cli.run({ "product", "add", "Bad Id" }).exit_code == 3);

    for (auto const& bad : { "2026-02-30", "2026-13-01", "tomorrow", "30x", "0d", "-5d", "2026-11-28t10:00:00Z", "1e3d" }) {
        auto result = issue({ "--expires", bad });
        INFO(bad << ": " << result.err);
        CHECK(result.exit_code == 3);
        CHECK(contains(result.err, "expires"));
    }
    auto past = issue({ "--expires", "2020-01-01" });
    CHECK(past.exit_code == 3);
    CHECK(contains(past.err, "not after the issue time"));
    CHECK(issue({ "--seats", "0" }).exit_code == 3);
    CHECK(issue({ "--meta", "novalue" }).exit_code == 3);
    CHECK(issue({ "--entitlement", "a", "--entitlement", "a" }).exit_code == 3);
    CHECK(cli.run({ "issue", "--product", "acme-pro" }).exit_code == 3);
    CHECK(cli.run({ "list", "--status", "weird" }).exit_code == 2);
    CHECK(cli.run({ "frobnicate" }).exit_code == 2);
    CHECK(cli.count() == 0);
}

TEST_CASE("a missing or unusable data directory says what to do")
{
    Cli cli;
    auto missing = cli.run({ "list" });
    CHECK(missing.exit_code == 4);
    CHECK(contains(missing.err, "charter init"));
    Cli blocked;
    blocked.data_dir = "/dev/null/charter";
    auto cannot = blocked.run({ "init", "--issuer", "x" });
    CHECK(cannot.exit_code == 7);
    CHECK(contains(cannot.err, "/dev/null/charter"));

    // The environment variable is the fallback for --data-dir.
    Cli env;
    env.setup();
    auto result = run_process({ CHARTER_CLI_PATH, "product", "list" }, { { "CHARTER_DATA_DIR", env.data_dir } });
    CHECK(result.exit_code == 0);
    CHECK(contains(result.out, "acme-pro"));
}

TEST_CASE("a database from a newer charter is refused")
{
    Cli cli;
    cli.setup();
    cli.sql("PRAGMA user_version = 999;");
    auto result = cli.run({ "list" });
    CHECK(result.exit_code == 8);
    CHECK(contains(result.err, "999"));
    CHECK(contains(result.err, "newer"));
}

TEST_CASE("passphrase-protected signing keys")
{
    Cli cli;
    cli.env["CHARTER_PASSPHRASE"] = "correct horse";
    cli.setup();
    auto kid = nlohmann::json::parse(cli.ok({ "key", "list", "--json" }).out)[0]["kid"].get<std::string>();
    CHECK(read_file(cli.data_dir + "/keys/" + kid.substr(7) + ".key").starts_with("k4.secret-pw."));
    CHECK(cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" }).starts_with("v4.public."));

    cli.env["CHARTER_PASSPHRASE"] = "";
    auto missing = cli.run({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    CHECK(missing.exit_code == 6);
    CHECK(contains(missing.err, "CHARTER_PASSPHRASE"));
    CHECK(cli.run({ "key", "rotate" }).exit_code == 6);
    // Reading needs no passphrase.
    CHECK(cli.run({ "list" }).exit_code == 0);

    cli.env["CHARTER_PASSPHRASE"] = "wrong horse";
    auto wrong = cli.run({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    CHECK(wrong.exit_code == 6);
    CHECK(contains(wrong.err, "wrong passphrase"));
    CHECK(cli.run({ "key", "rotate" }).exit_code == 6);
    CHECK(cli.count() == 1);

    auto prompt = cli.run({ "--passphrase-prompt", "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    CHECK(prompt.exit_code == 6); // no terminal here, and the env passphrase is wrong
}

TEST_CASE("a key file readable by others is used with a warning")
{
    Cli cli;
    cli.setup();
    auto kid = nlohmann::json::parse(cli.ok({ "key", "list", "--json" }).out)[0]["kid"].get<std::string>();
    std::string key_file = cli.data_dir + "/keys/" + kid.substr(7) + ".key";
    REQUIRE(chmod(key_file.c_str(), 0644) == 0);
    auto result = cli.ok({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    CHECK(contains(result.err, "warning"));
    CHECK(contains(result.err, "chmod 600"));
}

TEST_CASE("key rotation keeps old licenses valid until their key is retired")
{
    Cli cli;
    cli.setup();
    auto old_key = cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    auto old_kid = nlohmann::json::parse(cli.ok({ "key", "list", "--json" }).out)[0]["kid"].get<std::string>();
    auto new_kid = cli.line({ "key", "rotate" });
    CHECK(new_kid != old_kid);
    auto new_key = cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    CHECK(nlohmann::json::parse(cli.ok({ "verify", "--json", new_key }).out)["kid"] == new_kid);
    CHECK(cli.ok({ "verify", old_key }).exit_code == 0);
    auto exported = cli.ok({ "key", "export" }).out;
    CHECK(std::count(exported.begin(), exported.end(), '\n') == 2);

    auto retire_current = cli.run({ "key", "retire", new_kid });
    CHECK(retire_current.exit_code != 0);
    cli.ok({ "key", "retire", old_kid });
    auto refused = cli.run({ "verify", old_key });
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.out, "not a trusted key"));
    CHECK(cli.ok({ "verify", new_key }).exit_code == 0);

    // key new adds a trusted key that does not sign yet; rotate KID switches to it.
    auto staged = cli.line({ "key", "new" });
    CHECK(nlohmann::json::parse(cli.ok({ "verify", "--json", cli.line({ "issue", "--product", "acme-pro", "--customer",
        "jane@example.com" }) }).out)["kid"] == new_kid);
    cli.ok({ "key", "rotate", staged });
    CHECK(nlohmann::json::parse(cli.ok({ "verify", "--json", cli.line({ "issue", "--product", "acme-pro", "--customer",
        "jane@example.com" }) }).out)["kid"] == staged);
}

TEST_CASE("a build that trusts only the key from before a rotation checks a revocation file exported after it")
{
    Cli cli;
    cli.setup();
    auto license = cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    std::string id = nlohmann::json::parse(cli.ok({ "list", "--json" }).out)[0]["id"];
    auto old_build_keys = cli.line({ "key", "export" }); // the build shipped before the rotation
    auto old_kid = nlohmann::json::parse(cli.ok({ "key", "list", "--json" }).out)[0]["kid"].get<std::string>();

    auto rotated = cli.ok({ "key", "rotate" });
    auto new_kid = rotated.out.substr(0, rotated.out.find('\n'));
    // The warning says what builds that trust only the old key need.
    CHECK(contains(rotated.err, "warning: builds that trust only " + old_kid + " refuse licenses signed from now on"));
    CHECK(contains(rotated.err, "keep checking revocations while " + old_kid + " is not retired"));
    CHECK(contains(rotated.err, "charter revocations export --product P --kid " + old_kid));
    cli.ok({ "revoke", id });

    auto file = cli.ok({ "revocations", "export", "--product", "acme-pro" }).out;
    REQUIRE(std::count(file.begin(), file.end(), '\n') == 2); // one list per trusted key, current first
    auto first_line = file.substr(0, file.find('\n'));
    CHECK(nlohmann::json::parse(cli.ok({ "inspect", "--json", first_line }).out)["footer"]["kid"] == new_kid);

    charter::Verifier old_build("acme-pro");
    REQUIRE(old_build.add_key(old_build_keys.c_str()) == CHARTER_OK);
    std::string detail;
    REQUIRE(old_build.set_revocation_list(file, &detail) == CHARTER_OK);
    CHECK(old_build.verify(license).status == CHARTER_E_REVOKED);
    // A build made after the rotation trusts both keys and uses the first list.
    charter::Verifier new_build("acme-pro");
    std::istringstream exported(cli.ok({ "key", "export" }).out);
    for (std::string key; std::getline(exported, key);)
        REQUIRE(new_build.add_key(key.c_str()) == CHARTER_OK);
    REQUIRE(new_build.set_revocation_list(file, &detail) == CHARTER_OK);
    CHECK(new_build.verify(license).status == CHARTER_E_REVOKED);

    // --kid: the one list an older libcharter-verify (one list per file) can read.
    auto single = cli.line({ "revocations", "export", "--product", "acme-pro", "--kid", old_kid });
    CHECK(nlohmann::json::parse(cli.ok({ "inspect", "--json", single }).out)["footer"]["kid"] == old_kid);
    auto unknown = cli.run({ "revocations", "export", "--product", "acme-pro", "--kid", "k4.pid.nope" });
    CHECK(unknown.exit_code == 4);
    CHECK(contains(unknown.err, "no trusted signing key k4.pid.nope"));

    // Once the old key is retired, the file carries no list for it, and the retire says so.
    auto retired = cli.ok({ "key", "retire", old_kid });
    CHECK(contains(retired.err, "builds that trust only it no longer check revocations"));
    auto after_retire = cli.line({ "revocations", "export", "--product", "acme-pro" });
    CHECK(old_build.set_revocation_list(after_retire, &detail) == CHARTER_E_BAD_REVOCATION_LIST);
}

TEST_CASE("verifier export writes each language's check with the trusted keys; a key that is not a PASERK is never written")
{
    Cli cli;
    cli.setup();
    auto keys = cli.line({ "key", "export" });
    for (std::string language : { "ruby", "python", "javascript" }) {
        auto out = cli.ok({ "verifier", "export", "--language", language, "--product", "acme-pro" }).out;
        CHECK(contains(out, "\"" + keys + "\""));
        CHECK(contains(out, "\"acme-pro\""));
        CHECK(!contains(out, "@KEYS@"));
        CHECK(!contains(out, "@PRODUCT@"));
    }
    CHECK(contains(cli.ok({ "verifier", "export", "--language", "ruby", "--product", "acme-pro" }).out, "module AcmeProLicense"));
    CHECK(contains(cli.ok({ "verifier", "export", "--language", "ruby", "--product", "acme-pro", "--module", "AcmePro" }).out,
        "module AcmePro\n"));

    auto bad_language = cli.run({ "verifier", "export", "--language", "cobol", "--product", "acme-pro" });
    CHECK(bad_language.exit_code == 3);
    CHECK(contains(bad_language.err, "--language \"cobol\" is not ruby, python or javascript"));
    CHECK(cli.run({ "verifier", "export", "--language", "ruby", "--product", "nope" }).exit_code == 4);
    auto bad_module = cli.run({ "verifier", "export", "--language", "ruby", "--product", "acme-pro", "--module", "x; system('id')" });
    CHECK(bad_module.exit_code == 3);
    CHECK(bad_module.out.empty());

    // A public key altered in the database (here: source code in its place) is refused, nothing printed.
    cli.sql("UPDATE signing_keys SET public_paserk = 'k4.public.\"; system(\"id\"); \"'");
    for (std::string language : { "ruby", "python", "javascript" }) {
        auto tampered = cli.run({ "verifier", "export", "--language", language, "--product", "acme-pro" });
        CHECK(tampered.exit_code == 3);
        CHECK(tampered.out.empty());
        CHECK(contains(tampered.err, "is not a k4.public PASERK (the database was altered?)"));
    }
    // A valid PASERK that is not the key its kid names is refused too.
    cli.sql("UPDATE signing_keys SET public_paserk = 'k4.public.A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg'");
    auto other_key = cli.run({ "verifier", "export", "--language", "ruby", "--product", "acme-pro" });
    CHECK(other_key.exit_code == 3);
    CHECK(contains(other_key.err, "belongs to another key id"));
}

TEST_CASE("key export as ready-to-paste source")
{
    Cli cli;
    cli.setup();
    auto public_key = cli.line({ "key", "export", "--format", "paserk" });
    auto c = cli.ok({ "key", "export", "--format", "c" }).out;
    CHECK(contains(c, "static const char *const charter_public_keys[CHARTER_PUBLIC_KEY_COUNT]"));
    CHECK(contains(c, "\"" + public_key + "\""));
    CHECK(contains(cli.ok({ "key", "export", "--format", "cpp" }).out, "std::array<std::string_view, 1> charter_public_keys"));
    CHECK(contains(cli.ok({ "key", "export", "--format", "ruby" }).out, "CHARTER_PUBLIC_KEYS = [\n  \"" + public_key));
    CHECK(contains(cli.ok({ "key", "export", "--format", "python" }).out, "CHARTER_PUBLIC_KEYS = (\n    \"" + public_key));
    CHECK(cli.run({ "key", "export", "--format", "java" }).exit_code == 2);
}

TEST_CASE("batch issuance: all rows in one transaction or none")
{
    Cli cli;
    cli.setup();
    cli.ok({ "customer", "add", "--email", "bob@example.com" });
    std::string good = cli.temp / "good.csv";
    std::ofstream(good) << "customer,product,expires,entitlements,seats,name,meta\r\n"
                        << "jane@example.com,acme-pro,1y,sso;audit-log,3,\"Doe, Jane\",order=1;channel=web\r\n"
                        << "bob@example.com,acme-pro,,,,,\r\n"
                        << "\r\n"
                        << "\"bob@example.com\",acme-pro,2030-01-01,,,\"Bob \"\"B\"\"\",\r\n";
    auto result = cli.ok({ "issue", "--batch", good });
    CHECK(std::count(result.out.begin(), result.out.end(), '\n') == 3);
    CHECK(cli.count() == 3);
    std::istringstream keys(result.out);
    std::string first;
    std::getline(keys, first);
    auto claims = nlohmann::json::parse(cli.ok({ "verify", "--json", first }).out)["claims"];
    CHECK(claims["name"] == "Doe, Jane");
    CHECK(claims["entitlements"] == nlohmann::json::array({ "sso", "audit-log" }));
    CHECK(claims["meta"]["channel"] == "web");

    auto json_lines = cli.ok({ "issue", "--batch", good, "--json" }).out;
    CHECK(std::count(json_lines.begin(), json_lines.end(), '\n') == 3);
    CHECK(nlohmann::json::parse(json_lines.substr(0, json_lines.find('\n')))["key"].get<std::string>().starts_with("v4."));
    CHECK(cli.count() == 6);

    std::string bad = cli.temp / "bad.csv";
    std::ofstream(bad) << "customer,product,expires\n"
                       << "jane@example.com,acme-pro,1y\n"
                       << "bob@example.com,acme-pro,2026-02-30\n";
    auto refused = cli.run({ "issue", "--batch", bad });
    CHECK(refused.exit_code == 3);
    CHECK(contains(refused.err, "line 3"));
    CHECK(contains(refused.err, "nothing was issued"));
    CHECK(refused.out.empty());
    CHECK(cli.count() == 6);

    std::string unknown = cli.temp / "unknown.csv";
    std::ofstream(unknown) << "customer,product\njane@example.com,acme-pro\nnobody@example.com,acme-pro\n";
    auto not_found = cli.run({ "issue", "--batch", unknown });
    CHECK(not_found.exit_code == 4);
    CHECK(contains(not_found.err, "line 3"));
    CHECK(cli.count() == 6);

    std::string truncated = cli.temp / "truncated.csv";
    std::ofstream(truncated) << "customer,product,name\njane@example.com,acme-pro,\"Jane\nbob@example.com,acme-pro,\"Bo";
    auto cut = cli.run({ "issue", "--batch", truncated });
    CHECK(cut.exit_code == 3);
    CHECK(contains(cut.err, "truncated"));
    CHECK(cli.count() == 6);

    std::string header = cli.temp / "header.csv";
    std::ofstream(header) << "customer,colour\njane@example.com,red\n";
    auto bad_header = cli.run({ "issue", "--batch", header, "--product", "acme-pro" });
    CHECK(bad_header.exit_code == 3);
    CHECK(contains(bad_header.err, "line 1"));
    CHECK(contains(bad_header.err, "colour"));
    CHECK(cli.run({ "issue", "--batch", cli.temp / "missing.csv" }).exit_code == 4);

    // From stdin with a default product.
    auto piped = cli.ok({ "issue", "--batch", "-", "--product", "acme-pro" }, "customer\njane@example.com\n");
    CHECK(std::count(piped.out.begin(), piped.out.end(), '\n') == 1);
}

TEST_CASE("batch: a bad row far into the batch fails it whole, with its line, whichever step finds it")
{
    // A batch is signed a few hundred rows at a time on other threads while earlier rows are
    // stored: a bad row several hundred rows in must still stop everything.
    Cli cli;
    cli.setup();
    auto batch_with = [&](std::string const& name, int bad_line, std::string const& bad_row) {
        std::string path = cli.temp / name;
        std::ofstream out(path);
        out << "customer,product,expires\n";
        for (int line = 2; line <= 1200; ++line)
            out << (line == bad_line ? bad_row : "jane@example.com,acme-pro,1y") << "\n";
        return path;
    };
    struct Case {
        std::string name;
        int line;
        std::string row;
        int exit_code;
        std::string message;
    };
    for (auto const& bad : { Case { "invalid.csv", 700, "jane@example.com,acme-pro,2026-02-30", 3, "line 700: " },
             Case { "unknown.csv", 1200, "nobody@example.com,acme-pro,1y", 4, "line 1200: " },
             Case { "fields.csv", 258, "jane@example.com,acme-pro", 3, "line 258: has 2 fields" } }) {
        auto refused = cli.run({ "issue", "--batch", batch_with(bad.name, bad.line, bad.row) });
        INFO(bad.name << ": " << refused.err);
        CHECK(refused.exit_code == bad.exit_code);
        CHECK(contains(refused.err, bad.message));
        CHECK(contains(refused.err, "nothing was issued"));
        CHECK(refused.out.empty());
    }
    CHECK(cli.count() == 0);
    CHECK(cli.sql("select count(*) from audit where action = 'license.issue'") == "0\n");
}

TEST_CASE("customer show, product list, token create/list/revoke, backup")
{
    Cli cli;
    auto customer = cli.setup();
    cli.ok({ "issue", "--product", "acme-pro", "--customer", customer });
    auto shown = nlohmann::json::parse(cli.ok({ "customer", "show", "jane@example.com", "--json" }).out);
    CHECK(shown["id"] == customer);
    CHECK(shown["licenses"].size() == 1);
    CHECK(cli.run({ "customer", "show", "nobody@example.com" }).exit_code == 4);
    CHECK(contains(cli.ok({ "product", "list" }).out, "Acme Pro"));

    auto token = cli.line({ "token", "create", "--scope", "issue,read", "--name", "webhook" });
    CHECK(token.starts_with("chrt_"));
    CHECK_FALSE(contains(cli.sql("select * from admin_tokens"), token));
    auto tokens = nlohmann::json::parse(cli.ok({ "token", "list", "--json" }).out);
    REQUIRE(tokens.size() == 1);
    CHECK(tokens[0]["scopes"] == nlohmann::json::array({ "issue", "read" }));
    CHECK(cli.run({ "token", "create", "--scope", "issue,root" }).exit_code == 3);
    cli.ok({ "token", "revoke", tokens[0]["id"] });
    CHECK_FALSE(nlohmann::json::parse(cli.ok({ "token", "list", "--json" }).out)[0]["revoked_at"].is_null());

    std::string backup = cli.temp / "backup.db";
    cli.ok({ "db", "backup", backup });
    auto counted = run_process({ "/usr/bin/sqlite3", backup, "select count(*) from licenses" });
    CHECK(counted.out == "1\n");
}

TEST_CASE("list --status expired: the licenses past their end at the clock, revoked ones not among them")
{
    Cli cli;
    cli.env["CHARTER_NOW"] = "2026-01-01T00:00:00Z";
    cli.setup();
    cli.ok({ "product", "add", "acme-basic" });
    cli.ok({ "customer", "add", "--email", "bob@example.com" });
    auto issue = [&](std::string const& product, std::string const& customer, std::vector<std::string> extra = {}) {
        std::vector<std::string> args { "issue", "--json", "--product", product, "--customer", customer };
        args.insert(args.end(), extra.begin(), extra.end());
        return nlohmann::json::parse(cli.ok(args).out)["id"].get<std::string>();
    };
    auto ends_in_january = issue("acme-pro", "jane@example.com", { "--expires", "30d" });
    auto ends_in_february = issue("acme-basic", "bob@example.com", { "--expires", "2026-02-01" });
    auto perpetual = issue("acme-pro", "bob@example.com");
    auto ends_next_year = issue("acme-basic", "jane@example.com", { "--expires", "1y" });
    auto revoked_and_ended = issue("acme-pro", "jane@example.com", { "--expires", "7d" });
    cli.ok({ "revoke", revoked_and_ended });

    // The ids `list --json ARGS` prints; each listed license must show the status asked for.
    auto listed = [&](std::vector<std::string> args) {
        args.insert(args.begin(), { "list", "--json" });
        std::set<std::string> ids;
        for (auto const& license : nlohmann::json::parse(cli.ok(args).out)) {
            auto status = std::find(args.begin(), args.end(), "--status");
            if (status != args.end())
                CHECK(license["status"] == *(status + 1));
            ids.insert(license["id"].get<std::string>());
        }
        return ids;
    };

    // Two weeks in, only the revoked license is past its end, and it counts as revoked.
    cli.env["CHARTER_NOW"] = "2026-01-15T00:00:00Z";
    CHECK(cli.ok({ "list", "--json", "--status", "expired" }).out == "[]\n");
    CHECK(cli.ok({ "list", "--status", "expired" }).out.empty());
    CHECK(listed({ "--status", "active" }) == std::set<std::string> { ends_in_january, ends_in_february, perpetual, ends_next_year });
    CHECK(listed({ "--status", "revoked" }) == std::set<std::string> { revoked_and_ended });

    // In March the two that ended are expired; the revoked one stays revoked, whatever its end.
    cli.env["CHARTER_NOW"] = "2026-03-01T00:00:00Z";
    CHECK(listed({ "--status", "expired" }) == std::set<std::string> { ends_in_january, ends_in_february });
    CHECK(listed({ "--status", "active" }) == std::set<std::string> { perpetual, ends_next_year });
    CHECK(listed({ "--status", "revoked" }) == std::set<std::string> { revoked_and_ended });
    CHECK(listed({ "--status", "expired", "--product", "acme-basic" }) == std::set<std::string> { ends_in_february });
    CHECK(listed({ "--status", "expired", "--customer", "jane@example.com" }) == std::set<std::string> { ends_in_january });
    CHECK(listed({ "--status", "expired", "--customer", "bob@example.com", "--product", "acme-pro" }).empty());
    auto shown = nlohmann::json::parse(cli.ok({ "show", "--json", ends_in_january }).out);
    CHECK(shown["status"] == "expired");
    CHECK(shown["expires_at"] == "2026-01-31T00:00:00Z");

    // As text: one line per license, its id, product, customer, state and end date.
    auto text = cli.ok({ "list", "--status", "expired" }).out;
    CHECK(std::count(text.begin(), text.end(), '\n') == 2);
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        INFO(line);
        CHECK(contains(line, "  expired  expires 2026-0"));
        CHECK((line.starts_with(ends_in_january + "  acme-pro  ") || line.starts_with(ends_in_february + "  acme-basic  ")));
    }
    CHECK(contains(text, ends_in_january + "  acme-pro  "));
    CHECK(contains(text, "expires 2026-01-31\n"));
    CHECK(contains(text, ends_in_february + "  acme-basic  "));
    CHECK(contains(text, "expires 2026-02-01\n"));
}

TEST_CASE("customer list: every customer, oldest first, as text and as JSON")
{
    Cli cli;
    cli.ok({ "init", "--issuer", "Acme Inc." });
    CHECK(cli.ok({ "customer", "list" }).out.empty());
    CHECK(cli.ok({ "customer", "list", "--json" }).out == "[]\n");

    struct Added {
        std::string email, name, at;
    };
    std::vector<Added> customers { { "jane@example.com", "Jane Doe", "2026-01-01T09:00:00Z" },
        { "bob@example.com", "", "2026-01-02T09:00:00Z" }, { "zoe@example.com", "Zoë \"東京\"", "2026-01-03T09:30:00Z" } };
    auto expected = nlohmann::json::array();
    std::string expected_text;
    for (auto const& customer : customers) {
        cli.env["CHARTER_NOW"] = customer.at;
        std::vector<std::string> args { "customer", "add", "--json", "--email", customer.email };
        if (!customer.name.empty()) {
            args.push_back("--name");
            args.push_back(customer.name);
        }
        auto added = nlohmann::json::parse(cli.ok(args).out);
        std::string id = added["id"];
        CHECK(id.starts_with("cus_"));
        // The list shows each customer exactly as `customer add --json` printed it.
        CHECK(added == nlohmann::json { { "id", id }, { "email", customer.email }, { "name", customer.name }, { "created_at", customer.at } });
        expected.push_back(added);
        expected_text += id + "\t" + customer.email + "\t" + customer.name + "\n";
    }
    // Licenses do not change the listing.
    cli.env["CHARTER_NOW"] = "2026-02-01T00:00:00Z";
    cli.ok({ "product", "add", "acme-pro" });
    cli.ok({ "issue", "--product", "acme-pro", "--customer", "bob@example.com" });

    auto json = cli.ok({ "customer", "list", "--json" }).out;
    CHECK(nlohmann::json::parse(json) == expected);
    CHECK(cli.ok({ "customer", "list" }).out == expected_text);
}

TEST_CASE("a full disk or a read-only database: a clear error, nothing half-written", "[root]")
{
    Cli cli;
    // A [root] case: its own ctest, which reports "skipped" when not root or when no tmpfs can
    // be mounted here (catch_main.cpp).
    MountedTmpfs small(cli.temp / "small", "4m");
    std::string const& mount_point = small.path();
    cli.data_dir = mount_point + "/data";
    cli.setup();
    CHECK(cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" }).starts_with("v4.public."));

    // Fill the disk.
    std::string filler = mount_point + "/filler";
    {
        std::ofstream out(filler, std::ios::binary);
        std::string block(65536, 'x');
        while (out.write(block.data(), std::streamsize(block.size())) && out.flush()) { }
    }
    int failures = 0;
    int successes = 0;
    for (int i = 0; i < 50 && failures == 0; ++i) {
        auto result = cli.run({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
        if (result.exit_code == 0) {
            ++successes; // the WAL may still have room for a few
            continue;
        }
        ++failures;
        CHECK(result.exit_code == 7);
        CHECK(contains(result.err, "disk full"));
        CHECK(result.out.empty()); // no key shown for a license that was not stored
    }
    CHECK(failures == 1);
    REQUIRE(unlink(filler.c_str()) == 0);
    // Space is back: everything that was acknowledged is there, and issuing works again.
    CHECK(cli.count() == 1 + successes);
    CHECK(cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" }).starts_with("v4.public."));
    int64_t stored = cli.count();
    CHECK(stored == 2 + successes);
    CHECK(cli.sql("PRAGMA integrity_check;") == "ok\n");

    REQUIRE(mount("tmpfs", mount_point.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, "size=4m") == 0);
    auto read_only = cli.run({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    CHECK(read_only.exit_code == 7);
    CHECK(contains(read_only.err, "read-only"));
    CHECK(read_only.out.empty());
    // A WAL database cannot even be read where its -shm file cannot be created: say so.
    auto listing = cli.run({ "list" });
    CHECK(listing.exit_code == 7);
    CHECK(contains(listing.err, "read-only file system"));
    REQUIRE(mount("tmpfs", mount_point.c_str(), "tmpfs", MS_REMOUNT, "size=4m") == 0);
    CHECK(cli.count() == stored);
}

TEST_CASE("text that is not UTF-8 is refused with its line, never a crash")
{
    Cli cli;
    cli.setup();
    auto latin1 = cli.run({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--name", "caf\xE9" });
    CHECK(latin1.exit_code == 3);
    CHECK(contains(latin1.err, "name is not valid UTF-8"));
    CHECK(cli.run({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--entitlement", "\xFF" }).exit_code == 3);
    CHECK(cli.run({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--meta", "k=\xC3" }).exit_code == 3);
    CHECK(cli.run({ "customer", "add", "--email", "zoe@example.com", "--name", "Zo\xEB" }).exit_code == 3);
    CHECK(cli.run({ "product", "add", "acme-basic", "--name", "Acme \xFF" }).exit_code == 3);
    Cli other;
    CHECK(other.run({ "init", "--issuer", "Acme \xFF" }).exit_code == 3);
    // The issuer goes into a comment line of `charter key export`'s source files: one line only.
    auto two_lines = other.run({ "init", "--issuer", "Acme\nCHARTER_PUBLIC_KEYS = []" });
    CHECK(two_lines.exit_code == 3);
    CHECK(contains(two_lines.err, "--issuer must be one line of text"));

    // A batch saved as Latin-1: the bad row's line, and nothing issued.
    std::string batch = cli.temp / "latin1.csv";
    std::ofstream(batch) << "customer,product,name\njane@example.com,acme-pro,Jane\njane@example.com,acme-pro,Ren\xE9\n";
    auto refused = cli.run({ "issue", "--batch", batch });
    CHECK(refused.exit_code == 3);
    CHECK(contains(refused.err, "line 3: name is not valid UTF-8"));
    CHECK(contains(refused.err, "nothing was issued"));
    CHECK(cli.count() == 0);

    // UTF-8 itself is fine, and comes back unchanged.
    auto key = cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--name", "Zoë \"東京\"" });
    CHECK(nlohmann::json::parse(cli.ok({ "verify", "--json", key }).out)["claims"]["name"] == "Zoë \"東京\"");
}

TEST_CASE("batch: the keys printed are the keys stored, in row order; per-license options are refused")
{
    Cli cli;
    cli.setup();
    cli.ok({ "customer", "add", "--email", "bob@example.com" });
    std::string batch = cli.temp / "rows.csv";
    {
        std::ofstream out(batch);
        out << "customer,product,seats\n";
        for (int i = 1; i <= 1500; ++i)
            out << (i % 2 ? "jane@example.com" : "bob@example.com") << ",acme-pro," << i << "\n";
    }
    auto result = cli.ok({ "issue", "--batch", batch });
    CHECK(contains(result.err, "issued 1500 licenses"));
    CHECK(result.out == cli.sql("select token from licenses order by rowid"));
    std::istringstream keys(result.out);
    std::string first;
    std::getline(keys, first);
    CHECK(nlohmann::json::parse(cli.ok({ "verify", "--json", first }).out)["claims"]["seats"] == 1);

    auto json_lines = cli.ok({ "issue", "--batch", batch, "--json" }).out;
    std::istringstream lines(json_lines);
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
        auto license = nlohmann::json::parse(line);
        CHECK(license["claims"]["seats"] == ++count);
        CHECK(license["key"].get<std::string>().starts_with("v4.public."));
    }
    CHECK(count == 1500);
    // No progress bar when stderr is not a terminal.
    CHECK_FALSE(contains(result.err, "["));
    // Temporary files of the held output are gone.
    CHECK_FALSE(contains(run_process({ "/bin/ls", "-A", cli.data_dir }).out, ".charter-batch"));

    // Listings are printed a page at a time, in the same JSON as one document.
    auto listed = cli.ok({ "list", "--json" }).out;
    CHECK(listed == nlohmann::ordered_json::parse(listed).dump(2) + "\n");
    CHECK(nlohmann::json::parse(listed).size() == 3000);
    CHECK(nlohmann::json::parse(listed)[2999]["claims"]["seats"] == 1500);
    auto plain = cli.ok({ "list" }).out;
    CHECK(std::count(plain.begin(), plain.end(), '\n') == 3000);
    auto audit = cli.ok({ "audit", "--json" }).out;
    CHECK(audit == nlohmann::ordered_json::parse(audit).dump(2) + "\n");
    CHECK(nlohmann::json::parse(audit).size() == 3005); // + setting, key, product, 2 customers
    CHECK(nlohmann::json::parse(cli.ok({ "audit", "--json", "--limit", "1500" }).out).size() == 1500);
    CHECK(cli.ok({ "list", "--json", "--product", "nothing-here" }).out == "[]\n");
    CHECK(cli.run({ "audit", "--limit", "-5" }).exit_code == 2);

    for (auto const& option : { "--customer", "--expires", "--name", "--seats", "--entitlement", "--meta" }) {
        auto mixed = cli.run({ "issue", "--batch", batch, option, "1" });
        INFO(option);
        CHECK(mixed.exit_code == 2);
        CHECK(contains(mixed.err, "excludes"));
    }
    CHECK(cli.count() == 3000);
}

TEST_CASE("colour only on a terminal, and never with NO_COLOR")
{
    Cli cli;
    cli.setup();
    auto key = cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    cli.env.erase("NO_COLOR");
    cli.env["TERM"] = "xterm-256color";
    for (auto const& args : std::vector<std::vector<std::string>> { { "list" }, { "verify", key }, { "show",
             nlohmann::json::parse(cli.ok({ "list", "--json" }).out)[0]["id"] } }) {
        auto result = cli.ok(args);
        INFO(args[0]);
        CHECK_FALSE(contains(result.out, "\033["));
        CHECK_FALSE(contains(result.err, "\033["));
    }
}

TEST_CASE("every command's help has examples of that command, groups and charter itself included")
{
    Cli cli;
    std::vector<std::vector<std::string>> commands { { "init" }, { "key" }, { "key", "list" }, { "key", "new" },
        { "key", "rotate" }, { "key", "retire" }, { "key", "export" }, { "product" }, { "product", "add" },
        { "product", "list" }, { "customer" }, { "customer", "add" }, { "customer", "list" }, { "customer", "show" },
        { "issue" }, { "list" }, { "show" }, { "revoke" }, { "verify" }, { "inspect" }, { "revocations" },
        { "revocations", "export" }, { "audit" }, { "db" }, { "db", "backup" }, { "token" }, { "token", "create" },
        { "token", "list" }, { "token", "revoke" }, { "credential" }, { "credential", "create" }, { "credential", "list" },
        { "credential", "revoke" }, { "release" }, { "release", "add" }, { "release", "list" },
        { "release", "yank" }, { "verifier" }, { "verifier", "export" } };
    for (auto const& command : commands) {
        std::string name = "charter";
        for (auto const& word : command)
            name += " " + word;
        auto args = command;
        args.push_back("--help");
        auto result = cli.run(args);
        INFO(name << " --help:\n" << result.out);
        CHECK(result.exit_code == 0);
        // The usage line names the command too, so look only after "Example": a command
        // without its own examples would show those of charter itself (CLI11 inherits footers).
        auto examples = result.out.find("Example");
        REQUIRE(examples != std::string::npos);
        CHECK(contains(result.out.substr(examples), name));
    }
    auto top = cli.run({ "--help" });
    INFO(top.out);
    CHECK(top.exit_code == 0);
    auto examples = top.out.find("Examples:");
    REQUIRE(examples != std::string::npos);
    for (auto const& example : { "charter init --issuer", "charter issue --product", "charter verify" })
        CHECK(contains(top.out.substr(examples), example));
    CHECK(contains(top.out, "Exit codes"));
}

TEST_CASE("CHARTER_NOW pins the clock; a value that is not a time says so")
{
    Cli cli;
    cli.setup();
    cli.env["CHARTER_NOW"] = "2030-06-01T12:00:00Z";
    auto key = cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--expires", "30d" });
    auto claims = nlohmann::json::parse(cli.ok({ "verify", "--json", key }).out)["claims"];
    CHECK(claims["iat"] == "2030-06-01T12:00:00Z");
    CHECK(claims["exp"] == "2030-07-01T12:00:00Z");

    cli.env["CHARTER_NOW"] = "yesterday";
    auto result = cli.ok({ "list" });
    CHECK(contains(result.err, "CHARTER_NOW"));
    CHECK(contains(result.err, "yesterday"));
}

TEST_CASE("audit --since takes a time, a date, or a duration ago")
{
    Cli cli;
    cli.env["CHARTER_NOW"] = "2026-11-28T10:00:00Z";
    cli.setup();
    cli.env["CHARTER_NOW"] = "2026-12-28T10:00:00Z";
    cli.ok({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    auto count = [&](std::string const& since) {
        return nlohmann::json::parse(cli.ok({ "audit", "--json", "--since", since }).out).size();
    };
    CHECK(count("2026-11-01") == 5); // setting, key, product, customer, license
    CHECK(count("7d") == 1);          // only the license of today
    CHECK(count("2mo") == 5);
    CHECK(count("2027-01-01") == 0);
    CHECK(cli.run({ "audit", "--since", "lately" }).exit_code == 3);
}

// Every unit of a duration, at a pinned clock: "ago" for --since (audit and downloads), ahead
// for --expires, each at its exact boundary (the entry at it is in, the one a second before is
// not).
TEST_CASE("every duration unit counts back for --since and ahead for --expires")
{
    struct Unit {
        char const* duration;
        char const* ago;    // now minus the duration
        char const* before; // a second before that
        char const* ahead;  // now plus the duration
    };
    // Oldest boundary first; now is 2026-11-28T10:00:00Z.
    std::vector<Unit> const units {
        { "2y", "2024-11-28T10:00:00Z", "2024-11-28T09:59:59Z", "2028-11-28T10:00:00Z" },
        { "2mo", "2026-09-28T10:00:00Z", "2026-09-28T09:59:59Z", "2027-01-28T10:00:00Z" },
        { "2w", "2026-11-14T10:00:00Z", "2026-11-14T09:59:59Z", "2026-12-12T10:00:00Z" },
        { "2d", "2026-11-26T10:00:00Z", "2026-11-26T09:59:59Z", "2026-11-30T10:00:00Z" },
        { "12h", "2026-11-27T22:00:00Z", "2026-11-27T21:59:59Z", "2026-11-28T22:00:00Z" },
    };
    Cli cli;
    cli.env["CHARTER_NOW"] = "2020-01-01T00:00:00Z";
    cli.setup();
    // An audited change and a logged download a second before each boundary and at it.
    int counter = 0;
    for (auto const& unit : units) {
        for (std::string at : { unit.before, unit.ago }) {
            cli.env["CHARTER_NOW"] = at;
            cli.ok({ "customer", "add", "--email", "c" + std::to_string(++counter) + "@example.com" });
            cli.sql("INSERT INTO downloads (at, outcome) VALUES (CAST(strftime('%s', '" + at + "') AS INTEGER), 'not_found')");
        }
    }
    cli.env["CHARTER_NOW"] = "2026-11-28T10:00:00Z";
    size_t expected = 1;
    for (auto unit = units.rbegin(); unit != units.rend(); ++unit, expected += 2) {
        INFO("--since " << unit->duration);
        auto audit = nlohmann::json::parse(cli.ok({ "audit", "--json", "--oldest-first", "--since", unit->duration }).out);
        REQUIRE(audit.size() == expected);
        CHECK(audit[0]["at"] == unit->ago);
        auto downloads = nlohmann::json::parse(cli.ok({ "downloads", "--json", "--since", unit->duration }).out);
        REQUIRE(downloads.size() == expected);
        CHECK(downloads[0]["at"] == unit->ago);
    }
    for (auto const& unit : units) {
        INFO("--expires " << unit.duration);
        auto key = cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--expires", unit.duration });
        CHECK(nlohmann::json::parse(cli.ok({ "verify", "--json", key }).out)["claims"]["exp"] == unit.ahead);
    }
}

TEST_CASE("a key that cannot be written out is an error that says the license exists")
{
    Cli cli;
    cli.setup();
    auto to_full_disk = [&](std::string const& args) {
        return run_process({ "/bin/sh", "-c", std::string(CHARTER_CLI_PATH) + " --data-dir '" + cli.data_dir + "' " + args
                + " > /dev/full" }, cli.env);
    };
    auto single = to_full_disk("issue --product acme-pro --customer jane@example.com");
    CHECK(single.exit_code == 7);
    CHECK(contains(single.err, "was issued"));
    CHECK(contains(single.err, "charter show lic_"));
    CHECK(cli.count() == 1);

    std::string batch = cli.temp / "rows.csv";
    std::ofstream(batch) << "customer,product\njane@example.com,acme-pro\njane@example.com,acme-pro\n";
    auto many = to_full_disk("issue --batch '" + batch + "'");
    CHECK(many.exit_code == 7);
    CHECK(contains(many.err, "the 2 licenses were issued"));
    CHECK(contains(many.err, "charter list --json"));
    CHECK(cli.count() == 3);
}

TEST_CASE("release yank --json prints the yanked releases as release add and release list do")
{
    Cli cli;
    cli.setup();
    std::string tarball = cli.temp / "acme-pro-2.3.0.tar.gz", zip = cli.temp / "acme-pro-2.3.0.zip";
    std::ofstream(tarball) << "tarball";
    std::ofstream(zip) << "zip";
    auto added = nlohmann::json::parse(
        cli.ok({ "release", "add", "--json", "--product", "acme-pro", "--version", "2.3.0", tarball, zip }).out);
    REQUIRE(added.size() == 2);
    cli.ok({ "release", "add", "--product", "acme-pro", "--version", "2.4.0", tarball });

    // Every file of the version, each as `release add --json` printed it, now yanked.
    auto yanked = cli.ok({ "release", "yank", "--json", "--product", "acme-pro", "--version", "2.3.0" });
    CHECK(yanked.err.empty());
    auto json = nlohmann::json::parse(yanked.out);
    REQUIRE(json.is_array());
    std::map<std::string, nlohmann::json> by_id;
    for (auto const& release : json)
        by_id[release["id"]] = release;
    REQUIRE(by_id.size() == 2);
    for (auto expected : added) {
        CHECK(expected["yanked"] == false);
        expected["yanked"] = true;
        CHECK(by_id[expected["id"]] == expected);
    }
    auto listed = nlohmann::json::parse(cli.ok({ "release", "list", "--json" }).out);
    REQUIRE(listed.size() == 3);
    for (auto const& release : listed)
        CHECK(release["yanked"] == (release["version"] == "2.3.0"));

    // Without --json: the count on stderr, nothing on stdout. Yanked twice: a conflict (exit 5),
    // with nothing on stdout.
    std::string id;
    for (auto const& release : listed) {
        if (release["version"] == "2.4.0")
            id = release["id"];
    }
    auto plain = cli.ok({ "release", "yank", id });
    CHECK(plain.out.empty());
    CHECK(contains(plain.err, "yanked 1 file(s)"));
    auto again = cli.run({ "release", "yank", "--json", id });
    CHECK(again.exit_code == 5);
    CHECK(again.out.empty());
    CHECK(contains(again.err, "already yanked"));
}

TEST_CASE("downloads: an empty log, help with examples, and bad filters named with their exit codes")
{
    Cli cli;
    cli.setup();
    cli.ok({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    auto license = nlohmann::json::parse(cli.ok({ "list", "--json" }).out)[0]["id"].get<std::string>();

    // No server has logged anything: nothing on stdout, an empty array with --json, exit 0.
    auto empty = cli.ok({ "downloads" });
    CHECK(empty.out.empty());
    CHECK(empty.err.empty());
    CHECK(cli.ok({ "downloads", "--json" }).out == "[]\n");
    CHECK(cli.ok({ "downloads", "--json", "--license", license, "--product", "acme-pro", "--outcome", "ok", "--since", "7d",
                  "--limit", "5" })
              .out
        == "[]\n");

    auto help = cli.run({ "downloads", "--help" });
    CHECK(help.exit_code == 0);
    CHECK(contains(help.out, "Example"));
    CHECK(contains(help.out, "--outcome"));
    CHECK(contains(cli.run({ "--help" }).out, "downloads"));

    // A typo in an id is an error (exit 4), never an empty log that reads as "never downloaded".
    auto unknown_license = cli.run({ "downloads", "--license", "lic_nothing" });
    CHECK(unknown_license.exit_code == 4);
    CHECK(unknown_license.out.empty());
    CHECK(contains(unknown_license.err, "no license lic_nothing"));
    auto unknown_product = cli.run({ "downloads", "--product", "acme-nothing" });
    CHECK(unknown_product.exit_code == 4);
    CHECK(contains(unknown_product.err, "no product acme-nothing"));

    auto bad_since = cli.run({ "downloads", "--since", "lately" });
    CHECK(bad_since.exit_code == 3);
    CHECK(bad_since.out.empty());
    CHECK(contains(bad_since.err, "--since"));
    CHECK(contains(bad_since.err, "lately"));
    auto bad_outcome = cli.run({ "downloads", "--outcome", "denyed" });
    CHECK(bad_outcome.exit_code == 2);
    CHECK(contains(bad_outcome.err, "--outcome"));
    CHECK(cli.run({ "downloads", "--limit", "0" }).exit_code == 2);
    CHECK(cli.run({ "downloads", "--limit", "-5" }).exit_code == 2);
}

// --- Field report fixes (issue 12) ----------------------------------------------------------

TEST_CASE("revoke's hint names the license's product, ready to run")
{
    Cli cli;
    cli.setup();
    cli.ok({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    std::string id = nlohmann::json::parse(cli.ok({ "list", "--json" }).out)[0]["id"];
    auto revoked = cli.ok({ "revoke", id });
    CHECK(contains(revoked.err, "charter revocations export --product acme-pro\n"));
    CHECK_FALSE(contains(revoked.err, "…"));
}

TEST_CASE("key export --format c is a guarded header: included twice, it still compiles")
{
    Cli cli;
    cli.setup();
    std::string header = cli.temp / "charter_keys.h";
    std::ofstream(header) << cli.ok({ "key", "export", "--format", "c" }).out;
    std::string source = cli.temp / "main.c";
    std::ofstream(source) << "#include \"charter_keys.h\"\n#include \"charter_keys.h\"\n"
                          << "int main(void) { return CHARTER_PUBLIC_KEY_COUNT == 1 && charter_public_keys[0][0] == 'k' ? 0 : 1; }\n";
    auto compiled = run_process({ "/usr/bin/cc", "-std=c11", "-Wall", "-Werror", "-o", cli.temp / "main", source });
    INFO(compiled.err);
    REQUIRE(compiled.exit_code == 0);
    CHECK(run_process({ cli.temp / "main" }).exit_code == 0);
}

TEST_CASE("key export refuses a public key in the database that is not a PASERK: nothing is written")
{
    Cli cli;
    cli.setup();
    auto good = cli.line({ "key", "export" });
    std::string kid = nlohmann::json::parse(cli.ok({ "key", "list", "--json" }).out)[0]["kid"];
    struct Tampered {
        char const* what;
        std::string value;
    };
    // Another genuine key's PASERK under this kid: well-formed, but not the key the kid names.
    std::string other = good;
    other[12] = other[12] == 'A' ? 'B' : 'A';
    for (auto const& tampered : { Tampered { "code", good + "\",\n};\n#include </etc/shadow>\nstatic const char *x[] = {\"" },
             Tampered { "quote", "k4.public.\"" }, Tampered { "padding", good + "=" }, Tampered { "empty", "" },
             Tampered { "another key", other } }) {
        INFO(tampered.what);
        cli.sql("update signing_keys set public_paserk = '" + tampered.value + "'");
        for (auto const& format : { "paserk", "c", "cpp", "ruby", "python" }) {
            auto exported = cli.run({ "key", "export", "--format", format });
            CHECK(exported.exit_code == 3);
            CHECK(exported.out.empty());
            CHECK(contains(exported.err, "is not a k4.public PASERK") != contains(exported.err, "belongs to another key id"));
            CHECK(contains(exported.err, kid));
            CHECK(contains(exported.err, "restore charter.db from a backup"));
        }
    }
    cli.sql("update signing_keys set public_paserk = '" + good + "'");
    CHECK(cli.line({ "key", "export" }) == good);
}

TEST_CASE("a batch CSV that starts with a UTF-8 byte order mark (Excel's export) is read")
{
    Cli cli;
    cli.setup();
    std::string csv = cli.temp / "excel.csv";
    std::ofstream(csv) << "\xEF\xBB\xBF" "customer,product,seats\r\njane@example.com,acme-pro,3\r\n";
    auto issued = cli.ok({ "issue", "--batch", csv, "--json" });
    auto license = nlohmann::json::parse(issued.out);
    CHECK(license["claims"]["seats"] == 3);
    CHECK(cli.count() == 1);
    // Only at the very start: a BOM inside a name is still a typo.
    std::ofstream(csv) << "customer,\xEF\xBB\xBF" "product\r\njane@example.com,acme-pro\r\n";
    auto refused = cli.run({ "issue", "--batch", csv });
    CHECK(refused.exit_code == 3);
    CHECK(contains(refused.err, "unknown column"));
}

TEST_CASE("the name claim is the customer's name unless --name gives another, in single and batch issuance")
{
    Cli cli;
    cli.setup(); // Jane Doe
    cli.ok({ "customer", "add", "--email", "nameless@example.com" });
    auto name_of = [](std::string const& json_line) { return nlohmann::json::parse(json_line)["claims"].value("name", "(none)"); };
    CHECK(name_of(cli.ok({ "issue", "--json", "--product", "acme-pro", "--customer", "jane@example.com" }).out) == "Jane Doe");
    CHECK(name_of(cli.ok({ "issue", "--json", "--product", "acme-pro", "--customer", "jane@example.com", "--name", "Acme GmbH" }).out)
        == "Acme GmbH");
    CHECK(name_of(cli.ok({ "issue", "--json", "--product", "acme-pro", "--customer", "nameless@example.com" }).out) == "(none)");
    std::string csv = cli.temp / "names.csv";
    std::ofstream(csv) << "customer,product,name\njane@example.com,acme-pro,\njane@example.com,acme-pro,Acme GmbH\n"
                       << "nameless@example.com,acme-pro,\n";
    std::istringstream lines(cli.ok({ "issue", "--batch", csv, "--json" }).out);
    std::vector<std::string> names;
    for (std::string line; std::getline(lines, line);)
        names.push_back(name_of(line));
    CHECK(names == std::vector<std::string> { "Jane Doe", "Acme GmbH", "(none)" });
    // charter verify shows it, as a product would greet the licensee.
    auto key = cli.line({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    CHECK(contains(cli.ok({ "verify", key }).out, "name:          Jane Doe\n"));
}

TEST_CASE("audit --limit N shows the newest N, newest first; --oldest-first reverses")
{
    Cli cli;
    cli.setup(); // setting.set, key.add, product.add, customer.add
    std::vector<std::string> issued;
    for (int i = 0; i < 3; ++i) {
        cli.ok({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
        issued.push_back(nlohmann::json::parse(cli.ok({ "list", "--json" }).out)[size_t(i)]["id"]);
    }
    auto subjects = [&](std::vector<std::string> args) {
        args.insert(args.begin(), { "audit", "--json" });
        std::vector<std::string> found;
        for (auto const& entry : nlohmann::json::parse(cli.ok(args).out))
            found.push_back(entry["subject"]);
        return found;
    };
    CHECK(subjects({ "--limit", "2" }) == std::vector<std::string> { issued[2], issued[1] });
    auto all = subjects({});
    REQUIRE(all.size() == 7);
    CHECK(all[0] == issued[2]);
    CHECK(all[6] == "issuer");
    auto oldest = subjects({ "--oldest-first", "--limit", "2" });
    REQUIRE(oldest.size() == 2);
    CHECK(oldest[0] == "issuer");
    CHECK(subjects({ "--oldest-first" }) == std::vector<std::string>(all.rbegin(), all.rend()));
    // The text lines too: the first is the newest.
    auto text = cli.ok({ "audit", "--limit", "1" }).out;
    CHECK(std::count(text.begin(), text.end(), '\n') == 1);
    CHECK(contains(text, "license.issue  " + issued[2]));
}

TEST_CASE("control characters are refused in customer names and emails; stored ones are escaped in text output")
{
    Cli cli;
    cli.setup();
    struct Bad {
        char const* what;
        std::string text;
    };
    for (auto const& bad : { Bad { "ESC", "Eve\x1b[2J" }, Bad { "BEL", "Eve\a" }, Bad { "CR", "Eve\rcus_FAKE" },
             Bad { "LF", "Eve\ncus_FAKE\tfake@example.com" }, Bad { "TAB", "Eve\tDoe" }, Bad { "DEL", "Eve\x7f" },
             Bad { "C1 CSI", "Eve\xc2\x9b" "2J" }, Bad { "invalid UTF-8", "Eve\xff" } }) {
        INFO(bad.what);
        auto by_name = cli.run({ "customer", "add", "--email", "eve@example.com", "--name", bad.text });
        CHECK(by_name.exit_code == 3);
        CHECK(contains(by_name.err, "the customer's name"));
        CHECK(by_name.out.empty());
        auto by_email = cli.run({ "customer", "add", "--email", "eve" + bad.text + "@example.com" });
        CHECK(by_email.exit_code == 3);
        CHECK(contains(by_email.err, "the email address"));
    }
    CHECK(cli.sql("select count(*) from customers") == "1\n");
    // Printable text beyond ASCII is a name like any other.
    cli.ok({ "customer", "add", "--email", "zoe@example.com", "--name", "Zoë Ångström" });

    // A name stored by an older version (or written into the database directly) is shown escaped.
    cli.sql("update customers set name = 'Eve' || char(27) || '[2J' || char(13) || char(10) || 'cus_FAKE' || char(7) || char(155)"
            " where email = 'jane@example.com'");
    for (auto const& args : std::vector<std::vector<std::string>> { { "customer", "list" }, { "customer", "show", "jane@example.com" } }) {
        auto shown = cli.ok(args).out;
        INFO(shown);
        CHECK_FALSE(contains(shown, "\x1b"));
        CHECK_FALSE(contains(shown, "\r"));
        CHECK_FALSE(contains(shown, "\a"));
        CHECK_FALSE(contains(shown, "\xc2\x9b"));
        CHECK(contains(shown, "Eve\\e[2J\\r\\ncus_FAKE\\x07\\u009b"));
    }
    auto listed = cli.ok({ "customer", "list" }).out;
    CHECK(contains(listed, "Zoë Ångström"));
    CHECK(std::count(listed.begin(), listed.end(), '\n') == 2);
    // JSON keeps the exact text (escaped by JSON itself).
    auto json = nlohmann::json::parse(cli.ok({ "customer", "show", "jane@example.com", "--json" }).out);
    CHECK(json["name"] == "Eve\x1b[2J\r\ncus_FAKE\a\xc2\x9b");
}

TEST_CASE("a license whose key would exceed the verifiers' 16 KiB is refused at issue time, nothing stored")
{
    Cli cli;
    cli.setup();
    auto refused = cli.run({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--meta",
        "notes=" + std::string(20000, 'x') });
    CHECK(refused.exit_code == 3);
    CHECK(refused.out.empty());
    CHECK(contains(refused.err, "over the 16384 bytes verifiers accept"));
    CHECK(std::regex_search(refused.err, std::regex("the license key would be 2[0-9]{4} bytes")));

    // The last row of a batch: the rows before it are not issued either.
    std::string csv = cli.temp / "large.csv";
    {
        std::ofstream out(csv);
        out << "customer,product,entitlements\n";
        for (int i = 0; i < 10; ++i)
            out << "jane@example.com,acme-pro,sso\n";
        out << "jane@example.com,acme-pro,";
        for (int i = 0; i < 5000; ++i)
            out << (i ? ";" : "") << "feature-" << i;
        out << "\n";
    }
    auto batch = cli.run({ "issue", "--batch", csv });
    CHECK(batch.exit_code == 3);
    CHECK(batch.out.empty());
    CHECK(contains(batch.err, "line 12: the license key would be"));
    CHECK(contains(batch.err, "nothing was issued"));
    CHECK(cli.count() == 0);
    CHECK(cli.sql("select count(*) from audit where action = 'license.issue'") == "0\n");

    // Just under the limit is issued, and verifies.
    std::string under;
    for (int size = 12300;; size -= 30) {
        auto attempt = cli.run({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--meta",
            "notes=" + std::string(size_t(size), 'x') });
        if (attempt.exit_code == 0) {
            under = attempt.out.substr(0, attempt.out.size() - 1);
            break;
        }
        REQUIRE(attempt.exit_code == 3);
    }
    CHECK(under.size() <= 16384);
    CHECK(under.size() > 16384 - 60);
    CHECK(cli.ok({ "verify", under }).exit_code == 0);
}
