// charter billing events|replay: the Stripe events charter-server received (docs/billing.md)

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/billing.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "context.hpp"

#include <iostream>

namespace charter::cli {

namespace {

struct BillingOptions {
    std::optional<std::string> type;
    bool failed { false };
    std::optional<int64_t> limit;
    std::string id;
    bool json { false };
};

ops::Json event_json(db::StripeEvent const& event)
{
    return ops::Json { { "id", event.id }, { "type", event.type }, { "created", format::format_rfc3339(event.created) },
        { "received_at", format::format_rfc3339(event.received_at) }, { "outcome", event.outcome }, { "reason", event.reason },
        { "updated_at", format::format_rfc3339(event.updated_at) } };
}

void print_event(db::StripeEvent const& event)
{
    std::cout << format::format_rfc3339(event.received_at) << "  " << event.id << "  " << event.type << "  " << event.outcome
              << "  " << ops::printable(event.reason) << "\n";
}

int run_events(Context& context, BillingOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    db::StripeEventFilter filter;
    filter.type = options.type;
    if (options.failed)
        filter.outcome = "failed";
    filter.limit = options.limit;
    auto events = workspace->store().list_stripe_events(filter);
    if (!events)
        return context.fail(events.error());
    if (options.json) {
        JsonArrayPrinter printer;
        for (auto const& event : *events)
            printer.add(event_json(event));
        printer.finish();
        return exit_ok;
    }
    for (auto const& event : *events)
        print_event(event);
    return exit_ok;
}

int run_replay(Context& context, BillingOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto key = context.current_signing_key(*workspace);
    if (!key)
        return context.fail(key.error());
    auto issuer_name = workspace->issuer();
    if (!issuer_name)
        return context.fail(issuer_name.error());
    ops::Issuer issuer(workspace->store(), std::move(*key), *issuer_name);
    auto event = ops::replay_stripe_event(workspace->store(), issuer, options.id, context.now());
    if (!event)
        return context.fail(event.error());
    if (options.json)
        Context::print_json(event_json(*event));
    else
        print_event(*event);
    if (event->outcome == "failed")
        return context.fail(make_error(ErrorKind::invalid_input, "event " + event->id + " still fails: " + event->reason));
    return exit_ok;
}

}

void register_billing(CLI::App& app, Context& context)
{
    auto options = std::make_shared<BillingOptions>();
    auto* billing = app.add_subcommand("billing", "the Stripe events charter-server received (docs/billing.md)");
    billing->require_subcommand(1);
    billing->footer("Examples:\n  charter billing events --failed\n  charter billing replay evt_1Q…");

    auto* events = billing->add_subcommand("events", "list the Stripe events received, newest first, with what each did");
    events->add_option("--type", options->type, "only this type, e.g. invoice.paid");
    events->add_flag("--failed", options->failed, "only the events that could not be applied (replay them once fixed)");
    events->add_option("--limit", options->limit, "at most this many (the newest)")->check(CLI::PositiveNumber);
    events->add_flag("--json", options->json, "print JSON");
    events->footer("Examples:\n  charter billing events --limit 20\n  charter billing events --type invoice.paid --json\n"
                   "  charter billing events --failed");
    events->callback([&context, options] { context.exit_code = run_events(context, *options); });

    auto* replay = billing->add_subcommand("replay", "apply a failed event again, once its plan or price is fixed");
    replay->add_option("EVENT_ID", options->id, "evt_…")->required();
    replay->add_flag("--json", options->json, "print the event as JSON");
    replay->footer("Example:\n  charter plan update pro-monthly --stripe-price price_1Q…\n  charter billing replay evt_1Q…");
    replay->callback([&context, options] { context.exit_code = run_replay(context, *options); });
}

}
