#pragma once
// Adding releases: each file is stored content-addressed in artifacts/ and described in the
// database (product, version, filename, size, sha256, released_at), one code path for
// `charter release add` and POST /v1/products/{id}/releases. A .gem file describes itself: its
// specification gives the version and filename, and is stored for the RubyGems source.

#include "charter/db/store.hpp"
#include "charter/keygen/ops/artifact_store.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace charter::ops {

struct NewRelease {
    std::string product;
    std::string version;
    std::string filename;
    std::optional<int64_t> released_at; // default: now
    bool replace { false };
    std::optional<db::GemMetadata> gem; // set by describe_release_file for a .gem
};

/// Checks the names of a release: version and filename are single path segments of
/// printable characters (they appear in download URLs).
Result<void> check_release_names(NewRelease const& release);

/// A file whose name ends in ".gem" is read as a RubyGems package.
bool is_gem_filename(std::string const& filename);

/// Reads what the release's file says about itself, before it is stored. For a .gem (by
/// `release.filename`): its specification, which sets the version (one already given must
/// agree) and the filename RubyGems asks for (NAME-VERSION[-PLATFORM].gem); any other file is
/// not read. Then checks the names. Refusals are ErrorKind::invalid_input with the reason,
/// naming the file as `shown_as` (an upload is read from a temporary file).
Result<void> describe_release_file(NewRelease& release, std::filesystem::path const& file, std::string const& shown_as);

/// Records an artifact already in the store as a release, with its gem metadata if any, in one
/// transaction (the RubyGems indexes never see a gem release without its specification). A
/// release it replaces adds its old artifact to `replaced` (when given): once the transaction
/// has committed, pass them to remove_unused_artifacts.
Result<db::Release> record_release(db::Store& store, NewRelease const& release, StoredArtifact const& artifact, int64_t now,
    db::Actor const& actor, std::vector<std::string>* replaced = nullptr);

/// Removes those of `sha256s` that no release uses (replaced releases' old files), each checked
/// and removed under the database's write lock, so that no release is recorded for it meanwhile.
Result<void> remove_unused_artifacts(db::Store& store, ArtifactStore const& artifacts, std::vector<std::string> const& sha256s);

/// Which files of a product `charter release yank|unyank` acts on: one release by id, or the
/// files of one version, narrowed to one file or to the files of one gem.
struct ReleaseSelection {
    std::optional<std::string> id;
    std::string product;
    std::string version;
    std::optional<std::string> filename;
    std::optional<std::string> gem; // the gem's name: all its platforms
};

/// The releases a selection names. A version whose files belong to more than one package
/// (several gems, such as a product's gem and the gem it depends on, or a gem and other files)
/// is refused with ErrorKind::invalid_input listing them unless --gem or --file narrows it:
/// one gem is never yanked by accident along with another. ErrorKind::not_found when nothing
/// matches.
Result<std::vector<db::Release>> select_releases(db::Store& store, ReleaseSelection const& selection);

}
