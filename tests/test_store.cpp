// The store (db/): real SQLite files in a fresh temporary folder per test or, run with
// CHARTER_TEST_DATABASE=postgres (ctest's test_store_postgres), a fresh database per test in
// one PostgreSQL cluster (tests/support/postgres.hpp). Cases tagged [sqlite] are about the file
// itself and run on SQLite only; [postgres] cases only on PostgreSQL.

#include "support/postgres.hpp"
#include "support/process.hpp"
#include "charter/db/change_feed.hpp"
#include "charter/db/store.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace charter;
using namespace charter::db;
using charter::testing::contains;
using charter::testing::PostgresCluster;
using charter::testing::TempDir;
using charter::testing::test_database;
using charter::testing::testing_postgres;
namespace fs = std::filesystem;

namespace {

Actor const cli { "cli" };
constexpr int64_t t0 = 1'800'000'000; // 2027-01-15

// The test's database (an SQLite file at `path`, or the PostgreSQL database made for it).
Result<Store> open_store(fs::path const& path, OpenMode mode) { return charter::testing::open_test_store(path, mode); }

Store open_new(fs::path const& path)
{
    auto store = open_store(path, OpenMode::create);
    if (!store)
        FAIL("open: " << store.error().message);
    return std::move(store).value();
}

std::string const kid = "k4.pid.test-key-1";

// A signing key, two products and two customers: what a license refers to.
void seed(Store& store)
{
    REQUIRE(store.add_signing_key({ .kid = kid, .public_paserk = "k4.public.one", .status = "active", .current = true, .created_at = t0 }, cli));
    REQUIRE(store.add_product({ .id = "acme-pro", .name = "Acme Pro", .keep_access_after_expiry = false, .created_at = t0 }, cli));
    REQUIRE(store.add_product({ .id = "acme-ent", .name = "Acme Enterprise", .keep_access_after_expiry = true, .created_at = t0 }, cli));
    REQUIRE(store.add_customer({ .id = "cus_alice", .email = "alice@example.com", .name = "Alice", .created_at = t0 }, cli));
    REQUIRE(store.add_customer({ .id = "cus_bob", .email = "bob@example.com", .name = "Bob", .created_at = t0 }, cli));
}

License make_license(std::string id, int64_t issued_at, std::string product = "acme-pro", std::string customer = "cus_alice")
{
    License license;
    license.id = std::move(id);
    license.customer_id = std::move(customer);
    license.product_id = std::move(product);
    license.token = "v4.public.token-of-" + license.id;
    license.claims_json = R"({"jti":")" + license.id + R"("})";
    license.kid = kid;
    license.issued_at = issued_at;
    return license;
}

int64_t audit_count(Store& store)
{
    auto entries = store.list_audit({});
    REQUIRE(entries);
    return static_cast<int64_t>(entries->size());
}

int64_t license_count(Store& store)
{
    auto count = store.count_licenses({});
    REQUIRE(count);
    return *count;
}

// Runs SQL through a second, raw connection: what another process (or an older charter)
// does. Returns SQLite's error message, empty on success.
std::string try_raw_exec(fs::path const& path, std::string const& sql)
{
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    char* message = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    std::string text = rc == SQLITE_OK ? "" : message ? message : "failed";
    sqlite3_free(message);
    sqlite3_close(db);
    return text;
}

void raw_exec(fs::path const& path, std::string const& sql)
{
    auto failure = try_raw_exec(path, sql);
    INFO(failure);
    REQUIRE(failure.empty());
}

}

TEST_CASE("open creates a database, and refuses a missing one in existing mode", "[sqlite]")
{
    TempDir dir;
    fs::path path = dir / "charter.db";

    auto missing = Store::open(path, OpenMode::existing);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::not_found);
    CHECK(missing.error().message == "no database at " + path.string() + "; run `charter init` first");
    CHECK_FALSE(fs::exists(path));

    {
        auto store = open_new(path);
        CHECK(fs::exists(path));
        auto version = store.schema_version();
        REQUIRE(version);
        CHECK(*version == latest_schema_version());
        REQUIRE(store.add_product({ .id = "acme-pro", .name = "Acme Pro", .created_at = t0 }, cli));
    }
    // WAL mode is a property of the file, so another connection sees it.
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &statement, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<char const*>(sqlite3_column_text(statement, 0))) == "wal");
    sqlite3_finalize(statement);
    sqlite3_close(raw);

    auto reopened = Store::open(path, OpenMode::existing);
    REQUIRE(reopened);
    auto product = reopened->get_product("acme-pro");
    REQUIRE(product);
    CHECK(product->name == "Acme Pro");
    CHECK(reopened->integrity_check().value() == "ok");
}

TEST_CASE("open in a folder that does not exist names the folder", "[sqlite]")
{
    TempDir dir;
    auto path = fs::path(dir.path()) / "nope" / "charter.db";
    auto store = Store::open(path, OpenMode::create);
    REQUIRE_FALSE(store);
    CHECK(store.error().kind == ErrorKind::io);
    CHECK(contains(store.error().message, path.string()));
    CHECK(contains(store.error().message, "does not exist"));
}

TEST_CASE("open refuses files that are not charter databases", "[sqlite]")
{
    TempDir dir;
    SECTION("not sqlite at all")
    {
        fs::path path = dir / "notes.txt";
        std::FILE* file = std::fopen(path.c_str(), "w");
        std::fputs("these are not the pages you are looking for, not at all, not even a header\n", file);
        std::fclose(file);
        auto store = open_store(path, OpenMode::existing);
        REQUIRE_FALSE(store);
        CHECK(store.error().kind == ErrorKind::io);
        CHECK(contains(store.error().message, "not a charter database"));
    }
    SECTION("another program's sqlite database")
    {
        fs::path path = dir / "other.db";
        raw_exec(path, "CREATE TABLE recipes (name TEXT)");
        auto store = open_store(path, OpenMode::existing);
        REQUIRE_FALSE(store);
        CHECK(store.error().message == path.string() + " is an SQLite database but not a charter database");
    }
}

TEST_CASE("an older database is upgraded in place, keeping its rows", "[sqlite]")
{
    TempDir dir;
    fs::path path = dir / "charter.db";
    REQUIRE(create_database_at_version(path, 1));
    // Rows written by a version-1 charter; version 1 has no downloads table.
    raw_exec(path, "INSERT INTO products (id, name, created_at) VALUES ('acme-pro', 'Acme Pro', 1);"
                   "INSERT INTO audit (at, actor, action, subject) VALUES (1, 'cli', 'product.add', 'acme-pro');");
    CHECK(try_raw_exec(path, "SELECT count(*) FROM downloads") == "no such table: downloads");

    auto store = open_store(path, OpenMode::existing);
    REQUIRE(store);
    CHECK(store->schema_version().value() == latest_schema_version());
    CHECK(store->get_product("acme-pro").value().name == "Acme Pro");
    CHECK(audit_count(*store) == 1);
    auto download = store->record_download({ .at = t0, .license_id = "lic_x", .release_id = std::nullopt, .bytes = 0,
        .remote_address = "192.0.2.1", .outcome = "denied" });
    REQUIRE(download);
    auto downloads = store->list_downloads({});
    REQUIRE(downloads);
    REQUIRE(downloads->size() == 1);
    CHECK(downloads->front().download.outcome == "denied");
    CHECK(downloads->front().download.license_id == "lic_x");
    CHECK_FALSE(downloads->front().download.release_id);
    CHECK_FALSE(downloads->front().release);
    CHECK(store->integrity_check().value() == "ok");
}

TEST_CASE("a database from a newer charter is refused and left alone", "[sqlite]")
{
    TempDir dir;
    fs::path path = dir / "charter.db";
    { auto store = open_new(path); }
    int const newer = latest_schema_version() + 1;
    raw_exec(path, "PRAGMA user_version = " + std::to_string(newer));

    for (auto mode : { OpenMode::existing, OpenMode::create }) {
        auto store = Store::open(path, mode);
        REQUIRE_FALSE(store);
        CHECK(store.error().kind == ErrorKind::version);
        CHECK(store.error().message
            == "database " + path.string() + " has schema version " + std::to_string(newer) + ", newer than this charter ("
                + std::to_string(latest_schema_version()) + "); upgrade charter");
    }
}

TEST_CASE("every change writes exactly one audit row, with its action and subject")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    Actor const token_actor { "token:tok_webhook" };

    auto expect_one_row = [&](std::string const& action, std::string const& subject, auto&& change) {
        auto before = store.list_audit({});
        REQUIRE(before);
        std::optional<int64_t> last;
        if (!before->empty())
            last = before->back().id;
        auto result = change();
        INFO(action << " " << subject << ": " << (result ? "" : result.error().message));
        REQUIRE(result);
        auto after = store.list_audit({ .after_id = last });
        REQUIRE(after);
        REQUIRE(after->size() == 1);
        CHECK(after->front().action == action);
        CHECK(after->front().subject == subject);
        CHECK(after->front().actor == token_actor.name);
        CHECK(after->front().details_json.front() == '{');
        return after->front();
    };

    expect_one_row("key.add", kid, [&] {
        return store.add_signing_key({ .kid = kid, .public_paserk = "k4.public.one", .current = true, .created_at = t0 }, token_actor);
    });
    expect_one_row("key.add", "k4.pid.two", [&] {
        return store.add_signing_key({ .kid = "k4.pid.two", .public_paserk = "k4.public.two", .created_at = t0 + 1 }, token_actor);
    });
    auto rotation = expect_one_row("key.rotate", "k4.pid.two", [&] { return store.set_current_key("k4.pid.two", t0 + 2, token_actor); });
    CHECK(contains(rotation.details_json, kid));
    CHECK(rotation.at == t0 + 2);
    expect_one_row("key.retire", kid, [&] { return store.retire_key(kid, t0 + 3, token_actor); });
    expect_one_row("product.add", "acme-pro", [&] {
        return store.add_product({ .id = "acme-pro", .name = "Acme \"Pro\"", .created_at = t0 }, token_actor);
    });
    expect_one_row("customer.add", "cus_alice", [&] {
        return store.add_customer({ .id = "cus_alice", .email = "alice@example.com", .name = "Alice", .created_at = t0 }, token_actor);
    });
    auto license = make_license("lic_1", t0 + 10);
    license.kid = "k4.pid.two";
    license.expires_at = t0 + 1000;
    auto issue = expect_one_row("license.issue", "lic_1", [&] { return store.insert_license(license, token_actor); });
    CHECK(issue.details_json == R"({"product":"acme-pro","customer":"cus_alice","expires_at":1800001000})");
    auto revoke = expect_one_row("license.revoke", "lic_1", [&] {
        return store.revoke_license("lic_1", std::string("refund \"requested\""), t0 + 20, token_actor);
    });
    CHECK(revoke.details_json == R"({"reason":"refund \"requested\""})");
    expect_one_row("token.create", "tok_1", [&] {
        return store.insert_admin_token({ .id = "tok_1", .name = "webhook", .hash = "ab12", .scopes = { "issue" }, .created_at = t0 }, token_actor);
    });
    expect_one_row("token.revoke", "tok_1", [&] { return store.revoke_admin_token("tok_1", t0 + 30, token_actor); });
    Release release { .id = "rel_1", .product_id = "acme-pro", .version = "1.0.0", .filename = "acme-pro-1.0.0.gem",
        .size = 10, .sha256 = "aa", .released_at = t0, .yanked = false, .created_at = t0 };
    expect_one_row("release.add", "rel_1", [&] { return store.add_release(release, OnDuplicateRelease::refuse, token_actor); });
    release.id = "rel_2";
    release.sha256 = "bb";
    expect_one_row("release.replace", "rel_1", [&] { return store.add_release(release, OnDuplicateRelease::replace, token_actor); });
    expect_one_row("release.yank", "rel_1", [&] { return store.yank_release("rel_1", t0 + 40, token_actor); });
    expect_one_row("setting.set", "issuer", [&] { return store.set_setting("issuer", "Acme Inc.", t0, token_actor); });
    Plan plan { .id = "pro-yearly", .product_id = "acme-pro", .duration = "1y", .created_at = t0, .updated_at = t0 };
    expect_one_row("plan.add", "pro-yearly", [&] { return store.add_plan(plan, token_actor); });
    plan.seats = 5;
    expect_one_row("plan.update", "pro-yearly", [&] { return store.update_plan(plan, token_actor); });
    auto second = make_license("lic_2", t0 + 60);
    second.kid = "k4.pid.two";
    REQUIRE(store.insert_license(second, cli));
    second.version = 2;
    second.token = "v4.public.second-version";
    auto renewal = expect_one_row("license.renew", "lic_2", [&] {
        return store.add_license_version(second, { .action = "license.renew", .reason = "renew",
            .details_json = R"({"basis":"from-expiry"})", .at = t0 + 61 }, token_actor);
    });
    CHECK(renewal.details_json == R"({"basis":"from-expiry"})");
    expect_one_row("license.suspend", "lic_2", [&] { return store.suspend_license("lic_2", "card declined", t0 + 62, token_actor); });
    expect_one_row("license.reinstate", "lic_2", [&] { return store.reinstate_license("lic_2", t0 + 63, token_actor); });
    expect_one_row("credential.create", "cred_1", [&] {
        return store.insert_credential({ .id = "cred_1", .license_id = "lic_2", .name = "ci", .hash = "ef56", .created_at = t0 }, token_actor);
    });
    expect_one_row("credential.revoke", "cred_1", [&] { return store.revoke_credential("cred_1", t0 + 64, token_actor); });

    // Not audited: they are logs or bookkeeping of their own.
    auto before = audit_count(store);
    REQUIRE(store.insert_admin_token({ .id = "tok_2", .name = "ci", .hash = "cd34", .scopes = { "read" }, .created_at = t0 }, cli));
    REQUIRE(store.touch_admin_token("tok_2", t0 + 50));
    REQUIRE(store.touch_credential("cred_1", t0 + 50, "192.0.2.7"));
    REQUIRE(store.record_download({ .at = t0, .license_id = "lic_1", .release_id = "rel_1", .bytes = 10,
        .remote_address = "192.0.2.1", .outcome = "ok" }));
    CHECK(audit_count(store) == before + 1);
}

TEST_CASE("when the audit row cannot be written, the change is rolled back", "[sqlite]")
{
    TempDir dir;
    fs::path path = dir / "charter.db";
    auto store = open_new(path);
    seed(store);
    auto const audit_before = audit_count(store);
    raw_exec(path, "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit log refused'); END;");

    auto issued = store.insert_license(make_license("lic_1", t0), cli);
    REQUIRE_FALSE(issued);
    CHECK(contains(issued.error().message, "audit row for license.issue lic_1"));
    CHECK(contains(issued.error().message, "audit log refused"));
    CHECK(store.get_license("lic_1").error().kind == ErrorKind::not_found);

    auto revoked = store.revoke_license("lic_1", std::nullopt, t0, cli);
    CHECK_FALSE(revoked);
    CHECK_FALSE(store.add_product({ .id = "acme-lite", .name = "Lite", .created_at = t0 }, cli));
    CHECK(store.get_product("acme-lite").error().kind == ErrorKind::not_found);
    CHECK_FALSE(store.set_current_key(kid, t0, cli)); // already current: refused before any write
    CHECK_FALSE(store.set_setting("issuer", "Acme", t0, cli));
    CHECK_FALSE(store.get_setting("issuer").value());

    SECTION("inside a batch, the failed license leaves the rest of the batch untouched")
    {
        raw_exec(path, "DROP TRIGGER refuse_audit;"
                       "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit WHEN NEW.subject = 'lic_2'"
                       " BEGIN SELECT RAISE(ABORT, 'audit log refused'); END;");
        auto batch = store.transaction([&]() -> Result<void> {
            REQUIRE(store.insert_license(make_license("lic_1", t0), cli));
            CHECK_FALSE(store.insert_license(make_license("lic_2", t0), cli));
            REQUIRE(store.insert_license(make_license("lic_3", t0), cli));
            return {};
        });
        REQUIRE(batch);
        CHECK(store.get_license("lic_1"));
        CHECK_FALSE(store.get_license("lic_2"));
        CHECK(store.get_license("lic_3"));
        CHECK(audit_count(store) == audit_before + 2);
        return;
    }
    SECTION("when the failed license cannot be removed again, the whole batch is rolled back")
    {
        raw_exec(path, "DROP TRIGGER refuse_audit;"
                       "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit WHEN NEW.subject = 'lic_2'"
                       " BEGIN SELECT RAISE(ABORT, 'audit log refused'); END;"
                       "CREATE TRIGGER refuse_delete BEFORE DELETE ON licenses BEGIN SELECT RAISE(ABORT, 'no deleting'); END;");
        bool later_call_refused = false;
        auto batch = store.transaction([&]() -> Result<void> {
            REQUIRE(store.insert_license(make_license("lic_1", t0), cli));
            CHECK_FALSE(store.insert_license(make_license("lic_2", t0), cli));
            later_call_refused = !store.insert_license(make_license("lic_3", t0), cli);
            return {};
        });
        REQUIRE_FALSE(batch);
        CHECK(batch.error().kind == ErrorKind::io);
        CHECK(contains(batch.error().message, "could not be undone"));
        CHECK(later_call_refused);
        CHECK(license_count(store) == 0);
        CHECK(audit_count(store) == audit_before);
        return;
    }
    raw_exec(path, "DROP TRIGGER refuse_audit");
    CHECK(audit_count(store) == audit_before);
    REQUIRE(store.insert_license(make_license("lic_1", t0), cli));
    CHECK(audit_count(store) == audit_before + 1);
}

TEST_CASE("duplicates are conflicts")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    auto const audit_before = audit_count(store);

    auto product = store.add_product({ .id = "acme-pro", .name = "Again", .created_at = t0 }, cli);
    REQUIRE_FALSE(product);
    CHECK(product.error().kind == ErrorKind::conflict);
    CHECK(product.error().message == "product acme-pro already exists");

    auto email = store.add_customer({ .id = "cus_alice2", .email = "ALICE@Example.com", .name = "A", .created_at = t0 }, cli);
    REQUIRE_FALSE(email);
    CHECK(email.error().kind == ErrorKind::conflict);
    CHECK(email.error().message == "a customer with email ALICE@Example.com already exists (cus_alice)");

    auto customer_id = store.add_customer({ .id = "cus_alice", .email = "other@example.com", .created_at = t0 }, cli);
    REQUIRE_FALSE(customer_id);
    CHECK(customer_id.error().kind == ErrorKind::conflict);

    auto key = store.add_signing_key({ .kid = kid, .public_paserk = "k4.public.one", .created_at = t0 }, cli);
    REQUIRE_FALSE(key);
    CHECK(key.error().kind == ErrorKind::conflict);

    auto first = make_license("lic_1", t0);
    first.idempotency = IdempotencyRecord { .token_id = "tok_a", .key = "order-42", .fingerprint = "b2:aaaa", .created_at = t0 };
    REQUIRE(store.insert_license(first, cli));
    auto same_id = store.insert_license(make_license("lic_1", t0), cli);
    REQUIRE_FALSE(same_id);
    CHECK(same_id.error().kind == ErrorKind::conflict);
    CHECK(same_id.error().message == "license lic_1 already exists");
    auto retried = make_license("lic_2", t0);
    retried.idempotency = IdempotencyRecord { .token_id = "tok_a", .key = "order-42", .fingerprint = "b2:bbbb", .created_at = t0 };
    auto same_key = store.insert_license(retried, cli);
    REQUIRE_FALSE(same_key);
    CHECK(same_key.error().kind == ErrorKind::conflict);
    CHECK(same_key.error().message == "idempotency key order-42 was already used by admin token tok_a");
    CHECK_FALSE(store.get_license("lic_2"));

    auto found = store.find_idempotency_key("tok_a", "order-42");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->resource == "lic_1");
    CHECK((*found)->fingerprint == "b2:aaaa");
    CHECK_FALSE(store.find_idempotency_key("tok_a", "order-43").value());
    // Keys are scoped to their token: another token's "order-42" is another key.
    CHECK_FALSE(store.find_idempotency_key("tok_b", "order-42").value());
    auto other_token = make_license("lic_3", t0);
    other_token.idempotency = IdempotencyRecord { .token_id = "tok_b", .key = "order-42", .fingerprint = "b2:aaaa", .created_at = t0 };
    REQUIRE(store.insert_license(other_token, cli));
    CHECK(store.find_idempotency_key("tok_b", "order-42").value()->resource == "lic_3");
    // Inside a batch's transaction (no savepoint), a used key undoes its license row.
    auto in_batch = make_license("lic_4", t0);
    in_batch.idempotency = IdempotencyRecord { .token_id = "tok_b", .key = "order-42", .fingerprint = "b2:cccc", .created_at = t0 };
    REQUIRE(store.transaction([&]() -> Result<void> {
        CHECK_FALSE(store.insert_license(in_batch, cli));
        return {};
    }));
    CHECK_FALSE(store.get_license("lic_4"));
    CHECK(store.find_idempotency_key("tok_b", "order-42").value()->resource == "lic_3");

    REQUIRE(store.insert_admin_token({ .id = "tok_1", .name = "a", .hash = "ff", .scopes = {}, .created_at = t0 }, cli));
    auto token = store.insert_admin_token({ .id = "tok_2", .name = "b", .hash = "ff", .scopes = {}, .created_at = t0 }, cli);
    REQUIRE_FALSE(token);
    CHECK(token.error().kind == ErrorKind::conflict);

    Release release { .id = "rel_1", .product_id = "acme-pro", .version = "1.0.0", .filename = "acme-pro-1.0.0.gem",
        .size = 10, .sha256 = "aa", .released_at = t0, .yanked = false, .created_at = t0 };
    REQUIRE(store.add_release(release, OnDuplicateRelease::refuse, cli));
    release.id = "rel_2";
    release.sha256 = "bb";
    auto again = store.add_release(release, OnDuplicateRelease::refuse, cli);
    REQUIRE_FALSE(again);
    CHECK(again.error().kind == ErrorKind::conflict);
    CHECK(contains(again.error().message, "release acme-pro 1.0.0 (acme-pro-1.0.0.gem) already exists"));
    CHECK(store.find_release("rel_1").value().sha256 == "aa");

    // Only the four successful inserts were audited.
    CHECK(audit_count(store) == audit_before + 4);

    REQUIRE(store.yank_release("rel_1", t0, cli));
    REQUIRE(store.add_release(release, OnDuplicateRelease::replace, cli));
    auto replaced = store.find_release("acme-pro", "1.0.0", "acme-pro-1.0.0.gem");
    REQUIRE(replaced);
    CHECK(replaced->id == "rel_1");
    CHECK(replaced->sha256 == "bb");
    CHECK_FALSE(replaced->yanked);
    CHECK(store.list_releases(std::string("acme-pro")).value().size() == 1);
}

TEST_CASE("unknown ids are not_found, with messages that name them")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);

    auto license = store.get_license("lic_nope");
    REQUIRE_FALSE(license);
    CHECK(license.error().kind == ErrorKind::not_found);
    CHECK(license.error().message == "no license lic_nope");

    auto revoke = store.revoke_license("lic_nope", std::nullopt, t0, cli);
    REQUIRE_FALSE(revoke);
    CHECK(revoke.error().kind == ErrorKind::not_found);
    CHECK(revoke.error().message == "no license lic_nope");

    auto customer = store.find_customer("carol@example.com");
    REQUIRE_FALSE(customer);
    CHECK(customer.error().kind == ErrorKind::not_found);
    CHECK(contains(customer.error().message, "no customer carol@example.com"));
    CHECK(store.find_customer("BOB@example.COM").value().id == "cus_bob");
    CHECK(store.find_customer("cus_bob").value().email == "bob@example.com");

    auto product = store.get_product("acme-lite");
    REQUIRE_FALSE(product);
    CHECK(contains(product.error().message, "no product acme-lite"));

    auto unknown_product = store.insert_license(make_license("lic_1", t0, "acme-lite"), cli);
    REQUIRE_FALSE(unknown_product);
    CHECK(unknown_product.error().kind == ErrorKind::not_found);
    CHECK(contains(unknown_product.error().message, "no product acme-lite"));
    auto unknown_customer = store.insert_license(make_license("lic_1", t0, "acme-pro", "cus_carol"), cli);
    REQUIRE_FALSE(unknown_customer);
    CHECK(contains(unknown_customer.error().message, "no customer cus_carol"));
    auto unknown_key = make_license("lic_1", t0);
    unknown_key.kid = "k4.pid.unknown";
    auto unknown_kid = store.insert_license(unknown_key, cli);
    REQUIRE_FALSE(unknown_kid);
    CHECK(unknown_kid.error().message == "no signing key k4.pid.unknown");
    CHECK(license_count(store) == 0);

    CHECK(store.find_signing_key("k4.pid.unknown").error().kind == ErrorKind::not_found);
    CHECK(store.revoke_admin_token("tok_nope", t0, cli).error().message == "no admin token tok_nope");
    CHECK(store.touch_admin_token("tok_nope", t0).error().kind == ErrorKind::not_found);
    CHECK(store.yank_release("rel_nope", t0, cli).error().message == "no release rel_nope");
    CHECK_FALSE(store.find_admin_token_by_hash("00").value());
}

TEST_CASE("revoking")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    for (auto id : { "lic_c", "lic_a", "lic_b", "lic_d" })
        REQUIRE(store.insert_license(make_license(id, t0), cli));
    REQUIRE(store.insert_license(make_license("lic_e", t0, "acme-ent"), cli));

    REQUIRE(store.revoke_license("lic_c", std::string("chargeback"), t0 + 5, cli));
    REQUIRE(store.revoke_license("lic_a", std::nullopt, t0 + 6, cli));
    REQUIRE(store.revoke_license("lic_e", std::nullopt, t0 + 6, cli));

    auto revoked = store.get_license("lic_c");
    REQUIRE(revoked);
    CHECK(revoked->status == "revoked");
    CHECK(revoked->revoked_at == t0 + 5);
    CHECK(revoked->revoke_reason == "chargeback");

    auto twice = store.revoke_license("lic_c", std::nullopt, t0 + 7, cli);
    REQUIRE_FALSE(twice);
    CHECK(twice.error().kind == ErrorKind::conflict);
    CHECK(twice.error().message == "license lic_c is already revoked");
    CHECK(store.get_license("lic_c").value().revoked_at == t0 + 5);

    CHECK(store.license_status("lic_c").value() == "revoked");
    CHECK(store.license_status("lic_b").value() == "active");
    CHECK(store.license_status("lic_nope").error().kind == ErrorKind::not_found);

    CHECK(store.revoked_license_ids("acme-pro").value() == std::vector<std::string> { "lic_a", "lic_c" });
    CHECK(store.revoked_license_ids("acme-ent").value() == std::vector<std::string> { "lic_e" });
    CHECK(store.revoked_license_ids("acme-lite").value().empty());
}

TEST_CASE("signing keys: one current key, rotation, retirement")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    CHECK(store.current_signing_key().error().kind == ErrorKind::not_found);
    REQUIRE(store.add_signing_key({ .kid = "k4.pid.a", .public_paserk = "k4.public.a", .current = true, .created_at = t0 }, cli));
    REQUIRE(store.add_signing_key({ .kid = "k4.pid.b", .public_paserk = "k4.public.b", .current = true, .created_at = t0 + 1 }, cli));
    CHECK(store.current_signing_key().value().kid == "k4.pid.b");
    CHECK_FALSE(store.find_signing_key("k4.pid.a").value().current);

    REQUIRE(store.set_current_key("k4.pid.a", t0 + 2, cli));
    auto keys = store.list_signing_keys();
    REQUIRE(keys);
    REQUIRE(keys->size() == 2);
    CHECK(std::count_if(keys->begin(), keys->end(), [](auto const& key) { return key.current; }) == 1);
    CHECK(store.current_signing_key().value().kid == "k4.pid.a");

    auto current = store.retire_key("k4.pid.a", t0 + 3, cli);
    REQUIRE_FALSE(current);
    CHECK(current.error().kind == ErrorKind::conflict);
    CHECK(contains(current.error().message, "k4.pid.a is the current signing key; rotate"));

    REQUIRE(store.retire_key("k4.pid.b", t0 + 3, cli));
    auto retired = store.find_signing_key("k4.pid.b");
    REQUIRE(retired);
    CHECK(retired->status == "retired");
    CHECK(retired->retired_at == t0 + 3);
    CHECK_FALSE(retired->current);
    CHECK(store.retire_key("k4.pid.b", t0 + 4, cli).error().message == "signing key k4.pid.b is already retired");
    auto revived = store.set_current_key("k4.pid.b", t0 + 4, cli);
    REQUIRE_FALSE(revived);
    CHECK(revived.error().kind == ErrorKind::conflict);
    CHECK(store.current_signing_key().value().kid == "k4.pid.a");
}

TEST_CASE("listing licenses: filters and cursor pagination")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    int64_t const now = t0 + 1000;
    // 30 licenses over two products and two customers, several issued in the same second and
    // with ids out of issue order; every fifth revoked, every seventh expired.
    std::set<std::string> expected_expired, expected_revoked;
    std::vector<std::string> issued_ids;
    for (int i = 0; i < 30; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "lic_%02d", (i * 7) % 30); // ids not in issue order
        auto license = make_license(id, t0 + i / 3, i % 2 ? "acme-ent" : "acme-pro", i % 3 ? "cus_alice" : "cus_bob");
        if (i % 7 == 0)
            license.expires_at = now - 1;
        else if (i % 4 == 0)
            license.expires_at = now + 1;
        REQUIRE(store.insert_license(license, cli));
        issued_ids.push_back(id);
        if (i % 5 == 0)
            REQUIRE(store.revoke_license(id, std::nullopt, t0, cli));
        if (i % 5 == 0)
            expected_revoked.insert(id);
        else if (i % 7 == 0)
            expected_expired.insert(id);
    }

    auto all = store.list_licenses({});
    REQUIRE(all);
    REQUIRE(all->size() == 30);
    for (int i = 0; i < 30; ++i) // issue order, not id order
        CHECK((*all)[static_cast<size_t>(i)].id == issued_ids[static_cast<size_t>(i)]);

    auto ids = [](std::vector<License> const& licenses) {
        std::set<std::string> out;
        for (auto const& license : licenses)
            out.insert(license.id);
        return out;
    };
    CHECK(ids(store.list_licenses({ .state = LicenseState::revoked, .now = now }).value()) == expected_revoked);
    CHECK(ids(store.list_licenses({ .state = LicenseState::expired, .now = now }).value()) == expected_expired);
    auto active = store.list_licenses({ .state = LicenseState::active, .now = now }).value();
    CHECK(active.size() == 30 - expected_revoked.size() - expected_expired.size());
    for (auto const& license : active) {
        CHECK(license.status == "active");
        CHECK((!license.expires_at || *license.expires_at >= now));
    }
    auto pro_bob = store.list_licenses({ .product_id = "acme-pro", .customer_id = "cus_bob" }).value();
    CHECK(pro_bob.size() == 5); // i ≡ 0 (mod 6)
    for (auto const& license : pro_bob)
        CHECK((license.product_id == "acme-pro" && license.customer_id == "cus_bob"));
    CHECK(store.count_licenses({ .product_id = "acme-pro", .customer_id = "cus_bob" }).value() == 5);
    CHECK(store.count_licenses({ .state = LicenseState::expired, .now = now }).value()
        == static_cast<int64_t>(expected_expired.size()));

    // Page through everything, 7 at a time: the pages join up to the full list, in order.
    std::vector<License> paged;
    std::optional<std::string> cursor;
    int pages = 0;
    for (;;) {
        auto page = store.list_licenses({ .after_id = cursor, .limit = 7 });
        REQUIRE(page);
        if (page->empty())
            break;
        ++pages;
        paged.insert(paged.end(), page->begin(), page->end());
        cursor = page->back().id;
    }
    CHECK(pages == 5);
    REQUIRE(paged.size() == all->size());
    for (size_t i = 0; i < paged.size(); ++i)
        CHECK(paged[i].id == (*all)[i].id);

    // The cursor is a position in the full sequence, so it works with filters too: the next
    // three acme-ent licenses after the 11th license overall are those issued 12th, 14th, 16th.
    auto filtered_page = store.list_licenses({ .product_id = "acme-ent", .after_id = issued_ids[10], .limit = 3 });
    REQUIRE(filtered_page);
    REQUIRE(filtered_page->size() == 3);
    CHECK(filtered_page->at(0).id == issued_ids[11]);
    CHECK(filtered_page->at(1).id == issued_ids[13]);
    CHECK(filtered_page->at(2).id == issued_ids[15]);

    auto bad_cursor = store.list_licenses({ .after_id = "lic_nope" });
    REQUIRE_FALSE(bad_cursor);
    CHECK(bad_cursor.error().kind == ErrorKind::invalid_input);
}

TEST_CASE("a read snapshot sees one state of the database, whatever other connections commit meanwhile")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    REQUIRE(store.insert_license(make_license("lic_1", t0), cli));
    auto other = open_store(dir / "charter.db", OpenMode::existing);
    REQUIRE(other);

    std::string inside_before, inside_after;
    auto read = store.read_snapshot([&]() -> Result<void> {
        inside_before = store.license_status("lic_1").value();
        // Another connection (the CLI, in production) revokes the license in between.
        REQUIRE(other->revoke_license("lic_1", std::nullopt, t0 + 1, cli));
        inside_after = store.license_status("lic_1").value();
        return {};
    });
    REQUIRE(read);
    CHECK(inside_before == "active");
    CHECK(inside_after == "active");
    // Once the snapshot ends, the change shows, and the store is usable for writes again.
    CHECK(store.license_status("lic_1").value() == "revoked");
    REQUIRE(store.insert_license(make_license("lic_2", t0), cli));

    // The body's error is returned; inside a transaction the body runs in it.
    auto failed = store.read_snapshot([]() -> Result<void> { return make_error(ErrorKind::not_found, "no such thing"); });
    REQUIRE_FALSE(failed);
    CHECK(failed.error().message == "no such thing");
    auto nested = store.transaction([&]() -> Result<void> {
        REQUIRE(store.insert_license(make_license("lic_3", t0), cli));
        return store.read_snapshot([&]() -> Result<void> {
            CHECK(store.license_status("lic_3").value() == "active");
            return {};
        });
    });
    REQUIRE(nested);
    CHECK(store.license_status("lic_3").value() == "active");
}

TEST_CASE("nested transactions")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    auto const audit_before = audit_count(store);

    SECTION("an outer rollback undoes the inner work")
    {
        auto outer = store.transaction([&]() -> Result<void> {
            REQUIRE(store.insert_license(make_license("lic_1", t0), cli));
            auto inner = store.transaction([&]() -> Result<void> { return store.insert_license(make_license("lic_2", t0), cli); });
            REQUIRE(inner);
            return make_error(ErrorKind::invalid_input, "row 3: bad date");
        });
        REQUIRE_FALSE(outer);
        CHECK(outer.error().message == "row 3: bad date");
        CHECK(license_count(store) == 0);
        CHECK(audit_count(store) == audit_before);
    }
    SECTION("an inner rollback undoes only the inner work")
    {
        auto outer = store.transaction([&]() -> Result<void> {
            REQUIRE(store.insert_license(make_license("lic_1", t0), cli));
            auto inner = store.transaction([&]() -> Result<void> {
                REQUIRE(store.insert_license(make_license("lic_2", t0), cli));
                return make_error(ErrorKind::invalid_input, "changed my mind");
            });
            CHECK_FALSE(inner);
            return store.insert_license(make_license("lic_3", t0), cli);
        });
        REQUIRE(outer);
        CHECK(store.get_license("lic_1"));
        CHECK_FALSE(store.get_license("lic_2"));
        CHECK(store.get_license("lic_3"));
        CHECK(audit_count(store) == audit_before + 2);
    }
    SECTION("a transaction is usable again after a failed one")
    {
        CHECK_FALSE(store.transaction([&]() -> Result<void> { return make_error(ErrorKind::internal, "no"); }));
        REQUIRE(store.transaction([&]() -> Result<void> { return store.insert_license(make_license("lic_1", t0), cli); }));
        CHECK(license_count(store) == 1);
    }
}

namespace {

// What a second charter process sees when it tries to issue into the database at `path`:
// "issued", or the error's kind and message.
std::string try_to_issue(fs::path const& path)
{
    auto store = open_store(path, OpenMode::existing);
    if (!store)
        return "open failed: " + std::to_string(static_cast<int>(store.error().kind)) + " " + store.error().message;
    auto issued = store->insert_license(make_license("lic_2", t0), cli);
    if (issued)
        return "issued";
    return std::to_string(static_cast<int>(issued.error().kind)) + " " + issued.error().message;
}

// Root ignores file modes, so as root the attempt is made by a child process that has
// dropped to an unprivileged user; it sends its answer back through a pipe.
std::string try_to_issue_unprivileged(fs::path const& path)
{
    if (geteuid() != 0)
        return try_to_issue(path);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        close(fds[0]);
        uid_t const nobody = 65534;
        if (setgid(nobody) != 0 || setuid(nobody) != 0)
            _exit(2);
        auto answer = try_to_issue(path);
        ssize_t written = write(fds[1], answer.data(), answer.size());
        _exit(written == static_cast<ssize_t>(answer.size()) ? 0 : 3);
    }
    close(fds[1]);
    std::string answer;
    char buffer[512];
    ssize_t got;
    while ((got = read(fds[0], buffer, sizeof buffer)) > 0)
        answer.append(buffer, static_cast<size_t>(got));
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return answer;
}

}

TEST_CASE("a read-only database gives a clear error and is not changed", "[sqlite]")
{
    TempDir dir;
    fs::path path = dir / "charter.db";
    int64_t audit_before = 0;
    {
        auto store = open_new(path);
        seed(store);
        REQUIRE(store.insert_license(make_license("lic_1", t0), cli));
        audit_before = audit_count(store);
    }
    // The folder stays writable (SQLite may create its -shm file there); the file is not.
    REQUIRE(chmod(dir.path().c_str(), 0777) == 0);
    REQUIRE(chmod(path.c_str(), 0444) == 0);

    auto answer = try_to_issue_unprivileged(path);
    INFO(answer);
    CHECK(answer.rfind(std::to_string(static_cast<int>(ErrorKind::io)) + " ", 0) == 0);
    CHECK(contains(answer, "database " + path.string() + " is read-only"));
    CHECK(contains(answer, "nothing was changed"));

    REQUIRE(chmod(path.c_str(), 0644) == 0);
    auto store = open_store(path, OpenMode::existing);
    REQUIRE(store);
    CHECK(license_count(*store) == 1);
    CHECK(audit_count(*store) == audit_before);
}

namespace {

// A VFS that passes everything to the default one but refuses writes beyond a byte budget
// with SQLITE_FULL, which is what SQLite's unix VFS answers when write() fails with ENOSPC.
// Stores opened while it is installed see a disk that fills up on demand.
class FullDisk {
public:
    FullDisk()
    {
        s_real = sqlite3_vfs_find(nullptr);
        s_vfs = *s_real;
        s_vfs.zName = "charter-full-disk";
        s_vfs.szOsFile = static_cast<int>(sizeof(File)) + s_real->szOsFile;
        s_vfs.xOpen = &open;
        s_vfs.pNext = nullptr;
        REQUIRE(sqlite3_vfs_register(&s_vfs, 1) == SQLITE_OK);
        s_budget = -1;
    }
    ~FullDisk()
    {
        sqlite3_vfs_unregister(&s_vfs);
        sqlite3_vfs_register(s_real, 1);
    }
    /// Bytes that may still be written; -1 for no limit.
    void set_budget(int64_t bytes) { s_budget = bytes; }

private:
    struct File {
        sqlite3_file base;
        sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
    };
    static File* cast(sqlite3_file* file) { return reinterpret_cast<File*>(file); }
    static sqlite3_io_methods const* real_methods(sqlite3_file* file) { return cast(file)->real()->pMethods; }

    static int open(sqlite3_vfs*, char const* name, sqlite3_file* file, int flags, int* out_flags)
    {
        auto* ours = cast(file);
        int rc = s_real->xOpen(s_real, name, ours->real(), flags, out_flags);
        if (rc != SQLITE_OK || !ours->real()->pMethods) {
            ours->base.pMethods = nullptr;
            return rc;
        }
        s_methods = io_methods(ours->real()->pMethods->iVersion);
        ours->base.pMethods = &s_methods;
        return rc;
    }

    static sqlite3_io_methods io_methods(int version)
    {
        sqlite3_io_methods methods {};
        methods.iVersion = version;
        methods.xClose = [](sqlite3_file* f) { return real_methods(f)->xClose(cast(f)->real()); };
        methods.xRead = [](sqlite3_file* f, void* data, int amount, sqlite3_int64 offset) {
            return real_methods(f)->xRead(cast(f)->real(), data, amount, offset);
        };
        methods.xWrite = [](sqlite3_file* f, void const* data, int amount, sqlite3_int64 offset) {
            if (s_budget >= 0) {
                if (amount > s_budget)
                    return SQLITE_FULL;
                s_budget -= amount;
            }
            return real_methods(f)->xWrite(cast(f)->real(), data, amount, offset);
        };
        methods.xTruncate = [](sqlite3_file* f, sqlite3_int64 size) { return real_methods(f)->xTruncate(cast(f)->real(), size); };
        methods.xSync = [](sqlite3_file* f, int flags) { return real_methods(f)->xSync(cast(f)->real(), flags); };
        methods.xFileSize = [](sqlite3_file* f, sqlite3_int64* size) { return real_methods(f)->xFileSize(cast(f)->real(), size); };
        methods.xLock = [](sqlite3_file* f, int level) { return real_methods(f)->xLock(cast(f)->real(), level); };
        methods.xUnlock = [](sqlite3_file* f, int level) { return real_methods(f)->xUnlock(cast(f)->real(), level); };
        methods.xCheckReservedLock = [](sqlite3_file* f, int* out) { return real_methods(f)->xCheckReservedLock(cast(f)->real(), out); };
        methods.xFileControl = [](sqlite3_file* f, int op, void* arg) { return real_methods(f)->xFileControl(cast(f)->real(), op, arg); };
        methods.xSectorSize = [](sqlite3_file* f) { return real_methods(f)->xSectorSize(cast(f)->real()); };
        methods.xDeviceCharacteristics = [](sqlite3_file* f) { return real_methods(f)->xDeviceCharacteristics(cast(f)->real()); };
        methods.xShmMap = [](sqlite3_file* f, int page, int size, int extend, void volatile** out) {
            return real_methods(f)->xShmMap(cast(f)->real(), page, size, extend, out);
        };
        methods.xShmLock = [](sqlite3_file* f, int offset, int n, int flags) { return real_methods(f)->xShmLock(cast(f)->real(), offset, n, flags); };
        methods.xShmBarrier = [](sqlite3_file* f) { real_methods(f)->xShmBarrier(cast(f)->real()); };
        methods.xShmUnmap = [](sqlite3_file* f, int delete_flag) { return real_methods(f)->xShmUnmap(cast(f)->real(), delete_flag); };
        methods.xFetch = [](sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
            return real_methods(f)->xFetch(cast(f)->real(), offset, amount, out);
        };
        methods.xUnfetch = [](sqlite3_file* f, sqlite3_int64 offset, void* page) { return real_methods(f)->xUnfetch(cast(f)->real(), offset, page); };
        return methods;
    }

    static inline sqlite3_vfs* s_real = nullptr;
    static inline sqlite3_vfs s_vfs {};
    static inline sqlite3_io_methods s_methods {};
    static inline int64_t s_budget = -1;
};

}

TEST_CASE("a full disk gives a clear error, writes nothing, and the store works again once there is space", "[sqlite]")
{
    TempDir dir;
    FullDisk disk;
    fs::path path = dir / "charter.db";
    auto store = open_new(path);
    seed(store);
    REQUIRE(store.insert_license(make_license("lic_0", t0), cli));
    auto const audit_before = audit_count(store);

    SECTION("a single license")
    {
        disk.set_budget(0);
        auto issued = store.insert_license(make_license("lic_1", t0), cli);
        REQUIRE_FALSE(issued);
        CHECK(issued.error().kind == ErrorKind::disk_full);
        CHECK(issued.error().message == "disk full while writing " + path.string() + "; nothing was changed; free some space and try again");
        disk.set_budget(-1);
        CHECK_FALSE(store.get_license("lic_1"));
    }
    SECTION("a batch whose commit does not fit")
    {
        disk.set_budget(64 * 1024);
        auto batch = store.transaction([&]() -> Result<void> {
            for (int i = 1; i <= 200; ++i) {
                if (auto result = store.insert_license(make_license("lic_" + std::to_string(i), t0), cli); !result)
                    return result;
            }
            return {};
        });
        disk.set_budget(-1);
        REQUIRE_FALSE(batch);
        CHECK(batch.error().kind == ErrorKind::disk_full);
        CHECK(contains(batch.error().message, "disk full while writing " + path.string()));
    }
    SECTION("a batch that fills the disk half-way")
    {
        // Rows large enough for the batch to outgrow the page cache, so SQLite writes pages
        // out before the commit, and the disk fills in the middle of the batch.
        disk.set_budget(256 * 1024);
        int issued = 0;
        bool later_call_refused = false;
        auto batch = store.transaction([&]() -> Result<void> {
            for (int i = 1; i <= 20000; ++i) {
                auto license = make_license("lic_" + std::to_string(i), t0);
                license.claims_json.append(4000, 'x');
                if (auto result = store.insert_license(license, cli); !result) {
                    // The rest of the batch must not go on outside the rolled-back transaction.
                    later_call_refused = !store.insert_license(make_license("lic_more", t0), cli);
                    return result;
                }
                ++issued;
            }
            return {};
        });
        disk.set_budget(-1);
        REQUIRE_FALSE(batch);
        CHECK(batch.error().kind == ErrorKind::disk_full);
        CHECK(contains(batch.error().message, "disk full while writing " + path.string()));
        CHECK(issued > 0);
        CHECK(issued < 20000);
        CHECK(later_call_refused);
        CHECK_FALSE(store.get_license("lic_more"));
    }
    CHECK(license_count(store) == 1);
    CHECK(audit_count(store) == audit_before);
    CHECK(store.integrity_check().value() == "ok");

    REQUIRE(store.insert_license(make_license("lic_after", t0), cli));
    CHECK(license_count(store) == 2);
    auto reopened = Store::open(path, OpenMode::existing);
    REQUIRE(reopened);
    CHECK(license_count(*reopened) == 2);
}

TEST_CASE("a database locked by another process", "[sqlite]")
{
    TempDir dir;
    fs::path path = dir / "charter.db";
    auto store = open_new(path);
    seed(store);

    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    auto issued = store.insert_license(make_license("lic_1", t0), cli); // waits for the busy timeout
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);

    REQUIRE_FALSE(issued);
    CHECK(issued.error().kind == ErrorKind::io);
    CHECK(contains(issued.error().message, "is locked by another process"));
    // Reading is not blocked by a writer (WAL), and once the lock is gone writing works.
    CHECK(store.get_product("acme-pro"));
    REQUIRE(store.insert_license(make_license("lic_1", t0), cli));
}

TEST_CASE("backup copies every row into a database that opens on its own", "[sqlite]")
{
    TempDir dir;
    fs::path path = dir / "charter.db";
    fs::path copy = dir / "backup.db";
    auto store = open_new(path);
    seed(store);
    constexpr size_t seeded = 2000; // hundreds of pages to copy
    auto seeding = store.transaction([&]() -> Result<void> {
        for (size_t i = 0; i < seeded; ++i)
            REQUIRE(store.insert_license(make_license("lic_" + std::to_string(i), t0 + int64_t(i)), cli));
        return {};
    });
    REQUIRE(seeding);
    REQUIRE(store.revoke_license("lic_7", std::string("refund"), t0 + 100, cli));

    // Another connection issues licenses one by one (each with its audit row, in one
    // transaction) from before the backup starts until after it returns. How many of its
    // commits land while the pages are read is up to the scheduler; what is checked below
    // holds whatever the interleaving. Catch2's assertions are not thread-safe: the writer
    // only counts, and keeps its error for the test to check.
    std::atomic<int> written { 0 };
    std::atomic<bool> stop { false };
    std::string writer_failure;
    std::thread writer([&] {
        auto other = Store::open(path, OpenMode::existing);
        if (!other) {
            writer_failure = other.error().message;
            stop = true;
            return;
        }
        for (int i = 0; !stop; ++i) {
            if (auto issued = other->insert_license(make_license("lic_w" + std::to_string(i), t0 + 10'000 + i), cli); !issued) {
                writer_failure = issued.error().message;
                stop = true;
                return;
            }
            ++written;
        }
    });
    while (written < 3 && !stop)
        std::this_thread::yield();
    int const before = written;
    auto backed_up = store.backup(copy);
    int const after = written;
    // A license committed but not yet counted may be in the copy as well; two more make sure
    // the live database has licenses the copy must not have.
    while (written < after + 2 && !stop)
        std::this_thread::yield();
    stop = true;
    writer.join();
    INFO("writer: " << writer_failure);
    REQUIRE(writer_failure.empty());
    if (!backed_up)
        FAIL("backup: " << backed_up.error().message);

    CHECK_FALSE(fs::exists(dir / "backup.db.partial"));
    auto restored = Store::open(copy, OpenMode::existing);
    REQUIRE(restored);
    CHECK(restored->integrity_check().value() == "ok");
    // The copy is the database at one moment: the seeded licenses and the writer's first n,
    // with n between what was written when the backup started and when it returned ...
    auto original_licenses = store.list_licenses({}).value();
    auto copied_licenses = restored->list_licenses({}).value();
    REQUIRE(copied_licenses.size() >= seeded);
    auto copied_from_writer = copied_licenses.size() - seeded;
    INFO("written before the backup: " << before << ", when it returned: " << after << ", in the copy: " << copied_from_writer);
    CHECK(copied_from_writer >= size_t(before));
    CHECK(copied_from_writer <= size_t(after) + 1);
    REQUIRE(copied_licenses.size() < original_licenses.size());
    std::set<std::string> copied_ids;
    for (size_t i = 0; i < copied_licenses.size(); ++i) {
        CHECK(copied_licenses[i].id == original_licenses[i].id);
        CHECK(copied_licenses[i].token == original_licenses[i].token);
        CHECK(copied_licenses[i].status == original_licenses[i].status);
        copied_ids.insert(copied_licenses[i].id);
    }
    // ... and its audit log ends at the same moment: one issue row for each license it has.
    auto original_audit = store.list_audit({}).value();
    auto copied_audit = restored->list_audit({}).value();
    REQUIRE(copied_audit.size() < original_audit.size());
    std::set<std::string> issued_in_copy;
    for (size_t i = 0; i < copied_audit.size(); ++i) {
        CHECK(copied_audit[i].id == original_audit[i].id);
        CHECK(copied_audit[i].subject == original_audit[i].subject);
        if (copied_audit[i].action == "license.issue")
            issued_in_copy.insert(copied_audit[i].subject);
    }
    CHECK(issued_in_copy == copied_ids);
    CHECK(restored->revoked_license_ids("acme-pro").value() == std::vector<std::string> { "lic_7" });

    // Backing up over an older backup replaces it.
    REQUIRE(store.insert_license(make_license("lic_late", t0 + 200), cli));
    REQUIRE(store.backup(copy));
    auto again = Store::open(copy, OpenMode::existing);
    REQUIRE(again);
    CHECK(again->get_license("lic_late"));

    auto nowhere = store.backup(fs::path(dir.path()) / "missing-folder" / "backup.db");
    REQUIRE_FALSE(nowhere);
    CHECK(nowhere.error().kind == ErrorKind::io);
    CHECK(contains(nowhere.error().message, "missing-folder"));
}

TEST_CASE("admin tokens")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    REQUIRE(store.insert_admin_token({ .id = "tok_1", .name = "stripe webhook", .hash = "a1b2", .scopes = { "issue", "read" }, .created_at = t0 }, cli));
    REQUIRE(store.insert_admin_token({ .id = "tok_2", .name = "admin", .hash = "c3d4", .scopes = { "admin" }, .created_at = t0 + 1 }, cli));
    auto bad_scope = store.insert_admin_token({ .id = "tok_3", .name = "x", .hash = "e5", .scopes = { "issue read" }, .created_at = t0 }, cli);
    REQUIRE_FALSE(bad_scope);
    CHECK(bad_scope.error().kind == ErrorKind::invalid_input);

    auto found = store.find_admin_token_by_hash("a1b2");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->id == "tok_1");
    CHECK((*found)->scopes == std::vector<std::string> { "issue", "read" });
    CHECK_FALSE((*found)->last_used_at);

    REQUIRE(store.touch_admin_token("tok_1", t0 + 60));
    REQUIRE(store.revoke_admin_token("tok_1", t0 + 90, cli));
    CHECK(store.revoke_admin_token("tok_1", t0 + 91, cli).error().kind == ErrorKind::conflict);
    auto tokens = store.list_admin_tokens();
    REQUIRE(tokens);
    REQUIRE(tokens->size() == 2);
    CHECK(tokens->at(0).id == "tok_1");
    CHECK(tokens->at(0).last_used_at == t0 + 60);
    CHECK(tokens->at(0).revoked_at == t0 + 90);
    CHECK_FALSE(tokens->at(1).revoked_at);
}

TEST_CASE("settings")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    CHECK_FALSE(store.get_setting("issuer").value());
    REQUIRE(store.set_setting("issuer", "Acme Inc.", t0, cli));
    REQUIRE(store.set_setting("issuer", "Acme GmbH", t0 + 1, cli));
    CHECK(store.get_setting("issuer").value() == "Acme GmbH");
}

TEST_CASE("releases are listed per product in release order")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    auto release = [](std::string id, std::string product, std::string version, int64_t at) {
        return Release { .id = std::move(id), .product_id = product, .version = version, .filename = product + "-" + version + ".gem",
            .size = 1000, .sha256 = "00", .released_at = at, .yanked = false, .created_at = at };
    };
    REQUIRE(store.add_release(release("rel_b", "acme-pro", "2.0.0", t0 + 20), OnDuplicateRelease::refuse, cli));
    REQUIRE(store.add_release(release("rel_a", "acme-pro", "1.0.0", t0 + 10), OnDuplicateRelease::refuse, cli));
    REQUIRE(store.add_release(release("rel_c", "acme-ent", "1.0.0", t0 + 5), OnDuplicateRelease::refuse, cli));
    auto unknown = store.add_release(release("rel_d", "acme-lite", "1.0.0", t0), OnDuplicateRelease::refuse, cli);
    REQUIRE_FALSE(unknown);
    CHECK(contains(unknown.error().message, "no product acme-lite"));

    auto pro = store.list_releases(std::string("acme-pro"));
    REQUIRE(pro);
    REQUIRE(pro->size() == 2);
    CHECK(pro->at(0).version == "1.0.0");
    CHECK(pro->at(1).version == "2.0.0");
    CHECK(store.list_releases(std::nullopt).value().size() == 3);
    REQUIRE(store.yank_release("rel_b", t0 + 30, cli));
    CHECK(store.find_release("rel_b").value().yanked);
    CHECK(store.yank_release("rel_b", t0 + 31, cli).error().kind == ErrorKind::conflict);
}

TEST_CASE("license versions: each change keeps the version it replaces, in order, with who and why")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    auto license = make_license("lic_1", t0);
    license.expires_at = t0 + 100;
    license.updates_until = t0 + 100;
    REQUIRE(store.insert_license(license, cli));

    auto next = license;
    next.version = 2;
    next.token = "v4.public.version-2";
    next.issued_at = t0 + 10;
    next.expires_at = t0 + 200;
    REQUIRE(store.add_license_version(next, { .action = "license.renew", .reason = "renew", .at = t0 + 10 }, Actor { "token:tok_a" }));

    auto current = store.get_license("lic_1");
    REQUIRE(current);
    CHECK(current->version == 2);
    CHECK(current->version_reason == "renew");
    CHECK(current->token == "v4.public.version-2");
    CHECK(current->expires_at == t0 + 200);
    CHECK(current->updates_until == t0 + 100);

    auto versions = store.list_license_versions("lic_1");
    REQUIRE(versions);
    REQUIRE(versions->size() == 2);
    CHECK(versions->at(0).version == 1);
    CHECK(versions->at(0).reason == "issue");
    CHECK(versions->at(0).actor == "cli");
    CHECK(versions->at(0).token == license.token);
    CHECK(versions->at(0).expires_at == t0 + 100);
    CHECK(versions->at(1).version == 2);
    CHECK(versions->at(1).actor == "token:tok_a");
    CHECK(versions->at(1).token == "v4.public.version-2");

    SECTION("a change computed from a replaced version is a conflict and changes nothing")
    {
        auto stale = next; // version 2 again
        stale.token = "v4.public.stale";
        auto audit_before = audit_count(store);
        auto refused = store.add_license_version(stale, { .action = "license.renew", .reason = "renew", .at = t0 + 11 }, cli);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().kind == ErrorKind::conflict);
        CHECK(refused.error().message == "license lic_1 changed meanwhile (now version 2); retry the change");
        CHECK(store.get_license("lic_1")->token == "v4.public.version-2");
        CHECK(store.list_license_versions("lic_1")->size() == 2);
        CHECK(audit_count(store) == audit_before);
    }
    SECTION("a revoked license cannot be changed, and the refusal says since when")
    {
        REQUIRE(store.revoke_license("lic_1", std::nullopt, 1'800'086'400, cli)); // 2027-01-16
        auto third = next;
        third.version = 3;
        auto refused = store.add_license_version(third, { .action = "license.update", .reason = "update", .at = t0 + 20 }, cli);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().kind == ErrorKind::conflict);
        CHECK(refused.error().message == "license lic_1 is revoked (since 2027-01-16); a revoked license cannot be changed, issue a new one");
        CHECK(store.list_license_versions("lic_1")->size() == 2);
        CHECK_FALSE(store.suspend_license("lic_1", "late", t0, cli));
        CHECK_FALSE(store.reinstate_license("lic_1", t0, cli));
    }
    SECTION("an unknown license")
    {
        CHECK(store.list_license_versions("lic_none").error().kind == ErrorKind::not_found);
        auto other = next;
        other.id = "lic_none";
        CHECK(store.add_license_version(other, { .action = "license.renew", .reason = "renew", .at = t0 }, cli).error().kind
            == ErrorKind::not_found);
    }
    SECTION("an unknown plan leaves the license as it was")
    {
        auto third = next;
        third.version = 3;
        third.plan_id = "no-such-plan";
        auto refused = store.add_license_version(third, { .action = "license.renew", .reason = "renew", .at = t0 + 20 }, cli);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().kind == ErrorKind::not_found);
        CHECK(store.get_license("lic_1")->version == 2);
        CHECK(store.list_license_versions("lic_1")->size() == 2);
    }
}

TEST_CASE("suspension: its reason and time, refusals that say why, and the state rule")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    auto license = make_license("lic_1", t0);
    license.expires_at = t0 + 100;
    REQUIRE(store.insert_license(license, cli));

    CHECK(state_at(*store.get_license("lic_1"), t0 + 100) == LicenseState::active);
    CHECK(state_at(*store.get_license("lic_1"), t0 + 101) == LicenseState::expired);
    CHECK(store.suspend_license("lic_1", "", t0, cli).error().kind == ErrorKind::invalid_input);
    REQUIRE(store.suspend_license("lic_1", "payment failed", 1'800'000'000, cli));
    auto suspended = store.get_license("lic_1");
    REQUIRE(suspended);
    CHECK(suspended->suspended_at == 1'800'000'000);
    CHECK(suspended->suspend_reason == "payment failed");
    CHECK(state_at(*suspended, t0) == LicenseState::suspended);
    CHECK(state_at(*suspended, t0 + 101) == LicenseState::suspended); // suspension shows before expiry
    CHECK(std::string(state_name(state_at(*suspended, t0))) == "suspended");

    auto again = store.suspend_license("lic_1", "twice", t0 + 1, cli);
    REQUIRE_FALSE(again);
    CHECK(again.error().kind == ErrorKind::conflict);
    CHECK(again.error().message == "license lic_1 is already suspended (since 2027-01-15: payment failed)");
    CHECK(store.get_license("lic_1")->suspend_reason == "payment failed");

    REQUIRE(store.reinstate_license("lic_1", t0 + 2, cli));
    CHECK_FALSE(store.get_license("lic_1")->suspended_at);
    CHECK_FALSE(store.get_license("lic_1")->suspend_reason);
    auto not_suspended = store.reinstate_license("lic_1", t0 + 3, cli);
    REQUIRE_FALSE(not_suspended);
    CHECK(not_suspended.error().message == "license lic_1 is not suspended; there is nothing to reinstate");
    CHECK(store.suspend_license("lic_none", "x", t0, cli).error().kind == ErrorKind::not_found);
    CHECK(store.reinstate_license("lic_none", t0, cli).error().kind == ErrorKind::not_found);
}

TEST_CASE("listing licenses by state and by how soon they end")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    int64_t const day = 86400;
    auto add = [&](std::string id, std::optional<int64_t> expires_at) {
        auto license = make_license(std::move(id), t0);
        license.expires_at = expires_at;
        REQUIRE(store.insert_license(license, cli));
    };
    add("lic_in_30d", t0 + 30 * day);
    add("lic_in_30d_1s", t0 + 30 * day + 1);
    add("lic_now", t0);
    add("lic_ended", t0 - 1);
    add("lic_perpetual", std::nullopt);
    add("lic_suspended", t0 + day);
    add("lic_revoked", t0 + day);
    REQUIRE(store.suspend_license("lic_suspended", "chargeback", t0, cli));
    REQUIRE(store.revoke_license("lic_revoked", std::nullopt, t0, cli));

    auto ids = [&](LicenseFilter filter) {
        filter.now = t0;
        auto licenses = store.list_licenses(filter);
        REQUIRE(licenses);
        std::vector<std::string> found;
        for (auto const& license : *licenses)
            found.push_back(license.id);
        auto count = store.count_licenses(filter);
        REQUIRE(count);
        CHECK(*count == static_cast<int64_t>(found.size()));
        return found;
    };
    using V = std::vector<std::string>;
    CHECK(ids({ .expiring_within = 30 * day }) == V { "lic_in_30d", "lic_now" });
    CHECK(ids({ .expiring_within = 0 }) == V { "lic_now" });
    CHECK(ids({ .state = LicenseState::suspended }) == V { "lic_suspended" });
    CHECK(ids({ .state = LicenseState::active }) == V { "lic_in_30d", "lic_in_30d_1s", "lic_now", "lic_perpetual" });
    CHECK(ids({ .state = LicenseState::expired }) == V { "lic_ended" });
    CHECK(ids({ .state = LicenseState::revoked }) == V { "lic_revoked" });
}

TEST_CASE("plans")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    Plan plan { .id = "pro-yearly", .product_id = "acme-pro", .duration = "1y", .updates_for = "1y",
        .entitlements = { "sso", "audit-log" }, .seats = 10, .grace_seconds = 7 * 86400, .created_at = t0, .updated_at = t0 };
    REQUIRE(store.add_plan(plan, cli));
    auto found = store.get_plan("pro-yearly");
    REQUIRE(found);
    CHECK(found->product_id == "acme-pro");
    CHECK(found->updates_for == "1y");
    CHECK(found->entitlements == std::vector<std::string> { "sso", "audit-log" });
    CHECK(found->seats == 10);
    CHECK(found->grace_seconds == 7 * 86400);

    auto duplicate = store.add_plan(plan, cli);
    REQUIRE_FALSE(duplicate);
    CHECK(duplicate.error().kind == ErrorKind::conflict);
    CHECK(duplicate.error().message == "plan pro-yearly already exists; change it with `charter plan update pro-yearly`");
    auto other_product = plan;
    other_product.id = "x";
    other_product.product_id = "nope";
    CHECK(store.add_plan(other_product, cli).error().kind == ErrorKind::not_found);
    auto bad_entitlement = plan;
    bad_entitlement.id = "y";
    bad_entitlement.entitlements = { "a\nb" };
    CHECK(store.add_plan(bad_entitlement, cli).error().kind == ErrorKind::invalid_input);

    plan.duration = "6mo";
    plan.updates_for = std::nullopt;
    plan.entitlements = {};
    plan.seats = std::nullopt;
    plan.updated_at = t0 + 5;
    REQUIRE(store.update_plan(plan, cli));
    found = store.get_plan("pro-yearly");
    CHECK(found->duration == "6mo");
    CHECK_FALSE(found->updates_for);
    CHECK(found->entitlements.empty());
    CHECK_FALSE(found->seats);
    CHECK(found->created_at == t0);
    CHECK(found->updated_at == t0 + 5);
    plan.id = "unknown";
    CHECK(store.update_plan(plan, cli).error().message == "no plan unknown; `charter plan list` shows the plans");
    CHECK(store.list_plans()->size() == 1);

    auto license = make_license("lic_1", t0);
    license.plan_id = "pro-yearly";
    REQUIRE(store.insert_license(license, cli));
    CHECK(store.get_license("lic_1")->plan_id == "pro-yearly");
    auto orphan = make_license("lic_2", t0);
    orphan.plan_id = "no-such-plan";
    auto refused = store.insert_license(orphan, cli);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::not_found);
    CHECK_FALSE(store.get_license("lic_2"));
}

TEST_CASE("credentials: stored by hash, a live name once per license, revocation")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    REQUIRE(store.insert_license(make_license("lic_1", t0), cli));
    Credential ci { .id = "cred_1", .license_id = "lic_1", .name = "ci", .hash = "h1", .created_at = t0 };
    REQUIRE(store.insert_credential(ci, cli));
    auto same_name = ci;
    same_name.id = "cred_2";
    same_name.hash = "h2";
    auto refused = store.insert_credential(same_name, cli);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::conflict);
    CHECK(refused.error().message
        == "license lic_1 already has a credential named \"ci\" (cred_1); revoke it first or choose another name");
    auto unknown_license = same_name;
    unknown_license.license_id = "lic_none";
    CHECK(store.insert_credential(unknown_license, cli).error().kind == ErrorKind::not_found);
    CHECK(store.insert_credential({ .id = "cred_3", .license_id = "lic_1", .name = "", .hash = "h3", .created_at = t0 }, cli)
              .error()
              .kind
        == ErrorKind::invalid_input);

    auto found = store.find_credential_by_hash("h1");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->license_id == "lic_1");
    CHECK_FALSE(store.find_credential_by_hash("nope").value());
    REQUIRE(store.touch_credential("cred_1", t0 + 9, "198.51.100.4"));
    CHECK(store.get_credential("cred_1")->last_used_from == "198.51.100.4");
    CHECK(store.get_credential("cred_1")->last_used_at == t0 + 9);

    REQUIRE(store.revoke_credential("cred_1", t0 + 10, cli));
    CHECK(store.revoke_credential("cred_1", t0 + 11, cli).error().message == "credential cred_1 is already revoked");
    CHECK(store.revoke_credential("cred_none", t0, cli).error().kind == ErrorKind::not_found);
    CHECK((*store.find_credential_by_hash("h1"))->revoked_at == t0 + 10);
    REQUIRE(store.insert_credential(same_name, cli)); // a revoked credential frees its name
    auto listed = store.list_credentials("lic_1");
    REQUIRE(listed);
    REQUIRE(listed->size() == 2);
    CHECK(listed->at(0).id == "cred_1");
    CHECK(listed->at(1).id == "cred_2");
}

TEST_CASE("a version-4 database gains versions, plans and credentials, and its licenses stay version 1", "[sqlite]")
{
    TempDir dir;
    fs::path path = dir / "charter.db";
    REQUIRE(create_database_at_version(path, 4));
    raw_exec(path, "INSERT INTO products (id, name, created_at) VALUES ('acme-pro', 'Acme Pro', 1);"
                   "INSERT INTO customers (id, email, created_at) VALUES ('cus_a', 'a@example.com', 1);"
                   "INSERT INTO signing_keys (kid, public_paserk, status, is_current, created_at) VALUES ('k', 'p', 'active', 1, 1);"
                   "INSERT INTO licenses (id, customer_id, product_id, token, claims_json, kid, issued_at)"
                   " VALUES ('lic_old', 'cus_a', 'acme-pro', 'v4.public.old', '{}', 'k', 1);");
    auto store = open_store(path, OpenMode::existing);
    REQUIRE(store);
    auto license = store->get_license("lic_old");
    REQUIRE(license);
    CHECK(license->version == 1);
    CHECK(license->version_reason == "issue");
    CHECK_FALSE(license->suspended_at);
    auto versions = store->list_license_versions("lic_old");
    REQUIRE(versions);
    REQUIRE(versions->size() == 1);
    CHECK(versions->front().token == "v4.public.old");
    CHECK(store->list_plans()->empty());
    CHECK(store->list_credentials("lic_old")->empty());
}

// PostgreSQL only: what the database does there that SQLite never does (failures a rerun of
// the transaction cures, connections lost and made again), driven through psql on the test's
// database.
namespace {

std::string psql(fs::path const& path, std::string const& sql)
{
    auto [status, output] = PostgresCluster::get().psql(test_database(path), sql);
    INFO(output);
    REQUIRE(status == 0);
    return charter::testing::trimmed(output);
}

// A trigger on `table` that fails the first `times` inserts with SQLSTATE `state`, counting
// attempts in a sequence (sequences are not rolled back, so the count survives the rollback).
void fail_inserts(fs::path const& path, std::string const& table, int times, std::string const& state)
{
    psql(path, "CREATE SEQUENCE attempts; CREATE FUNCTION fail_first() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF nextval('attempts') <= "
            + std::to_string(times) + " THEN RAISE EXCEPTION 'injected failure' USING ERRCODE = '" + state
            + "'; END IF; RETURN NEW; END $$; CREATE TRIGGER fail_first BEFORE INSERT ON " + table
            + " FOR EACH ROW EXECUTE FUNCTION fail_first();");
}

void terminate_other_connections(fs::path const& path)
{
    psql(path, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
}

}

TEST_CASE("postgres: a serialization failure or a deadlock runs the whole transaction again", "[postgres]")
{
    auto state = GENERATE(std::string("40001"), std::string("40P01"));
    TempDir dir;
    auto path = dir / "charter.db";
    auto store = open_new(path);
    seed(store);
    fail_inserts(path, "customers", 1, state);
    auto audit_before = audit_count(store);

    int runs = 0;
    auto done = store.transaction([&]() -> Result<void> {
        ++runs;
        return store.add_customer({ .id = "cus_carol", .email = "carol@example.com", .name = "Carol", .created_at = t0 }, cli);
    });
    INFO(state);
    REQUIRE(done);
    CHECK(runs == 2);
    CHECK(store.find_customer("cus_carol").value().email == "carol@example.com");
    CHECK(audit_count(store) == audit_before + 1);
    CHECK(psql(path, "SELECT last_value FROM attempts") == "2");

    // A mutator called on its own is a transaction too, and is retried the same way.
    psql(path, "ALTER SEQUENCE attempts RESTART");
    REQUIRE(store.add_customer({ .id = "cus_dan", .email = "dan@example.com", .name = "Dan", .created_at = t0 }, cli));
    CHECK(audit_count(store) == audit_before + 2);
}

TEST_CASE("postgres: a failure that keeps coming back gives up after 4 runs, changing nothing", "[postgres]")
{
    TempDir dir;
    auto path = dir / "charter.db";
    auto store = open_new(path);
    seed(store);
    fail_inserts(path, "customers", 1000, "40001");
    auto audit_before = audit_count(store);

    int runs = 0;
    auto done = store.transaction([&]() -> Result<void> {
        ++runs;
        REQUIRE(store.set_setting("note", "written before the failure", t0, cli));
        return store.add_customer({ .id = "cus_carol", .email = "carol@example.com", .name = "Carol", .created_at = t0 }, cli);
    });
    REQUIRE_FALSE(done);
    CHECK(runs == 4);
    CHECK(done.error().kind == ErrorKind::io);
    CHECK(contains(done.error().message, "could not serialize this change with concurrent ones"));
    CHECK(contains(done.error().message, "nothing was changed; try again"));
    CHECK(store.find_customer("cus_carol").error().kind == ErrorKind::not_found);
    CHECK_FALSE(store.get_setting("note").value());
    CHECK(audit_count(store) == audit_before);
}

TEST_CASE("postgres: a failed change inside a transaction leaves the transaction usable, as in SQLite", "[postgres]")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    auto done = store.transaction([&]() -> Result<void> {
        auto duplicate = store.add_customer({ .id = "cus_alice", .email = "other@example.com", .name = "A", .created_at = t0 }, cli);
        REQUIRE_FALSE(duplicate);
        CHECK(duplicate.error().kind == ErrorKind::conflict);
        // The explanation reads after the failure, and so does the rest of the transaction.
        return store.add_customer({ .id = "cus_carol", .email = "carol@example.com", .name = "Carol", .created_at = t0 }, cli);
    });
    REQUIRE(done);
    CHECK(store.find_customer("carol@example.com").value().id == "cus_carol");
}

TEST_CASE("postgres: text with a NUL byte is refused, never cut at it", "[postgres]")
{
    TempDir dir;
    auto store = open_new(dir / "charter.db");
    seed(store);
    using namespace std::string_literals;
    // Cut at the NUL, the lookup would find alice.
    auto found = store.find_customer("alice@example.com\0.evil"s);
    REQUIRE_FALSE(found);
    CHECK(found.error().kind == ErrorKind::invalid_input);
    CHECK(contains(found.error().message, "NUL byte"));
    auto added = store.add_customer({ .id = "cus_dan", .email = "dan@example.com", .name = "Dan\0Evil"s, .created_at = t0 }, cli);
    REQUIRE_FALSE(added);
    CHECK(added.error().kind == ErrorKind::invalid_input);
    CHECK(store.list_customers().value().size() == 2);
}

TEST_CASE("postgres: a lost connection is made again on its next use", "[postgres]")
{
    TempDir dir;
    auto path = dir / "charter.db";
    auto store = open_new(path);
    seed(store);

    // A transaction whose connection was lost before it began runs on a new connection.
    terminate_other_connections(path);
    REQUIRE(store.add_customer({ .id = "cus_carol", .email = "carol@example.com", .name = "Carol", .created_at = t0 }, cli));

    // A read that finds the connection lost fails, saying so without the URL's secrets; the
    // next one reconnects.
    terminate_other_connections(path);
    auto lost = store.find_customer("cus_carol");
    REQUIRE_FALSE(lost);
    CHECK(lost.error().kind == ErrorKind::io);
    CHECK(contains(lost.error().message, "lost the connection to the database postgresql://postgres@/"));
    CHECK(contains(lost.error().message, "check that PostgreSQL is running, then try again"));
    CHECK(store.find_customer("cus_carol").value().name == "Carol");
}

TEST_CASE("postgres: when the audit row cannot be written, the change is rolled back", "[postgres]")
{
    TempDir dir;
    auto path = dir / "charter.db";
    auto store = open_new(path);
    seed(store);
    psql(path, "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log refused'; END $$;"
               " CREATE TRIGGER refuse_audit BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION refuse_audit();");
    auto issued = store.insert_license(make_license("lic_1", t0), cli);
    REQUIRE_FALSE(issued);
    CHECK(contains(issued.error().message, "could not write the audit row for license.issue lic_1 (audit log refused)"));
    CHECK(store.get_license("lic_1").error().kind == ErrorKind::not_found);

    // Inside a batch: the one license is undone, the batch goes on.
    psql(path, "DROP TRIGGER refuse_audit ON audit; CREATE TRIGGER refuse_audit BEFORE INSERT ON audit FOR EACH ROW WHEN (NEW.subject = 'lic_3') EXECUTE FUNCTION refuse_audit();");
    auto batch = store.transaction([&]() -> Result<void> {
        REQUIRE(store.insert_license(make_license("lic_2", t0), cli));
        REQUIRE_FALSE(store.insert_license(make_license("lic_3", t0), cli));
        return store.insert_license(make_license("lic_4", t0), cli);
    });
    REQUIRE(batch);
    CHECK(store.get_license("lic_2"));
    CHECK(store.get_license("lic_3").error().kind == ErrorKind::not_found);
    CHECK(store.get_license("lic_4"));
}

// A trigger that refuses the audit row of license `id` (so that license's insert fails).
void refuse_audit_of(fs::path const& path, std::string const& id)
{
    psql(path, "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log refused'; END $$;"
               " CREATE TRIGGER refuse_audit BEFORE INSERT ON audit FOR EACH ROW WHEN (NEW.subject = '" + id + "') EXECUTE FUNCTION refuse_audit();");
}

TEST_CASE("postgres: a batch whose held insert fails runs again one statement at a time, and only that piece fails", "[postgres]")
{
    TempDir dir;
    auto path = dir / "charter.db";
    auto store = open_new(path);
    seed(store);
    refuse_audit_of(path, "lic_3");
    int runs = 0;
    std::vector<bool> outcomes;
    auto batch = store.batch_transaction([&]() -> Result<void> {
        ++runs;
        outcomes.clear();
        for (auto const* id : { "lic_2", "lic_3", "lic_4" })
            outcomes.push_back(static_cast<bool>(store.insert_license(make_license(id, t0), cli)));
        return {};
    }, Durability::power_loss);
    REQUIRE(batch);
    // The inserts went with the COMMIT, lic_3's audit row failed there: the batch ran again.
    CHECK(runs == 2);
    CHECK(outcomes == std::vector<bool> { true, false, true });
    CHECK(store.get_license("lic_2"));
    CHECK(store.get_license("lic_3").error().kind == ErrorKind::not_found);
    CHECK(store.get_license("lic_4"));

    // Nothing fails: one run.
    runs = 0;
    REQUIRE(store.batch_transaction([&]() -> Result<void> {
        ++runs;
        return store.insert_license(make_license("lic_5", t0), cli);
    }, Durability::power_loss));
    CHECK(runs == 1);
    CHECK(store.get_license("lic_5"));
}

TEST_CASE("postgres: a batch piece whose held insert fails is never taken as done: the batch runs again and each piece's outcome is what is stored", "[postgres]")
{
    // Pieces in savepoints of their own (the group commit's requests): lic_3's audit row is
    // refused when the next piece's read sends it. That round trip skipped lic_3's RELEASE, so
    // a later piece's ROLLBACK TO undid lic_3's work while its caller had taken it as done;
    // the batch went on and committed (a renewal answered a version that was never stored).
    TempDir dir;
    auto path = dir / "charter.db";
    auto store = open_new(path);
    seed(store);
    refuse_audit_of(path, "lic_3");
    int runs = 0;
    std::vector<bool> outcomes;
    auto piece = [&](std::function<Result<void>()> const& work) {
        outcomes.push_back(static_cast<bool>(store.transaction(work)));
    };
    auto batch = store.batch_transaction([&]() -> Result<void> {
        ++runs;
        outcomes.clear();
        piece([&] { return store.insert_license(make_license("lic_2", t0), cli); });
        piece([&] { return store.insert_license(make_license("lic_3", t0), cli); });
        piece([&]() -> Result<void> {
            if (auto read = store.get_license("lic_2"); !read)
                return read.error();
            return store.insert_license(make_license("lic_4", t0), cli);
        });
        piece([&] { return store.insert_license(make_license("lic_5", t0), cli); });
        return {};
    }, Durability::power_loss);
    REQUIRE(batch);
    CHECK(runs == 2);
    CHECK(outcomes == std::vector<bool> { true, false, true, true });
    char const* ids[] = { "lic_2", "lic_3", "lic_4", "lic_5" };
    for (size_t i = 0; i < outcomes.size(); ++i) {
        INFO(ids[i]);
        CHECK(static_cast<bool>(store.get_license(ids[i])) == outcomes[i]);
    }
}

TEST_CASE("postgres: with a change feed, a read outside a writing transaction is answered from memory until anyone commits a change", "[postgres]")
{
    TempDir dir;
    auto path = dir / "charter.db";
    auto store = open_new(path);
    seed(store);
    REQUIRE(store.insert_license(make_license("lic_1", t0), cli));
    auto feed = ChangeFeed::listen(test_database(path));
    for (int i = 0; i < 10000 && !feed->listening(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(feed->listening());
    auto opened = open_store(path, OpenMode::existing);
    REQUIRE(opened);
    auto& reader = *opened;
    reader.use_change_feed(feed);
    auto remembered = [&] { return feed->counts().remembered; };
    // Reads the license again until one is answered from memory (a notification of a change
    // already read may still be on its way and make one more read ask the database).
    auto answered_from_memory = [&] {
        auto start = remembered();
        for (int i = 0; i < 2000 && remembered() == start; ++i) {
            REQUIRE(reader.get_license("lic_1"));
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return remembered() > start;
    };

    REQUIRE(reader.get_license("lic_1"));
    auto before = remembered();
    auto again = reader.get_license("lic_1");
    REQUIRE(again);
    CHECK(remembered() == before + 1);
    CHECK_FALSE(again->suspended_at);

    // A change by a program without a feed (psql): seen as soon as PostgreSQL delivers its
    // notification to the feed (a process with a feed reports its commits only after that).
    psql(path, "UPDATE licenses SET suspended_at = 5, suspend_reason = 'by hand' WHERE id = 'lic_1'");
    auto changed = reader.get_license("lic_1");
    for (int i = 0; i < 10000 && changed && changed->suspended_at != 5; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        changed = reader.get_license("lic_1");
    }
    REQUIRE(changed);
    CHECK(changed->suspended_at == 5);

    // A change by another connection of this process given the same feed (as charter-server's
    // connections are): its commit moves the feed at once.
    store.use_change_feed(feed);
    CHECK(answered_from_memory());
    REQUIRE(store.reinstate_license("lic_1", t0 + 10, cli));
    changed = reader.get_license("lic_1");
    REQUIRE(changed);
    CHECK_FALSE(changed->suspended_at);

    // Inside a writing transaction every read asks the database; its commit moves the feed at
    // once, and returns only once the feed has heard its notification.
    before = remembered();
    auto heard = feed->heard();
    REQUIRE(reader.transaction([&]() -> Result<void> {
        auto inside = reader.get_license("lic_1");
        REQUIRE(inside);
        CHECK(remembered() == before);
        return reader.suspend_license("lic_1", "from the reader", t0 + 20, cli);
    }));
    CHECK(feed->heard() > heard);
    changed = reader.get_license("lic_1");
    REQUIRE(changed);
    CHECK(changed->suspended_at == t0 + 20);
    CHECK(remembered() == before);
    CHECK(answered_from_memory());
    CHECK(reader.get_license("lic_1")->suspended_at == t0 + 20);

    // The schema's version (what /healthz asks) always goes to the database.
    before = remembered();
    REQUIRE(reader.schema_version());
    REQUIRE(reader.schema_version());
    CHECK(remembered() == before);

    // The feed's connection cut: nothing from memory until it is made again, and nothing
    // remembered before is used after.
    CHECK(psql(path, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'charter change feed'") == "1");
    psql(path, "UPDATE licenses SET suspend_reason = 'while deaf' WHERE id = 'lic_1'");
    auto deaf = reader.get_license("lic_1");
    for (int i = 0; i < 10000 && deaf && deaf->suspend_reason != "while deaf"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        deaf = reader.get_license("lic_1");
    }
    REQUIRE(deaf);
    CHECK(deaf->suspend_reason == "while deaf");
    for (int i = 0; i < 10000 && !feed->listening(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(feed->listening());
    CHECK(answered_from_memory());
    CHECK(reader.get_license("lic_1")->suspend_reason == "while deaf");
}

TEST_CASE("postgres: a database that is not charter's, empty, or newer is refused", "[postgres]")
{
    TempDir dir;
    auto empty = test_database(dir / "empty.db");
    auto missing = Store::connect(empty, OpenMode::existing);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::not_found);
    CHECK(contains(missing.error().message, "has no charter data; run `charter init` with it first"));

    auto other = dir / "other.db";
    psql(other, "CREATE TABLE recipes (name TEXT)");
    auto refused = Store::connect(test_database(other), OpenMode::create);
    REQUIRE_FALSE(refused);
    CHECK(contains(refused.error().message, "holds tables but is not a charter database; give charter a database of its own"));

    auto newer = dir / "newer.db";
    { auto store = open_new(newer); }
    psql(newer, "UPDATE schema_version SET version = version + 1");
    auto too_new = Store::connect(test_database(newer), OpenMode::existing);
    REQUIRE_FALSE(too_new);
    CHECK(too_new.error().kind == ErrorKind::version);

    auto unreadable = Store::connect("postgres://nobody@127.0.0.1:1/none?connect_timeout=2", OpenMode::existing);
    REQUIRE_FALSE(unreadable);
    CHECK(unreadable.error().kind == ErrorKind::io);
    CHECK(contains(unreadable.error().message, "cannot connect to the database postgresql://nobody@127.0.0.1:1/none"));
}
