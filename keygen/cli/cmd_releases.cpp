// charter release add|list|yank|unyank

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/artifact_store.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "charter/keygen/ops/releases.hpp"
#include "context.hpp"

#include <filesystem>
#include <iostream>

namespace charter::cli {

namespace {

struct ReleaseOptions {
    std::string product;
    std::string version;
    std::string released_at;
    std::vector<std::string> files;
    std::string id;
    std::string filename;
    std::string gem;
    bool replace { false };
    bool json { false };
};

int run_add(Context& context, ReleaseOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    int64_t now = context.now();
    std::optional<int64_t> released_at;
    if (!options.released_at.empty()) {
        auto parsed = parse_time_option(options.released_at, now, "--released-at");
        if (!parsed)
            return context.fail(parsed.error());
        released_at = *parsed;
    }
    ops::ArtifactStore artifacts(workspace->dir());
    struct Staged {
        ops::NewRelease release;
        ops::StoredArtifact artifact;
    };
    std::vector<Staged> staged;
    for (auto const& file : options.files) {
        ops::NewRelease release { options.product, options.version, std::filesystem::path(file).filename().string(), released_at,
            options.replace, std::nullopt };
        if (!std::filesystem::is_regular_file(file))
            return context.fail(make_error(ErrorKind::not_found, "no file " + file));
        // A gem names itself: its version and filename come from its specification, so that
        // the RubyGems source serves it under the name RubyGems asks for.
        if (!ops::is_gem_filename(release.filename) && options.version.empty())
            return context.fail(make_error(ErrorKind::invalid_input, "--version is required for " + file + " (only .gem files carry their own)"));
        if (auto described = ops::describe_release_file(release, file, file); !described)
            return context.fail(described.error());
        auto stored = artifacts.store_file(file);
        if (!stored)
            return context.fail(stored.error());
        staged.push_back(Staged { std::move(release), *stored });
    }
    std::vector<db::Release> added;
    std::vector<std::string> replaced;
    auto committed = workspace->store().transaction([&]() -> Result<void> {
        for (auto const& [release, artifact] : staged) {
            auto recorded = ops::record_release(workspace->store(), release, artifact, now, context.actor(), &replaced);
            if (!recorded)
                return recorded.error();
            added.push_back(*recorded);
        }
        return {};
    });
    if (!committed)
        return context.fail(committed.error());
    // --replace: the old file goes when no release uses it any more.
    if (auto removed = ops::remove_unused_artifacts(workspace->store(), artifacts, replaced); !removed)
        context.warn(removed.error().message);
    if (options.json) {
        ops::Json list = ops::Json::array();
        for (auto const& release : added)
            list.push_back(ops::release_json(release));
        Context::print_json(list);
        return exit_ok;
    }
    for (auto const& release : added)
        std::cout << release.id << "  " << release.product_id << " " << release.version << "  " << release.filename << "  "
                  << release.size << " bytes  sha256:" << release.sha256 << "\n";
    return exit_ok;
}

int run_list(Context& context, ReleaseOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    std::optional<std::string> product;
    if (!options.product.empty())
        product = options.product;
    auto releases = workspace->store().list_releases(product);
    if (!releases)
        return context.fail(releases.error());
    if (options.json) {
        ops::Json list = ops::Json::array();
        for (auto const& release : *releases)
            list.push_back(ops::release_json(release));
        Context::print_json(list);
        return exit_ok;
    }
    for (auto const& release : *releases)
        std::cout << release.id << "  " << release.product_id << "  " << ops::printable(release.version) << "  "
                  << ops::printable(release.filename) << "  " << format::format_date(release.released_at) << (release.yanked ? "  yanked" : "") << "\n";
    return exit_ok;
}

enum class YankAction { yank, unyank };

int run_yank(Context& context, ReleaseOptions const& options, YankAction action)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto& store = workspace->store();
    ops::ReleaseSelection selection;
    if (!options.id.empty())
        selection.id = options.id;
    selection.product = options.product;
    selection.version = options.version;
    if (!options.filename.empty())
        selection.filename = options.filename;
    if (!options.gem.empty())
        selection.gem = options.gem;
    std::vector<db::Release> changed;
    auto committed = store.transaction([&]() -> Result<void> {
        auto selected = ops::select_releases(store, selection);
        if (!selected)
            return selected.error();
        for (auto const& release : *selected) {
            auto done = action == YankAction::yank ? store.yank_release(release.id, context.now(), context.actor())
                                                   : store.unyank_release(release.id, context.now(), context.actor());
            if (!done)
                return done.error();
            // Read back in the same transaction: what changed, as `release list` shows it.
            auto after = store.find_release(release.id);
            if (!after)
                return after.error();
            changed.push_back(*after);
        }
        return {};
    });
    if (!committed)
        return context.fail(committed.error());
    if (options.json) {
        ops::Json list = ops::Json::array();
        for (auto const& release : changed)
            list.push_back(ops::release_json(release));
        Context::print_json(list);
        return exit_ok;
    }
    for (auto const& release : changed)
        std::cerr << (action == YankAction::yank ? "yanked " : "unyanked ") << release.id << "  " << release.product_id << "  "
                  << ops::printable(release.version) << "  " << ops::printable(release.filename) << "\n";
    if (action == YankAction::yank)
        std::cerr << "yanked " << changed.size() << " file(s): hidden from listings and new installs (still downloadable)\n";
    else
        std::cerr << "unyanked " << changed.size() << " file(s): listed and installable again\n";
    return exit_ok;
}

}

void register_releases(CLI::App& app, Context& context)
{
    auto options = std::make_shared<ReleaseOptions>();
    auto* release = app.add_subcommand("release", "releases customers can download");
    release->require_subcommand(1);
    release->footer("Examples:\n  charter release add --product acme-pro --version 2.3.1 dist/acme-pro-2.3.1.tar.gz\n"
                    "  charter release list --product acme-pro\n  charter release yank --product acme-pro --version 2.3.0 --gem acme-pro");
    auto* add = release->add_subcommand("add", "add the files of a release (stored under artifacts/ by SHA-256)");
    add->add_option("--product", options->product, "product id")->required();
    add->add_option("--version", options->version, "release version, e.g. 2.3.1 (read from the file for .gem files)");
    add->add_option("--released-at", options->released_at, "publication time (default: now); compared with updates_until");
    add->add_flag("--replace", options->replace, "overwrite a file this version already has");
    add->add_flag("--json", options->json, "print JSON");
    add->add_option("FILE", options->files, "files of the release")->required();
    add->footer("Examples:\n  charter release add --product acme-pro --version 2.3.1 dist/acme-pro-2.3.1.tar.gz\n"
                "  charter release add --product acme-pro pkg/acme-pro-2.3.1.gem pkg/acme-pro-2.3.1-x86_64-linux.gem");
    add->callback([&context, options] { context.exit_code = run_add(context, *options); });

    auto* list = release->add_subcommand("list", "list releases");
    list->add_option("--product", options->product, "only this product");
    list->add_flag("--json", options->json, "print JSON");
    list->footer("Example:\n  charter release list --product acme-pro");
    list->callback([&context, options] { context.exit_code = run_list(context, *options); });

    auto* yank = release->add_subcommand("yank", "hide files of a release from listings and new installs");
    auto* unyank = release->add_subcommand("unyank", "undo a yank: list the files and let them be installed again");
    for (auto* command : { yank, unyank }) {
        command->add_option("RELEASE_ID", options->id, "rel_… (or use --product and --version)");
        command->add_option("--product", options->product, "product id");
        command->add_option("--version", options->version, "the version: all its files when they are one package");
        command->add_option("--file", options->filename, "only this file of the version, e.g. acme-pro-2.3.0.gem");
        command->add_option("--gem", options->gem, "only this gem's files of the version (every platform)");
        command->add_flag("--json", options->json, "print the releases changed, as JSON");
    }
    yank->footer("Examples:\n  charter release yank --product acme-pro --version 2.3.0 --gem acme-pro\n"
                 "  charter release yank --product acme-pro --version 2.3.0 --file acme-pro-2.3.0.tar.gz\n"
                 "  charter release yank --json rel_…");
    unyank->footer("Examples:\n  charter release unyank --product acme-pro --version 2.3.0 --gem acme-pro\n"
                   "  charter release unyank rel_…");
    unyank->callback([&context, options] { context.exit_code = run_yank(context, *options, YankAction::unyank); });
    yank->callback([&context, options] { context.exit_code = run_yank(context, *options, YankAction::yank); });
}

}
