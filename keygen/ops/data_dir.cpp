#include "data_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace charter::ops {

namespace fs = std::filesystem;

DataDir DataDir::resolve(std::optional<std::string> const& option)
{
    if (option && !option->empty())
        return DataDir(*option);
    if (char const* env = std::getenv("CHARTER_DATA_DIR"); env && *env)
        return DataDir(env);
    return DataDir("charter-data");
}

fs::path DataDir::key_file(std::string const& kid) const
{
    // "k4.pid.<base64url>": the part after the header is file-name safe.
    return keys() / (kid.substr(kid.rfind('.') + 1) + ".key");
}

Result<void> DataDir::create() const
{
    std::error_code error;
    if (fs::exists(database(), error))
        return make_error(ErrorKind::conflict, "data directory " + m_root.string() + " is already initialised (it has charter.db)");
    fs::create_directories(m_root, error);
    if (error)
        return make_error(ErrorKind::io, "cannot create data directory " + m_root.string() + ": " + error.message());
    if (::access(m_root.c_str(), W_OK) != 0)
        return make_error(ErrorKind::io, "data directory " + m_root.string() + " is not writable: " + std::strerror(errno));
    for (auto const& folder : { keys(), artifacts() }) {
        fs::create_directories(folder, error);
        if (error)
            return make_error(ErrorKind::io, "cannot create " + folder.string() + ": " + error.message());
    }
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
    if (!fs::exists(database(), error))
        return make_error(ErrorKind::not_found, "data directory " + m_root.string()
                + " has no charter.db; run `charter init --issuer NAME` there first");
    return {};
}

}
