#pragma once
// Adding releases: each file is stored content-addressed in artifacts/ and described in the
// database (product, version, filename, size, sha256, released_at), one code path for
// `charter release add` and POST /v1/products/{id}/releases.

#include "artifact_store.hpp"
#include "charter/db/store.hpp"

#include <optional>
#include <string>

namespace charter::ops {

struct NewRelease {
    std::string product;
    std::string version;
    std::string filename;
    std::optional<int64_t> released_at; // default: now
    bool replace { false };
};

/// Checks the names of a release: version and filename are single path segments of
/// printable characters (they appear in download URLs).
Result<void> check_release_names(NewRelease const& release);

/// Records an artifact already in the store as a release.
Result<db::Release> record_release(db::Store& store, NewRelease const& release, StoredArtifact const& artifact, int64_t now,
    db::Actor const& actor);

}
