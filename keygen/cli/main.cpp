// charter: the vendor's command-line tool. This file only builds the command tree; each
// subcommand group lives in its own file and acts through keygen/ops.

#include "charter/verify.h"
#include "context.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv)
{
    // `--version` is handled here, not as a CLI11 flag: `release add --version V` needs the name.
    if (argc == 2 && std::string(argv[1]) == "--version") {
        std::cout << "charter " << CHARTER_VERSION_STRING << "\n";
        return 0;
    }
    charter::cli::Context context;
    CLI::App app { "charter: issue, list, revoke and verify license keys (PASETO v4.public, Ed25519)", "charter" };
    app.require_subcommand(1);
    app.add_option("--data-dir", context.data_dir, "data directory (default: $CHARTER_DATA_DIR, else ./charter-data)");
    app.add_option("--database", context.database_url,
        "a PostgreSQL database to use instead of charter.db in the data directory: postgres://USER@HOST:PORT/DATABASE "
        "(default: $CHARTER_DATABASE_URL; the password from the URL, PGPASSFILE or PGPASSWORD)");
    app.add_flag("--passphrase-prompt", context.passphrase_prompt,
        "ask for the signing key passphrase on the terminal (or set CHARTER_PASSPHRASE)");
    app.add_flag("--no-color", context.no_color, "never colour the output");
    app.add_option("--public-url", context.public_url_option,
        "the address customers reach charter-server at, for links in mail (default: $CHARTER_PUBLIC_URL)");
    app.footer("Examples:\n"
               "  charter init --issuer \"Acme Inc.\"\n"
               "  charter product add acme-pro --name \"Acme Pro\"\n"
               "  charter customer add --email jane@example.com --name \"Jane Doe\"\n"
               "  KEY=$(charter issue --product acme-pro --customer jane@example.com --expires 1y)\n"
               "  charter verify \"$KEY\"\n\n"
               "Exit codes: 0 ok, 1 license not valid, 2 usage, 3 invalid input, 4 not found, 5 conflict,\n"
               "6 passphrase missing or wrong, 7 storage error, 8 database too new, 9 mail not all delivered,\n"
               "70 internal error.\n"
               "Run `charter COMMAND --help` for its options and examples.");

    charter::cli::register_init(app, context);
    charter::cli::register_keys(app, context);
    charter::cli::register_catalog(app, context);
    charter::cli::register_issue(app, context);
    charter::cli::register_licenses(app, context);
    charter::cli::register_license_changes(app, context);
    charter::cli::register_plans(app, context);
    charter::cli::register_billing(app, context);
    charter::cli::register_verify(app, context);
    charter::cli::register_admin(app, context);
    charter::cli::register_credentials(app, context);
    charter::cli::register_activations(app, context);
    charter::cli::register_releases(app, context);
    charter::cli::register_downloads(app, context);
    charter::cli::register_verifier(app, context);
    charter::cli::register_mail(app, context);

    // A bad public URL (option or CHARTER_PUBLIC_URL) is refused before any command runs, as
    // charter-server refuses it at start.
    app.parse_complete_callback([&]() {
        if (auto url = context.public_url(); !url)
            throw CLI::RuntimeError(context.fail(url.error()));
    });
    try {
        app.parse(argc, argv);
    } catch (CLI::RuntimeError const& stopped) {
        return stopped.get_exit_code(); // the message is printed already
    } catch (CLI::ParseError const& error) {
        int code = app.exit(error);
        return code == 0 ? 0 : charter::cli::exit_usage;
    }
    return context.exit_code;
}
