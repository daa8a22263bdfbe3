// Releases (the artifacts customers download) and the log of downloads.

#include "store_impl.hpp"

namespace charter::db {

namespace {

#define CHARTER_RELEASE_COLUMNS \
    "SELECT id, product_id, version, filename, size, sha256, released_at, yanked, created_at FROM releases"

constexpr char const* sql_insert_release
    = "INSERT INTO releases (id, product_id, version, filename, size, sha256, released_at, yanked, created_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr char const* sql_replace_release
    = "UPDATE releases SET size = ?2, sha256 = ?3, released_at = ?4, yanked = 0 WHERE id = ?1";
constexpr char const* sql_yank_release = "UPDATE releases SET yanked = 1 WHERE id = ?1 AND yanked = 0";
constexpr char const* sql_select_release = CHARTER_RELEASE_COLUMNS " WHERE id = ?1";
constexpr char const* sql_select_release_by_file
    = CHARTER_RELEASE_COLUMNS " WHERE product_id = ?1 AND version = ?2 AND filename = ?3";
constexpr char const* sql_select_releases
    = CHARTER_RELEASE_COLUMNS " WHERE ?1 IS NULL OR product_id = ?1 ORDER BY product_id, released_at, id";
constexpr char const* sql_insert_download
    = "INSERT INTO downloads (at, license_id, release_id, bytes, remote_address, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char const* sql_select_downloads
    = "SELECT id, at, license_id, release_id, bytes, remote_address, outcome FROM downloads"
      " WHERE ?1 IS NULL OR id > ?1 ORDER BY id LIMIT ?2";

#undef CHARTER_RELEASE_COLUMNS

Release read_release(Query const& row)
{
    return Release {
        .id = row.text(0),
        .product_id = row.text(1),
        .version = row.text(2),
        .filename = row.text(3),
        .size = row.integer(4),
        .sha256 = row.text(5),
        .released_at = row.integer(6),
        .yanked = row.boolean(7),
        .created_at = row.integer(8),
    };
}

std::string describe(Release const& release)
{
    return "release " + release.product_id + " " + release.version + " (" + release.filename + ")";
}

}

Result<void> Store::add_release(Release const& release, OnDuplicateRelease on_duplicate, Actor const& actor)
{
    if (release.id.empty() || release.version.empty() || release.filename.empty())
        return make_error(ErrorKind::invalid_input, "a release needs an id, a version and a filename");
    return m_impl->atomically([&]() -> Result<void> {
        auto existing = find_release(release.product_id, release.version, release.filename);
        if (existing) {
            if (on_duplicate == OnDuplicateRelease::refuse)
                return make_error(ErrorKind::conflict, describe(release) + " already exists; replace it explicitly or use a new version");
            auto replace = m_impl->query(sql_replace_release);
            replace.bind(1, existing->id).bind(2, release.size).bind(3, release.sha256).bind(4, release.released_at);
            if (int rc = replace.step(); rc != SQLITE_DONE)
                return m_impl->error(rc);
            auto details = JsonWriter()
                               .add("product", release.product_id)
                               .add("version", release.version)
                               .add("filename", release.filename)
                               .add("sha256", release.sha256)
                               .add("previous_sha256", existing->sha256)
                               .take();
            return m_impl->audit(actor, release.created_at, "release.replace", existing->id, details);
        }
        if (existing.error().kind != ErrorKind::not_found)
            return existing.error();

        auto insert = m_impl->query(sql_insert_release);
        insert.bind(1, release.id).bind(2, release.product_id).bind(3, release.version).bind(4, release.filename);
        insert.bind(5, release.size).bind(6, release.sha256).bind(7, release.released_at).bind_bool(8, release.yanked);
        insert.bind(9, release.created_at);
        if (int rc = insert.step(); rc != SQLITE_DONE) {
            if (is_unique_violation(rc))
                return make_error(ErrorKind::conflict, "release " + release.id + " already exists");
            if (is_foreign_key_violation(rc)) {
                if (auto product = get_product(release.product_id); !product)
                    return product.error();
            }
            return m_impl->error(rc);
        }
        auto details = JsonWriter()
                           .add("product", release.product_id)
                           .add("version", release.version)
                           .add("filename", release.filename)
                           .add("sha256", release.sha256)
                           .take();
        return m_impl->audit(actor, release.created_at, "release.add", release.id, details);
    });
}

Result<void> Store::yank_release(std::string const& id, int64_t at, Actor const& actor)
{
    return m_impl->atomically([&]() -> Result<void> {
        auto yank = m_impl->query(sql_yank_release);
        yank.bind(1, id);
        if (int rc = yank.step(); rc != SQLITE_DONE)
            return m_impl->error(rc);
        if (sqlite3_changes(m_impl->db) == 0) {
            auto existing = find_release(id);
            if (!existing)
                return existing.error();
            return make_error(ErrorKind::conflict, describe(*existing) + " is already yanked");
        }
        return m_impl->audit(actor, at, "release.yank", id, "{}");
    });
}

Result<std::vector<Release>> Store::list_releases(std::optional<std::string> const& product_id)
{
    auto select = m_impl->query(sql_select_releases);
    select.bind(1, product_id);
    std::vector<Release> releases;
    int rc;
    while ((rc = select.step()) == SQLITE_ROW)
        releases.push_back(read_release(select));
    if (rc != SQLITE_DONE)
        return m_impl->error(rc);
    return releases;
}

Result<Release> Store::find_release(std::string const& id)
{
    auto select = m_impl->query(sql_select_release);
    select.bind(1, id);
    int rc = select.step();
    if (rc == SQLITE_ROW)
        return read_release(select);
    if (rc != SQLITE_DONE)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no release " + id);
}

Result<Release> Store::find_release(std::string const& product_id, std::string const& version, std::string const& filename)
{
    auto select = m_impl->query(sql_select_release_by_file);
    select.bind(1, product_id).bind(2, version).bind(3, filename);
    int rc = select.step();
    if (rc == SQLITE_ROW)
        return read_release(select);
    if (rc != SQLITE_DONE)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no release " + product_id + " " + version + " (" + filename + ")");
}

Result<int64_t> Store::record_download(Download const& download)
{
    auto insert = m_impl->query(sql_insert_download);
    insert.bind(1, download.at).bind(2, download.license_id).bind(3, download.release_id).bind(4, download.bytes);
    insert.bind(5, download.remote_address).bind(6, download.outcome);
    if (int rc = insert.step(); rc != SQLITE_DONE)
        return m_impl->error(rc);
    return static_cast<int64_t>(sqlite3_last_insert_rowid(m_impl->db));
}

Result<std::vector<Download>> Store::list_downloads(std::optional<int64_t> after_id, std::optional<int64_t> limit)
{
    auto select = m_impl->query(sql_select_downloads);
    select.bind(1, after_id).bind(2, limit.value_or(-1));
    std::vector<Download> downloads;
    int rc;
    while ((rc = select.step()) == SQLITE_ROW) {
        downloads.push_back(Download {
            .id = select.integer(0),
            .at = select.integer(1),
            .license_id = select.optional_text(2),
            .release_id = select.optional_text(3),
            .bytes = select.integer(4),
            .remote_address = select.text(5),
            .outcome = select.text(6),
        });
    }
    if (rc != SQLITE_DONE)
        return m_impl->error(rc);
    return downloads;
}

}
