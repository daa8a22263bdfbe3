#pragma once
// Errors are values: every fallible function of the tools returns Result<T>, carried up
// with early returns. Only main() and the HTTP layer turn an Error into a message and an
// exit code or a status.

#include <string>
#include <utility>
#include <variant>

namespace charter {

/// What went wrong, coarsely: the CLI maps it to an exit code, the server to an HTTP status.
enum class ErrorKind {
    invalid_input,   // the caller gave something malformed (bad date, bad CSV row, ...)
    not_found,       // an id or email that does not exist
    conflict,        // a duplicate (product id, email, release version)
    unauthorized,    // a missing or wrong passphrase, token or key
    forbidden,       // authenticated but not allowed
    io,              // the file system or database failed (read-only, permissions, I/O error)
    unavailable,     // something the operation needs cannot be used until an operator acts (the
                     // server cannot load its current signing key); the message says what to do
    version,         // a database written by a newer Charter
    internal,        // a bug or an impossible state
    disk_full,       // a write found no space (SQLITE_FULL, ENOSPC, EDQUOT); nothing was changed
};

struct Error {
    ErrorKind kind;
    std::string message;
};

inline Error make_error(ErrorKind kind, std::string message)
{
    return Error { kind, std::move(message) };
}

template<typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_value(std::move(value)) { }
    Result(Error error) : m_value(std::move(error)) { }

    bool ok() const { return m_value.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(m_value); }
    T const& value() const& { return std::get<0>(m_value); }
    T&& value() && { return std::get<0>(std::move(m_value)); }
    T* operator->() { return &value(); }
    T const* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    T const& operator*() const& { return value(); }

    Error const& error() const { return std::get<1>(m_value); }

private:
    std::variant<T, Error> m_value;
};

template<>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)), m_failed(true) { }

    bool ok() const { return !m_failed; }
    explicit operator bool() const { return ok(); }
    Error const& error() const { return m_error; }

private:
    Error m_error { ErrorKind::internal, {} };
    bool m_failed { false };
};

}
