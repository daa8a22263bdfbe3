// Changing a license after the sale (keygen/ops/license_changes.cpp, ops/plans.cpp): renewals
// with each basis on a pinned clock, updates, suspension, plans, through the real `charter`
// binary and through charter-server's admin API, on real SQLite files. Every refusal leaves the
// database as it was.

#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <latch>
#include <mutex>
#include <set>
#include <thread>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

constexpr char const* now_variable = "CHARTER_NOW";

// What a refusal must leave as it was: the audit log, the kept versions, every license's row.
std::string snapshot(Vendor const& vendor)
{
    return vendor.sql("SELECT count(*) FROM audit; SELECT count(*) FROM license_versions;"
                      " SELECT id, version, token, expires_at, updates_until, status, suspended_at, plan_id FROM licenses ORDER BY id;");
}

// `charter ARGS --json` at `now`, which must succeed: the JSON it prints.
Json json_at(Vendor& vendor, std::string const& now, std::vector<std::string> args)
{
    vendor.env[now_variable] = now;
    args.push_back("--json");
    return Json::parse(vendor.cli(args).out);
}

// `charter ARGS` at `now`, which must fail with `exit_code` saying `mention`, changing nothing.
void refused_at(Vendor& vendor, std::string const& now, std::vector<std::string> const& args, int exit_code,
    std::string const& mention)
{
    vendor.env[now_variable] = now;
    auto before = snapshot(vendor);
    auto result = vendor.run(args);
    INFO("charter " << args[0] << ": " << result.err);
    CHECK(result.exit_code == exit_code);
    CHECK(contains(result.err, mention));
    CHECK(result.out.empty());
    CHECK(snapshot(vendor) == before);
}

Issued issue_at(Vendor& vendor, std::string const& now, std::vector<std::string> extra)
{
    vendor.env[now_variable] = now;
    return vendor.issue("acme-pro", std::move(extra));
}

Json last_audit(Vendor const& vendor)
{
    auto entries = Json::parse(vendor.cli({ "audit", "--limit", "1", "--json" }).out);
    REQUIRE(entries.size() == 1);
    return entries[0];
}

}

TEST_CASE("renew early from the expiry: Jan 31 + 1mo is Feb 28, updates_until keeps its distance, the old key verifies until its own end")
{
    Vendor vendor;
    auto issued = issue_at(vendor, "2026-02-01T00:00:00Z",
        { "--expires", "2027-01-31T00:00:00Z", "--updates-until", "2027-01-01T00:00:00Z", "--entitlement", "sso", "--meta",
            "order=A-1" });

    auto renewed = json_at(vendor, "2026-12-01T00:00:00Z", { "renew", issued.id, "--by", "1mo" });
    CHECK(renewed["expires_at"] == "2027-02-28T00:00:00Z");
    CHECK(renewed["updates_until"] == "2027-01-29T00:00:00Z"); // 31 days before the end, as before
    CHECK(renewed["version"] == 2);
    CHECK(renewed["id"] == issued.id);
    CHECK(renewed["key"] != issued.key);
    auto const& claims = renewed["claims"];
    CHECK(claims["jti"] == issued.id);
    CHECK(claims["iat"] == "2026-12-01T00:00:00Z");
    CHECK(claims["exp"] == "2027-02-28T00:00:00Z");
    CHECK(claims["entitlements"] == Json::array({ "sso" }));
    CHECK(claims["meta"]["order"] == "A-1");

    auto audit = last_audit(vendor);
    CHECK(audit["action"] == "license.renew");
    CHECK(audit["subject"] == issued.id);
    CHECK(audit["details"]["basis"] == "from-expiry");
    CHECK(audit["details"]["previous_expires_at"] == "2027-01-31T00:00:00Z");
    CHECK(audit["details"]["expires_at"] == "2027-02-28T00:00:00Z");

    // `charter show` lists every version, the current one last.
    auto shown = json_at(vendor, "2026-12-01T00:00:00Z", { "show", issued.id });
    REQUIRE(shown["versions"].size() == 2);
    CHECK(shown["versions"][0]["version"] == 1);
    CHECK(shown["versions"][0]["reason"] == "issue");
    CHECK(shown["versions"][0]["key"] == issued.key);
    CHECK(shown["versions"][0]["expires_at"] == "2027-01-31T00:00:00Z");
    CHECK(shown["versions"][1]["reason"] == "renew");
    CHECK(shown["versions"][1]["actor"] == "cli");
    CHECK(shown["versions"][1]["key"] == renewed["key"]);
    auto text = vendor.cli({ "show", issued.id }).out;
    CHECK(contains(text, "versions:"));
    CHECK(contains(text, "2  renew  2026-12-01T00:00:00Z  expires 2027-02-28T00:00:00Z"));

    // Offline, each version is a genuine key until its own end.
    CHECK(vendor.run({ "verify", issued.key, "--at", "2027-01-30T00:00:00Z" }).exit_code == 0);
    auto old_expired = vendor.run({ "verify", issued.key, "--at", "2027-02-01T00:00:00Z" });
    CHECK(old_expired.exit_code == 1);
    CHECK(contains(old_expired.out + old_expired.err, "expired"));
    CHECK(vendor.run({ "verify", renewed["key"], "--at", "2027-02-01T00:00:00Z" }).exit_code == 0);

    // Without --json: the new key alone on stdout, what happened on stderr.
    vendor.env[now_variable] = "2026-12-02T00:00:00Z";
    auto plain = vendor.cli({ "renew", issued.id, "--by", "1mo" });
    CHECK(plain.out.starts_with("v4.public."));
    CHECK(plain.out.find('\n') == plain.out.size() - 1);
    CHECK(contains(plain.err, "renewed " + issued.id + ": version 3, expires 2027-03-28T00:00:00Z"));
}

TEST_CASE("renewal bases: from-now, from-now-if-expired before and after a lapse, a leap day, a perpetual license")
{
    Vendor vendor;
    auto a = issue_at(vendor, "2026-06-01T00:00:00Z", { "--expires", "2027-06-30T00:00:00Z" });
    // from-now: the period runs from the renewal, whatever is left.
    CHECK(json_at(vendor, "2027-06-01T00:00:00Z", { "renew", a.id, "--by", "1y", "--basis", "from-now" })["expires_at"]
        == "2028-06-01T00:00:00Z");
    // from-now-if-expired on a running license: from its expiry.
    CHECK(json_at(vendor, "2027-06-01T00:00:00Z", { "renew", a.id, "--by", "1y", "--basis", "from-now-if-expired" })["expires_at"]
        == "2029-06-01T00:00:00Z");
    // from-now that would end before the current end: a renewal never shortens.
    refused_at(vendor, "2027-06-01T00:00:00Z", { "renew", a.id, "--by", "1mo", "--basis", "from-now" }, 3,
        "is not after the license's current end 2029-06-01T00:00:00Z");

    // After a lapse: from the expiry stays in the past; from now if expired starts today.
    auto b = issue_at(vendor, "2026-06-01T00:00:00Z", { "--expires", "2026-07-01T00:00:00Z", "--updates-until", "2026-07-01T00:00:00Z" });
    refused_at(vendor, "2026-09-15T00:00:00Z", { "renew", b.id, "--by", "1mo" }, 3,
        "would end on 2026-08-01T00:00:00Z, which is not after now (2026-09-15T00:00:00Z)");
    auto lapsed = json_at(vendor, "2026-09-15T00:00:00Z", { "renew", b.id, "--by", "1y", "--basis", "from-now-if-expired" });
    CHECK(lapsed["expires_at"] == "2027-09-15T00:00:00Z");
    CHECK(lapsed["updates_until"] == "2027-09-15T00:00:00Z");
    CHECK(lapsed["status"] == "active");

    // Feb 29 + 1y is Feb 28.
    auto c = issue_at(vendor, "2027-06-01T00:00:00Z", { "--expires", "2028-02-29T00:00:00Z" });
    CHECK(json_at(vendor, "2027-06-01T00:00:00Z", { "renew", c.id, "--by", "1y" })["expires_at"] == "2029-02-28T00:00:00Z");
    // --until sets the end; --keep-updates leaves updates_until.
    auto d = issue_at(vendor, "2027-06-01T00:00:00Z", { "--expires", "2027-12-31T00:00:00Z", "--updates-until", "2027-12-01T00:00:00Z" });
    auto until = json_at(vendor, "2027-06-01T00:00:00Z", { "renew", d.id, "--until", "2028-12-31", "--keep-updates" });
    CHECK(until["expires_at"] == "2028-12-31T00:00:00Z");
    CHECK(until["updates_until"] == "2027-12-01T00:00:00Z");

    // A perpetual license has no expiry to renew from.
    auto perpetual = issue_at(vendor, "2027-06-01T00:00:00Z", {});
    refused_at(vendor, "2027-06-01T00:00:00Z", { "renew", perpetual.id, "--by", "1y" }, 3,
        "is perpetual (it has no end), so there is no expiry to renew from; give --basis from-now");
    CHECK(json_at(vendor, "2027-06-01T00:00:00Z", { "renew", perpetual.id, "--by", "1y", "--basis", "from-now" })["expires_at"]
        == "2028-06-01T00:00:00Z");

    // Bad input, each with its reason.
    refused_at(vendor, "2027-06-01T00:00:00Z", { "renew", a.id, "--by", "1.5y" }, 3, "by \"1.5y\" is not a whole number of units");
    refused_at(vendor, "2027-06-01T00:00:00Z", { "renew", a.id, "--by", "2028-01-01" }, 3, "by \"2028-01-01\"");
    refused_at(vendor, "2027-06-01T00:00:00Z", { "renew", a.id, "--by", "1fortnight" }, 3, "has an unknown unit");
    refused_at(vendor, "2027-06-01T00:00:00Z", { "renew", a.id, "--until", "2030-01-01", "--basis", "from-now" }, 3,
        "--basis applies to --by and --plan");
    refused_at(vendor, "2027-06-01T00:00:00Z", { "renew", a.id, "--until", "2028-01-01" }, 3,
        "is not after the license's current end");
    refused_at(vendor, "2027-06-01T00:00:00Z", { "renew", a.id }, 3, "has no plan to renew by; give --by PERIOD");
    refused_at(vendor, "2027-06-01T00:00:00Z", { "renew", "lic_nope", "--by", "1y" }, 4, "no license lic_nope");
    refused_at(vendor, "2027-06-01T00:00:00Z", { "renew", a.id, "--by", "1y", "--until", "2030-01-01" }, 2, "excludes");
}

TEST_CASE("suspend and reinstate; refusals for revoked, suspended and not suspended licenses change nothing")
{
    Vendor vendor;
    auto issued = issue_at(vendor, "2026-06-01T00:00:00Z", { "--expires", "1y" });
    auto other = issue_at(vendor, "2026-06-01T00:00:00Z", { "--expires", "1y" });
    refused_at(vendor, "2026-06-02T00:00:00Z", { "suspend", issued.id }, 2, "--reason is required");
    refused_at(vendor, "2026-06-02T00:00:00Z", { "suspend", issued.id, "--reason", "" }, 3, "the reason");
    auto suspended = json_at(vendor, "2026-06-02T00:00:00Z", { "suspend", issued.id, "--reason", "payment failed" });
    CHECK(suspended["status"] == "suspended");
    CHECK(suspended["suspend_reason"] == "payment failed");
    CHECK(suspended["suspended_at"] == "2026-06-02T00:00:00Z");
    CHECK(last_audit(vendor)["action"] == "license.suspend");
    refused_at(vendor, "2026-06-03T00:00:00Z", { "suspend", issued.id, "--reason", "again" }, 5,
        "is already suspended (since 2026-06-02: payment failed)");
    auto listed = json_at(vendor, "2026-06-03T00:00:00Z", { "list", "--state", "suspended" });
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["id"] == issued.id);

    // A suspended license can be renewed (the payment came): it stays suspended until reinstated.
    auto renewed = json_at(vendor, "2026-06-03T00:00:00Z", { "renew", issued.id, "--by", "1y" });
    CHECK(renewed["status"] == "suspended");
    CHECK(renewed["version"] == 2);
    auto reinstated = json_at(vendor, "2026-06-04T00:00:00Z", { "reinstate", issued.id });
    CHECK(reinstated["status"] == "active");
    CHECK(reinstated["suspended_at"] == nullptr);
    refused_at(vendor, "2026-06-05T00:00:00Z", { "reinstate", issued.id }, 5, "is not suspended; there is nothing to reinstate");

    // Revoked is permanent: no renewal, update, suspension or reinstatement.
    vendor.env[now_variable] = "2026-07-01T00:00:00Z";
    vendor.cli({ "revoke", other.id, "--reason", "chargeback" });
    refused_at(vendor, "2026-07-02T00:00:00Z", { "renew", other.id, "--by", "1y" }, 5,
        "license " + other.id + " is revoked (since 2026-07-01); a revoked license cannot be renewed, issue a new one");
    refused_at(vendor, "2026-07-02T00:00:00Z", { "license", "update", other.id, "--seats", "3" }, 5,
        "is revoked (since 2026-07-01)");
    refused_at(vendor, "2026-07-02T00:00:00Z", { "suspend", other.id, "--reason", "x" }, 5, "is revoked");
    refused_at(vendor, "2026-07-02T00:00:00Z", { "reinstate", other.id }, 5, "is revoked");
    refused_at(vendor, "2026-07-02T00:00:00Z", { "suspend", "lic_nope", "--reason", "x" }, 4, "no license lic_nope");
}

TEST_CASE("license update: entitlements added and removed, seats, name, ends; the same terms sign nothing")
{
    Vendor vendor;
    auto issued = issue_at(vendor, "2026-06-01T00:00:00Z",
        { "--expires", "1y", "--entitlement", "sso", "--entitlement", "audit-log", "--seats", "5", "--meta", "order=A-1" });
    auto updated = json_at(vendor, "2026-06-02T00:00:00Z",
        { "license", "update", issued.id, "--entitlement", "+priority", "--entitlement", "-sso", "--seats", "10", "--name",
            "Globex", "--updates-until", "2027-01-01" });
    CHECK(updated["version"] == 2);
    CHECK(updated["claims"]["entitlements"] == Json::array({ "audit-log", "priority" }));
    CHECK(updated["claims"]["seats"] == 10);
    CHECK(updated["claims"]["name"] == "Globex");
    CHECK(updated["claims"]["meta"]["order"] == "A-1");
    CHECK(updated["updates_until"] == "2027-01-01T00:00:00Z");
    CHECK(updated["expires_at"] == "2027-06-01T00:00:00Z");
    auto audit = last_audit(vendor);
    CHECK(audit["action"] == "license.update");
    CHECK(audit["details"]["changed"]["seats"] == 10);
    CHECK(vendor.run({ "verify", updated["key"] }).exit_code == 0);

    // The terms it already has: no new version.
    vendor.env[now_variable] = "2026-06-03T00:00:00Z";
    auto before = snapshot(vendor);
    auto same = vendor.cli({ "license", "update", issued.id, "--seats", "10", "--entitlement", "+priority" });
    CHECK(contains(same.err, "already has these terms; no new version (version 2)"));
    CHECK(snapshot(vendor) == before);

    auto shortened = json_at(vendor, "2026-06-03T00:00:00Z", { "license", "update", issued.id, "--expires", "2026-12-31" });
    CHECK(shortened["expires_at"] == "2026-12-31T00:00:00Z");
    CHECK(shortened["version"] == 3);

    refused_at(vendor, "2026-06-03T00:00:00Z", { "license", "update", issued.id, "--entitlement", "-nope" }, 3,
        "has no entitlement \"nope\" to remove (it has audit-log, priority)");
    refused_at(vendor, "2026-06-03T00:00:00Z", { "license", "update", issued.id, "--entitlement", "sso" }, 3,
        "must be +NAME (add it) or -NAME (remove it)");
    refused_at(vendor, "2026-06-03T00:00:00Z", { "license", "update", issued.id, "--entitlement", "+x", "--entitlement", "-x" }, 3,
        "is both added and removed");
    refused_at(vendor, "2026-06-03T00:00:00Z", { "license", "update", issued.id }, 3, "nothing to update");
    refused_at(vendor, "2026-06-03T00:00:00Z", { "license", "update", issued.id, "--expires", "2026-01-01" }, 3,
        "expires 2026-01-01T00:00:00Z is not after now (2026-06-03T00:00:00Z); to stop a license at once, suspend or revoke it");
    refused_at(vendor, "2026-06-03T00:00:00Z", { "license", "update", issued.id, "--seats", "0" }, 3, "seats must be between 1");
    refused_at(vendor, "2026-06-03T00:00:00Z", { "license", "update", issued.id, "--name", "a\tb" }, 3, "control character");
}

TEST_CASE("plans: add, list, show, update; issue and renew by a plan, which the license remembers")
{
    Vendor vendor;
    vendor.cli({ "product", "add", "acme-lite" });
    auto plan = json_at(vendor, "2027-01-01T00:00:00Z",
        { "plan", "add", "pro-yearly", "--product", "acme-pro", "--duration", "1y", "--updates-for", "6mo", "--entitlement", "sso",
            "--seats", "5", "--grace", "7d" });
    CHECK(plan == Json::parse(R"({"id":"pro-yearly","product":"acme-pro","duration":"1y","updates_for":"6mo",
        "entitlements":["sso"],"seats":5,"grace_seconds":604800,"seat_counting":"machines","lease_seconds":900,"reminders":[],
        "stripe_prices":[],"on_payment_failed":"warn","on_cancel":"end","on_refund":"keep",
        "created_at":"2027-01-01T00:00:00Z",
        "updated_at":"2027-01-01T00:00:00Z"})"));
    json_at(vendor, "2027-01-01T00:00:00Z", { "plan", "add", "lite-monthly", "--product", "acme-lite", "--duration", "1mo" });
    refused_at(vendor, "2027-01-01T00:00:00Z", { "plan", "add", "pro-yearly", "--product", "acme-pro", "--duration", "1y" }, 5,
        "plan pro-yearly already exists");
    refused_at(vendor, "2027-01-01T00:00:00Z", { "plan", "add", "x", "--product", "nope", "--duration", "1y" }, 4, "nope");
    refused_at(vendor, "2027-01-01T00:00:00Z", { "plan", "add", "x", "--product", "acme-pro", "--duration", "1.5y" }, 3,
        "--duration \"1.5y\"");
    refused_at(vendor, "2027-01-01T00:00:00Z", { "plan", "add", "x", "--product", "acme-pro", "--duration", "1y", "--grace", "1mo" },
        3, "--grace must be in hours, days or weeks");
    refused_at(vendor, "2027-01-01T00:00:00Z", { "plan", "add", "x", "--product", "acme-pro", "--duration", "1y", "--count-seats", "users" },
        3, "--count-seats \"users\" is not a way to count seats; give machines, processes or cores");
    refused_at(vendor, "2027-01-01T00:00:00Z", { "plan", "add", "x", "--product", "acme-pro", "--duration", "1y", "--lease", "15" }, 3,
        "--lease \"15\" is not a lease");
    refused_at(vendor, "2027-01-01T00:00:00Z", { "plan", "add", "x", "--product", "acme-pro", "--duration", "1y", "--lease", "367d" }, 3,
        "up to 366d");
    refused_at(vendor, "2027-01-01T00:00:00Z", { "plan", "add", "Pro Yearly", "--product", "acme-pro", "--duration", "1y" }, 3,
        "plan name \"Pro Yearly\" must be");
    refused_at(vendor, "2027-01-01T00:00:00Z", { "plan", "add", "x", "--product", "acme-pro" }, 3, "a plan needs a duration");
    CHECK(json_at(vendor, "2027-01-01T00:00:00Z", { "plan", "list" }).size() == 2);
    CHECK(json_at(vendor, "2027-01-01T00:00:00Z", { "plan", "show", "pro-yearly" })["seats"] == 5);
    refused_at(vendor, "2027-01-01T00:00:00Z", { "plan", "show", "nope" }, 4, "no plan nope; `charter plan list` shows the plans");

    // Issued by the plan: its product, one period from now, its updates, entitlements and seats.
    vendor.env[now_variable] = "2027-01-31T00:00:00Z";
    auto issued = Json::parse(vendor.cli({ "issue", "--plan", "pro-yearly", "--customer", "jane@example.com", "--json" }).out);
    CHECK(issued["product"] == "acme-pro");
    CHECK(issued["plan"] == "pro-yearly");
    CHECK(issued["expires_at"] == "2028-01-31T00:00:00Z");
    CHECK(issued["updates_until"] == "2027-07-31T00:00:00Z");
    CHECK(issued["claims"]["entitlements"] == Json::array({ "sso" }));
    CHECK(issued["claims"]["seats"] == 5);
    std::string id = issued["id"];
    refused_at(vendor, "2027-01-31T00:00:00Z", { "issue", "--plan", "pro-yearly", "--customer", "jane@example.com", "--expires", "1y" },
        3, "plan pro-yearly sets the end, updates_until, entitlements and seats");
    refused_at(vendor, "2027-01-31T00:00:00Z", { "issue", "--plan", "pro-yearly", "--product", "acme-lite", "--customer", "jane@example.com" },
        3, "plan pro-yearly is for product acme-pro, not acme-lite");
    refused_at(vendor, "2027-01-31T00:00:00Z", { "issue", "--plan", "nope", "--customer", "jane@example.com" }, 4, "no plan nope");

    // The plan changes; the license takes its terms when renewed by it (no option: its own plan).
    auto changed = json_at(vendor, "2027-02-01T00:00:00Z",
        { "plan", "update", "pro-yearly", "--seats", "10", "--entitlement", "sso", "--entitlement", "audit-log" });
    CHECK(changed["seats"] == 10);
    CHECK(changed["duration"] == "1y");
    CHECK(changed["created_at"] == "2027-01-01T00:00:00Z");
    CHECK(json_at(vendor, "2027-02-01T00:00:00Z", { "show", id })["claims"]["seats"] == 5);
    refused_at(vendor, "2027-02-01T00:00:00Z", { "plan", "update", "pro-yearly" }, 3, "nothing to update");
    refused_at(vendor, "2027-02-01T00:00:00Z", { "plan", "update", "nope", "--seats", "1" }, 4, "no plan nope");

    auto renewed = json_at(vendor, "2027-12-01T00:00:00Z", { "renew", id });
    CHECK(renewed["expires_at"] == "2029-01-31T00:00:00Z");
    CHECK(renewed["updates_until"] == "2028-07-31T00:00:00Z"); // the period's start + 6mo
    CHECK(renewed["claims"]["entitlements"] == Json::array({ "sso", "audit-log" }));
    CHECK(renewed["claims"]["seats"] == 10);
    CHECK(renewed["plan"] == "pro-yearly");
    CHECK(last_audit(vendor)["details"]["plan"] == "pro-yearly");

    refused_at(vendor, "2027-12-01T00:00:00Z", { "renew", id, "--plan", "lite-monthly" }, 3,
        "plan lite-monthly is for product acme-lite, and license " + id + " is for acme-pro");
    refused_at(vendor, "2027-12-01T00:00:00Z", { "renew", id, "--plan", "nope" }, 4, "no plan nope");
    // A license without a plan joins one when renewed by it.
    auto plain = issue_at(vendor, "2027-12-01T00:00:00Z", { "--expires", "2028-01-31T00:00:00Z" });
    auto joined = json_at(vendor, "2027-12-01T00:00:00Z", { "renew", plain.id, "--plan", "pro-yearly" });
    CHECK(joined["plan"] == "pro-yearly");
    CHECK(joined["expires_at"] == "2029-01-31T00:00:00Z");
}

TEST_CASE("list --expiring-within: neither revoked nor suspended, ending within the period")
{
    Vendor vendor;
    auto soon = issue_at(vendor, "2027-01-01T00:00:00Z", { "--expires", "10d" });
    issue_at(vendor, "2027-01-01T00:00:00Z", { "--expires", "40d" });
    auto suspended = issue_at(vendor, "2027-01-01T00:00:00Z", { "--expires", "20d" });
    auto revoked = issue_at(vendor, "2027-01-01T00:00:00Z", { "--expires", "5d" });
    issue_at(vendor, "2027-01-01T00:00:00Z", {});
    vendor.cli({ "suspend", suspended.id, "--reason", "payment failed" });
    vendor.cli({ "revoke", revoked.id });
    auto listed = json_at(vendor, "2027-01-01T00:00:00Z", { "list", "--expiring-within", "30d" });
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["id"] == soon.id);
    CHECK(json_at(vendor, "2027-01-01T00:00:00Z", { "list", "--expiring-within", "1y" }).size() == 2);
    CHECK(json_at(vendor, "2027-01-01T00:00:00Z", { "list", "--expiring-within", "1w" }).empty());
    refused_at(vendor, "2027-01-01T00:00:00Z", { "list", "--expiring-within", "1.5d" }, 3, "--expiring-within \"1.5d\"");
}

// --- The admin API ----------------------------------------------------------------------------

namespace {

httplib::Result post(httplib::Client& client, std::string const& token, std::string const& path, Json const& body,
    httplib::Headers extra = {})
{
    return client.Post(path, bearer(token, std::move(extra)), body.dump(), "application/json");
}

Json body_of(httplib::Result const& result, int status)
{
    REQUIRE(result);
    INFO(result->body);
    REQUIRE(result->status == status);
    return Json::parse(result->body);
}

}

TEST_CASE("admin API: renew, update, suspend, reinstate and plans, with Idempotency-Key; refusals change nothing")
{
    Vendor vendor;
    vendor.cli({ "plan", "add", "pro-yearly", "--product", "acme-pro", "--duration", "1y", "--entitlement", "sso" });
    auto issued = vendor.issue("acme-pro", { "--expires", "1y" });
    auto revoked = vendor.issue("acme-pro", { "--expires", "1y" });
    vendor.cli({ "revoke", revoked.id });
    ServerChild server(vendor);
    auto client = server.client();
    std::string const path = "/v1/licenses/" + issued.id;
    auto const& token = vendor.admin_token;
    auto refused = [&](httplib::Result const& result, int status, std::string const& code, std::string const& mention) {
        check_error(result, status, code, mention);
    };

    auto renewed = body_of(post(client, token, path + "/renew", { { "by", "1y" } }, { { "Idempotency-Key", "renew-1" } }), 200);
    CHECK(renewed["version"] == 2);
    CHECK(renewed["key"] != issued.key);
    // A retry gets the same answer; nothing is renewed twice.
    auto retry = post(client, token, path + "/renew", { { "by", "1y" } }, { { "Idempotency-Key", "renew-1" } });
    CHECK(body_of(retry, 200)["version"] == 2);
    CHECK(retry->get_header_value("Idempotent-Replayed") == "true");
    auto before = snapshot(vendor);
    refused(post(client, token, path + "/renew", { { "by", "2y" } }, { { "Idempotency-Key", "renew-1" } }), 409,
        "idempotency_conflict", "different request");
    refused(post(client, token, "/v1/licenses/" + revoked.id + "/renew", { { "by", "1y" } }), 409, "conflict",
        "is revoked (since ");
    refused(post(client, token, "/v1/licenses/lic_nope/renew", { { "by", "1y" } }), 404, "not_found", "no license lic_nope");
    refused(post(client, token, path + "/renew", { { "plan", "nope" } }), 422, "invalid", "no plan nope");
    refused(post(client, token, path + "/renew", { { "by", "1.5y" } }), 422, "invalid", "not a whole number");
    refused(post(client, token, path + "/renew", { { "by", "1y" }, { "until", "2040-01-01" } }), 422, "invalid", "not several");
    refused(post(client, token, path + "/renew", { { "by", "1y" }, { "basis", "whenever" } }), 422, "invalid",
        "not one of from-expiry, from-now, from-now-if-expired");
    refused(post(client, token, path + "/renew", { { "by", 1 } }), 400, "invalid_field", "by");
    refused(post(client, token, path + "/renew", { { "period", "1y" } }), 400, "unknown_field", "period");
    refused(post(client, token, path + "/renew", Json::object()), 422, "invalid", "has no plan to renew by");
    CHECK(snapshot(vendor) == before);

    auto by_plan = body_of(post(client, token, path + "/renew", { { "plan", "pro-yearly" } }), 200);
    CHECK(by_plan["plan"] == "pro-yearly");
    CHECK(by_plan["claims"]["entitlements"] == Json::array({ "sso" }));

    // PATCH: a new version with the changed terms.
    auto patched = client.Patch(path, bearer(token), Json { { "add_entitlements", { "audit-log" } }, { "seats", 3 } }.dump(),
        "application/json");
    auto updated = body_of(patched, 200);
    CHECK(updated["version"] == 4);
    CHECK(updated["claims"]["entitlements"] == Json::array({ "sso", "audit-log" }));
    CHECK(updated["claims"]["seats"] == 3);
    before = snapshot(vendor);
    refused(client.Patch(path, bearer(token), "{}", "application/json"), 422, "invalid", "nothing to update");
    refused(client.Patch(path, bearer(token), R"({"seats":"3"})", "application/json"), 400, "invalid_field", "seats");
    refused(client.Patch(path, bearer(token), R"({"remove_entitlements":["nope"]})", "application/json"), 422, "invalid",
        "has no entitlement \"nope\"");
    refused(client.Patch("/v1/licenses/lic_nope", bearer(token), R"({"seats":3})", "application/json"), 404, "not_found",
        "no license lic_nope");
    CHECK(snapshot(vendor) == before);

    // Suspension: online only, with the reason; one Idempotency-Key, one suspension.
    refused(post(client, token, path + "/suspend", Json::object()), 400, "invalid_field", "\"reason\" is required");
    auto suspended = body_of(post(client, token, path + "/suspend", { { "reason", "payment failed" } },
        { { "Idempotency-Key", "suspend-1" } }), 200);
    CHECK(suspended["status"] == "suspended");
    CHECK(suspended["suspend_reason"] == "payment failed");
    CHECK(body_of(post(client, token, path + "/suspend", { { "reason", "payment failed" } }, { { "Idempotency-Key", "suspend-1" } }),
        200)["status"] == "suspended");
    before = snapshot(vendor);
    refused(post(client, token, path + "/suspend", { { "reason", "again" } }), 409, "conflict", "is already suspended");
    CHECK(snapshot(vendor) == before);
    auto listed = body_of(client.Get("/v1/licenses?state=suspended", bearer(token)), 200);
    REQUIRE(listed["data"].size() == 1);
    CHECK(listed["data"][0]["id"] == issued.id);
    auto reinstated = body_of(post(client, token, path + "/reinstate", Json::object()), 200);
    CHECK(reinstated["status"] == "active");
    refused(post(client, token, path + "/reinstate", Json::object()), 409, "conflict", "is not suspended");
    refused(post(client, token, path + "/reinstate", { { "reason", "x" } }), 400, "unknown_field", "reason");

    // The list filter, the license with its versions, the plans.
    CHECK(body_of(client.Get("/v1/licenses?expiring_within=30d", bearer(token)), 200)["data"].empty());
    refused(client.Get("/v1/licenses?expiring_within=soon", bearer(token)), 400, "invalid_parameter", "expiring_within");
    refused(client.Get("/v1/licenses?state=dormant", bearer(token)), 400, "invalid_parameter", "suspended");
    auto license = body_of(client.Get(path, bearer(token)), 200);
    REQUIRE(license["versions"].size() == 4);
    CHECK(license["versions"][0]["key"] == issued.key);
    CHECK(license["versions"][3]["reason"] == "update");
    auto plans = body_of(client.Get("/v1/plans", bearer(token)), 200);
    REQUIRE(plans["data"].size() == 1);
    CHECK(plans["data"][0]["id"] == "pro-yearly");
    CHECK(body_of(client.Get("/v1/plans/pro-yearly", bearer(token)), 200)["duration"] == "1y");
    refused(client.Get("/v1/plans/nope", bearer(token)), 404, "not_found", "no plan nope");

    // Issued by a plan over HTTP.
    auto by_plan_issue = body_of(post(client, token, "/v1/licenses", { { "plan", "pro-yearly" }, { "customer", vendor.customer } }), 201);
    CHECK(by_plan_issue["plan"] == "pro-yearly");
    CHECK(by_plan_issue["product"] == "acme-pro");
    refused(post(client, token, "/v1/licenses", { { "plan", "nope" }, { "customer", vendor.customer } }), 422, "invalid", "no plan nope");
    CHECK(server.stop() == 0);
}

TEST_CASE("20 simultaneous renewals: one Idempotency-Key makes one version; 20 keys make 20, their ends in audit order")
{
    Vendor vendor;
    auto issued = vendor.issue("acme-pro", { "--expires", "2030-01-01T00:00:00Z" });
    ServerChild server(vendor, { "--threads", "20" });
    std::string const path = "/v1/licenses/" + issued.id + "/renew";
    constexpr int clients = 20;
    auto renew_all = [&](bool one_key) {
        std::mutex mutex;
        std::vector<Json> answers;
        std::vector<std::string> failures;
        std::vector<std::thread> threads;
        // Every client connects first and then all send at once (a latch): the renewals meet in
        // the server, not in its listen queue.
        std::latch connected(clients);
        for (int c = 0; c < clients; ++c) {
            threads.emplace_back([&, c] {
                auto client = server.client();
                client.set_keep_alive(true);
                auto health = client.Get("/healthz");
                connected.arrive_and_wait();
                if (!health) {
                    std::lock_guard lock(mutex);
                    failures.push_back("GET /healthz: " + httplib::to_string(health.error()));
                    return;
                }
                std::string key = one_key ? "renew-once" : "renew-" + std::to_string(c);
                auto result = post(client, vendor.admin_token, path, { { "by", "1y" } }, { { "Idempotency-Key", key } });
                std::lock_guard lock(mutex);
                if (result && result->status == 200)
                    answers.push_back(Json::parse(result->body));
                else
                    failures.push_back(result ? std::to_string(result->status) + " " + result->body : httplib::to_string(result.error()));
            });
        }
        for (auto& thread : threads)
            thread.join();
        INFO("first failure: " << (failures.empty() ? "" : failures[0]));
        CHECK(failures.empty());
        return answers;
    };

    auto once = renew_all(true);
    REQUIRE(once.size() == size_t(clients));
    for (auto const& answer : once) {
        CHECK(answer["version"] == 2);
        CHECK(answer["expires_at"] == "2031-01-01T00:00:00Z");
    }
    CHECK(trimmed(vendor.sql("SELECT count(*) FROM license_versions")) == "1");
    CHECK(trimmed(vendor.sql("SELECT count(*) FROM audit WHERE action = 'license.renew'")) == "1");

    auto each = renew_all(false);
    REQUIRE(each.size() == size_t(clients));
    std::set<std::string> ends;
    for (auto const& answer : each)
        ends.insert(answer["expires_at"].get<std::string>());
    CHECK(ends.size() == size_t(clients)); // each renewal extended the one before it
    auto versions = Json::parse(vendor.cli({ "show", issued.id, "--json" }).out)["versions"];
    CHECK(versions.size() == size_t(clients + 2));
    CHECK(versions.back()["expires_at"] == "2051-01-01T00:00:00Z");
    // In the audit log's order, each renewal's end is a year after the one before it.
    int year = 2030;
    for (auto const& entry : Json::parse(vendor.cli({ "audit", "--oldest-first", "--json" }).out)) {
        if (entry["action"] != "license.renew")
            continue;
        CHECK(entry["details"]["previous_expires_at"] == std::to_string(year) + "-01-01T00:00:00Z");
        CHECK(entry["details"]["expires_at"] == std::to_string(year + 1) + "-01-01T00:00:00Z");
        ++year;
    }
    CHECK(year == 2051);
    CHECK(server.stop() == 0);
}
