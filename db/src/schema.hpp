#pragma once
// The schema and its migrations (SQLite: PRAGMA user_version; PostgreSQL: the schema_version
// table). Private to db/.

#include "charter/result.hpp"
#include "connection.hpp"

namespace charter::db {

/// Brings the database up to `target` (≤ latest_schema_version()) in one transaction.
/// A database newer than this Charter is refused with ErrorKind::version.
Result<void> migrate(Connection& connection, int target);

/// The database's schema version (0: empty), checking that it is Charter's.
Result<int> schema_version_of(Connection& connection);

/// Migration step `step` (0-based) as PostgreSQL runs it.
std::string postgres_migration(int step);

}
