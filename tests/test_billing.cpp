// Stripe billing (issue 16, docs/billing.md): the webhook's signature over the raw body, signed
// here with OpenSSL's HMAC directly (never through the server's code); events of Stripe's
// 2026-10-28 shapes (and the older ones) built here as Stripe documents them; exactly once and
// in any order through keygen/ops/billing (the code of the server and `charter billing replay`)
// on real SQLite files; and a real charter-server on 127.0.0.1 for the endpoint, redelivery,
// 20 concurrent deliveries and a SIGKILL between the commit and the answer.

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/billing.hpp"
#include "charter/keygen/ops/workspace.hpp"
#include "charter/server/billing/stripe_signature.hpp"
#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <filesystem>
#include <latch>
#include <random>
#include <thread>

using namespace charter;
using namespace charter::testing;
using Json = nlohmann::json;

namespace {

constexpr char const* secret = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e9FH";
constexpr char const* rotated_secret = "whsec_test_rotated_0ZlV8oBnGq7k2sXyT1d9";
constexpr int64_t t0 = 1796083200; // 2026-12-01T00:00:00Z
constexpr int64_t day = 86400;
constexpr char const* now_text = "2026-12-01T00:00:00Z";

// HMAC-SHA256(key, "<t>.<body>") in lower-case hex, with OpenSSL alone.
std::string stripe_hmac(std::string const& key, int64_t t, std::string const& body)
{
    std::string payload = std::to_string(t) + "." + body;
    unsigned char mac[32];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<unsigned char const*>(payload.data()), payload.size(), mac,
        &length);
    static char const* digits = "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < length; ++i) {
        hex += digits[mac[i] >> 4];
        hex += digits[mac[i] & 15];
    }
    return hex;
}

std::string signature_header(std::string const& body, int64_t t = t0, std::string const& key = secret)
{
    return "t=" + std::to_string(t) + ",v1=" + stripe_hmac(key, t, body);
}

// Events as Stripe sends them (API version 2026-10-28), built from their documented shapes.
std::string event(std::string const& id, std::string const& type, int64_t created, Json object)
{
    return Json { { "id", id }, { "object", "event" }, { "api_version", "2026-10-28" }, { "created", created },
        { "livemode", false }, { "pending_webhooks", 1 }, { "request", { { "id", nullptr }, { "idempotency_key", nullptr } } },
        { "type", type }, { "data", { { "object", std::move(object) } } } }
        .dump();
}

Json customer(std::string const& email, std::string const& name)
{
    return Json { { "id", "cus_QX1" }, { "object", "customer" }, { "email", email }, { "name", name }, { "created", t0 - day },
        { "livemode", false }, { "metadata", Json::object() } };
}

Json subscription(std::string const& status, std::string const& price, int64_t period_end, bool cancel_at_period_end = false)
{
    Json item { { "id", "si_QX1" }, { "object", "subscription_item" }, { "current_period_start", period_end - 30 * day },
        { "current_period_end", period_end }, { "quantity", 1 }, { "subscription", "sub_QX1" },
        { "price", { { "id", price }, { "object", "price" }, { "product", "prod_QX1" }, { "type", "recurring" },
                       { "recurring", { { "interval", "month" }, { "interval_count", 1 } } } } } };
    return Json { { "id", "sub_QX1" }, { "object", "subscription" }, { "customer", "cus_QX1" }, { "status", status },
        { "cancel_at_period_end", cancel_at_period_end }, { "collection_method", "charge_automatically" },
        { "items", { { "object", "list" }, { "data", Json::array({ item }) }, { "has_more", false } } },
        { "latest_invoice", "in_QX1" }, { "livemode", false }, { "metadata", Json::object() } };
}

Json invoice(std::string const& id, std::string const& price, int64_t period_start, int64_t period_end,
    std::string const& email = "sam@example.com")
{
    Json line { { "id", "il_" + id }, { "object", "line_item" }, { "amount", 1900 }, { "currency", "usd" },
        { "period", { { "start", period_start }, { "end", period_end } } },
        { "parent", { { "type", "subscription_item_details" },
                        { "subscription_item_details", { { "subscription", "sub_QX1" }, { "subscription_item", "si_QX1" },
                                                           { "proration", false } } } } },
        { "pricing", { { "type", "price_details" }, { "price_details", { { "price", price }, { "product", "prod_QX1" } } } } } };
    return Json { { "id", id }, { "object", "invoice" }, { "customer", "cus_QX1" }, { "customer_email", email },
        { "customer_name", "Sam Doe" }, { "status", "paid" }, { "amount_paid", 1900 }, { "billing_reason", "subscription_cycle" },
        { "parent", { { "type", "subscription_details" }, { "subscription_details", { { "subscription", "sub_QX1" } } } } },
        { "lines", { { "object", "list" }, { "data", Json::array({ line }) }, { "has_more", false } } } };
}

// The older shape (before 2025-03-31): invoice.subscription, line.subscription_item, line.price.id.
Json old_invoice(std::string const& id, std::string const& price, int64_t period_start, int64_t period_end)
{
    Json line { { "id", "il_" + id }, { "object", "line_item" }, { "amount", 1900 }, { "type", "subscription" },
        { "subscription", "sub_QX1" }, { "subscription_item", "si_QX1" },
        { "period", { { "start", period_start }, { "end", period_end } } }, { "price", { { "id", price }, { "object", "price" } } } };
    return Json { { "id", id }, { "object", "invoice" }, { "customer", "cus_QX1" }, { "customer_email", "sam@example.com" },
        { "customer_name", "Sam Doe" }, { "status", "paid" }, { "subscription", "sub_QX1" }, { "charge", "ch_" + id },
        { "lines", { { "object", "list" }, { "data", Json::array({ line }) } } } };
}

Json charge(std::string const& id, std::string const& invoice_id, int64_t refunded)
{
    return Json { { "id", id }, { "object", "charge" }, { "amount", 1900 }, { "amount_refunded", refunded },
        { "refunded", refunded == 1900 }, { "customer", "cus_QX1" }, { "invoice", invoice_id }, { "payment_intent", "pi_" + id } };
}

// A vendor with two monthly plans sold by Stripe prices, and what `ops` needs in-process.
struct BillingVendor : Vendor {
    BillingVendor()
    {
        env["CHARTER_NOW"] = now_text;
        cli({ "plan", "add", "pro-monthly", "--product", "acme-pro", "--duration", "1mo", "--grace", "3d", "--entitlement", "sso",
            "--seats", "5", "--stripe-price", "price_pro_m", "--stripe-price", "price_pro_m_eur", "--on-payment-failed", "suspend" });
        cli({ "plan", "add", "team-monthly", "--product", "acme-pro", "--duration", "1mo", "--grace", "7d", "--entitlement", "sso",
            "--entitlement", "audit-log", "--seats", "20", "--stripe-price", "price_team_m" });
    }
};

// The ops path in-process on a data directory (the code the server runs), with the clock given.
struct Billing {
    ops::Workspace workspace;
    keygen::SigningKey key;
    ops::Issuer issuer;

    static ops::Workspace open(std::string const& data_dir)
    {
        auto workspace = ops::Workspace::open(test_data_dir(data_dir));
        REQUIRE(workspace);
        return std::move(*workspace);
    }
    static keygen::SigningKey key_of(ops::Workspace& workspace)
    {
        auto key = workspace.current_signing_key(std::nullopt);
        REQUIRE(key);
        return std::move(*key);
    }
    explicit Billing(std::string const& data_dir)
        : workspace(open(data_dir))
        , key(key_of(workspace))
        , issuer(workspace.store(), key, "Acme Inc.")
    {
    }

    ops::ReceivedStripeEvent receive(std::string const& body, int64_t now = t0)
    {
        auto received = ops::receive_stripe_event(workspace.store(), issuer, body, now);
        INFO(body);
        REQUIRE(received);
        return *received;
    }
};

// The state an arrival order must not change (a customer's email is never one another Charter
// customer had before: found by email, such a customer is linked in the orders where the old
// email arrives first, docs/billing.md): licenses (plan, end, updates, state, terms),
// customers, and the merged subscription state; never ids, versions or times of arrival. A
// revoked license is final (docs/billing.md): it keeps the plan and end it had when the
// revocation arrived, so of a revoked license only that it is revoked.
std::string final_state(std::string const& data_dir)
{
    return sql(data_dir,
        "SELECT c.email, c.name, c.stripe_customer_id FROM customers c ORDER BY c.email;"
        " SELECT i.id, i.price_id, i.status, i.cancel_at_period_end, i.period_end, i.canceled,"
        " CASE WHEN l.status = 'revoked' THEN NULL ELSE l.plan_id END, CASE WHEN l.status = 'revoked' THEN NULL ELSE l.expires_at END,"
        " CASE WHEN l.status = 'revoked' THEN NULL ELSE l.updates_until END, l.status, l.suspended_at IS NOT NULL, l.suspend_reason, c.email"
        " FROM stripe_items i LEFT JOIN licenses l ON l.id = i.license_id LEFT JOIN customers c ON c.id = l.customer_id ORDER BY i.id;"
        " SELECT count(*) FROM licenses;");
}

}

TEST_CASE("signatures: computed independently, rotation, several v1, tolerance edges, one byte altered, missing or garbled")
{
    server::StripeSignature signature({ rotated_secret, secret }, 300);
    std::string body = event("evt_sig", "invoice.paid", t0, invoice("in_sig", "price_pro_m", t0, t0 + 30 * day));
    auto code = [&](std::string const& header, std::string const& text, int64_t now) {
        auto verdict = signature.check(header, text, now);
        return verdict.ok ? std::string("ok") : verdict.code;
    };
    CHECK(code(signature_header(body), body, t0) == "ok");
    // The secret of the rotation, the first configured one.
    CHECK(code(signature_header(body, t0, rotated_secret), body, t0) == "ok");
    CHECK(code(signature_header(body, t0, "whsec_wrong"), body, t0) == "signature_mismatch");
    // Several v1, one of which matches; another scheme (v0) is ignored.
    auto good = stripe_hmac(secret, t0, body);
    auto bad = stripe_hmac("whsec_wrong", t0, body);
    CHECK(code("t=" + std::to_string(t0) + ",v1=" + bad + ",v1=" + good + ",v0=" + bad, body, t0) == "ok");
    CHECK(code("t=" + std::to_string(t0) + ",v0=" + good, body, t0) == "signature_malformed");
    CHECK(code("t=" + std::to_string(t0) + ",v1=" + bad + ",v1=" + bad, body, t0) == "signature_mismatch");
    // Upper-case hex is the same bytes.
    auto upper = good;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    CHECK(code("t=" + std::to_string(t0) + ",v1=" + upper, body, t0) == "ok");
    // Tolerance: 300 s old is accepted, 301 s is not; the timestamp is part of what is signed.
    CHECK(code(signature_header(body, t0 - 300), body, t0) == "ok");
    CHECK(code(signature_header(body, t0 - 301), body, t0) == "timestamp_outside_tolerance");
    CHECK(code("t=" + std::to_string(t0 + 1) + ",v1=" + good, body, t0) == "signature_mismatch");
    // The body altered by one byte, anywhere.
    for (size_t at : { size_t(0), body.size() / 2, body.size() - 1 }) {
        auto altered = body;
        altered[at] = char(altered[at] ^ 1);
        CHECK(code(signature_header(body), altered, t0) == "signature_mismatch");
    }
    // Missing or garbled headers.
    CHECK(code("", body, t0) == "signature_missing");
    CHECK(code("garbage", body, t0) == "signature_malformed");
    CHECK(code("t=abc,v1=" + good, body, t0) == "signature_malformed");
    CHECK(code("t=" + std::to_string(t0), body, t0) == "signature_malformed");
    CHECK(code("t=" + std::to_string(t0) + ",v1=zz", body, t0) == "signature_mismatch");
    CHECK(code("t=" + std::to_string(t0) + ",v1=" + good.substr(0, 63), body, t0) == "signature_mismatch");
    // A message never shows a secret.
    auto verdict = signature.check(signature_header(body, t0, "whsec_wrong"), body, t0);
    CHECK_FALSE(contains(verdict.message, "whsec_"));
    CHECK_FALSE(contains(verdict.message, good));
}

TEST_CASE("the endpoint: refusals are 400 with their code, counted, nothing stored; no secret configured is 503; a redelivery is 200 and changes nothing")
{
    BillingVendor vendor;
    {
        ServerChild unconfigured(vendor, {}, { { "CHARTER_NOW", now_text } });
        auto answer = unconfigured.client().Post("/v1/webhooks/stripe", "{}", "application/json");
        REQUIRE(answer);
        CHECK(answer->status == 503);
        CHECK(Json::parse(answer->body)["error"]["code"] == "stripe_not_configured");
    }
    ServerChild server(vendor, {}, { { "CHARTER_NOW", now_text }, { "CHARTER_STRIPE_WEBHOOK_SECRET", std::string(rotated_secret) + "," + secret } });
    auto client = server.client();
    auto body = event("evt_http1", "invoice.paid", t0, invoice("in_http1", "price_pro_m", t0, t0 + 31 * day));
    auto post = [&](std::string const& header, std::string const& text) {
        httplib::Headers headers;
        if (!header.empty())
            headers.emplace("Stripe-Signature", header);
        auto answer = client.Post("/v1/webhooks/stripe", headers, text, "application/json");
        REQUIRE(answer);
        return *answer;
    };
    for (auto const& [header, expected] : std::vector<std::pair<std::string, std::string>> {
             { "", "signature_missing" }, { "t=1,v9=x", "signature_malformed" },
             { signature_header(body, t0, "whsec_wrong"), "signature_mismatch" },
             { signature_header(body, t0 - 301), "timestamp_outside_tolerance" } }) {
        auto answer = post(header, body);
        CHECK(answer.status == 400);
        CHECK(Json::parse(answer.body)["error"]["code"] == expected);
        CHECK_FALSE(contains(answer.body, "whsec_"));
    }
    CHECK(vendor.sql("SELECT count(*) FROM stripe_events; SELECT count(*) FROM licenses;") == "0\n0\n");

    auto first = post(signature_header(body), body);
    REQUIRE(first.status == 200);
    auto answer = Json::parse(first.body);
    CHECK(answer["outcome"] == "applied");
    CHECK(answer["duplicate"] == false);
    auto before = vendor.sql("SELECT * FROM licenses; SELECT * FROM license_versions; SELECT count(*) FROM audit;"
                             " SELECT * FROM stripe_events;");
    auto again = post(signature_header(body), body);
    CHECK(again.status == 200);
    CHECK(Json::parse(again.body)["duplicate"] == true);
    CHECK(vendor.sql("SELECT * FROM licenses; SELECT * FROM license_versions; SELECT count(*) FROM audit;"
                     " SELECT * FROM stripe_events;")
        == before);

    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    for (auto const* line : { "charter_stripe_webhooks_refused_total{reason=\"signature_missing\"} 1",
             "charter_stripe_webhooks_refused_total{reason=\"signature_mismatch\"} 1",
             "charter_stripe_webhooks_refused_total{reason=\"timestamp_outside_tolerance\"} 1",
             "charter_stripe_events_total{type=\"invoice.paid\",outcome=\"applied\"} 1",
             "charter_stripe_events_total{type=\"invoice.paid\",outcome=\"duplicate\"} 1" })
        CHECK(contains(metrics->body, line));
    CHECK_FALSE(contains(server.out() + server.err(), "whsec_"));

    // The license: the paid period's end plus the plan's grace, its entitlements and seats.
    auto licenses = Json::parse(vendor.cli({ "list", "--json" }).out);
    REQUIRE(licenses.size() == 1);
    CHECK(licenses[0]["expires_at"] == format::format_rfc3339(t0 + 31 * day + 3 * day));
    auto audit = vendor.cli({ "audit", "--source", "stripe" }).out;
    CHECK(contains(audit, "stripe:evt_http1  license.issue"));
    CHECK_FALSE(contains(audit, "cli"));
}

TEST_CASE("20 concurrent deliveries of one event: one effect, all answered 200")
{
    BillingVendor vendor;
    ServerChild server(vendor, { "--threads", "24" }, { { "CHARTER_NOW", now_text }, { "CHARTER_STRIPE_WEBHOOK_SECRET", secret } });
    auto body = event("evt_burst", "customer.subscription.created", t0, subscription("active", "price_team_m", t0 + 30 * day));
    auto customer_body = event("evt_cus", "customer.created", t0 - day, customer("jane@example.com", "Jane Doe"));
    {
        auto answer = server.client().Post("/v1/webhooks/stripe", { { "Stripe-Signature", signature_header(customer_body) } },
            customer_body, "application/json");
        REQUIRE(answer);
        REQUIRE(answer->status == 200);
    }
    std::latch start(20);
    std::vector<int> statuses(20, 0);
    std::vector<std::thread> clients;
    for (int i = 0; i < 20; ++i) {
        clients.emplace_back([&, i] {
            auto client = server.client();
            start.arrive_and_wait();
            auto answer = client.Post("/v1/webhooks/stripe", { { "Stripe-Signature", signature_header(body) } }, body, "application/json");
            statuses[size_t(i)] = answer ? answer->status : -1;
        });
    }
    for (auto& client : clients)
        client.join();
    CHECK(std::count(statuses.begin(), statuses.end(), 200) == 20);
    CHECK(vendor.sql("SELECT count(*) FROM licenses; SELECT count(*) FROM stripe_events WHERE id = 'evt_burst';"
                     " SELECT count(*) FROM audit WHERE actor = 'stripe:evt_burst' AND action = 'license.issue';")
        == "1\n1\n1\n");
    // jane@example.com existed already: found by email and linked, not created twice.
    CHECK(vendor.sql("SELECT count(*) FROM customers; SELECT stripe_customer_id FROM customers") == "1\ncus_QX1\n");
}

TEST_CASE("events sharing one transaction, as in the server's group commit: a second copy sees the first's row and changes nothing, a failed event is recorded while its effects roll back")
{
    BillingVendor vendor;
    Billing billing(vendor.data_dir);
    auto& store = billing.workspace.store();
    auto paid = event("evt_g1", "invoice.paid", t0, invoice("in_g1", "price_pro_m", t0, t0 + 31 * day));
    // The same item billed next at a price no plan sells: it fails after merging its price and period.
    auto unknown = event("evt_g2", "invoice.paid", t0 + 1, invoice("in_g2", "price_new_y", t0 + 31 * day, t0 + 396 * day));
    // What IssueBatcher::write does with the batch's work: one transaction, each event in it.
    std::vector<ops::ReceivedStripeEvent> received;
    auto committed = store.transaction([&]() -> Result<void> {
        for (auto const* body : { &paid, &paid, &unknown, &unknown }) {
            auto one = ops::receive_stripe_event(store, billing.issuer, *body, t0);
            if (!one)
                return one.error();
            received.push_back(std::move(*one));
        }
        return {};
    });
    REQUIRE(committed);
    REQUIRE(received.size() == 4);
    CHECK_FALSE(received[0].duplicate);
    CHECK(received[0].event.outcome == "applied");
    CHECK(received[1].duplicate);
    CHECK(received[1].event.outcome == "applied");
    CHECK_FALSE(received[2].duplicate);
    CHECK(received[2].event.outcome == "failed");
    CHECK(contains(received[2].event.reason, "Stripe price price_new_y"));
    CHECK(received[3].duplicate);
    CHECK(received[3].event.outcome == "failed");
    // Committed together: both events recorded once, one license issued once to the first
    // invoice's end plus grace; the failed invoice's merge (price, period end, link) undone.
    CHECK(vendor.sql("SELECT id, outcome FROM stripe_events ORDER BY id; SELECT count(*) FROM licenses;"
                     " SELECT count(*) FROM audit WHERE action = 'license.issue'; SELECT l.expires_at FROM licenses l;"
                     " SELECT price_id, period_end FROM stripe_items; SELECT count(*) FROM stripe_invoice_items WHERE invoice_id = 'in_g2';")
        == "evt_g1|applied\nevt_g2|failed\n1\n1\n" + std::to_string(t0 + 34 * day) + "\nprice_pro_m|" + std::to_string(t0 + 31 * day)
            + "\n0\n");
}

TEST_CASE("every arrival order of a subscription's events ends in the same state (all 720 orders of 6, 200 random orders of 9, 200 of 10 with the cancellation, 200 of 10 with a refund)")
{
    BillingVendor vendor;
    std::vector<std::string> events {
        event("evt_o1", "customer.created", t0 - day, customer("sam@example.com", "Sam Doe")),
        event("evt_o2", "customer.subscription.created", t0, subscription("active", "price_pro_m", t0 + 31 * day)),
        event("evt_o3", "invoice.paid", t0 + 1, invoice("in_o1", "price_pro_m", t0, t0 + 31 * day)),
        event("evt_o4", "invoice.paid", t0 + 31 * day, invoice("in_o2", "price_pro_m", t0 + 31 * day, t0 + 62 * day)),
        event("evt_o5", "customer.subscription.updated", t0 + 40 * day, subscription("active", "price_team_m", t0 + 62 * day)),
        event("evt_o6", "customer.updated", t0 + 41 * day, customer("sam.doe@example.com", "Sam Q. Doe")),
    };
    std::vector<std::string> more {
        event("evt_o7", "customer.subscription.updated", t0 + 62 * day + 10, subscription("past_due", "price_team_m", t0 + 93 * day)),
        event("evt_o8", "customer.subscription.updated", t0 + 63 * day, subscription("active", "price_team_m", t0 + 93 * day, true)),
        event("evt_o9", "invoice.paid", t0 + 63 * day - 5, invoice("in_o3", "price_team_m", t0 + 62 * day, t0 + 93 * day)),
    };
    // Each order on a fresh copy of the vendor's data directory; in memory (/dev/shm) when the
    // machine has it, as 1,000 databases' fsyncs would otherwise take minutes.
    char pattern[] = "/dev/shm/charter-billing-XXXXXX";
    char* made = std::filesystem::is_directory("/dev/shm") ? mkdtemp(pattern) : nullptr;
    TempDir fallback;
    std::string scratch = made ? std::string(made) : fallback.path();
    struct Remove {
        std::string path;
        ~Remove() { std::filesystem::remove_all(path); }
    } remove_scratch { made ? scratch : std::string() };
    // On PostgreSQL, each order starts from the vendor's rows put back in its one database (a
    // copy of a database costs half a second there), and a sample of the orders runs: every
    // 24th of the 720 and 10 of each 200 random ones (the order logic is the same code on both).
    // Both plans revoke on a full refund (only the last round has one).
    vendor.cli({ "plan", "update", "pro-monthly", "--on-refund", "revoke" });
    vendor.cli({ "plan", "update", "team-monthly", "--on-refund", "revoke" });
    bool const postgres = testing_postgres();
    if (postgres)
        PostgresCluster::get().keep_rows(test_database(std::filesystem::path(vendor.data_dir) / "charter.db"));
    int const every = postgres ? 24 : 1;
    int const random_orders = postgres ? 10 : 200;
    int runs = 0;
    auto run_order = [&](std::vector<std::string> const& order) {
        std::string copy = scratch + "/order";
        if (postgres) {
            copy = vendor.data_dir;
            PostgresCluster::get().restore_rows(test_database(std::filesystem::path(copy) / "charter.db"));
        } else {
            std::filesystem::remove_all(copy);
            std::filesystem::copy(vendor.data_dir, copy, std::filesystem::copy_options::recursive);
        }
        Billing billing(copy);
        for (auto const& body : order) {
            auto received = billing.receive(body);
            INFO(received.event.reason);
            CHECK(received.event.outcome == "applied");
        }
        auto settled = final_state(copy);
        // Every 50th order: each event redelivered afterwards changes nothing.
        if (runs++ % 50 == 0) {
            for (auto const& body : order)
                CHECK(billing.receive(body).duplicate);
            CHECK(final_state(copy) == settled);
        }
        return settled;
    };

    std::vector<size_t> index(events.size());
    for (size_t i = 0; i < index.size(); ++i)
        index[i] = i;
    auto expected = run_order(events);
    INFO(expected);
    CHECK(contains(expected, "sam.doe@example.com|Sam Q. Doe|cus_QX1"));
    CHECK(contains(expected, "team-monthly|" + std::to_string(t0 + 62 * day + 7 * day)));
    int orders = 0;
    do {
        if (orders++ % every != 0)
            continue;
        std::vector<std::string> order;
        for (auto i : index)
            order.push_back(events[i]);
        auto state = run_order(order);
        if (state != expected) {
            FAIL_CHECK("order " << orders - 1 << " ends elsewhere:\n" << state);
            break;
        }
    } while (std::next_permutation(index.begin(), index.end()));
    CHECK(orders == 720);

    auto all = events;
    all.insert(all.end(), more.begin(), more.end());
    auto expected_all = run_order(all);
    CHECK(contains(expected_all, "si_QX1|price_team_m|active|1|" + std::to_string(t0 + 93 * day)));
    std::mt19937 random(16);
    for (int i = 0; i < random_orders; ++i) {
        auto order = all;
        std::shuffle(order.begin(), order.end(), random);
        auto state = run_order(order);
        if (state != expected_all) {
            FAIL_CHECK("random order " << i << " of 9 ends elsewhere:\n" << state << "instead of:\n" << expected_all);
            break;
        }
    }

    // The cancellation: once seen it stays, whichever subscription.updated arrives after it (the
    // license then ends with the paid period plus grace, not revoked: on_cancel is end).
    auto canceled = all;
    canceled.push_back(event("evt_o10", "customer.subscription.deleted", t0 + 93 * day,
        subscription("canceled", "price_team_m", t0 + 93 * day, true)));
    auto expected_canceled = run_order(canceled);
    CHECK(contains(expected_canceled,
        "si_QX1|price_team_m|canceled|1|" + std::to_string(t0 + 93 * day) + "|1|team-monthly|" + std::to_string(t0 + 100 * day)
            + "||active|"));
    for (int i = 0; i < random_orders; ++i) {
        auto order = canceled;
        std::shuffle(order.begin(), order.end(), random);
        auto state = run_order(order);
        if (state != expected_canceled) {
            FAIL_CHECK("random order " << i << " of 10 ends elsewhere:\n" << state << "instead of:\n" << expected_canceled);
            break;
        }
    }

    // A full refund of the first invoice: the license is revoked in every order, whether the
    // refund arrives before the invoice it refunds, before the customer's email, or last.
    auto refunded = all;
    refunded.push_back(event("evt_o11", "charge.refunded", t0 + 5 * day, charge("ch_o1", "in_o1", 1900)));
    auto expected_refunded = run_order(refunded);
    CHECK(contains(expected_refunded, "si_QX1|price_team_m|active|1|" + std::to_string(t0 + 93 * day) + "|0||||revoked|"));
    for (int i = 0; i < random_orders; ++i) {
        auto order = refunded;
        std::shuffle(order.begin(), order.end(), random);
        auto state = run_order(order);
        if (state != expected_refunded) {
            FAIL_CHECK("random order " << i << " of 10 with the refund ends elsewhere:\n" << state << "instead of:\n" << expected_refunded);
            break;
        }
    }
}

TEST_CASE("a subscription's life on a pinned clock: sign-up, two renewals, a price change, past_due then active, cancellation at period end, a refund")
{
    BillingVendor vendor;
    Billing billing(vendor.data_dir);
    auto license = [&]() {
        auto licenses = Json::parse(vendor.cli({ "list", "--json" }).out);
        REQUIRE(licenses.size() == 1);
        return Json::parse(vendor.cli({ "show", licenses[0]["id"], "--json" }).out);
    };
    auto at = [](int64_t time) { return format::format_rfc3339(time); };

    // Sign-up: the customer, the subscription (its first invoice paid), on pro-monthly (grace 3d).
    billing.receive(event("evt_l1", "customer.created", t0, customer("sam@example.com", "Sam Doe")));
    auto created = billing.receive(event("evt_l2", "customer.subscription.created", t0, subscription("active", "price_pro_m", t0 + 31 * day)));
    CHECK(contains(created.event.reason, "issued lic_"));
    billing.receive(event("evt_l3", "invoice.paid", t0 + 5, invoice("in_l1", "price_pro_m", t0, t0 + 31 * day)));
    auto first = license();
    CHECK(first["expires_at"] == at(t0 + 34 * day));
    CHECK(first["version"] == 1);
    CHECK(first["plan"] == "pro-monthly");
    CHECK(first["claims"]["seats"] == 5);
    CHECK(first["claims"]["name"] == "Sam Doe");

    // Two renewals, one in the older invoice shape; an old invoice delivered late changes nothing.
    billing.receive(event("evt_l4", "invoice.paid", t0 + 31 * day, invoice("in_l2", "price_pro_m", t0 + 31 * day, t0 + 62 * day)), t0 + 31 * day);
    CHECK(license()["expires_at"] == at(t0 + 65 * day));
    billing.receive(event("evt_l5", "invoice.paid", t0 + 62 * day, old_invoice("in_l3", "price_pro_m", t0 + 62 * day, t0 + 93 * day)), t0 + 62 * day);
    auto renewed = license();
    CHECK(renewed["expires_at"] == at(t0 + 96 * day));
    CHECK(renewed["version"] == 3);
    auto late = billing.receive(event("evt_l1b", "invoice.paid", t0 + 4, invoice("in_l0", "price_pro_m", t0 - 31 * day, t0)), t0 + 63 * day);
    CHECK(contains(late.event.reason, "unchanged"));
    CHECK(license()["version"] == 3);

    // A price change: team-monthly's entitlements and seats, its 7 days of grace, a new version.
    billing.receive(event("evt_l6", "customer.subscription.updated", t0 + 70 * day, subscription("active", "price_team_m", t0 + 93 * day)), t0 + 70 * day);
    auto moved = license();
    CHECK(moved["plan"] == "team-monthly");
    CHECK(moved["claims"]["seats"] == 20);
    CHECK(moved["claims"]["entitlements"] == Json::array({ "sso", "audit-log" }));
    CHECK(moved["expires_at"] == at(t0 + 100 * day));
    CHECK(moved["version"] == 4);

    // past_due: team-monthly says warn, so it keeps working and validate warns; back to the
    // suspending plan's price, it is suspended; active again, reinstated.
    billing.receive(event("evt_l7", "customer.subscription.updated", t0 + 93 * day, subscription("past_due", "price_team_m", t0 + 124 * day)), t0 + 94 * day);
    CHECK(license()["status"] == "active");
    billing.receive(event("evt_l8", "customer.subscription.updated", t0 + 93 * day + 60, subscription("past_due", "price_pro_m", t0 + 124 * day)), t0 + 94 * day);
    auto suspended = license();
    CHECK(suspended["status"] == "suspended");
    CHECK(suspended["plan"] == "pro-monthly");
    billing.receive(event("evt_l9", "customer.subscription.updated", t0 + 95 * day, subscription("active", "price_pro_m", t0 + 124 * day)), t0 + 95 * day);
    CHECK(license()["status"] == "active");

    // Cancellation at period end: recorded; deleted at the end: the license ends with the paid period.
    billing.receive(event("evt_l10", "customer.subscription.updated", t0 + 100 * day, subscription("active", "price_pro_m", t0 + 124 * day, true)), t0 + 100 * day);
    CHECK(vendor.sql("SELECT cancel_at_period_end FROM stripe_items") == "1\n");
    billing.receive(event("evt_l11", "customer.subscription.deleted", t0 + 124 * day, subscription("canceled", "price_pro_m", t0 + 124 * day, true)), t0 + 110 * day);
    auto ended = license();
    CHECK(ended["status"] == "active");
    CHECK(ended["expires_at"] == at(t0 + 127 * day));

    // A partial refund changes nothing; a full refund revokes under a plan that says so.
    vendor.cli({ "plan", "update", "pro-monthly", "--on-refund", "revoke" });
    auto partial = billing.receive(event("evt_l12", "charge.refunded", t0 + 111 * day, charge("ch_in_l3", "in_l3", 500)), t0 + 111 * day);
    CHECK(partial.event.outcome == "ignored");
    auto refund = billing.receive(event("evt_l13", "charge.refunded", t0 + 112 * day, charge("ch_in_l3", "in_l3", 1900)), t0 + 112 * day);
    CHECK(contains(refund.event.reason, "revoked"));
    auto revoked = license();
    CHECK(revoked["status"] == "revoked");
    auto versions = vendor.sql("SELECT version, reason FROM license_versions ORDER BY version");
    // Earlier versions: sign-up, two renewals, the price change, the renewal of the past_due period;
    // the current one moved back to pro-monthly.
    CHECK(versions == "1|issue\n2|renew\n3|renew\n4|update\n5|renew\n");
    auto audit = vendor.cli({ "audit", "--source", "stripe", "--oldest-first" }).out;
    for (auto const* line : { "stripe:evt_l2  license.issue", "stripe:evt_l4  license.renew", "stripe:evt_l6  license.update",
             "stripe:evt_l8  license.suspend", "stripe:evt_l9  license.reinstate", "stripe:evt_l13  license.revoke" })
        CHECK(contains(audit, line));
}

TEST_CASE("an event that cannot be applied is recorded failed (200), listed by billing events --failed, and replayed once fixed")
{
    BillingVendor vendor;
    ServerChild server(vendor, {}, { { "CHARTER_NOW", now_text }, { "CHARTER_STRIPE_WEBHOOK_SECRET", secret } });
    auto body = event("evt_unknown_price", "invoice.paid", t0, invoice("in_u1", "price_new_y", t0, t0 + 365 * day));
    auto answer = server.client().Post("/v1/webhooks/stripe", { { "Stripe-Signature", signature_header(body) } }, body, "application/json");
    REQUIRE(answer);
    CHECK(answer->status == 200);
    auto json = Json::parse(answer->body);
    CHECK(json["outcome"] == "failed");
    CHECK(contains(json["reason"], "Stripe price price_new_y"));
    CHECK(vendor.sql("SELECT count(*) FROM licenses; SELECT count(*) FROM stripe_items;") == "0\n0\n");
    auto failed = Json::parse(vendor.cli({ "billing", "events", "--failed", "--json" }).out);
    REQUIRE(failed.size() == 1);
    CHECK(failed[0]["id"] == "evt_unknown_price");

    // Still failing: exit 3 with the reason, nothing applied.
    auto again = vendor.run({ "billing", "replay", "evt_unknown_price" });
    CHECK(again.exit_code == 3);
    CHECK(contains(again.err, "sells no plan"));
    vendor.cli({ "plan", "add", "pro-yearly", "--product", "acme-pro", "--duration", "1y", "--stripe-price", "price_new_y" });
    auto replayed = vendor.run({ "billing", "replay", "evt_unknown_price", "--json" });
    INFO(replayed.err);
    CHECK(replayed.exit_code == 0);
    CHECK(Json::parse(replayed.out)["outcome"] == "applied");
    CHECK(vendor.sql("SELECT count(*) FROM licenses") == "1\n");
    CHECK(vendor.run({ "billing", "replay", "evt_unknown_price" }).exit_code == 5);
    CHECK(vendor.run({ "billing", "replay", "evt_nope" }).exit_code == 4);
    // A redelivery after the replay: 200, nothing more.
    auto redelivered = server.client().Post("/v1/webhooks/stripe", { { "Stripe-Signature", signature_header(body) } }, body, "application/json");
    REQUIRE(redelivered);
    CHECK(Json::parse(redelivered->body)["duplicate"] == true);
    CHECK(vendor.sql("SELECT count(*) FROM licenses") == "1\n");
    // A price belongs to one plan.
    auto taken = vendor.run({ "plan", "update", "team-monthly", "--stripe-price", "price_new_y" });
    CHECK(taken.exit_code == 5);
    CHECK(contains(taken.err, "already sells plan pro-yearly"));
}

TEST_CASE("validate warns while a subscription's payment failed under a plan that says warn")
{
    BillingVendor vendor;
    ServerChild server(vendor, {}, { { "CHARTER_NOW", now_text }, { "CHARTER_STRIPE_WEBHOOK_SECRET", secret } });
    auto send = [&](std::string const& body) {
        auto answer = server.client().Post("/v1/webhooks/stripe", { { "Stripe-Signature", signature_header(body) } }, body, "application/json");
        REQUIRE(answer);
        REQUIRE(answer->status == 200);
    };
    send(event("evt_w1", "invoice.paid", t0, invoice("in_w1", "price_team_m", t0, t0 + 30 * day)));
    auto key = Json::parse(vendor.cli({ "list", "--json" }).out)[0];
    auto token = vendor.sql("SELECT token FROM licenses");
    token.pop_back();
    auto validate = [&]() {
        auto answer = server.client().Post("/v1/validate", Json { { "key", token }, { "product", "acme-pro" } }.dump(), "application/json");
        REQUIRE(answer);
        return Json::parse(answer->body);
    };
    CHECK_FALSE(validate().contains("warning"));
    send(event("evt_w2", "customer.subscription.updated", t0 + 10, subscription("past_due", "price_team_m", t0 + 30 * day)));
    auto warned = validate();
    CHECK(warned["valid"] == true);
    CHECK(contains(warned["warning"], "payment of subscription sub_QX1 failed (past_due)"));
    send(event("evt_w3", "customer.subscription.updated", t0 + 20, subscription("active", "price_team_m", t0 + 30 * day)));
    CHECK_FALSE(validate().contains("warning"));
}

TEST_CASE("SIGKILL after the event is committed and before the answer: the retry is 200, applied once")
{
    BillingVendor vendor;
    std::string marker = vendor.temp / "committed";
    auto body = event("evt_kill", "invoice.paid", t0, invoice("in_k1", "price_pro_m", t0, t0 + 31 * day));
    {
        ServerChild server(vendor, {}, { { "CHARTER_NOW", now_text }, { "CHARTER_STRIPE_WEBHOOK_SECRET", secret },
                                           { "CHARTER_TEST_HOLD_WEBHOOK_ANSWER", marker } });
        std::thread client([&] {
            auto connection = server.client();
            connection.set_read_timeout(5, 0);
            auto answer = connection.Post("/v1/webhooks/stripe", { { "Stripe-Signature", signature_header(body) } }, body, "application/json");
            CHECK_FALSE(answer); // no answer ever came
        });
        for (int i = 0; i < 6000 && !std::filesystem::exists(marker); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        REQUIRE(std::filesystem::exists(marker));
        CHECK(server.kill_hard() == 128 + SIGKILL);
        client.join();
    }
    ServerChild restarted(vendor, {}, { { "CHARTER_NOW", now_text }, { "CHARTER_STRIPE_WEBHOOK_SECRET", secret } });
    auto answer = restarted.client().Post("/v1/webhooks/stripe", { { "Stripe-Signature", signature_header(body) } }, body, "application/json");
    REQUIRE(answer);
    CHECK(answer->status == 200);
    CHECK(Json::parse(answer->body)["duplicate"] == true);
    CHECK(vendor.sql("SELECT count(*) FROM licenses; SELECT count(*) FROM stripe_events; SELECT count(*) FROM audit WHERE action = 'license.issue';")
        == "1\n1\n1\n");
}

TEST_CASE("SIGKILL right after the body is sent, before any answer: the retry applies the event once")
{
    BillingVendor vendor;
    auto body = event("evt_kill2", "invoice.paid", t0, invoice("in_k2", "price_pro_m", t0, t0 + 31 * day));
    {
        ServerChild server(vendor, {}, { { "CHARTER_NOW", now_text }, { "CHARTER_STRIPE_WEBHOOK_SECRET", secret } });
        RawConnection connection(server.port());
        CHECK(connection.send_all("POST /v1/webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nStripe-Signature: "
            + signature_header(body) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
        CHECK(server.kill_hard() == 128 + SIGKILL);
    }
    // Whether the kill came before or after the commit, the retry leaves one effect.
    ServerChild restarted(vendor, {}, { { "CHARTER_NOW", now_text }, { "CHARTER_STRIPE_WEBHOOK_SECRET", secret } });
    auto answer = restarted.client().Post("/v1/webhooks/stripe", { { "Stripe-Signature", signature_header(body) } }, body, "application/json");
    REQUIRE(answer);
    CHECK(answer->status == 200);
    CHECK(vendor.sql("SELECT count(*) FROM licenses; SELECT count(*) FROM stripe_events;") == "1\n1\n");
}
