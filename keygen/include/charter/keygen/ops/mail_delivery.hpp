#pragma once
// Delivering the outbox over SMTP (libcurl): the settings (CHARTER_SMTP_URL and the rest, the
// same for charter-server and `charter mail send`), one SMTP client, and the sender that claims
// due messages with a lease, renders, sends and records each outcome. Reminders are found here
// too. docs/mail.md.

#include "charter/db/store.hpp"
#include "charter/keygen/ops/mail_render.hpp"
#include "charter/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace charter::ops {

enum class SmtpTls {
    optional, // STARTTLS when the server offers it (CURLUSESSL_TRY)
    required, // STARTTLS or fail (CURLUSESSL_ALL); implied by smtps://
    off,      // never (a local relay)
};

/// The mail settings as given (options over environment variables); absent: not set.
struct MailOptions {
    std::optional<std::string> smtp_url;           // --smtp-url, CHARTER_SMTP_URL
    std::optional<std::string> smtp_user;          // --smtp-user, CHARTER_SMTP_USER
    std::optional<std::string> smtp_password;      // CHARTER_SMTP_PASSWORD (environment only)
    std::optional<std::string> smtp_password_file; // --smtp-password-file, CHARTER_SMTP_PASSWORD_FILE
    std::optional<std::string> smtp_tls;           // --smtp-tls, CHARTER_SMTP_TLS: optional|required|off
    std::optional<std::string> mail_from;          // --mail-from, CHARTER_MAIL_FROM
    std::optional<std::string> mail_reply_to;      // --mail-reply-to, CHARTER_MAIL_REPLY_TO
    std::optional<std::string> mail_lease;         // --mail-lease, CHARTER_MAIL_LEASE: seconds (default 60)
};

/// Fills the unset fields of `options` from the environment (CHARTER_SMTP_URL, …).
void mail_options_from_environment(MailOptions& options);

struct SmtpSettings {
    std::string url; // smtp://host[:port] or smtps://host[:port]
    std::optional<std::string> user;
    std::optional<std::string> password;
    SmtpTls tls { SmtpTls::optional };
    long timeout_seconds { 30 }; // connecting, and each reply
};

struct MailerSettings {
    SmtpSettings smtp;
    std::string from;                    // the envelope and From: address
    std::optional<std::string> reply_to;
    MailRenderSettings render;
    /// How long a sender holds the messages it claimed (20 at a time) before another sender may
    /// take them: after a crash, they are sent again this long later at the latest.
    int64_t lease_seconds { 60 };
};

/// The settings to send with, checked: ErrorKind::invalid_input naming the setting (a URL that
/// is not smtp:// or smtps://, a From that is not an address, a password file that cannot be
/// read, a user without a password, …). `public_url` is the server's (required to send: the
/// messages' links are built from it); `templates_dir` is <data-dir>/templates/mail.
Result<MailerSettings> mailer_settings(MailOptions const& options, std::optional<std::string> const& public_url,
    std::filesystem::path const& templates_dir);

/// What the SMTP server made of one message.
struct SmtpOutcome {
    enum class Status {
        accepted,  // its final 250 after the data
        temporary, // 4xx, no connection, a timeout, TLS or login trouble: try again later
        permanent, // 5xx to the sender, the recipient or the data
    };
    Status status { Status::temporary };
    std::string reply; // the server's last reply line, or the connection's error
};

/// One SMTP connection, reused from message to message while the server keeps it open.
/// Not thread-safe: one per sender thread.
class SmtpClient {
public:
    explicit SmtpClient(SmtpSettings settings);
    ~SmtpClient();
    SmtpClient(SmtpClient const&) = delete;
    SmtpClient& operator=(SmtpClient const&) = delete;

    SmtpOutcome send(std::string const& from, std::string const& to, std::string const& data);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// The pause before attempt `attempts` + 1 after a temporary failure: 2 s, 4 s, 8 s, … capped at 600 s.
int64_t mail_retry_delay(int64_t attempts);

/// What one round of delivery did.
struct DeliveryRound {
    int64_t claimed { 0 };
    int64_t sent { 0 };
    int64_t retried { 0 }; // temporary failures, due again later
    int64_t failed { 0 };  // permanent failures (the SMTP server's 5xx, or a message that cannot be rendered)
};

/// Claims due messages (with a lease, so another sender never takes them meanwhile), renders,
/// sends and records each: sent only after the server's final 250; 4xx and connection
/// trouble due again after mail_retry_delay; 5xx failed with the reply recorded.
class MailSender {
public:
    /// `name` identifies this sender in the leases ("server:HOST:PID", "cli:PID").
    MailSender(db::Store& store, MailerSettings settings, std::string name);

    /// One round: up to `limit` due messages, claimed for the settings' lease_seconds.
    Result<DeliveryRound> deliver_due(int64_t now, int64_t limit = 20);

    MailerSettings const& settings() const { return m_settings; }

private:
    db::Store& m_store;
    MailerSettings m_settings;
    std::string m_name;
    SmtpClient m_smtp;
};

/// The message `message` as it would be sent (rendered and composed), for `charter mail preview`
/// and the sender.
Result<std::string> compose_outbox_message(db::Store& store, db::MailMessage const& message, MailerSettings const& settings,
    int64_t now);

/// Queues the reminders due at `now`: for every plan with reminders, each license of it neither
/// revoked nor suspended whose end is within its largest reminder gets one message for the
/// smallest reminder period not shorter than the time left, once (per license, end and
/// period), unless its subscription renews automatically. Returns how many were queued.
Result<int64_t> queue_due_reminders(db::Store& store, int64_t now);

}
