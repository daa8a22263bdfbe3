// Mail (issue 17): the public URL setting, the outbox written in each change's transaction,
// rendering, delivery over real SMTP (tests/support/smtp_sink.py on aiosmtpd), the server's
// sender, reminders and the operator tools. docs/mail.md.

#include "charter/db/store.hpp"
#include "charter/keygen/ops/mail_delivery.hpp"
#include "charter/keygen/ops/mail_queue.hpp"
#include "charter/keygen/ops/public_url.hpp"
#include "support/server_harness.hpp"
#include "support/smtp_sink.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <ctime>
#include <optional>

using namespace charter;
using namespace charter::testing;

namespace {

// Quoted-printable decoded (soft breaks joined, =XX replaced), CRLF as LF.
std::string decode_qp(std::string const& text)
{
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '=' && i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
            i += 2;
        } else if (text[i] == '=' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1]))
            && std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out += char(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else if (text[i] == '\r') {
            continue;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string header(SunkMessage const& message, std::string const& name)
{
    auto at = message.data.find("\r\n" + name + ": ");
    if (at == std::string::npos && message.data.starts_with(name + ": "))
        at = std::string::npos - 1;
    if (at == std::string::npos)
        return {};
    size_t start = at == std::string::npos - 1 ? name.size() + 2 : at + name.size() + 4;
    std::string value;
    size_t end = start;
    for (;;) {
        auto line_end = message.data.find("\r\n", end);
        value += message.data.substr(end, line_end - end);
        end = line_end + 2;
        if (end >= message.data.size() || (message.data[end] != ' ' && message.data[end] != '\t'))
            break;
    }
    return value;
}

std::string body(SunkMessage const& message)
{
    auto at = message.data.find("\r\n\r\n");
    return decode_qp(message.data.substr(at + 4));
}

// The settings `charter mail send` and charter-server send with, to `sink`.
std::map<std::string, std::string> mail_env(SmtpSink const& sink, std::map<std::string, std::string> extra = {})
{
    std::map<std::string, std::string> env { { "CHARTER_SMTP_URL", sink.url() }, { "CHARTER_MAIL_FROM", "licenses@acme.example" },
        { "CHARTER_PUBLIC_URL", "https://gems.acme.example" }, { "CHARTER_MAIL_LEASE", "3" } };
    for (auto const& [name, value] : extra)
        env[name] = value;
    return env;
}

ProcessResult mail_send(Vendor const& vendor, SmtpSink const& sink)
{
    return charter_cli(vendor.data_dir, { "mail", "send" }, mail_env(sink));
}

nlohmann::json mail_list(Vendor const& vendor, std::vector<std::string> extra = {})
{
    std::vector<std::string> args { "mail", "list", "--json" };
    args.insert(args.end(), extra.begin(), extra.end());
    return nlohmann::json::parse(vendor.cli(args).out);
}

std::string server_start_error(std::string const& data_dir, std::vector<std::string> extra, std::map<std::string, std::string> env)
{
    std::vector<std::string> argv { CHARTER_SERVER_PATH, "--data-dir", data_dir, "--listen", "127.0.0.1:0" };
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto result = run_process(argv, clean_env(database_env(data_dir, env)));
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
    auto store = vendor.open_store();
    std::string link = "https://gems.acme.example/portal/signin?token=abc";

    // The caller's transaction fails after queuing: no message.
    auto failed = store.transaction([&]() -> Result<void> {
        auto id = ops::queue_signin_link(store, "jane@example.com", "Jane Doe", link, 1'800'000'000);
        REQUIRE(id);
        return make_error(ErrorKind::conflict, "the portal's own write failed");
    });
    CHECK(!failed);
    CHECK(store.list_mail({}).value().empty());

    std::string id;
    REQUIRE(store.transaction([&]() -> Result<void> {
        auto queued = ops::queue_signin_link(store, "jane@example.com", "Jane Doe", link, 1'800'000'000);
        if (!queued)
            return queued.error();
        id = *queued;
        return {};
    }));
    auto message = store.get_mail(id).value();
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
        auto refused = ops::queue_signin_link(store, email, name, url, 1'800'000'000);
        REQUIRE(!refused);
        CHECK(refused.error().kind == ErrorKind::invalid_input);
    }
    CHECK(store.list_mail({}).value().size() == 1);
}

TEST_CASE("every change is queued in its own transaction, and only with it", "[outbox]")
{
    Vendor vendor;
    vendor.cli({ "plan", "add", "short", "--product", "acme-pro", "--duration", "10d", "--remind", "14d,3d" });
    auto issued = vendor.issue("acme-pro", { "--expires", "1y" });
    vendor.cli({ "renew", issued.id, "--by", "1y" });
    vendor.cli({ "license", "update", issued.id, "--seats", "3" });
    vendor.cli({ "suspend", issued.id, "--reason", "payment failed" });
    vendor.cli({ "reinstate", issued.id });
    vendor.cli({ "revoke", issued.id, "--reason", "refunded" });
    std::vector<std::string> kinds;
    for (auto const& message : mail_list(vendor, { "--license", issued.id }))
        kinds.push_back(message["kind"]);
    CHECK(kinds == std::vector<std::string> { "issued", "renewed", "updated", "suspended", "reinstated", "revoked" });
    auto versions = mail_list(vendor, { "--license", issued.id });
    CHECK(versions[0]["license_version"] == 1);
    CHECK(versions[1]["license_version"] == 2);
    CHECK(versions[2]["license_version"] == 3);
    CHECK(versions[3]["details"]["reason"] == "payment failed");

    // A refused change leaves no message: renewing a revoked license, an update that changes nothing.
    auto before = mail_list(vendor).size();
    CHECK(vendor.run({ "renew", issued.id, "--by", "1y" }).exit_code == 5);
    CHECK(vendor.run({ "suspend", issued.id, "--reason", "x" }).exit_code == 5);
    auto other = vendor.issue("acme-pro", { "--expires", "1y", "--seats", "2" });
    vendor.cli({ "license", "update", other.id, "--seats", "2" });
    CHECK(mail_list(vendor).size() == before + 1);

    // A batch that fails leaves no license and no message.
    write_file(vendor.temp / "batch.csv", "customer,product,expires\njane@example.com,acme-pro,1y\njane@example.com,no-such-product,1y\n");
    CHECK(vendor.run({ "issue", "--batch", vendor.temp / "batch.csv" }).exit_code != 0);
    CHECK(mail_list(vendor).size() == before + 1);

    // A message that cannot be written fails its change: nothing is issued, suspended or renewed.
    vendor.refuse_inserts("mail_outbox", "outbox refused");
    auto licenses = vendor.license_ids().size();
    auto refused = vendor.run({ "issue", "--product", "acme-pro", "--customer", "jane@example.com", "--expires", "1y" });
    CHECK(refused.exit_code != 0);
    CHECK(contains(refused.err, "outbox refused"));
    CHECK(vendor.license_ids().size() == licenses);
    CHECK(vendor.run({ "suspend", other.id, "--reason", "x" }).exit_code != 0);
    CHECK(trimmed(vendor.sql("SELECT count(*) FROM licenses WHERE suspended_at IS NULL AND id = '" + other.id + "'")) == "1");
    CHECK(vendor.run({ "renew", other.id, "--by", "1y" }).exit_code != 0);
    CHECK(trimmed(vendor.sql("SELECT version FROM licenses WHERE id = '" + other.id + "'")) == "1");
    CHECK(vendor.run({ "revoke", other.id }).exit_code != 0);
    CHECK(trimmed(vendor.sql("SELECT status FROM licenses WHERE id = '" + other.id + "'")) == "active");
    vendor.allow_inserts("mail_outbox");

    // A kind turned off is not queued; the others still are.
    vendor.cli({ "mail", "disable", "issued" });
    auto quiet = vendor.issue("acme-pro", { "--expires", "1y" });
    CHECK(mail_list(vendor, { "--license", quiet.id }).empty());
    vendor.cli({ "suspend", quiet.id, "--reason", "x" });
    CHECK(mail_list(vendor, { "--license", quiet.id }).size() == 1);
    vendor.cli({ "mail", "enable", "all" });
    CHECK(vendor.run({ "mail", "disable", "nonsense" }).exit_code == 3);
}

TEST_CASE("no reminder for a Stripe subscription that renews by itself; one when it will not", "[outbox]")
{
    Vendor vendor;
    vendor.cli({ "plan", "add", "short", "--product", "acme-pro", "--duration", "10d", "--remind", "14d,3d" });
    auto renewing = vendor.issue("acme-pro", { "--plan", "short" });
    auto trialing = vendor.issue("acme-pro", { "--plan", "short" });
    auto ending = vendor.issue("acme-pro", { "--plan", "short" });
    auto failing = vendor.issue("acme-pro", { "--plan", "short" });
    auto one_time = vendor.issue("acme-pro", { "--plan", "short" });
    auto unbilled = vendor.issue("acme-pro", { "--plan", "short" });
    auto store = vendor.open_store();
    auto bill = [&](std::string const& item_id, std::optional<std::string> subscription, std::string const& status,
                    bool cancel_at_period_end, std::string const& license_id) {
        db::StripeItem item;
        item.id = item_id;
        item.subscription_id = std::move(subscription);
        item.status = status;
        item.cancel_at_period_end = cancel_at_period_end;
        item.license_id = license_id;
        REQUIRE(store.put_stripe_item(item));
    };
    bill("si_renewing", "sub_1", "active", false, renewing.id);
    bill("si_trialing", "sub_2", "trialing", false, trialing.id);
    bill("si_ending", "sub_3", "active", true, ending.id);
    bill("si_failing", "sub_4", "past_due", false, failing.id);
    bill("cs_one_time", std::nullopt, "complete", false, one_time.id);
    REQUIRE(ops::queue_due_reminders(store, std::time(nullptr)));
    auto reminders = [&](std::string const& license_id) {
        int count = 0;
        for (auto const& message : mail_list(vendor, { "--license", license_id }))
            count += message["kind"] == "reminder";
        return count;
    };
    CHECK(reminders(renewing.id) == 0);
    CHECK(reminders(trialing.id) == 0);
    CHECK(reminders(ending.id) == 1);
    CHECK(reminders(failing.id) == 1);
    CHECK(reminders(one_time.id) == 1);
    CHECK(reminders(unbilled.id) == 1);

    // Set to cancel at the period's end later: reminded at the next pass.
    bill("si_renewing", "sub_1", "active", true, renewing.id);
    REQUIRE(ops::queue_due_reminders(store, std::time(nullptr)));
    CHECK(reminders(renewing.id) == 1);
    CHECK(reminders(ending.id) == 1);
}

TEST_CASE("charter mail send delivers every kind once, with the key of its version", "[smtp]")
{
    Vendor vendor;
    SmtpSink sink(vendor.temp / "sink");
    vendor.cli({ "plan", "add", "short", "--product", "acme-pro", "--duration", "10d", "--remind", "14d,3d" });
    auto issued = vendor.issue("acme-pro", { "--expires", "1y" });
    auto renewed_key = trimmed(vendor.cli({ "renew", issued.id, "--by", "1y" }).out);
    vendor.cli({ "license", "update", issued.id, "--seats", "3" });
    vendor.cli({ "suspend", issued.id, "--reason", "payment failed" });
    vendor.cli({ "reinstate", issued.id });
    vendor.cli({ "revoke", issued.id, "--reason", "refunded" });
    auto reminded = vendor.issue("acme-pro", { "--plan", "short" });
    {
        auto store = vendor.open_store();
        REQUIRE(ops::queue_signin_link(store, "jane@example.com", "Jane Doe", "https://gems.acme.example/portal/in?t=1", std::time(nullptr)));
    }
    auto versions = nlohmann::json::parse(vendor.cli({ "show", issued.id, "--json" }).out)["versions"];

    auto sent = mail_send(vendor, sink);
    INFO(sent.err);
    CHECK(sent.exit_code == 0);
    auto messages = sink.messages();
    // issued x2, renewed, updated, suspended, reinstated, revoked, reminder, signin_link
    REQUIRE(messages.size() == 9);
    std::map<std::string, std::vector<SunkMessage>> by_subject;
    std::set<std::string> ids;
    for (auto const& message : messages) {
        CHECK(message.envelope["rcpt_tos"] == nlohmann::json::array({ "jane@example.com" }));
        CHECK(message.envelope["mail_from"] == "licenses@acme.example");
        CHECK(header(message, "To") == "\"Jane Doe\" <jane@example.com>");
        CHECK(header(message, "From") == "\"Acme Inc.\" <licenses@acme.example>");
        ids.insert(header(message, "Message-ID"));
        by_subject[header(message, "Subject")].push_back(message);
        for (size_t start = 0; start < message.data.size();) {
            auto end = message.data.find("\r\n", start);
            CHECK(end - start <= 78);
            start = end + 2;
        }
    }
    CHECK(ids.size() == 9);
    auto const& first = by_subject.at("Your Acme Pro license key");
    REQUIRE(first.size() == 2);
    bool found_issued = false;
    for (auto const& message : first) {
        auto text = body(message);
        if (contains(text, issued.id)) {
            found_issued = true;
            CHECK(contains(text, issued.key));
            CHECK(contains(text, "bundle config set --global gems.acme.example license:" + issued.key));
            CHECK(contains(text, "source \"https://gems.acme.example/rubygems/\" do\n  gem \"acme-pro\"\nend"));
            CHECK(contains(text, "https://gems.acme.example/v1/downloads"));
        }
    }
    CHECK(found_issued);
    auto renewed_subject = std::find_if(by_subject.begin(), by_subject.end(), [](auto const& each) { return each.first.starts_with("Your Acme Pro license is renewed until"); });
    REQUIRE(renewed_subject != by_subject.end());
    auto renewed_text = body(renewed_subject->second.at(0));
    CHECK(contains(renewed_text, renewed_key));
    CHECK(renewed_key == versions[1]["key"]);
    CHECK(contains(renewed_text, "- ends: "));
    auto updated_text = body(by_subject.at("Your Acme Pro license has changed").at(0));
    CHECK(contains(updated_text, versions[2]["key"].get<std::string>()));
    CHECK(contains(updated_text, "- seats: 3"));
    CHECK(contains(body(by_subject.at("Your Acme Pro license is suspended").at(0)), "is suspended: payment failed"));
    CHECK(by_subject.count("Your Acme Pro license is active again") == 1);
    CHECK(contains(body(by_subject.at("Your Acme Pro license is revoked").at(0)), "is revoked: refunded"));
    auto reminder = std::find_if(by_subject.begin(), by_subject.end(), [](auto const& each) { return each.first.starts_with("Your Acme Pro license ends on"); });
    REQUIRE(reminder != by_subject.end());
    CHECK(contains(body(reminder->second.at(0)), reminded.id));
    CHECK(contains(body(by_subject.at("Sign in to Acme Inc.").at(0)), "https://gems.acme.example/portal/in?t=1"));

    // Nothing is sent twice; the reminder is queued once.
    CHECK(mail_send(vendor, sink).exit_code == 0);
    CHECK(sink.messages().size() == 9);
    CHECK(mail_list(vendor, { "--sent" }).size() == 9);
    CHECK(mail_list(vendor, { "--pending" }).empty());
}

TEST_CASE("the vendor's templates replace the built-in ones; values are escaped in HTML", "[smtp]")
{
    Vendor vendor;
    SmtpSink sink(vendor.temp / "sink");
    vendor.cli({ "customer", "add", "--email", "bob@example.com", "--name", "Bob <b>&</b> \"Co\"" });
    std::filesystem::create_directories(vendor.data_dir + "/templates/mail");
    write_file(vendor.data_dir + "/templates/mail/issued.txt", "Subject: Welcome, {{customer_name}}\n\nKEY={{key}}\nHOST={{bundler_host}}\n");
    write_file(vendor.data_dir + "/templates/mail/issued.html", "<p>Hello {{ customer_name }}</p><pre>{{key}}</pre>\n");
    auto license = nlohmann::json::parse(vendor.cli({ "issue", "--json", "--product", "acme-pro", "--customer", "bob@example.com", "--expires", "1y" }).out);
    auto preview = vendor.run({ "--public-url", "https://gems.acme.example", "mail", "preview", "issued", license["id"] });
    CHECK(preview.exit_code == 0);
    CHECK(contains(preview.out, "Subject: Welcome, Bob <b>&</b> \"Co\""));
    CHECK(contains(preview.out, "<p>Hello Bob &lt;b&gt;&amp;&lt;/b&gt; &quot;Co&quot;</p>"));
    CHECK(mail_send(vendor, sink).exit_code == 0);
    auto messages = sink.messages();
    REQUIRE(messages.size() == 1);
    CHECK(contains(header(messages[0], "Content-Type"), "multipart/alternative"));
    auto text = decode_qp(messages[0].data);
    CHECK(contains(text, "KEY=" + license["key"].get<std::string>() + "\nHOST=gems.acme.example"));
    CHECK(contains(text, "<p>Hello Bob &lt;b&gt;&amp;&lt;/b&gt; &quot;Co&quot;</p>"));

    // A template naming a placeholder that does not exist fails the message, saying which.
    write_file(vendor.data_dir + "/templates/mail/suspended.txt", "Subject: x\n\n{{no_such_value}}\n");
    vendor.cli({ "suspend", license["id"], "--reason", "x" });
    CHECK(mail_send(vendor, sink).exit_code == 9);
    auto failed = mail_list(vendor, { "--failed" });
    REQUIRE(failed.size() == 1);
    CHECK(contains(failed[0]["last_error"].get<std::string>(), "uses the placeholder {{no_such_value}}, which does not exist"));
}

TEST_CASE("a permanent refusal fails the message with the reply; retry makes it pending again", "[smtp]")
{
    Vendor vendor;
    SmtpSink sink(vendor.temp / "sink", { "--reject", "bad@example.com" });
    vendor.cli({ "customer", "add", "--email", "bad@example.com", "--name", "Bad" });
    vendor.cli({ "issue", "--product", "acme-pro", "--customer", "bad@example.com", "--expires", "1y" });
    vendor.issue("acme-pro", { "--expires", "1y" });
    auto sent = mail_send(vendor, sink);
    CHECK(sent.exit_code == 9);
    CHECK(contains(sent.err, "not every message was delivered"));
    CHECK(sink.messages().size() == 1);
    auto failed = vendor.cli({ "mail", "list", "--failed" }).out;
    INFO(failed);
    CHECK(contains(failed, "550 5.1.1 <bad@example.com>: no such mailbox here"));
    auto id = mail_list(vendor, { "--failed" })[0]["id"].get<std::string>();
    CHECK(vendor.run({ "mail", "retry", mail_list(vendor, { "--sent" })[0]["id"] }).exit_code == 5);
    vendor.cli({ "mail", "retry", id });
    CHECK(mail_list(vendor, { "--pending" }).size() == 1);
    CHECK(contains(vendor.cli({ "mail", "show", id }).out, "status: pending"));
}

TEST_CASE("header injection is impossible: CR/LF refused at input, non-ASCII names encoded", "[smtp]")
{
    Vendor vendor;
    SmtpSink sink(vendor.temp / "sink");
    for (auto const& [email, name] : std::vector<std::pair<std::string, std::string>> {
             { "eve@example.com\r\nBcc: victim@example.com", "Eve" }, { "eve@example.com", "Eve\r\nBcc: victim@example.com" },
             { "eve@example.com", "Eve\nSubject: x" }, { "eve@example.com\n", "Eve" } }) {
        auto refused = vendor.run({ "customer", "add", "--email", email, "--name", name });
        CHECK(refused.exit_code == 3);
    }
    ServerChild server(vendor);
    auto client = server.client();
    auto posted = client.Post("/v1/customers", bearer(vendor.admin_token),
        nlohmann::json { { "email", "eve@example.com" }, { "name", "Eve\r\nBcc: victim@example.com" } }.dump(), "application/json");
    REQUIRE(posted);
    CHECK(posted->status == 422);
    posted = client.Post("/v1/customers", bearer(vendor.admin_token),
        nlohmann::json { { "email", "eve@example.com\r\nBcc: victim@example.com" }, { "name", "Eve" } }.dump(), "application/json");
    REQUIRE(posted);
    CHECK(posted->status == 422);
    server.stop();

    std::string long_name = "Jörg Müller-Lüdenscheidt";
    while (long_name.size() < 190)
        long_name += " Ä";
    vendor.cli({ "customer", "add", "--email", "jorg@example.com", "--name", long_name });
    vendor.cli({ "issue", "--product", "acme-pro", "--customer", "jorg@example.com", "--expires", "1y" });
    CHECK(mail_send(vendor, sink).exit_code == 0);
    auto messages = sink.messages();
    REQUIRE(messages.size() == 1);
    auto to = header(messages[0], "To");
    CHECK(to.starts_with("=?UTF-8?B?"));
    CHECK(to.ends_with("<jorg@example.com>"));
    CHECK(messages[0].data.find("Bcc") == std::string::npos);
    for (size_t start = 0; start < messages[0].data.size();) {
        auto end = messages[0].data.find("\r\n", start);
        CHECK(end - start <= 78);
        start = end + 2;
    }
    // The encoded words decode back to the name (Python's email package, as a mail client would).
    auto decoded = run_process({ "/usr/bin/python3", "-c",
        "import email, email.header, sys; m = email.message_from_bytes(open(sys.argv[1], 'rb').read()); "
        "print(str(email.header.make_header(email.header.decode_header(m['To']))))",
        vendor.temp / ("sink/" + messages[0].file + ".eml") });
    CHECK(trimmed(decoded.out) == long_name + " <jorg@example.com>");
}

TEST_CASE("the server's sender retries 451 and delivers once, also what the CLI queued", "[smtp]")
{
    Vendor vendor;
    SmtpSink sink(vendor.temp / "sink", { "--temporary-failures", "2" });
    ServerChild server(vendor, {}, mail_env(sink));
    auto client = server.client();
    auto issued = client.Post("/v1/licenses", bearer(vendor.admin_token),
        nlohmann::json { { "product", "acme-pro" }, { "customer", "jane@example.com" }, { "expires", "1y" } }.dump(), "application/json");
    REQUIRE(issued);
    CHECK(issued->status == 201);
    auto messages = sink.wait_for(1);
    REQUIRE(messages.size() == 1);
    auto sent = mail_list(vendor, { "--sent" });
    REQUIRE(sent.size() == 1);
    CHECK(sent[0]["attempts"] == 3);

    // A renewal by the CLI (another process) is mailed by the running server.
    auto id = nlohmann::json::parse(issued->body)["id"].get<std::string>();
    auto key = trimmed(vendor.cli({ "renew", id, "--by", "1y" }).out);
    messages = sink.wait_for(2);
    REQUIRE(messages.size() == 2);
    CHECK(contains(body(messages[1]), key));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    CHECK(sink.messages().size() == 2);

    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    CHECK(contains(metrics->body, "charter_mail_messages{status=\"sent\"} 2"));
    CHECK(contains(metrics->body, "charter_mail_messages{status=\"pending\"} 0"));
    CHECK(contains(metrics->body, "charter_mail_oldest_pending_age_seconds 0"));
    CHECK(contains(metrics->body, "charter_mail_attempts_total{outcome=\"retry\"} 2"));
}

TEST_CASE("with the SMTP server down, issuing answers as before and mail follows once it is up", "[smtp]")
{
    Vendor vendor;
    int port = 0;
    {
        SmtpSink probe(vendor.temp / "probe");
        port = probe.port();
    }
    std::map<std::string, std::string> env { { "CHARTER_SMTP_URL", "smtp://127.0.0.1:" + std::to_string(port) },
        { "CHARTER_MAIL_FROM", "licenses@acme.example" }, { "CHARTER_PUBLIC_URL", "https://gems.acme.example" } };
    ServerChild server(vendor, {}, env);
    auto client = server.client();
    auto issued = client.Post("/v1/licenses", bearer(vendor.admin_token),
        nlohmann::json { { "product", "acme-pro" }, { "customer", "jane@example.com" }, { "expires", "1y" } }.dump(), "application/json");
    REQUIRE(issued);
    CHECK(issued->status == 201);
    CHECK(nlohmann::json::parse(issued->body)["key"].get<std::string>().starts_with("v4.public."));
    nlohmann::json pending;
    for (int i = 0; i < 100; ++i) {
        pending = mail_list(vendor, { "--pending" });
        if (pending.size() == 1 && pending[0]["attempts"] >= 1 && !pending[0]["last_error"].is_null())
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(pending.size() == 1);
    CHECK(pending[0]["attempts"] >= 1);
    INFO(pending.dump());
    CHECK(!pending[0]["last_error"].is_null());

    SmtpSink sink(vendor.temp / "sink", { "--port", std::to_string(port) });
    auto messages = sink.wait_for(1);
    REQUIRE(messages.size() == 1);
    CHECK(mail_list(vendor, { "--sent" }).size() == 1);
}

TEST_CASE("SIGKILL of the server while 200 messages are sent: after a restart all are delivered", "[smtp]")
{
    Vendor vendor;
    write_file(vendor.temp / "batch.csv", [] {
        std::string csv = "customer,product,expires\n";
        for (int i = 0; i < 200; ++i)
            csv += "jane@example.com,acme-pro,1y\n";
        return csv;
    }());
    vendor.cli({ "issue", "--batch", vendor.temp / "batch.csv" });
    REQUIRE(mail_list(vendor, { "--pending" }).size() == 200);
    SmtpSink sink(vendor.temp / "sink", { "--delay-ms", "20" });
    auto env = mail_env(sink);
    {
        ServerChild server(vendor, {}, env);
        sink.wait_for(30);
        server.kill_hard();
    }
    auto before_restart = sink.messages().size();
    CHECK(before_restart >= 30);
    CHECK(before_restart < 200);
    ServerChild server(vendor, {}, env);
    std::vector<SunkMessage> messages;
    for (int i = 0; i < 1200; ++i) {
        if (mail_list(vendor, { "--sent" }).size() == 200)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    messages = sink.messages();
    std::map<std::string, int> by_id;
    for (auto const& message : messages)
        ++by_id[message.envelope["message_id"].get<std::string>()];
    CHECK(by_id.size() == 200);
    CHECK(mail_list(vendor, { "--sent" }).size() == 200);
    // Duplicates only with the same Message-ID: as many as were in flight when the server died.
    auto duplicates = messages.size() - by_id.size();
    WARN("SIGKILL after " << before_restart << " of 200 delivered: " << duplicates << " duplicate(s), each with its Message-ID");
    CHECK(duplicates <= 1);
}
