// charter activation list|release: the seats a license's machines hold (docs/activations.md).

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/activations.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "context.hpp"

#include <iostream>

namespace charter::cli {

namespace {

struct ActivationOptions {
    std::string license;
    std::string id;
    bool json { false };
};

int run_list(Context& context, ActivationOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    // An unknown license is an error, not an empty list: a typo must not read as "no seats held".
    if (auto license = workspace->store().get_license(options.license); !license)
        return context.fail(license.error());
    auto activations = workspace->store().list_activations(options.license);
    if (!activations)
        return context.fail(activations.error());
    int64_t now = context.now();
    if (options.json) {
        ops::Json list = ops::Json::array();
        for (auto const& activation : *activations)
            list.push_back(ops::activation_json(activation, now));
        Context::print_json(list);
        return exit_ok;
    }
    for (auto const& activation : *activations) {
        auto state = ops::activation_state(activation, now);
        std::cout << activation.id << "  seat " << activation.seat << "  " << state << "  "
                  << (activation.label ? ops::printable(*activation.label) : std::string("(no label)"));
        if (activation.processes)
            std::cout << "  " << *activation.processes << " processes";
        if (activation.cores)
            std::cout << "  " << *activation.cores << " cores";
        std::cout << "  last heartbeat " << format::format_rfc3339(activation.heartbeat_at);
        if (state == "active")
            std::cout << "  lease " << (activation.lease_ends_at ? "ends " + format::format_rfc3339(*activation.lease_ends_at) : "none (node-locked)");
        else if (activation.released_at)
            std::cout << "  released " << format::format_rfc3339(*activation.released_at);
        else
            std::cout << "  lease ended " << format::format_rfc3339(activation.expired_at.value_or(activation.lease_ends_at.value_or(now)));
        std::cout << "\n";
    }
    return exit_ok;
}

int run_release(Context& context, ActivationOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto released = ops::release_activation(workspace->store(), options.id, context.actor(), context.now());
    if (!released)
        return context.fail(released.error());
    if (options.json) {
        Context::print_json(ops::activation_json(*released, context.now()));
        return exit_ok;
    }
    if (released->released_at)
        std::cerr << "released " << options.id << " (seat " << released->seat << " of " << released->license_id
                  << "); the machine must activate again to hold a seat\n";
    else
        std::cerr << options.id << " no longer held a seat (its lease ended)\n";
    return exit_ok;
}

}

void register_activations(CLI::App& app, Context& context)
{
    auto options = std::make_shared<ActivationOptions>();
    auto* activation = app.add_subcommand("activation", "the seats a license's machines hold (activations)");
    activation->require_subcommand(1);
    activation->footer("Examples:\n  charter activation list lic_…\n  charter activation release act_…");
    auto* list = activation->add_subcommand("list", "list a license's activations: seat, label, last heartbeat, lease");
    list->add_option("LICENSE_ID", options->license, "lic_…")->required();
    list->add_flag("--json", options->json, "print JSON");
    list->footer("Example:\n  charter activation list lic_… --json");
    list->callback([&context, options] { context.exit_code = run_list(context, *options); });
    auto* release = activation->add_subcommand("release", "free an activation's seat (a machine that is gone for good)");
    release->add_option("ACTIVATION_ID", options->id, "act_…")->required();
    release->add_flag("--json", options->json, "print the released activation as JSON");
    release->footer("Example:\n  charter activation release act_…");
    release->callback([&context, options] { context.exit_code = run_release(context, *options); });
}

}
