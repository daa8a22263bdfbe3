// charter plan add|list|show|update

#include "charter/keygen/ops/activations.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "charter/keygen/ops/plans.hpp"
#include "context.hpp"

#include <iostream>

namespace charter::cli {

namespace {

struct PlanOptions {
    ops::PlanRequest request;
    std::vector<std::string> entitlements;
    bool json { false };
};

std::string describe(db::Plan const& plan)
{
    std::string text = plan.id + "\t" + plan.product_id + "\t" + plan.duration;
    text += plan.updates_for ? "\tupdates for " + *plan.updates_for : "\tno updates limit";
    if (!plan.entitlements.empty()) {
        text += "\t";
        for (size_t i = 0; i < plan.entitlements.size(); ++i)
            text += (i ? " " : "") + ops::printable(plan.entitlements[i]);
    }
    if (plan.seats)
        text += "\t" + std::to_string(*plan.seats) + " seats";
    // How seats are counted matters once a license holds some (docs/activations.md).
    text += "\tseats counted as " + plan.seat_counting + ", lease " + ops::lease_text(plan.lease_seconds);
    if (plan.grace_seconds)
        text += "\tgrace " + std::to_string(plan.grace_seconds / 3600) + "h";
    if (!plan.reminders.empty()) {
        std::string reminders;
        for (auto const& reminder : plan.reminders)
            reminders += (reminders.empty() ? "" : ",") + reminder;
        text += "\tremind " + reminders;
    }
    if (!plan.stripe_prices.empty()) {
        text += "\tstripe";
        for (auto const& price : plan.stripe_prices)
            text += " " + price;
        text += "\tpayment failed: " + plan.on_payment_failed + ", cancel: " + plan.on_cancel + ", refund: " + plan.on_refund;
    }
    return text;
}

int print_plan(db::Plan const& plan, bool json)
{
    if (json)
        Context::print_json(ops::plan_json(plan));
    else
        std::cout << describe(plan) << "\n";
    return exit_ok;
}

ops::PlanRequest request_of(PlanOptions const& options)
{
    auto request = options.request;
    if (!options.entitlements.empty())
        request.entitlements = options.entitlements;
    return request;
}

int run_add(Context& context, PlanOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto plan = ops::add_plan(workspace->store(), request_of(options), context.actor(), context.now());
    if (!plan)
        return context.fail(plan.error());
    return print_plan(*plan, options.json);
}

int run_update(Context& context, PlanOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto plan = ops::update_plan(workspace->store(), request_of(options), context.actor(), context.now());
    if (!plan)
        return context.fail(plan.error());
    return print_plan(*plan, options.json);
}

int run_show(Context& context, PlanOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto plan = workspace->store().get_plan(options.request.id);
    if (!plan)
        return context.fail(plan.error());
    return print_plan(*plan, options.json);
}

int run_list(Context& context, PlanOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto plans = workspace->store().list_plans();
    if (!plans)
        return context.fail(plans.error());
    if (options.json) {
        ops::Json list = ops::Json::array();
        for (auto const& plan : *plans)
            list.push_back(ops::plan_json(plan));
        Context::print_json(list);
        return exit_ok;
    }
    for (auto const& plan : *plans)
        std::cout << describe(plan) << "\n";
    return exit_ok;
}

void add_terms(CLI::App* command, PlanOptions& options)
{
    command->add_option("--duration", options.request.duration, "one period of the plan: 1y, 6mo, 30d");
    command->add_option("--updates-for", options.request.updates_for, "releases covered for this long from a period's start");
    command->add_option("--entitlement", options.entitlements, "a feature flag; repeat for several (update: the whole list)");
    command->add_option("--seats", options.request.seats, "licensed seats");
    command->add_option("--grace", options.request.grace, "grace after the end, in hours, days or weeks: 7d");
    command->add_option("--count-seats", options.request.seat_counting,
        "what a seat is for activations: machines (default), processes or cores");
    command->add_option("--lease", options.request.lease,
        "how long an activation holds its seat without a heartbeat: 15m (default), 1h; 0 = node-locked");
    command->add_option("--remind", options.request.remind,
        "mail the customer this long before a license's end, comma-separated: 14d,3d (\"\" for none)");
    command->add_option("--stripe-price", options.request.add_stripe_prices, "a Stripe price (price_…) that sells this plan; repeat for several");
    command->add_option("--on-payment-failed", options.request.on_payment_failed,
        "when a subscription's payment fails: warn (validate says so; default) or suspend");
    command->add_option("--on-cancel", options.request.on_cancel, "when a subscription is canceled: end (at the paid period's end; default) or revoke");
    command->add_option("--on-refund", options.request.on_refund, "on a full refund: keep (default) or revoke");
    command->add_flag("--json", options.json, "print JSON");
}

}

void register_plans(CLI::App& app, Context& context)
{
    auto options = std::make_shared<PlanOptions>();
    auto* plan = app.add_subcommand("plan", "plans: named license terms (SKUs) to issue and renew by");
    plan->require_subcommand(1);
    plan->footer("Examples:\n"
                 "  charter plan add pro-yearly --product acme-pro --duration 1y --updates-for 1y --entitlement sso\n"
                 "  charter issue --plan pro-yearly --customer jane@example.com");

    auto* add = plan->add_subcommand("add", "add a plan");
    add->add_option("NAME", options->request.id, "the plan's name, e.g. pro-yearly")->required();
    add->add_option("--product", options->request.product, "product id")->required();
    add_terms(add, *options);
    add->footer("Examples:\n  charter plan add pro-yearly --product acme-pro --duration 1y --updates-for 1y \\\n"
                "      --entitlement sso --seats 5 --grace 7d\n"
                "  charter plan add pro-monthly --product acme-pro --duration 1mo --grace 3d --stripe-price price_1Q… \\\n"
                "      --on-payment-failed suspend --on-refund revoke");
    add->callback([&context, options] { context.exit_code = run_add(context, *options); });

    auto* list = plan->add_subcommand("list", "list the plans");
    list->add_flag("--json", options->json, "print JSON");
    list->footer("Example:\n  charter plan list --json");
    list->callback([&context, options] { context.exit_code = run_list(context, *options); });

    auto* show = plan->add_subcommand("show", "show one plan");
    show->add_option("NAME", options->request.id, "the plan's name")->required();
    show->add_flag("--json", options->json, "print JSON");
    show->footer("Example:\n  charter plan show pro-yearly");
    show->callback([&context, options] { context.exit_code = run_show(context, *options); });

    auto* update = plan->add_subcommand("update", "change a plan's terms (licenses take them when renewed by it)");
    update->add_option("NAME", options->request.id, "the plan's name")->required();
    add_terms(update, *options);
    update->add_option("--remove-stripe-price", options->request.remove_stripe_prices, "a Stripe price that sells this plan no more");
    update->footer("Example:\n  charter plan update pro-yearly --seats 10 --entitlement sso --entitlement audit-log");
    update->callback([&context, options] { context.exit_code = run_update(context, *options); });
}

}
