#include "charter/keygen/ops/gem_reader.hpp"

#include "charter/keygen/ops/compression.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>

namespace charter::ops {

namespace {

// A gemspec is a few kilobytes; these bound what a hostile file can make us allocate.
constexpr size_t max_metadata_gz = 4 << 20;
constexpr size_t max_metadata = 16 << 20;

Error not_a_gem(std::string const& file, std::string const& reason)
{
    return make_error(ErrorKind::invalid_input, file + " is not a gem: " + reason);
}

// `open` attaches the bytes (a file, a buffer) to a tar reader; the rest is the same for both.
// The whole tar is walked: a gem is refused for what RubyGems' Gem::Package#verify refuses it
// for (no metadata.gz, no data.tar.gz, a name twice), so that nothing is published that
// `gem install` would then reject. checksums.yaml.gz is optional there (gems built before
// RubyGems 2.0 have none), so it is here too.
Result<std::string> read_metadata_gz(std::string const& file, std::function<int(archive*)> const& open)
{
    std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), &archive_read_free);
    archive_read_support_format_tar(reader.get());
    if (open(reader.get()) != ARCHIVE_OK)
        return not_a_gem(file, std::string("cannot read it as a tar archive (") + archive_error_string(reader.get()) + ")");
    archive_entry* entry = nullptr;
    std::optional<std::string> metadata;
    bool has_data = false;
    std::set<std::string> names;
    while (true) {
        int rc = archive_read_next_header(reader.get(), &entry);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
            std::string detail = archive_error_string(reader.get());
            if (names.empty())
                return not_a_gem(file, "it is not a tar archive (" + detail + ")");
            return not_a_gem(file, "the tar archive is damaged (" + detail + ")");
        }
        char const* pathname = archive_entry_pathname(entry);
        std::string name = pathname ? pathname : "";
        // Bounded by the file's size: each name costs a 512-byte tar header.
        if (!names.insert(name).second)
            return not_a_gem(file, "it holds " + name + " twice (RubyGems refuses a gem with duplicate files)");
        if (name == "data.tar.gz") {
            has_data = true;
            continue;
        }
        if (name != "metadata.gz")
            continue;
        std::string data;
        char buffer[1 << 14];
        la_ssize_t got;
        while ((got = archive_read_data(reader.get(), buffer, sizeof buffer)) > 0) {
            data.append(buffer, size_t(got));
            if (data.size() > max_metadata_gz)
                return not_a_gem(file, "its metadata.gz is larger than 4 MiB");
        }
        if (got < 0)
            return not_a_gem(file, std::string("the tar archive is damaged (") + archive_error_string(reader.get()) + ")");
        metadata = std::move(data);
    }
    if (!metadata)
        return not_a_gem(file, "it has no metadata.gz (a gem is a tar with metadata.gz, data.tar.gz and checksums.yaml.gz)");
    if (!has_data)
        return not_a_gem(file, "it has no data.tar.gz, the gem's files (a gem is a tar with metadata.gz, data.tar.gz and "
                               "checksums.yaml.gz; build it with `gem build`)");
    return *metadata;
}

std::string scalar(YAML::Node const& node)
{
    if (node && node.IsScalar())
        return node.as<std::string>();
    return {};
}

std::vector<std::string> scalars(YAML::Node const& node)
{
    std::vector<std::string> values;
    if (node && node.IsSequence()) {
        for (auto const& item : node) {
            if (item.IsScalar())
                values.push_back(item.as<std::string>());
        }
    }
    return values;
}

// A Gem::Requirement: {requirements: [[op, !ruby/object:Gem::Version {version: V}], …]}.
// ">= 0" alone means "any" and is returned as no requirement.
std::vector<std::string> requirements(YAML::Node const& node)
{
    std::vector<std::string> out;
    if (!node || !node.IsMap() || !node["requirements"] || !node["requirements"].IsSequence())
        return out;
    for (auto const& pair : node["requirements"]) {
        if (!pair.IsSequence() || pair.size() != 2)
            continue;
        auto version = pair[1].IsMap() ? scalar(pair[1]["version"]) : scalar(pair[1]);
        out.push_back(scalar(pair[0]) + " " + version);
    }
    if (out.size() == 1 && out[0] == ">= 0")
        out.clear();
    return out;
}

bool valid_name(std::string const& text)
{
    if (text.empty() || text.size() > 200)
        return false;
    for (unsigned char c : text) {
        if (!std::isalnum(c) && c != '.' && c != '-' && c != '_')
            return false;
    }
    return true;
}

Result<db::GemMetadata> read_specification(std::string const& file, std::function<int(archive*)> const& open)
{
    auto compressed = read_metadata_gz(file, open);
    if (!compressed)
        return compressed.error();
    auto text = gunzip(*compressed, max_metadata);
    if (!text)
        return not_a_gem(file, "its metadata.gz is not readable gzip (" + text.error().message + ")");
    YAML::Node spec;
    try {
        spec = YAML::Load(*text);
    } catch (YAML::Exception const& error) {
        return not_a_gem(file, "its metadata is not valid YAML (" + error.msg + ", line " + std::to_string(error.mark.line + 1) + ")");
    }
    try {
        if (!spec.IsMap() || spec.Tag() != "!ruby/object:Gem::Specification")
            return not_a_gem(file, "its metadata is not a Gem::Specification");
        db::GemMetadata gem;
        gem.name = scalar(spec["name"]);
        auto version = spec["version"];
        gem.version = version && version.IsMap() ? scalar(version["version"]) : scalar(version);
        if (gem.name.empty())
            return not_a_gem(file, "its specification has no name");
        if (gem.version.empty())
            return not_a_gem(file, "its specification has no version");
        if (!valid_name(gem.name))
            return not_a_gem(file, "its name \"" + gem.name + "\" has characters other than letters, digits, . - _");
        if (!valid_name(gem.version))
            return not_a_gem(file, "its version \"" + gem.version + "\" has characters other than letters, digits, . - _");
        gem.platform = scalar(spec["platform"]);
        if (gem.platform.empty())
            gem.platform = "ruby";
        if (!valid_name(gem.platform))
            return not_a_gem(file, "its platform \"" + gem.platform + "\" has characters other than letters, digits, . - _");
        if (auto dependencies = spec["dependencies"]; dependencies && dependencies.IsSequence()) {
            for (auto const& dependency : dependencies) {
                if (!dependency.IsMap())
                    continue;
                // Development dependencies are not installed for the gem's users.
                auto type = scalar(dependency["type"]);
                if (!type.empty() && type != ":runtime")
                    continue;
                db::GemDependency entry;
                entry.name = scalar(dependency["name"]);
                if (!valid_name(entry.name))
                    return not_a_gem(file, "it has a dependency with an invalid name \"" + entry.name + "\"");
                auto requirement = dependency["requirement"] ? dependency["requirement"] : dependency["version_requirements"];
                entry.requirements = requirements(requirement);
                gem.dependencies.push_back(std::move(entry));
            }
        }
        gem.required_ruby_version = requirements(spec["required_ruby_version"]);
        gem.required_rubygems_version = requirements(spec["required_rubygems_version"]);
        gem.summary = scalar(spec["summary"]);
        gem.authors = scalars(spec["authors"]);
        gem.licenses = scalars(spec["licenses"]);
        gem.date = scalar(spec["date"]).substr(0, 10);
        return gem;
    } catch (YAML::Exception const& error) {
        return not_a_gem(file, "its specification is malformed (" + error.msg + ")");
    }
}

}

Result<db::GemMetadata> read_gem(std::filesystem::path const& file)
{
    return read_specification(file.string(),
        [&](archive* reader) { return archive_read_open_filename(reader, file.c_str(), 1 << 16); });
}

Result<db::GemMetadata> read_gem_from_memory(std::string_view bytes, std::string const& name)
{
    return read_specification(name,
        [&](archive* reader) { return archive_read_open_memory(reader, bytes.data(), bytes.size()); });
}

std::string gem_full_name(db::GemMetadata const& gem)
{
    if (gem.platform.empty() || gem.platform == "ruby")
        return gem.name + "-" + gem.version;
    return gem.name + "-" + gem.version + "-" + gem.platform;
}

std::string gem_filename(db::GemMetadata const& gem)
{
    return gem_full_name(gem) + ".gem";
}

}
