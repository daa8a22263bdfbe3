// The customer portal over HTTP (docs/portal.md): the headers of every page, the session
// cookie and its attributes (Secure behind a trusted proxy's HTTPS), the session rules (stored
// hashed, expiry, sign-out), CSRF and Origin refusals, ownership of licenses, the sign-in
// throttle, the branding options. A real charter-server on 127.0.0.1 and the real CLI; the
// browser's view is tests/portal/test_portal.sh.

#include "charter/keygen/ops/billing.hpp"
#include "charter/keygen/ops/workspace.hpp"
#include "charter/server/portal/html.hpp"
#include "charter/server/server_config.hpp"
#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <regex>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

constexpr char const* form_type = "application/x-www-form-urlencoded";

// POST /portal/sign-in with `secret`; the answer.
httplib::Result sign_in(httplib::Client& client, std::string const& secret, httplib::Headers headers = {})
{
    return client.Post("/portal/sign-in", headers, "secret=" + httplib::detail::encode_query_param(secret), form_type);
}

// The session cookie's value from a sign-in's Set-Cookie.
std::string session_cookie(httplib::Result const& result)
{
    REQUIRE(result);
    auto header = result->get_header_value("Set-Cookie");
    std::smatch match;
    REQUIRE(std::regex_search(header, match, std::regex("^charter_session=([A-Za-z0-9_-]+);")));
    return match[1];
}

httplib::Headers with_cookie(std::string const& cookie, httplib::Headers headers = {})
{
    headers.emplace("Cookie", "charter_session=" + cookie);
    return headers;
}

// The CSRF token of the first form on a page.
std::string csrf_of(std::string const& page)
{
    std::smatch match;
    REQUIRE(std::regex_search(page, match, std::regex(R"re(name="csrf" value="([^"]+)")re")));
    return match[1];
}

void check_page_headers(httplib::Result const& result)
{
    REQUIRE(result);
    CHECK(result->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(result->get_header_value("Content-Security-Policy")
        == "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
           "frame-ancestors 'none'");
    CHECK(result->get_header_value("X-Frame-Options") == "DENY");
    CHECK(result->get_header_value("X-Content-Type-Options") == "nosniff");
    CHECK(result->get_header_value("Referrer-Policy") == "same-origin");
    CHECK(result->get_header_value("Cache-Control") == "no-store");
    // No inline script or style: every <script> has a src, and no style attribute or element.
    CHECK(!std::regex_search(result->body, std::regex("<script(?![^>]*\\ssrc=)")));
    CHECK(!contains(result->body, "<style"));
    CHECK(!contains(result->body, " style="));
}

}

TEST_CASE("escape_html escapes the five characters that could make markup or leave an attribute")
{
    CHECK(charter::server::escape_html("<script>\"a\" & 'b'</script>")
        == "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;");
    CHECK(charter::server::escape_html("plain lic_1 ü") == "plain lic_1 ü");
}

TEST_CASE("portal pages: the security headers, a sign-in form without inline script, long-cached static files")
{
    Vendor vendor;
    ServerChild server(vendor);
    auto client = server.client();
    auto home = client.Get("/portal/");
    REQUIRE(home);
    CHECK(home->status == 200);
    check_page_headers(home);
    CHECK(contains(home->body, R"(<label for="secret">)"));
    CHECK(contains(home->body, "Acme Inc."));
    // The stylesheet and the script are named with a digest of their content, cached a year.
    std::smatch match;
    REQUIRE(std::regex_search(home->body, match, std::regex(R"re(href="(/portal/static/portal\.css\?v=[0-9a-f]{16})")re")));
    auto css = client.Get(match[1].str());
    REQUIRE(css);
    CHECK(css->status == 200);
    CHECK(css->get_header_value("Content-Type") == "text/css; charset=utf-8");
    CHECK(css->get_header_value("Cache-Control") == "public, max-age=31536000, immutable");
    CHECK(contains(css->body, "--accent:#1d4ed8"));
    REQUIRE(std::regex_search(home->body, match, std::regex(R"re(src="(/portal/static/portal\.js\?v=[0-9a-f]{16})")re")));
    auto js = client.Get(match[1].str());
    REQUIRE(js);
    CHECK(js->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
    // /portal goes to /portal/; an unknown page is an HTML 404 with the same headers.
    auto bare = client.Get("/portal");
    REQUIRE(bare);
    CHECK(bare->status == 303);
    CHECK(bare->get_header_value("Location") == "/portal/");
    auto missing = client.Get("/portal/nothing-here");
    REQUIRE(missing);
    CHECK(missing->status == 404);
    check_page_headers(missing);
    // Not signed in: a page sends the browser to sign in.
    auto licenses = client.Get("/portal/licenses");
    REQUIRE(licenses);
    CHECK(licenses->status == 303);
    CHECK(licenses->get_header_value("Location") == "/portal/");
    CHECK(server.stop() == 0);
}

TEST_CASE("sign-in with a key: a session stored hashed, an HttpOnly SameSite=Lax cookie for /portal, audited; sign-out ends it")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro", { "--expires", "2031-01-31T00:00:00Z" });
    ServerChild server(vendor);
    auto client = server.client();
    auto signed_in = sign_in(client, license.key);
    REQUIRE(signed_in);
    CHECK(signed_in->status == 303);
    CHECK(signed_in->get_header_value("Location") == "/portal/licenses");
    auto cookie_header = signed_in->get_header_value("Set-Cookie");
    auto cookie = session_cookie(signed_in);
    CHECK(cookie_header == "charter_session=" + cookie + "; Path=/portal; HttpOnly; SameSite=Lax; Max-Age=43200");
    // Stored as its hash only, bound to the customer; audited with the customer as actor.
    CHECK(vendor.sql("SELECT customer_id, signed_in_with FROM portal_sessions") == vendor.customer + "|key of " + license.id + "\n");
    CHECK(!contains(run_process({ "/usr/bin/sqlite3", vendor.data_dir + "/charter.db", ".dump" }).out, cookie));
    CHECK(vendor.sql("SELECT actor, subject FROM audit WHERE action = 'portal.sign_in'")
        == "customer:" + vendor.customer + "|" + vendor.customer + "\n");

    auto page = client.Get("/portal/licenses", with_cookie(cookie));
    REQUIRE(page);
    CHECK(page->status == 200);
    check_page_headers(page);
    CHECK(contains(page->body, license.id));
    CHECK(contains(page->body, "2031-01-31"));
    CHECK(contains(page->body, "Jane Doe"));

    // Sign-out: a POST with the token; the session row is gone and the cookie opens nothing.
    auto csrf = csrf_of(page->body);
    auto out = client.Post("/portal/sign-out", with_cookie(cookie), "csrf=" + csrf, form_type);
    REQUIRE(out);
    CHECK(out->status == 303);
    CHECK(out->get_header_value("Set-Cookie") == "charter_session=; Path=/portal; HttpOnly; SameSite=Lax; Max-Age=0");
    CHECK(vendor.sql("SELECT count(*) FROM portal_sessions") == "0\n");
    CHECK(vendor.sql("SELECT actor FROM audit WHERE action = 'portal.sign_out'") == "customer:" + vendor.customer + "\n");
    auto after = client.Get("/portal/licenses", with_cookie(cookie));
    REQUIRE(after);
    CHECK(after->status == 303);
    CHECK(server.stop() == 0);
}

TEST_CASE("sign-in with a download credential; a wrong key or a revoked credential shows the sentence on a 401 page without a challenge")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro", { "--expires", "1y" });
    auto secret = trimmed(vendor.cli({ "credential", "create", license.id, "--name", "ci" }).out);
    ServerChild server(vendor);
    auto client = server.client();
    auto with_credential = sign_in(client, "  " + secret + "\n");
    REQUIRE(with_credential);
    CHECK(with_credential->status == 303);
    CHECK(vendor.sql("SELECT signed_in_with FROM portal_sessions") == "credential of " + license.id + "\n");

    auto wrong = sign_in(client, license.key.substr(0, license.key.size() - 4) + "AAAA");
    REQUIRE(wrong);
    CHECK(wrong->status == 401);
    CHECK(!wrong->has_header("WWW-Authenticate"));
    CHECK(!wrong->has_header("Set-Cookie"));
    CHECK(contains(wrong->body, R"(role="alert")"));
    CHECK(contains(wrong->body, "the license key is not valid"));
    check_page_headers(wrong);

    auto empty = sign_in(client, " ");
    REQUIRE(empty);
    CHECK(empty->status == 422);
    CHECK(contains(empty->body, "paste your license key"));

    auto credential_id = trimmed(vendor.sql("SELECT id FROM credentials"));
    vendor.cli({ "credential", "revoke", credential_id });
    auto revoked = sign_in(client, secret);
    REQUIRE(revoked);
    CHECK(revoked->status == 401);
    CHECK(contains(revoked->body, "credential " + credential_id + " (&quot;ci&quot;) was revoked on"));
    CHECK(server.stop() == 0);
}

TEST_CASE("sign-in attempts are throttled per address: 429 with Retry-After on the page")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro");
    ServerChild server(vendor, { "--auth-failure-limit", "2" });
    auto client = server.client();
    CHECK(sign_in(client, "v4.public.wrong")->status == 401);
    CHECK(sign_in(client, "cdl_wrong")->status == 401);
    auto throttled = sign_in(client, license.key);
    REQUIRE(throttled);
    CHECK(throttled->status == 429);
    CHECK(!throttled->get_header_value("Retry-After").empty());
    CHECK(contains(throttled->body, "too many failed authentications from this address"));
    CHECK(vendor.sql("SELECT count(*) FROM portal_sessions") == "0\n");
    CHECK(server.stop() == 0);
}

TEST_CASE("the cookie is Secure over HTTPS: a trusted proxy's X-Forwarded-Proto, never a stranger's")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro");
    httplib::Headers https { { "X-Forwarded-Proto", "https" } };
    {
        ServerChild server(vendor, { "--trusted-proxy", "10.0.0.1,127.0.0.1" });
        auto client = server.client();
        CHECK(contains(sign_in(client, license.key, https)->get_header_value("Set-Cookie"), "; Secure"));
        CHECK(!contains(sign_in(client, license.key, { { "X-Forwarded-Proto", "http" } })->get_header_value("Set-Cookie"), "Secure"));
        CHECK(!contains(sign_in(client, license.key)->get_header_value("Set-Cookie"), "Secure"));
        CHECK(server.stop() == 0);
    }
    {
        // Without --trusted-proxy (or from another address) the header is anybody's word.
        ServerChild server(vendor, {}, { { "CHARTER_TRUSTED_PROXY", "10.0.0.1" } });
        auto client = server.client();
        auto answer = sign_in(client, license.key, https);
        REQUIRE(answer);
        CHECK(answer->status == 303);
        CHECK(!contains(answer->get_header_value("Set-Cookie"), "Secure"));
        CHECK(server.stop() == 0);
    }
}

TEST_CASE("sessions: an expired or unknown session is signed out; a form without the session's CSRF token or from another site changes nothing")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro");
    ServerChild server(vendor);
    auto client = server.client();
    auto cookie = session_cookie(sign_in(client, license.key));
    auto other_cookie = session_cookie(sign_in(client, license.key));
    auto page = client.Get("/portal/licenses/" + license.id + "/credentials", with_cookie(cookie));
    REQUIRE(page);
    REQUIRE(page->status == 200);
    auto csrf = csrf_of(page->body);
    auto other_page = client.Get("/portal/licenses/" + license.id + "/credentials", with_cookie(other_cookie));
    auto other_csrf = csrf_of(other_page->body);
    CHECK(csrf != other_csrf);
    auto create = [&](std::string const& body, httplib::Headers headers) {
        return client.Post("/portal/licenses/" + license.id + "/credentials", headers, body, form_type);
    };
    for (auto const& body : std::vector<std::string> { "name=forged", "name=forged&csrf=", "name=forged&csrf=" + other_csrf }) {
        INFO(body);
        auto refused = create(body, with_cookie(cookie));
        REQUIRE(refused);
        CHECK(refused->status == 403);
        CHECK(contains(refused->body, "nothing was changed"));
    }
    for (std::string origin : { "https://evil.example", "null" }) {
        auto cross_site = create("name=forged&csrf=" + csrf, with_cookie(cookie, { { "Origin", origin } }));
        REQUIRE(cross_site);
        CHECK(cross_site->status == 403);
        CHECK(contains(cross_site->body, "sent from another site"));
    }
    auto cross_site_sign_in = sign_in(client, license.key, { { "Origin", "https://evil.example" } });
    REQUIRE(cross_site_sign_in);
    CHECK(cross_site_sign_in->status == 403);
    CHECK(!cross_site_sign_in->has_header("Set-Cookie"));
    CHECK(vendor.sql("SELECT count(*) FROM credentials") == "0\n");
    // The real form: created, audited with the customer as actor, the secret shown once.
    auto created = create("name=ci&csrf=" + csrf, with_cookie(cookie, { { "Origin", "http://127.0.0.1:" + std::to_string(server.port()) } }));
    REQUIRE(created);
    CHECK(created->status == 200);
    CHECK(std::regex_search(created->body, std::regex(R"re(id="new-secret"[^>]*>cdl_[A-Za-z0-9_-]{43}<)re")));
    CHECK(vendor.sql("SELECT actor FROM audit WHERE action = 'credential.create'") == "customer:" + vendor.customer + "\n");
    auto duplicate = create("name=ci&csrf=" + csrf, with_cookie(cookie));
    REQUIRE(duplicate);
    CHECK(duplicate->status == 409);
    CHECK(contains(duplicate->body, "already has a credential named &quot;ci&quot;"));

    // Expired: the same cookie now sends the browser to sign in, and its forms change nothing.
    vendor.sql("UPDATE portal_sessions SET expires_at = 1000");
    auto expired = client.Get("/portal/licenses", with_cookie(cookie));
    REQUIRE(expired);
    CHECK(expired->status == 303);
    auto expired_form = create("name=later&csrf=" + csrf, with_cookie(cookie));
    REQUIRE(expired_form);
    CHECK(expired_form->status == 403);
    CHECK(vendor.sql("SELECT count(*) FROM credentials") == "1\n");
    auto unknown = client.Get("/portal/licenses", with_cookie("not-a-session"));
    REQUIRE(unknown);
    CHECK(unknown->status == 303);
    CHECK(server.stop() == 0);
}

TEST_CASE("a session sees only its customer's licenses: another customer's license id is the same 404 as an unknown one")
{
    Vendor vendor;
    auto own = vendor.issue("acme-pro");
    vendor.cli({ "customer", "add", "--email", "bob@example.com", "--name", "Bob" });
    auto bob = Json::parse(vendor.cli({ "issue", "--product", "acme-pro", "--customer", "bob@example.com", "--json" }).out);
    std::string bob_license = bob["id"];
    ServerChild server(vendor);
    auto client = server.client();
    auto cookie = session_cookie(sign_in(client, own.key));
    auto listed = client.Get("/portal/licenses", with_cookie(cookie));
    REQUIRE(listed);
    CHECK(contains(listed->body, own.id));
    CHECK(!contains(listed->body, bob_license));
    for (std::string suffix : { "", "/setup", "/downloads", "/credentials" }) {
        INFO(suffix);
        auto other = client.Get("/portal/licenses/" + bob_license + suffix, with_cookie(cookie));
        auto unknown = client.Get("/portal/licenses/lic_unknown" + suffix, with_cookie(cookie));
        REQUIRE(other);
        REQUIRE(unknown);
        CHECK(other->status == 404);
        CHECK(unknown->status == 404);
        CHECK(other->body == unknown->body);
    }
    auto page = client.Get("/portal/licenses/" + own.id, with_cookie(cookie));
    auto csrf = csrf_of(page->body);
    auto forged = client.Post("/portal/licenses/" + bob_license + "/credentials", with_cookie(cookie), "name=x&csrf=" + csrf, form_type);
    REQUIRE(forged);
    CHECK(forged->status == 404);
    CHECK(vendor.sql("SELECT count(*) FROM credentials") == "0\n");
    CHECK(server.stop() == 0);
}

TEST_CASE("branding options: name, accent colour (checked for contrast), logo, support address; refused with the reason")
{
    using charter::server::parse_server_config;
    auto dark = parse_server_config({ "--portal-accent", "#14b" });
    REQUIRE(dark);
    CHECK(dark->portal_accent == "#14b");
    auto light = parse_server_config({ "--portal-accent", "#ffff00" });
    REQUIRE(!light);
    CHECK(light.error().message == "--portal-accent \"#ffff00\" gives white text a contrast of 1.1:1; choose a darker colour (at least 4.5:1)");
    auto named = parse_server_config({ "--portal-accent", "red" });
    REQUIRE(!named);
    CHECK(contains(named.error().message, "must be a colour like #1d4ed8"));
    auto logo = parse_server_config({ "--portal-logo-url", "http://cdn.example/logo.png" });
    REQUIRE(!logo);
    CHECK(contains(logo.error().message, "must be an https:// URL or a path on this server"));
    auto quoted = parse_server_config({ "--portal-logo-url", "https://cdn.example/a\"b.png" });
    REQUIRE(!quoted);
    auto proxies = parse_server_config({ "--trusted-proxy", "127.0.0.1,::1" });
    REQUIRE(proxies);
    CHECK(proxies->trusted_proxies == std::vector<std::string> { "127.0.0.1", "::1" });
    CHECK(!parse_server_config({ "--trusted-proxy", "127.0.0.1,,::1" }));

    Vendor vendor;
    ServerChild server(vendor, { "--portal-name", "Acme <Pro> Portal", "--portal-logo-url", "https://cdn.acme.example/logo.svg" },
        { { "CHARTER_PORTAL_ACCENT", "#8a1538" }, { "CHARTER_PORTAL_SUPPORT", "help@acme.example" } });
    auto client = server.client();
    auto home = client.Get("/portal/");
    REQUIRE(home);
    CHECK(contains(home->body, "Acme &lt;Pro&gt; Portal"));
    CHECK(contains(home->body, R"(<img src="https://cdn.acme.example/logo.svg" alt="">)"));
    CHECK(contains(home->body, "help@acme.example"));
    CHECK(contains(home->get_header_value("Content-Security-Policy"), "img-src 'self' https://cdn.acme.example;"));
    std::smatch match;
    REQUIRE(std::regex_search(home->body, match, std::regex(R"re(href="(/portal/static/portal\.css\?v=[0-9a-f]+)")re")));
    CHECK(contains(client.Get(match[1].str())->body, "--accent:#8a1538"));
    CHECK(server.stop() == 0);
}

TEST_CASE("sign-in by email link: the same answer for any address, the link queued in the outbox and stored hashed, one use, 15 minutes")
{
    Vendor vendor;
    auto license = vendor.issue("acme-pro");
    {
        // Without a public URL there is no link to send: no email form, and the route says so.
        ServerChild server(vendor);
        auto client = server.client();
        CHECK(!contains(client.Get("/portal/")->body, "/portal/sign-in/email"));
        auto refused = client.Post("/portal/sign-in/email", "email=jane%40example.com", form_type);
        REQUIRE(refused);
        CHECK(refused->status == 404);
        CHECK(contains(refused->body, "sign-in by email is not set up on this server"));
        CHECK(server.stop() == 0);
    }
    ServerChild server(vendor, { "--public-url", "https://gems.acme.example", "--auth-failure-limit", "3" });
    auto client = server.client();
    CHECK(contains(client.Get("/portal/")->body, R"(action="/portal/sign-in/email")"));
    auto known = client.Post("/portal/sign-in/email", "email=Jane%40Example.com", form_type);
    auto unknown = client.Post("/portal/sign-in/email", "email=nobody%40example.com", form_type);
    REQUIRE(known);
    REQUIRE(unknown);
    CHECK(known->status == 200);
    CHECK(unknown->status == 200);
    auto without_address = [](std::string body, std::string const& address) {
        return std::regex_replace(body, std::regex(address), "ADDRESS");
    };
    CHECK(without_address(known->body, "Jane@Example.com") == without_address(unknown->body, "nobody@example.com"));
    CHECK(contains(known->body, "The link works once, within 15 minutes."));
    // One message, to the customer's own address, with the link; the database keeps the link's hash only.
    // (The issuance queued its own message: only the sign-in links are counted here.)
    CHECK(vendor.sql("SELECT kind, recipient FROM mail_outbox WHERE kind = 'signin_link'") == "signin_link|jane@example.com\n");
    auto details = Json::parse(trimmed(vendor.sql("SELECT details_json FROM mail_outbox WHERE kind = 'signin_link'")));
    std::string link = details["link"];
    std::smatch match;
    REQUIRE(std::regex_match(link, match, std::regex("https://gems\\.acme\\.example/portal/sign-in/link/([A-Za-z0-9_-]{43})")));
    std::string path = "/portal/sign-in/link/" + match[1].str();
    CHECK(vendor.sql("SELECT count(*) FROM portal_sign_in_links WHERE customer_id = '" + vendor.customer + "'") == "1\n");
    CHECK(!contains(vendor.sql("SELECT hash FROM portal_sign_in_links"), match[1].str()));

    // Opening the link changes nothing; the button signs in, once.
    auto opened = client.Get(path);
    REQUIRE(opened);
    CHECK(opened->status == 200);
    CHECK(contains(opened->body, R"(<form method="post" action=")" + path + "\">"));
    CHECK(vendor.sql("SELECT count(*) FROM portal_sessions") == "0\n");
    auto used = client.Post(path, "", form_type);
    REQUIRE(used);
    CHECK(used->status == 303);
    CHECK(used->get_header_value("Location") == "/portal/licenses");
    auto cookie = session_cookie(used);
    CHECK(contains(client.Get("/portal/licenses", with_cookie(cookie))->body, license.id));
    CHECK(vendor.sql("SELECT signed_in_with FROM portal_sessions") == "email\n");
    auto again = client.Post(path, "", form_type);
    REQUIRE(again);
    CHECK(again->status == 410);
    CHECK(contains(again->body, "this sign-in link was used already or has expired"));
    CHECK(!again->has_header("Set-Cookie"));

    // A new link, past its 15 minutes: refused the same way.
    client.Post("/portal/sign-in/email", "email=jane%40example.com", form_type);
    std::string second_link
        = Json::parse(trimmed(vendor.sql("SELECT details_json FROM mail_outbox WHERE kind = 'signin_link' AND details_json NOT LIKE '%" + match[1].str() + "%'")))["link"];
    REQUIRE(!second_link.empty());
    vendor.sql("UPDATE portal_sign_in_links SET expires_at = expires_at - 901 WHERE used_at IS NULL");
    auto late = client.Post(second_link.substr(std::string("https://gems.acme.example").size()), "", form_type);
    REQUIRE(late);
    CHECK(late->status == 410);

    // Link requests count per address: the fourth within the minute is 429.
    auto throttled = client.Post("/portal/sign-in/email", "email=jane%40example.com", form_type);
    REQUIRE(throttled);
    CHECK(throttled->status == 429);
    CHECK(contains(throttled->body, "too many sign-in links were asked for from this address"));
    CHECK(vendor.sql("SELECT count(*) FROM mail_outbox WHERE kind = 'signin_link'") == "2\n");
    CHECK(server.stop() == 0);
}

namespace {

constexpr int64_t t0 = 1796083200; // 2026-12-01T00:00:00Z, the pinned clock of the cases below
constexpr char const* t0_text = "2026-12-01T00:00:00Z";
constexpr int64_t day = 86400;

// A Stripe subscription event (API version 2026-10-28) for subscription `subscription`, one
// item `item` of price price_pro_m, customer cus_PORTAL.
std::string subscription_event(std::string const& id, std::string const& type, std::string const& subscription,
    std::string const& item, std::string const& status, int64_t period_end, bool cancel_at_period_end = false)
{
    Json line { { "id", item }, { "object", "subscription_item" }, { "current_period_start", period_end - 30 * day },
        { "current_period_end", period_end }, { "quantity", 1 }, { "subscription", subscription },
        { "price", { { "id", "price_pro_m" }, { "object", "price" }, { "type", "recurring" } } } };
    Json object { { "id", subscription }, { "object", "subscription" }, { "customer", "cus_PORTAL" }, { "status", status },
        { "cancel_at_period_end", cancel_at_period_end }, { "items", { { "object", "list" }, { "data", Json::array({ line }) } } } };
    return Json { { "id", id }, { "object", "event" }, { "api_version", "2026-10-28" }, { "created", t0 }, { "type", type },
        { "data", { { "object", object } } } }
        .dump();
}

// Applies Stripe events through keygen/ops/billing (the code behind POST /v1/webhooks/stripe),
// in-process on the vendor's data directory at t0.
void receive_stripe_events(Vendor const& vendor, std::vector<std::string> const& bodies)
{
    auto workspace = charter::ops::Workspace::open(test_data_dir(vendor.data_dir));
    REQUIRE(workspace);
    auto key = workspace->current_signing_key(std::nullopt);
    REQUIRE(key);
    charter::ops::Issuer issuer(workspace->store(), *key, "Acme Inc.");
    for (auto const& body : bodies) {
        auto received = charter::ops::receive_stripe_event(workspace->store(), issuer, body, t0);
        INFO(body);
        REQUIRE(received);
        CHECK(received->event.outcome == "applied");
    }
}

// The text of the license page's Billing entry, or "" when it has none.
std::string billing_entry(std::string const& page)
{
    std::smatch match;
    if (!std::regex_search(page, match, std::regex(R"re(<dt>Billing</dt><dd id="billing"[^>]*>(.*?)</dd>)re")))
        return {};
    return match[1];
}

}

TEST_CASE("--portal-billing-url and CHARTER_PORTAL_BILLING_URL: an http(s) URL with a host, else the server does not start")
{
    using charter::server::parse_server_config;
    auto good = parse_server_config({ "--portal-billing-url", "https://billing.acme.example/p/login?x=1&y=2" });
    REQUIRE(good);
    CHECK(good->portal_billing_url == "https://billing.acme.example/p/login?x=1&y=2");
    CHECK(parse_server_config({ "--portal-billing-url", "http://billing.acme.example" }));
    for (std::string bad : { "ftp://billing.acme.example", "javascript:alert(1)", "/billing", "https://", "http:///account",
             "billing.acme.example" }) {
        INFO(bad);
        auto refused = parse_server_config({ "--portal-billing-url", bad });
        REQUIRE(!refused);
        CHECK(refused.error().message
            == "--portal-billing-url \"" + bad + "\" must be an http:// or https:// URL with a host, like https://billing.example.com/account");
    }
    auto quoted = parse_server_config({ "--portal-billing-url", "https://billing.acme.example/\"x" });
    REQUIRE(!quoted);
    CHECK(contains(quoted.error().message, "must be a URL without spaces, quotes"));

    Vendor vendor;
    auto refused = run_process({ CHARTER_SERVER_PATH, "--data-dir", vendor.data_dir, "--listen", "127.0.0.1:0" },
        clean_env(database_env(vendor.data_dir, { { "CHARTER_PORTAL_BILLING_URL", "ftp://billing.acme.example" } })));
    CHECK(refused.exit_code != 0);
    CHECK(contains(refused.err, "CHARTER_PORTAL_BILLING_URL: --portal-billing-url \"ftp://billing.acme.example\" must be an http:// or https:// URL with a host"));
    CHECK(!contains(refused.out, "listening on"));
}

TEST_CASE("billing on the license page: renews on, cancelled (at period end, or ended), payment failed, trialing, with the billing link when set; nothing without a subscription")
{
    Vendor vendor(std::map<std::string, std::string> { { "CHARTER_NOW", t0_text } });
    vendor.cli({ "plan", "add", "pro-monthly", "--product", "acme-pro", "--duration", "1mo", "--grace", "3d", "--stripe-price", "price_pro_m" });
    auto plain = vendor.issue("acme-pro", { "--expires", "1y" });
    Json customer { { "id", "cus_PORTAL" }, { "object", "customer" }, { "email", "jane@example.com" }, { "name", "Jane Doe" } };
    receive_stripe_events(vendor,
        { Json { { "id", "evt_c" }, { "object", "event" }, { "created", t0 }, { "type", "customer.created" },
              { "data", { { "object", customer } } } }
                .dump(),
            subscription_event("evt_a", "customer.subscription.created", "sub_A", "si_A", "active", t0 + 30 * day),
            subscription_event("evt_b", "customer.subscription.created", "sub_B", "si_B", "active", t0 + 30 * day, true),
            subscription_event("evt_p", "customer.subscription.created", "sub_P", "si_P", "past_due", t0 + 30 * day),
            subscription_event("evt_u", "customer.subscription.created", "sub_U", "si_U", "unpaid", t0 + 30 * day),
            subscription_event("evt_t", "customer.subscription.created", "sub_T", "si_T", "trialing", t0 + 14 * day),
            subscription_event("evt_d1", "customer.subscription.created", "sub_D", "si_D", "active", t0 + 10 * day),
            subscription_event("evt_d2", "customer.subscription.deleted", "sub_D", "si_D", "canceled", t0 + 10 * day),
            subscription_event("evt_e1", "customer.subscription.created", "sub_E", "si_E", "trialing", t0),
            subscription_event("evt_e2", "customer.subscription.deleted", "sub_E", "si_E", "canceled", t0) });
    auto license_of = [&](std::string const& item) { return trimmed(vendor.sql("SELECT license_id FROM stripe_items WHERE id = '" + item + "'")); };
    std::map<std::string, std::string> expected {
        { "si_A", "Renews on 2026-12-31." },
        { "si_B", "Cancelled: the subscription ends on 2026-12-31 and will not renew." },
        { "si_P", "Payment failed (past_due): update your payment method to keep this license." },
        { "si_U", "Payment failed (unpaid): update your payment method to keep this license." },
        { "si_T", "Trial until 2026-12-15; the subscription then renews." },
        { "si_D", "Cancelled: the subscription ends on 2026-12-11." },
        // Its period ends now: ended (the license's 3 days of grace are its own "Ends on").
        { "si_E", "Cancelled: the subscription ended on 2026-12-01." },
    };
    for (auto const& [item, sentence] : expected)
        REQUIRE(license_of(item).starts_with("lic_"));

    {
        ServerChild server(vendor, { "--portal-billing-url", "https://billing.acme.example/p/login?x=1&y=2" }, { { "CHARTER_NOW", t0_text } });
        auto client = server.client();
        auto cookie = session_cookie(sign_in(client, plain.key));
        for (auto const& [item, sentence] : expected) {
            INFO(item);
            auto page = client.Get("/portal/licenses/" + license_of(item), with_cookie(cookie));
            REQUIRE(page);
            CHECK(page->status == 200);
            CHECK(billing_entry(page->body)
                == sentence + R"( <a id="billing-link" href="https://billing.acme.example/p/login?x=1&amp;y=2">Manage billing</a>)");
            // A failed payment stands out (the stylesheet's .billing-failed), nothing else does.
            CHECK(contains(page->body, R"(<dd id="billing" class="billing-failed">)") == (item == "si_P" || item == "si_U"));
        }
        // Without a Stripe subscription: not a word about billing, and no link.
        auto unbilled = client.Get("/portal/licenses/" + plain.id, with_cookie(cookie));
        REQUIRE(unbilled);
        CHECK(unbilled->status == 200);
        CHECK(!contains(unbilled->body, "Billing"));
        CHECK(!contains(unbilled->body, "billing.acme.example"));
        CHECK(server.stop() == 0);
    }
    // Without --portal-billing-url: the state, no link.
    ServerChild server(vendor, {}, { { "CHARTER_NOW", t0_text } });
    auto client = server.client();
    auto cookie = session_cookie(sign_in(client, plain.key));
    auto page = client.Get("/portal/licenses/" + license_of("si_A"), with_cookie(cookie));
    REQUIRE(page);
    CHECK(billing_entry(page->body) == "Renews on 2026-12-31.");
    CHECK(!contains(page->body, "billing-link"));
    CHECK(server.stop() == 0);
}

TEST_CASE("activations on the license page: the live ones with their seat, label, fingerprint, counts, heartbeat and lease end or node-locked; an ended lease holds no seat; Deactivate releases, audited; another customer's activation is a 404")
{
    Vendor vendor(std::map<std::string, std::string> { { "CHARTER_NOW", t0_text } });
    vendor.cli({ "plan", "add", "seats", "--product", "acme-pro", "--duration", "1y", "--seats", "5", "--count-seats", "processes",
        "--lease", "15m" });
    auto license = vendor.issue("acme-pro", { "--plan", "seats" });
    auto unlimited = vendor.issue("acme-pro", { "--expires", "1y" });
    vendor.cli({ "customer", "add", "--email", "bob@example.com", "--name", "Bob" });
    auto bob = Json::parse(vendor.cli({ "issue", "--product", "acme-pro", "--plan", "seats", "--customer", "bob@example.com", "--json" }).out);
    std::string bob_license = bob["id"];
    std::string bob_key = bob["key"];

    std::map<std::string, std::string> ids; // fingerprint → activation id
    auto activate = [&](httplib::Client& client, std::string const& key, Json body) {
        auto answer = client.Post("/v1/activations", { { "Authorization", "Bearer " + key } }, body.dump(), "application/json");
        REQUIRE(answer);
        INFO(answer->body);
        REQUIRE(answer->status == 201);
        ids[body["fingerprint"]] = Json::parse(answer->body)["id"];
    };
    {
        ServerChild server(vendor, {}, { { "CHARTER_NOW", t0_text } });
        auto client = server.client();
        activate(client, license.key, { { "fingerprint", "machine-1" }, { "label", "<b>build-01</b>" }, { "processes", 2 } });
        activate(client, license.key, { { "fingerprint", "machine-2" }, { "processes", 1 } });
        activate(client, bob_key, { { "fingerprint", "bob-machine" }, { "label", "bob-1" }, { "processes", 1 } });
        CHECK(server.stop() == 0);
    }
    vendor.cli({ "plan", "update", "seats", "--lease", "0" });
    {
        ServerChild server(vendor, {}, { { "CHARTER_NOW", t0_text } });
        auto client = server.client();
        activate(client, license.key, { { "fingerprint", "machine-3" }, { "label", "desk" }, { "processes", 1 } });
        CHECK(server.stop() == 0);
    }
    auto fingerprint = [&](std::string const& id) {
        return trimmed(vendor.sql("SELECT fingerprint_sha256 FROM activations WHERE id = '" + ids[id] + "'")).substr(0, 12);
    };
    auto row_of = [](std::string const& page, std::string const& id) {
        std::smatch match;
        if (!std::regex_search(page, match, std::regex("<tr id=\"" + id + "\">(.*?)</tr>")))
            return std::string();
        return match[1].str();
    };
    auto page_at = [&](char const* now) {
        ServerChild server(vendor, {}, { { "CHARTER_NOW", now } });
        auto client = server.client();
        auto cookie = session_cookie(sign_in(client, license.key));
        auto page = client.Get("/portal/licenses/" + license.id, with_cookie(cookie));
        REQUIRE(page);
        REQUIRE(page->status == 200);
        CHECK(server.stop() == 0);
        return page->body;
    };

    // At the leases' end they still hold their seats (a lease runs at its end, as a license at its exp).
    auto at_end = page_at("2026-12-01T00:15:00Z");
    CHECK(contains(at_end, R"(<p id="seats-in-use">4 of 5 seats in use.)"));
    auto first = row_of(at_end, ids["machine-1"]);
    CHECK(contains(first, "<td>1</td><td>&lt;b&gt;build-01&lt;/b&gt;</td>"));
    CHECK(contains(first, "<td><code>" + fingerprint("machine-1") + "…</code></td><td class=\"nowrap\">2 processes</td>"));
    CHECK(contains(first, R"(<td class="nowrap">2026-12-01T00:00:00Z</td><td class="nowrap">2026-12-01T00:15:00Z</td>)"));
    CHECK(contains(first, R"(aria-label="Deactivate &lt;b&gt;build-01&lt;/b&gt;")"));
    CHECK(contains(row_of(at_end, ids["machine-2"]), R"(<span class="muted">no label</span>)"));
    auto node_locked = row_of(at_end, ids["machine-3"]);
    CHECK(contains(node_locked, "<td>3</td><td>desk</td>"));
    CHECK(contains(node_locked, R"(<td class="nowrap">1 process</td><td class="nowrap">2026-12-01T00:00:00Z</td><td class="nowrap">node-locked</td>)"));
    CHECK(!contains(at_end, ids["bob-machine"]));

    // A second later the leases have ended: not listed, not counted; the node-locked one stays.
    auto after = page_at("2026-12-01T00:15:01Z");
    CHECK(contains(after, R"(<p id="seats-in-use">1 of 5 seats in use.)"));
    CHECK(row_of(after, ids["machine-1"]).empty());
    CHECK(row_of(after, ids["machine-2"]).empty());
    CHECK(!row_of(after, ids["machine-3"]).empty());

    ServerChild server(vendor, {}, { { "CHARTER_NOW", "2026-12-01T00:15:01Z" } });
    auto client = server.client();
    auto cookie = session_cookie(sign_in(client, license.key));
    auto csrf = csrf_of(client.Get("/portal/licenses/" + license.id, with_cookie(cookie))->body);
    auto deactivate = [&](std::string const& license_id, std::string const& activation, std::string const& body) {
        return client.Post("/portal/licenses/" + license_id + "/activations/" + activation + "/deactivate", with_cookie(cookie), body,
            form_type);
    };
    auto released = [&](std::string const& fingerprint) {
        return trimmed(vendor.sql("SELECT count(*) FROM activations WHERE released_at IS NOT NULL AND id = '" + ids[fingerprint] + "'"));
    };
    // Another customer's activation, through this customer's license or through theirs: the
    // unknown-page 404, nothing released. Without the CSRF token: 403, nothing released.
    auto unknown = deactivate(license.id, "act_unknown", "csrf=" + csrf);
    for (auto const& through : { license.id, bob_license }) {
        auto other = deactivate(through, ids["bob-machine"], "csrf=" + csrf);
        REQUIRE(other);
        CHECK(other->status == 404);
        CHECK(other->body == unknown->body);
    }
    CHECK(released("bob-machine") == "0");
    auto forged = deactivate(license.id, ids["machine-3"], "csrf=" + csrf.substr(1));
    REQUIRE(forged);
    CHECK(forged->status == 403);
    CHECK(released("machine-3") == "0");

    auto done = deactivate(license.id, ids["machine-3"], "csrf=" + csrf);
    REQUIRE(done);
    CHECK(done->status == 303);
    CHECK(done->get_header_value("Location") == "/portal/licenses/" + license.id + "#activations");
    CHECK(released("machine-3") == "1");
    CHECK(vendor.sql("SELECT actor, subject FROM audit WHERE action = 'activation.release'")
        == "customer:" + vendor.customer + "|" + ids["machine-3"] + "\n");
    // charter audit --source portal: what customers did there, nothing else.
    auto from_portal = Json::parse(vendor.cli({ "audit", "--source", "portal", "--oldest-first", "--json" }).out);
    std::vector<std::string> actions;
    for (auto const& entry : from_portal) {
        CHECK(entry["actor"] == "customer:" + vendor.customer);
        actions.push_back(entry["action"]);
    }
    CHECK(actions == std::vector<std::string> { "portal.sign_in", "portal.sign_in", "portal.sign_in", "activation.release" });
    auto emptied = client.Get("/portal/licenses/" + license.id, with_cookie(cookie));
    REQUIRE(emptied);
    CHECK(contains(emptied->body, R"(<p id="seats-in-use">0 of 5 seats in use.)"));
    CHECK(contains(emptied->body, "No machine holds a seat now."));
    // Again (a second tab): already released, nothing changes, back to the page.
    auto again = deactivate(license.id, ids["machine-3"], "csrf=" + csrf);
    REQUIRE(again);
    CHECK(again->status == 303);
    CHECK(vendor.sql("SELECT count(*) FROM audit WHERE action = 'activation.release'") == "1\n");

    // A license without seats that never had an activation has no Activations section.
    auto plain = client.Get("/portal/licenses/" + unlimited.id, with_cookie(cookie));
    REQUIRE(plain);
    CHECK(plain->status == 200);
    CHECK(!contains(plain->body, "Activations"));
    CHECK(server.stop() == 0);
}
