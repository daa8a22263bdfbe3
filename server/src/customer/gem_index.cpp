#include "charter/server/customer/gem_index.hpp"

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/gem_reader.hpp"
#include "charter/server/customer/marshal_writer.hpp"
#include "charter/server/customer/md5.hpp"

#include <algorithm>
#include <cctype>
#include <variant>

namespace charter::server {

namespace {

std::string join(std::vector<std::string> const& items, char const* separator)
{
    std::string joined;
    for (auto const& item : items) {
        if (!joined.empty())
            joined += separator;
        joined += item;
    }
    return joined;
}

// Gem::Version#segments: digits and letters split apart ("1.0.rc1" → 1, 0, "rc", 1).
std::vector<std::variant<long long, std::string>> segments(std::string const& version)
{
    std::vector<std::variant<long long, std::string>> out;
    size_t i = 0;
    while (i < version.size()) {
        unsigned char c = static_cast<unsigned char>(version[i]);
        if (std::isdigit(c)) {
            size_t start = i;
            while (i < version.size() && std::isdigit(static_cast<unsigned char>(version[i])))
                ++i;
            out.emplace_back(std::stoll(version.substr(start, std::min<size_t>(i - start, 18))));
        } else if (std::isalpha(c)) {
            size_t start = i;
            while (i < version.size() && std::isalpha(static_cast<unsigned char>(version[i])))
                ++i;
            out.emplace_back(version.substr(start, i - start));
        } else {
            ++i;
        }
    }
    // Trailing zeros do not count: 1.0 == 1.
    while (!out.empty() && std::holds_alternative<long long>(out.back()) && std::get<long long>(out.back()) == 0)
        out.pop_back();
    return out;
}

void write_version(MarshalWriter& writer, std::string const& version)
{
    writer.user_marshal("Gem::Version").array(1).string(version);
}

void write_requirement(MarshalWriter& writer, std::vector<std::string> const& requirements)
{
    std::vector<std::pair<std::string, std::string>> pairs;
    for (auto const& requirement : requirements) {
        auto space = requirement.find(' ');
        if (space == std::string::npos)
            pairs.emplace_back("=", requirement);
        else
            pairs.emplace_back(requirement.substr(0, space), requirement.substr(space + 1));
    }
    if (pairs.empty())
        pairs.emplace_back(">=", "0");
    writer.user_marshal("Gem::Requirement").array(1).array(pairs.size());
    for (auto const& [op, version] : pairs) {
        writer.array(2).string(op);
        write_version(writer, version);
    }
}

std::string requirement_text(std::vector<std::string> const& requirements)
{
    return requirements.empty() ? std::string(">= 0") : join(requirements, "&");
}

}

bool is_prerelease(std::string const& version)
{
    return std::any_of(version.begin(), version.end(), [](unsigned char c) { return std::isalpha(c); });
}

int compare_gem_versions(std::string const& left, std::string const& right)
{
    auto a = segments(left), b = segments(right);
    size_t count = std::max(a.size(), b.size());
    for (size_t i = 0; i < count; ++i) {
        std::variant<long long, std::string> x = i < a.size() ? a[i] : std::variant<long long, std::string>(0LL);
        std::variant<long long, std::string> y = i < b.size() ? b[i] : std::variant<long long, std::string>(0LL);
        if (x == y)
            continue;
        bool x_number = std::holds_alternative<long long>(x), y_number = std::holds_alternative<long long>(y);
        // A letter segment (a prerelease) sorts before any number.
        if (x_number && !y_number)
            return 1;
        if (!x_number && y_number)
            return -1;
        return x < y ? -1 : 1;
    }
    return 0;
}

std::string compact_info_line(db::GemMetadata const& gem)
{
    std::string line = gem.version;
    if (!gem.platform.empty() && gem.platform != "ruby")
        line += "-" + gem.platform;
    line += ' ';
    bool first = true;
    for (auto const& dependency : gem.dependencies) {
        if (!first)
            line += ',';
        first = false;
        line += dependency.name + ":" + requirement_text(dependency.requirements);
    }
    line += "|checksum:" + gem.sha256;
    if (!gem.required_ruby_version.empty())
        line += ",ruby:" + requirement_text(gem.required_ruby_version);
    if (!gem.required_rubygems_version.empty())
        line += ",rubygems:" + requirement_text(gem.required_rubygems_version);
    line += '\n';
    return line;
}

CompactIndex build_compact_index(std::vector<db::GemRelease const*> const& gems)
{
    CompactIndex index;
    // name → its releases, names sorted, each name's versions in the given order.
    std::map<std::string, std::vector<db::GemRelease const*>> by_name;
    int64_t newest = 0;
    for (auto const* gem : gems) {
        by_name[gem->gem.name].push_back(gem);
        newest = std::max(newest, gem->release.created_at);
    }
    // The header changes only when the content does, so the ETag stays stable.
    index.versions = "created_at: " + format::format_rfc3339(newest) + "\n---\n";
    index.names = "---\n";
    for (auto const& [name, releases] : by_name) {
        std::string info = "---\n";
        std::string versions;
        for (auto const* gem : releases) {
            info += compact_info_line(gem->gem);
            if (!versions.empty())
                versions += ',';
            versions += gem->gem.version;
            if (gem->gem.platform != "ruby")
                versions += "-" + gem->gem.platform;
        }
        index.versions += name + " " + versions + " " + md5_hex(info) + "\n";
        index.names += name + "\n";
        index.info.emplace(name, std::move(info));
    }
    return index;
}

std::string marshal_specs(std::vector<db::GemMetadata const*> const& gems, SpecsKind kind)
{
    std::vector<db::GemMetadata const*> chosen;
    if (kind == SpecsKind::latest) {
        std::map<std::pair<std::string, std::string>, db::GemMetadata const*> latest;
        for (auto const* gem : gems) {
            if (is_prerelease(gem->version))
                continue;
            auto& slot = latest[{ gem->name, gem->platform }];
            if (!slot || compare_gem_versions(gem->version, slot->version) > 0)
                slot = gem;
        }
        for (auto const& [key, gem] : latest)
            chosen.push_back(gem);
    } else {
        bool want_prerelease = kind == SpecsKind::prerelease;
        for (auto const* gem : gems) {
            if (is_prerelease(gem->version) == want_prerelease)
                chosen.push_back(gem);
        }
    }
    MarshalWriter writer;
    writer.array(chosen.size());
    for (auto const* gem : chosen) {
        writer.array(3).string(gem->name);
        write_version(writer, gem->version);
        writer.string(gem->platform.empty() ? std::string("ruby") : gem->platform);
    }
    return writer.take();
}

std::string marshal_gemspec(db::GemMetadata const& gem)
{
    // Gem::Specification#_dump: Marshal of a 19-element array (specification version 4),
    // wrapped as a user type so that Marshal.load calls Gem::Specification._load.
    MarshalWriter fields;
    fields.array(19);
    fields.string("3.3.15"); // rubygems_version that "built" this spec: informational
    fields.integer(4);       // specification_version
    fields.string(gem.name);
    write_version(fields, gem.version);
    if (gem.date.size() == 10)
        fields.string(gem.date); // Specification#date= accepts "YYYY-MM-DD"
    else
        fields.nil();
    fields.string(gem.summary);
    write_requirement(fields, gem.required_ruby_version);
    write_requirement(fields, gem.required_rubygems_version);
    fields.string(gem.platform); // original_platform
    fields.array(gem.dependencies.size());
    for (auto const& dependency : gem.dependencies) {
        fields.object("Gem::Dependency", 5);
        fields.symbol("@name").string(dependency.name);
        fields.symbol("@requirement");
        write_requirement(fields, dependency.requirements);
        fields.symbol("@type").symbol("runtime");
        fields.symbol("@prerelease").boolean(false);
        fields.symbol("@version_requirements");
        write_requirement(fields, dependency.requirements);
    }
    fields.string("");  // rubyforge_project, removed
    fields.nil();       // email
    fields.array(gem.authors.size());
    for (auto const& author : gem.authors)
        fields.string(author);
    fields.nil();        // description
    fields.nil();        // homepage
    fields.boolean(true); // has_rdoc
    fields.string(gem.platform); // new_platform
    fields.array(gem.licenses.size());
    for (auto const& license : gem.licenses)
        fields.string(license);
    fields.hash(0); // metadata
    MarshalWriter spec;
    spec.user_dump("Gem::Specification", fields.data());
    return spec.take();
}

}
