#include "charter/keygen/ops/plans.hpp"

#include "charter/keygen/ops/activations.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "charter/keygen/ops/time_input.hpp"

#include <algorithm>

namespace charter::ops {

namespace {

Result<void> check_terms(db::Plan& plan, PlanRequest const& request)
{
    if (request.duration) {
        if (auto period = parse_period(*request.duration, "--duration"); !period)
            return period.error();
        plan.duration = *request.duration;
    }
    if (request.updates_for) {
        if (auto period = parse_period(*request.updates_for, "--updates-for"); !period)
            return period.error();
        plan.updates_for = *request.updates_for;
    }
    if (request.entitlements) {
        for (auto const& entitlement : *request.entitlements) {
            if (auto checked = check_license_text(entitlement, "an entitlement name"); !checked)
                return checked.error();
            if (std::count(request.entitlements->begin(), request.entitlements->end(), entitlement) > 1)
                return make_error(ErrorKind::invalid_input, "entitlement \"" + entitlement + "\" is given twice");
        }
        plan.entitlements = *request.entitlements;
    }
    if (request.seats) {
        if (auto checked = check_seats(*request.seats); !checked)
            return checked.error();
        plan.seats = request.seats;
    }
    if (request.grace) {
        auto period = parse_period(*request.grace, "--grace");
        if (!period)
            return period.error();
        auto seconds = fixed_seconds(*period, "--grace");
        if (!seconds)
            return seconds.error();
        plan.grace_seconds = *seconds;
    }
    if (request.seat_counting) {
        auto const& counting = *request.seat_counting;
        if (counting != "machines" && counting != "processes" && counting != "cores")
            return make_error(ErrorKind::invalid_input,
                "--count-seats \"" + counting + "\" is not a way to count seats; give machines, processes or cores");
        plan.seat_counting = counting;
    }
    if (request.lease) {
        auto seconds = parse_lease(*request.lease, "--lease");
        if (!seconds)
            return seconds.error();
        plan.lease_seconds = *seconds;
    }
    if (request.remind) {
        std::vector<std::string> reminders;
        size_t start = 0;
        while (start < request.remind->size()) {
            auto end = request.remind->find(',', start);
            if (end == std::string::npos)
                end = request.remind->size();
            auto text = request.remind->substr(start, end - start);
            start = end + 1;
            if (text.empty())
                continue;
            auto period = parse_period(text, "--remind");
            if (!period)
                return period.error();
            auto seconds = fixed_seconds(*period, "--remind");
            if (!seconds)
                return seconds.error();
            if (*seconds <= 0)
                return make_error(ErrorKind::invalid_input, "--remind "" + text + "" must be a period before the end, like 14d");
            if (std::count(reminders.begin(), reminders.end(), text) > 0)
                return make_error(ErrorKind::invalid_input, "--remind "" + text + "" is given twice");
            reminders.push_back(text);
        }
        plan.reminders = std::move(reminders);
    }
    auto policy = [](std::optional<std::string> const& value, std::string& field, char const* option, char const* first,
                      char const* second) -> Result<void> {
        if (!value)
            return {};
        if (*value != first && *value != second)
            return make_error(ErrorKind::invalid_input, std::string(option) + " \"" + *value + "\" must be " + first + " or " + second);
        field = *value;
        return {};
    };
    if (auto checked = policy(request.on_payment_failed, plan.on_payment_failed, "--on-payment-failed", "warn", "suspend"); !checked)
        return checked;
    if (auto checked = policy(request.on_cancel, plan.on_cancel, "--on-cancel", "end", "revoke"); !checked)
        return checked;
    if (auto checked = policy(request.on_refund, plan.on_refund, "--on-refund", "keep", "revoke"); !checked)
        return checked;
    for (auto const& price : request.remove_stripe_prices) {
        auto found = std::find(plan.stripe_prices.begin(), plan.stripe_prices.end(), price);
        if (found == plan.stripe_prices.end())
            return make_error(ErrorKind::invalid_input, "plan " + plan.id + " is not sold by Stripe price " + price
                    + "; `charter plan show " + plan.id + "` lists its prices");
        plan.stripe_prices.erase(found);
    }
    for (auto const& price : request.add_stripe_prices) {
        bool valid = price.size() > 6 && price.size() <= 255 && price.rfind("price_", 0) == 0
            && std::all_of(price.begin(), price.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
               });
        if (!valid)
            return make_error(ErrorKind::invalid_input, "--stripe-price \"" + price
                    + "\" is not a Stripe price id (price_ followed by letters and digits, from the product's page in Stripe's dashboard)");
        if (std::find(plan.stripe_prices.begin(), plan.stripe_prices.end(), price) == plan.stripe_prices.end())
            plan.stripe_prices.push_back(price);
    }
    std::sort(plan.stripe_prices.begin(), plan.stripe_prices.end());
    return {};
}

}

Result<db::Plan> add_plan(db::Store& store, PlanRequest const& request, db::Actor const& actor, int64_t now)
{
    bool valid_id = !request.id.empty() && request.id.size() <= 64 && std::all_of(request.id.begin(), request.id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
    if (!valid_id)
        return make_error(ErrorKind::invalid_input,
            "plan name \"" + request.id + "\" must be 1 to 64 characters of a-z, 0-9, '-', '_' and '.'");
    if (!request.product)
        return make_error(ErrorKind::invalid_input, "a plan needs a product (--product)");
    if (!request.duration)
        return make_error(ErrorKind::invalid_input, "a plan needs a duration (--duration 1y)");
    db::Plan plan;
    plan.id = request.id;
    plan.product_id = *request.product;
    plan.created_at = now;
    plan.updated_at = now;
    if (auto checked = check_terms(plan, request); !checked)
        return checked.error();
    if (auto added = store.add_plan(plan, actor); !added)
        return added.error();
    return plan;
}

Result<db::Plan> update_plan(db::Store& store, PlanRequest const& request, db::Actor const& actor, int64_t now)
{
    if (request.product)
        return make_error(ErrorKind::invalid_input, "a plan's product never changes; add a new plan for another product");
    if (!request.duration && !request.updates_for && !request.entitlements && !request.seats && !request.grace
        && !request.seat_counting && !request.lease && !request.remind && request.add_stripe_prices.empty()
        && request.remove_stripe_prices.empty() && !request.on_payment_failed && !request.on_cancel && !request.on_refund)
        return make_error(ErrorKind::invalid_input, "nothing to update; give --duration, --updates-for, --entitlement, --seats, "
                                                    "--grace, --count-seats, --lease, --remind, --stripe-price, --remove-stripe-price or an --on-… policy");
    std::optional<db::Plan> updated;
    auto done = store.transaction([&]() -> Result<void> {
        auto plan = store.get_plan(request.id);
        if (!plan)
            return plan.error();
        if (auto checked = check_terms(*plan, request); !checked)
            return checked.error();
        plan->updated_at = now;
        if (auto stored = store.update_plan(*plan, actor); !stored)
            return stored.error();
        updated = std::move(*plan);
        return {};
    });
    if (!done)
        return done.error();
    return std::move(*updated);
}

}
