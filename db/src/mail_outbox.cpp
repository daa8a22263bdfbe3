// The mail outbox: messages queued in the transaction of the change they tell of, claimed by
// senders with a lease, marked sent, retried or failed.

#include "store_impl.hpp"

namespace charter::db {

namespace {

constexpr char const* sql_insert_mail
    = "INSERT INTO mail_outbox (id, kind, recipient, recipient_name, license_id, license_version, details_json,"
      " dedupe_key, status, created_at, next_attempt_at, attempts)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, 0) ON CONFLICT (dedupe_key) DO NOTHING";
constexpr char const* sql_delete_mail = "DELETE FROM mail_outbox WHERE id = ?1";

#define CHARTER_MAIL_COLUMNS                                                                                          \
    "SELECT id, kind, recipient, recipient_name, license_id, license_version, details_json, dedupe_key, status,"     \
    " created_at, next_attempt_at, attempts, claimed_until, claimed_by, last_error, sent_at FROM mail_outbox"

constexpr char const* sql_select_mail = CHARTER_MAIL_COLUMNS " WHERE id = ?1";
constexpr char const* sql_select_mails = CHARTER_MAIL_COLUMNS
    " WHERE (CAST(?1 AS TEXT) IS NULL OR status = ?1) AND (CAST(?2 AS TEXT) IS NULL OR license_id = ?2) ORDER BY created_at, id LIMIT ?3";
// The due, unclaimed pending messages, oldest due first (the partial index mail_outbox_pending).
constexpr char const* sql_select_due = "SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= ?1"
                                       " AND (claimed_until IS NULL OR claimed_until <= ?1) ORDER BY next_attempt_at, id LIMIT ?2";
constexpr char const* sql_claim_mail
    = "UPDATE mail_outbox SET claimed_until = ?2, claimed_by = ?3, attempts = attempts + 1 WHERE id = ?1 AND status = 'pending'";
constexpr char const* sql_mark_sent = "UPDATE mail_outbox SET status = 'sent', sent_at = ?2, claimed_until = NULL,"
                                      " last_error = NULL WHERE id = ?1 AND status = 'pending'";
constexpr char const* sql_mark_retry = "UPDATE mail_outbox SET next_attempt_at = ?3, last_error = ?4, claimed_until = NULL"
                                       " WHERE id = ?1 AND status = 'pending' AND claimed_by = ?2";
constexpr char const* sql_mark_failed = "UPDATE mail_outbox SET status = 'failed', last_error = ?3, claimed_until = NULL"
                                        " WHERE id = ?1 AND status = 'pending' AND claimed_by = ?2";
constexpr char const* sql_retry_mail = "UPDATE mail_outbox SET status = 'pending', next_attempt_at = ?2, claimed_until = NULL,"
                                       " claimed_by = NULL WHERE id = ?1 AND status = 'failed'";
constexpr char const* sql_mail_counts = "SELECT status, count(*), min(created_at) FROM mail_outbox GROUP BY status";

#undef CHARTER_MAIL_COLUMNS

MailMessage read_mail(Query const& row)
{
    return MailMessage {
        .id = row.text(0),
        .kind = row.text(1),
        .recipient = row.text(2),
        .recipient_name = row.text(3),
        .license_id = row.optional_text(4),
        .license_version = row.optional_integer(5),
        .details_json = row.text(6),
        .dedupe_key = row.optional_text(7),
        .status = row.text(8),
        .created_at = row.integer(9),
        .next_attempt_at = row.integer(10),
        .attempts = row.integer(11),
        .claimed_until = row.optional_integer(12),
        .claimed_by = row.optional_text(13),
        .last_error = row.optional_text(14),
        .sent_at = row.optional_integer(15),
    };
}

Result<void> check_mail(MailMessage const& message)
{
    if (message.id.empty() || message.kind.empty() || message.recipient.empty())
        return make_error(ErrorKind::invalid_input, "a mail message needs an id, a kind and a recipient");
    return {};
}

}

Result<bool> Store::Impl::insert_mail(MailMessage const& message)
{
    auto insert = query(sql_insert_mail);
    insert.bind(1, message.id).bind(2, message.kind).bind(3, message.recipient).bind(4, message.recipient_name);
    insert.bind(5, message.license_id).bind(6, message.license_version).bind(7, message.details_json);
    insert.bind(8, message.dedupe_key).bind(9, message.created_at).bind(10, message.next_attempt_at);
    int rc = insert.step();
    if (rc == code::done)
        return connection->changes() > 0;
    if (rc == code::primary_key_violation)
        return make_error(ErrorKind::conflict, "mail message " + message.id + " already exists");
    auto failure = error(rc);
    if (failure.kind == ErrorKind::io)
        return failure;
    return make_error(failure.kind, "could not queue the " + message.kind + " message to " + message.recipient + " ("
            + connection->last_message() + "); nothing was changed");
}

bool Store::Impl::delete_mail(MailMessage const& message)
{
    return query(sql_delete_mail).bind(1, message.id).step() == code::done;
}

Result<bool> Store::queue_mail(MailMessage const& message)
{
    if (auto checked = check_mail(message); !checked)
        return checked.error();
    bool queued = false;
    auto done = m_impl->atomically([&]() -> Result<void> {
        auto inserted = m_impl->insert_mail(message);
        if (!inserted)
            return inserted.error();
        queued = *inserted;
        return {};
    });
    if (!done)
        return done.error();
    return queued;
}

Result<MailMessage> Store::get_mail(std::string const& id)
{
    auto select = m_impl->query(sql_select_mail);
    select.bind(1, id);
    int rc = select.step();
    if (rc == code::row)
        return read_mail(select);
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no mail message " + id + " (see `charter mail list`)");
}

Result<std::vector<MailMessage>> Store::list_mail(MailFilter const& filter)
{
    auto select = m_impl->query(sql_select_mails);
    select.bind(1, filter.status).bind(2, filter.license_id).bind(3, filter.limit.value_or(-1));
    std::vector<MailMessage> messages;
    int rc;
    while ((rc = select.step()) == code::row)
        messages.push_back(read_mail(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return messages;
}

Result<std::vector<MailMessage>> Store::claim_mail(std::string const& sender, int64_t now, int64_t lease_seconds, int64_t limit)
{
    std::vector<MailMessage> claimed;
    auto done = m_impl->atomically([&]() -> Result<void> {
        std::vector<std::string> ids;
        {
            auto select = m_impl->query(sql_select_due);
            select.bind(1, now).bind(2, limit);
            int rc;
            while ((rc = select.step()) == code::row)
                ids.push_back(select.text(0));
            if (rc != code::done)
                return m_impl->error(rc);
        }
        for (auto const& id : ids) {
            auto claim = m_impl->query(sql_claim_mail);
            claim.bind(1, id).bind(2, now + lease_seconds).bind(3, sender);
            if (int rc = claim.step(); rc != code::done)
                return m_impl->error(rc);
        }
        for (auto const& id : ids) {
            auto message = get_mail(id);
            if (!message)
                return message.error();
            claimed.push_back(std::move(*message));
        }
        return {};
    });
    if (!done)
        return done.error();
    return claimed;
}

Result<void> Store::mark_mail_sent(std::string const& id, int64_t at)
{
    auto update = m_impl->query(sql_mark_sent);
    update.bind(1, id).bind(2, at);
    if (int rc = update.step(); rc != code::done)
        return m_impl->error(rc);
    return {};
}

Result<void> Store::mark_mail_retry(std::string const& id, std::string const& sender, int64_t next_attempt_at,
    std::string const& error)
{
    auto update = m_impl->query(sql_mark_retry);
    update.bind(1, id).bind(2, sender).bind(3, next_attempt_at).bind(4, error);
    if (int rc = update.step(); rc != code::done)
        return m_impl->error(rc);
    return {};
}

Result<void> Store::mark_mail_failed(std::string const& id, std::string const& sender, std::string const& error)
{
    auto update = m_impl->query(sql_mark_failed);
    update.bind(1, id).bind(2, sender).bind(3, error);
    if (int rc = update.step(); rc != code::done)
        return m_impl->error(rc);
    return {};
}

Result<void> Store::retry_mail(std::string const& id, int64_t at, Actor const& actor)
{
    return m_impl->atomically([&]() -> Result<void> {
        auto update = m_impl->query(sql_retry_mail);
        update.bind(1, id).bind(2, at);
        if (int rc = update.step(); rc != code::done)
            return m_impl->error(rc);
        if (m_impl->connection->changes() == 0) {
            auto existing = get_mail(id);
            if (!existing)
                return existing.error();
            return make_error(ErrorKind::conflict, "mail message " + id + " is " + existing->status
                    + ", not failed; only a failed message is retried (a pending one is retried by the sender)");
        }
        return m_impl->audit(actor, at, "mail.retry", id, "{}");
    });
}

Result<MailStats> Store::mail_stats()
{
    auto select = m_impl->query(sql_mail_counts);
    MailStats stats;
    int rc;
    while ((rc = select.step()) == code::row) {
        auto status = select.text(0);
        if (status == "pending") {
            stats.pending = select.integer(1);
            stats.oldest_pending_at = select.optional_integer(2);
        } else if (status == "sent") {
            stats.sent = select.integer(1);
        } else if (status == "failed") {
            stats.failed = select.integer(1);
        }
    }
    if (rc != code::done)
        return m_impl->error(rc);
    return stats;
}

}
