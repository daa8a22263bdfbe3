#pragma once
// Reading a .gem: a tar archive holding metadata.gz (the gzipped YAML of its
// Gem::Specification, with !ruby/object: tags), data.tar.gz (the gem's files) and, since
// RubyGems 2.0, checksums.yaml.gz. Only metadata.gz is read; data.tar.gz must be there, as
// RubyGems requires; the file is never unpacked to disk.

#include "charter/db/records.hpp"
#include "charter/result.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace charter::ops {

/// The gem's metadata (sha256 and release_id left empty: the caller knows them). A file that
/// is not a gem is ErrorKind::invalid_input with the reason: not a tar archive, no
/// metadata.gz, no data.tar.gz, an entry twice, metadata.gz not gzip, YAML that is not a Gem::Specification, no name or version.
Result<db::GemMetadata> read_gem(std::filesystem::path const& file);
/// The same for a gem held in memory (fuzz/fuzz_gem.cpp); `name` stands for the file in error
/// messages.
Result<db::GemMetadata> read_gem_from_memory(std::string_view bytes, std::string const& name);

/// The release filename RubyGems expects: NAME-VERSION.gem, or NAME-VERSION-PLATFORM.gem
/// for a platform other than "ruby".
std::string gem_filename(db::GemMetadata const& gem);

/// The gem's full name as RubyGems writes it: NAME-VERSION[-PLATFORM].
std::string gem_full_name(db::GemMetadata const& gem);

}
