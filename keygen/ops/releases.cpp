#include "charter/keygen/ops/releases.hpp"

#include "charter/keygen/ids.hpp"
#include "charter/keygen/ops/gem_reader.hpp"
#include "charter/utf8.hpp"

#include <algorithm>
#include <utility>

namespace charter::ops {

namespace {

// A refused name as the message shows it: control characters and quotes escaped, so the
// message itself is safe to print on a terminal.
std::string quoted_for_message(std::string const& value)
{
    static char const hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (unsigned char c : value) {
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += char(c);
        }
    }
    return out + "\"";
}

Result<void> check_segment(std::string const& value, char const* what)
{
    if (value.empty() || value.size() > 200)
        return make_error(ErrorKind::invalid_input, std::string(what) + " must be 1 to 200 characters");
    if (value == "." || value == "..")
        return make_error(ErrorKind::invalid_input, std::string(what) + " \"" + value + "\" is not allowed");
    // Names travel in URLs, in the RubyGems indexes and in Content-Disposition: invalid UTF-8
    // would be listed as U+FFFD under a URL that does not exist, and a quote would end the
    // header's filename parameter early.
    if (!charter::is_valid_utf8(value))
        return make_error(ErrorKind::invalid_input, std::string(what) + " is not valid UTF-8; rename the file");
    for (size_t i = 0; i < value.size(); ++i) {
        auto c = static_cast<unsigned char>(value[i]);
        // C1 controls (U+0080 to U+009F) are 0xC2 0x80 to 0xC2 0x9F in UTF-8.
        bool c1_control = c == 0xc2 && i + 1 < value.size() && static_cast<unsigned char>(value[i + 1]) <= 0x9f;
        if (c < 0x21 || c == 0x7f || c1_control || c == '/' || c == '\\' || c == '%' || c == '?' || c == '#' || c == '"')
            return make_error(ErrorKind::invalid_input, std::string(what) + " " + quoted_for_message(value)
                    + " may not contain spaces, control characters or / \\ % ? # \"; rename the file");
    }
    return {};
}

}

Result<void> check_release_names(NewRelease const& release)
{
    if (auto checked = check_segment(release.version, "version"); !checked)
        return checked;
    return check_segment(release.filename, "filename");
}

bool is_gem_filename(std::string const& filename)
{
    return filename.size() > 4 && filename.ends_with(".gem");
}

Result<void> describe_release_file(NewRelease& release, std::filesystem::path const& file, std::string const& shown_as)
{
    if (!is_gem_filename(release.filename))
        return check_release_names(release);
    auto gem = read_gem(file);
    if (!gem) {
        // read_gem names the path it read, which for an upload is a temporary file.
        auto message = gem.error().message;
        if (message.starts_with(file.string()))
            message = shown_as + message.substr(file.string().size());
        return make_error(gem.error().kind, message);
    }
    if (!release.version.empty() && release.version != gem->version)
        return make_error(ErrorKind::invalid_input, shown_as + " is version " + gem->version + ", not " + release.version
                + " (leave the version out for gems: they carry their own)");
    release.version = gem->version;
    release.filename = gem_filename(*gem);
    release.gem = std::move(*gem);
    return check_release_names(release);
}

Result<db::Release> record_release(db::Store& store, NewRelease const& release, StoredArtifact const& artifact, int64_t now,
    db::Actor const& actor, std::vector<std::string>* replaced)
{
    if (auto checked = check_release_names(release); !checked)
        return checked.error();
    auto product = store.get_product(release.product);
    if (!product)
        return product.error();
    db::Release record;
    record.id = keygen::new_id("rel_");
    record.product_id = release.product;
    record.version = release.version;
    record.filename = release.filename;
    record.size = artifact.size;
    record.sha256 = artifact.sha256;
    record.released_at = release.released_at.value_or(now);
    record.created_at = now;
    auto on_duplicate = release.replace ? db::OnDuplicateRelease::replace : db::OnDuplicateRelease::refuse;
    std::optional<std::string> old_artifact;
    auto recorded = store.transaction([&]() -> Result<void> {
        // Under the write lock: a replaced release's file removed by another process after
        // this upload stored the same content (remove_unused_artifacts) is not recorded.
        if (!artifact.file.empty() && !std::filesystem::is_regular_file(artifact.file))
            return make_error(ErrorKind::io, "the stored file " + artifact.file.string()
                    + " was removed while it was being recorded; add the release again");
        if (release.replace) {
            if (auto previous = store.find_release(release.product, release.version, release.filename);
                previous && previous->sha256 != artifact.sha256)
                old_artifact = previous->sha256;
        }
        if (auto added = store.add_release(record, on_duplicate, actor); !added) {
            if (added.error().kind == ErrorKind::conflict)
                return make_error(ErrorKind::conflict, release.product + " " + release.version + " already has "
                        + release.filename + " (use --replace to overwrite it)");
            return added.error();
        }
        // A replaced release keeps its id.
        if (release.replace) {
            auto stored = store.find_release(release.product, release.version, release.filename);
            if (!stored)
                return stored.error();
            record = *stored;
        }
        if (!release.gem)
            return {};
        auto gem = *release.gem;
        gem.release_id = record.id;
        gem.sha256 = artifact.sha256;
        return store.put_gem_metadata(gem);
    });
    if (!recorded)
        return recorded.error();
    if (old_artifact && replaced)
        replaced->push_back(*old_artifact);
    return record;
}

Result<std::vector<db::Release>> select_releases(db::Store& store, ReleaseSelection const& selection)
{
    if (selection.id) {
        auto release = store.find_release(*selection.id);
        if (!release)
            return release.error();
        return std::vector<db::Release> { std::move(*release) };
    }
    if (selection.product.empty() || selection.version.empty())
        return make_error(ErrorKind::invalid_input, "give a RELEASE_ID, or --product and --version");
    auto releases = store.list_releases(selection.product);
    if (!releases)
        return releases.error();
    std::string const what = "release " + selection.version + " of " + selection.product;
    // The package each file belongs to: its gem's name, or "" for a file that is not a gem.
    std::vector<std::pair<db::Release, std::string>> files;
    for (auto& release : *releases) {
        if (release.version != selection.version)
            continue;
        if (selection.filename && release.filename != *selection.filename)
            continue;
        std::string package;
        if (auto gem = store.find_gem_metadata(release.id))
            package = gem->name;
        else if (gem.error().kind != ErrorKind::not_found)
            return gem.error();
        if (selection.gem && package != *selection.gem)
            continue;
        files.emplace_back(std::move(release), std::move(package));
    }
    if (files.empty()) {
        if (selection.filename)
            return make_error(ErrorKind::not_found, what + " has no file " + *selection.filename + "; see `charter release list --product "
                    + selection.product + "`");
        if (selection.gem)
            return make_error(ErrorKind::not_found, what + " has no gem " + *selection.gem + "; see `charter release list --product "
                    + selection.product + "`");
        return make_error(ErrorKind::not_found, "no " + what);
    }
    bool several_packages = std::any_of(files.begin(), files.end(), [&](auto const& file) { return file.second != files[0].second; });
    if (several_packages) {
        std::string names;
        for (auto const& [release, package] : files)
            names += (names.empty() ? "" : ", ") + release.filename;
        return make_error(ErrorKind::invalid_input, what + " has files of more than one package (" + names
                + "); name the one you mean with --gem NAME or --file FILENAME, or give a RELEASE_ID");
    }
    std::vector<db::Release> selected;
    for (auto& file : files)
        selected.push_back(std::move(file.first));
    return selected;
}

Result<void> remove_unused_artifacts(db::Store& store, ArtifactStore const& artifacts, std::vector<std::string> const& sha256s)
{
    for (auto const& sha256 : sha256s) {
        auto removed = store.transaction([&]() -> Result<void> {
            auto in_use = store.artifact_in_use(sha256);
            if (!in_use)
                return in_use.error();
            if (*in_use)
                return {};
            return artifacts.remove(sha256);
        });
        if (!removed)
            return removed.error();
    }
    return {};
}

}
