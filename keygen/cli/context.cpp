#include "context.hpp"

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/public_url.hpp"
#include "charter/keygen/ops/time_input.hpp"

#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <termios.h>
#include <unistd.h>

namespace charter::cli {

namespace {

// Reads one line from the terminal with echo off. Fails when there is no terminal: a
// passphrase never comes from a pipe by accident.
Result<std::string> prompt_no_echo(char const* prompt)
{
    FILE* tty = std::fopen("/dev/tty", "r+");
    if (!tty)
        return make_error(ErrorKind::unauthorized, "--passphrase-prompt needs a terminal; set CHARTER_PASSPHRASE instead");
    int fd = fileno(tty);
    termios saved {};
    if (tcgetattr(fd, &saved) != 0) {
        std::fclose(tty);
        return make_error(ErrorKind::unauthorized, "--passphrase-prompt needs a terminal; set CHARTER_PASSPHRASE instead");
    }
    termios silent = saved;
    silent.c_lflag &= ~tcflag_t(ECHO);
    tcsetattr(fd, TCSAFLUSH, &silent);
    std::fputs(prompt, tty);
    std::fflush(tty);
    std::string line;
    int c;
    while ((c = std::fgetc(tty)) != EOF && c != '\n')
        line += static_cast<char>(c);
    tcsetattr(fd, TCSAFLUSH, &saved);
    std::fputs("\n", tty);
    std::fclose(tty);
    return line;
}

}

int64_t Context::now() const
{
    // CHARTER_NOW (RFC 3339) pins the clock, for reproducible examples and tests.
    if (char const* pinned = std::getenv("CHARTER_NOW"); pinned && *pinned) {
        if (auto parsed = format::parse_rfc3339(pinned))
            return *parsed;
        static bool warned = false;
        if (!warned)
            warn(std::string("CHARTER_NOW \"") + pinned + "\" is not an RFC 3339 time (like 2027-01-31T10:00:00Z); "
                 "using the system clock");
        warned = true;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<ops::Workspace> Context::open_workspace() const
{
    // On PostgreSQL a change this command commits is reported once the servers have been told
    // of it: they remember what they read until then.
    return ops::Workspace::open_for_changes(resolve_data_dir());
}

Result<std::optional<std::string>> Context::passphrase(bool confirm) const
{
    if (char const* env = std::getenv("CHARTER_PASSPHRASE"); env && *env)
        return std::optional<std::string>(env);
    if (!passphrase_prompt)
        return std::optional<std::string> {};
    auto first = prompt_no_echo("passphrase: ");
    if (!first)
        return first.error();
    if (first->empty())
        return make_error(ErrorKind::unauthorized, "the passphrase must not be empty");
    if (confirm) {
        auto second = prompt_no_echo("passphrase (again): ");
        if (!second)
            return second.error();
        bool same = *first == *second;
        sodium_memzero(second->data(), second->size());
        if (!same)
            return make_error(ErrorKind::unauthorized, "the passphrases do not match");
    }
    return std::optional<std::string>(std::move(*first));
}

int Context::fail(Error const& error) const
{
    std::cerr << "charter: " << error.message << "\n";
    switch (error.kind) {
    case ErrorKind::invalid_input: return exit_invalid_input;
    case ErrorKind::not_found: return exit_not_found;
    case ErrorKind::conflict: return exit_conflict;
    case ErrorKind::unauthorized:
    case ErrorKind::forbidden: return exit_unauthorized;
    case ErrorKind::io:
    case ErrorKind::disk_full:
    case ErrorKind::unavailable: return exit_io;
    case ErrorKind::version: return exit_version;
    case ErrorKind::internal: return exit_internal;
    }
    return exit_internal;
}

void Context::warn(std::string const& message) const
{
    std::cerr << "charter: warning: " << message << "\n";
}

void Context::print_warnings(ops::KeyStore const& keys) const
{
    for (auto const& warning : keys.warnings())
        warn(warning);
}

Result<keygen::SigningKey> Context::current_signing_key(ops::Workspace& workspace) const
{
    auto passphrase = this->passphrase();
    if (!passphrase)
        return passphrase.error();
    auto key = workspace.current_signing_key(*passphrase);
    print_warnings(workspace.key_store());
    return key;
}

std::string Context::paint(char const* code, std::string const& text, int fd) const
{
    static bool const env_allows = [] {
        char const* term = std::getenv("TERM");
        return !std::getenv("NO_COLOR") && !(term && std::string(term) == "dumb");
    }();
    if (no_color || !env_allows || !::isatty(fd))
        return text;
    return std::string("\033[") + code + "m" + text + "\033[0m";
}

void Context::print_json(ops::Json const& json)
{
    std::cout << json.dump(2) << "\n";
}

void JsonArrayPrinter::add(ops::Json const& element)
{
    std::string text = element.dump(2);
    std::string indented = "  ";
    indented.reserve(text.size() + text.size() / 8);
    for (char c : text) {
        indented += c;
        if (c == '\n')
            indented += "  ";
    }
    std::cout << (m_started ? ",\n" : "[\n") << indented;
    m_started = true;
}

void JsonArrayPrinter::finish()
{
    std::cout << (m_started ? "\n]\n" : "[]\n");
}

Result<int64_t> parse_time_option(std::string const& text, int64_t now, char const* option, ops::DurationFromNow direction)
{
    return ops::parse_time_input(text, now, option, direction);
}

Result<std::optional<std::string>> Context::public_url() const
{
    if (public_url_option) {
        auto url = ops::parse_public_url(*public_url_option, "--public-url");
        if (!url)
            return url.error();
        return std::optional<std::string>(*url);
    }
    char const* variable = std::getenv("CHARTER_PUBLIC_URL");
    if (!variable || !*variable)
        return std::optional<std::string>();
    auto url = ops::parse_public_url(variable, "CHARTER_PUBLIC_URL");
    if (!url)
        return url.error();
    return std::optional<std::string>(*url);
}

}
