// The startup check (charter_startup_* in verify.h): find the customer's key in the places the
// vendor configured, verify it, and explain the outcome to the customer.
//
// Most support requests about commercial add-ons are "it refuses to start and I don't know
// why", so every message names the real cause and where the key came from, and the diagnostic
// lists every place that was looked at. The verifier is shared and const: a revocation-list
// file is passed next to it to charter::internal::verify(), never installed on it.

#include "charter/verify.h"

#include "charter/format/claims.hpp"
#include "charter/format/paseto.hpp"
#include "charter/format/rfc3339.hpp"
#include "startup_check.hpp"
#include "verifier_internal.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace charter::format;

namespace {

using Place = charter_startup_result::Place;

constexpr std::string_view whitespace = " \t\r\n\v\f";
constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
// A revocation file is bounded by CHARTER_MAX_REVOCATION_FILE_SIZE; reading a little more (a
// trailing newline, a BOM) lets verification give its precise "too large" message.
constexpr size_t max_revocation_file_size = CHARTER_MAX_REVOCATION_FILE_SIZE + 4096;
constexpr int64_t seconds_per_day = 86400;

// Keys are pasted from e-mails and editors: trailing newlines, indentation and Notepad's
// byte-order mark are not part of the key.
std::string_view trim(std::string_view text)
{
    if (text.substr(0, utf8_bom.size()) == utf8_bom)
        text.remove_prefix(utf8_bom.size());
    auto first = text.find_first_not_of(whitespace);
    if (first == std::string_view::npos)
        return {};
    auto last = text.find_last_not_of(whitespace);
    return text.substr(first, last - first + 1);
}

// strerror() is not thread-safe and strerror_r() comes in two flavours: XSI returns an int and
// fills the buffer, GNU returns the text (which may not be the buffer).
[[maybe_unused]] char const* error_text_of(int, char const* buffer) { return buffer; }
[[maybe_unused]] char const* error_text_of(char const* text, char const*) { return text; }

std::string error_text(int error)
{
    char buffer[128] = "";
    return error_text_of(strerror_r(error, buffer, sizeof buffer), buffer);
}

struct FileContents {
    charter_place_state state { CHARTER_PLACE_UNREADABLE };
    std::string data;
    std::string detail;
};

// Reads at most `limit` bytes of a small file. O_NONBLOCK keeps a FIFO without a writer from
// hanging the application at startup (it reads as empty).
FileContents read_small_file(std::string const& path, size_t limit)
{
    FileContents out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int error = errno;
        out.state = error == ENOENT || error == ENOTDIR ? CHARTER_PLACE_MISSING : CHARTER_PLACE_UNREADABLE;
        out.detail = error_text(error);
        return out;
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer { fd };

    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        out.detail = error_text(errno);
        return out;
    }
    if (S_ISDIR(info.st_mode)) {
        out.detail = "it is a directory";
        return out;
    }
    if (S_ISREG(info.st_mode) && static_cast<uintmax_t>(info.st_size) > limit) {
        out.state = CHARTER_PLACE_TOO_LARGE;
        out.detail = std::to_string(info.st_size) + " bytes";
        return out;
    }
    // Sized from fstat for regular files, so that one read() usually gets everything.
    bool regular = S_ISREG(info.st_mode);
    std::string& data = out.data;
    data.resize(std::min(regular ? static_cast<size_t>(info.st_size) : size_t(4096), limit) + 1);
    size_t used = 0;
    for (;;) {
        if (used == data.size()) {
            if (used > limit) {
                out.state = CHARTER_PLACE_TOO_LARGE;
                out.detail = "more than " + std::to_string(limit) + " bytes";
                data.clear();
                return out;
            }
            data.resize(std::min(data.size() * 2, limit + 1));
        }
        ssize_t count = ::read(fd, data.data() + used, data.size() - used);
        if (count < 0 && errno == EINTR)
            continue;
        if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (count < 0) {
            out.detail = error_text(errno);
            data.clear();
            return out;
        }
        if (count == 0)
            break;
        used += static_cast<size_t>(count);
        // A regular file that gave less than asked is at its end: spare the read() returning 0.
        if (regular && used < data.size())
            break;
    }
    data.resize(used);
    out.state = CHARTER_PLACE_FOUND;
    return out;
}

// "~/x" → "$HOME/x", read at check time; nullopt (with detail) when HOME is not set.
std::optional<std::string> expand_home(std::string const& path, std::string& detail)
{
    if (path != "~" && path.rfind("~/", 0) != 0)
        return path;
    char const* home = std::getenv("HOME");
    if (!home || !*home) {
        detail = "HOME is not set, so ~/ cannot be expanded";
        return std::nullopt;
    }
    std::string expanded = home;
    if (expanded.size() > 1 && expanded.back() == '/')
        expanded.pop_back();
    return expanded + path.substr(1);
}

// Looks at the environment variable, then the files and values in the order added; the first
// key found wins and the places after it are listed as not checked. Returns the key, or nullopt.
std::optional<std::string> find_key(charter_startup const& check, charter_startup_result& result)
{
    std::optional<std::string> key;
    auto settle = [&](Place& place, std::string_view raw) {
        std::string_view text = trim(raw);
        if (raw.size() > CHARTER_MAX_KEY_FILE_SIZE) {
            place.state = CHARTER_PLACE_TOO_LARGE;
            place.detail = std::to_string(raw.size()) + " bytes";
        } else if (text.empty()) {
            place.state = CHARTER_PLACE_EMPTY;
        } else {
            place.state = CHARTER_PLACE_FOUND;
            key = std::string(text);
            result.source_kind = place.kind;
            result.source = place.name;
        }
    };

    if (!check.env_name.empty()) {
        Place place { CHARTER_SOURCE_ENV, check.env_name, check.env_name, CHARTER_PLACE_NOT_SET, {} };
        if (char const* value = std::getenv(check.env_name.c_str())) {
            std::string copy = value; // before anything else can change the environment
            settle(place, copy);
        }
        result.places.push_back(std::move(place));
    }
    for (auto const& source : check.sources) {
        Place place { source.kind, source.name, source.name, CHARTER_PLACE_NOT_CHECKED, {} };
        if (!key && source.kind == CHARTER_SOURCE_VALUE) {
            place.state = CHARTER_PLACE_NOT_SET;
            if (source.value)
                settle(place, *source.value);
        } else if (!key) {
            if (auto path = expand_home(source.name, place.detail)) {
                place.path = *path;
                auto contents = read_small_file(place.path, CHARTER_MAX_KEY_FILE_SIZE);
                place.state = contents.state;
                place.detail = std::move(contents.detail);
                if (contents.state == CHARTER_PLACE_FOUND)
                    settle(place, contents.data);
            } else {
                place.state = CHARTER_PLACE_UNREADABLE;
            }
        }
        result.places.push_back(std::move(place));
    }
    return key;
}

std::string join_alternatives(std::vector<std::string> const& items)
{
    std::string text;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0)
            text += i + 1 == items.size() ? " or " : ", ";
        text += items[i];
    }
    return text;
}

// "set ACME_PRO_LICENSE or put the key in ./config/acme-pro.license or ~/.config/acme-pro/license"
std::string where_to_put_the_key(charter_startup const& check)
{
    std::vector<std::string> files;
    std::vector<std::string> ways;
    if (!check.env_name.empty())
        ways.push_back("set " + check.env_name);
    for (auto const& source : check.sources) {
        if (source.kind == CHARTER_SOURCE_FILE)
            files.push_back(source.name);
    }
    if (!files.empty())
        ways.push_back("put the key in " + join_alternatives(files));
    for (auto const& source : check.sources) {
        if (source.kind == CHARTER_SOURCE_VALUE)
            ways.push_back("set " + source.name);
    }
    return join_alternatives(ways);
}

std::string no_license_message(charter_startup const& check, std::vector<Place> const& places)
{
    if (places.empty())
        return "no license key found: no environment variable or key file is configured to look in "
               "(a packaging problem; please report it to the vendor)";
    // A place that holds something unusable is the likeliest explanation: say so first.
    std::string cause;
    for (auto const& place : places) {
        std::string what = place.kind == CHARTER_SOURCE_FILE ? place.name : place.name + " is set but";
        if (place.state == CHARTER_PLACE_UNREADABLE)
            cause = place.name + " could not be read (" + place.detail + ")";
        else if (place.state == CHARTER_PLACE_TOO_LARGE)
            cause = place.name + " is larger than 16 KiB, so it is not a license key";
        else if (place.state == CHARTER_PLACE_EMPTY)
            cause = what + " is empty";
        if (!cause.empty())
            break;
    }
    return "no license key found: " + (cause.empty() ? "" : cause + "; ") + where_to_put_the_key(check);
}

struct Outcome {
    std::string message;
    bool in_grace { false };
    bool ending { false }; // valid, but within the renewal warning period before exp
};

// "in 10 days", "in 1 day", "in less than a day": whole days left until exp.
std::string time_left(int64_t seconds)
{
    if (seconds < seconds_per_day)
        return "in less than a day";
    int64_t days = seconds / seconds_per_day;
    return "in " + std::to_string(days) + (days == 1 ? " day" : " days");
}

Outcome explain(charter_startup const& check, charter_startup_result const& result, std::string const& token,
    std::string const& verify_detail, int64_t now)
{
    std::string const& product = check.verifier->product;
    std::string key_in = "the license key in " + result.source;
    charter_license const* license = result.license.get();
    std::string the_license = license ? "the license " + license->claims.license_id + " for " + product : "";
    // Where the renewed key comes from: the vendor's renewal page, or else the vendor itself.
    auto renew = [&] {
        if (!check.renew_url.empty())
            return "; renew at " + check.renew_url;
        return "; get the renewed key from " + license->claims.issuer + " and put it in " + result.source;
    };

    switch (result.status) {
    case CHARTER_OK: {
        auto const& expires = license->claims.expires_at;
        // Compared as now >= exp - window, which cannot overflow for any caller's clock (exp is
        // at most year 9999, the window at most 3650 days); past that, now <= exp + leeway.
        if (expires && check.renewal_warning_days > 0
            && now >= *expires - int64_t(check.renewal_warning_days) * seconds_per_day)
            return { the_license + " ends on " + format_date(*expires) + " (" + time_left(*expires - now) + ")" + renew(), false, true };
        return { the_license + " is valid" + (expires ? " until " + format_date(*expires) : "") };
    }
    case CHARTER_E_EXPIRED: {
        int64_t expired = *license->claims.expires_at;
        int64_t grace_end = expired + int64_t(check.grace_days) * seconds_per_day;
        std::string grace = "grace period of " + std::to_string(check.grace_days) + (check.grace_days == 1 ? " day" : " days");
        if (check.grace_days > 0 && now <= grace_end)
            return { the_license + " expired on " + format_date(expired) + "; it keeps working until " + format_date(grace_end) + " ("
                    + grace + ")" + renew(),
                true };
        std::string ended = check.grace_days > 0 ? " and its " + grace + " ended on " + format_date(grace_end) : "";
        return { the_license + " expired on " + format_date(expired) + ended + renew() };
    }
    case CHARTER_E_NOT_YET_VALID:
        return { the_license + " starts on " + format_date(*license->claims.not_before)
            + "; if that date has passed, check this computer's clock" };
    case CHARTER_E_UPDATES_ENDED:
        return { the_license + " covers releases up to " + format_date(*license->claims.updates_until) + ", and this release is from "
            + format_date(*check.verifier->build_time) + "; use an earlier release"
            + (check.renew_url.empty() ? " or renew the license" : " or renew at " + check.renew_url) };
    case CHARTER_E_REVOKED:
        return { the_license + " has been revoked; contact " + license->claims.issuer + " for a new key" };
    case CHARTER_E_WRONG_PRODUCT:
    case CHARTER_E_BAD_SIGNATURE:
    case CHARTER_E_UNKNOWN_KEY: {
        std::string ignored;
        auto claimed = claimed_product(token, ignored, CHARTER_MAX_TOKEN_SIZE, ClaimedProductRule::complete_claims);
        bool other_product = claimed && *claimed != product;
        // A genuine key of another product (verify says so when it verifies for its own
        // product), or one signed by a key this build does not know that claims another product.
        if (other_product && result.status != CHARTER_E_BAD_SIGNATURE) {
            std::string verb = result.status == CHARTER_E_UNKNOWN_KEY ? " appears to be" : " is";
            return { key_in + verb + " for another product (" + *claimed + "), not " + product };
        }
        if (result.status == CHARTER_E_UNKNOWN_KEY)
            return { key_in + " was signed by a key this release of " + product
                + " does not know; update " + product + " or ask the vendor for a new key" };
        return { key_in + " was altered or is not a license key for " + product + "; copy the key again exactly as issued" };
    }
    case CHARTER_E_TOO_LARGE:
    case CHARTER_E_MALFORMED:
    case CHARTER_E_BAD_ENCODING:
    case CHARTER_E_BAD_FOOTER:
    case CHARTER_E_BAD_CLAIMS:
    case CHARTER_E_MISSING_CLAIM:
    case CHARTER_E_WRONG_CLAIM_TYPE:
        return { key_in + " was altered or is not a license key for " + product + "; copy the key again exactly as issued" };
    case CHARTER_E_NO_KEYS:
    case CHARTER_E_BAD_KEY:
    case CHARTER_E_INVALID_ARGUMENT:
        return { product + " cannot check license keys: " + verify_detail
            + " (a packaging problem; please report it to the vendor)" };
    }
    return { std::string("the license check failed: ") + charter_status_string(result.status) };
}

char const* state_text(charter_place_state state)
{
    switch (state) {
    case CHARTER_PLACE_NOT_SET: return "not set";
    case CHARTER_PLACE_MISSING: return "missing";
    case CHARTER_PLACE_UNREADABLE: return "unreadable";
    case CHARTER_PLACE_EMPTY: return "empty";
    case CHARTER_PLACE_TOO_LARGE: return "too large (the limit is 16384 bytes)";
    case CHARTER_PLACE_FOUND: return "found";
    case CHARTER_PLACE_NOT_CHECKED: return "not checked (a key was found before)";
    }
    return "unknown";
}

std::string describe_place(Place const& place)
{
    std::string line = place.kind == CHARTER_SOURCE_ENV ? "environment variable " + place.name
        : place.kind == CHARTER_SOURCE_FILE                ? "file " + place.name
                                                           : place.name;
    if (place.path != place.name)
        line += " (" + place.path + ")";
    line += std::string(": ") + state_text(place.state);
    if (!place.detail.empty())
        line += " (" + place.detail + ")";
    return line;
}

std::string describe_license(charter_license const& license)
{
    auto const& claims = license.claims;
    std::string text = "license " + claims.license_id + " for " + claims.product + ", customer " + claims.customer;
    if (claims.name)
        text += " (" + *claims.name + ")";
    text += ", issued by " + claims.issuer + " on " + format_rfc3339(claims.issued_at);
    text += claims.expires_at ? ", expires " + format_rfc3339(*claims.expires_at) : ", perpetual";
    if (claims.updates_until)
        text += ", updates until " + format_rfc3339(*claims.updates_until);
    return text + ", signed by " + license.kid;
}

struct Revocations {
    std::optional<RevocationList> list;
    std::string diagnostic; // one line
    std::string problem;    // for the message when the list could not be used
};

Revocations load_revocation_file(charter_startup const& check)
{
    Revocations out;
    std::string const& name = check.revocation_file;
    std::string detail;
    auto path = expand_home(name, detail);
    std::string shown = path && *path != name ? name + " (" + *path + ")" : name;
    std::string reason; // completes "the revocation list NAME …" in the message
    std::string why;    // the technical detail, for the diagnostic only
    if (!path) {
        reason = "could not be read (" + detail + ")";
    } else {
        auto contents = read_small_file(*path, max_revocation_file_size);
        std::string_view text = trim(contents.data);
        RevocationList list;
        if (contents.state == CHARTER_PLACE_MISSING) {
            reason = "was not found";
            why = contents.detail;
        } else if (contents.state == CHARTER_PLACE_TOO_LARGE) {
            reason = "is too large (" + contents.detail + ")";
        } else if (contents.state != CHARTER_PLACE_FOUND) {
            reason = "could not be read (" + contents.detail + ")";
        } else if (text.empty()) {
            reason = "is empty";
        } else if (charter::internal::load_revocation_list(*check.verifier, text, list, why) != CHARTER_OK) {
            reason = "is not a valid revocation list for " + check.verifier->product;
        } else {
            out.diagnostic = "revocation list " + shown + ": loaded (" + std::to_string(list.revoked.size())
                + " revoked, issued " + format_rfc3339(list.issued_at) + ")";
            out.list = std::move(list);
            return out;
        }
    }
    out.problem = "the revocation list " + name + " " + reason;
    out.diagnostic = "revocation list " + shown + ": not used, it " + reason + (why.empty() ? "" : " (" + why + ")")
        + "; revocations were not checked";
    return out;
}

}

namespace charter::internal {

void run_check(charter_startup const& check, int64_t now, charter_startup_result& result)
{
    std::string const& product = check.verifier->product;
    bool warn_only = check.mode == CHARTER_MODE_WARN;
    std::string diagnostic = "license check for " + product + " at " + format_rfc3339(now) + " ("
        + (warn_only ? "warn-only mode" : "enforce mode")
        + (check.grace_days > 0 ? ", grace period " + std::to_string(check.grace_days) + " days" : "") + ")\n";

    auto key = find_key(check, result);
    diagnostic += "places looked at, in order:\n";
    if (result.places.empty())
        diagnostic += "  (none configured)\n";
    for (size_t i = 0; i < result.places.size(); ++i)
        diagnostic += "  " + std::to_string(i + 1) + ". " + describe_place(result.places[i]) + "\n";

    std::string revocation_problem;
    std::string verify_detail;
    bool ending = false;
    if (!key) {
        result.status = CHARTER_E_NO_LICENSE;
        result.message = no_license_message(check, result.places);
    } else {
        Revocations revocations;
        if (!check.revocation_file.empty()) {
            revocations = load_revocation_file(check);
            diagnostic += revocations.diagnostic + "\n";
        }
        charter_license* license = nullptr;
        result.status = charter::internal::verify(*check.verifier, *key, now, revocations.list ? &*revocations.list : nullptr,
            &license, verify_detail);
        result.license.reset(license);
        if (license)
            diagnostic += describe_license(*license) + "\n";
        result.key = *key;
        auto outcome = explain(check, result, *key, verify_detail, now);
        result.message = std::move(outcome.message);
        if (outcome.in_grace)
            result.valid = true;
        ending = outcome.ending;
        revocation_problem = std::move(revocations.problem);
    }

    if (result.status == CHARTER_OK) {
        result.valid = true;
        result.warning = ending;
        if (!revocation_problem.empty()) {
            result.warning = true;
            result.message += "; " + revocation_problem + ", so revocations were not checked";
        }
    } else if (result.valid || warn_only) {
        result.valid = true;
        result.warning = true;
    }
    if (key)
        diagnostic += std::string("verification: ") + charter_status_string(result.status) + " (" + verify_detail + ")\n";
    diagnostic += std::string("outcome: ") + (!result.valid ? "refused" : result.warning ? "valid with a warning" : "valid");
    if (result.status != CHARTER_OK && result.valid)
        diagnostic += result.status == CHARTER_E_EXPIRED && !warn_only ? " (grace period)" : " (warn-only mode)";
    diagnostic += ": " + result.message + "\n";
    result.diagnostic = std::move(diagnostic);
}

}
