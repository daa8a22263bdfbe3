#pragma once
// Queuing mail: the outbox message each change tells the customer of, written in the change's
// own transaction by the one code path that makes the change (issuing, renewing, updating,
// suspending, reinstating, revoking; reminders; the portal's sign-in links). docs/mail.md.

#include "charter/db/store.hpp"
#include "charter/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charter::ops {

enum class MailKind {
    issued,
    renewed,
    updated,
    suspended,
    reinstated,
    revoked,
    reminder,
    signin_link,
};

/// Every kind, in the order above.
std::vector<MailKind> all_mail_kinds();
/// "issued", "renewed", …, "signin_link".
char const* mail_kind_name(MailKind kind);
/// ErrorKind::invalid_input naming the kinds when `text` is none of them.
Result<MailKind> parse_mail_kind(std::string_view text);

/// The setting (db settings table) holding the kinds turned off, comma-separated.
inline constexpr char const* mail_disabled_setting = "mail.disabled";
/// The kinds turned off (`charter mail disable KIND`), read from the database.
Result<std::vector<MailKind>> disabled_mail_kinds(db::Store& store);
/// Turns kinds on or off for every process that queues mail ("setting.set", audited).
Result<void> set_mail_kinds_enabled(db::Store& store, std::vector<MailKind> const& kinds, bool enabled, int64_t now,
    db::Actor const& actor);

/// A message of `kind` to `customer` about version `version` of license `license_id` (may be
/// empty for signin_link), due now, with a new id. `details_json` is a JSON object.
db::MailMessage new_mail_message(MailKind kind, db::Customer const& customer, std::optional<std::string> license_id,
    std::optional<int64_t> version, std::string details_json, int64_t now);

/// Queues `message` in the caller's transaction unless its kind is turned off. Any failure to
/// write it is returned: the caller's change must then fail too (no change without its message).
Result<void> queue_mail(db::Store& store, db::MailMessage const& message);

/// Queues the message telling the license's customer of a change (`kind`: renewed, updated,
/// suspended, reinstated, revoked) of the license's current version, in the caller's transaction.
Result<void> queue_license_mail(db::Store& store, MailKind kind, db::License const& license, std::string details_json,
    int64_t now);

/// Queues a customer portal sign-in link to `email` (and `name`, may be empty), in the caller's
/// transaction (the portal's, which stores the link's secret): call it inside
/// store.transaction() with the sign-in row. `link` is the whole URL the customer opens (an
/// http or https URL, one line). Returns the message's id ("msg_…"); when signin_link is turned
/// off, nothing is queued and the id is empty. ErrorKind::invalid_input for a bad address or link.
Result<std::string> queue_signin_link(db::Store& store, std::string const& email, std::string const& name,
    std::string const& link, int64_t now);

}
