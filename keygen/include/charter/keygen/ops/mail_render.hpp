#pragma once
// Rendering an outbox message (db::MailMessage) into the mail a customer receives: the kind's
// template (built in, or the vendor's file in <data-dir>/templates/mail/), its placeholders
// filled from the database as it is when the message is sent (the license version the message
// names: a renewal's message carries that version's key), and the whole message composed as
// RFC 5322 text with safe headers. docs/mail.md lists the placeholders.

#include "charter/db/store.hpp"
#include "charter/result.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace charter::ops {

/// What rendering needs besides the database.
struct MailRenderSettings {
    std::string public_url;            // normalised (parse_public_url); required
    std::filesystem::path templates_dir; // <data-dir>/templates/mail: <kind>.txt, optional <kind>.html
};

struct RenderedMail {
    std::string subject;
    std::string text;                // the plain-text part (UTF-8, LF line ends)
    std::optional<std::string> html; // the HTML part, when the vendor gave a <kind>.html template
};

/// The placeholder values of `message` (customer_name, key, bundle_config, …).
Result<std::map<std::string, std::string>> mail_values(db::Store& store, db::MailMessage const& message,
    MailRenderSettings const& settings);

/// Renders `message` with its kind's template: ErrorKind::invalid_input naming the file and the
/// placeholder when a template uses one that does not exist or has no "Subject:" first line.
Result<RenderedMail> render_mail(db::Store& store, db::MailMessage const& message, MailRenderSettings const& settings);

/// Fills `{{name}}` placeholders of `text` from `values`, escaping them for HTML when `html`.
/// `source` names the template in errors.
Result<std::string> fill_template(std::string_view text, std::map<std::string, std::string> const& values, bool html,
    std::string_view source);

/// The headers of a message, before composing.
struct MailHeaders {
    std::string from;                    // an address
    std::optional<std::string> from_name; // the display name (the vendor)
    std::string to;                      // an address
    std::string to_name;                 // may be empty
    std::optional<std::string> reply_to; // an address
    std::string subject;
    std::string message_id; // "<…@…>"
    int64_t date { 0 };
};

/// An address as SMTP and headers take it: local@domain, printable ASCII, no spaces, quotes,
/// angle brackets, commas or control characters, one '@', at most 320 bytes. `what` names it.
Result<void> check_mail_address(std::string_view address, std::string_view what);

/// The whole message, CRLF line ends: headers (non-ASCII display names and subject as RFC 2047
/// encoded-words, folded under 78 columns), MIME-Version, the text (and HTML) parts in
/// quoted-printable, so no line is longer than 76 characters and a long key survives intact.
Result<std::string> compose_mail(MailHeaders const& headers, RenderedMail const& body);

/// The Message-ID of outbox message `id` sent from `from`: "<msg_…@from's domain>", the same on
/// every attempt, so a duplicate after a crash is recognisable.
std::string mail_message_id(std::string const& id, std::string const& from);

/// "Date:" text of `unix_seconds` (RFC 5322, UTC).
std::string rfc5322_date(int64_t unix_seconds);

}
