#pragma once
// Plans: named templates of license terms, the vendor's SKUs ("pro-yearly": acme-pro for a
// year, a year of updates, sso, 5 seats). `charter plan add|update` and the issuing and
// renewing code read them; a license remembers the plan it was issued or last renewed from.

#include "charter/db/store.hpp"
#include "charter/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace charter::ops {

/// A plan as typed on the command line; absent fields keep their value on update.
struct PlanRequest {
    std::string id;                          // the name: 1 to 64 of a-z, 0-9, '-', '_', '.'
    std::optional<std::string> product;      // required to add; a plan never changes product
    std::optional<std::string> duration;     // a period: "1y", "6mo", "30d"
    std::optional<std::string> updates_for;  // a period
    std::optional<std::vector<std::string>> entitlements;
    std::optional<int64_t> seats;
    std::optional<std::string> grace;        // a fixed period: "7d", "48h"
    std::optional<std::string> seat_counting; // "machines", "processes" or "cores"
    std::optional<std::string> lease;         // "15m", "1h", "0" (node-locked): parse_lease
    /// Mail reminders before a license's end: fixed periods, comma-separated ("14d,3d"); "" for none.
    std::optional<std::string> remind;
    // Stripe (docs/billing.md).
    std::vector<std::string> add_stripe_prices;    // "price_…": sells this plan from now on
    std::vector<std::string> remove_stripe_prices; // sells it no more
    std::optional<std::string> on_payment_failed;  // "warn" or "suspend"
    std::optional<std::string> on_cancel;          // "end" or "revoke"
    std::optional<std::string> on_refund;          // "keep" or "revoke"
};

/// Checks and adds a plan ("plan.add"): unknown product not_found, a used name conflict.
Result<db::Plan> add_plan(db::Store& store, PlanRequest const& request, db::Actor const& actor, int64_t now);
/// Changes the given terms of a plan ("plan.update"); licenses issued from it keep their terms
/// until they are renewed by it.
Result<db::Plan> update_plan(db::Store& store, PlanRequest const& request, db::Actor const& actor, int64_t now);

}
