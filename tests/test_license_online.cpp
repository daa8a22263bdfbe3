// The license's record decides online (issue 14 §1): POST /v1/validate, GET /v1/downloads,
// /downloads/ and GET /v1/license accept any genuine version of a license's key (its own exp
// passed or not) and apply the license's current terms and state. The real `charter` CLI makes
// the data directory, the real charter-server serves it on 127.0.0.1 with an ephemeral port;
// new versions and suspensions are written into its database as a renewal and a suspension
// write them (support/license_versions.hpp). The RubyGems source's side is in
// test_rubygems_routes.cpp, Bundler's in tests/rubygems/test_rubygems.sh.

#include "support/license_versions.hpp"
#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <set>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

// The CLI's clock when it issues and adds releases, and the server's.
constexpr char const* vendor_now = "2026-01-01T00:00:00Z";
constexpr char const* server_now = "2027-06-30T12:00:00Z";

constexpr int64_t dec_20_2026 = 1797724800;
constexpr int64_t jun_1_2027 = 1811808000;
constexpr int64_t jun_29_2027 = 1814227200;
constexpr int64_t jun_30_2027 = 1814313600;
constexpr int64_t dec_31_2027 = 1830211200;
constexpr int64_t jun_30_2028 = 1845936000;
constexpr int64_t dec_31_2028 = 1861833600;

// Product acme-pro with four releases: 1.0 (2026-02-01), 2.0 (2026-08-01), 3.0 (2027-03-01),
// 4.0 (2027-06-15).
struct Shop : Vendor {
    Shop()
        : Vendor(std::map<std::string, std::string> { { "CHARTER_NOW", vendor_now } })
    {
        add_release("1.0", "2026-02-01");
        add_release("2.0", "2026-08-01");
        add_release("3.0", "2027-03-01");
        add_release("4.0", "2027-06-15");
    }

    void add_release(std::string const& version, std::string const& released_at) const
    {
        auto path = temp / ("pro-" + version + ".tgz");
        write_file(path, "pro " + version);
        cli({ "release", "add", "--product", "acme-pro", "--version", version, "--released-at", released_at, path });
    }

    std::string last_download_outcome() const { return trimmed(sql("select outcome from downloads order by id desc limit 1")); }
};

struct Server : ServerChild {
    explicit Server(Shop const& shop)
        : ServerChild(shop, { "--threads", "4", "--auth-failure-limit", "1000" }, { { "CHARTER_NOW", server_now } })
    {
    }
};

Json validate(httplib::Client& client, std::string const& key)
{
    auto result = client.Post("/v1/validate", Json { { "key", key }, { "product", "acme-pro" } }.dump(), "application/json");
    REQUIRE(result);
    REQUIRE(result->status == 200);
    return Json::parse(result->body);
}

// The versions GET /v1/downloads lists for `key` (200 required).
std::set<std::string> listed(httplib::Client& client, std::string const& key)
{
    auto result = client.Get("/v1/downloads", basic(key));
    REQUIRE(result);
    INFO(result->body);
    REQUIRE(result->status == 200);
    std::set<std::string> versions;
    auto answer = Json::parse(result->body);
    for (auto const& release : answer["releases"])
        versions.insert(release["version"].get<std::string>());
    return versions;
}

int download_status(httplib::Client& client, std::string const& key, std::string const& version)
{
    auto result = client.Get(("/downloads/acme-pro/" + version + "/pro-" + version + ".tgz").c_str(), basic(key));
    REQUIRE(result);
    return result->status;
}

Json own_license(httplib::Client& client, std::string const& key)
{
    auto result = client.Get("/v1/license", basic(key));
    REQUIRE(result);
    INFO(result->body);
    REQUIRE(result->status == 200);
    CHECK(result->get_header_value("Cache-Control") == "no-store");
    return Json::parse(result->body);
}

}

TEST_CASE("an old version of a license's key gets the license's current terms after each renewal")
{
    Shop shop;
    auto first = shop.issue("acme-pro", { "--expires", "2026-12-31", "--updates-until", "2026-06-30" });
    Server server(shop);
    auto client = server.client();

    // Before the renewal the key's own end is the license's: expired, nothing to download.
    CHECK(validate(client, first.key)["status"] == "expired");
    check_error(client.Get("/v1/downloads", basic(first.key)), 403, "expired");

    auto second = sign_new_version(shop.data_dir, first.id, { dec_20_2026, dec_31_2027, jun_1_2027 });
    // The first key (its own exp passed on 2026-12-31) stands for the license: the renewed
    // terms decide, at once (a verdict remembered for the key keeps none of the license's terms).
    for (auto const& key : { first.key, second }) {
        auto answer = validate(client, key);
        CHECK(answer["valid"] == true);
        CHECK(answer["status"] == "valid");
        CHECK(answer["state"] == "active");
        CHECK(answer["version"] == 2);
        CHECK(answer["superseded"] == (key == first.key));
        CHECK(answer["license"]["id"] == first.id);
        CHECK(answer["license"]["expires_at"] == "2027-12-31T00:00:00Z");
        CHECK(answer["license"]["updates_until"] == "2027-06-01T00:00:00Z");
        CHECK(listed(client, key) == std::set<std::string> { "1.0", "2.0", "3.0" });
        CHECK(download_status(client, key, "3.0") == 200);
        CHECK(download_status(client, key, "4.0") == 403);
        auto own = own_license(client, key);
        CHECK(own["id"] == first.id);
        CHECK(own["state"] == "active");
        CHECK(own["key"] == second);
        CHECK(own["version"] == 2);
        CHECK(own["versions"] == 2);
        CHECK(own["license"]["expires_at"] == "2027-12-31T00:00:00Z");
    }

    // A second renewal moves updates_until past 4.0: every version of the key gets it.
    auto third = sign_new_version(shop.data_dir, first.id, { jun_29_2027, dec_31_2028, jun_30_2028 });
    for (auto const& key : { first.key, second, third }) {
        CHECK(listed(client, key) == std::set<std::string> { "1.0", "2.0", "3.0", "4.0" });
        CHECK(download_status(client, key, "4.0") == 200);
        CHECK(validate(client, key)["superseded"] == (key != third));
        CHECK(own_license(client, key)["key"] == third);
    }
    CHECK(own_license(client, first.key)["versions"] == 3);
    // A download credential of the license gets the same: a CI job fetches the renewed key with it.
    auto credential = trimmed(shop.cli({ "credential", "create", first.id, "--name", "ci" }).out);
    CHECK(listed(client, credential) == std::set<std::string> { "1.0", "2.0", "3.0", "4.0" });
    CHECK(own_license(client, credential)["key"] == third);
}

TEST_CASE("a suspension refuses every online path at the next request, with its reason; reinstating undoes it")
{
    Shop shop;
    auto license = shop.issue("acme-pro");
    auto newer = sign_new_version(shop.data_dir, license.id, { dec_20_2026, std::nullopt, std::nullopt });
    auto credential = trimmed(shop.cli({ "credential", "create", license.id, "--name", "ci" }).out);
    Server server(shop);
    auto client = server.client();
    CHECK(listed(client, credential).size() == 4);

    // Known keys: each path has remembered its verdict on both keys.
    for (auto const& key : { license.key, newer }) {
        CHECK(validate(client, key)["valid"] == true);
        CHECK(listed(client, key).size() == 4);
        CHECK(download_status(client, key, "1.0") == 200);
    }

    suspend_license(shop.data_dir, license.id, "payment failed", jun_29_2027);
    std::string const sentence = "license " + license.id + " is suspended since 2027-06-29 (payment failed); contact the vendor to reinstate it";
    for (auto const& key : { license.key, newer }) {
        auto answer = validate(client, key);
        CHECK(answer["valid"] == false);
        CHECK(answer["status"] == "suspended");
        CHECK(answer["state"] == "suspended");
        CHECK(answer["message"] == sentence);

        auto list = client.Get("/v1/downloads", basic(key));
        check_error(list, 403, "suspended", sentence);
        CHECK(list->reason == sentence); // curl -f and wget print the status line

        auto file = client.Get("/downloads/acme-pro/1.0/pro-1.0.tgz", basic(key));
        check_error(file, 403, "suspended", sentence);
        CHECK(file->reason == sentence);
        CHECK(shop.last_download_outcome() == "suspended");

        // The license's own endpoint still answers, so that a script can tell why.
        auto own = own_license(client, key);
        CHECK(own["state"] == "suspended");
        CHECK(own["suspend_reason"] == "payment failed");
        CHECK(own["suspended_at"] == "2027-06-29T00:00:00Z");
    }
    // A credential follows its license's state.
    check_error(client.Get("/v1/downloads", basic(credential)), 403, "suspended", sentence);
    CHECK(download_status(client, credential, "1.0") == 403);
    CHECK(own_license(client, credential)["state"] == "suspended");

    reinstate_license(shop.data_dir, license.id, jun_30_2027);
    for (auto const& key : { license.key, newer }) {
        CHECK(validate(client, key)["state"] == "active");
        CHECK(listed(client, key).size() == 4);
        CHECK(download_status(client, key, "1.0") == 200);
        auto own = own_license(client, key);
        CHECK(own["state"] == "active");
        CHECK(own["suspend_reason"].is_null());
    }
    CHECK(download_status(client, credential, "1.0") == 200);
}

TEST_CASE("a revoked license is refused on every online path, whichever version of its key is presented")
{
    Shop shop;
    auto license = shop.issue("acme-pro");
    auto newer = sign_new_version(shop.data_dir, license.id, { dec_20_2026, std::nullopt, std::nullopt });
    Server server(shop);
    auto client = server.client();
    CHECK(download_status(client, license.key, "1.0") == 200);

    shop.cli({ "revoke", license.id, "--reason", "chargeback" });
    for (auto const& key : { license.key, newer }) {
        auto answer = validate(client, key);
        CHECK(answer["valid"] == false);
        CHECK(answer["status"] == "revoked");
        CHECK(answer["state"] == "revoked");
        check_error(client.Get("/v1/downloads", basic(key)), 403, "revoked");
        CHECK(download_status(client, key, "1.0") == 403);
        // No current key is handed out for a revoked license; the sentence says what to do.
        auto own = client.Get("/v1/license", basic(key));
        check_error(own, 403, "revoked", "license " + license.id + " has been revoked (on 2026-01-01); contact the vendor for a new key");
        CHECK_FALSE(contains(own->body, "v4.public."));
    }
}

TEST_CASE("GET /v1/license asks for a license key as downloads do")
{
    Shop shop;
    auto license = shop.issue("acme-pro");
    Server server(shop);
    auto client = server.client();
    auto missing = client.Get("/v1/license");
    check_error(missing, 401, "unauthorized", "send your license key");
    CHECK(missing->get_header_value("WWW-Authenticate") == "Basic realm=\"charter\"");
    check_error(client.Get("/v1/license", basic("v4.public.not-a-key")), 401, "unauthorized", "the license key is not valid");
    // One altered character of the signature: not a version of any license.
    auto altered = license.key;
    altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
    check_error(client.Get("/v1/license", basic(altered)), 401, "unauthorized");
    check_error(client.Post("/v1/license", basic(license.key), "", "text/plain"), 405, "method_not_allowed");
    auto own = own_license(client, license.key);
    CHECK(own["key"] == license.key);
    CHECK(own["version"] == 1);
    CHECK(own["license"]["customer"] == shop.customer);
}
