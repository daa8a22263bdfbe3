#pragma once
// artifacts/: uploaded files stored under their SHA-256 (content-addressed), written to a
// temporary file while hashing and renamed into place only when complete, so a reader never
// sees half a file and identical uploads share one copy.

#include "charter/keygen/ops/data_dir.hpp"
#include "charter/result.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace charter::ops {

struct StoredArtifact {
    std::string sha256; // lower-case hex
    int64_t size { 0 };
    std::filesystem::path file; // where it is stored (artifacts/SHA256)
};

/// Receives the bytes of an upload in pieces; returns false to abort.
using ChunkSource = std::function<bool(std::function<bool(char const* data, size_t size)> const& sink)>;

/// Looks at a complete upload (its temporary file) before it is stored; an error refuses it,
/// and nothing is left in the store.
using ArtifactCheck = std::function<Result<void>(std::filesystem::path const& complete_file)>;

class ArtifactStore {
public:
    explicit ArtifactStore(DataDir const& dir) : m_root(dir.artifacts()) { }

    /// Copies a local file in, hashing as it goes (fixed memory).
    Result<StoredArtifact> store_file(std::filesystem::path const& source);

    /// Stores a stream; more than `max_size` bytes is ErrorKind::invalid_input ("too large").
    /// `check`, when given, sees the whole file first and may refuse it with its own error.
    Result<StoredArtifact> store_stream(ChunkSource const& source, int64_t max_size, ArtifactCheck const& check = {});

    std::filesystem::path path_for(std::string const& sha256) const { return m_root / sha256; }

    /// Removes the artifact `sha256` (no error when it is gone already). Only for an artifact
    /// no release uses: see ops::remove_unused_artifacts.
    Result<void> remove(std::string const& sha256) const;

    /// Removes the temporary files of uploads that ended without finishing (a killed process
    /// or server): `.upload-*` files no live writer holds (each writer keeps an exclusive
    /// flock on its file until it is renamed into place). Returns how many it removed.
    Result<int> remove_abandoned_uploads() const;

    /// Opens a stored artifact for reading (a descriptor the caller closes). A name that is
    /// not a SHA-256, a symbolic link planted in artifacts/ (never followed, O_NOFOLLOW), or
    /// anything but a regular file is refused: artifacts are only ever files the store wrote.
    Result<int> open_artifact(std::string const& sha256) const;

private:
    std::filesystem::path m_root;
};

}
