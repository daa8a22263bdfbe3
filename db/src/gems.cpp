// Gem metadata: what a release that is a RubyGems package says about itself, and the
// generation counter the RubyGems indexes are cached against.

#include "store_impl.hpp"

namespace charter::db {

namespace {

constexpr char const* sql_upsert_gem
    = "INSERT INTO gems (release_id, name, version, platform, required_ruby_version, required_rubygems_version,"
      " summary, authors, licenses, date, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
      " ON CONFLICT (release_id) DO UPDATE SET name = excluded.name, version = excluded.version,"
      " platform = excluded.platform, required_ruby_version = excluded.required_ruby_version,"
      " required_rubygems_version = excluded.required_rubygems_version, summary = excluded.summary,"
      " authors = excluded.authors, licenses = excluded.licenses, date = excluded.date, sha256 = excluded.sha256";
constexpr char const* sql_delete_dependencies = "DELETE FROM gem_dependencies WHERE release_id = ?1";
constexpr char const* sql_insert_dependency
    = "INSERT INTO gem_dependencies (release_id, position, name, requirements) VALUES (?1, ?2, ?3, ?4)";
constexpr char const* sql_select_gem
    = "SELECT release_id, name, version, platform, required_ruby_version, required_rubygems_version, summary, authors,"
      " licenses, date, sha256 FROM gems WHERE release_id = ?1";
constexpr char const* sql_select_dependencies
    = "SELECT name, requirements FROM gem_dependencies WHERE release_id = ?1 ORDER BY position";
constexpr char const* sql_select_gem_releases
    = "SELECT r.id, r.product_id, r.version, r.filename, r.size, r.sha256, r.released_at, r.yanked, r.created_at,"
      " g.release_id, g.name, g.version, g.platform, g.required_ruby_version, g.required_rubygems_version, g.summary,"
      " g.authors, g.licenses, g.date, g.sha256"
      " FROM gems g JOIN releases r ON r.id = g.release_id WHERE CAST(?1 AS TEXT) IS NULL OR r.product_id = ?1"
      " ORDER BY r.product_id, g.name, r.released_at, r.id";
constexpr char const* sql_select_all_dependencies
    = "SELECT d.release_id, d.name, d.requirements FROM gem_dependencies d JOIN releases r ON r.id = d.release_id"
      " WHERE CAST(?1 AS TEXT) IS NULL OR r.product_id = ?1 ORDER BY d.release_id, d.position";
constexpr char const* sql_select_generation = "SELECT value FROM generations WHERE name = 'releases'";

GemMetadata read_gem(Query const& row, int first)
{
    return GemMetadata {
        .release_id = row.text(first),
        .name = row.text(first + 1),
        .version = row.text(first + 2),
        .platform = row.text(first + 3),
        .dependencies = {},
        .required_ruby_version = split_lines(row.text(first + 4)),
        .required_rubygems_version = split_lines(row.text(first + 5)),
        .summary = row.text(first + 6),
        .authors = split_lines(row.text(first + 7)),
        .licenses = split_lines(row.text(first + 8)),
        .date = row.text(first + 9),
        .sha256 = row.text(first + 10),
    };
}

}

Result<void> Store::put_gem_metadata(GemMetadata const& gem)
{
    if (gem.release_id.empty() || gem.name.empty() || gem.version.empty())
        return make_error(ErrorKind::invalid_input, "gem metadata needs a release id, a name and a version");
    return m_impl->atomically([&]() -> Result<void> {
        if (auto release = find_release(gem.release_id); !release)
            return release.error();
        auto ruby = join_lines(gem.required_ruby_version), rubygems = join_lines(gem.required_rubygems_version);
        auto authors = join_lines(gem.authors), licenses = join_lines(gem.licenses);
        {
            auto remove = m_impl->query(sql_delete_dependencies);
            remove.bind(1, gem.release_id);
            if (int rc = remove.step(); rc != code::done)
                return m_impl->error(rc);
        }
        {
            auto upsert = m_impl->query(sql_upsert_gem);
            upsert.bind(1, gem.release_id).bind(2, gem.name).bind(3, gem.version).bind(4, gem.platform);
            upsert.bind(5, ruby).bind(6, rubygems).bind(7, gem.summary).bind(8, authors).bind(9, licenses);
            upsert.bind(10, gem.date).bind(11, gem.sha256);
            if (int rc = upsert.step(); rc != code::done)
                return m_impl->error(rc);
        }
        int64_t position = 0;
        for (auto const& dependency : gem.dependencies) {
            auto requirements = join_lines(dependency.requirements);
            auto insert = m_impl->query(sql_insert_dependency);
            insert.bind(1, gem.release_id).bind(2, position++).bind(3, dependency.name).bind(4, requirements);
            if (int rc = insert.step(); rc != code::done)
                return m_impl->error(rc);
        }
        return {};
    });
}

Result<GemMetadata> Store::find_gem_metadata(std::string const& release_id)
{
    GemMetadata gem;
    {
        auto select = m_impl->query(sql_select_gem);
        select.bind(1, release_id);
        int rc = select.step();
        if (rc == code::done)
            return make_error(ErrorKind::not_found, "release " + release_id + " is not a gem");
        if (rc != code::row)
            return m_impl->error(rc);
        gem = read_gem(select, 0);
    }
    auto select = m_impl->query(sql_select_dependencies);
    select.bind(1, release_id);
    int rc;
    while ((rc = select.step()) == code::row)
        gem.dependencies.push_back(GemDependency { .name = select.text(0), .requirements = split_lines(select.text(1)) });
    if (rc != code::done)
        return m_impl->error(rc);
    return gem;
}

Result<std::vector<GemRelease>> Store::list_gem_releases(std::optional<std::string> const& product_id)
{
    std::vector<GemRelease> gems;
    std::unordered_map<std::string, size_t> by_id;
    {
        auto select = m_impl->query(sql_select_gem_releases);
        select.bind(1, product_id);
        int rc;
        while ((rc = select.step()) == code::row) {
            GemRelease entry;
            entry.release = Release {
                .id = select.text(0),
                .product_id = select.text(1),
                .version = select.text(2),
                .filename = select.text(3),
                .size = select.integer(4),
                .sha256 = select.text(5),
                .released_at = select.integer(6),
                .yanked = select.boolean(7),
                .created_at = select.integer(8),
            };
            entry.gem = read_gem(select, 9);
            by_id.emplace(entry.release.id, gems.size());
            gems.push_back(std::move(entry));
        }
        if (rc != code::done)
            return m_impl->error(rc);
    }
    auto select = m_impl->query(sql_select_all_dependencies);
    select.bind(1, product_id);
    int rc;
    while ((rc = select.step()) == code::row) {
        auto found = by_id.find(select.text(0));
        if (found == by_id.end())
            continue;
        gems[found->second].gem.dependencies.push_back(
            GemDependency { .name = select.text(1), .requirements = split_lines(select.text(2)) });
    }
    if (rc != code::done)
        return m_impl->error(rc);
    return gems;
}

Result<int64_t> Store::releases_generation()
{
    if (m_impl->snapshot && m_impl->snapshot_releases_generation)
        return *m_impl->snapshot_releases_generation;
    auto select = m_impl->query(sql_select_generation);
    int rc = select.step();
    if (rc == code::row)
        return select.integer(0);
    if (rc != code::done)
        return m_impl->error(rc);
    return int64_t { 0 };
}

}
