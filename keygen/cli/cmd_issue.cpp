// charter issue, charter issue --batch FILE.csv

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/batch.hpp"
#include "charter/keygen/ops/batch_issue.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "context.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace charter::cli {

namespace {

struct IssueOptions {
    std::string plan;
    std::string product;
    std::string customer;
    std::string expires;
    std::string updates_until;
    std::string not_before;
    std::vector<std::string> entitlements;
    std::optional<int64_t> seats;
    std::string name;
    std::vector<std::string> meta;
    std::string batch;
    bool json { false };
};

Result<ops::Issuer> make_issuer(Context& context, ops::Workspace& workspace)
{
    auto key = context.current_signing_key(workspace);
    if (!key)
        return key.error();
    auto issuer = workspace.issuer();
    if (!issuer)
        return issuer.error();
    return ops::Issuer(workspace.store(), std::move(*key), std::move(*issuer));
}

std::string describe(db::License const& license)
{
    std::string text = "issued " + license.id + " for " + license.customer_id + " (" + license.product_id
        + (license.plan_id ? ", plan " + *license.plan_id : std::string()) + ")";
    text += license.expires_at ? ", expires " + format::format_rfc3339(*license.expires_at) : ", perpetual";
    if (license.updates_until)
        text += ", updates until " + format::format_rfc3339(*license.updates_until);
    return text;
}

int run_single(Context& context, IssueOptions const& options)
{
    ops::IssueRequest request;
    if (!options.plan.empty())
        request.plan = options.plan;
    request.product = options.product;
    request.customer = options.customer;
    if (!options.expires.empty())
        request.expires = options.expires;
    if (!options.updates_until.empty())
        request.updates_until = options.updates_until;
    if (!options.not_before.empty())
        request.not_before = options.not_before;
    request.entitlements = options.entitlements;
    request.seats = options.seats;
    if (!options.name.empty())
        request.name = options.name;
    for (auto const& pair : options.meta) {
        if (auto added = ops::add_meta(request.meta, pair); !added)
            return context.fail(added.error());
    }
    if ((request.product.empty() && !request.plan) || request.customer.empty())
        return context.fail(make_error(ErrorKind::invalid_input,
            "--product (or --plan) and --customer are required (or --batch FILE.csv)"));

    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto issuer = make_issuer(context, *workspace);
    if (!issuer)
        return context.fail(issuer.error());
    int64_t now = context.now();
    auto license = issuer->issue(request, context.actor(), now);
    if (!license)
        return context.fail(license.error());
    // Only now, with the license committed, is its key shown to anyone.
    if (options.json)
        Context::print_json(ops::license_json(*license, now));
    else
        std::cout << license->token << "\n";
    // A key lost on the way out (a full disk behind `> keys.txt`) must not look like success.
    if (!std::cout.flush())
        return context.fail(make_error(ErrorKind::io, "license " + license->id + " was issued, but its key could not be "
                "written to stdout; get it with `charter show " + license->id + "`"));
    if (!options.json)
        std::cerr << describe(*license) << "\n";
    return exit_ok;
}

// A progress bar on stderr for batches of more than 1,000 rows read from a file on a terminal.
class ProgressBar {
public:
    explicit ProgressBar(size_t total_rows) : m_total(total_rows) { }
    void update(size_t rows)
    {
        if (m_total <= 1000 || (rows % 500 != 0 && rows != m_total))
            return;
        size_t width = 40;
        size_t filled = width * std::min(rows, m_total) / m_total;
        std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, ' ') << "] " << rows << "/" << m_total
                  << std::flush;
        m_drawn = true;
    }
    void finish()
    {
        if (m_drawn)
            std::cerr << "\n";
    }

private:
    size_t m_total;
    bool m_drawn { false };
};

// Data rows of a file (lines after the header; a quoted field spanning lines makes this an
// estimate, which is all a progress bar needs).
size_t count_rows(std::istream& in)
{
    size_t lines = 0;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        lines += size_t(std::count(buffer, buffer + in.gcount(), '\n'));
        if (!in)
            break;
    }
    in.clear();
    in.seekg(0);
    return lines > 0 ? lines - 1 : 0;
}

int run_batch(Context& context, IssueOptions const& options)
{
    std::ifstream file;
    std::istream* in = &std::cin;
    size_t total_rows = 0;
    if (options.batch != "-") {
        file.open(options.batch, std::ios::binary);
        if (!file)
            return context.fail(make_error(ErrorKind::not_found, "cannot open batch file " + options.batch));
        in = &file;
        if (::isatty(2))
            total_rows = count_rows(file);
    }
    std::optional<std::string> default_product;
    if (!options.product.empty())
        default_product = options.product;
    auto nothing_issued = [&](Error const& error) {
        return context.fail(make_error(error.kind, options.batch + ": " + error.message + "; nothing was issued"));
    };
    auto batch = ops::BatchReader::open(*in, default_product);
    if (!batch)
        return nothing_issued(batch.error());

    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto issuer = make_issuer(context, *workspace);
    if (!issuer)
        return context.fail(issuer.error());

    // Rows are read, signed and stored a chunk at a time inside one transaction (signing on
    // threads of its own, ops/batch_issue.hpp), and what is to be printed is held in a
    // temporary file: memory stays flat whatever the batch size. The keys are printed only
    // once the transaction has committed.
    auto held = ops::HeldOutput::create(workspace->dir().root());
    if (!held)
        return nothing_issued(held.error());
    ops::BatchJob job;
    job.actor = context.actor();
    job.now = context.now();
    job.output = options.json ? ops::BatchOutput::json_lines : ops::BatchOutput::keys;
    job.signing_threads = ops::default_signing_threads();
    ops::BatchOutcome outcome;
    ProgressBar progress(total_rows);
    auto committed = workspace->store().transaction([&]() -> Result<void> {
        auto issued = ops::issue_batch(*issuer, *batch, job, *held, [&](size_t rows) { progress.update(rows); });
        if (!issued)
            return issued.error();
        outcome = *issued;
        return {};
    });
    progress.finish();
    if (!committed)
        return nothing_issued(committed.error());
    std::cout << std::flush;
    if (auto copied = held->copy_to(STDOUT_FILENO); !copied)
        return context.fail(make_error(copied.error().kind, "the " + std::to_string(outcome.issued) + " licenses were "
                "issued, but " + copied.error().message + "; list them with `charter list --json`"));
    std::cerr << "issued " << outcome.issued << " licenses (signed on " << outcome.signing_threads
              << (outcome.signing_threads == 1 ? " thread)\n" : " threads)\n");
    return exit_ok;
}

}

void register_issue(CLI::App& app, Context& context)
{
    auto options = std::make_shared<IssueOptions>();
    auto* issue = app.add_subcommand("issue", "issue a license key (prints only the key on stdout)");
    issue->add_option("--product", options->product, "product id (with --batch: the default for rows without one)");
    std::vector<CLI::Option*> per_license {
        issue->add_option("--plan", options->plan, "issue from a plan: its product, period, updates, entitlements and seats"),
        issue->add_option("--customer", options->customer, "customer id (cus_…) or email"),
        issue->add_option("--expires", options->expires, "end of the license: RFC 3339, YYYY-MM-DD or a duration (30d, 1y)"),
        issue->add_option("--updates-until", options->updates_until, "releases after this are not covered (same forms)"),
        issue->add_option("--not-before", options->not_before, "not valid before (same forms)"),
        issue->add_option("--entitlement", options->entitlements, "a feature flag; repeat for several"),
        issue->add_option("--seats", options->seats, "licensed seats"),
        issue->add_option("--name", options->name, "licensee display name"),
        issue->add_option("--meta", options->meta, "KEY=VALUE vendor data; repeat for several"),
    };
    auto* batch = issue->add_option("--batch", options->batch,
        "issue one license per row of a CSV file (- for stdin), all or nothing");
    // In a batch these come from the CSV's columns; a value on the command line would be ignored.
    for (auto* option : per_license)
        batch->excludes(option);
    issue->add_flag("--json", options->json, "print the license as JSON (JSON lines with --batch)");
    issue->footer("Examples:\n"
                  "  KEY=$(charter issue --product acme-pro --customer jane@example.com --expires 1y)\n"
                  "  charter issue --product acme-pro --customer cus_… --expires 2027-12-31 --updates-until 1y \\\n"
                  "      --entitlement sso --entitlement audit-log --seats 10 --meta order=A-1001 --json\n"
                  "  charter issue --plan pro-yearly --customer jane@example.com\n"
                  "  charter issue --batch licenses.csv > keys.txt\n\n"
                  "Batch CSV: a header row naming any of customer, product, expires, updates_until, not_before,\n"
                  "entitlements (a;b), seats, name, meta (k=v;k2=v2); --product gives a default product.");
    issue->callback([&context, options] {
        context.exit_code = options->batch.empty() ? run_single(context, *options) : run_batch(context, *options);
    });
}

}
