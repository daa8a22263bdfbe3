// POST /v1/webhooks/stripe (docs/billing.md): Stripe's signed events, checked over the raw body
// before anything is parsed, then recorded and applied once through ops::receive_stripe_event,
// the code of `charter billing replay`, in issuance's group commit (the signing key, one fsync
// for the events and licenses that arrive together).

#include "charter/keygen/ops/billing.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/http_server.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

namespace charter::server {

namespace {

using Add = std::function<void(char const*, std::string const&, HttpServer::Handler)>;

// A metrics label from an event type: Stripe's names are lower-case words and dots.
std::string type_label(std::string const& type)
{
    if (type.size() > 64)
        return "other";
    for (char c : type) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'))
            return "other";
    }
    return type;
}

// Tests only (tests/test_billing.cpp, "SIGKILL after the event is committed and before the
// answer"): with CHARTER_TEST_HOLD_WEBHOOK_ANSWER=FILE, the answer waits forever once the event
// is committed, after creating FILE.
void hold_answer_for_test()
{
    char const* marker = std::getenv("CHARTER_TEST_HOLD_WEBHOOK_ANSWER");
    if (!marker || !*marker)
        return;
    std::ofstream(marker) << "committed\n";
    for (;;)
        std::this_thread::sleep_for(std::chrono::seconds(1));
}

void stripe_webhook(HttpServer& server, StripeSignature const& signature, httplib::Request const& request,
    httplib::Response& response)
{
    if (!signature.configured())
        return send_error(response, 503, "stripe_not_configured", "Stripe webhooks are not configured on this server; set "
                "CHARTER_STRIPE_WEBHOOK_SECRET (or --stripe-webhook-secret-file) to the endpoint's signing secret (docs/billing.md)");
    int64_t now = server.now();
    auto verdict = signature.check(request.get_header_value("Stripe-Signature"), request.body, now);
    if (!verdict.ok) {
        server.metrics().stripe_webhook_refused(verdict.code);
        return send_error(response, 400, verdict.code, verdict.message);
    }
    auto envelope = ops::parse_stripe_envelope(request.body);
    if (!envelope) {
        server.metrics().stripe_webhook_refused("not_an_event");
        return send_error(response, 400, "not_an_event", envelope.error().message);
    }
    std::optional<ops::ReceivedStripeEvent> received;
    auto done = server.commit_signed([&](db::Store& store, ops::Issuer& issuer) -> Result<void> {
        auto result = ops::receive_stripe_event(store, issuer, request.body, now);
        if (!result)
            return result.error();
        received = std::move(*result);
        return {};
    });
    if (!done) {
        // Stripe retries any answer but 2xx: a database failure is retried later.
        server.metrics().stripe_event(type_label(envelope->type), "error");
        return send_failure(response, done.error());
    }
    hold_answer_for_test();
    auto const& event = received->event;
    server.metrics().stripe_event(type_label(event.type), received->duplicate ? "duplicate" : event.outcome);
    send_json(response, 200,
        Json { { "id", event.id }, { "type", event.type }, { "outcome", event.outcome }, { "reason", event.reason },
            { "duplicate", received->duplicate } });
}

}

void register_billing_routes(HttpServer& server, Add add)
{
    add("POST", "/v1/webhooks/stripe", [&server](httplib::Request const& request, httplib::Response& response) {
        stripe_webhook(server, server.stripe_signature(), request, response);
    });
}

}
