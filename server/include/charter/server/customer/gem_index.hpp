#pragma once
// The RubyGems index formats, computed from a set of gem releases (the ones one customer may
// see): the compact index Bundler reads (/versions, /info/NAME, /names) and the legacy
// Marshal index `gem install` reads (specs.4.8.gz, latest_specs.4.8.gz,
// prerelease_specs.4.8.gz, quick/Marshal.4.8/*.gemspec.rz). Pure functions, no I/O.

#include "charter/db/records.hpp"

#include <map>
#include <string>
#include <vector>

namespace charter::server {

struct CompactIndex {
    std::string versions;                     // "created_at: …\n---\n" + "NAME V1,V2-PLATFORM MD5\n"…
    std::string names;                        // "---\n" + "NAME\n"…
    std::map<std::string, std::string> info;  // NAME → "---\n" + "VERSION[-PLATFORM] DEPS|checksum:…\n"…
};

/// `gems` must not contain yanked releases; order is kept within a name (oldest first).
CompactIndex build_compact_index(std::vector<db::GemRelease const*> const& gems);

/// One /info line: "1.2.0-x86_64-linux base:>= 1.0.2&~> 1.0|checksum:…,ruby:>= 2.7".
std::string compact_info_line(db::GemMetadata const& gem);

/// A prerelease version has a letter in it ("2.0.0.rc1"), as Gem::Version decides.
bool is_prerelease(std::string const& version);

/// Gem::Version ordering: <0, 0, >0.
int compare_gem_versions(std::string const& left, std::string const& right);

enum class SpecsKind {
    released,   // specs.4.8: every version that is not a prerelease
    latest,     // latest_specs.4.8: the highest released version of each name and platform
    prerelease, // prerelease_specs.4.8
};

/// Marshal data of [[name, Gem::Version, platform], …], not yet gzipped.
std::string marshal_specs(std::vector<db::GemMetadata const*> const& gems, SpecsKind kind);

/// Marshal data of the Gem::Specification, not yet deflated (the .gemspec.rz content once
/// zlib-deflated).
std::string marshal_gemspec(db::GemMetadata const& gem);

}
