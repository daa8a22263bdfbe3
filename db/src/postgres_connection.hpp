#pragma once
// The PostgreSQL connection (libpq). Private to db/.

#include "connection.hpp"

#include <string>

namespace charter::db {

/// Whether `location` names a PostgreSQL database (postgres:// or postgresql://).
bool is_postgres_url(std::string_view location);

/// Connects to the database at `url` (its password from the URL, PGPASSFILE or PGPASSWORD).
Result<std::unique_ptr<Connection>> connect_postgres(std::string const& url);

/// `url` with its password removed, for messages.
std::string url_without_password(std::string const& url);

}
