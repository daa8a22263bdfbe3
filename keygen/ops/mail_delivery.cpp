#include "charter/keygen/ops/mail_delivery.hpp"

#include "charter/keygen/ops/mail_queue.hpp"
#include "charter/keygen/ops/time_input.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

namespace charter::ops {

namespace {

void from_environment(std::optional<std::string>& field, char const* variable)
{
    if (field)
        return;
    char const* value = std::getenv(variable);
    if (value && *value)
        field = value;
}

void global_curl_init()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return text;
}

}

void mail_options_from_environment(MailOptions& options)
{
    from_environment(options.smtp_url, "CHARTER_SMTP_URL");
    from_environment(options.smtp_user, "CHARTER_SMTP_USER");
    from_environment(options.smtp_password, "CHARTER_SMTP_PASSWORD");
    from_environment(options.smtp_password_file, "CHARTER_SMTP_PASSWORD_FILE");
    from_environment(options.smtp_tls, "CHARTER_SMTP_TLS");
    from_environment(options.mail_from, "CHARTER_MAIL_FROM");
    from_environment(options.mail_reply_to, "CHARTER_MAIL_REPLY_TO");
    from_environment(options.mail_lease, "CHARTER_MAIL_LEASE");
}

Result<MailerSettings> mailer_settings(MailOptions const& options, std::optional<std::string> const& public_url,
    std::filesystem::path const& templates_dir)
{
    MailerSettings settings;
    if (!options.smtp_url)
        return make_error(ErrorKind::invalid_input, "no SMTP server to send with; set CHARTER_SMTP_URL (or --smtp-url), "
                                                    "like smtp://mail.acme.example:587 or smtps://mail.acme.example");
    auto url = *options.smtp_url;
    auto scheme = lower(url.substr(0, url.find("://")));
    if (url.find("://") == std::string::npos || (scheme != "smtp" && scheme != "smtps"))
        return make_error(ErrorKind::invalid_input, "CHARTER_SMTP_URL \"" + url + "\" must start with smtp:// or smtps://");
    if (url.find_first_of(" \r\n\t@") != std::string::npos)
        return make_error(ErrorKind::invalid_input, "CHARTER_SMTP_URL \"" + url
                + "\" must be smtp[s]://HOST[:PORT] without spaces or credentials; give the user with CHARTER_SMTP_USER");
    settings.smtp.url = url;
    auto tls = options.smtp_tls.value_or(options.smtp_user ? "required" : "optional");
    if (tls == "optional")
        settings.smtp.tls = SmtpTls::optional;
    else if (tls == "required")
        settings.smtp.tls = SmtpTls::required;
    else if (tls == "off")
        settings.smtp.tls = SmtpTls::off;
    else
        return make_error(ErrorKind::invalid_input, "CHARTER_SMTP_TLS \"" + tls + "\" is not one of optional, required, off");
    if (scheme == "smtps")
        settings.smtp.tls = SmtpTls::required;
    settings.smtp.user = options.smtp_user;
    settings.smtp.password = options.smtp_password;
    if (options.smtp_password_file) {
        std::ifstream in(*options.smtp_password_file, std::ios::binary);
        if (!in)
            return make_error(ErrorKind::invalid_input, "cannot read the SMTP password file " + *options.smtp_password_file
                    + " (CHARTER_SMTP_PASSWORD_FILE); check its path and permissions");
        std::ostringstream text;
        text << in.rdbuf();
        auto password = text.str();
        while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
            password.pop_back();
        settings.smtp.password = password;
    }
    if (settings.smtp.user.has_value() != settings.smtp.password.has_value())
        return make_error(ErrorKind::invalid_input, "CHARTER_SMTP_USER and a password (CHARTER_SMTP_PASSWORD or "
                                                    "CHARTER_SMTP_PASSWORD_FILE) go together");
    if (!options.mail_from)
        return make_error(ErrorKind::invalid_input, "no sender address; set CHARTER_MAIL_FROM (or --mail-from), like licenses@acme.example");
    if (auto checked = check_mail_address(*options.mail_from, "CHARTER_MAIL_FROM"); !checked)
        return checked.error();
    settings.from = *options.mail_from;
    if (options.mail_reply_to) {
        if (auto checked = check_mail_address(*options.mail_reply_to, "CHARTER_MAIL_REPLY_TO"); !checked)
            return checked.error();
        settings.reply_to = options.mail_reply_to;
    }
    if (options.mail_lease) {
        auto const& text = *options.mail_lease;
        bool digits = !text.empty() && text.size() <= 6 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits || std::stoll(text) < 1 || std::stoll(text) > 86400)
            return make_error(ErrorKind::invalid_input, "CHARTER_MAIL_LEASE \"" + text + "\" must be a whole number of seconds from 1 to 86400");
        settings.lease_seconds = std::stoll(text);
    }
    if (!public_url)
        return make_error(ErrorKind::invalid_input, "mail links are built from the server's public URL; set CHARTER_PUBLIC_URL "
                                                    "(or --public-url), like https://gems.acme.example");
    settings.render.public_url = *public_url;
    settings.render.templates_dir = templates_dir;
    return settings;
}

struct SmtpClient::Impl {
    SmtpSettings settings;
    CURL* curl { nullptr };
    std::string last_reply;
    std::string refusal;
    std::string const* data { nullptr };
    size_t offset { 0 };
    char error[CURL_ERROR_SIZE] {};

    static size_t read(char* buffer, size_t size, size_t count, void* user)
    {
        auto* impl = static_cast<Impl*>(user);
        size_t room = size * count;
        size_t left = impl->data->size() - impl->offset;
        size_t n = std::min(room, left);
        std::memcpy(buffer, impl->data->data() + impl->offset, n);
        impl->offset += n;
        return n;
    }

    // The server's replies arrive as CURLINFO_HEADER_IN: the last one is kept for the record.
    static int debug(CURL*, curl_infotype type, char* text, size_t size, void* user)
    {
        if (type == CURLINFO_HEADER_IN) {
            auto* impl = static_cast<Impl*>(user);
            std::string line(text, size);
            while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
                line.pop_back();
            impl->last_reply = line;
            // The first 4xx or 5xx of the transfer is the refusal (curl's QUIT is answered 221 after it).
            if (impl->refusal.empty() && line.size() >= 3 && (line[0] == '4' || line[0] == '5') && std::isdigit(static_cast<unsigned char>(line[1])))
                impl->refusal = line;
        }
        return 0;
    }
};

SmtpClient::SmtpClient(SmtpSettings settings)
    : m_impl(std::make_unique<Impl>())
{
    global_curl_init();
    m_impl->settings = std::move(settings);
    m_impl->curl = curl_easy_init();
}

SmtpClient::~SmtpClient()
{
    if (m_impl->curl)
        curl_easy_cleanup(m_impl->curl);
}

SmtpOutcome SmtpClient::send(std::string const& from, std::string const& to, std::string const& data)
{
    auto& impl = *m_impl;
    CURL* curl = impl.curl;
    if (!curl)
        return { SmtpOutcome::Status::temporary, "libcurl could not be initialised" };
    auto const& settings = impl.settings;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, settings.url.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, settings.timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, settings.timeout_seconds * 4);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, impl.error);
    impl.error[0] = 0;
    long use_ssl = settings.tls == SmtpTls::required ? long(CURLUSESSL_ALL)
        : settings.tls == SmtpTls::optional          ? long(CURLUSESSL_TRY)
                                                     : long(CURLUSESSL_NONE);
    curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl);
    if (settings.user) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, settings.user->c_str());
        curl_easy_setopt(curl, CURLOPT_PASSWORD, settings.password ? settings.password->c_str() : "");
    }
    std::string envelope_from = "<" + from + ">";
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, envelope_from.c_str());
    std::string envelope_to = "<" + to + ">";
    curl_slist* recipients = curl_slist_append(nullptr, envelope_to.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
    impl.data = &data;
    impl.offset = 0;
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &Impl::read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &impl);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, &Impl::debug);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &impl);
    impl.last_reply.clear();
    impl.refusal.clear();
    CURLcode code = curl_easy_perform(curl);
    curl_slist_free_all(recipients);
    impl.data = nullptr;
    long response = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
    if (code == CURLE_OK)
        return { SmtpOutcome::Status::accepted, impl.last_reply };
    std::string reply = !impl.refusal.empty() ? impl.refusal
        : impl.error[0]                                              ? std::string(impl.error)
                                                                     : std::string(curl_easy_strerror(code));
    // Only a 5xx reply to the sender, a recipient or the data is permanent. A refused login
    // (535) or missing STARTTLS is the vendor's settings: retried until they are fixed.
    bool permanent = response >= 500 && response < 600 && code != CURLE_LOGIN_DENIED && code != CURLE_USE_SSL_FAILED;
    return { permanent ? SmtpOutcome::Status::permanent : SmtpOutcome::Status::temporary, reply };
}

int64_t mail_retry_delay(int64_t attempts)
{
    int64_t delay = 2;
    for (int64_t i = 1; i < attempts && delay < 600; ++i)
        delay *= 2;
    return std::min<int64_t>(delay, 600);
}

Result<std::string> compose_outbox_message(db::Store& store, db::MailMessage const& message, MailerSettings const& settings,
    int64_t now)
{
    auto rendered = render_mail(store, message, settings.render);
    if (!rendered)
        return rendered.error();
    auto vendor = store.get_setting("issuer");
    if (!vendor)
        return vendor.error();
    MailHeaders headers;
    headers.from = settings.from;
    headers.from_name = *vendor;
    headers.to = message.recipient;
    headers.to_name = message.recipient_name;
    headers.reply_to = settings.reply_to;
    headers.subject = rendered->subject;
    headers.message_id = mail_message_id(message.id, settings.from);
    headers.date = now;
    return compose_mail(headers, *rendered);
}

MailSender::MailSender(db::Store& store, MailerSettings settings, std::string name)
    : m_store(store)
    , m_settings(std::move(settings))
    , m_name(std::move(name))
    , m_smtp(m_settings.smtp)
{
}

Result<DeliveryRound> MailSender::deliver_due(int64_t now, int64_t limit)
{
    DeliveryRound round;
    auto claimed = m_store.claim_mail(m_name, now, m_settings.lease_seconds, limit);
    if (!claimed)
        return claimed.error();
    round.claimed = int64_t(claimed->size());
    for (auto const& message : *claimed) {
        auto data = compose_outbox_message(m_store, message, m_settings, now);
        if (!data) {
            // A message that cannot be rendered (a template's mistake, an address the SMTP
            // server would refuse) fails at once, with why: `charter mail retry` after the fix.
            if (auto marked = m_store.mark_mail_failed(message.id, m_name, data.error().message); !marked)
                return marked.error();
            ++round.failed;
            continue;
        }
        auto outcome = m_smtp.send(m_settings.from, message.recipient, *data);
        Result<void> marked;
        switch (outcome.status) {
        case SmtpOutcome::Status::accepted:
            marked = m_store.mark_mail_sent(message.id, now);
            ++round.sent;
            break;
        case SmtpOutcome::Status::temporary:
            marked = m_store.mark_mail_retry(message.id, m_name, now + mail_retry_delay(message.attempts), outcome.reply);
            ++round.retried;
            break;
        case SmtpOutcome::Status::permanent:
            marked = m_store.mark_mail_failed(message.id, m_name, outcome.reply);
            ++round.failed;
            break;
        }
        if (!marked)
            return marked.error();
    }
    return round;
}

namespace {

// A license made by a Stripe subscription that will charge again by itself (active or trialing,
// neither cancelled nor set to cancel at the period's end) gets no reminder: its renewal is the
// next invoice. A one-time purchase, a failed payment (past_due, unpaid) or a subscription set to
// end are reminded. A read that fails reminds (a reminder too many beats a missed end).
bool renews_automatically(db::Store& store, db::License const& license)
{
    auto item = store.find_stripe_item_by_license(license.id);
    if (!item || !*item)
        return false;
    auto const& billed = **item;
    if (!billed.subscription_id || billed.canceled || billed.cancel_at_period_end || !billed.status)
        return false;
    return *billed.status == "active" || *billed.status == "trialing";
}

}

Result<int64_t> queue_due_reminders(db::Store& store, int64_t now)
{
    auto plans = store.list_plans();
    if (!plans)
        return plans.error();
    int64_t queued = 0;
    for (auto const& plan : *plans) {
        if (plan.reminders.empty())
            continue;
        std::vector<std::pair<int64_t, std::string>> offsets;
        for (auto const& text : plan.reminders) {
            auto period = parse_period(text, "plan " + plan.id + "'s reminder");
            if (!period)
                return period.error();
            auto seconds = fixed_seconds(*period, "plan " + plan.id + "'s reminder");
            if (!seconds)
                return seconds.error();
            offsets.emplace_back(*seconds, text);
        }
        std::sort(offsets.begin(), offsets.end());
        auto licenses = store.licenses_ending(plan.id, now, now + offsets.back().first);
        if (!licenses)
            return licenses.error();
        for (auto const& license : *licenses) {
            if (renews_automatically(store, license))
                continue;
            int64_t left = *license.expires_at - now;
            auto offset = std::find_if(offsets.begin(), offsets.end(), [&](auto const& each) { return each.first >= left; });
            auto done = store.transaction([&]() -> Result<void> {
                auto customer = store.find_customer(license.customer_id);
                if (!customer)
                    return customer.error();
                nlohmann::ordered_json details { { "remind_before", offset->second }, { "expires_at", *license.expires_at } };
                auto message = new_mail_message(MailKind::reminder, *customer, license.id, license.version, details.dump(), now);
                message.dedupe_key = "reminder:" + license.id + ":" + std::to_string(*license.expires_at) + ":" + offset->second;
                auto disabled = disabled_mail_kinds(store);
                if (!disabled)
                    return disabled.error();
                if (std::find(disabled->begin(), disabled->end(), MailKind::reminder) != disabled->end())
                    return {};
                auto inserted = store.queue_mail(message);
                if (!inserted)
                    return inserted.error();
                queued += *inserted ? 1 : 0;
                return {};
            });
            if (!done)
                return done.error();
        }
    }
    return queued;
}

}
