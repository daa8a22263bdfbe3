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
constexpr char const* sql_unyank_release = "UPDATE releases SET yanked = 0 WHERE id = ?1 AND yanked = 1";
constexpr char const* sql_select_release = CHARTER_RELEASE_COLUMNS " WHERE id = ?1";
constexpr char const* sql_select_release_by_file
    = CHARTER_RELEASE_COLUMNS " WHERE product_id = ?1 AND version = ?2 AND filename = ?3";
constexpr char const* sql_select_releases
    = CHARTER_RELEASE_COLUMNS " WHERE CAST(?1 AS TEXT) IS NULL OR product_id = ?1 ORDER BY product_id, released_at, id";
constexpr char const* sql_insert_download
    = "INSERT INTO downloads (at, license_id, release_id, bytes, remote_address, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
// The cursor is bound as 0 when absent (ids start at 1) rather than tested with IS NULL, so
// that each page starts at its rowid instead of scanning the log from the top. The other
// filters are checked row by row on that one pass: no index on at or outcome is paid for on
// every logged request.
constexpr char const* sql_select_downloads
    = "SELECT d.id, d.at, d.license_id, d.release_id, d.bytes, d.remote_address, d.outcome,"
      " r.id, r.product_id, r.version, r.filename, r.size, r.sha256, r.released_at, r.yanked, r.created_at"
      " FROM downloads d LEFT JOIN releases r ON r.id = d.release_id"
      " WHERE d.id > ?1 AND (CAST(?2 AS BIGINT) IS NULL OR d.at >= ?2) AND (CAST(?3 AS TEXT) IS NULL OR d.license_id = ?3)"
      " AND (CAST(?4 AS TEXT) IS NULL OR r.product_id = ?4) AND (CAST(?5 AS TEXT) IS NULL OR d.outcome = ?5) ORDER BY d.id LIMIT ?6";

constexpr char const* sql_count_license_downloads
    = "SELECT count(*) FROM (SELECT 1 FROM downloads WHERE license_id = ?1 AND at >= ?2 LIMIT ?3) AS recent";
// The oldest rows by id (logging order, the start of the table): each call reads max_rows rows
// at most, instead of scanning the log for old dates (no index on at is paid for per request).
constexpr char const* sql_delete_old_downloads
    = "DELETE FROM downloads WHERE id IN (SELECT id FROM downloads ORDER BY id LIMIT ?2) AND at < ?1";
constexpr char const* sql_artifact_in_use = "SELECT EXISTS (SELECT 1 FROM releases WHERE sha256 = ?1)";

#undef CHARTER_RELEASE_COLUMNS

// The release in columns first … first + 8, in CHARTER_RELEASE_COLUMNS order.
Release read_release(Query const& row, int first = 0)
{
    return Release {
        .id = row.text(first),
        .product_id = row.text(first + 1),
        .version = row.text(first + 2),
        .filename = row.text(first + 3),
        .size = row.integer(first + 4),
        .sha256 = row.text(first + 5),
        .released_at = row.integer(first + 6),
        .yanked = row.boolean(first + 7),
        .created_at = row.integer(first + 8),
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
            if (int rc = replace.step(); rc != code::done)
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
        if (int rc = insert.step(); rc != code::done) {
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
        if (int rc = yank.step(); rc != code::done)
            return m_impl->error(rc);
        if (m_impl->connection->changes() == 0) {
            auto existing = find_release(id);
            if (!existing)
                return existing.error();
            return make_error(ErrorKind::conflict, describe(*existing) + " is already yanked");
        }
        return m_impl->audit(actor, at, "release.yank", id, "{}");
    });
}

Result<void> Store::unyank_release(std::string const& id, int64_t at, Actor const& actor)
{
    return m_impl->atomically([&]() -> Result<void> {
        auto unyank = m_impl->query(sql_unyank_release);
        unyank.bind(1, id);
        if (int rc = unyank.step(); rc != code::done)
            return m_impl->error(rc);
        if (m_impl->connection->changes() == 0) {
            auto existing = find_release(id);
            if (!existing)
                return existing.error();
            return make_error(ErrorKind::conflict, describe(*existing) + " is not yanked");
        }
        return m_impl->audit(actor, at, "release.unyank", id, "{}");
    });
}

Result<std::vector<Release>> Store::list_releases(std::optional<std::string> const& product_id)
{
    auto select = m_impl->query(sql_select_releases);
    select.bind(1, product_id);
    std::vector<Release> releases;
    int rc;
    while ((rc = select.step()) == code::row)
        releases.push_back(read_release(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return releases;
}

Result<Release> Store::find_release(std::string const& id)
{
    auto select = m_impl->query(sql_select_release);
    select.bind(1, id);
    int rc = select.step();
    if (rc == code::row)
        return read_release(select);
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no release " + id);
}

Result<Release> Store::find_release(std::string const& product_id, std::string const& version, std::string const& filename)
{
    auto select = m_impl->query(sql_select_release_by_file);
    select.bind(1, product_id).bind(2, version).bind(3, filename);
    int rc = select.step();
    if (rc == code::row)
        return read_release(select);
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no release " + product_id + " " + version + " (" + filename + ")");
}

Result<int64_t> Store::record_download(Download const& download)
{
    auto insert = m_impl->query(sql_insert_download);
    insert.bind(1, download.at).bind(2, download.license_id).bind(3, download.release_id).bind(4, download.bytes);
    insert.bind(5, download.remote_address).bind(6, download.outcome);
    if (int rc = insert.step(); rc != code::row)
        return m_impl->error(rc);
    return insert.integer(0);
}

Result<int64_t> Store::count_license_downloads(std::string const& license_id, int64_t since, int64_t limit)
{
    auto select = m_impl->query(sql_count_license_downloads);
    select.bind(1, license_id).bind(2, since).bind(3, limit);
    if (int rc = select.step(); rc != code::row)
        return m_impl->error(rc);
    return select.integer(0);
}

Result<int64_t> Store::delete_downloads_before(int64_t before, int64_t max_rows)
{
    auto remove = m_impl->query(sql_delete_old_downloads);
    remove.bind(1, before).bind(2, max_rows);
    if (int rc = remove.step(); rc != code::done)
        return m_impl->error(rc);
    return static_cast<int64_t>(m_impl->connection->changes());
}

Result<bool> Store::artifact_in_use(std::string const& sha256)
{
    auto select = m_impl->query(sql_artifact_in_use);
    select.bind(1, sha256);
    if (int rc = select.step(); rc != code::row)
        return m_impl->error(rc);
    return select.integer(0) != 0;
}

Result<std::vector<DownloadLogEntry>> Store::list_downloads(DownloadFilter const& filter)
{
    auto select = m_impl->query(sql_select_downloads);
    select.bind(1, filter.after_id.value_or(0)).bind(2, filter.since).bind(3, filter.license_id).bind(4, filter.product_id);
    select.bind(5, filter.outcome).bind(6, filter.limit.value_or(-1));
    std::vector<DownloadLogEntry> entries;
    int rc;
    while ((rc = select.step()) == code::row) {
        DownloadLogEntry entry;
        entry.download = Download {
            .id = select.integer(0),
            .at = select.integer(1),
            .license_id = select.optional_text(2),
            .release_id = select.optional_text(3),
            .bytes = select.integer(4),
            .remote_address = select.text(5),
            .outcome = select.text(6),
        };
        if (select.optional_text(7))
            entry.release = read_release(select, 7);
        entries.push_back(std::move(entry));
    }
    if (rc != code::done)
        return m_impl->error(rc);
    return entries;
}

}
