#include "charter/keygen/ops/mail_queue.hpp"

#include "charter/keygen/ids.hpp"
#include "charter/keygen/ops/customers.hpp"
#include "charter/keygen/ops/plain_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace charter::ops {

namespace {

constexpr MailKind every_kind[] = {
    MailKind::issued,
    MailKind::renewed,
    MailKind::updated,
    MailKind::suspended,
    MailKind::reinstated,
    MailKind::revoked,
    MailKind::reminder,
    MailKind::signin_link,
};

std::vector<std::string> split_commas(std::string const& text)
{
    std::vector<std::string> items;
    size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos)
            end = text.size();
        auto item = text.substr(start, end - start);
        if (!item.empty())
            items.push_back(item);
        start = end + 1;
    }
    return items;
}

}

std::vector<MailKind> all_mail_kinds()
{
    return { std::begin(every_kind), std::end(every_kind) };
}

char const* mail_kind_name(MailKind kind)
{
    switch (kind) {
    case MailKind::issued:
        return "issued";
    case MailKind::renewed:
        return "renewed";
    case MailKind::updated:
        return "updated";
    case MailKind::suspended:
        return "suspended";
    case MailKind::reinstated:
        return "reinstated";
    case MailKind::revoked:
        return "revoked";
    case MailKind::reminder:
        return "reminder";
    case MailKind::signin_link:
        return "signin_link";
    }
    return "issued";
}

Result<MailKind> parse_mail_kind(std::string_view text)
{
    std::string names;
    for (auto kind : every_kind) {
        if (text == mail_kind_name(kind))
            return kind;
        names += (names.empty() ? "" : ", ") + std::string(mail_kind_name(kind));
    }
    return make_error(ErrorKind::invalid_input, "mail kind \"" + printable(text) + "\" is not one of " + names);
}

Result<std::vector<MailKind>> disabled_mail_kinds(db::Store& store)
{
    auto setting = store.get_setting(mail_disabled_setting);
    if (!setting)
        return setting.error();
    std::vector<MailKind> kinds;
    if (!*setting)
        return kinds;
    for (auto const& name : split_commas(**setting)) {
        // A name this build does not know (written by a newer charter) is ignored.
        if (auto kind = parse_mail_kind(name))
            kinds.push_back(*kind);
    }
    return kinds;
}

Result<void> set_mail_kinds_enabled(db::Store& store, std::vector<MailKind> const& kinds, bool enabled, int64_t now,
    db::Actor const& actor)
{
    return store.transaction([&]() -> Result<void> {
        auto disabled = disabled_mail_kinds(store);
        if (!disabled)
            return disabled.error();
        for (auto kind : kinds) {
            auto found = std::find(disabled->begin(), disabled->end(), kind);
            if (enabled && found != disabled->end())
                disabled->erase(found);
            else if (!enabled && found == disabled->end())
                disabled->push_back(kind);
        }
        std::string value;
        for (auto kind : every_kind) {
            if (std::find(disabled->begin(), disabled->end(), kind) != disabled->end())
                value += (value.empty() ? "" : ",") + std::string(mail_kind_name(kind));
        }
        return store.set_setting(mail_disabled_setting, value, now, actor);
    });
}

namespace {

// "msg_" + 13 hex digits of the microseconds since 1970 (never repeating in this process) + 10
// random base62 characters: ids sort in the order messages were made, across processes too,
// which is the order `charter mail list` shows them in.
std::string new_message_id()
{
    static std::mutex mutex;
    static int64_t last = 0;
    int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    {
        std::lock_guard lock(mutex);
        micros = std::max(micros, last + 1);
        last = micros;
    }
    char hex[16];
    std::snprintf(hex, sizeof hex, "%013llx", static_cast<unsigned long long>(micros));
    return "msg_" + std::string(hex) + keygen::new_id("").substr(0, 10);
}

}

db::MailMessage new_mail_message(MailKind kind, db::Customer const& customer, std::optional<std::string> license_id,
    std::optional<int64_t> version, std::string details_json, int64_t now)
{
    db::MailMessage message;
    message.id = new_message_id();
    message.kind = mail_kind_name(kind);
    message.recipient = customer.email;
    message.recipient_name = customer.name;
    message.license_id = std::move(license_id);
    message.license_version = version;
    message.details_json = std::move(details_json);
    message.created_at = now;
    message.next_attempt_at = now;
    return message;
}

Result<void> queue_mail(db::Store& store, db::MailMessage const& message)
{
    auto kind = parse_mail_kind(message.kind);
    if (!kind)
        return kind.error();
    auto disabled = disabled_mail_kinds(store);
    if (!disabled)
        return disabled.error();
    if (std::find(disabled->begin(), disabled->end(), *kind) != disabled->end())
        return {};
    auto queued = store.queue_mail(message);
    if (!queued)
        return queued.error();
    return {};
}

Result<void> queue_license_mail(db::Store& store, MailKind kind, db::License const& license, std::string details_json,
    int64_t now)
{
    auto customer = store.find_customer(license.customer_id);
    if (!customer)
        return customer.error();
    return queue_mail(store, new_mail_message(kind, *customer, license.id, license.version, std::move(details_json), now));
}

Result<std::string> queue_signin_link(db::Store& store, std::string const& email, std::string const& name,
    std::string const& link, int64_t now)
{
    if (auto checked = check_customer(email, name); !checked)
        return checked.error();
    if (auto checked = check_one_line(link, "the sign-in link"); !checked)
        return checked.error();
    if (!link.starts_with("https://") && !link.starts_with("http://"))
        return make_error(ErrorKind::invalid_input, "the sign-in link must be an http:// or https:// URL (built from the public URL)");
    auto disabled = disabled_mail_kinds(store);
    if (!disabled)
        return disabled.error();
    if (std::find(disabled->begin(), disabled->end(), MailKind::signin_link) != disabled->end())
        return std::string();
    db::Customer recipient { {}, email, name, now };
    nlohmann::ordered_json details { { "link", link } };
    auto message = new_mail_message(MailKind::signin_link, recipient, std::nullopt, std::nullopt, details.dump(), now);
    auto queued = store.queue_mail(message);
    if (!queued)
        return queued.error();
    return message.id;
}

}
