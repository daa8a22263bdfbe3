// charter init

#include "context.hpp"

#include <iostream>

namespace charter::cli {

namespace {

int run_init(Context& context, std::string const& issuer)
{
    auto passphrase = context.passphrase(true);
    if (!passphrase)
        return context.fail(passphrase.error());
    auto dir = context.resolve_data_dir();
    auto workspace = ops::Workspace::initialize(dir, issuer, *passphrase, context.now(), context.actor());
    if (!workspace)
        return context.fail(workspace.error());
    auto key = workspace->store().current_signing_key();
    if (!key)
        return context.fail(key.error());
    std::cout << "initialised " << dir.root().string() << " for issuer \"" << issuer << "\"\n"
              << "signing key " << key->kid << (*passphrase ? " (passphrase-protected)" : "") << "\n"
              << "public key  " << key->public_paserk << "\n";
    return exit_ok;
}

}

void register_init(CLI::App& app, Context& context)
{
    auto issuer = std::make_shared<std::string>();
    auto* command = app.add_subcommand("init", "create a data directory: database, keys/ and a first signing key");
    command->add_option("--issuer", *issuer, "your name as vendor, the iss claim of every license")->required();
    command->footer("Examples:\n"
                    "  charter init --issuer \"Acme Inc.\"\n"
                    "  CHARTER_PASSPHRASE=… charter --data-dir /srv/charter init --issuer \"Acme Inc.\"\n"
                    "  charter --passphrase-prompt init --issuer \"Acme Inc.\"   # key stored as k4.secret-pw");
    command->callback([&context, issuer] { context.exit_code = run_init(context, *issuer); });
}

}
