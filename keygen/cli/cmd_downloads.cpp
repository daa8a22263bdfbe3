// charter downloads: the downloads log charter-server writes, read without sqlite3

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "context.hpp"

#include <algorithm>
#include <iostream>
#include <vector>

namespace charter::cli {

namespace {

// The outcomes charter-server writes (server/src/customer/routes_downloads.cpp; docs/operations.md,
// "downloads log"). Checked here so that a misspelt code is an error, not an empty listing.
std::vector<std::string> const outcomes { "ok", "not_modified", "range_not_satisfiable", "not_found", "unauthorized",
    "not_yet_valid", "invalid_key", "revoked", "wrong_product", "updates_ended", "expired" };

struct DownloadsOptions {
    std::string since;
    std::string license;
    std::string product;
    std::string outcome;
    std::optional<int64_t> limit;
    bool json { false };
};

// product/version/filename when the release is known, else its id, else "-".
std::string describe_release(db::DownloadLogEntry const& entry)
{
    if (entry.release)
        return entry.release->product_id + "/" + entry.release->version + "/" + entry.release->filename;
    return entry.download.release_id.value_or("-");
}

int run_downloads(Context& context, DownloadsOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto& store = workspace->store();
    db::DownloadFilter filter;
    if (!options.since.empty()) {
        auto since = parse_time_option(options.since, context.now(), "--since", ops::DurationFromNow::ago);
        if (!since)
            return context.fail(since.error());
        filter.since = *since;
    }
    // An unknown id is an error rather than an empty log: a typo must not read as "never downloaded".
    if (!options.license.empty()) {
        if (auto license = store.get_license(options.license); !license)
            return context.fail(license.error());
        filter.license_id = options.license;
    }
    if (!options.product.empty()) {
        if (auto product = store.get_product(options.product); !product)
            return context.fail(product.error());
        filter.product_id = options.product;
    }
    if (!options.outcome.empty())
        filter.outcome = options.outcome;
    // A page at a time: the log gains a line for every file request customers make.
    constexpr int64_t page_size = 1000;
    std::optional<int64_t> remaining = options.limit;
    JsonArrayPrinter json;
    while (!remaining || *remaining > 0) {
        filter.limit = remaining ? std::min(*remaining, page_size) : page_size;
        auto entries = store.list_downloads(filter);
        if (!entries)
            return context.fail(entries.error());
        for (auto const& entry : *entries) {
            if (options.json) {
                json.add(ops::download_json(entry));
                continue;
            }
            auto const& download = entry.download;
            std::cout << format::format_rfc3339(download.at) << "  " << download.outcome << "  "
                      << download.license_id.value_or("-") << "  " << ops::printable(describe_release(entry)) << "  " << download.bytes
                      << "  " << (download.remote_address.empty() ? "-" : download.remote_address) << "\n";
        }
        if (remaining)
            *remaining -= int64_t(entries->size());
        if (entries->size() < size_t(*filter.limit))
            break;
        filter.after_id = entries->back().download.id;
    }
    if (options.json)
        json.finish();
    return exit_ok;
}

}

void register_downloads(CLI::App& app, Context& context)
{
    auto options = std::make_shared<DownloadsOptions>();
    auto* downloads = app.add_subcommand("downloads", "show the downloads log (every file request charter-server answered)");
    downloads->add_option("--since", options->since, "lines at or after this time: RFC 3339, YYYY-MM-DD, or a duration ago (7d)");
    downloads->add_option("--license", options->license, "only this license's requests (lic_…)");
    downloads->add_option("--product", options->product, "only requests for this product's releases");
    downloads->add_option("--outcome", options->outcome, "only this outcome")
        ->check(CLI::IsMember(outcomes));
    downloads->add_option("--limit", options->limit, "at most this many lines (the oldest first)")->check(CLI::PositiveNumber);
    downloads->add_flag("--json", options->json, "print JSON");
    downloads->footer("Examples:\n  charter downloads --since 24h   # the last day\n"
                      "  charter downloads --license lic_… --json\n"
                      "  charter downloads --product acme-pro --outcome expired --since 2026-11-01");
    downloads->callback([&context, options] { context.exit_code = run_downloads(context, *options); });
}

}
