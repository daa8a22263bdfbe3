#pragma once
// Turns SQLite result codes into Charter errors whose messages say what happened to which
// file and what to do about it.

#include "charter/result.hpp"

#include <filesystem>

struct sqlite3;

namespace charter::db {

/// `db` may be null (when sqlite3_open_v2 itself failed without a handle).
Error sqlite_error(sqlite3* db, int rc, std::filesystem::path const& path);

}
