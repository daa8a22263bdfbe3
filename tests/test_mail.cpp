// Mail (issue 17): the public URL setting, the outbox written in each change's transaction,
// rendering, delivery over real SMTP (tests/support/smtp_sink.py on aiosmtpd), the server's
// sender, reminders and the operator tools. docs/mail.md.

#include "charter/db/store.hpp"
#include "charter/keygen/ops/mail_queue.hpp"
#include "charter/keygen/ops/public_url.hpp"
#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace charter;
using namespace charter::testing;

namespace {

std::string server_start_error(std::string const& data_dir, std::vector<std::string> extra, std::map<std::string, std::string> env)
{
    std::vector<std::string> argv { CHARTER_SERVER_PATH, "--data-dir", data_dir, "--listen", "127.0.0.1:0" };
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto result = run_process(argv, clean_env(env));
    CHECK(result.exit_code != 0);
    return result.err;
}

}

TEST_CASE("the public URL is checked and normalised", "[public_url]")
{
    CHECK(ops::parse_public_url("https://gems.acme.example/", "--public-url").value() == "https://gems.acme.example");
    CHECK(ops::parse_public_url("HTTP://127.0.0.1:8420//", "--public-url").value() == "http://127.0.0.1:8420");
    CHECK(ops::parse_public_url("https://acme.example/charter/", "--public-url").value() == "https://acme.example/charter");
    CHECK(ops::parse_public_url("https://[::1]:8420", "--public-url").value() == "https://[::1]:8420");
    CHECK(ops::public_url_host("https://gems.acme.example:8443/x") == "gems.acme.example");
    CHECK(ops::public_url_host("http://[::1]:8420") == "[::1]");
    for (auto const* bad : { "gems.acme.example", "ftp://gems.acme.example", "https://gems.acme.example/?a=b",
             "https://gems.acme.example/#top", "https://user:pw@gems.acme.example", "https://", "https://gems.acme.example:99999",
             "https://gems acme.example", "https://gems.acme.example/\r\nX: y", "https://::1/" }) {
        INFO(bad);
        auto url = ops::parse_public_url(bad, "--public-url");
        REQUIRE(!url);
        CHECK(url.error().kind == ErrorKind::invalid_input);
        CHECK(contains(url.error().message, "--public-url"));
    }
}

TEST_CASE("charter and charter-server refuse a bad public URL at start", "[public_url]")
{
    Vendor vendor;
    auto bad_option = vendor.run({ "--public-url", "https://gems.acme.example/?x=1", "list" });
    CHECK(bad_option.exit_code == 3);
    CHECK(contains(bad_option.err, "--public-url \"https://gems.acme.example/?x=1\" must not have a query"));
    auto bad_env = charter_cli(vendor.data_dir, { "list" }, { { "CHARTER_PUBLIC_URL", "gems.acme.example" } });
    CHECK(bad_env.exit_code == 3);
    CHECK(contains(bad_env.err, "CHARTER_PUBLIC_URL \"gems.acme.example\" is not a URL"));
    CHECK(charter_cli(vendor.data_dir, { "list" }, { { "CHARTER_PUBLIC_URL", "https://gems.acme.example" } }).exit_code == 0);

    CHECK(contains(server_start_error(vendor.data_dir, { "--public-url", "ftp://x" }, {}),
        "--public-url \"ftp://x\" must start with http:// or https://"));
    CHECK(contains(server_start_error(vendor.data_dir, {}, { { "CHARTER_PUBLIC_URL", "https://x/#y" } }),
        "CHARTER_PUBLIC_URL: --public-url \"https://x/#y\" must not have a query or a fragment"));
    ServerChild server(vendor, { "--public-url", "https://gems.acme.example/" });
    CHECK(server.running());
}

TEST_CASE("a sign-in link is queued in the caller's transaction", "[outbox]")
{
    Vendor vendor;
    auto store = db::Store::open(vendor.data_dir + "/charter.db", db::OpenMode::existing);
    REQUIRE(store);
    std::string link = "https://gems.acme.example/portal/signin?token=abc";

    // The caller's transaction fails after queuing: no message.
    auto failed = store->transaction([&]() -> Result<void> {
        auto id = ops::queue_signin_link(*store, "jane@example.com", "Jane Doe", link, 1'800'000'000);
        REQUIRE(id);
        return make_error(ErrorKind::conflict, "the portal's own write failed");
    });
    CHECK(!failed);
    CHECK(store->list_mail({}).value().empty());

    std::string id;
    REQUIRE(store->transaction([&]() -> Result<void> {
        auto queued = ops::queue_signin_link(*store, "jane@example.com", "Jane Doe", link, 1'800'000'000);
        if (!queued)
            return queued.error();
        id = *queued;
        return {};
    }));
    auto message = store->get_mail(id).value();
    CHECK(message.kind == "signin_link");
    CHECK(message.recipient == "jane@example.com");
    CHECK(message.recipient_name == "Jane Doe");
    CHECK(message.status == "pending");
    CHECK(nlohmann::json::parse(message.details_json)["link"] == link);
    CHECK(!message.license_id);

    // Bad input is refused with nothing written.
    for (auto const& [email, name, url] : std::vector<std::tuple<std::string, std::string, std::string>> {
             { "jane@example.com\r\nBcc: x@evil.example", "Jane", link },
             { "jane@example.com", "Jane\r\nBcc: x@evil.example", link },
             { "not-an-address", "Jane", link },
             { "jane@example.com", "Jane", "javascript:alert(1)" },
             { "jane@example.com", "Jane", link + "\r\nX: y" } }) {
        auto refused = ops::queue_signin_link(*store, email, name, url, 1'800'000'000);
        REQUIRE(!refused);
        CHECK(refused.error().kind == ErrorKind::invalid_input);
    }
    CHECK(store->list_mail({}).value().size() == 1);
}
