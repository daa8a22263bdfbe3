// charter product add|list, charter customer add|list|show

#include "charter/keygen/ops/customers.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "charter/keygen/token_signer.hpp"
#include "context.hpp"

#include <iostream>

namespace charter::cli {

namespace {

struct CatalogOptions {
    std::string id;
    std::string name;
    std::string email;
    bool keep_access { false };
    bool json { false };
};

int run_product_add(Context& context, CatalogOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    for (char c : options.id) {
        bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!allowed)
            return context.fail(make_error(ErrorKind::invalid_input, "product id \"" + options.id
                    + "\" may contain only a-z, 0-9, '-', '_' and '.' (it is part of every license's signature)"));
    }
    if (options.id.empty() || options.id.size() > 64)
        return context.fail(make_error(ErrorKind::invalid_input, "product id must be 1 to 64 characters"));
    if (auto checked = ops::check_one_line(options.name, "--name"); !checked)
        return context.fail(checked.error());
    db::Product product { options.id, options.name.empty() ? options.id : options.name, options.keep_access, context.now() };
    if (auto added = workspace->store().add_product(product, context.actor()); !added)
        return context.fail(added.error());
    if (options.json)
        Context::print_json(ops::product_json(product));
    else
        std::cout << product.id << "\n";
    return exit_ok;
}

int run_product_list(Context& context, CatalogOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto products = workspace->store().list_products();
    if (!products)
        return context.fail(products.error());
    if (options.json) {
        ops::Json list = ops::Json::array();
        for (auto const& product : *products)
            list.push_back(ops::product_json(product));
        Context::print_json(list);
        return exit_ok;
    }
    for (auto const& product : *products)
        std::cout << product.id << "\t" << ops::printable(product.name) << (product.keep_access_after_expiry ? "\t(keeps access after expiry)" : "")
                  << "\n";
    return exit_ok;
}

int run_customer_add(Context& context, CatalogOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto customer = ops::new_customer(options.email, options.name, context.now());
    if (!customer)
        return context.fail(customer.error());
    if (auto added = workspace->store().add_customer(*customer, context.actor()); !added)
        return context.fail(added.error());
    if (options.json)
        Context::print_json(ops::customer_json(*customer));
    else
        std::cout << customer->id << "\n";
    return exit_ok;
}

int run_customer_list(Context& context, CatalogOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto customers = workspace->store().list_customers();
    if (!customers)
        return context.fail(customers.error());
    if (options.json) {
        ops::Json list = ops::Json::array();
        for (auto const& customer : *customers)
            list.push_back(ops::customer_json(customer));
        Context::print_json(list);
        return exit_ok;
    }
    for (auto const& customer : *customers)
        std::cout << customer.id << "\t" << ops::printable(customer.email) << "\t" << ops::printable(customer.name) << "\n";
    return exit_ok;
}

int run_customer_show(Context& context, CatalogOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto customer = workspace->store().find_customer(options.id);
    if (!customer)
        return context.fail(customer.error());
    db::LicenseFilter filter;
    filter.customer_id = customer->id;
    filter.now = context.now();
    auto licenses = workspace->store().list_licenses(filter);
    if (!licenses)
        return context.fail(licenses.error());
    if (options.json) {
        auto json = ops::customer_json(*customer);
        json["licenses"] = ops::Json::array();
        for (auto const& license : *licenses)
            json["licenses"].push_back(ops::license_json(license, filter.now, false));
        Context::print_json(json);
        return exit_ok;
    }
    std::cout << customer->id << "\n  email: " << ops::printable(customer->email) << "\n  name:  "
              << ops::printable(customer->name) << "\n  licenses: "
              << licenses->size() << "\n";
    for (auto const& license : *licenses)
        std::cout << "    " << license.id << "  " << license.product_id << "  " << ops::license_state(license, filter.now) << "\n";
    return exit_ok;
}

}

void register_catalog(CLI::App& app, Context& context)
{
    auto options = std::make_shared<CatalogOptions>();
    auto* product = app.add_subcommand("product", "products you sell licenses for");
    product->require_subcommand(1);
    product->footer("Examples:\n  charter product add acme-pro --name \"Acme Pro\"\n  charter product list --json");
    auto* add = product->add_subcommand("add", "add a product (its id is signed into every license)");
    add->add_option("ID", options->id, "product id, e.g. acme-pro")->required();
    add->add_option("--name", options->name, "display name");
    add->add_flag("--keep-access-after-expiry", options->keep_access,
        "after a license expires, keep allowing downloads of releases published before it expired");
    add->add_flag("--json", options->json, "print JSON");
    add->footer("Example:\n  charter product add acme-pro --name \"Acme Pro\"");
    add->callback([&context, options] { context.exit_code = run_product_add(context, *options); });
    auto* list = product->add_subcommand("list", "list products");
    list->add_flag("--json", options->json, "print JSON");
    list->footer("Example:\n  charter product list --json");
    list->callback([&context, options] { context.exit_code = run_product_list(context, *options); });

    auto* customer = app.add_subcommand("customer", "customers who hold licenses");
    customer->require_subcommand(1);
    customer->footer("Examples:\n  CUSTOMER=$(charter customer add --email jane@example.com --name \"Jane Doe\")\n"
                     "  charter customer list --json\n  charter customer show jane@example.com");
    auto* customer_add = customer->add_subcommand("add", "add a customer; prints the new id (cus_…)");
    customer_add->add_option("--email", options->email, "email address (unique)")->required();
    customer_add->add_option("--name", options->name, "name of the person or company");
    customer_add->add_flag("--json", options->json, "print JSON");
    customer_add->footer("Example:\n  CUSTOMER=$(charter customer add --email jane@example.com --name \"Jane Doe\")");
    customer_add->callback([&context, options] { context.exit_code = run_customer_add(context, *options); });
    auto* customer_list = customer->add_subcommand("list", "list customers");
    customer_list->add_flag("--json", options->json, "print JSON");
    customer_list->footer("Example:\n  charter customer list");
    customer_list->callback([&context, options] { context.exit_code = run_customer_list(context, *options); });
    auto* show = customer->add_subcommand("show", "show a customer and their licenses");
    show->add_option("ID_OR_EMAIL", options->id, "cus_… or an email address")->required();
    show->add_flag("--json", options->json, "print JSON");
    show->footer("Example:\n  charter customer show jane@example.com");
    show->callback([&context, options] { context.exit_code = run_customer_show(context, *options); });
}

}
