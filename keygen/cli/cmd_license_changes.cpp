// charter renew, charter license update, charter suspend, charter reinstate

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/license_changes.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "context.hpp"

#include <functional>
#include <iostream>

namespace charter::cli {

namespace {

struct ChangeOptions {
    std::string id;
    std::optional<std::string> by;
    std::optional<std::string> until;
    std::optional<std::string> plan;
    std::optional<std::string> basis;
    bool keep_updates { false };
    std::vector<std::string> entitlements; // +NAME / -NAME
    std::optional<int64_t> seats;
    std::optional<std::string> name;
    std::optional<std::string> expires;
    std::optional<std::string> updates_until;
    std::string reason;
    bool json { false };
};

std::string terms(db::License const& license)
{
    std::string text = license.expires_at ? "expires " + format::format_rfc3339(*license.expires_at) : "perpetual";
    if (license.updates_until)
        text += ", updates until " + format::format_rfc3339(*license.updates_until);
    return text;
}

// Prints a changed license: its key on stdout (or the license as JSON), what happened on stderr.
int print_changed(Context& context, ops::ChangedLicense const& changed, std::string const& what, bool json)
{
    auto const& license = changed.license;
    if (json)
        Context::print_json(ops::license_json(license, context.now()));
    else
        std::cout << license.token << "\n";
    if (!std::cout.flush())
        return context.fail(make_error(ErrorKind::io, "license " + license.id + " was " + what + ", but its key could not be "
                "written to stdout; get it with `charter show " + license.id + "`"));
    if (json)
        return exit_ok;
    if (changed.new_version)
        std::cerr << what << " " << license.id << ": version " << license.version << ", " << terms(license) << "\n";
    else
        std::cerr << license.id << " already has these terms; no new version (version " << license.version << ")\n";
    return exit_ok;
}

// Opens the workspace and the current signing key, and makes the change with them.
int change_signed(Context& context, ChangeOptions const& options, char const* what,
    std::function<Result<ops::ChangedLicense>(ops::LicenseChanges& changes)> const& change)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto key = context.current_signing_key(*workspace);
    if (!key)
        return context.fail(key.error());
    ops::LicenseChanges changes(workspace->store(), *key);
    auto changed = change(changes);
    if (!changed)
        return context.fail(changed.error());
    return print_changed(context, *changed, what, options.json);
}

int run_renew(Context& context, ChangeOptions const& options)
{
    ops::RenewRequest request;
    request.by = options.by;
    request.until = options.until;
    request.plan = options.plan;
    request.keep_updates = options.keep_updates;
    if (options.basis) {
        auto basis = ops::parse_renewal_basis(*options.basis);
        if (!basis)
            return context.fail(basis.error());
        request.basis = *basis;
    }
    return change_signed(context, options, "renewed",
        [&](ops::LicenseChanges& changes) { return changes.renew(options.id, request, context.actor(), context.now()); });
}

int run_update(Context& context, ChangeOptions const& options)
{
    ops::UpdateRequest request;
    for (auto const& change : options.entitlements) {
        if (change.size() < 2 || (change[0] != '+' && change[0] != '-'))
            return context.fail(make_error(ErrorKind::invalid_input,
                "--entitlement \"" + change + "\" must be +NAME (add it) or -NAME (remove it)"));
        (change[0] == '+' ? request.add_entitlements : request.remove_entitlements).push_back(change.substr(1));
    }
    request.seats = options.seats;
    request.name = options.name;
    request.expires = options.expires;
    request.updates_until = options.updates_until;
    return change_signed(context, options, "updated",
        [&](ops::LicenseChanges& changes) { return changes.update(options.id, request, context.actor(), context.now()); });
}

int run_suspend(Context& context, ChangeOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto license = ops::suspend_license(workspace->store(), options.id, options.reason, context.actor(), context.now());
    if (!license)
        return context.fail(license.error());
    if (options.json)
        Context::print_json(ops::license_json(*license, context.now(), false));
    else
        std::cerr << "suspended " << license->id << " (" << ops::printable(options.reason)
                  << "); the server refuses it until `charter reinstate " << license->id << "`\n";
    return exit_ok;
}

int run_reinstate(Context& context, ChangeOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto license = ops::reinstate_license(workspace->store(), options.id, context.actor(), context.now());
    if (!license)
        return context.fail(license.error());
    if (options.json)
        Context::print_json(ops::license_json(*license, context.now(), false));
    else
        std::cerr << "reinstated " << license->id << " (" << ops::license_state(*license, context.now()) << ")\n";
    return exit_ok;
}

}

void register_license_changes(CLI::App& app, Context& context)
{
    auto options = std::make_shared<ChangeOptions>();
    auto* renew = app.add_subcommand("renew", "renew a license in place: a new version of its key (prints the key)");
    renew->add_option("LICENSE_ID", options->id, "lic_…")->required();
    auto* by = renew->add_option("--by", options->by, "a period added to the basis: 1y, 6mo, 30d, 2w");
    auto* until = renew->add_option("--until", options->until, "the new end: RFC 3339, YYYY-MM-DD or a duration from now");
    auto* plan = renew->add_option("--plan", options->plan, "one period of this plan, with its terms (default: the license's plan)");
    by->excludes(until)->excludes(plan);
    until->excludes(plan);
    renew->add_option("--basis", options->basis, "where the period starts: from-expiry (default), from-now, from-now-if-expired")
        ->check(CLI::IsMember({ "from-expiry", "from-now", "from-now-if-expired" }));
    renew->add_flag("--keep-updates", options->keep_updates, "updates_until stays where it is (it moves with the end otherwise)");
    renew->add_flag("--json", options->json, "print the license as JSON");
    renew->footer("Examples:\n"
                  "  charter renew lic_… --by 1y\n"
                  "  charter renew lic_… --by 1y --basis from-now-if-expired\n"
                  "  charter renew lic_… --until 2028-01-31 --keep-updates\n"
                  "  charter renew lic_… --plan pro-yearly");
    renew->callback([&context, options] { context.exit_code = run_renew(context, *options); });

    auto* license = app.add_subcommand("license", "change a license's terms");
    license->require_subcommand(1);
    license->footer("Example:\n  charter license update lic_… --entitlement +audit-log --seats 10");
    auto* update = license->add_subcommand("update", "change a license's terms: a new version of its key (prints the key)");
    update->add_option("LICENSE_ID", options->id, "lic_…")->required();
    update->add_option("--entitlement", options->entitlements, "+NAME adds, -NAME removes; repeat for several")
        ->allow_extra_args(false);
    update->add_option("--seats", options->seats, "licensed seats");
    update->add_option("--name", options->name, "licensee display name");
    update->add_option("--expires", options->expires, "the new end: RFC 3339, YYYY-MM-DD or a duration from now");
    update->add_option("--updates-until", options->updates_until, "releases after this are not covered (same forms)");
    update->add_flag("--json", options->json, "print the license as JSON");
    update->footer("Examples:\n"
                   "  charter license update lic_… --entitlement +audit-log --entitlement -sso\n"
                   "  charter license update lic_… --seats 10 --updates-until 2028-01-31");
    update->callback([&context, options] { context.exit_code = run_update(context, *options); });

    auto* suspend = app.add_subcommand("suspend", "suspend a license: the server refuses it, with the reason, until reinstated");
    suspend->add_option("LICENSE_ID", options->id, "lic_…")->required();
    suspend->add_option("--reason", options->reason, "why; the customer is shown it (Bundler prints it)")->required();
    suspend->add_flag("--json", options->json, "print the license as JSON");
    suspend->footer("Example:\n  charter suspend lic_… --reason \"payment failed; update your card at https://acme.example/billing\"");
    suspend->callback([&context, options] { context.exit_code = run_suspend(context, *options); });

    auto* reinstate = app.add_subcommand("reinstate", "lift a suspension");
    reinstate->add_option("LICENSE_ID", options->id, "lic_…")->required();
    reinstate->add_flag("--json", options->json, "print the license as JSON");
    reinstate->footer("Example:\n  charter reinstate lic_…");
    reinstate->callback([&context, options] { context.exit_code = run_reinstate(context, *options); });
}

}
