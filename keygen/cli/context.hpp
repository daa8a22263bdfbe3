#pragma once
// What every `charter` subcommand shares: global options, the clock, output helpers, and
// the mapping from an Error to a message on stderr and a documented exit code.

#include "charter/keygen/ops/json_views.hpp"
#include "charter/keygen/ops/time_input.hpp"
#include "charter/keygen/ops/workspace.hpp"
#include "charter/result.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace charter::cli {

/// Exit codes (docs/cli.md). Never renumbered.
enum ExitCode : int {
    exit_ok = 0,
    exit_invalid_license = 1, // verify: the key is not valid
    exit_usage = 2,           // bad command line
    exit_invalid_input = 3,   // a bad value: date, duration, CSV row, …
    exit_not_found = 4,       // unknown product, customer, license, data directory
    exit_conflict = 5,        // duplicate, already revoked, already initialised
    exit_unauthorized = 6,    // missing or wrong passphrase
    exit_io = 7,              // disk full, read-only, permissions, database locked
    exit_version = 8,         // the database is from a newer charter
    exit_undelivered = 9,     // mail send: some messages were not delivered (pending or failed)
    exit_internal = 70,       // a bug
};

class Context {
public:
    std::optional<std::string> data_dir;
    std::optional<std::string> public_url_option; // --public-url
    std::optional<std::string> database_url; // --database
    bool passphrase_prompt { false };
    bool no_color { false };
    int exit_code { exit_ok };

    int64_t now() const;
    db::Actor actor() const { return db::Actor { "cli" }; }

    Result<ops::Workspace> open_workspace() const;
    ops::DataDir resolve_data_dir() const { return ops::DataDir::resolve(data_dir, database_url); }
    /// The server's public URL: --public-url, else CHARTER_PUBLIC_URL, checked and normalised
    /// (ops::parse_public_url); nullopt when neither is set.
    Result<std::optional<std::string>> public_url() const;

    /// CHARTER_PASSPHRASE, or a no-echo prompt on the terminal with --passphrase-prompt;
    /// nullopt when neither is given.
    Result<std::optional<std::string>> passphrase(bool confirm = false) const;

    /// Prints "charter: MESSAGE" on stderr and returns the exit code for the error's kind.
    int fail(Error const& error) const;
    void warn(std::string const& message) const;
    void print_warnings(ops::KeyStore const& keys) const;
    /// The current signing key, unlocked with passphrase(); the key store's warnings printed.
    Result<keygen::SigningKey> current_signing_key(ops::Workspace& workspace) const;

    /// ANSI colour on stdout (or stderr) only when it is a terminal and NO_COLOR is unset.
    std::string green(std::string const& text, int fd = 1) const { return paint("32", text, fd); }
    std::string red(std::string const& text, int fd = 1) const { return paint("31", text, fd); }
    std::string bold(std::string const& text, int fd = 1) const { return paint("1", text, fd); }

    static void print_json(ops::Json const& json);

private:
    std::string paint(char const* code, std::string const& text, int fd) const;
};

/// Prints a JSON array element by element, byte for byte as Context::print_json would print
/// the whole array, so that a listing of 100,000 licenses never has to be held in memory.
class JsonArrayPrinter {
public:
    void add(ops::Json const& element);
    /// Closes the array ("[]" when nothing was added).
    void finish();

private:
    bool m_started { false };
};

/// Registers a subcommand group; each is in its own file.
void register_init(CLI::App& app, Context& context);
void register_keys(CLI::App& app, Context& context);
void register_catalog(CLI::App& app, Context& context);
void register_issue(CLI::App& app, Context& context);
void register_licenses(CLI::App& app, Context& context);
void register_verify(CLI::App& app, Context& context);
void register_admin(CLI::App& app, Context& context);
void register_credentials(CLI::App& app, Context& context);
void register_activations(CLI::App& app, Context& context);
void register_releases(CLI::App& app, Context& context);
void register_downloads(CLI::App& app, Context& context);
void register_verifier(CLI::App& app, Context& context);
void register_license_changes(CLI::App& app, Context& context);
void register_plans(CLI::App& app, Context& context);
void register_mail(CLI::App& app, Context& context);
void register_billing(CLI::App& app, Context& context);

/// Parses a time option (--at, --since, --released-at: RFC 3339, a date or a duration) or
/// fails with the option's name. A duration counts from now in `direction`.
Result<int64_t> parse_time_option(std::string const& text, int64_t now, char const* option,
    ops::DurationFromNow direction = ops::DurationFromNow::ahead);

}
