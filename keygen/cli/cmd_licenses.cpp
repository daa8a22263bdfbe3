// charter list, charter show, charter revoke, charter revocations export

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/license_changes.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "context.hpp"

#include <iostream>

namespace charter::cli {

namespace {

constexpr int64_t list_page_size = 1000;

struct LicenseOptions {
    std::string product;
    std::string customer;
    std::string status;
    std::string expiring_within;
    std::string id;
    std::string reason;
    std::string kid; // revocations export --kid: only the list signed by this key
    bool json { false };
};

int run_list(Context& context, LicenseOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto& store = workspace->store();
    db::LicenseFilter filter;
    filter.now = context.now();
    if (!options.product.empty())
        filter.product_id = options.product;
    if (!options.customer.empty()) {
        auto customer = store.find_customer(options.customer);
        if (!customer)
            return context.fail(customer.error());
        filter.customer_id = customer->id;
    }
    if (options.status == "active")
        filter.state = db::LicenseState::active;
    else if (options.status == "revoked")
        filter.state = db::LicenseState::revoked;
    else if (options.status == "expired")
        filter.state = db::LicenseState::expired;
    else if (options.status == "suspended")
        filter.state = db::LicenseState::suspended;
    if (!options.expiring_within.empty()) {
        auto period = ops::parse_period(options.expiring_within, "--expiring-within");
        if (!period)
            return context.fail(period.error());
        auto until = ops::add_period(filter.now, *period, "--expiring-within");
        if (!until)
            return context.fail(until.error());
        filter.expiring_within = *until - filter.now;
    }
    // A page at a time: a vendor with 100,000 licenses lists them in flat memory.
    filter.limit = list_page_size;
    JsonArrayPrinter json;
    while (true) {
        auto page = store.list_licenses(filter);
        if (!page)
            return context.fail(page.error());
        for (auto const& license : *page) {
            if (options.json) {
                json.add(ops::license_json(license, filter.now, false));
                continue;
            }
            auto state = ops::license_state(license, filter.now);
            auto shown = state == "active" ? context.green(state) : context.red(state);
            std::cout << license.id << "  " << license.product_id << "  " << license.customer_id << "  " << shown << "  "
                      << (license.expires_at ? "expires " + format::format_date(*license.expires_at) : "perpetual") << "\n";
        }
        if (page->size() < size_t(list_page_size))
            break;
        filter.after_id = page->back().id;
    }
    if (options.json)
        json.finish();
    return exit_ok;
}

int run_show(Context& context, LicenseOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto license = workspace->store().get_license(options.id);
    if (!license)
        return context.fail(license.error());
    auto versions = workspace->store().list_license_versions(options.id);
    if (!versions)
        return context.fail(versions.error());
    int64_t now = context.now();
    if (options.json) {
        auto json = ops::license_json(*license, now);
        json["versions"] = ops::Json::array();
        for (auto const& version : *versions)
            json["versions"].push_back(ops::license_version_json(version));
        Context::print_json(json);
        return exit_ok;
    }
    auto state = ops::license_state(*license, now);
    std::cout << context.bold(license->id) << "\n"
              << "  product:       " << license->product_id << "\n"
              << "  customer:      " << license->customer_id << "\n"
              << "  status:        " << (state == "active" ? context.green(state) : context.red(state)) << "\n"
              << "  issued:        " << format::format_rfc3339(license->issued_at) << "\n"
              << "  expires:       " << (license->expires_at ? format::format_rfc3339(*license->expires_at) : "never") << "\n";
    if (license->updates_until)
        std::cout << "  updates until: " << format::format_rfc3339(*license->updates_until) << "\n";
    if (license->revoked_at)
        std::cout << "  revoked:       " << format::format_rfc3339(*license->revoked_at)
                  << (license->revoke_reason ? " (" + ops::printable(*license->revoke_reason) + ")" : "") << "\n";
    if (license->suspended_at)
        std::cout << "  suspended:     " << format::format_rfc3339(*license->suspended_at) << " ("
                  << ops::printable(license->suspend_reason.value_or("")) << ")\n";
    if (license->plan_id)
        std::cout << "  plan:          " << *license->plan_id << "\n";
    std::cout << "  signed by:     " << license->kid << "\n"
              << "  claims:        " << license->claims_json << "\n"
              << "  key:           " << license->token << "\n"
              << "  versions:\n";
    // Every version of the key, the current one last: each is a genuine key of this license.
    for (auto const& version : *versions) {
        std::cout << "    " << version.version << "  " << version.reason << "  " << format::format_rfc3339(version.issued_at)
                  << "  " << (version.expires_at ? "expires " + format::format_rfc3339(*version.expires_at) : "perpetual");
        if (version.updates_until)
            std::cout << "  updates until " << format::format_rfc3339(*version.updates_until);
        std::cout << "  by " << version.actor << (version.version == license->version ? "  (current)" : "") << "\n";
    }
    return exit_ok;
}

int run_revoke(Context& context, LicenseOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    std::optional<std::string> reason;
    if (!options.reason.empty())
        reason = options.reason;
    auto& store = workspace->store();
    if (auto revoked = ops::revoke_license(store, options.id, reason, context.actor(), context.now()); !revoked)
        return context.fail(revoked.error());
    auto license = store.get_license(options.id);
    if (!license)
        return context.fail(license.error());
    std::cerr << "revoked " << options.id << "; publish the new revocation list: charter revocations export --product "
              << license->product_id << "\n";
    return exit_ok;
}

int run_revocations_export(Context& context, LicenseOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto passphrase = context.passphrase();
    if (!passphrase)
        return context.fail(passphrase.error());
    auto keys = workspace->trusted_signing_keys(*passphrase);
    context.print_warnings(workspace->key_store());
    if (!keys)
        return context.fail(keys.error());
    std::vector<keygen::SigningKey const*> signers;
    for (auto const& key : *keys) {
        if (options.kid.empty() || key.kid() == options.kid)
            signers.push_back(&key);
    }
    if (signers.empty())
        return context.fail(make_error(ErrorKind::not_found,
            "no trusted signing key " + options.kid + "; charter key list shows the keys that are not retired"));
    auto issuer = workspace->issuer();
    if (!issuer)
        return context.fail(issuer.error());
    auto list = ops::export_revocation_list(workspace->store(), signers, *issuer, options.product, context.now());
    if (!list)
        return context.fail(list.error());
    std::cout << *list << "\n";
    return exit_ok;
}

}

void register_licenses(CLI::App& app, Context& context)
{
    auto options = std::make_shared<LicenseOptions>();
    auto* list = app.add_subcommand("list", "list licenses");
    list->add_option("--product", options->product, "only this product");
    list->add_option("--customer", options->customer, "only this customer (id or email)");
    list->add_option("--state,--status", options->status, "active, suspended, revoked or expired")
        ->check(CLI::IsMember({ "active", "suspended", "revoked", "expired" }));
    list->add_option("--expiring-within", options->expiring_within,
        "only licenses, neither revoked nor suspended, that end within this period from now: 30d, 2w, 1mo");
    list->add_flag("--json", options->json, "print JSON");
    list->footer("Examples:\n  charter list --product acme-pro --state active\n  charter list --expiring-within 30d\n"
                 "  charter list --state suspended --json\n  charter list --customer jane@example.com --json");
    list->callback([&context, options] { context.exit_code = run_list(context, *options); });

    auto* show = app.add_subcommand("show", "show one license, with its key and every version of it");
    show->add_option("LICENSE_ID", options->id, "lic_…")->required();
    show->add_flag("--json", options->json, "print JSON");
    show->footer("Example:\n  charter show lic_…");
    show->callback([&context, options] { context.exit_code = run_show(context, *options); });

    auto* revoke = app.add_subcommand("revoke", "revoke a license (online checks and new revocation lists refuse it)");
    revoke->add_option("LICENSE_ID", options->id, "lic_…")->required();
    revoke->add_option("--reason", options->reason, "why, kept in the database and the audit log");
    revoke->footer("Example:\n  charter revoke lic_… --reason \"chargeback\"");
    revoke->callback([&context, options] { context.exit_code = run_revoke(context, *options); });

    auto* revocations = app.add_subcommand("revocations", "signed revocation lists for offline verifiers");
    revocations->require_subcommand(1);
    revocations->footer("Example:\n  charter revocations export --product acme-pro > acme-pro.revocations");
    auto* exported = revocations->add_subcommand("export",
        "print the revocation file of a product: one signed list per trusted signing key, one per line");
    exported->add_option("--product", options->product, "product id")->required();
    exported->add_option("--kid", options->kid,
        "only the list signed by this key (k4.pid.…), for builds whose libcharter-verify reads one list only");
    exported->footer("Examples:\n  charter revocations export --product acme-pro > acme-pro.revocations\n"
                     "  charter revocations export --product acme-pro --kid k4.pid.… > acme-pro.revocations");
    exported->callback([&context, options] { context.exit_code = run_revocations_export(context, *options); });
}

}
