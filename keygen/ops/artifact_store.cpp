#include "charter/keygen/ops/artifact_store.hpp"

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace charter::ops {

namespace {

// Artifacts are named by their SHA-256 in lower-case hex: one path component, never "..".
bool is_artifact_name(std::string const& name)
{
    return name.size() == crypto_hash_sha256_BYTES * 2 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Writes chunks to a temporary file in the artifacts folder while hashing them.
class HashingWriter {
public:
    explicit HashingWriter(std::filesystem::path root) : m_root(std::move(root)) { crypto_hash_sha256_init(&m_state); }
    ~HashingWriter()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        if (!m_temporary.empty())
            ::unlink(m_temporary.c_str());
    }

    Result<void> open()
    {
        std::error_code error;
        std::filesystem::create_directories(m_root, error);
        // The lock tells remove_abandoned_uploads that this file has a live writer. One that
        // removed the file between mkstemp and flock leaves it unlinked: then try another.
        for (int attempt = 0; attempt < 8; ++attempt) {
            std::string pattern = (m_root / ".upload-XXXXXX").string();
            m_fd = ::mkostemp(pattern.data(), O_CLOEXEC);
            if (m_fd < 0)
                return make_error(ErrorKind::io, "cannot create a file in " + m_root.string() + ": " + std::strerror(errno));
            struct stat status {};
            if (::flock(m_fd, LOCK_EX) == 0 && ::fstat(m_fd, &status) == 0 && status.st_nlink > 0) {
                m_temporary = pattern;
                return {};
            }
            ::close(m_fd);
            m_fd = -1;
        }
        return make_error(ErrorKind::io, "cannot create a temporary file in " + m_root.string() + " that stays (is another"
                " process removing files there?)");
    }

    Result<void> write(char const* data, size_t size)
    {
        crypto_hash_sha256_update(&m_state, reinterpret_cast<unsigned char const*>(data), size);
        m_size += int64_t(size);
        while (size > 0) {
            ssize_t written = ::write(m_fd, data, size);
            if (written < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == ENOSPC)
                    return make_error(ErrorKind::disk_full, "disk full while storing an artifact in " + m_root.string()
                            + "; nothing was changed");
                return make_error(ErrorKind::io, "cannot write to " + m_root.string() + ": " + std::strerror(errno));
            }
            data += written;
            size -= size_t(written);
        }
        return {};
    }

    int64_t size() const { return m_size; }

    Result<StoredArtifact> finish(ArtifactCheck const& check = {})
    {
        if (check) {
            if (auto accepted = check(m_temporary); !accepted)
                return accepted.error(); // the destructor removes the temporary file
        }
        unsigned char digest[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_final(&m_state, digest);
        char hex[crypto_hash_sha256_BYTES * 2 + 1];
        sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
        if (::fsync(m_fd) != 0)
            return make_error(ErrorKind::io, "cannot write to " + m_root.string() + ": " + std::strerror(errno));
        // Readable by the folder's group, not by everyone: behind nginx the artifacts folder
        // belongs to nginx's group (docs/deploy/), so that nginx can deliver the file.
        ::fchmod(m_fd, 0640);
        ::close(m_fd);
        m_fd = -1;
        auto destination = m_root / hex;
        if (::rename(m_temporary.c_str(), destination.c_str()) != 0)
            return make_error(ErrorKind::io, "cannot store " + destination.string() + ": " + std::strerror(errno));
        m_temporary.clear();
        return StoredArtifact { hex, m_size, destination };
    }

private:
    std::filesystem::path m_root;
    crypto_hash_sha256_state m_state;
    std::string m_temporary;
    int m_fd { -1 };
    int64_t m_size { 0 };
};

}

Result<StoredArtifact> ArtifactStore::store_file(std::filesystem::path const& source)
{
    int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return make_error(ErrorKind::not_found, "cannot read " + source.string() + ": " + std::strerror(errno));
    HashingWriter writer(m_root);
    if (auto opened = writer.open(); !opened) {
        ::close(fd);
        return opened.error();
    }
    char buffer[1 << 16];
    while (true) {
        ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int saved = errno;
            ::close(fd);
            return make_error(ErrorKind::io, "cannot read " + source.string() + ": " + std::strerror(saved));
        }
        if (got == 0)
            break;
        if (auto written = writer.write(buffer, size_t(got)); !written) {
            ::close(fd);
            return written.error();
        }
    }
    ::close(fd);
    return writer.finish();
}

Result<void> ArtifactStore::remove(std::string const& sha256) const
{
    if (!is_artifact_name(sha256))
        return make_error(ErrorKind::invalid_input, "\"" + sha256 + "\" is not the SHA-256 of an artifact");
    auto path = path_for(sha256);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return make_error(ErrorKind::io, "cannot remove " + path.string() + ": " + std::strerror(errno));
    return {};
}

Result<int> ArtifactStore::remove_abandoned_uploads() const
{
    std::error_code error;
    std::filesystem::directory_iterator entries(m_root, error);
    if (error)
        return error == std::errc::no_such_file_or_directory
            ? Result<int>(0)
            : Result<int>(make_error(ErrorKind::io, "cannot read " + m_root.string() + ": " + error.message()));
    int removed = 0;
    for (auto const& entry : entries) {
        auto name = entry.path().filename().string();
        if (!name.starts_with(".upload-"))
            continue;
        int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) {
            // Not a file an upload made (a link or worse): it does not belong here either.
            if (errno == ELOOP && ::unlink(entry.path().c_str()) == 0)
                ++removed;
            continue;
        }
        // A writer holds its lock until the file is renamed or removed: a lock we can take
        // means nobody will ever finish this file.
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::unlink(entry.path().c_str()) == 0)
            ++removed;
        ::close(fd);
    }
    return removed;
}

Result<int> ArtifactStore::open_artifact(std::string const& sha256) const
{
    if (!is_artifact_name(sha256))
        return make_error(ErrorKind::invalid_input, "\"" + sha256 + "\" is not the SHA-256 of an artifact");
    auto path = path_for(sha256);
    // The name is one component under artifacts/, so O_NOFOLLOW covers every component there.
    // O_NONBLOCK: opening a FIFO someone planted must not wait for a writer (no effect on a
    // regular file).
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ELOOP)
            return make_error(ErrorKind::io, path.string() + " is a symbolic link; artifacts are never read through links"
                    + " (remove it and upload the release again)");
        return make_error(ErrorKind::not_found, "cannot read " + path.string() + ": " + std::strerror(errno));
    }
    struct stat status {};
    if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
        ::close(fd);
        return make_error(ErrorKind::io, path.string() + " is not a regular file (remove it and upload the release again)");
    }
    return fd;
}

Result<StoredArtifact> ArtifactStore::store_stream(ChunkSource const& source, int64_t max_size, ArtifactCheck const& check)
{
    HashingWriter writer(m_root);
    if (auto opened = writer.open(); !opened)
        return opened.error();
    std::optional<Error> failure;
    bool completed = source([&](char const* data, size_t size) {
        if (writer.size() + int64_t(size) > max_size) {
            failure = make_error(ErrorKind::invalid_input, "the upload is larger than the limit of " + std::to_string(max_size)
                    + " bytes");
            return false;
        }
        if (auto written = writer.write(data, size); !written) {
            failure = written.error();
            return false;
        }
        return true;
    });
    if (failure)
        return *failure;
    if (!completed)
        return make_error(ErrorKind::invalid_input, "the upload was interrupted");
    return writer.finish(check);
}

}
