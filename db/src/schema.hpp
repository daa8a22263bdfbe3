#pragma once
// The schema and its migrations (PRAGMA user_version). Private to db/.

#include "charter/result.hpp"

#include <filesystem>

struct sqlite3;

namespace charter::db {

/// Brings the database up to `target` (≤ latest_schema_version()) in one transaction.
/// A database newer than this Charter is refused with ErrorKind::version.
Result<void> migrate(sqlite3* db, std::filesystem::path const& path, int target);

}
