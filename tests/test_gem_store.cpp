// Gem metadata in the store (db/src/gems.cpp): kept beside its release, read back whole, and
// the generation counter that the RubyGems indexes are cached against.

#include "support/postgres.hpp"
#include "support/process.hpp"
#include "charter/db/store.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

using namespace charter;
using namespace charter::db;
using charter::testing::open_test_store;
using charter::testing::TempDir;
namespace fs = std::filesystem;

namespace {

Actor const cli { "cli" };

Release release(std::string id, std::string version, std::string filename)
{
    return Release { .id = std::move(id), .product_id = "acme-pro", .version = std::move(version),
        .filename = std::move(filename), .size = 10, .sha256 = std::string(64, 'a'), .released_at = 100, .yanked = false,
        .created_at = 100 };
}

}

TEST_CASE("gem metadata is stored with its release and read back whole")
{
    TempDir dir;
    auto store = open_test_store(fs::path(dir.path()) / "charter.db", OpenMode::create);
    REQUIRE(store);
    REQUIRE(store->add_product({ .id = "acme-pro", .name = "Acme Pro", .keep_access_after_expiry = false, .created_at = 1 }, cli));
    auto before = store->releases_generation();
    REQUIRE(before);
    REQUIRE(store->add_release(release("rel_1", "1.2.0", "acme-pro-1.2.0-x86_64-linux.gem"), OnDuplicateRelease::refuse, cli));

    GemMetadata gem { .release_id = "rel_1", .name = "acme-pro", .version = "1.2.0", .platform = "x86_64-linux",
        .dependencies = { { "acme-base", { "~> 1.0", ">= 1.0.2" } }, { "json", {} } },
        .required_ruby_version = { ">= 2.7" }, .required_rubygems_version = {}, .summary = "Pro features",
        .authors = { "A. Vendor", "B. Vendor" }, .licenses = { "Nonstandard" }, .date = "2026-11-28",
        .sha256 = std::string(64, 'b') };
    REQUIRE(store->put_gem_metadata(gem));
    auto after = store->releases_generation();
    REQUIRE(after);
    CHECK(*after > *before);

    auto read = store->find_gem_metadata("rel_1");
    REQUIRE(read);
    CHECK(read->platform == "x86_64-linux");
    REQUIRE(read->dependencies.size() == 2);
    CHECK(read->dependencies[0].name == "acme-base");
    CHECK(read->dependencies[0].requirements == std::vector<std::string> { "~> 1.0", ">= 1.0.2" });
    CHECK(read->dependencies[1].requirements.empty());
    CHECK(read->required_ruby_version == std::vector<std::string> { ">= 2.7" });
    CHECK(read->required_rubygems_version.empty());
    CHECK(read->authors == std::vector<std::string> { "A. Vendor", "B. Vendor" });

    // Replacing keeps one row and one set of dependencies.
    gem.dependencies.pop_back();
    REQUIRE(store->put_gem_metadata(gem));
    auto listed = store->list_gem_releases("acme-pro");
    REQUIRE(listed);
    REQUIRE(listed->size() == 1);
    CHECK(listed->at(0).release.filename == "acme-pro-1.2.0-x86_64-linux.gem");
    CHECK(listed->at(0).gem.dependencies.size() == 1);

    // Yanking the release moves the generation too, so the indexes drop it.
    auto generation = store->releases_generation().value();
    REQUIRE(store->yank_release("rel_1", 200, cli));
    CHECK(store->releases_generation().value() > generation);
}

TEST_CASE("gem metadata needs an existing release")
{
    TempDir dir;
    auto store = open_test_store(fs::path(dir.path()) / "charter.db", OpenMode::create);
    REQUIRE(store);
    auto put = store->put_gem_metadata({ .release_id = "rel_missing", .name = "x", .version = "1" });
    REQUIRE_FALSE(put);
    CHECK(put.error().kind == ErrorKind::not_found);
}

// SQLite only: create_database_at_version makes an SQLite file at an old schema version.
TEST_CASE("a version-2 database gains the gems tables when opened", "[sqlite]")
{
    TempDir dir;
    auto path = fs::path(dir.path()) / "charter.db";
    REQUIRE(create_database_at_version(path, 2));
    auto store = Store::open(path, OpenMode::existing);
    REQUIRE(store);
    CHECK(store->schema_version().value() == latest_schema_version());
    CHECK(store->list_gem_releases(std::nullopt).value().empty());
    CHECK(store->releases_generation().value() == 0);
}
