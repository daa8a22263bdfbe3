// charter credential create|list|revoke: a license's download credentials, one per
// environment (docs/cli.md).

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/credentials.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "context.hpp"

#include <iostream>

namespace charter::cli {

namespace {

struct CredentialOptions {
    std::string license;
    std::string name;
    std::string id;
    bool json { false };
};

int run_create(Context& context, CredentialOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto created = ops::create_credential(workspace->store(), options.license, options.name, context.now(), context.actor());
    if (!created)
        return context.fail(created.error());
    if (options.json) {
        auto json = ops::credential_json(created->record);
        json["secret"] = created->secret;
        Context::print_json(json);
        return exit_ok;
    }
    std::cout << created->secret << "\n";
    std::cerr << "created " << created->record.id << " for " << options.license
              << "; this is the only time the secret is shown (use it as the password of HTTP Basic, or as a Bearer token)\n";
    return exit_ok;
}

int run_list(Context& context, CredentialOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    // An unknown license is an error, not an empty list: a typo must not read as "no credentials".
    if (auto license = workspace->store().get_license(options.license); !license)
        return context.fail(license.error());
    auto credentials = workspace->store().list_credentials(options.license);
    if (!credentials)
        return context.fail(credentials.error());
    if (options.json) {
        ops::Json list = ops::Json::array();
        for (auto const& credential : *credentials)
            list.push_back(ops::credential_json(credential));
        Context::print_json(list);
        return exit_ok;
    }
    for (auto const& credential : *credentials) {
        std::cout << credential.id << "  " << (credential.revoked_at ? "revoked" : "active ") << "  " << ops::printable(credential.name)
                  << "  created " << format::format_rfc3339(credential.created_at) << "  ";
        if (credential.last_used_at)
            std::cout << "last used " << format::format_rfc3339(*credential.last_used_at) << " from "
                      << ops::printable(credential.last_used_from.value_or("?"));
        else
            std::cout << "never used";
        std::cout << "\n";
    }
    return exit_ok;
}

int run_revoke(Context& context, CredentialOptions const& options)
{
    if (ops::is_credential_secret(options.id))
        return context.fail(make_error(ErrorKind::invalid_input,
            "that is a credential's secret; give its id (cred_…), which `charter credential list LICENSE_ID` shows"));
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    if (auto revoked = workspace->store().revoke_credential(options.id, context.now(), context.actor()); !revoked)
        return context.fail(revoked.error());
    if (options.json) {
        auto credential = workspace->store().get_credential(options.id);
        if (!credential)
            return context.fail(credential.error());
        Context::print_json(ops::credential_json(*credential));
        return exit_ok;
    }
    std::cerr << "revoked " << options.id << "; the license and its other credentials are unchanged\n";
    return exit_ok;
}

}

void register_credentials(CLI::App& app, Context& context)
{
    auto options = std::make_shared<CredentialOptions>();
    auto* credential = app.add_subcommand("credential", "download credentials of a license, one per environment (CI, laptop, deploy)");
    credential->require_subcommand(1);
    credential->footer("Examples:\n  SECRET=$(charter credential create lic_… --name ci)\n  charter credential list lic_…\n"
                       "  charter credential revoke cred_…");
    auto* create = credential->add_subcommand("create", "create a credential; prints its secret once (only its hash is stored)");
    create->add_option("LICENSE_ID", options->license, "lic_…")->required();
    create->add_option("--name", options->name, "where it is used: ci, laptop, deploy (unique among the license's live credentials)")
        ->required();
    create->add_flag("--json", options->json, "print JSON (the secret in \"secret\")");
    create->footer("Example:\n  SECRET=$(charter credential create lic_… --name ci)\n"
                   "  # the customer: bundle config set --global HOST ci:$SECRET");
    create->callback([&context, options] { context.exit_code = run_create(context, *options); });
    auto* list = credential->add_subcommand("list", "list a license's credentials with their last use (never their secrets)");
    list->add_option("LICENSE_ID", options->license, "lic_…")->required();
    list->add_flag("--json", options->json, "print JSON");
    list->footer("Example:\n  charter credential list lic_…");
    list->callback([&context, options] { context.exit_code = run_list(context, *options); });
    auto* revoke = credential->add_subcommand("revoke", "revoke a credential; the license and its other credentials keep working");
    revoke->add_option("CREDENTIAL_ID", options->id, "cred_…")->required();
    revoke->add_flag("--json", options->json, "print the revoked credential as JSON");
    revoke->footer("Example:\n  charter credential revoke cred_…");
    revoke->callback([&context, options] { context.exit_code = run_revoke(context, *options); });
}

}
