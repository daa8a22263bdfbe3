#pragma once
// The data directory: charter.db (0600), keys/ (signing keys, 0600 files in a 0700 folder,
// never in the database) and artifacts/ (0700 as created, files 0640; docs/operations.md).
// With a database URL (--database / CHARTER_DATABASE_URL, postgres://…), the database is that
// PostgreSQL database instead of charter.db; keys/ and artifacts/ stay in the folder.

#include "charter/db/store.hpp"
#include "charter/result.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace charter::ops {

class DataDir {
public:
    /// --data-dir if given, else $CHARTER_DATA_DIR, else ./charter-data; the database URL
    /// from `database_option` if given, else $CHARTER_DATABASE_URL, else none (charter.db).
    static DataDir resolve(std::optional<std::string> const& option,
        std::optional<std::string> const& database_option = std::nullopt);

    explicit DataDir(std::filesystem::path root, std::optional<std::string> database_url = std::nullopt)
        : m_root(std::move(root))
        , m_database_url(std::move(database_url))
    {
    }

    std::filesystem::path const& root() const { return m_root; }
    /// The SQLite database; unused when database_url() is set.
    std::filesystem::path database() const { return m_root / "charter.db"; }
    /// The PostgreSQL database, when one was chosen.
    std::optional<std::string> const& database_url() const { return m_database_url; }
    /// Opens a connection to the database (charter.db, or the URL's database).
    Result<db::Store> open_store(db::OpenMode mode) const;
    std::filesystem::path keys() const { return m_root / "keys"; }
    std::filesystem::path artifacts() const { return m_root / "artifacts"; }
    /// The vendor's mail templates (<kind>.txt, <kind>.html), overriding the built-in ones.
    std::filesystem::path mail_templates() const { return m_root / "templates" / "mail"; }
    std::filesystem::path key_file(std::string const& kid) const;

    /// For `charter init`: creates the folders (keys/ 0700); refuses a folder that already
    /// holds a database.
    Result<void> create() const;

    /// For every other command: the folder and its database must exist and be usable.
    Result<void> check_exists() const;

    /// Run as root on a folder another user owns (the service user of docs/deploy/), refuses
    /// with ErrorKind::forbidden naming the user to run as: whatever root created there would
    /// be unreadable to that user. Part of create() and check_exists().
    Result<void> check_owner() const;

private:
    std::filesystem::path m_root;
    std::optional<std::string> m_database_url;
};

}
