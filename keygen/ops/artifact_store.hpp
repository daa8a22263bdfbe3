#pragma once
// artifacts/: uploaded files stored under their SHA-256 (content-addressed), written to a
// temporary file while hashing and renamed into place only when complete, so a reader never
// sees half a file and identical uploads share one copy.

#include "charter/result.hpp"
#include "data_dir.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace charter::ops {

struct StoredArtifact {
    std::string sha256; // lower-case hex
    int64_t size { 0 };
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

private:
    std::filesystem::path m_root;
};

}
