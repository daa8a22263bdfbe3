// charter verifier export: a license check in Ruby, Python or JavaScript (ops/verifier_export)

#include "charter/keygen/ops/verifier_export.hpp"
#include "context.hpp"

#include <iostream>

namespace charter::cli {

namespace {

struct VerifierOptions {
    std::string language;
    std::string product;
    std::string module_name;
};

int run_verifier_export(Context& context, VerifierOptions const& options)
{
    auto language = ops::parse_verifier_language(options.language);
    if (!language)
        return context.fail(make_error(ErrorKind::invalid_input,
            "--language \"" + options.language + "\" is not ruby, python or javascript"));
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    if (auto product = workspace->store().get_product(options.product); !product)
        return context.fail(product.error());
    auto keys = workspace->trusted_keys();
    if (!keys)
        return context.fail(keys.error());
    auto issuer = workspace->issuer();
    if (!issuer)
        return context.fail(issuer.error());
    std::string module_name = options.module_name.empty() ? ops::default_verifier_module(options.product) : options.module_name;
    auto text = ops::render_verifier(*language, options.product, *issuer, *keys, module_name);
    if (!text)
        return context.fail(text.error());
    std::cout << *text;
    return exit_ok;
}

}

void register_verifier(CLI::App& app, Context& context)
{
    auto options = std::make_shared<VerifierOptions>();
    auto* verifier = app.add_subcommand("verifier", "license checks in Ruby, Python or JavaScript, with no native library");
    verifier->require_subcommand(1);
    verifier->footer("Example:\n  charter verifier export --language ruby --product acme-pro > lib/acme/license.rb");
    auto* exported = verifier->add_subcommand("export",
        "print a self-contained license check for a product, with the trusted public keys inside");
    exported->add_option("--language", options->language, "ruby, python or javascript")->required();
    exported->add_option("--product", options->product, "product id")->required();
    exported->add_option("--module", options->module_name, "Ruby only: the module it defines (default: AcmeProLicense for acme-pro)");
    exported->footer("Examples:\n"
                     "  charter verifier export --language ruby --product acme-pro > lib/acme/license.rb\n"
                     "  charter verifier export --language python --product acme-pro > acme_pro/license.py\n"
                     "  charter verifier export --language javascript --product acme-pro > license.mjs");
    exported->callback([&context, options] { context.exit_code = run_verifier_export(context, *options); });
}

}
