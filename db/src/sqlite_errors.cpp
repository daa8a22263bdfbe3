#include "sqlite_errors.hpp"

#include "connection.hpp"

#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <unistd.h>
#include <string>

namespace charter::db {

namespace {

std::string system_cause(sqlite3* db)
{
    int error_number = db ? sqlite3_system_errno(db) : 0;
    if (error_number == 0)
        return {};
    return std::strerror(error_number);
}

std::string sqlite_message(sqlite3* db, int rc)
{
    if (db)
        return sqlite3_errmsg(db);
    return sqlite3_errstr(rc);
}

}

Error sqlite_error(sqlite3* db, int rc, std::filesystem::path const& path)
{
    std::string const file = path.string();
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return make_error(ErrorKind::disk_full, "disk full while writing " + file + "; nothing was changed; free some space and try again");
    case SQLITE_READONLY:
        return make_error(ErrorKind::io,
            "database " + file + " is read-only; nothing was changed; charter needs write access to the file and its folder (for the -wal and -shm files)");
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return make_error(ErrorKind::io, "permission denied on database " + file + "; check the owner and mode of the file and its folder");
    case SQLITE_CANTOPEN: {
        auto cause = system_cause(db);
        if (cause.empty())
            cause = "unable to open the file";
        std::string hint = "; check that the folder exists and is writable";
        auto folder = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
        if (!std::filesystem::exists(folder))
            hint = "; the folder " + folder.string() + " does not exist";
        else if (::access(folder.c_str(), W_OK) != 0 && errno == EROFS)
            return make_error(ErrorKind::io, "database " + file + " is on a read-only file system; nothing was changed; charter "
                                             "needs write access to the file and its folder (for the -wal and -shm files)");
        return make_error(ErrorKind::io, "cannot open database " + file + ": " + cause + hint);
    }
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return make_error(ErrorKind::io,
            "database " + file + " is locked by another process (waited 5 seconds); nothing was changed; try again");
    case SQLITE_NOTADB:
        return make_error(ErrorKind::io, file + " is not a charter database (not an SQLite file)");
    case SQLITE_CORRUPT:
        return make_error(ErrorKind::io, "database " + file + " is damaged (" + sqlite_message(db, rc) + "); restore it from a backup");
    case SQLITE_IOERR: {
        // A write that hits a full file system surfaces as an I/O error with ENOSPC/EDQUOT.
        int error_number = db ? sqlite3_system_errno(db) : 0;
        if (error_number == ENOSPC || error_number == EDQUOT)
            return make_error(ErrorKind::disk_full, "disk full while writing " + file + "; nothing was changed; free some space and try again");
        std::string detail = sqlite_message(db, rc);
        if (auto cause = system_cause(db); !cause.empty()) {
            detail += ": ";
            detail += cause;
        }
        return make_error(ErrorKind::io, "i/o error on database " + file + " (" + detail + "); nothing was changed");
    }
    case SQLITE_NOMEM:
        return make_error(ErrorKind::internal, "out of memory while using database " + file);
    case SQLITE_CONSTRAINT:
        if (is_unique_violation(rc))
            return make_error(ErrorKind::conflict, "already exists (" + sqlite_message(db, rc) + ")");
        if (is_foreign_key_violation(rc))
            return make_error(ErrorKind::not_found, "refers to something that does not exist (" + sqlite_message(db, rc) + ")");
        return make_error(ErrorKind::invalid_input, "rejected by database " + file + " (" + sqlite_message(db, rc) + ")");
    default:
        return make_error(ErrorKind::internal,
            "database " + file + ": " + sqlite_message(db, rc) + " (sqlite code " + std::to_string(rc) + ")");
    }
}

}
