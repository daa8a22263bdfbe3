#include "charter/keygen/ops/data_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <pwd.h>
#include <vector>
#include <sys/stat.h>
#include <unistd.h>

namespace charter::ops {

namespace fs = std::filesystem;

DataDir DataDir::resolve(std::optional<std::string> const& option, std::optional<std::string> const& database_option)
{
    std::optional<std::string> url;
    if (database_option && !database_option->empty())
        url = *database_option;
    else if (char const* env = std::getenv("CHARTER_DATABASE_URL"); env && *env)
        url = env;
    if (option && !option->empty())
        return DataDir(*option, url);
    if (char const* env = std::getenv("CHARTER_DATA_DIR"); env && *env)
        return DataDir(env, url);
    return DataDir("charter-data", url);
}

Result<db::Store> DataDir::open_store(db::OpenMode mode) const
{
    if (m_database_url)
        return db::Store::connect(*m_database_url, mode);
    return db::Store::open(database(), mode);
}

fs::path DataDir::key_file(std::string const& kid) const
{
    // "k4.pid.<base64url>": the part after the header is file-name safe.
    return keys() / (kid.substr(kid.rfind('.') + 1) + ".key");
}

namespace {

// A folder Charter creates is 0700 whatever the umask: it holds license keys or signing keys.
Result<void> create_private_folder(fs::path const& folder)
{
    std::error_code error;
    if (fs::is_directory(folder, error))
        return {};
    fs::create_directories(folder, error);
    if (error)
        return make_error(ErrorKind::io, "cannot create " + folder.string() + ": " + error.message());
    if (::chmod(folder.c_str(), 0700) != 0)
        return make_error(ErrorKind::io, "cannot restrict " + folder.string() + " to mode 0700: " + std::strerror(errno));
    return {};
}

std::string user_name(uid_t uid)
{
    std::vector<char> buffer(16384);
    passwd entry {};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found)
        return found->pw_name;
    return "uid " + std::to_string(uid);
}

}

Result<void> DataDir::check_owner() const
{
    if (::geteuid() != 0)
        return {};
    struct stat info {};
    if (::stat(m_root.c_str(), &info) != 0 || info.st_uid == 0)
        return {};
    // Files root creates here (a rotated signing key, the -wal of a database it opened
    // first, a stored artifact) would be root's, and the service user could not read them:
    // charter-server would then fail with "Permission denied" long after this command ended.
    std::string owner = user_name(info.st_uid);
    return make_error(ErrorKind::forbidden, "data directory " + m_root.string() + " belongs to " + owner
            + "; files created as root would be unreadable to " + owner + ": run charter as that user, e.g. runuser -u "
            + owner + " -- charter …");
}

Result<void> DataDir::create() const
{
    std::error_code error;
    if (!m_database_url && fs::exists(database(), error))
        return make_error(ErrorKind::conflict, "data directory " + m_root.string() + " is already initialised (it has charter.db)");
    if (auto owned = check_owner(); !owned)
        return owned;
    if (auto created = create_private_folder(m_root); !created)
        return created;
    if (::access(m_root.c_str(), W_OK) != 0)
        return make_error(ErrorKind::io, "data directory " + m_root.string() + " is not writable: " + std::strerror(errno));
    for (auto const& folder : { keys(), artifacts() }) {
        if (auto created = create_private_folder(folder); !created)
            return created;
    }
    // keys/ is 0700 even when it was there before: it holds the signing keys.
    if (::chmod(keys().c_str(), 0700) != 0)
        return make_error(ErrorKind::io, "cannot restrict " + keys().string() + " to mode 0700: " + std::strerror(errno));
    return {};
}

Result<void> DataDir::check_exists() const
{
    std::error_code error;
    if (!fs::is_directory(m_root, error))
        return make_error(ErrorKind::not_found, "data directory " + m_root.string()
                + " does not exist; run `charter init --issuer NAME` or pass --data-dir");
    if (!m_database_url && !fs::exists(database(), error))
        return make_error(ErrorKind::not_found, "data directory " + m_root.string()
                + " has no charter.db; run `charter init --issuer NAME` there first");
    return check_owner();
}

}
