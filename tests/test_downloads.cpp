// Releases and license-gated downloads as vendors and customers meet them: the real `charter`
// CLI and the real charter-server on an ephemeral loopback port, with the clock pinned
// (CHARTER_NOW) so that expiry and updates_until are exact. Every server is stopped by the
// test that started it.

#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <sodium.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <set>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

// The server's clock, and the CLI's when it issues licenses and adds releases.
constexpr char const* server_now = "2027-06-30T00:00:00Z";
constexpr char const* vendor_now = "2026-01-01T00:00:00Z";

std::string hex_to_base64(std::string const& hex)
{
    auto bytes = from_hex(hex);
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<unsigned char const*>(bytes.data()), bytes.size(),
        sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);
    return out;
}

std::string random_bytes(size_t size, uint64_t seed)
{
    std::mt19937_64 generator(seed);
    std::string data(size, '\0');
    for (size_t i = 0; i < size; i += 8) {
        uint64_t value = generator();
        std::memcpy(data.data() + i, &value, std::min<size_t>(8, size - i));
    }
    return data;
}

// A vendor's data directory, made with the CLI at vendor_now: the fixture's product, customer
// and admin token, and a product that keeps access after expiry; releases added to it.
struct Shop : Vendor {
    Shop()
        : Vendor(std::map<std::string, std::string> { { "CHARTER_NOW", vendor_now } })
    {
        cli({ "product", "add", "acme-legacy", "--name", "Acme Legacy", "--keep-access-after-expiry" });
    }

    // Writes `data` as temp/name and adds it as a release with the CLI.
    Json add_release(std::string const& product, std::string const& version, std::string const& name, std::string const& data,
        std::string const& released_at) const
    {
        auto path = temp / name;
        write_file(path, data);
        auto added = Json::parse(cli({ "release", "add", "--json", "--product", product, "--version", version, "--released-at",
            released_at, path }).out);
        REQUIRE(added.size() == 1);
        return added[0];
    }

    // The files of artifacts/, by name.
    std::set<std::string> artifacts() const
    {
        std::set<std::string> names;
        if (!std::filesystem::exists(data_dir + "/artifacts"))
            return names;
        for (auto const& entry : std::filesystem::directory_iterator(data_dir + "/artifacts"))
            names.insert(entry.path().filename().string());
        return names;
    }
};

// charter-server over the shop at server_now, with 4 threads and room for many refusals.
struct Server : ServerChild {
    explicit Server(Shop const& shop, std::vector<std::string> options = {})
        : ServerChild(shop, with_defaults(std::move(options)), { { "CHARTER_NOW", server_now } })
    {
    }

    static std::vector<std::string> with_defaults(std::vector<std::string> options)
    {
        options.insert(options.begin(), { "--threads", "4", "--auth-failure-limit", "1000" });
        return options;
    }
};

std::string url_of(std::string const& product, std::string const& version, std::string const& filename)
{
    return "/downloads/" + product + "/" + version + "/" + filename;
}

httplib::Result upload(httplib::Client& client, std::string const& token, std::string const& product, std::string const& query,
    std::string const& data)
{
    return client.Post(("/v1/products/" + product + "/releases?" + query).c_str(), bearer(token), data,
        "application/octet-stream");
}

// The (version, filename) pairs of a /v1/downloads answer.
std::set<std::string> listed(httplib::Client& client, std::string const& key)
{
    auto result = client.Get("/v1/downloads", basic(key));
    REQUIRE(result);
    INFO(result->body);
    REQUIRE(result->status == 200);
    auto json = Json::parse(result->body);
    std::set<std::string> names;
    for (auto const& release : json["releases"])
        names.insert(release["version"].get<std::string>() + "/" + release["filename"].get<std::string>());
    return names;
}

// The body of an HTTP response read off a raw socket (everything after the blank line).
std::string raw_body(std::string const& response)
{
    auto end = response.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : response.substr(end + 4);
}

int raw_status(std::string const& response)
{
    if (!response.starts_with("HTTP/1.1 ") || response.size() < 12)
        return -1;
    return std::stoi(response.substr(9, 3));
}

}

TEST_CASE("release add with the CLI and the upload API: digests, one copy per content, 409, replace")
{
    Shop shop;
    auto first = random_bytes(300000, 1);
    auto second = random_bytes(200001, 2);
    auto added = shop.add_release("acme-pro", "1.0", "acme-pro-1.0.tar.gz", first, "2026-02-01");
    CHECK(added["sha256"] == sha256_hex(first));
    CHECK(added["size"] == first.size());
    CHECK(added["released_at"] == "2026-02-01T00:00:00Z");
    CHECK(shop.artifacts() == std::set<std::string> { sha256_hex(first) });
    CHECK(read_file(shop.data_dir + "/artifacts/" + sha256_hex(first)) == first);

    // The CLI refuses a second file of the same name in the version, and replaces it when told.
    auto again = shop.run({ "release", "add", "--product", "acme-pro", "--version", "1.0", shop.temp / "acme-pro-1.0.tar.gz" });
    CHECK(again.exit_code != 0);
    CHECK(contains(again.err, "acme-pro 1.0 already has acme-pro-1.0.tar.gz"));
    CHECK(contains(again.err, "--replace"));

    Server server(shop);
    auto client = server.client();
    auto uploader = shop.token("upload");

    // The same bytes uploaded as another version share the stored copy.
    auto uploaded = upload(client, uploader, "acme-pro", "version=1.1&filename=acme-pro-1.1.tar.gz&released_at=2026-03-01T00:00:00Z",
        first);
    REQUIRE(uploaded);
    INFO(uploaded->body);
    REQUIRE(uploaded->status == 201);
    auto body = Json::parse(uploaded->body);
    CHECK(body["sha256"] == sha256_hex(first));
    CHECK(body["size"] == first.size());
    CHECK(body["version"] == "1.1");
    CHECK(body["released_at"] == "2026-03-01T00:00:00Z");
    CHECK(shop.artifacts() == std::set<std::string> { sha256_hex(first) });

    check_error(upload(client, uploader, "acme-pro", "version=1.1&filename=acme-pro-1.1.tar.gz", second), 409, "conflict",
        "replace=true");
    auto replaced = upload(client, uploader, "acme-pro", "version=1.1&filename=acme-pro-1.1.tar.gz&replace=true", second);
    REQUIRE(replaced);
    REQUIRE(replaced->status == 201);
    CHECK(Json::parse(replaced->body)["sha256"] == sha256_hex(second));
    CHECK(shop.artifacts() == std::set<std::string> { sha256_hex(first), sha256_hex(second) });
    auto releases = Json::parse(shop.cli({ "release", "list", "--json", "--product", "acme-pro" }).out);
    REQUIRE(releases.size() == 2);
    CHECK(releases[1]["version"] == "1.1");
    CHECK(releases[1]["sha256"] == sha256_hex(second));
    CHECK(releases[1]["size"] == second.size());

    // The CLI's --replace, back to the first content.
    write_file(shop.temp / "acme-pro-1.1.tar.gz", first);
    shop.cli({ "release", "add", "--replace", "--product", "acme-pro", "--version", "1.1", shop.temp / "acme-pro-1.1.tar.gz" });
    releases = Json::parse(shop.cli({ "release", "list", "--json", "--product", "acme-pro" }).out);
    CHECK(releases[1]["sha256"] == sha256_hex(first));
    // The second content is no release's file any more: it is removed.
    CHECK(shop.artifacts() == std::set<std::string> { sha256_hex(first) });

    // Names that could not be a single URL segment, and an unknown product.
    for (auto const* query : { "version=1.2&filename=..", "version=..&filename=a.tar.gz", "version=1.2&filename=a%2Fb",
             "version=1.2&filename=a%00b", "version=1.2", "filename=a.tar.gz", "version=1.2&filename=a%5Cb" }) {
        INFO(query);
        check_error(upload(client, uploader, "acme-pro", query, "x"), 400, "invalid_parameter");
    }
    check_error(upload(client, uploader, "acme-nothing", "version=1.0&filename=a.tar.gz", "x"), 404, "not_found");
    // No temporary file is left behind by refused uploads.
    for (auto const& name : shop.artifacts())
        CHECK_FALSE(name.starts_with(".upload-"));
}

TEST_CASE("a .gem upload is read as `charter release add` reads it; a .gem that is not a gem stores nothing")
{
    Shop shop;
    // A real gem from Debian's `gem build` (HOME in the folder: nothing read from the user's).
    std::string source = shop.temp / "gem-src";
    std::filesystem::create_directories(source + "/lib");
    write_file(source + "/lib/acme.rb", "module Acme; end\n");
    write_file(source + "/acme-pro.gemspec",
        "Gem::Specification.new do |s|\n  s.name = 'acme-pro'; s.version = '1.2.0'; s.summary = 'Pro'; s.authors = ['Acme']\n"
        "  s.platform = 'x86_64-linux'; s.files = ['lib/acme.rb']\n  s.add_dependency 'acme-base', '~> 1.0'\nend\n");
    auto built = run_process({ "/bin/sh", "-c", "cd '" + source + "' && gem build acme-pro.gemspec" },
        { { "HOME", source }, { "SOURCE_DATE_EPOCH", "1764288000" } });
    INFO(built.out << built.err);
    REQUIRE(built.exit_code == 0);
    auto gem = read_file(source + "/acme-pro-1.2.0-x86_64-linux.gem");

    auto license = shop.issue("acme-pro");
    Server server(shop);
    auto client = server.client();
    auto uploader = shop.token("upload");

    // Refused with the reason, named as uploaded (never the server's temporary file), and
    // nothing stored: no release, no artifact, no temporary file.
    auto broken = upload(client, uploader, "acme-pro", "filename=acme-pro-1.2.0.gem", "not a gem");
    check_error(broken, 422, "invalid_gem", "acme-pro-1.2.0.gem is not a gem: ");
    CHECK_FALSE(contains(broken->body, ".upload-"));
    check_error(upload(client, uploader, "acme-pro", "version=1.3.0&filename=acme-pro.gem", gem), 422, "invalid_gem",
        "acme-pro.gem is version 1.2.0, not 1.3.0");
    CHECK(shop.artifacts().empty());
    CHECK(Json::parse(shop.cli({ "release", "list", "--json" }).out).empty());

    // The gem names itself: version and filename from its specification.
    auto uploaded = upload(client, uploader, "acme-pro", "filename=upload.gem", gem);
    REQUIRE(uploaded);
    INFO(uploaded->body);
    REQUIRE(uploaded->status == 201);
    auto body = Json::parse(uploaded->body);
    CHECK(body["version"] == "1.2.0");
    CHECK(body["filename"] == "acme-pro-1.2.0-x86_64-linux.gem");
    CHECK(body["sha256"] == sha256_hex(gem));
    CHECK(shop.artifacts() == std::set<std::string> { sha256_hex(gem) });
    CHECK(shop.sql("SELECT name, version, platform, sha256 FROM gems") == "acme-pro|1.2.0|x86_64-linux|" + sha256_hex(gem) + "\n");
    CHECK(shop.sql("SELECT name, requirements FROM gem_dependencies") == "acme-base|~> 1.0\n");

    // The RubyGems source serves it at once, and the file downloads.
    auto info = client.Get("/rubygems/info/acme-pro", basic(license.key));
    REQUIRE(info);
    CHECK(info->status == 200);
    CHECK(info->body == "---\n1.2.0-x86_64-linux acme-base:~> 1.0|checksum:" + sha256_hex(gem) + "\n");
    auto versions = client.Get("/rubygems/versions", basic(license.key));
    REQUIRE(versions);
    CHECK(contains(versions->body, "\nacme-pro 1.2.0-x86_64-linux "));
    auto file = client.Get("/rubygems/gems/acme-pro-1.2.0-x86_64-linux.gem", basic(license.key));
    REQUIRE(file);
    CHECK(file->status == 200);
    CHECK(file->body == gem);

    // A second upload of that version is a conflict unless replaced; a refused one stores nothing.
    check_error(upload(client, uploader, "acme-pro", "filename=acme-pro-1.2.0-x86_64-linux.gem", gem + std::string(512, '\0')),
        409, "conflict", "replace=true");
    CHECK(shop.artifacts() == std::set<std::string> { sha256_hex(gem) });
    auto replaced = upload(client, uploader, "acme-pro", "filename=acme-pro-1.2.0-x86_64-linux.gem&replace=true",
        gem + std::string(512, '\0'));
    REQUIRE(replaced);
    CHECK(replaced->status == 201);
    CHECK(Json::parse(replaced->body)["id"] == body["id"]);
    CHECK(shop.sql("SELECT count(*), max(sha256) FROM gems") == "1|" + sha256_hex(gem + std::string(512, '\0')) + "\n");
}

TEST_CASE("uploads need the upload scope, respect --max-upload, and are streamed past --max-body")
{
    Shop shop;
    Server server(shop, { "--max-body", "1024", "--max-upload", "4194304" });
    auto client = server.client();
    auto data = random_bytes(3000000, 3);

    // Refusals before the token is known read nothing of the body (a stranger's upload must not
    // hold a worker); the server drops what the client still sends for a moment before it
    // closes, so that a client which sends it all before reading still gets the answer.
    auto anonymous = client.Post("/v1/products/acme-pro/releases?version=1.0&filename=a.bin", data, "application/octet-stream");
    check_error(anonymous, 401, "unauthorized");
    check_error(upload(client, shop.token("read,issue"), "acme-pro", "version=1.0&filename=a.bin", data), 403, "forbidden",
        "upload");
    check_error(upload(client, "chrt_not_a_token", "acme-pro", "version=1.0&filename=a.bin", data), 401, "unauthorized");
    CHECK(shop.artifacts().empty());
    // A body refused unread is never parsed as requests of its own: the connection ends with the
    // answer (a request hidden in the body gets no answer).
    RawConnection connection(server.port());
    REQUIRE(connection.send_all("POST /v1/products/acme-pro/releases?version=1.0&filename=a.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Length: 100000\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        + std::string(100000, 'x')));
    auto answer = connection.read_response();
    CHECK(raw_status(answer) == 401);
    CHECK(answer.find("Connection: close") != std::string::npos);
    connection.send_all("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); // may fail: the connection is gone
    CHECK(raw_status(connection.read_response()) == -1);

    // 3 MB through a server whose JSON bodies stop at 1 KiB: the upload route streams to disk.
    auto uploader = shop.token("upload");
    auto uploaded = upload(client, uploader, "acme-pro", "version=1.0&filename=a.bin", data);
    REQUIRE(uploaded);
    INFO(uploaded->body);
    REQUIRE(uploaded->status == 201);
    CHECK(Json::parse(uploaded->body)["sha256"] == sha256_hex(data));
    CHECK(read_file(shop.data_dir + "/artifacts/" + sha256_hex(data)) == data);

    // Over --max-upload: refused before the body is read, nothing stored.
    auto big = random_bytes(4194305, 4);
    httplib::Client fresh = server.client();
    auto refused = upload(fresh, uploader, "acme-pro", "version=2.0&filename=a.bin", big);
    if (refused) {
        check_error(refused, 413, "payload_too_large", "4194304");
    } else {
        // The server may close the connection while the client is still sending the body.
        CHECK(refused.error() == httplib::Error::Write);
    }
    CHECK(shop.artifacts() == std::set<std::string> { sha256_hex(data) });
    CHECK(shop.sql("select count(*) from releases") == "1\n");
}

TEST_CASE("an upload of 64 MiB keeps the server's memory flat")
{
    Shop shop;
    Server server(shop, { "--max-body", "1024" });
    auto client = server.client();
    auto uploader = shop.token("upload");
    // A warm-up request: worker threads and the database connection exist before measuring.
    REQUIRE(upload(client, uploader, "acme-pro", "version=0.1&filename=warm.bin", "warm up")->status == 201);
    auto before = server.process().peak_rss_kib();

    size_t const size = size_t(64) << 20;
    std::string block = random_bytes(1 << 20, 5);
    std::string expected_hash;
    {
        crypto_hash_sha256_state state;
        crypto_hash_sha256_init(&state);
        for (size_t i = 0; i < size >> 20; ++i)
            crypto_hash_sha256_update(&state, reinterpret_cast<unsigned char const*>(block.data()), block.size());
        unsigned char digest[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_final(&state, digest);
        char hex[sizeof digest * 2 + 1];
        sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
        expected_hash = hex;
    }
    auto result = client.Post("/v1/products/acme-pro/releases?version=1.0&filename=big.bin", bearer(uploader), size,
        [&](size_t offset, size_t length, httplib::DataSink& sink) {
            size_t at = offset % block.size();
            return sink.write(block.data() + at, std::min(length, block.size() - at));
        },
        "application/octet-stream");
    REQUIRE(result);
    INFO(result->body);
    REQUIRE(result->status == 201);
    CHECK(Json::parse(result->body)["sha256"] == expected_hash);
    auto after = server.process().peak_rss_kib();
    WARN("upload of 64 MiB: server peak RSS " << before << " KiB before, " << after << " KiB after");
    CHECK(after - before < 16 * 1024);
}

TEST_CASE("/v1/downloads lists exactly the entitled releases")
{
    Shop shop;
    // acme-pro: no access after expiry. acme-legacy: releases before exp stay available.
    shop.add_release("acme-pro", "1.0", "pro-1.0.tgz", "pro one", "2026-02-01");
    shop.add_release("acme-pro", "2.0", "pro-2.0.tgz", "pro two", "2026-08-01");
    shop.add_release("acme-pro", "3.0", "pro-3.0.tgz", "pro three", "2027-03-01");
    shop.add_release("acme-pro", "3.1", "pro-3.1.tgz", "pro three one", "2027-04-01");
    shop.add_release("acme-legacy", "1.0", "legacy-1.0.tgz", "legacy one", "2026-02-01");
    shop.add_release("acme-legacy", "2.0", "legacy-2.0.tgz", "legacy two", "2027-03-01");
    shop.cli({ "release", "yank", "--product", "acme-pro", "--version", "3.1" });

    auto perpetual = shop.issue("acme-pro");
    auto updates = shop.issue("acme-pro", { "--updates-until", "2026-06-30" });
    auto expired = shop.issue("acme-pro", { "--expires", "2026-12-31" });
    auto legacy = shop.issue("acme-legacy", { "--expires", "2026-12-31" });
    auto legacy_updates = shop.issue("acme-legacy", { "--expires", "2026-12-31", "--updates-until", "2026-01-15" });

    Server server(shop);
    auto client = server.client();
    CHECK(listed(client, perpetual.key) == std::set<std::string> { "1.0/pro-1.0.tgz", "2.0/pro-2.0.tgz", "3.0/pro-3.0.tgz" });
    CHECK(listed(client, updates.key) == std::set<std::string> { "1.0/pro-1.0.tgz" });
    // A license left with nothing (expired, the product keeping no access) is told why, not
    // shown an empty list (issue 12 item 1); the sentence is the reason phrase too.
    auto expired_list = client.Get("/v1/downloads", basic(expired.key));
    check_error(expired_list, 403, "expired", "license " + expired.id + " expired on 2026-12-31; renew it to download acme-pro releases");
    CHECK(expired_list->reason == "license " + expired.id + " expired on 2026-12-31; renew it to download acme-pro releases");
    CHECK(listed(client, legacy.key) == std::set<std::string> { "1.0/legacy-1.0.tgz" });
    CHECK(listed(client, legacy_updates.key).empty());

    // Each entry has what a customer's script needs, and its URL downloads it.
    auto answer = client.Get("/v1/downloads", { { "Authorization", "Bearer " + legacy.key } });
    REQUIRE(answer);
    REQUIRE(answer->status == 200);
    auto json = Json::parse(answer->body);
    CHECK(json["license"] == legacy.id);
    CHECK(json["product"] == "acme-legacy");
    REQUIRE(json["releases"].size() == 1);
    auto entry = json["releases"][0];
    CHECK(entry["url"] == "/downloads/acme-legacy/1.0/legacy-1.0.tgz");
    CHECK(entry["size"] == 10);
    CHECK(entry["sha256"] == sha256_hex("legacy one"));
    CHECK(entry["released_at"] == "2026-02-01T00:00:00Z");
    auto file = client.Get(entry["url"].get<std::string>().c_str(), basic(legacy.key));
    REQUIRE(file);
    CHECK(file->status == 200);
    CHECK(file->body == "legacy one");

    // A yanked release is hidden from the list but its URL still serves those who pinned it.
    auto yanked = client.Get(url_of("acme-pro", "3.1", "pro-3.1.tgz").c_str(), basic(perpetual.key));
    REQUIRE(yanked);
    CHECK(yanked->status == 200);
    CHECK(yanked->body == "pro three one");
    shop.cli({ "release", "yank", "--product", "acme-pro", "--version", "2.0" });
    CHECK(listed(client, perpetual.key) == std::set<std::string> { "1.0/pro-1.0.tgz", "3.0/pro-3.0.tgz" });

    // A revoked license is told so, not shown an empty list.
    shop.cli({ "revoke", perpetual.id, "--reason", "chargeback" });
    check_error(client.Get("/v1/downloads", basic(perpetual.key)), 403, "revoked", "revoked");
    check_error(client.Get("/v1/downloads"), 401, "unauthorized");
}

TEST_CASE("a download is the file itself: length, ETag, digests, 304, ranges")
{
    Shop shop;
    // Not a multiple of the server's read size, so the last read is short.
    auto data = random_bytes(1234567, 7);
    auto hash = sha256_hex(data);
    shop.add_release("acme-pro", "1.0", "acme-pro-1.0.tar.gz", data, "2026-02-01");
    auto license = shop.issue("acme-pro");
    Server server(shop);
    auto client = server.client();
    auto url = url_of("acme-pro", "1.0", "acme-pro-1.0.tar.gz");

    auto full = client.Get(url.c_str(), basic(license.key));
    REQUIRE(full);
    CHECK(full->status == 200);
    CHECK(full->body.size() == data.size());
    CHECK(sha256_hex(full->body) == hash);
    CHECK(full->body == data);
    CHECK(full->get_header_value("Content-Length") == std::to_string(data.size()));
    CHECK(full->get_header_value("Content-Type") == "application/octet-stream");
    CHECK(full->get_header_value("ETag") == "\"" + hash + "\"");
    CHECK(full->get_header_value("Accept-Ranges") == "bytes");
    CHECK(full->get_header_value("Digest") == "SHA-256=" + hex_to_base64(hash));
    CHECK(full->get_header_value("Repr-Digest") == "sha-256=:" + hex_to_base64(hash) + ":");
    CHECK(full->get_header_value("Content-Disposition")
        == "attachment; filename=\"acme-pro-1.0.tar.gz\"; filename*=UTF-8''acme-pro-1.0.tar.gz");

    // Bearer works as well as Basic.
    auto with_bearer = client.Get(url.c_str(), bearer(license.key));
    REQUIRE(with_bearer);
    CHECK(with_bearer->status == 200);
    CHECK(with_bearer->body == data);

    auto cached = client.Get(url.c_str(), basic(license.key, { { "If-None-Match", "\"" + hash + "\"" } }));
    REQUIRE(cached);
    CHECK(cached->status == 304);
    CHECK(cached->body.empty());
    CHECK(cached->get_header_value("ETag") == "\"" + hash + "\"");
    auto stale = client.Get(url.c_str(), basic(license.key, { { "If-None-Match", "\"" + std::string(64, '0') + "\"" } }));
    REQUIRE(stale);
    CHECK(stale->status == 200);
    CHECK(stale->body == data);

    auto size = std::to_string(data.size());
    struct RangeCase {
        char const* header;
        size_t first;
        size_t length;
    };
    for (auto [header, first, length] : { RangeCase { "bytes=0-0", 0, 1 }, RangeCase { "bytes=100-199", 100, 100 },
             RangeCase { "bytes=65530-131080", 65530, 65551 }, RangeCase { "bytes=-500", data.size() - 500, 500 },
             RangeCase { "bytes=1234000-", 1234000, 567 }, RangeCase { "bytes=1234560-99999999", 1234560, 7 },
             RangeCase { "bytes=-99999999", 0, data.size() } }) {
        INFO(header);
        auto part = client.Get(url.c_str(), basic(license.key, { { "Range", header } }));
        REQUIRE(part);
        CHECK(part->status == 206);
        CHECK(part->body == data.substr(first, length));
        CHECK(part->get_header_value("Content-Length") == std::to_string(length));
        CHECK(part->get_header_value("Content-Range")
            == "bytes " + std::to_string(first) + "-" + std::to_string(first + length - 1) + "/" + size);
        CHECK(part->get_header_value("ETag") == "\"" + hash + "\"");
    }
    for (auto const* header : { "bytes=1234567-", "bytes=2000000-2000010", "bytes=-0" }) {
        INFO(header);
        auto unsatisfiable = client.Get(url.c_str(), basic(license.key, { { "Range", header } }));
        REQUIRE(unsatisfiable);
        CHECK(unsatisfiable->status == 416);
        CHECK(unsatisfiable->get_header_value("Content-Range") == "bytes */" + size);
        CHECK(unsatisfiable->body.empty());
    }
    // Several ranges at once are answered with the whole file (RFC 9110 lets a server ignore Range).
    auto several = client.Get(url.c_str(), basic(license.key, { { "Range", "bytes=0-9,20-29" } }));
    REQUIRE(several);
    CHECK(several->status == 200);
    CHECK(several->body == data);
    CHECK_FALSE(several->has_header("Content-Range"));
}

TEST_CASE("refusals say why: 401 without a key, 403 naming the cause, 404 for unknown files")
{
    Shop shop;
    shop.add_release("acme-pro", "1.0", "pro-1.0.tgz", "pro one", "2026-02-01");
    shop.add_release("acme-pro", "2.0", "pro-2.0.tgz", "pro two", "2026-08-01");
    shop.add_release("acme-legacy", "1.0", "legacy-1.0.tgz", "legacy one", "2026-02-01");
    shop.add_release("acme-legacy", "2.0", "legacy-2.0.tgz", "legacy two", "2027-03-01");
    auto valid = shop.issue("acme-pro");
    auto expired = shop.issue("acme-pro", { "--expires", "2026-12-31" });
    auto updates = shop.issue("acme-pro", { "--updates-until", "2026-06-30" });
    auto revoked = shop.issue("acme-pro");
    auto legacy = shop.issue("acme-legacy", { "--expires", "2026-12-31" });
    shop.cli({ "revoke", revoked.id });
    Server server(shop);
    auto client = server.client();
    auto pro_1 = url_of("acme-pro", "1.0", "pro-1.0.tgz");
    auto pro_2 = url_of("acme-pro", "2.0", "pro-2.0.tgz");

    auto missing = client.Get(pro_1.c_str());
    check_error(missing, 401, "unauthorized", "license key");
    CHECK(missing->get_header_value("WWW-Authenticate") == "Basic realm=\"charter\"");
    auto garbage = client.Get(pro_1.c_str(), basic("v4.public.not-a-key"));
    check_error(garbage, 401, "unauthorized", "not valid");
    CHECK(garbage->get_header_value("WWW-Authenticate") == "Basic realm=\"charter\"");
    // A genuine key with one character changed in its signature.
    auto tampered = valid.key;
    tampered[tampered.find('.', 10) - 5] ^= 1;
    check_error(client.Get(pro_1.c_str(), basic(tampered)), 401, "unauthorized", "not valid");

    check_error(client.Get(pro_1.c_str(), basic(expired.key)), 403, "expired",
        "license " + expired.id + " expired on 2026-12-31");
    check_error(client.Get(pro_2.c_str(), basic(updates.key)), 403, "updates_ended",
        "license " + updates.id + ": updates ended on 2026-06-30 and acme-pro 2.0 was released on 2026-08-01");
    check_error(client.Get(pro_1.c_str(), basic(revoked.key)), 403, "revoked", "license " + revoked.id + " has been revoked");
    check_error(client.Get(url_of("acme-legacy", "1.0", "legacy-1.0.tgz").c_str(), basic(valid.key)), 403, "wrong_product",
        "is for acme-pro, not acme-legacy");
    check_error(client.Get(url_of("acme-legacy", "2.0", "legacy-2.0.tgz").c_str(), basic(legacy.key)), 403, "expired",
        "expired on 2026-12-31 and acme-legacy 2.0 was released on 2027-03-01");
    // A refusal is the whole JSON message even when the request asked for a range of the file.
    check_error(client.Get(pro_1.c_str(), basic(expired.key, { { "Range", "bytes=0-3" } })), 403, "expired", "expired on");
    check_error(client.Get(url_of("acme-pro", "9.9", "pro-1.0.tgz").c_str(), basic(valid.key)), 404, "not_found");
    check_error(client.Get(url_of("acme-pro", "1.0", "pro-2.0.tgz").c_str(), basic(valid.key)), 404, "not_found");

    auto allowed = client.Get(pro_2.c_str(), basic(updates.key, { { "Range", "bytes=0-2" } }));
    REQUIRE(allowed);
    CHECK(allowed->status == 403);
    auto ok = client.Get(pro_1.c_str(), basic(updates.key));
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(ok->body == "pro one");
}

TEST_CASE("every download and refusal is written to the downloads log")
{
    Shop shop;
    auto one = shop.add_release("acme-pro", "1.0", "pro-1.0.tgz", "pro one", "2026-02-01");
    auto two = shop.add_release("acme-pro", "2.0", "pro-2.0.tgz", "pro two", "2026-08-01");
    auto valid = shop.issue("acme-pro");
    auto updates = shop.issue("acme-pro", { "--updates-until", "2026-06-30" });
    Server server(shop);
    auto client = server.client();
    auto pro_1 = url_of("acme-pro", "1.0", "pro-1.0.tgz");

    REQUIRE(client.Get(pro_1.c_str(), basic(valid.key))->status == 200);
    REQUIRE(client.Get(pro_1.c_str(), basic(valid.key, { { "Range", "bytes=2-4" } }))->status == 206);
    REQUIRE(client.Get(pro_1.c_str(), basic(valid.key, { { "If-None-Match", "\"" + sha256_hex("pro one") + "\"" } }))->status
        == 304);
    REQUIRE(client.Get(pro_1.c_str(), basic(valid.key, { { "Range", "bytes=100-" } }))->status == 416);
    REQUIRE(client.Get(url_of("acme-pro", "2.0", "pro-2.0.tgz").c_str(), basic(updates.key))->status == 403);
    REQUIRE(client.Get(url_of("acme-pro", "3.0", "pro-3.0.tgz").c_str(), basic(valid.key))->status == 404);
    REQUIRE(client.Get(pro_1.c_str())->status == 401);

    auto one_id = one["id"].get<std::string>(), two_id = two["id"].get<std::string>();
    auto rows = shop.sql("select outcome, coalesce(license_id, '-'), coalesce(release_id, '-'), bytes, remote_address, at "
                         "from downloads order by id");
    auto at = "1814313600"; // server_now
    std::string expected = "ok|" + valid.id + "|" + one_id + "|7|127.0.0.1|" + at + "\n" + "ok|" + valid.id + "|" + one_id
        + "|3|127.0.0.1|" + at + "\n" + "not_modified|" + valid.id + "|" + one_id + "|0|127.0.0.1|" + at + "\n"
        + "range_not_satisfiable|" + valid.id + "|" + one_id + "|0|127.0.0.1|" + at + "\n" + "updates_ended|" + updates.id + "|"
        + two_id + "|0|127.0.0.1|" + at + "\n" + "not_found|" + valid.id + "|-|0|127.0.0.1|" + at + "\n"
        + "unauthorized|-|-|0|127.0.0.1|" + at + "\n";
    CHECK(rows == expected);
}

TEST_CASE("charter downloads reads the downloads log: lines, filters, --since, --json, pages")
{
    Shop shop;
    auto one = shop.add_release("acme-pro", "1.0", "pro-1.0.tgz", "pro one", "2026-02-01");
    auto two = shop.add_release("acme-pro", "2.0", "pro-2.0.tgz", "pro two", "2026-08-01");
    auto legacy_one = shop.add_release("acme-legacy", "1.0", "legacy-1.0.tgz", "legacy one", "2026-02-01");
    auto valid = shop.issue("acme-pro");
    auto updates = shop.issue("acme-pro", { "--updates-until", "2026-06-30" });
    auto legacy = shop.issue("acme-legacy");
    // Nothing downloaded yet: no lines, an empty array.
    CHECK(shop.cli({ "downloads" }).out.empty());
    CHECK(shop.cli({ "downloads", "--json" }).out == "[]\n");

    {
        Server server(shop);
        auto client = server.client();
        auto pro_1 = url_of("acme-pro", "1.0", "pro-1.0.tgz");
        REQUIRE(client.Get(pro_1.c_str(), basic(valid.key))->status == 200);
        REQUIRE(client.Get(pro_1.c_str(), basic(valid.key, { { "Range", "bytes=2-4" } }))->status == 206);
        REQUIRE(client.Get(url_of("acme-pro", "2.0", "pro-2.0.tgz").c_str(), basic(updates.key))->status == 403);
        REQUIRE(client.Get(url_of("acme-legacy", "1.0", "legacy-1.0.tgz").c_str(), basic(legacy.key))->status == 200);
        REQUIRE(client.Get(url_of("acme-pro", "3.0", "pro-3.0.tgz").c_str(), basic(valid.key))->status == 404);
        REQUIRE(client.Get(pro_1.c_str())->status == 401);
        REQUIRE(client.Get(url_of("acme-legacy", "1.0", "legacy-1.0.tgz").c_str(), basic(valid.key))->status == 403);
    }

    // One line per request, oldest first: time, outcome, license, release, bytes, address.
    auto at = std::string(server_now);
    CHECK(shop.cli({ "downloads" }).out
        == at + "  ok  " + valid.id + "  acme-pro/1.0/pro-1.0.tgz  7  127.0.0.1\n" + at + "  ok  " + valid.id
            + "  acme-pro/1.0/pro-1.0.tgz  3  127.0.0.1\n" + at + "  updates_ended  " + updates.id
            + "  acme-pro/2.0/pro-2.0.tgz  0  127.0.0.1\n" + at + "  ok  " + legacy.id
            + "  acme-legacy/1.0/legacy-1.0.tgz  10  127.0.0.1\n" + at + "  not_found  " + valid.id + "  -  0  127.0.0.1\n" + at
            + "  unauthorized  -  -  0  127.0.0.1\n" + at + "  wrong_product  " + valid.id
            + "  acme-legacy/1.0/legacy-1.0.tgz  0  127.0.0.1\n");

    // --json: one array in the form of every listing, the release flattened, null where absent.
    auto printed = shop.cli({ "downloads", "--json" }).out;
    CHECK(printed == nlohmann::ordered_json::parse(printed).dump(2) + "\n");
    auto json = Json::parse(printed);
    REQUIRE(json.size() == 7);
    CHECK(json[0]
        == Json { { "id", json[0]["id"] }, { "at", at }, { "outcome", "ok" }, { "license", valid.id }, { "release", one["id"] },
            { "product", "acme-pro" }, { "version", "1.0" }, { "filename", "pro-1.0.tgz" }, { "bytes", 7 },
            { "remote_address", "127.0.0.1" } });
    CHECK(json[2]["release"] == two["id"]);
    CHECK(json[3]["release"] == legacy_one["id"]);
    CHECK(json[5]
        == Json { { "id", json[5]["id"] }, { "at", at }, { "outcome", "unauthorized" }, { "license", nullptr }, { "release", nullptr },
            { "product", nullptr }, { "version", nullptr }, { "filename", nullptr }, { "bytes", 0 },
            { "remote_address", "127.0.0.1" } });
    for (size_t i = 1; i < json.size(); ++i)
        CHECK(json[i]["id"].get<int64_t>() > json[i - 1]["id"].get<int64_t>());

    // Filters, alone and together: the outcomes of the lines kept, in order.
    auto outcomes = [&](std::vector<std::string> filters) {
        filters.insert(filters.begin(), { "downloads", "--json" });
        std::vector<std::string> kept;
        for (auto const& line : Json::parse(shop.cli(filters).out))
            kept.push_back(line["outcome"]);
        return kept;
    };
    using Outcomes = std::vector<std::string>;
    CHECK(outcomes({ "--license", valid.id }) == Outcomes { "ok", "ok", "not_found", "wrong_product" });
    CHECK(outcomes({ "--license", legacy.id }) == Outcomes { "ok" });
    CHECK(outcomes({ "--product", "acme-pro" }) == Outcomes { "ok", "ok", "updates_ended" });
    // A refusal of another product's release counts under the release's product.
    CHECK(outcomes({ "--product", "acme-legacy" }) == Outcomes { "ok", "wrong_product" });
    CHECK(outcomes({ "--outcome", "ok" }) == Outcomes { "ok", "ok", "ok" });
    CHECK(outcomes({ "--outcome", "unauthorized" }) == Outcomes { "unauthorized" });
    CHECK(outcomes({ "--outcome", "expired" }).empty());
    CHECK(outcomes({ "--license", valid.id, "--product", "acme-pro", "--outcome", "ok" }) == Outcomes { "ok", "ok" });
    CHECK(outcomes({ "--license", updates.id, "--product", "acme-legacy" }).empty());
    CHECK(outcomes({ "--limit", "2" }) == Outcomes { "ok", "ok" });
    CHECK(Json::parse(shop.cli({ "downloads", "--json", "--limit", "4", "--product", "acme-pro" }).out).size() == 3);
    CHECK(shop.cli({ "downloads", "--license", legacy.id }).out
        == at + "  ok  " + legacy.id + "  acme-legacy/1.0/legacy-1.0.tgz  10  127.0.0.1\n");

    // --since: a time, a date, or a duration before the CLI's clock (here two days after the requests).
    CHECK(outcomes({ "--since", at }).size() == 7);
    CHECK(outcomes({ "--since", "2027-07-01" }).empty());
    auto since_ago = [&](std::string const& duration) {
        auto result = charter_cli(shop.data_dir, { "downloads", "--json", "--since", duration }, { { "CHARTER_NOW", "2027-07-02T00:00:00Z" } });
        INFO(result.err);
        REQUIRE(result.exit_code == 0);
        return Json::parse(result.out).size();
    };
    CHECK(since_ago("1d") == 0);
    CHECK(since_ago("3d") == 7);

    // Pages: 2,500 more lines (every other one expired) are read across the CLI's pages of 1,000,
    // each line once, in order, with the filters applied on every page.
    shop.sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) "
             "INSERT INTO downloads (at, license_id, release_id, bytes, remote_address, outcome) "
             "SELECT 1814400000 + i, '" + valid.id + "', '" + one["id"].get<std::string>()
        + "', 7, '192.0.2.1', CASE i % 2 WHEN 0 THEN 'ok' ELSE 'expired' END FROM n");
    auto all = Json::parse(shop.cli({ "downloads", "--json" }).out);
    REQUIRE(all.size() == 2507);
    for (size_t i = 1; i < all.size(); ++i)
        REQUIRE(all[i]["id"].get<int64_t>() > all[i - 1]["id"].get<int64_t>());
    auto first = Json::parse(shop.cli({ "downloads", "--json", "--limit", "1500" }).out);
    REQUIRE(first.size() == 1500);
    CHECK(first.back() == all[1499]);
    auto expired = Json::parse(shop.cli({ "downloads", "--json", "--outcome", "expired" }).out);
    CHECK(expired.size() == 1250);
    CHECK(expired.front() == all[7]);
    CHECK(expired.back() == all[2505]);
    CHECK(outcomes({ "--outcome", "ok", "--license", valid.id }).size() == 1252);
    // The added lines are one a second from 2027-07-01T00:00:01Z: from the 1,200th on, 650 are expired.
    CHECK(outcomes({ "--since", "2027-07-01T00:20:00Z", "--outcome", "expired" }).size() == 650);
    auto plain = shop.cli({ "downloads", "--product", "acme-pro" }).out;
    CHECK(std::count(plain.begin(), plain.end(), '\n') == 2503);
}

TEST_CASE("path parameters never reach outside artifacts/")
{
    Shop shop;
    shop.add_release("acme-pro", "1.0", "pro-1.0.tgz", "pro one", "2026-02-01");
    auto license = shop.issue("acme-pro");
    write_file(shop.temp / "secret.txt", "TOP-SECRET-CONTENT");
    Server server(shop);
    auto authorization = httplib::make_basic_authentication_header("jane", license.key).second;
    auto sha = sha256_hex("pro one");

    // Raw requests: an HTTP client would normalise most of these paths before sending them.
    for (std::string target : std::vector<std::string> { "/downloads/acme-pro/1.0/../../../../../../etc/passwd", "/downloads/acme-pro/1.0/..%2F..%2F..%2Fetc%2Fpasswd",
             "/downloads/acme-pro/1.0/%2Fetc%2Fpasswd", "/downloads/acme-pro/1.0/%2e%2e%2f%2e%2e%2fcharter.db",
             "/downloads/acme-pro/1.0/pro-1.0.tgz%00", "/downloads/acme-pro/1.0/pro-1.0.tgz%00.txt",
             "/downloads/acme-pro/1.0/%00", "/downloads/acme-pro/%2E%2E/charter.db", "/downloads/../charter.db",
             "/downloads/acme-pro/..%2F..%2Fsecret.txt/x", "/downloads/acme-pro/1.0/..%5C..%5Csecret.txt",
             "/downloads/acme-pro/1.0/" + sha, "/downloads/acme-pro/1.0/..%2Fartifacts%2F" + sha,
             "/downloads/acme-pro/1.0//etc/passwd", "/downloads//etc/passwd/x", "//etc/passwd", "/etc/passwd",
             "/../../../../etc/passwd", "http://127.0.0.1/etc/passwd", "/downloads/acme-pro/1.0/%252e%252e%252fsecret.txt",
             "/downloads/acme-pro/1.0/....//....//etc/passwd", "/downloads/acme-pro/1.0/pro-1.0.tgz/../../../charter.db" }) {
        INFO(target);
        auto response = raw_http(server.port(), "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + authorization
                + "\r\nConnection: close\r\n\r\n");
        auto status = raw_status(response);
        CHECK((status == 400 || status == 404));
        auto body = raw_body(response);
        CHECK_FALSE(contains(body, "root:"));
        CHECK_FALSE(contains(body, "SQLite format"));
        CHECK_FALSE(contains(body, "TOP-SECRET"));
        CHECK_FALSE(contains(body, "pro one"));
        CHECK_FALSE(contains(body, "k4.secret"));
    }
    // The genuine URL over the same raw path works, so the refusals above are not an accident.
    auto genuine = raw_http(server.port(), "GET /downloads/acme-pro/1.0/pro-1.0.tgz HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
            + authorization + "\r\nConnection: close\r\n\r\n");
    CHECK(raw_status(genuine) == 200);
    CHECK(raw_body(genuine) == "pro one");
}

TEST_CASE("release file names: invalid UTF-8, quotes and control characters are refused; Content-Disposition has filename*")
{
    Shop shop;
    auto license = shop.issue("acme-pro");
    Server server(shop);
    auto client = server.client();
    auto uploader = shop.token("upload");

    // %C0%AE (an overlong '.'), a lone continuation byte, a quote, C0 and C1 controls.
    for (auto const* query : { "version=1.0&filename=a%C0%AEb.tgz", "version=1.0&filename=a%80.tgz",
             "version=1.0&filename=a%22%3Bfilename%3Devil.exe%3B%22.tgz", "version=1.0&filename=a%1Bb.tgz",
             "version=1.0&filename=a%C2%85b.tgz", "version=1%22&filename=a.tgz", "version=1%C0&filename=a.tgz" }) {
        INFO(query);
        check_error(upload(client, uploader, "acme-pro", query, "data"), 400, "invalid_parameter");
    }
    check_error(upload(client, uploader, "acme-pro", "version=1.0&filename=a%C0%AEb.tgz", "data"), 400, "invalid_parameter",
        "not valid UTF-8");
    check_error(upload(client, uploader, "acme-pro", "version=1.0&filename=a%22b.tgz", "data"), 400, "invalid_parameter",
        "\\x22");
    write_file(shop.temp / "quote\"d.tgz", "data");
    auto cli = shop.run({ "release", "add", "--product", "acme-pro", "--version", "1.0", shop.temp / "quote\"d.tgz" });
    CHECK(cli.exit_code != 0);
    CHECK(contains(cli.err, "filename"));
    CHECK(shop.sql("select count(*) from releases") == "0\n");
    CHECK(shop.artifacts().empty());

    // A UTF-8 name is stored as it is, and sent as filename* with an ASCII fallback.
    auto uploaded = upload(client, uploader, "acme-pro", "version=1.0&filename=caf%C3%A9%20menu-1.0.tgz", "data");
    check_error(uploaded, 400, "invalid_parameter"); // a space is still refused
    uploaded = upload(client, uploader, "acme-pro", "version=1.0&filename=caf%C3%A9-1.0.tgz", "data");
    REQUIRE(uploaded);
    INFO(uploaded->body);
    REQUIRE(uploaded->status == 201);
    CHECK(Json::parse(uploaded->body)["filename"] == "caf\xc3\xa9-1.0.tgz");
    auto file = client.Get("/downloads/acme-pro/1.0/caf%C3%A9-1.0.tgz", basic(license.key));
    REQUIRE(file);
    CHECK(file->status == 200);
    CHECK(file->body == "data");
    // Read off the wire: cpp-httplib's client percent-decodes header values it parses.
    auto raw = raw_http(server.port(), "GET /downloads/acme-pro/1.0/caf%C3%A9-1.0.tgz HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
            + httplib::make_basic_authentication_header("jane", license.key).second + "\r\nConnection: close\r\n\r\n");
    CHECK(raw_status(raw) == 200);
    CHECK(contains(raw, "\r\nContent-Disposition: attachment; filename=\"caf_-1.0.tgz\"; filename*=UTF-8''caf%C3%A9-1.0.tgz\r\n"));
}

TEST_CASE("artifacts are never read through a symbolic link planted in artifacts/")
{
    Shop shop;
    shop.add_release("acme-pro", "1.0", "pro-1.0.tgz", "pro one", "2026-02-01");
    auto license = shop.issue("acme-pro");
    write_file(shop.temp / "secret.txt", "TOP-SECRET-CONTENT");
    auto artifact = shop.data_dir + "/artifacts/" + sha256_hex("pro one");
    REQUIRE(::unlink(artifact.c_str()) == 0);
    REQUIRE(::symlink((shop.temp / "secret.txt").c_str(), artifact.c_str()) == 0);
    Server server(shop);
    auto client = server.client();
    auto refused = client.Get("/downloads/acme-pro/1.0/pro-1.0.tgz", basic(license.key));
    check_error(refused, 500, "internal", "missing");
    CHECK_FALSE(contains(refused->body, "TOP-SEC"));
    CHECK(contains(server.process().err(), "symbolic link"));
}

TEST_CASE("the downloads log keeps at most --downloads-log-limit lines per license an hour and forgets lines past the retention")
{
    Shop shop;
    shop.add_release("acme-pro", "1.0", "pro-1.0.tgz", "pro one", "2026-02-01");
    auto busy = shop.issue("acme-pro");
    auto quiet = shop.issue("acme-pro");
    // Lines from before: 400 and 31 days before the server's clock, and 29 days before it.
    int64_t now = 1814313600; // server_now
    for (int64_t days : { 400, 31, 29 })
        shop.sql("insert into downloads (at, license_id, outcome) values (" + std::to_string(now - days * 86400) + ", '"
            + quiet.id + "', 'ok')");
    Server server(shop, { "--downloads-log-limit", "5", "--downloads-log-retention", "30" });
    auto client = server.client();

    // A valid key asking for twelve files that do not exist: five lines, then nothing.
    for (int i = 0; i < 12; ++i)
        REQUIRE(client.Get(url_of("acme-pro", "9." + std::to_string(i), "missing.tgz").c_str(), basic(busy.key))->status == 404);
    CHECK(shop.sql("select count(*) from downloads where license_id = '" + busy.id + "'") == "5\n");
    // Other licenses are logged as before; the lines past 30 days are gone.
    REQUIRE(client.Get(url_of("acme-pro", "1.0", "pro-1.0.tgz").c_str(), basic(quiet.key))->status == 200);
    CHECK(shop.sql("select at from downloads where license_id = '" + quiet.id + "' order by id")
        == std::to_string(now - 29 * 86400) + "\n" + std::to_string(now) + "\n");
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    CHECK(contains(metrics->body, "\ncharter_downloads_log_dropped_total 7\n"));
}

TEST_CASE("uploads leave no files behind: unfinished ones are removed at start-up, a replaced release's file when unused")
{
    Shop shop;
    std::filesystem::create_directories(shop.data_dir + "/artifacts");
    // A temporary file of an upload that was killed, and one a live writer still holds.
    write_file(shop.data_dir + "/artifacts/.upload-AbCdEf", "half an upload");
    write_file(shop.data_dir + "/artifacts/.upload-LiveOn", "being written");
    int live = ::open((shop.data_dir + "/artifacts/.upload-LiveOn").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(live >= 0);
    REQUIRE(::flock(live, LOCK_EX) == 0);
    {
        Server server(shop);
        CHECK(contains(server.process().err(), "removed 1 unfinished upload(s)"));
        CHECK(shop.artifacts() == std::set<std::string> { ".upload-LiveOn" });
        ::close(live);
        std::filesystem::remove(shop.data_dir + "/artifacts/.upload-LiveOn");

        auto client = server.client();
        auto uploader = shop.token("upload");
        auto put = [&](char const* query, std::string const& data) {
            auto result = upload(client, uploader, "acme-pro", query, data);
            REQUIRE(result);
            INFO(result->body);
            REQUIRE(result->status == 201);
        };
        put("version=1.0&filename=a.bin", "content A");
        put("version=1.1&filename=a.bin", "content B");
        put("version=1.2&filename=a.bin", "content B");
        // Replacing 1.0: A is no release's file any more.
        put("version=1.0&filename=a.bin&replace=true", "content C");
        CHECK(shop.artifacts() == std::set<std::string> { sha256_hex("content B"), sha256_hex("content C") });
        // Replacing 1.1: B is still 1.2's file and stays.
        put("version=1.1&filename=a.bin&replace=true", "content C");
        CHECK(shop.artifacts() == std::set<std::string> { sha256_hex("content B"), sha256_hex("content C") });
        put("version=1.2&filename=a.bin&replace=true", "content C");
        CHECK(shop.artifacts() == std::set<std::string> { sha256_hex("content C") });
        // Replaced by the same bytes: the file stays.
        put("version=1.2&filename=a.bin&replace=true", "content C");
        CHECK(shop.artifacts() == std::set<std::string> { sha256_hex("content C") });
        auto license = shop.issue("acme-pro");
        auto file = client.Get(url_of("acme-pro", "1.0", "a.bin").c_str(), basic(license.key));
        REQUIRE(file);
        CHECK(file->body == "content C");
    }
}

TEST_CASE("a release upload honours Idempotency-Key: a retry gets the first release, scoped to the token")
{
    Shop shop;
    Server server(shop);
    auto client = server.client();
    auto uploader = shop.token("upload");
    auto other = shop.token("upload");
    auto put = [&](std::string const& token, std::string const& query, std::string const& data, std::string const& key) {
        return client.Post(("/v1/products/acme-pro/releases?" + query).c_str(), bearer(token, { { "Idempotency-Key", key } }), data,
            "application/octet-stream");
    };
    auto first = put(uploader, "version=1.0&filename=a.bin", "content A", "release-1.0");
    REQUIRE(first);
    REQUIRE(first->status == 201);
    CHECK_FALSE(first->has_header("Idempotent-Replayed"));
    auto retry = put(uploader, "version=1.0&filename=a.bin", "content A", "release-1.0");
    REQUIRE(retry);
    CHECK(retry->status == 201);
    CHECK(retry->get_header_value("Idempotent-Replayed") == "true");
    CHECK(Json::parse(retry->body)["id"] == Json::parse(first->body)["id"]);
    // The same key for another upload, and another token's key of the same value.
    check_error(put(uploader, "version=1.1&filename=a.bin", "content A", "release-1.0"), 409, "idempotency_conflict");
    check_error(put(other, "version=1.0&filename=a.bin", "content A", "release-1.0"), 409, "conflict", "already has a.bin");
    CHECK(shop.sql("select count(*) from releases") == "1\n");
    // The connection stays in step after a replay whose body was read and dropped.
    CHECK(client.Get("/healthz")->status == 200);
}

TEST_CASE("streaming a 200 MB file keeps the server's memory flat")
{
    Shop shop;
    // A sparse file: 200 MB of zeros that cost no disk until the CLI copies them in.
    auto path = shop.temp / "acme-pro-big.bin";
    size_t const size = size_t(200) << 20;
    {
        std::ofstream out(path, std::ios::binary);
    }
    REQUIRE(truncate(path.c_str(), off_t(size)) == 0);
    auto added = Json::parse(
        shop.cli({ "release", "add", "--json", "--product", "acme-pro", "--version", "1.0", "--released-at", "2026-02-01", path })
            .out);
    auto license = shop.issue("acme-pro");
    Server server(shop);
    auto client = server.client();
    // A warm-up download: worker threads, TLS-free buffers and the database connection exist
    // before measuring.
    REQUIRE(client.Get("/downloads/acme-pro/1.0/acme-pro-big.bin", basic(license.key, { { "Range", "bytes=0-1023" } }))->status
        == 206);
    auto rss_before = server.process().rss_kib();
    auto peak_before = server.process().peak_rss_kib();

    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    size_t received = 0;
    auto result = client.Get("/downloads/acme-pro/1.0/acme-pro-big.bin", basic(license.key),
        [&](char const* data, size_t length) {
            crypto_hash_sha256_update(&state, reinterpret_cast<unsigned char const*>(data), length);
            received += length;
            return true;
        });
    REQUIRE(result);
    CHECK(result->status == 200);
    CHECK(received == size);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&state, digest);
    char hex[sizeof digest * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    CHECK(added[0]["sha256"] == hex);
    CHECK(result->get_header_value("ETag") == "\"" + std::string(hex) + "\"");

    auto rss_after = server.process().rss_kib();
    auto peak_after = server.process().peak_rss_kib();
    WARN("download of 200 MiB: server RSS " << rss_before << " KiB before, " << rss_after << " KiB after; peak " << peak_before
                                            << " KiB before, " << peak_after << " KiB after");
    CHECK(peak_after - peak_before < 16 * 1024);
    CHECK(rss_after - rss_before < 16 * 1024);
}
