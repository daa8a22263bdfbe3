// The production front of docs/deploy/nginx.conf, for real: Debian's nginx on loopback with a
// certificate made here by the openssl CLI, its configuration generated from the documented
// file (placeholders filled in with temporary paths and free ports), in front of a charter-server
// that answers authorised downloads with X-Accel-Redirect. Customers' requests go over HTTPS.
// Both programs are stopped by the test.

#include "support/nginx.hpp"
#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <sodium.h>

#include <filesystem>
#include <random>

#include <unistd.h>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

constexpr char const* accel_prefix = "/_charter_artifacts";

// The clean environment, with the clock of the licenses below.
std::map<std::string, std::string> const nginx_test_env = clean_env({ { "CHARTER_NOW", "2027-06-30T00:00:00Z" } });

}

TEST_CASE("downloads through nginx over HTTPS with X-Accel-Redirect")
{
    TempDir temp;
    auto data_dir = temp / "data";
    auto cli = [&](std::vector<std::string> args) {
        auto result = charter_cli(data_dir, args, { { "CHARTER_NOW", "2026-01-01T00:00:00Z" } });
        INFO("charter " << args[0] << ": " << result.err);
        REQUIRE(result.exit_code == 0);
        return result.out;
    };
    cli({ "init", "--issuer", "Acme Inc." });
    cli({ "product", "add", "acme-pro" });
    cli({ "customer", "add", "--email", "jane@example.com" });
    std::string data(3 * 1024 * 1024 + 17, '\0');
    std::mt19937 generator(11);
    for (auto& byte : data)
        byte = char(generator());
    auto hash = sha256_hex(data);
    write_file(temp / "acme-pro-1.0.tar.gz", data);
    cli({ "release", "add", "--product", "acme-pro", "--version", "1.0", "--released-at", "2026-02-01", temp / "acme-pro-1.0.tar.gz" });
    auto valid = Json::parse(cli({ "issue", "--json", "--product", "acme-pro", "--customer", "jane@example.com" }));
    auto expired = Json::parse(
        cli({ "issue", "--json", "--product", "acme-pro", "--customer", "jane@example.com", "--expires", "2026-12-31" }));
    std::string valid_key = valid["key"], expired_key = expired["key"], expired_id = expired["id"];

    // The unit's settings; the data directory, port and thread count are the test's own.
    auto server_env = unit_env(nginx_test_env);
    CHECK(server_env["CHARTER_ACCEL_REDIRECT"] == accel_prefix);
    ServerChild server(data_dir, temp.path(), { "--threads", "4", "--accel-redirect", accel_prefix }, server_env);
    auto server_port = std::to_string(server.port());

    // docs/deploy/nginx.conf over HTTPS with a certificate for 127.0.0.1.
    std::optional<HttpsFront> front;
    front.emplace(temp.path(), deploy_file("nginx.conf"),
        std::map<std::string, std::string> { { "CHARTER_UPSTREAM", "127.0.0.1:" + server_port },
            { "CHARTER_ARTIFACTS", data_dir + "/artifacts" } });
    auto https_port = front->https_port(), http_port = front->http_port();
    auto cert = front->cert();
    auto& nginx = front->nginx();
    auto client_pointer = front->client();
    auto& client = *client_pointer;
    auto auth = [](std::string const& license_key, httplib::Headers extra = {}) {
        extra.insert(httplib::make_basic_authentication_header("jane", license_key));
        return extra;
    };
    auto url = "/downloads/acme-pro/1.0/acme-pro-1.0.tar.gz";

    auto full = client.Get(url, auth(valid_key));
    INFO("nginx: " << nginx.error_log());
    REQUIRE(full);
    CHECK(full->status == 200);
    CHECK(full->body.size() == data.size());
    CHECK(sha256_hex(full->body) == hash);
    CHECK(full->get_header_value("Content-Length") == std::to_string(data.size()));
    CHECK(full->get_header_value("ETag") == "\"" + hash + "\"");
    CHECK(contains(full->get_header_value("Repr-Digest"), "sha-256=:"));
    CHECK(full->get_header_value("Content-Disposition")
        == "attachment; filename=\"acme-pro-1.0.tar.gz\"; filename*=UTF-8''acme-pro-1.0.tar.gz");
    CHECK(full->get_header_value("Accept-Ranges") == "bytes");
    CHECK(full->has_header("Strict-Transport-Security"));

    auto part = client.Get(url, auth(valid_key, { { "Range", "bytes=1000000-1000099" } }));
    REQUIRE(part);
    CHECK(part->status == 206);
    CHECK(part->body == data.substr(1000000, 100));
    CHECK(part->get_header_value("Content-Range") == "bytes 1000000-1000099/" + std::to_string(data.size()));
    auto tail = client.Get(url, auth(valid_key, { { "Range", "bytes=-10" } }));
    REQUIRE(tail);
    CHECK(tail->status == 206);
    CHECK(tail->body == data.substr(data.size() - 10));
    auto unsatisfiable = client.Get(url, auth(valid_key, { { "Range", "bytes=99999999-" } }));
    REQUIRE(unsatisfiable);
    CHECK(unsatisfiable->status == 416);
    auto cached = client.Get(url, auth(valid_key, { { "If-None-Match", "\"" + hash + "\"" } }));
    REQUIRE(cached);
    CHECK(cached->status == 304);

    // Refusals come from charter-server, JSON and all.
    auto refused = client.Get(url, auth(expired_key));
    REQUIRE(refused);
    CHECK(refused->status == 403);
    auto body = Json::parse(refused->body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body["error"]["code"] == "expired");
    CHECK(body["error"]["message"] == "license " + expired_id + " expired on 2026-12-31; renew it to download acme-pro releases");
    // The sentence is also the reason phrase, and nginx passes the status line on as it is
    // (clients that print no body, like RubyGems and wget, print that).
    CHECK(refused->reason == body["error"]["message"]);
    CHECK(full->reason == "OK");
    // The list of releases refuses an expired license the same way (it answered 200 with an
    // empty list), and so does the RubyGems source, with 402 (docs/rubygems.md).
    auto expired_listing = client.Get("/v1/downloads", auth(expired_key));
    REQUIRE(expired_listing);
    CHECK(expired_listing->status == 403);
    CHECK(expired_listing->reason == body["error"]["message"]);
    for (char const* path : { "/rubygems/", "/rubygems/versions", "/rubygems/specs.4.8.gz" }) {
        INFO(path);
        auto index = client.Get(path, auth(expired_key));
        REQUIRE(index);
        CHECK(index->status == 402);
        CHECK(index->reason == body["error"]["message"]);
        auto fine = client.Get(path, auth(valid_key));
        REQUIRE(fine);
        CHECK(fine->status == 200);
        CHECK(fine->reason == "OK");
    }
    // The real clients, over HTTPS through nginx, print it.
    REQUIRE(std::filesystem::exists("/usr/bin/gem"));
    REQUIRE(std::filesystem::exists("/usr/bin/bundle"));
    auto source = "https://127.0.0.1:" + std::to_string(https_port) + "/rubygems/";
    std::map<std::string, std::string> ruby_env { { "HOME", temp / "ruby-home" }, { "GEM_HOME", temp / "ruby-gems" },
        { "GEM_PATH", temp / "ruby-gems" }, { "SSL_CERT_FILE", cert }, { "BUNDLE_USER_HOME", temp / "ruby-home/.bundle" },
        { "BUNDLE_PATH", temp / "ruby-bundle" }, { "BUNDLE_GEMFILE", temp / "app/Gemfile" },
        { "BUNDLE_APP_CONFIG", temp / "app/.bundle" }, { "BUNDLE_RETRY", "0" }, { "BUNDLE_SILENCE_ROOT_WARNING", "true" },
        { "BUNDLE_127__0__0__1", "license:" + expired_key }, { "http_proxy", "" }, { "https_proxy", "" } };
    std::filesystem::create_directories(temp / "app");
    write_file(temp / "app/Gemfile", "source \"" + source + "\"\n\ngem \"acme-pro\"\n");
    auto one_line = [](std::string text) {
        std::replace(text.begin(), text.end(), '\n', ' ');
        return text;
    };
    std::string expected = "bad response " + std::string(body["error"]["message"]) + " 402";
    auto gem = run_process({ "/usr/bin/gem", "install", "--clear-sources", "--source",
                               "https://license:" + expired_key + "@127.0.0.1:" + std::to_string(https_port) + "/rubygems/",
                               "--no-document", "acme-pro" },
        ruby_env);
    INFO("gem install: " << gem.out << gem.err);
    CHECK(gem.exit_code != 0);
    CHECK(contains(gem.out + gem.err, expected));
    auto bundle = run_process({ "/bin/sh", "-c", "cd \"$1\" && /usr/bin/bundle install", "sh", temp / "app" }, ruby_env);
    INFO("bundle install: " << bundle.out << bundle.err);
    CHECK(bundle.exit_code != 0);
    CHECK(contains(one_line(bundle.out + bundle.err), expected));

    auto anonymous = client.Get(url);
    REQUIRE(anonymous);
    CHECK(anonymous->status == 401);
    CHECK(anonymous->get_header_value("WWW-Authenticate") == "Basic realm=\"charter\"");
    // Behind nginx every request reaches charter-server from 127.0.0.1: one customer's stale
    // key, tried again and again (a CI job), must not lock the other customers out.
    for (int attempt = 0; attempt < 30; ++attempt) {
        auto wrong = client.Get(url, auth("v4.public.not-a-license-key"));
        REQUIRE(wrong);
        CHECK(wrong->status == 401);
    }
    auto after_failures = client.Get(url, auth(valid_key, { { "Range", "bytes=0-9" } }));
    REQUIRE(after_failures);
    CHECK(after_failures->status == 206);
    auto listing = client.Get("/v1/downloads", auth(valid_key));
    REQUIRE(listing);
    CHECK(listing->status == 200);
    CHECK(Json::parse(listing->body)["releases"][0]["sha256"] == hash);

    // /metrics stays internal (issue 12 item 6): nginx refuses it in every spelling, while
    // charter-server itself still answers it on its own address.
    for (char const* path : { "/metrics", "/metrics?format=text", "//metrics", "/%6detrics", "/metrics/", "/./metrics" }) {
        auto metrics = client.Get(path);
        INFO(path);
        REQUIRE(metrics);
        CHECK(metrics->status == 403);
        CHECK_FALSE(contains(metrics->body, "charter_http_requests_total"));
    }
    httplib::Client upstream("127.0.0.1", server.port());
    auto internal_metrics = upstream.Get("/metrics");
    REQUIRE(internal_metrics);
    CHECK(internal_metrics->status == 200);
    CHECK(contains(internal_metrics->body, "charter_http_requests_total"));

    // The artifacts location is internal: not reachable from outside, not even with a key.
    auto direct = client.Get((std::string(accel_prefix) + "/" + hash).c_str(), auth(valid_key));
    REQUIRE(direct);
    CHECK(direct->status == 404);
    CHECK_FALSE(contains(direct->body, data.substr(0, 64)));

    // A symbolic link planted in artifacts/ is never followed: nginx serves the files itself
    // here, and its internal location has disable_symlinks.
    write_file(temp / "secret.txt", "TOP-SECRET-CONTENT");
    write_file(temp / "acme-pro-1.1.tar.gz", "pro one one");
    cli({ "release", "add", "--product", "acme-pro", "--version", "1.1", "--released-at", "2026-02-01", temp / "acme-pro-1.1.tar.gz" });
    auto planted = data_dir + "/artifacts/" + sha256_hex("pro one one");
    REQUIRE(::unlink(planted.c_str()) == 0);
    REQUIRE(::symlink((temp / "secret.txt").c_str(), planted.c_str()) == 0);
    auto linked = client.Get("/downloads/acme-pro/1.1/acme-pro-1.1.tar.gz", auth(valid_key));
    REQUIRE(linked);
    CHECK(linked->status != 200);
    CHECK_FALSE(contains(linked->body, "TOP-SEC"));

    // Plain HTTP only redirects to HTTPS, before any key is sent.
    httplib::Client plain("127.0.0.1", http_port);
    auto redirected = plain.Get(url);
    REQUIRE(redirected);
    CHECK(redirected->status == 301);
    CHECK(redirected->get_header_value("Location").starts_with("https://"));

    CHECK(nginx.process().stop() == 0);
    front.reset();
    CHECK(server.stop() == 0);
    // charter-server itself sent no file bytes: every authorised download was an X-Accel-Redirect.
    auto log = server.out();
    CHECK(contains(log, "\"status\":200"));
    std::istringstream lines(log);
    std::string line;
    int downloads = 0;
    while (std::getline(lines, line)) {
        if (!contains(line, "\"route\":\"/downloads/{product}/{version}/{file}\"") || !contains(line, "\"status\":200"))
            continue;
        ++downloads;
        CHECK(contains(line, "\"bytes\":0"));
    }
    // The whole file, two ranges and the range after the failed attempts (nginx makes the 206s),
    // and the release whose file is a planted link (authorised here, refused by nginx).
    CHECK(downloads == 5);
}
