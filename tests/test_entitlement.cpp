// The entitlement rule (server/src/customer/entitlement.cpp, docs/operations.md "Entitlement rule"): which
// releases a presented license may download, and the sentence a refused customer reads.

#include "charter/server/customer/entitlement.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace charter;
using charter::testing::contains;
using namespace charter::server;

namespace {

// Instants, UTC midnight.
constexpr int64_t jan_1_2026 = 1767225600;
constexpr int64_t jun_30_2026 = 1782777600;
constexpr int64_t dec_31_2026 = 1798675200;
constexpr int64_t jan_1_2027 = 1798761600;
constexpr int64_t jun_30_2027 = 1814313600;

LicenseFacts license()
{
    LicenseFacts facts;
    facts.id = "lic_7QxTest";
    facts.product = "acme-pro";
    facts.signature_valid = true;
    return facts;
}

db::Product product(bool keep_access_after_expiry = false)
{
    return db::Product { "acme-pro", "Acme Pro", keep_access_after_expiry, jan_1_2026 };
}

db::Release release(std::string version, int64_t released_at)
{
    db::Release release;
    release.id = "rel_" + version;
    release.product_id = "acme-pro";
    release.version = std::move(version);
    release.filename = "acme-pro-" + release.version + ".tar.gz";
    release.size = 1;
    release.sha256 = std::string(64, '0');
    release.released_at = released_at;
    release.created_at = released_at;
    return release;
}

void check_allowed(EntitlementDecision const& decision)
{
    INFO("refused: " << decision.reason);
    CHECK(decision.allowed());
    CHECK(decision.outcome == Entitlement::allowed);
    CHECK(decision.reason.empty());
}

void check_refused(EntitlementDecision const& decision, Entitlement outcome, std::string const& reason)
{
    CHECK_FALSE(decision.allowed());
    CHECK(decision.outcome == outcome);
    CHECK(decision.reason == reason);
}

}

TEST_CASE("entitlement: a valid perpetual license gets every release of its product")
{
    for (int64_t at : { jan_1_2026, jun_30_2026, jun_30_2027 })
        check_allowed(decide_entitlement(license(), product(), release("1.0", at), jun_30_2026));
}

TEST_CASE("entitlement: a key whose signature did not verify gets nothing")
{
    auto facts = license();
    facts.signature_valid = false;
    // Before anything else: the claims of an unverified key mean nothing, so the message
    // repeats none of them.
    facts.revoked = true;
    facts.product = "other";
    check_refused(decide_entitlement(facts, product(), release("1.0", jan_1_2026), jun_30_2026), Entitlement::invalid_key,
        "the license key is not valid; check that it was copied whole");
}

TEST_CASE("entitlement: a revoked license gets nothing, whatever its dates")
{
    auto facts = license();
    facts.revoked = true;
    facts.updates_until = jan_1_2027;
    check_refused(decide_entitlement(facts, product(), release("1.0", jan_1_2026), jun_30_2026), Entitlement::revoked,
        "license lic_7QxTest has been revoked; contact the vendor for a new key");
    // Revocation wins over keeping access after expiry.
    facts.expires_at = dec_31_2026;
    check_refused(decide_entitlement(facts, product(true), release("1.0", jan_1_2026), jun_30_2027), Entitlement::revoked,
        "license lic_7QxTest has been revoked; contact the vendor for a new key");
}

TEST_CASE("entitlement: the refusal of a license as a whole says since when")
{
    auto facts = license();
    CHECK_FALSE(license_refusal(facts, product(), jun_30_2026));
    facts.revoked = true;
    facts.revoked_at = jun_30_2026;
    auto refused = license_refusal(facts, product(), jun_30_2026);
    REQUIRE(refused);
    check_refused(*refused, Entitlement::revoked, "license lic_7QxTest has been revoked (on 2026-06-30); contact the vendor for a new key");
    // Expired: nothing left where the product keeps no access after expiry; the releases
    // published before it where the product does (not a refusal of the license as a whole).
    facts = license();
    facts.expires_at = dec_31_2026;
    CHECK_FALSE(license_refusal(facts, product(), dec_31_2026));
    refused = license_refusal(facts, product(), jun_30_2027);
    REQUIRE(refused);
    check_refused(*refused, Entitlement::expired, "license lic_7QxTest expired on 2026-12-31; renew it to download acme-pro releases");
    CHECK_FALSE(license_refusal(facts, product(true), jun_30_2027));
}

TEST_CASE("entitlement: a license for another product gets nothing of this one")
{
    auto facts = license();
    facts.product = "acme-basic";
    check_refused(decide_entitlement(facts, product(), release("1.0", jan_1_2026), jun_30_2026), Entitlement::wrong_product,
        "license lic_7QxTest is for acme-basic, not acme-pro; use a license key for acme-pro");
}

TEST_CASE("entitlement: updates_until covers releases published at or before it")
{
    auto facts = license();
    facts.updates_until = dec_31_2026;
    check_allowed(decide_entitlement(facts, product(), release("1.0", jun_30_2026), jun_30_2027));
    check_allowed(decide_entitlement(facts, product(), release("1.1", dec_31_2026), jun_30_2027));
    // The same day: the times show which came first.
    check_refused(decide_entitlement(facts, product(), release("2.0", dec_31_2026 + 1), jun_30_2027),
        Entitlement::updates_ended,
        "license lic_7QxTest: updates ended on 2026-12-31T00:00:00Z and acme-pro 2.0 was released on 2026-12-31T00:00:01Z; "
        "download an earlier release or renew the license");
    check_refused(decide_entitlement(facts, product(), release("2.1", jun_30_2027), jun_30_2027), Entitlement::updates_ended,
        "license lic_7QxTest: updates ended on 2026-12-31 and acme-pro 2.1 was released on 2027-06-30; "
        "download an earlier release or renew the license");
    // The current time plays no part: a license whose updates ended still gets the old releases.
    check_allowed(decide_entitlement(facts, product(), release("1.0", jun_30_2026), jun_30_2027 * 2));
}

TEST_CASE("entitlement: before exp, the expiry changes nothing")
{
    auto facts = license();
    facts.expires_at = jan_1_2027;
    for (bool keep : { false, true }) {
        check_allowed(decide_entitlement(facts, product(keep), release("1.0", jun_30_2026), jun_30_2026));
        // A release published after exp (scheduled ahead) while the license still runs.
        check_allowed(decide_entitlement(facts, product(keep), release("3.0", jun_30_2027), dec_31_2026));
        // At exp itself the license is still valid (expired means now > exp, as in verify-lib).
        check_allowed(decide_entitlement(facts, product(keep), release("1.0", jun_30_2026), jan_1_2027));
    }
}

TEST_CASE("entitlement: after exp, a product without kept access gives nothing")
{
    auto facts = license();
    facts.expires_at = jan_1_2027;
    for (int64_t at : { jan_1_2026, jan_1_2027, jun_30_2027 })
        check_refused(decide_entitlement(facts, product(false), release("1.0", at), jan_1_2027 + 1), Entitlement::expired,
            "license lic_7QxTest expired on 2027-01-01; renew it to download acme-pro releases");
}

TEST_CASE("entitlement: after exp, a product that keeps access gives the releases published before exp")
{
    auto facts = license();
    facts.expires_at = jan_1_2027;
    auto keeps = product(true);
    check_allowed(decide_entitlement(facts, keeps, release("1.0", jun_30_2026), jun_30_2027));
    check_allowed(decide_entitlement(facts, keeps, release("1.1", jan_1_2027 - 1), jun_30_2027));
    check_refused(decide_entitlement(facts, keeps, release("2.0", jan_1_2027), jun_30_2027), Entitlement::expired,
        "license lic_7QxTest expired on 2027-01-01T00:00:00Z and acme-pro 2.0 was released on 2027-01-01T00:00:00Z; only "
        "releases published before the expiry stay available, renew the license to download this one");
    check_refused(decide_entitlement(facts, keeps, release("3.0", jun_30_2027), jun_30_2027), Entitlement::expired,
        "license lic_7QxTest expired on 2027-01-01 and acme-pro 3.0 was released on 2027-06-30; only releases published "
        "before the expiry stay available, renew the license to download this one");
}

TEST_CASE("entitlement: updates_until and a kept access after exp combine")
{
    // Updates ended before the license did: the earlier limit decides, and names itself.
    auto facts = license();
    facts.expires_at = jan_1_2027;
    facts.updates_until = jun_30_2026;
    auto keeps = product(true);
    check_allowed(decide_entitlement(facts, keeps, release("1.0", jan_1_2026), jun_30_2027));
    auto refused = decide_entitlement(facts, keeps, release("1.5", dec_31_2026), jun_30_2027);
    CHECK(refused.outcome == Entitlement::updates_ended);
    CHECK(contains(refused.reason, "updates ended on 2026-06-30"));
}

TEST_CASE("licenses of one entitlement class get the same decision for every release")
{
    // Every combination of the facts the rule reads, at a few instants, against releases on
    // either side of every boundary, with and without access after expiry.
    std::vector<LicenseFacts> licenses;
    for (bool signature_valid : { true, false })
        for (bool revoked : { false, true })
            for (std::string product_id : { "acme-pro", "acme-basic" })
                for (std::optional<int64_t> updates_until : { std::optional<int64_t>(), std::optional<int64_t>(jun_30_2026) })
                    for (std::optional<int64_t> expires_at : { std::optional<int64_t>(), std::optional<int64_t>(dec_31_2026),
                             std::optional<int64_t>(jun_30_2027) }) {
                        auto facts = license();
                        facts.signature_valid = signature_valid;
                        facts.revoked = revoked;
                        facts.product = product_id;
                        facts.updates_until = updates_until;
                        facts.expires_at = expires_at;
                        licenses.push_back(facts);
                        facts.id = "lic_other"; // the id only names the license in messages
                        licenses.push_back(facts);
                    }
    std::vector<db::Release> releases;
    for (int64_t at : { jan_1_2026, jun_30_2026, jun_30_2026 + 1, dec_31_2026, jan_1_2027, jun_30_2027 })
        releases.push_back(release(std::to_string(at), at));
    for (int64_t now : { jan_1_2026, jan_1_2027, jun_30_2027 + 1 }) {
        for (bool keep_access : { false, true }) {
            std::map<std::string, std::vector<bool>> seen;
            for (auto const& facts : licenses) {
                std::vector<bool> allowed;
                for (auto const& candidate : releases)
                    allowed.push_back(decide_entitlement(facts, product(keep_access), candidate, now).allowed());
                auto entry = seen.emplace(entitlement_class(facts, now), allowed).first;
                INFO(entry->first);
                CHECK(entry->second == allowed);
            }
            // Classes tell apart what matters: valid licenses of the product with different
            // updates_until, or one expired and one not, are different classes.
            CHECK(seen.size() >= 8);
        }
    }
    auto before = license(), after = license();
    after.expires_at = jan_1_2027;
    CHECK(entitlement_class(before, jan_1_2026) == entitlement_class(after, jan_1_2026));
    CHECK(entitlement_class(before, jun_30_2027) != entitlement_class(after, jun_30_2027));
}
