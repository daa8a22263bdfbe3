// The startup check (charter_startup_* / charter::StartupCheck): where it looks for the key,
// in which order, and that every outcome's message names the real cause a customer can act on.

#include "charter/format/base64url.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/verify.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace charter;
using charter::testing::contains;
namespace fs = std::filesystem;

namespace {

constexpr int64_t t0 = 1795860000; // 2026-11-28T10:00:00Z
constexpr int64_t day = 86400;
constexpr char const* product = "acme-pro";
constexpr char const* env_name = "CHARTER_TEST_STARTUP_LICENSE";
constexpr char const* renew_url = "https://acme.example/renew";
constexpr char const* license_id = "lic_ABCDEFGHIJKLMNOPQRSTUV";

void write_file(fs::path const& path, std::string const& contents)
{
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << contents;
    REQUIRE(out.good());
}

// A scratch directory standing in for the application's working directory, and a fake HOME
// inside it; the environment variable and HOME are restored afterwards.
struct Fixture {
    keygen::SigningKey key = *keygen::SigningKey::generate();
    keygen::SigningKey other_key = *keygen::SigningKey::generate();
    fs::path root;
    fs::path home;
    fs::path config_file;   // ./config/acme-pro.license, as an absolute path
    fs::path home_file;     // ~/.config/acme-pro/license
    std::optional<std::string> saved_home;
    Verifier verifier { product };

    Fixture()
    {
        char pattern[] = "/tmp/charter-startup-XXXXXX";
        REQUIRE(::mkdtemp(pattern) != nullptr);
        root = pattern;
        home = root / "home";
        fs::create_directories(home);
        config_file = root / "config" / "acme-pro.license";
        home_file = home / ".config" / "acme-pro" / "license";
        if (char const* value = std::getenv("HOME"))
            saved_home = value;
        ::setenv("HOME", home.c_str(), 1);
        ::unsetenv(env_name);
        REQUIRE(verifier.add_key(key.paserk_public().c_str()) == CHARTER_OK);
    }

    ~Fixture()
    {
        ::unsetenv(env_name);
        if (saved_home)
            ::setenv("HOME", saved_home->c_str(), 1);
        else
            ::unsetenv("HOME");
        std::error_code ignored;
        fs::permissions(root, fs::perms::owner_all, fs::perm_options::add, ignored);
        fs::remove_all(root, ignored);
    }

    keygen::LicenseClaims claims(std::string product_id = product) const
    {
        keygen::LicenseClaims claims;
        claims.issuer = "Acme Inc.";
        claims.customer = "cus_0123456789abcdefghijkl";
        claims.license_id = license_id;
        claims.product = std::move(product_id);
        claims.issued_at = t0;
        claims.name = "Jane Doe";
        claims.entitlements = { "sso" };
        return claims;
    }

    std::string token() const { return keygen::sign_license(key, claims()).token; }

    std::string expiring_token(int64_t expires_at) const
    {
        auto claims = this->claims();
        claims.expires_at = expires_at;
        return keygen::sign_license(key, claims).token;
    }

    // The configuration a vendor would ship: variable, ./config file, ~/ file.
    StartupCheck startup() const
    {
        StartupCheck check(verifier);
        check.env(env_name).file(config_file.string()).file("~/.config/acme-pro/license").renew_url(renew_url);
        return check;
    }
};

}

TEST_CASE_METHOD(Fixture, "the key is taken from the environment variable first")
{
    ::setenv(env_name, token().c_str(), 1);
    write_file(config_file, "not even a key");
    auto result = startup().run(t0);
    INFO(result.diagnostic);
    CHECK(result.status == CHARTER_OK);
    CHECK(result.valid);
    CHECK_FALSE(result.warning);
    CHECK(result.source_kind == CHARTER_SOURCE_ENV);
    CHECK(result.source == env_name);
    CHECK(result.message == "the license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro is valid");
    REQUIRE(result.license);
    CHECK(result.license->id() == license_id);
    CHECK(result.license->name() == "Jane Doe");
    CHECK(result.license->has_entitlement("sso"));
    REQUIRE(result.places.size() == 3);
    CHECK(result.places[0].state == CHARTER_PLACE_FOUND);
    CHECK(result.places[1].state == CHARTER_PLACE_NOT_CHECKED);
    CHECK(result.places[2].state == CHARTER_PLACE_NOT_CHECKED);
    CHECK(contains(result.diagnostic, std::string("1. environment variable ") + env_name + ": found"));
}

TEST_CASE_METHOD(Fixture, "without the variable, the first file that exists wins")
{
    SECTION("the first file")
    {
        write_file(config_file, token());
        write_file(home_file, "garbage that must not be read");
        auto result = startup().run(t0);
        INFO(result.diagnostic);
        CHECK(result.valid);
        CHECK(result.source_kind == CHARTER_SOURCE_FILE);
        CHECK(result.source == config_file.string());
        CHECK(result.places[0].state == CHARTER_PLACE_NOT_SET);
        CHECK(result.places[1].state == CHARTER_PLACE_FOUND);
        CHECK(result.places[2].state == CHARTER_PLACE_NOT_CHECKED);
    }
    SECTION("first file missing: the second, with ~/ expanded from HOME")
    {
        write_file(home_file, token());
        auto result = startup().run(t0);
        INFO(result.diagnostic);
        CHECK(result.valid);
        CHECK(result.source == "~/.config/acme-pro/license");
        REQUIRE(result.places.size() == 3);
        CHECK(result.places[1].state == CHARTER_PLACE_MISSING);
        CHECK(result.places[1].detail == "No such file or directory");
        CHECK(result.places[2].state == CHARTER_PLACE_FOUND);
        CHECK(result.places[2].name == "~/.config/acme-pro/license");
        CHECK(result.places[2].path == home_file.string());
        CHECK(contains(result.diagnostic, "file ~/.config/acme-pro/license (" + home_file.string() + "): found"));
    }
    SECTION("an empty variable is skipped and reported")
    {
        ::setenv(env_name, "  \n", 1);
        write_file(config_file, token());
        auto result = startup().run(t0);
        CHECK(result.valid);
        CHECK(result.places[0].state == CHARTER_PLACE_EMPTY);
        CHECK(result.source == config_file.string());
    }
}

TEST_CASE_METHOD(Fixture, "a key the application found itself (a Bundler credential) is one more place, in order")
{
    std::string const bundler = "Bundler's credential for gems.acme.example";
    auto with_value = [&](std::optional<std::string> value) {
        StartupCheck check(verifier);
        check.env(env_name).file(config_file.string()).value(bundler, value);
        return check;
    };
    SECTION("found when the variable and the file are absent")
    {
        auto result = with_value(token()).run(t0);
        INFO(result.diagnostic);
        CHECK(result.valid);
        CHECK(result.source_kind == CHARTER_SOURCE_VALUE);
        CHECK(result.source == bundler);
        REQUIRE(result.places.size() == 3);
        CHECK(result.places[2].kind == CHARTER_SOURCE_VALUE);
        CHECK(result.places[2].state == CHARTER_PLACE_FOUND);
        CHECK(contains(result.diagnostic, "3. " + bundler + ": found"));
    }
    SECTION("the file added before it wins")
    {
        write_file(config_file, token());
        auto result = with_value("garbage").run(t0);
        CHECK(result.valid);
        CHECK(result.places[2].state == CHARTER_PLACE_NOT_CHECKED);
    }
    SECTION("absent, it is listed as a way to provide the key")
    {
        auto result = with_value(std::nullopt).run(t0);
        CHECK(result.places[2].state == CHARTER_PLACE_NOT_SET);
        CHECK(result.message == "no license key found: set " + std::string(env_name) + ", put the key in "
                + config_file.string() + " or set " + bundler);
    }
    SECTION("a wrong key there is named by where it came from")
    {
        auto result = with_value(keygen::sign_license(key, claims("acme-basic")).token).run(t0);
        CHECK(result.message == "the license key in " + bundler + " is for another product (acme-basic), not acme-pro");
    }
}

TEST_CASE_METHOD(Fixture, "no key anywhere: the message lists every place to put one")
{
    charter_startup_result* raw = nullptr;
    auto check = startup();
    int status = charter_startup_check(check.get(), t0, &raw);
    CHECK(status == CHARTER_E_NO_LICENSE);
    REQUIRE(raw);
    CHECK(charter_startup_result_source(raw) == nullptr);
    CHECK(charter_startup_result_license(raw) == nullptr);
    charter_startup_result_free(raw);

    auto result = check.run(t0);
    INFO(result.diagnostic);
    CHECK(result.status == CHARTER_E_NO_LICENSE);
    CHECK_FALSE(result.valid);
    CHECK(result.source_kind == CHARTER_SOURCE_NONE);
    CHECK(result.message
        == "no license key found: set " + std::string(env_name) + " or put the key in " + config_file.string()
            + " or ~/.config/acme-pro/license");
    CHECK(contains(result.diagnostic, std::string("1. environment variable ") + env_name + ": not set"));
    CHECK(contains(result.diagnostic, "2. file " + config_file.string() + ": missing"));
    CHECK(contains(result.diagnostic, "3. file ~/.config/acme-pro/license (" + home_file.string() + "): missing"));
    CHECK(std::string(charter_status_string(CHARTER_E_NO_LICENSE)) == "no license key found");

    SECTION("nothing configured is the vendor's mistake, and says so")
    {
        auto bare = StartupCheck(verifier).run(t0);
        CHECK(bare.status == CHARTER_E_NO_LICENSE);
        CHECK(contains(bare.message, "no environment variable or key file is configured"));
    }
    SECTION("HOME unset: ~/ cannot be expanded, and the message says why")
    {
        ::unsetenv("HOME");
        auto no_home = startup().run(t0);
        CHECK(no_home.places[2].state == CHARTER_PLACE_UNREADABLE);
        CHECK(contains(no_home.message, "~/.config/acme-pro/license could not be read (HOME is not set"));
    }
}

TEST_CASE_METHOD(Fixture, "expired licenses: enforce, grace period, past grace")
{
    int64_t expires = t0 + 30 * day; // 2026-12-28
    ::setenv(env_name, expiring_token(expires).c_str(), 1);

    SECTION("enforce: refused, naming the date and where to renew")
    {
        auto check = startup();
        auto result = check.run(expires + day);
        INFO(result.diagnostic);
        CHECK(result.status == CHARTER_E_EXPIRED);
        CHECK_FALSE(result.valid);
        CHECK_FALSE(result.warning);
        CHECK(result.message == "the license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro expired on 2026-12-28; renew at " + std::string(renew_url));
        REQUIRE(result.license); // the caller can still show who it was for
        CHECK(result.license->expires_at() == expires);
        charter_startup_result* raw = nullptr;
        CHECK(charter_startup_check(check.get(), expires + day, &raw) == CHARTER_E_EXPIRED);
        charter_startup_result_free(raw);
        CHECK(startup().run(expires).valid);
    }
    SECTION("without a renewal URL the message says the renewed key comes from the vendor, and where it goes")
    {
        auto result = StartupCheck(verifier).env(env_name).run(expires + day);
        CHECK(result.message == "the license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro expired on 2026-12-28; get the renewed key from Acme Inc. and put it in " + std::string(env_name));
        auto in_grace = StartupCheck(verifier).env(env_name).grace_days(14).run(expires + day);
        CHECK(in_grace.message
            == "the license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro expired on 2026-12-28; it keeps working until 2027-01-11 "
               "(grace period of 14 days); get the renewed key from Acme Inc. and put it in " + std::string(env_name));
    }
    SECTION("within the grace period: valid, with a warning")
    {
        auto check = startup();
        check.grace_days(14);
        auto result = check.run(expires + 14 * day);
        INFO(result.diagnostic);
        CHECK(result.status == CHARTER_E_EXPIRED);
        CHECK(result.valid);
        CHECK(result.warning);
        CHECK(result.message
            == "the license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro expired on 2026-12-28; it keeps working until 2027-01-11 "
               "(grace period of 14 days); renew at " + std::string(renew_url));
        charter_startup_result* raw = nullptr;
        CHECK(charter_startup_check(check.get(), expires + 14 * day, &raw) == CHARTER_OK);
        charter_startup_result_free(raw);
        CHECK(contains(result.diagnostic, "outcome: valid with a warning (grace period)"));
    }
    SECTION("past the grace period: refused, naming both dates")
    {
        auto check = startup();
        check.grace_days(14);
        auto result = check.run(expires + 14 * day + 1);
        CHECK(result.status == CHARTER_E_EXPIRED);
        CHECK_FALSE(result.valid);
        CHECK(result.message
            == "the license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro expired on 2026-12-28 and its grace period of 14 days "
               "ended on 2027-01-11; renew at " + std::string(renew_url));
    }
}

TEST_CASE_METHOD(Fixture, "a license about to end: valid, with a warning from the configured number of days before exp")
{
    int64_t expires = t0 + 30 * day; // 2026-12-28T10:00:00Z
    ::setenv(env_name, expiring_token(expires).c_str(), 1);
    std::string const the = "the license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro";

    SECTION("the default is 14 days: exactly 14 days before exp warns, one second earlier does not")
    {
        auto quiet = startup().run(expires - 14 * day - 1);
        INFO(quiet.diagnostic);
        CHECK(quiet.status == CHARTER_OK);
        CHECK(quiet.valid);
        CHECK_FALSE(quiet.warning);
        CHECK(quiet.message == the + " is valid until 2026-12-28");

        auto check = startup();
        auto result = check.run(expires - 14 * day);
        INFO(result.diagnostic);
        CHECK(result.status == CHARTER_OK);
        CHECK(result.valid);
        CHECK(result.warning);
        CHECK(result.message == the + " ends on 2026-12-28 (in 14 days); renew at " + std::string(renew_url));
        CHECK(contains(result.diagnostic, "outcome: valid with a warning: " + result.message));
        charter_startup_result* raw = nullptr;
        CHECK(charter_startup_check(check.get(), expires - 14 * day, &raw) == CHARTER_OK);
        CHECK(charter_startup_result_warning(raw) == 1);
        charter_startup_result_free(raw);
    }
    SECTION("a configured period, counted in whole days left")
    {
        auto check = startup();
        check.renewal_warning_days(30);
        CHECK_FALSE(check.run(expires - 30 * day - 1).warning);
        CHECK(check.run(expires - 30 * day).message == the + " ends on 2026-12-28 (in 30 days); renew at " + std::string(renew_url));
        CHECK(check.run(expires - 10 * day - 1).message == the + " ends on 2026-12-28 (in 10 days); renew at " + std::string(renew_url));
        CHECK(check.run(expires - 2 * day + 1).message == the + " ends on 2026-12-28 (in 1 day); renew at " + std::string(renew_url));
        CHECK(check.run(expires - day).message == the + " ends on 2026-12-28 (in 1 day); renew at " + std::string(renew_url));
        CHECK(check.run(expires - day + 1).message == the + " ends on 2026-12-28 (in less than a day); renew at " + std::string(renew_url));
    }
    SECTION("at exp still valid with the warning, one second later expired")
    {
        auto at_end = startup().run(expires);
        CHECK(at_end.status == CHARTER_OK);
        CHECK(at_end.valid);
        CHECK(at_end.warning);
        CHECK(at_end.message == the + " ends on 2026-12-28 (in less than a day); renew at " + std::string(renew_url));
        auto after = startup().run(expires + 1);
        CHECK(after.status == CHARTER_E_EXPIRED);
        CHECK_FALSE(after.valid);
        CHECK(after.message == the + " expired on 2026-12-28; renew at " + std::string(renew_url));
    }
    SECTION("without a renewal URL the warning says the renewed key comes from the vendor, and where it goes")
    {
        auto result = StartupCheck(verifier).file(config_file.string()).env(env_name).run(expires - 10 * day);
        CHECK(result.warning);
        CHECK(result.message == the + " ends on 2026-12-28 (in 10 days); get the renewed key from Acme Inc. and put it in " + env_name);
        ::unsetenv(env_name);
        write_file(home_file, expiring_token(expires));
        auto from_file = StartupCheck(verifier).file("~/.config/acme-pro/license").run(expires - 10 * day);
        CHECK(from_file.message
            == the + " ends on 2026-12-28 (in 10 days); get the renewed key from Acme Inc. and put it in ~/.config/acme-pro/license");
    }
    SECTION("0 turns the warning off")
    {
        auto check = startup();
        check.renewal_warning_days(0);
        auto result = check.run(expires);
        CHECK(result.valid);
        CHECK_FALSE(result.warning);
        CHECK(result.message == the + " is valid until 2026-12-28");
    }
    SECTION("a perpetual license never warns")
    {
        ::setenv(env_name, token().c_str(), 1);
        auto check = startup();
        check.renewal_warning_days(3650);
        CHECK_FALSE(check.run(t0).warning);
    }
    SECTION("the warning comes before a revocation file's problem")
    {
        auto check = startup();
        check.revocation_file((root / "missing.revocations").string());
        auto result = check.run(expires - day);
        CHECK(result.warning);
        CHECK(result.message == the + " ends on 2026-12-28 (in 1 day); renew at " + std::string(renew_url) + "; the revocation list "
                + (root / "missing.revocations").string() + " was not found, so revocations were not checked");
    }
    SECTION("a period out of range is a configuration error")
    {
        auto check = startup();
        check.renewal_warning_days(-1);
        CHECK(check.error() == CHARTER_E_INVALID_ARGUMENT);
        auto result = check.run(t0);
        CHECK_FALSE(result.valid);
        CHECK(result.message == "the license check is misconfigured: invalid renewal warning period (invalid argument)");
        charter_startup* raw = charter_startup_new(verifier.get());
        REQUIRE(raw);
        CHECK(charter_startup_set_renewal_warning_days(raw, -1) == CHARTER_E_INVALID_ARGUMENT);
        CHECK(charter_startup_set_renewal_warning_days(raw, 3651) == CHARTER_E_INVALID_ARGUMENT);
        CHECK(charter_startup_set_renewal_warning_days(raw, 3650) == CHARTER_OK);
        CHECK(charter_startup_set_renewal_warning_days(nullptr, 14) == CHARTER_E_INVALID_ARGUMENT);
        charter_startup_free(raw);
    }
}

TEST_CASE_METHOD(Fixture, "warn-only mode: always valid, the message says what is wrong")
{
    auto check = startup();
    check.mode(StartupMode::Warn);
    auto missing = check.run(t0);
    CHECK(missing.status == CHARTER_E_NO_LICENSE);
    CHECK(missing.valid);
    CHECK(missing.warning);
    CHECK(contains(missing.message, "no license key found"));
    CHECK(contains(missing.diagnostic, "outcome: valid with a warning (warn-only mode)"));

    ::setenv(env_name, expiring_token(t0).c_str(), 1);
    auto expired = check.run(t0 + day);
    CHECK(expired.status == CHARTER_E_EXPIRED);
    CHECK(expired.valid);
    CHECK(expired.warning);
    CHECK(contains(expired.message, "expired on 2026-11-28"));

    ::setenv(env_name, token().c_str(), 1);
    auto ok = check.run(t0);
    CHECK(ok.valid);
    CHECK_FALSE(ok.warning);
}

TEST_CASE_METHOD(Fixture, "a key for another product says so")
{
    ::setenv(env_name, keygen::sign_license(key, claims("acme-basic")).token.c_str(), 1);
    auto result = startup().run(t0);
    INFO(result.diagnostic);
    CHECK(result.status == CHARTER_E_WRONG_PRODUCT);
    CHECK_FALSE(result.valid);
    CHECK(result.message == std::string("the license key in ") + env_name + " is for another product (acme-basic), not acme-pro");

    SECTION("also when it is in a file, named as configured")
    {
        ::unsetenv(env_name);
        write_file(home_file, keygen::sign_license(key, claims("acme-basic")).token);
        auto from_file = startup().run(t0);
        CHECK(from_file.message == "the license key in ~/.config/acme-pro/license is for another product (acme-basic), not acme-pro");
    }
}

TEST_CASE_METHOD(Fixture, "an altered key, or something that is not a key")
{
    std::string token = this->token();
    SECTION("one character of the payload changed")
    {
        token[30] = token[30] == 'A' ? 'B' : 'A';
    }
    SECTION("the product claim rewritten, signature left as is")
    {
        // It claims another product but verifies for none: altered, not "another product".
        auto dot = token.rfind('.');
        auto body = *format::base64url_decode(token.substr(10, dot - 10));
        body.replace(body.find("\"acme-pro\""), 10, "\"acme-xyz\"");
        token = "v4.public." + format::base64url_encode(body) + token.substr(dot);
    }
    SECTION("not a license key at all")
    {
        token = "hello world";
    }
    write_file(config_file, token);
    auto result = startup().run(t0);
    INFO(result.diagnostic);
    CHECK(result.status < 0);
    CHECK_FALSE(result.valid);
    CHECK(result.message == "the license key in " + config_file.string()
            + " was altered or is not a license key for acme-pro; copy the key again exactly as issued");
}

TEST_CASE_METHOD(Fixture, "a key signed by a key this release does not know (rotation)")
{
    ::setenv(env_name, keygen::sign_license(other_key, claims()).token.c_str(), 1);
    auto result = startup().run(t0);
    CHECK(result.status == CHARTER_E_UNKNOWN_KEY);
    CHECK(result.message == std::string("the license key in ") + env_name
            + " was signed by a key this release of acme-pro does not know; update acme-pro or ask the vendor for a new key");
}

TEST_CASE_METHOD(Fixture, "not yet valid and updates ended name their dates")
{
    auto claims = this->claims();
    claims.not_before = t0 + 3 * day;
    ::setenv(env_name, keygen::sign_license(key, claims).token.c_str(), 1);
    auto early = startup().run(t0);
    CHECK(early.status == CHARTER_E_NOT_YET_VALID);
    CHECK(early.message == "the license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro starts on 2026-12-01; if that date has passed, check this computer's clock");

    claims = this->claims();
    claims.updates_until = t0;
    ::setenv(env_name, keygen::sign_license(key, claims).token.c_str(), 1);
    REQUIRE(verifier.set_build_time(t0 + 40 * day) == CHARTER_OK);
    auto old_license = startup().run(t0 + 50 * day);
    CHECK(old_license.status == CHARTER_E_UPDATES_ENDED);
    CHECK(old_license.message
        == "the license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro covers releases up to 2026-11-28, and this release is from "
           "2027-01-07; use an earlier release or renew at " + std::string(renew_url));
}

TEST_CASE_METHOD(Fixture, "revocation list files")
{
    std::string token = this->token();
    ::setenv(env_name, token.c_str(), 1);
    fs::path list_file = root / "config" / "acme-pro.revocations";

    SECTION("a listed license is revoked, and the shared verifier is left untouched")
    {
        write_file(list_file, keygen::sign_revocation_list(key, "Acme Inc.", product, t0, { "lic_other", license_id }) + "\n");
        auto check = startup();
        check.revocation_file(list_file.string());
        auto result = check.run(t0);
        INFO(result.diagnostic);
        CHECK(result.status == CHARTER_E_REVOKED);
        CHECK_FALSE(result.valid);
        CHECK(result.message == "the license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro has been revoked; contact Acme Inc. for a new key");
        CHECK(contains(result.diagnostic, "revocation list " + list_file.string() + ": loaded (2 revoked"));
        CHECK(verifier.verify(token, t0).valid());
    }
    SECTION("a list that does not name the license leaves it valid")
    {
        write_file(list_file, keygen::sign_revocation_list(key, "Acme Inc.", product, t0, { "lic_other" }));
        auto check = startup();
        check.revocation_file(list_file.string());
        auto result = check.run(t0);
        CHECK(result.valid);
        CHECK_FALSE(result.warning);
    }
    SECTION("a list on the verifier still applies next to the file")
    {
        REQUIRE(verifier.set_revocation_list(keygen::sign_revocation_list(key, "Acme Inc.", product, t0, { license_id })) == CHARTER_OK);
        write_file(list_file, keygen::sign_revocation_list(key, "Acme Inc.", product, t0, { "lic_other" }));
        auto check = startup();
        check.revocation_file(list_file.string());
        CHECK(check.run(t0).status == CHARTER_E_REVOKED);
    }
    SECTION("a missing file is a warning, not a refusal")
    {
        auto check = startup();
        check.revocation_file(list_file.string());
        auto result = check.run(t0);
        INFO(result.diagnostic);
        CHECK(result.status == CHARTER_OK);
        CHECK(result.valid);
        CHECK(result.warning);
        CHECK(result.message == "the license lic_ABCDEFGHIJKLMNOPQRSTUV for acme-pro is valid; the revocation list "
                + list_file.string() + " was not found, so revocations were not checked");
        CHECK(contains(result.diagnostic, "revocation list " + list_file.string() + ": not used, it was not found"));
    }
    SECTION("a list signed by an untrusted key is not used, and says so")
    {
        write_file(list_file, keygen::sign_revocation_list(other_key, "Acme Inc.", product, t0, { license_id }));
        auto check = startup();
        check.revocation_file(list_file.string());
        auto result = check.run(t0);
        CHECK(result.valid);
        CHECK(result.warning);
        CHECK(contains(result.message, "is not a valid revocation list for acme-pro, so revocations were not checked"));
        CHECK(contains(result.diagnostic, "not a trusted key"));
    }
}

TEST_CASE_METHOD(Fixture, "key files: whitespace, byte-order mark, size limit, unreadable")
{
    SECTION("surrounding whitespace, CRLF and a UTF-8 BOM are not part of the key")
    {
        write_file(config_file, "\xEF\xBB\xBF  \n\t" + token() + " \r\n\r\n");
        auto result = startup().run(t0);
        INFO(result.diagnostic);
        CHECK(result.status == CHARTER_OK);
    }
    SECTION("whitespace only counts as empty")
    {
        write_file(config_file, "\n\n  \n");
        auto result = startup().run(t0);
        CHECK(result.places[1].state == CHARTER_PLACE_EMPTY);
        CHECK(result.message == "no license key found: " + config_file.string() + " is empty; set " + env_name
                + " or put the key in " + config_file.string() + " or ~/.config/acme-pro/license");
    }
    SECTION("a file larger than 16 KiB is refused without being read as a key")
    {
        write_file(config_file, token() + std::string(CHARTER_MAX_KEY_FILE_SIZE, '\n'));
        auto result = startup().run(t0);
        INFO(result.diagnostic);
        CHECK(result.status == CHARTER_E_NO_LICENSE);
        CHECK(result.places[1].state == CHARTER_PLACE_TOO_LARGE);
        CHECK(contains(result.message, config_file.string() + " is larger than 16 KiB, so it is not a license key"));

        write_file(home_file, token()); // a later place still wins
        auto later = startup().run(t0);
        CHECK(later.valid);
        CHECK(later.source == "~/.config/acme-pro/license");
    }
    SECTION("exactly 16 KiB is still read")
    {
        std::string key = token();
        write_file(config_file, key + std::string(CHARTER_MAX_KEY_FILE_SIZE - key.size(), ' '));
        CHECK(startup().run(t0).valid);
    }
    SECTION("a directory where the file should be is unreadable, with the reason")
    {
        fs::create_directories(config_file);
        auto result = startup().run(t0);
        CHECK(result.places[1].state == CHARTER_PLACE_UNREADABLE);
        CHECK(contains(result.message, config_file.string() + " could not be read (it is a directory)"));
    }
    SECTION("a file without read permission is unreadable, with errno's text")
    {
        write_file(config_file, token());
        fs::permissions(config_file, fs::perms::none);
        // root reads a mode-000 file anyway: as root, the check runs as the user nobody
        // (effective id only, restored at the end of the section), who may search the folders
        // on the way, so that the file's own mode is what refuses.
        fs::permissions(root, fs::perms::others_exec, fs::perm_options::add);
        fs::permissions(config_file.parent_path(), fs::perms::others_exec, fs::perm_options::add);
        struct AsNobody {
            bool switched = ::geteuid() == 0;
            AsNobody() { REQUIRE((!switched || ::seteuid(65534) == 0)); }
            ~AsNobody()
            {
                if (switched && ::seteuid(0) != 0)
                    std::abort();
            }
        } as_nobody;
        auto result = startup().run(t0);
        CHECK(result.places[1].state == CHARTER_PLACE_UNREADABLE);
        CHECK(result.places[1].detail == "Permission denied");
        CHECK(contains(result.message, config_file.string() + " could not be read (Permission denied)"));
    }
}

TEST_CASE_METHOD(Fixture, "one configured check runs on many threads at once")
{
    write_file(config_file, token());
    auto check = startup();
    check.grace_days(14);
    std::vector<int> valid_counts(4, 0);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < valid_counts.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                charter_startup_result* result = nullptr;
                if (charter_startup_check(check.get(), t0, &result) == CHARTER_OK
                    && std::string(charter_startup_result_source(result)) == config_file.string())
                    ++valid_counts[t];
                charter_startup_result_free(result);
            }
        });
    }
    for (auto& thread : threads)
        thread.join();
    for (int count : valid_counts)
        CHECK(count == 50);
}

TEST_CASE_METHOD(Fixture, "configuration errors and the C ABI's edges")
{
    auto check = StartupCheck(verifier);
    check.env("").file("~/x");
    CHECK(check.error() == CHARTER_E_INVALID_ARGUMENT);
    auto result = check.run(t0);
    CHECK_FALSE(result.valid);
    CHECK(result.message == "the license check is misconfigured: invalid environment variable name (invalid argument)");

    CHECK(charter_startup_new(nullptr) == nullptr);
    charter_startup_free(nullptr);
    charter_startup_result_free(nullptr);
    charter_startup* raw = charter_startup_new(verifier.get());
    REQUIRE(raw);
    CHECK(charter_startup_set_env(raw, "A=B") == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_startup_set_env(raw, nullptr) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_startup_add_file(raw, "") == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_startup_add_value(raw, "", "x") == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_startup_add_value(raw, nullptr, "x") == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_startup_set_grace_days(raw, -1) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_startup_set_grace_days(raw, 3651) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_startup_set_mode(raw, static_cast<charter_startup_mode>(7)) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_startup_set_renew_url(nullptr, "x") == CHARTER_E_INVALID_ARGUMENT);
    charter_startup_result* out = reinterpret_cast<charter_startup_result*>(0x1);
    CHECK(charter_startup_check(nullptr, t0, &out) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(out == nullptr);
    CHECK(charter_startup_check(raw, t0, nullptr) == CHARTER_E_INVALID_ARGUMENT);
    REQUIRE(charter_startup_set_env(raw, env_name) == CHARTER_OK);
    REQUIRE(charter_startup_check(raw, t0, &out) == CHARTER_E_NO_LICENSE);
    CHECK(charter_startup_result_place_count(out) == 1);
    CHECK(charter_startup_result_place_name(out, 1) == nullptr);
    CHECK(charter_startup_result_place_state(out, 1) == -1);
    CHECK(charter_startup_result_place_kind(out, 0) == CHARTER_SOURCE_ENV);
    charter_startup_result_free(out);
    charter_startup_free(raw);
    CHECK(charter_startup_result_message(nullptr) == nullptr);
    CHECK(charter_startup_result_valid(nullptr) == 0);
}
