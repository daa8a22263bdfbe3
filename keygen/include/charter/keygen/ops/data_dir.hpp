#pragma once
// The data directory: charter.db (0600), keys/ (signing keys, 0600 files in a 0700 folder,
// never in the database) and artifacts/ (0700 as created, files 0640; docs/operations.md).

#include "charter/result.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace charter::ops {

class DataDir {
public:
    /// --data-dir if given, else $CHARTER_DATA_DIR, else ./charter-data.
    static DataDir resolve(std::optional<std::string> const& option);

    explicit DataDir(std::filesystem::path root) : m_root(std::move(root)) { }

    std::filesystem::path const& root() const { return m_root; }
    std::filesystem::path database() const { return m_root / "charter.db"; }
    std::filesystem::path keys() const { return m_root / "keys"; }
    std::filesystem::path artifacts() const { return m_root / "artifacts"; }
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
};

}
