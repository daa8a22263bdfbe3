#pragma once
// The one place where SQLite's spelling of a statement becomes PostgreSQL's, mechanically.
// Private to db/. What each function rewrites is the list in docs/architecture.md ("One store,
// two databases"); anything else must already be in the subset both databases accept.

#include <string>
#include <string_view>

namespace charter::db {

/// A query or change: `?N` (and bare `?`) placeholders become `$N`; `LIMIT ?N` becomes
/// `LIMIT NULLIF($N, -1)` (SQLite's "no limit" is -1, PostgreSQL's is NULL); `INSERT OR
/// IGNORE INTO … VALUES (…)` becomes `INSERT INTO … VALUES (…) ON CONFLICT DO NOTHING`.
/// Quoted strings and identifiers are left as they are.
std::string postgres_statement(std::string_view sql);

/// A migration step: postgres_statement's rewrites, and in table definitions `INTEGER` →
/// `BIGINT` (SQLite's integers are 64-bit), `INTEGER PRIMARY KEY` → an identity column,
/// `AUTOINCREMENT` and `WITHOUT ROWID` dropped, `BLOB` → `BYTEA`, and a `rowid` identity
/// column added to every table that has neither an INTEGER PRIMARY KEY nor WITHOUT ROWID, so
/// that `ORDER BY rowid` (insertion order) means the same on both.
std::string postgres_schema(std::string_view sql);

}
