// The RubyGems source's routes (server/src/customer/routes_rubygems.cpp) over HTTP: the real `charter`
// CLI makes a data directory with gems built by Debian's `gem build`, the real charter-server
// serves it on 127.0.0.1 with an ephemeral port, and each test stops the server it started.
// The legacy indexes are decoded with Debian's Ruby. tests/rubygems/test_rubygems.sh runs
// Bundler and `gem install` against the same routes; this file checks the answers themselves.

#include "charter/keygen/ops/compression.hpp"
#include "charter/keygen/ops/gem_reader.hpp"
#include "charter/server/customer/gem_index.hpp"
#include "charter/server/customer/md5.hpp"
#include "charter/server/http/guarded_server.hpp"
#include "support/license_versions.hpp"
#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

using namespace charter;
using namespace charter::testing;
using Json = nlohmann::json;

namespace {

// A vendor with products acme-pro and acme-basic and four gem releases of acme-pro's, all built
// by `gem build`: acme-base 1.0.3 and acme-pro 1.0.0 (published 2020-01-01), acme-pro 1.1.0
// (2021-01-01) and the prerelease acme-pro 2.0.0.rc1 (2021-06-01).
struct GemShop : Vendor {
    std::map<std::string, std::string> gems; // full name → the .gem file

    GemShop()
    {
        cli({ "product", "add", "acme-basic", "--name", "Acme Basic" });
        add("acme-base", "1.0.3", "2020-01-01");
        add("acme-pro", "1.0.0", "2020-01-01", "  s.add_dependency 'acme-base', '~> 1.0'\n");
        add("acme-pro", "1.1.0", "2021-01-01", "  s.add_dependency 'acme-base', '~> 1.0'\n");
        add("acme-pro", "2.0.0.rc1", "2021-06-01");
    }

    // `charter ARGS`, with its clock at `now` when given (RFC 3339).
    ProcessResult cli(std::vector<std::string> args, std::string const& now = {}) const
    {
        auto result = charter_cli(data_dir, args, { { "CHARTER_NOW", now } });
        INFO("charter " << args[0] << ": " << result.err);
        REQUIRE(result.exit_code == 0);
        return result;
    }

    // Builds NAME-VERSION.gem with `gem build` (HOME in its folder: nothing read from the
    // user's) and adds it as a release of acme-pro.
    void add(std::string const& name, std::string const& version, std::string const& released_at, std::string const& extra = {})
    {
        std::string full_name = name + "-" + version;
        std::string source = temp / ("src-" + full_name);
        std::filesystem::create_directories(source + "/lib");
        std::ofstream(source + "/lib/x.rb") << "module X; end\n";
        std::ofstream(source + "/x.gemspec") << "Gem::Specification.new do |s|\n  s.name = '" << name << "'; s.version = '" << version
                                             << "'\n  s.summary = 'Acme'; s.authors = ['Acme Inc.']; s.files = ['lib/x.rb']\n"
                                             << extra << "end\n";
        auto built = run_process({ "/bin/sh", "-c", "cd '" + source + "' && gem build x.gemspec" },
            { { "HOME", source }, { "SOURCE_DATE_EPOCH", "1764288000" } });
        INFO(built.out << built.err);
        REQUIRE(built.exit_code == 0);
        gems[full_name] = source + "/" + full_name + ".gem";
        cli({ "release", "add", "--product", "acme-pro", "--released-at", released_at, gems[full_name] });
    }

    Issued issue(std::string const& product, std::vector<std::string> extra = {}, std::string const& now = {}) const
    {
        std::vector<std::string> args { "issue", "--json", "--product", product, "--customer", "jane@example.com" };
        args.insert(args.end(), extra.begin(), extra.end());
        auto json = Json::parse(cli(args, now).out);
        return { json["id"], json["key"] };
    }

    // The downloads log, oldest first: "outcome license release" per row ("-" for none).
    std::vector<std::string> downloads_log() const
    {
        std::vector<std::string> rows;
        std::istringstream lines(
            sql("select outcome || ' ' || coalesce(license_id, '-') || ' ' || coalesce(release_id, '-') from downloads order by id"));
        for (std::string line; std::getline(lines, line);)
            rows.push_back(line);
        return rows;
    }

    std::string release_id(std::string const& version) const
    {
        return trimmed(sql("select id from releases where version = '" + version + "'"));
    }
};

// GET `path`: the response, which must be there.
httplib::Response get(httplib::Client& client, std::string const& path, httplib::Headers const& headers)
{
    auto result = client.Get(path.c_str(), headers);
    REQUIRE(result);
    return *result;
}

// A gzipped Marshal specs index as Ruby reads it: "name version platform" lines, sorted.
std::string ruby_specs(TempDir const& temp, std::string const& body)
{
    std::string file = temp / "specs.4.8.gz";
    std::ofstream(file, std::ios::binary) << body;
    auto run = run_process({ "/usr/bin/ruby", "-e",
        "require 'rubygems'; require 'zlib'; "
        "puts Marshal.load(Zlib.gunzip(File.binread(ARGV[0]))).map { |n, v, p| \"#{n} #{v} #{p}\" }.sort",
        file });
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    return run.out;
}

std::string quoted_md5(std::string const& body)
{
    return "\"" + server::md5_hex(body) + "\"";
}

// The error code of a JSON error answer.
std::string error_code(httplib::Response const& response)
{
    auto body = Json::parse(response.body, nullptr, false);
    if (!body.is_object() || !body.contains("error"))
        return {};
    return body["error"]["code"];
}

}

// A refusal's sentence becomes the status line's reason phrase (guarded_server.hpp): never a CR
// or LF that would end the line early, only printable ASCII, bounded.
TEST_CASE("reason phrases are printable ASCII, one line, bounded")
{
    using charter::server::GuardedServer;
    CHECK(GuardedServer::reason_phrase("license lic_1 expired on 2026-12-31; renew it") == "license lic_1 expired on 2026-12-31; renew it");
    CHECK(GuardedServer::reason_phrase("a\r\nSet-Cookie: x=1") == "a  Set-Cookie: x=1");
    CHECK(GuardedServer::reason_phrase("chrt_\xE2\x80\xA6 caf\xC3\xA9 \xF0\x9F\x94\x91\t\x01") == "chrt_... caf? ?  ");
    auto phrase = GuardedServer::reason_phrase(std::string(1000, 'x'));
    CHECK(phrase.size() == GuardedServer::max_reason_phrase);
}

TEST_CASE("the compact index: names, ETag as the quoted MD5 of the body, 304, a Range answered whole")
{
    GemShop shop;
    auto pro = shop.issue("acme-pro");
    auto basic_license = shop.issue("acme-basic");
    ServerChild server(shop.data_dir, shop.temp.path());
    auto client = server.client();

    auto names = get(client, "/rubygems/names", basic(pro.key));
    CHECK(names.status == 200);
    CHECK(names.body == "---\nacme-base\nacme-pro\n");
    CHECK(names.get_header_value("ETag") == quoted_md5(names.body));
    // Another product's license sees none of them.
    CHECK(get(client, "/rubygems/names", basic(basic_license.key)).body == "---\n");
    CHECK(get(client, "/rubygems/names", {}).status == 401);

    auto info = get(client, "/rubygems/info/acme-pro", basic(pro.key));
    REQUIRE(info.status == 200);
    CHECK(info.body.starts_with("---\n1.0.0 acme-base:~> 1.0|checksum:"));
    CHECK(info.get_header_value("ETag") == quoted_md5(info.body));
    CHECK(info.get_header_value("Cache-Control") == "private, max-age=0");
    auto not_modified = get(client, "/rubygems/info/acme-pro", basic(pro.key, { { "If-None-Match", quoted_md5(info.body) } }));
    CHECK(not_modified.status == 304);
    CHECK(not_modified.body.empty());
    CHECK(get(client, "/rubygems/info/acme-pro", basic(pro.key, { { "If-None-Match", "\"0123\"" } })).status == 200);
    // A gem published here that this license may have nothing of: 402 with the reason, also as
    // the reason phrase (Bundler and gem print the status line, not the body); never a 404.
    auto invisible = get(client, "/rubygems/info/acme-pro", basic(basic_license.key));
    CHECK(invisible.status == 402);
    CHECK(error_code(invisible) == "wrong_product");
    CHECK(invisible.reason == "license " + basic_license.id + " is for acme-basic, not acme-pro; use a license key for acme-pro");
    CHECK(Json::parse(invisible.body)["error"]["message"] == invisible.reason);
    CHECK(info.reason == "OK");
    // A name nobody publishes here: an empty 200 (gem install with several sources goes on).
    auto unknown = get(client, "/rubygems/info/rails", basic(pro.key));
    CHECK(unknown.status == 200);
    CHECK(unknown.body.empty());

    // /versions: the third column is the MD5 of /info/NAME's body.
    auto versions = get(client, "/rubygems/versions", basic(pro.key));
    REQUIRE(versions.status == 200);
    CHECK(versions.get_header_value("ETag") == quoted_md5(versions.body));
    CHECK(contains(versions.body, "\nacme-pro 1.0.0,1.1.0,2.0.0.rc1 " + server::md5_hex(info.body) + "\n"));
    // Bundler asks for the tail it lacks; the whole body comes back as a 200 (it checks the
    // whole file against the ETag).
    auto ranged = get(client, "/rubygems/versions", basic(pro.key, { { "Range", "bytes=10-" } }));
    CHECK(ranged.status == 200);
    CHECK(ranged.body == versions.body);
    CHECK_FALSE(ranged.has_header("Content-Range"));
    CHECK(ranged.get_header_value("ETag") == versions.get_header_value("ETag"));
    auto suffix = get(client, "/rubygems/versions", basic(pro.key, { { "Range", "bytes=-5" } }));
    CHECK(suffix.status == 200);
    CHECK(suffix.body == versions.body);
}

TEST_CASE("the legacy index: prereleases only in prerelease_specs; gemspecs from the cache as freshly built, visibility checked per request")
{
    GemShop shop;
    auto pro = shop.issue("acme-pro");
    auto basic_license = shop.issue("acme-basic");
    auto old = shop.issue("acme-pro", { "--updates-until", "2020-06-01" }, "2020-05-01T00:00:00Z");
    ServerChild server(shop.data_dir, shop.temp.path());
    auto client = server.client();

    auto specs = get(client, "/rubygems/specs.4.8.gz", basic(pro.key));
    REQUIRE(specs.status == 200);
    CHECK(ruby_specs(shop.temp, specs.body) == "acme-base 1.0.3 ruby\nacme-pro 1.0.0 ruby\nacme-pro 1.1.0 ruby\n");
    auto latest = get(client, "/rubygems/latest_specs.4.8.gz", basic(pro.key));
    REQUIRE(latest.status == 200);
    CHECK(ruby_specs(shop.temp, latest.body) == "acme-base 1.0.3 ruby\nacme-pro 1.1.0 ruby\n");
    auto prerelease = get(client, "/rubygems/prerelease_specs.4.8.gz", basic(pro.key));
    REQUIRE(prerelease.status == 200);
    CHECK(ruby_specs(shop.temp, prerelease.body) == "acme-pro 2.0.0.rc1 ruby\n");
    CHECK(prerelease.get_header_value("ETag") == quoted_md5(prerelease.body));
    // updates_until 2020-06-01: only what was published by then.
    CHECK(ruby_specs(shop.temp, get(client, "/rubygems/specs.4.8.gz", basic(old.key)).body)
        == "acme-base 1.0.3 ruby\nacme-pro 1.0.0 ruby\n");
    CHECK(ruby_specs(shop.temp, get(client, "/rubygems/prerelease_specs.4.8.gz", basic(old.key)).body).empty());

    // The gemspec as RubyGems would build it from the gem's own metadata.
    auto metadata = ops::read_gem(shop.gems["acme-pro-1.1.0"]);
    REQUIRE(metadata);
    auto fresh = ops::zlib_deflate(server::marshal_gemspec(*metadata));
    std::string const path = "/rubygems/quick/Marshal.4.8/acme-pro-1.1.0.gemspec.rz";
    auto first = get(client, path, basic(pro.key)); // built and cached
    auto second = get(client, path, basic(pro.key)); // from the cache
    REQUIRE(first.status == 200);
    REQUIRE(second.status == 200);
    CHECK(first.body == fresh);
    CHECK(second.body == fresh);
    CHECK(second.get_header_value("ETag") == quoted_md5(fresh));
    CHECK(get(client, path, basic(pro.key, { { "If-None-Match", quoted_md5(fresh) } })).status == 304);

    // Cached for one license, still checked for each: another product's license and one whose
    // updates ended before 1.1.0 get 404; the prerelease is there for the license that sees it.
    CHECK(get(client, path, basic(basic_license.key)).status == 404);
    CHECK(get(client, path, basic(old.key)).status == 404);
    CHECK(get(client, "/rubygems/quick/Marshal.4.8/acme-pro-1.0.0.gemspec.rz", basic(old.key)).status == 200);
    CHECK(get(client, "/rubygems/quick/Marshal.4.8/acme-pro-2.0.0.rc1.gemspec.rz", basic(pro.key)).status == 200);
    CHECK(get(client, "/rubygems/quick/Marshal.4.8/acme-pro-2.0.0.rc1.gemspec.rz", basic(old.key)).status == 404);
    CHECK(get(client, path, {}).status == 401);

    // A change of the releases starts a new cache; the bytes built again are the same.
    shop.cli({ "release", "yank", "--product", "acme-pro", "--version", "2.0.0.rc1" });
    auto rebuilt = get(client, path, basic(pro.key));
    CHECK(rebuilt.status == 200);
    CHECK(rebuilt.body == fresh);
    CHECK(get(client, "/rubygems/quick/Marshal.4.8/acme-pro-2.0.0.rc1.gemspec.rz", basic(pro.key)).status == 404);
}

TEST_CASE("a yanked gem leaves /versions, /info and the specs; its .gem stays downloadable for entitled licenses")
{
    GemShop shop;
    auto pro = shop.issue("acme-pro");
    ServerChild server(shop.data_dir, shop.temp.path());
    auto client = server.client();
    auto info_before = get(client, "/rubygems/info/acme-pro", basic(pro.key)).body;
    REQUIRE(contains(info_before, "\n1.1.0 "));

    auto yanked = shop.cli({ "release", "yank", "--product", "acme-pro", "--version", "1.1.0" });
    CHECK(contains(yanked.err, "yanked 1 file(s)"));

    // Noticed at once, without a restart: the CLI is another process.
    auto info = get(client, "/rubygems/info/acme-pro", basic(pro.key));
    CHECK(info.status == 200);
    CHECK_FALSE(contains(info.body, "\n1.1.0 "));
    CHECK(contains(info.body, "\n1.0.0 "));
    CHECK(info.get_header_value("ETag") == quoted_md5(info.body));
    auto versions = get(client, "/rubygems/versions", basic(pro.key));
    CHECK(contains(versions.body, "\nacme-pro 1.0.0,2.0.0.rc1 " + server::md5_hex(info.body) + "\n"));
    CHECK(ruby_specs(shop.temp, get(client, "/rubygems/specs.4.8.gz", basic(pro.key)).body)
        == "acme-base 1.0.3 ruby\nacme-pro 1.0.0 ruby\n");
    CHECK(ruby_specs(shop.temp, get(client, "/rubygems/latest_specs.4.8.gz", basic(pro.key)).body)
        == "acme-base 1.0.3 ruby\nacme-pro 1.0.0 ruby\n");
    CHECK(get(client, "/rubygems/quick/Marshal.4.8/acme-pro-1.1.0.gemspec.rz", basic(pro.key)).status == 404);

    // docs/operations.md: a yanked release's URL keeps working for licenses the rule allows (a
    // lockfile or a pinned install that names it), and the download is logged as any other.
    auto file = get(client, "/rubygems/gems/acme-pro-1.1.0.gem", basic(pro.key));
    CHECK(file.status == 200);
    CHECK(file.body == read_text(shop.gems["acme-pro-1.1.0"]));
    CHECK(shop.downloads_log() == std::vector<std::string> { "ok " + pro.id + " " + shop.release_id("1.1.0") });
}

TEST_CASE("yanking a version names the gem: a product's gem and its dependency of the same version are never yanked together; "
          "unyank")
{
    GemShop shop;
    shop.add("acme-base", "1.0.0", "2020-01-01"); // the same version as acme-pro 1.0.0, which needs acme-base
    auto pro = shop.issue("acme-pro");
    ServerChild server(shop.data_dir, shop.temp.path());
    auto client = server.client();
    auto versions_of = [&](std::string const& gem) {
        std::vector<std::string> versions;
        std::istringstream lines(get(client, "/rubygems/info/" + gem, basic(pro.key)).body);
        for (std::string line; std::getline(lines, line);) {
            if (line != "---")
                versions.push_back(line.substr(0, line.find(' ')));
        }
        // Releases of one date are listed in id order: compare as sets.
        std::sort(versions.begin(), versions.end());
        return versions;
    };
    using Versions = std::vector<std::string>;
    REQUIRE(versions_of("acme-base") == Versions { "1.0.0", "1.0.3" });
    REQUIRE(versions_of("acme-pro") == Versions { "1.0.0", "1.1.0", "2.0.0.rc1" });

    // By version alone: refused, naming both files, and nothing is yanked.
    auto ambiguous = charter_cli(shop.data_dir, { "release", "yank", "--product", "acme-pro", "--version", "1.0.0" });
    CHECK(ambiguous.exit_code == 3);
    CHECK(contains(ambiguous.err, "acme-base-1.0.0.gem"));
    CHECK(contains(ambiguous.err, "acme-pro-1.0.0.gem"));
    CHECK(contains(ambiguous.err, "--gem NAME or --file FILENAME"));
    CHECK(versions_of("acme-base") == Versions { "1.0.0", "1.0.3" });
    CHECK(versions_of("acme-pro") == Versions { "1.0.0", "1.1.0", "2.0.0.rc1" });

    // --gem: that gem's files only.
    auto yanked = Json::parse(shop.cli({ "release", "yank", "--json", "--product", "acme-pro", "--version", "1.0.0", "--gem", "acme-pro" }).out);
    REQUIRE(yanked.size() == 1);
    CHECK(yanked[0]["filename"] == "acme-pro-1.0.0.gem");
    CHECK(yanked[0]["yanked"] == true);
    CHECK(versions_of("acme-pro") == Versions { "1.1.0", "2.0.0.rc1" });
    CHECK(versions_of("acme-base") == Versions { "1.0.0", "1.0.3" });

    // unyank: listed and installable again, at once.
    auto unyanked = shop.cli({ "release", "unyank", "--product", "acme-pro", "--version", "1.0.0", "--gem", "acme-pro" });
    CHECK(contains(unyanked.err, "unyanked 1 file(s)"));
    CHECK(versions_of("acme-pro") == Versions { "1.0.0", "1.1.0", "2.0.0.rc1" });
    auto again = charter_cli(shop.data_dir, { "release", "unyank", "--product", "acme-pro", "--version", "1.0.0", "--gem", "acme-pro" });
    CHECK(again.exit_code == 5);
    CHECK(contains(again.err, "is not yanked"));

    // --file: that one file.
    shop.cli({ "release", "yank", "--product", "acme-pro", "--version", "1.0.0", "--file", "acme-base-1.0.0.gem" });
    CHECK(versions_of("acme-base") == Versions { "1.0.3" });
    CHECK(versions_of("acme-pro") == Versions { "1.0.0", "1.1.0", "2.0.0.rc1" });
    shop.cli({ "release", "unyank", "--product", "acme-pro", "--version", "1.0.0", "--file", "acme-base-1.0.0.gem" });
    CHECK(versions_of("acme-base") == Versions { "1.0.0", "1.0.3" });

    // A version of one gem needs no narrowing; names that match nothing are errors.
    shop.cli({ "release", "yank", "--product", "acme-pro", "--version", "1.1.0" });
    CHECK(versions_of("acme-pro") == Versions { "1.0.0", "2.0.0.rc1" });
    auto unknown_gem = charter_cli(shop.data_dir, { "release", "yank", "--product", "acme-pro", "--version", "1.0.0", "--gem", "acme-nothing" });
    CHECK(unknown_gem.exit_code == 4);
    CHECK(contains(unknown_gem.err, "has no gem acme-nothing"));
    auto unknown_file = charter_cli(shop.data_dir, { "release", "unyank", "--product", "acme-pro", "--version", "1.0.0", "--file", "x.gem" });
    CHECK(unknown_file.exit_code == 4);
    auto audit = shop.cli({ "audit", "--json", "--oldest-first" }).out;
    size_t unyank_rows = 0;
    for (auto const& entry : Json::parse(audit))
        unyank_rows += entry["action"] == "release.unyank";
    CHECK(unyank_rows == 2);
}

TEST_CASE("/rubygems/gems/ refuses and logs as /downloads/ does, refusals before the rule included")
{
    GemShop shop;
    auto valid = shop.issue("acme-pro");
    auto revoked = shop.issue("acme-pro");
    shop.cli({ "revoke", revoked.id });
    auto other_product = shop.issue("acme-basic");
    auto updates_ended = shop.issue("acme-pro", { "--updates-until", "2020-06-01" }, "2020-05-01T00:00:00Z");
    auto not_yet = shop.issue("acme-pro", { "--not-before", "30d" });
    ServerChild server(shop.data_dir, shop.temp.path());
    auto client = server.client();

    struct Case {
        char const* what;
        httplib::Headers headers;
        std::string version; // of acme-pro
        int status;
        int gem_status; // the RubyGems source's: 402 for a key presented and refused
        std::string outcome; // the error code, and the downloads log's outcome
        std::string license; // in the log
        std::string release; // in the log
    };
    auto release_1_0 = shop.release_id("1.0.0"), release_1_1 = shop.release_id("1.1.0");
    std::vector<Case> const cases {
        { "no credential", {}, "1.0.0", 401, 401, "unauthorized", "-", "-" },
        { "not a license key", basic("v4.public.nope"), "1.0.0", 401, 402, "unauthorized", "-", "-" },
        { "not valid yet", basic(not_yet.key), "1.0.0", 403, 402, "not_yet_valid", "-", "-" },
        { "revoked", basic(revoked.key), "1.0.0", 403, 402, "revoked", revoked.id, release_1_0 },
        { "another product's license", basic(other_product.key), "1.0.0", 403, 402, "wrong_product", other_product.id, release_1_0 },
        { "published after updates_until", basic(updates_ended.key), "1.1.0", 403, 402, "updates_ended", updates_ended.id,
            release_1_1 },
        { "no such file", basic(valid.key), "9.9.9", 404, 404, "not_found", valid.id, "-" },
        { "allowed", basic(valid.key), "1.0.0", 200, 200, "ok", valid.id, release_1_0 },
    };
    std::vector<std::string> expected_log;
    for (auto const& test : cases) {
        INFO(test.what);
        std::string filename = "acme-pro-" + test.version + ".gem";
        auto download = get(client, "/downloads/acme-pro/" + test.version + "/" + filename, test.headers);
        auto gem = get(client, "/rubygems/gems/" + filename, test.headers);
        CHECK(download.status == test.status);
        CHECK(gem.status == test.gem_status);
        if (test.status != 200) {
            CHECK(error_code(download) == test.outcome);
            CHECK(error_code(gem) == test.outcome);
        }
        // The same sentence says why (a missing file is named by the path each route has); on
        // the RubyGems source it is also the reason phrase, and on /downloads/ for the rule's
        // refusals.
        if (test.status == 401 || test.status == 403) {
            auto message = Json::parse(gem.body)["error"]["message"];
            CHECK(message == Json::parse(download.body)["error"]["message"]);
            CHECK(gem.reason == message);
            if (test.license != "-")
                CHECK(download.reason == message);
        }
        if (test.status == 200 || test.status == 404)
            CHECK(gem.reason == (test.status == 200 ? "OK" : "Not Found"));
        if (test.gem_status == 401)
            CHECK(gem.get_header_value("WWW-Authenticate") == "Basic realm=\"charter\"");
        std::string row = test.outcome + " " + test.license + " " + test.release;
        expected_log.insert(expected_log.end(), { row, row });
    }
    CHECK(shop.downloads_log() == expected_log);

    // Index requests are refused with the same sentence, and are not downloads.
    auto info = get(client, "/rubygems/info/acme-pro", basic(other_product.key));
    CHECK(info.status == 402);
    CHECK(error_code(info) == "wrong_product");
    CHECK(shop.downloads_log().size() == expected_log.size());
}

// Issue 14 §1: the source answers a license's current terms and state, whichever genuine
// version of its key Bundler was configured with.
TEST_CASE("the source follows the license's record: an old key gets a renewal's releases, a suspension is refused with its reason")
{
    GemShop shop;
    auto license = shop.issue("acme-pro", { "--updates-until", "2020-06-30" }, "2020-05-01T00:00:00Z");
    ServerChild server(shop.data_dir, shop.temp.path());
    auto client = server.client();
    auto info = [&] { return get(client, "/rubygems/info/acme-pro", basic(license.key)); };
    REQUIRE(info().status == 200);
    CHECK_FALSE(contains(info().body, "\n1.1.0 "));
    CHECK(get(client, "/rubygems/gems/acme-pro-1.1.0.gem", basic(license.key)).status == 402);

    // Renewed: the key in the customer's configuration is version 1, and gets what version 2 covers.
    auto renewed = sign_new_version(shop.data_dir, license.id, { 1590969600, std::nullopt, 1614556800 }); // updates until 2021-03-01
    for (auto const& key : { license.key, renewed }) {
        auto renewed_info = get(client, "/rubygems/info/acme-pro", basic(key));
        REQUIRE(renewed_info.status == 200);
        CHECK(contains(renewed_info.body, "\n1.1.0 "));
        CHECK_FALSE(contains(renewed_info.body, "2.0.0.rc1"));
        CHECK(contains(get(client, "/rubygems/versions", basic(key)).body, "\nacme-pro 1.0.0,1.1.0 "));
        CHECK(get(client, "/rubygems/gems/acme-pro-1.1.0.gem", basic(key)).status == 200);
    }

    // Suspended: refused at the next request on every path, with the reason in the status line.
    suspend_license(shop.data_dir, license.id, "payment failed", 1796083200); // 2026-12-01
    std::string const sentence = "license " + license.id + " is suspended since 2026-12-01 (payment failed); contact the vendor to reinstate it";
    for (auto const& path : { "/rubygems/", "/rubygems/versions", "/rubygems/info/acme-pro", "/rubygems/specs.4.8.gz",
             "/rubygems/quick/Marshal.4.8/acme-pro-1.0.0.gemspec.rz", "/rubygems/gems/acme-pro-1.0.0.gem" }) {
        INFO(path);
        auto refused = get(client, path, basic(license.key));
        CHECK(refused.status == 402);
        CHECK(refused.reason == sentence);
        CHECK(error_code(refused) == "suspended");
    }
    CHECK(shop.downloads_log().back() == "suspended " + license.id + " " + shop.release_id("1.0.0"));

    reinstate_license(shop.data_dir, license.id, 1796083200);
    CHECK(get(client, "/rubygems/versions", basic(license.key)).status == 200);
    CHECK(get(client, "/rubygems/gems/acme-pro-1.0.0.gem", basic(license.key)).status == 200);
}
