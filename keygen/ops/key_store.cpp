#include "charter/keygen/ops/key_store.hpp"

#include "charter/format/paserk_public.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "charter/keygen/password_wrap.hpp"

#include <sodium.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace charter::ops {

namespace {

Result<void> write_private_file(std::filesystem::path const& path, std::string const& content)
{
    auto temporary = path;
    temporary += ".tmp";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return make_error(ErrorKind::io, "cannot write " + temporary.string() + ": " + std::strerror(errno));
    size_t written = 0;
    while (written < content.size()) {
        ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            ::close(fd);
            ::unlink(temporary.c_str());
            return make_error(ErrorKind::io, "cannot write " + temporary.string() + ": " + std::strerror(saved));
        }
        written += size_t(n);
    }
    if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
        int saved = errno;
        ::close(fd);
        ::unlink(temporary.c_str());
        return make_error(ErrorKind::io, "cannot write " + temporary.string() + ": " + std::strerror(saved));
    }
    ::close(fd);
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        int saved = errno;
        ::unlink(temporary.c_str());
        return make_error(ErrorKind::io, "cannot write " + path.string() + ": " + std::strerror(saved));
    }
    // Make the rename itself durable.
    int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return {};
}

}

Result<void> check_public_key(db::SigningKeyRecord const& key)
{
    // Decoding alone would accept padding-free variants; the round trip pins the one spelling.
    auto bytes = format::decode_paserk_public(key.public_paserk);
    if (!bytes || format::encode_paserk_public(*bytes) != key.public_paserk)
        return make_error(ErrorKind::invalid_input, "the database's public key of signing key " + printable(key.kid)
                + " is not a k4.public PASERK (the database was altered?); restore charter.db from a backup or retire the key");
    if (format::paserk_pid(*bytes) != key.kid)
        return make_error(ErrorKind::invalid_input, "the database's public key of signing key " + printable(key.kid)
                + " belongs to another key id (the database was altered?); restore charter.db from a backup or retire the key");
    return {};
}

Result<void> KeyStore::save(keygen::SigningKey const& key, std::optional<std::string> const& passphrase) const
{
    std::string content;
    if (passphrase) {
        auto wrapped = keygen::wrap_secret_key(key, *passphrase);
        if (!wrapped)
            return wrapped.error();
        content = *wrapped;
    } else {
        content = key.paserk_secret();
    }
    content += '\n';
    auto result = write_private_file(m_dir.key_file(key.kid()), content);
    sodium_memzero(content.data(), content.size());
    return result;
}

Result<KeyProtection> KeyStore::protection(std::string const& kid) const
{
    auto path = m_dir.key_file(kid);
    std::ifstream in(path);
    if (!in)
        return make_error(ErrorKind::not_found, "signing key file " + path.string() + " is missing");
    std::string head(13, '\0');
    in.read(head.data(), 13);
    return head.starts_with("k4.secret-pw.") ? KeyProtection::passphrase : KeyProtection::plain;
}

Result<keygen::SigningKey> KeyStore::load(std::string const& kid, std::optional<std::string> const& passphrase) const
{
    auto path = m_dir.key_file(kid);
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        return make_error(ErrorKind::not_found, "signing key file " + path.string() + " for " + kid + " is missing: "
                + std::strerror(errno));
    if (info.st_mode & 077) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", unsigned(info.st_mode & 07777));
        m_warnings.push_back("key file " + path.string() + " is accessible by other users (mode " + mode + "); run: chmod 600 "
            + path.string());
    }
    std::ifstream in(path);
    if (!in)
        return make_error(ErrorKind::io, "cannot read signing key file " + path.string() + ": " + std::strerror(errno));
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string content = buffer.str();
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r' || content.back() == ' '))
        content.pop_back();

    Result<keygen::SigningKey> key = make_error(ErrorKind::internal, "");
    if (content.starts_with("k4.secret-pw.")) {
        if (!passphrase) {
            sodium_memzero(content.data(), content.size());
            return make_error(ErrorKind::unauthorized, "signing key " + kid
                    + " is protected by a passphrase; set CHARTER_PASSPHRASE or pass --passphrase-prompt");
        }
        key = keygen::unwrap_secret_key(content, *passphrase);
        if (!key && key.error().kind == ErrorKind::unauthorized)
            key = make_error(ErrorKind::unauthorized, "wrong passphrase for signing key " + kid
                    + " (check CHARTER_PASSPHRASE)");
    } else {
        key = keygen::SigningKey::from_paserk_secret(content);
    }
    sodium_memzero(content.data(), content.size());
    if (!key)
        return key.error().kind == ErrorKind::unauthorized
            ? key.error()
            : make_error(key.error().kind, "signing key file " + path.string() + ": " + key.error().message);
    if (key->kid() != kid)
        return make_error(ErrorKind::invalid_input, "signing key file " + path.string() + " holds " + key->kid() + ", not " + kid);
    return key;
}

}
