#pragma once
// Stripe billing (docs/billing.md): the one code path that applies a Stripe webhook event, behind
// charter-server's POST /v1/webhooks/stripe and `charter billing replay`. Charter never calls
// Stripe: everything it knows comes from the events.
//
// Exactly once, in any order: every event id is recorded with its outcome in the transaction of
// its effects, so a redelivery changes nothing. An event is first merged into the state of the
// subscription items (and customers) it describes, by rules that do not depend on the order of
// arrival (a period end is the latest seen; a status, price or cancel flag is the one of the
// event with the latest `created`, ties broken by event id; a cancellation or a refund, once
// seen, stays); the license is then derived from that state alone, through the license
// operations (issue, renew, update, suspend, reinstate, revoke) as the CLI and the admin API
// make them. So every arrival order of the same events ends in the same licenses.

#include "charter/db/store.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "charter/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace charter::ops {

/// The envelope of a Stripe event: what is recorded before (and whatever) it is applied.
struct StripeEnvelope {
    std::string id;   // "evt_…"
    std::string type; // "invoice.paid"
    int64_t created { 0 };
};

/// Reads the envelope of a webhook body; invalid_input when it is not a Stripe event (not a JSON
/// object with an "evt_" id, a type, a created time and data.object).
Result<StripeEnvelope> parse_stripe_envelope(std::string_view body);

/// What receiving an event did.
struct ReceivedStripeEvent {
    db::StripeEvent event; // as recorded (by this delivery, or by the one before it)
    bool duplicate { false }; // received before: nothing was done now
};

/// Records and applies one webhook body whose signature was checked: the event row and every
/// change it causes in one transaction (a savepoint of the caller's, when it has one), signing
/// with `issuer`'s key. An event that cannot be applied (a price no plan sells, a malformed
/// object) is recorded "failed" with the reason and is not an error; an error (a database
/// failure, a body that is not an event) stores nothing.
Result<ReceivedStripeEvent> receive_stripe_event(db::Store& store, Issuer& issuer, std::string const& body, int64_t now);

/// Applies a recorded event that failed (or was ignored) again, once the configuration is fixed
/// (`charter billing replay`); its outcome is updated. An event applied already: conflict.
Result<db::StripeEvent> replay_stripe_event(db::Store& store, Issuer& issuer, std::string const& id, int64_t now);

/// The warning POST /v1/validate adds for a license billing made: the subscription's payment
/// failed and its plan says warn. Absent otherwise.
Result<std::optional<std::string>> billing_warning(db::Store& store, std::string const& license_id);

/// The actor of the changes an event makes: "stripe:evt_…" (`charter audit --source stripe`).
db::Actor stripe_actor(std::string const& event_id);

}
