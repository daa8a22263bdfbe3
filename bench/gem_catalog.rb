# Builds the benchmarks' gem catalog in the current folder (scripts/bench-rubygems,
# scripts/bench-front): COUNT gems named acme-gem-000… with VERSIONS versions each (1.0.0,
# 1.1.0, …), real .gem files made by RubyGems' own Gem::Package.build in this one process (a
# `gem build` per file would start Ruby thousands of times). Every gem but the first depends on
# the first, with two requirements, and says which Ruby it needs, so /info lines are as long as
# real ones.
#
# usage: ruby -rrubygems/package gem_catalog.rb COUNT VERSIONS
count, versions = Integer(ARGV[0]), Integer(ARGV[1])
Gem::DefaultUserInteraction.ui = Gem::SilentUI.new
count.times do |i|
    name = format("acme-gem-%03d", i)
    Dir.mkdir("lib") unless Dir.exist?("lib")
    File.write("lib/#{name}.rb", "module AcmeGem#{i}; end\n")
    versions.times do |v|
        spec = Gem::Specification.new do |s|
            s.name = name
            s.version = "1.#{v}.0"
            s.summary = "#{name}, a benchmark gem"
            s.authors = ["Acme Inc."]
            s.licenses = ["Nonstandard"]
            s.files = ["lib/#{name}.rb"]
            s.required_ruby_version = ">= 2.7"
            s.add_dependency "acme-gem-000", "~> 1.0", ">= 1.0.2" if i > 0
        end
        Gem::Package.build(spec)
    end
end
