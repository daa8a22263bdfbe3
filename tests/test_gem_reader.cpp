// Reading .gem files (keygen/ops/gem_reader) built by the real `gem build`, refusing files that
// are not gems, and the RubyGems index formats (gem_index, marshal_writer, md5) checked
// against Ruby's own Marshal.load and Digest::MD5.

#include "charter/keygen/ops/compression.hpp"
#include "charter/keygen/ops/gem_reader.hpp"
#include "charter/server/customer/gem_index.hpp"
#include "charter/server/customer/marshal_writer.hpp"
#include "charter/server/customer/md5.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace charter;
using charter::testing::TempDir;
namespace fs = std::filesystem;

namespace {

void write(fs::path const& path, std::string const& text)
{
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// Builds a gem with Debian's `gem build` (HOME in the folder: nothing read from the user's).
fs::path build_gem(fs::path const& dir, std::string const& spec_body, std::string const& file)
{
    write(dir / "lib" / "x.rb", "module X; end\n");
    write(dir / "x.gemspec", "Gem::Specification.new do |s|\n" + spec_body + "  s.files = ['lib/x.rb']\nend\n");
    auto built = testing::run_process({ "/bin/sh", "-c", "cd '" + dir.string() + "' && gem build x.gemspec" },
        { { "HOME", dir.string() }, { "SOURCE_DATE_EPOCH", "1764288000" } });
    INFO(built.out << built.err);
    REQUIRE(built.exit_code == 0);
    return dir / file;
}

std::string ruby(std::string const& script, fs::path const& input)
{
    auto run = testing::run_process({ "/usr/bin/ruby", "-e", script, input.string() });
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    return run.out;
}

}

TEST_CASE("a gem built by `gem build` is read: name, version, platform, runtime dependencies, requirements")
{
    TempDir dir;
    auto file = build_gem(dir.path(),
        "  s.name = 'acme-pro'; s.version = '1.2.0'; s.summary = 'Pro features'\n"
        "  s.authors = ['A. Vendor']; s.licenses = ['Nonstandard']; s.platform = 'x86_64-linux'\n"
        "  s.add_dependency 'acme-base', '~> 1.0', '>= 1.0.2'\n"
        "  s.add_dependency 'json'\n"
        "  s.add_development_dependency 'rake'\n"
        "  s.required_ruby_version = '>= 2.7'\n",
        "acme-pro-1.2.0-x86_64-linux.gem");
    auto gem = ops::read_gem(file);
    REQUIRE(gem);
    CHECK(gem->name == "acme-pro");
    CHECK(gem->version == "1.2.0");
    CHECK(gem->platform == "x86_64-linux");
    CHECK(gem->summary == "Pro features");
    CHECK(gem->authors == std::vector<std::string> { "A. Vendor" });
    CHECK(gem->licenses == std::vector<std::string> { "Nonstandard" });
    CHECK(gem->date == "2025-11-28");
    REQUIRE(gem->dependencies.size() == 2); // rake is a development dependency
    CHECK(gem->dependencies[0].name == "acme-base");
    CHECK(gem->dependencies[0].requirements == std::vector<std::string> { "~> 1.0", ">= 1.0.2" });
    CHECK(gem->dependencies[1].requirements.empty());
    CHECK(gem->required_ruby_version == std::vector<std::string> { ">= 2.7" });
    CHECK(gem->required_rubygems_version.empty());
    CHECK(ops::gem_filename(*gem) == "acme-pro-1.2.0-x86_64-linux.gem");

    gem->sha256 = std::string(64, 'c');
    CHECK(server::compact_info_line(*gem)
        == "1.2.0-x86_64-linux acme-base:~> 1.0&>= 1.0.2,json:>= 0|checksum:" + std::string(64, 'c') + ",ruby:>= 2.7\n");
}

TEST_CASE("a pure-Ruby gem has platform ruby and a plain filename")
{
    TempDir dir;
    auto file = build_gem(dir.path(), "  s.name = 'acme-base'; s.version = '1.0.3'; s.summary = 's'; s.authors = ['a']\n",
        "acme-base-1.0.3.gem");
    auto gem = ops::read_gem(file);
    REQUIRE(gem);
    CHECK(gem->platform == "ruby");
    CHECK(ops::gem_filename(*gem) == "acme-base-1.0.3.gem");
    CHECK(gem->dependencies.empty());
    gem->sha256 = "ab";
    CHECK(server::compact_info_line(*gem) == "1.0.3 |checksum:ab\n");
}

TEST_CASE("files that are not gems are refused with the reason")
{
    TempDir dir;
    auto refused = [&](fs::path const& path) {
        auto gem = ops::read_gem(path);
        REQUIRE_FALSE(gem);
        CHECK(gem.error().kind == ErrorKind::invalid_input);
        return gem.error().message;
    };
    write(fs::path(dir.path()) / "text.gem", "hello, this is not a tar archive at all\n");
    CHECK_THAT(refused(fs::path(dir.path()) / "text.gem"), Catch::Contains("is not a gem") && Catch::Contains("tar"));

    // A tar without metadata.gz.
    write(fs::path(dir.path()) / "t" / "data.tar.gz", "x");
    REQUIRE(testing::run_process({ "/bin/tar", "-C", (fs::path(dir.path()) / "t").string(), "-cf", (fs::path(dir.path()) / "nometa.gem").string(),
                                     "data.tar.gz" })
                .exit_code
        == 0);
    CHECK_THAT(refused(fs::path(dir.path()) / "nometa.gem"), Catch::Contains("no metadata.gz"));

    // A tar with the given metadata.gz and a data.tar.gz, so that only the metadata is wrong.
    auto tar_with_metadata_gz = [&](std::string const& name, std::string const& metadata_gz) {
        auto folder = fs::path(dir.path()) / name;
        write(folder / "metadata.gz", metadata_gz);
        write(folder / "data.tar.gz", ops::gzip(""));
        REQUIRE(testing::run_process({ "/bin/tar", "-C", folder.string(), "-cf", (fs::path(dir.path()) / (name + ".gem")).string(), "metadata.gz",
                                         "data.tar.gz" })
                    .exit_code
            == 0);
        return fs::path(dir.path()) / (name + ".gem");
    };
    auto tar_with_metadata = [&](std::string const& name, std::string const& yaml) {
        return tar_with_metadata_gz(name, ops::gzip(yaml));
    };
    CHECK_THAT(refused(tar_with_metadata("badyaml", "--- !ruby/object:Gem::Specification\nname: [unclosed\n")),
        Catch::Contains("not valid YAML"));
    CHECK_THAT(refused(tar_with_metadata("notspec", "--- just a string\n")), Catch::Contains("not a Gem::Specification"));
    CHECK_THAT(refused(tar_with_metadata("noversion", "--- !ruby/object:Gem::Specification\nname: x\n")),
        Catch::Contains("no version"));
    CHECK_THAT(refused(tar_with_metadata("noname",
                   "--- !ruby/object:Gem::Specification\nversion: !ruby/object:Gem::Version\n  version: 1.0\n")),
        Catch::Contains("no name"));

    // metadata.gz that is not gzip.
    CHECK_THAT(refused(tar_with_metadata_gz("notgzip", "plain text")), Catch::Contains("not readable gzip"));
}

// RubyGems' own check of a package (Gem::Package#verify, run by `gem install`), in Debian's Ruby.
static std::string rubygems_verdict(fs::path const& gem)
{
    return ruby("require 'rubygems/package'; begin; Gem::Package.new(ARGV[0]).verify; puts 'ok'; "
                "rescue Exception => e; puts e.message; end",
        gem);
}

TEST_CASE("a gem needs data.tar.gz and no entry twice; checksums.yaml.gz is optional, as in RubyGems")
{
    TempDir dir;
    auto built = build_gem(fs::path(dir.path()) / "src", "  s.name = 'acme-base'; s.version = '1.0.3'; s.summary = 's'; s.authors = ['a']\n",
        "acme-base-1.0.3.gem");
    auto parts = fs::path(dir.path()) / "parts";
    fs::create_directories(parts);
    REQUIRE(testing::run_process({ "/bin/tar", "-C", parts.string(), "-xf", built.string() }).exit_code == 0);
    // `gem build` writes these three, metadata first.
    CHECK(testing::run_process({ "/bin/tar", "-tf", built.string() }).out == "metadata.gz\ndata.tar.gz\nchecksums.yaml.gz\n");
    auto repack = [&](std::string const& name, std::vector<std::string> const& members) {
        auto gem = fs::path(dir.path()) / name;
        std::vector<std::string> argv { "/bin/tar", "-cf", gem.string(), "-C", parts.string() };
        argv.insert(argv.end(), members.begin(), members.end());
        REQUIRE(testing::run_process(argv).exit_code == 0);
        return gem;
    };

    // Without checksums.yaml.gz (gems built before RubyGems 2.0): RubyGems installs it, and so
    // it is read.
    auto no_checksums = repack("no-checksums.gem", { "metadata.gz", "data.tar.gz" });
    CHECK(rubygems_verdict(no_checksums) == "ok\n");
    auto gem = ops::read_gem(no_checksums);
    REQUIRE(gem);
    CHECK(ops::gem_full_name(*gem) == "acme-base-1.0.3");

    // metadata.gz alone, wherever data.tar.gz would have been: RubyGems refuses it, so does the reader.
    for (auto const& members : { std::vector<std::string> { "metadata.gz" }, std::vector<std::string> { "metadata.gz", "checksums.yaml.gz" } }) {
        auto no_data = repack("no-data.gem", members);
        CHECK_THAT(rubygems_verdict(no_data), Catch::Contains("data.tar.gz) is missing"));
        auto refused = ops::read_gem(no_data);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().kind == ErrorKind::invalid_input);
        CHECK(refused.error().message == no_data.string() + " is not a gem: it has no data.tar.gz, the gem's files (a gem is a tar "
                  "with metadata.gz, data.tar.gz and checksums.yaml.gz; build it with `gem build`)");
    }

    // A second metadata.gz (from another folder, so that tar does not store it as a hard link):
    // which one would count is ambiguous; RubyGems refuses it, so does the reader.
    auto other = fs::path(dir.path()) / "other";
    fs::create_directories(other);
    fs::copy_file(parts / "metadata.gz", other / "metadata.gz");
    auto twice = fs::path(dir.path()) / "twice.gem";
    REQUIRE(testing::run_process({ "/bin/tar", "-cf", twice.string(), "-C", parts.string(), "metadata.gz", "data.tar.gz", "-C",
                                     other.string(), "metadata.gz" })
                .exit_code
        == 0);
    CHECK_THAT(rubygems_verdict(twice), Catch::Contains("duplicate files in the package"));
    auto duplicate = ops::read_gem(twice);
    REQUIRE_FALSE(duplicate);
    CHECK_THAT(duplicate.error().message, Catch::Contains("it holds metadata.gz twice"));

    // The real gem, as built, is read from a file and from memory alike.
    REQUIRE(ops::read_gem(built));
    auto bytes = testing::run_process({ "/bin/cat", built.string() }).out;
    auto from_memory = ops::read_gem_from_memory(bytes, "acme-base-1.0.3.gem");
    REQUIRE(from_memory);
    CHECK(from_memory->version == "1.0.3");
}

TEST_CASE("md5 matches the RFC 1321 test suite")
{
    CHECK(server::md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(server::md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(server::md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890")
        == "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("the Marshal writer's output loads in Ruby")
{
    TempDir dir;
    server::MarshalWriter writer;
    writer.array(7).nil().boolean(true).integer(300).integer(-1000).symbol("sym").symbol("sym").string("héllo");
    write(fs::path(dir.path()) / "values", writer.data());
    CHECK(ruby("p Marshal.load(File.binread(ARGV[0]))", fs::path(dir.path()) / "values") == "[nil, true, 300, -1000, :sym, :sym, \"héllo\"]\n");
}

TEST_CASE("specs and gemspecs written for the legacy index load as RubyGems objects")
{
    TempDir dir;
    db::GemMetadata base { .release_id = "rel_1", .name = "acme-base", .version = "1.0.3", .platform = "ruby" };
    base.summary = "Base";
    base.authors = { "A. Vendor" };
    base.date = "2026-11-28";
    db::GemMetadata pro = base;
    pro.name = "acme-pro";
    pro.version = "1.2.0";
    pro.platform = "x86_64-linux";
    pro.dependencies = { { "acme-base", { "~> 1.0", ">= 1.0.2" } } };
    pro.required_ruby_version = { ">= 2.7" };
    db::GemMetadata pre = base;
    pre.version = "2.0.0.rc1";
    db::GemMetadata older = base;
    older.version = "1.0.2";

    std::vector<db::GemMetadata const*> all { &older, &base, &pro, &pre };
    write(fs::path(dir.path()) / "specs", ops::gzip(server::marshal_specs(all, server::SpecsKind::released)));
    write(fs::path(dir.path()) / "latest", ops::gzip(server::marshal_specs(all, server::SpecsKind::latest)));
    write(fs::path(dir.path()) / "pre", ops::gzip(server::marshal_specs(all, server::SpecsKind::prerelease)));
    char const* specs_script = "require 'rubygems'; require 'zlib'; "
                               "p Marshal.load(Zlib.gunzip(File.binread(ARGV[0]))).map { |n, v, pl| [n, v.class, v.to_s, pl] }";
    CHECK(ruby(specs_script, fs::path(dir.path()) / "specs")
        == "[[\"acme-base\", Gem::Version, \"1.0.2\", \"ruby\"], [\"acme-base\", Gem::Version, \"1.0.3\", \"ruby\"], "
           "[\"acme-pro\", Gem::Version, \"1.2.0\", \"x86_64-linux\"]]\n");
    CHECK(ruby(specs_script, fs::path(dir.path()) / "latest")
        == "[[\"acme-base\", Gem::Version, \"1.0.3\", \"ruby\"], [\"acme-pro\", Gem::Version, \"1.2.0\", \"x86_64-linux\"]]\n");
    CHECK(ruby(specs_script, fs::path(dir.path()) / "pre") == "[[\"acme-base\", Gem::Version, \"2.0.0.rc1\", \"ruby\"]]\n");

    write(fs::path(dir.path()) / "pro.gemspec.rz", ops::zlib_deflate(server::marshal_gemspec(pro)));
    auto loaded = ruby("require 'rubygems'; require 'zlib'; s = Marshal.load(Zlib::Inflate.inflate(File.binread(ARGV[0]))); "
                       "puts s.class, s.full_name, s.summary, s.authors.inspect, s.date.strftime('%F'), "
                       "s.required_ruby_version.to_s, s.dependencies.map { |d| [d.name, d.requirement.to_s, d.type] }.inspect",
        fs::path(dir.path()) / "pro.gemspec.rz");
    CHECK(loaded
        == "Gem::Specification\nacme-pro-1.2.0-x86_64-linux\nBase\n[\"A. Vendor\"]\n2026-11-28\n>= 2.7\n"
           "[[\"acme-base\", \"~> 1.0, >= 1.0.2\", :runtime]]\n");
}

TEST_CASE("gem versions order as Gem::Version does")
{
    CHECK(server::compare_gem_versions("1.10.0", "1.9.9") > 0);
    CHECK(server::compare_gem_versions("1.0", "1") == 0);
    CHECK(server::compare_gem_versions("2.0.0.rc1", "2.0.0") < 0);
    CHECK(server::is_prerelease("2.0.0.rc1"));
    CHECK_FALSE(server::is_prerelease("2.0.0"));
}
