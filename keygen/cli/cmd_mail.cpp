// charter mail list|show|retry|preview|send|disable|enable

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/mail_delivery.hpp"
#include "charter/keygen/ops/mail_queue.hpp"
#include "charter/keygen/ops/mail_render.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "context.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <unistd.h>

namespace charter::cli {

namespace {

struct MailCommandOptions {
    bool pending { false };
    bool failed { false };
    bool sent { false };
    bool json { false };
    std::optional<std::string> license;
    std::optional<int64_t> limit;
    std::string id;
    std::string kind;
    std::vector<std::string> kinds;
    ops::MailOptions mail;
};

ops::Json time_json(std::optional<int64_t> const& time)
{
    return time ? ops::Json(format::format_rfc3339(*time)) : ops::Json(nullptr);
}

ops::Json mail_json(db::MailMessage const& message)
{
    return ops::Json {
        { "id", message.id },
        { "kind", message.kind },
        { "status", message.status },
        { "recipient", message.recipient },
        { "recipient_name", message.recipient_name },
        { "license", message.license_id ? ops::Json(*message.license_id) : ops::Json(nullptr) },
        { "license_version", message.license_version ? ops::Json(*message.license_version) : ops::Json(nullptr) },
        { "details", ops::Json::parse(message.details_json, nullptr, false) },
        { "created_at", format::format_rfc3339(message.created_at) },
        { "next_attempt_at", format::format_rfc3339(message.next_attempt_at) },
        { "attempts", message.attempts },
        { "last_error", message.last_error ? ops::Json(*message.last_error) : ops::Json(nullptr) },
        { "sent_at", time_json(message.sent_at) },
    };
}

std::string describe(db::MailMessage const& message)
{
    std::string text = message.id + "\t" + message.status + "\t" + message.kind + "\t" + ops::printable(message.recipient) + "\t"
        + message.license_id.value_or("-") + "\t" + format::format_rfc3339(message.created_at);
    if (message.attempts)
        text += "\t" + std::to_string(message.attempts) + (message.attempts == 1 ? " attempt" : " attempts");
    if (message.last_error)
        text += "\t" + ops::printable(*message.last_error);
    return text;
}

int run_list(Context& context, MailCommandOptions const& options)
{
    if (int(options.pending) + int(options.failed) + int(options.sent) > 1) {
        std::cerr << "charter: give one of --pending, --failed, --sent\n";
        return exit_usage;
    }
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    db::MailFilter filter;
    if (options.pending)
        filter.status = "pending";
    if (options.failed)
        filter.status = "failed";
    if (options.sent)
        filter.status = "sent";
    filter.license_id = options.license;
    filter.limit = options.limit;
    auto messages = workspace->store().list_mail(filter);
    if (!messages)
        return context.fail(messages.error());
    if (options.json) {
        JsonArrayPrinter printer;
        for (auto const& message : *messages)
            printer.add(mail_json(message));
        printer.finish();
        return exit_ok;
    }
    for (auto const& message : *messages)
        std::cout << describe(message) << "\n";
    return exit_ok;
}

int run_show(Context& context, MailCommandOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto message = workspace->store().get_mail(options.id);
    if (!message)
        return context.fail(message.error());
    if (options.json) {
        Context::print_json(mail_json(*message));
        return exit_ok;
    }
    std::cout << "id: " << message->id << "\nkind: " << message->kind << "\nstatus: " << message->status
              << "\nrecipient: " << ops::printable(message->recipient) << "\nlicense: " << message->license_id.value_or("-")
              << (message->license_version ? " (version " + std::to_string(*message->license_version) + ")" : std::string())
              << "\nqueued: " << format::format_rfc3339(message->created_at) << "\nattempts: " << message->attempts
              << "\nnext attempt: " << format::format_rfc3339(message->next_attempt_at) << "\n";
    if (message->sent_at)
        std::cout << "sent: " << format::format_rfc3339(*message->sent_at) << "\n";
    if (message->last_error)
        std::cout << "last error: " << ops::printable(*message->last_error) << "\n";
    return exit_ok;
}

int run_retry(Context& context, MailCommandOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    if (auto retried = workspace->store().retry_mail(options.id, context.now(), context.actor()); !retried)
        return context.fail(retried.error());
    std::cerr << options.id << " is pending again; the server's sender (or `charter mail send`) delivers it\n";
    return exit_ok;
}

Result<ops::MailerSettings> settings_of(Context& context, ops::Workspace& workspace, ops::MailOptions options)
{
    ops::mail_options_from_environment(options);
    auto url = context.public_url();
    if (!url)
        return url.error();
    return ops::mailer_settings(options, *url, workspace.dir().mail_templates());
}

int run_preview(Context& context, MailCommandOptions const& options)
{
    auto kind = ops::parse_mail_kind(options.kind);
    if (!kind)
        return context.fail(kind.error());
    if (*kind == ops::MailKind::signin_link) {
        std::cerr << "charter: a sign-in link is previewed from the portal, which makes the link; give a license's kind\n";
        return exit_invalid_input;
    }
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto url = context.public_url();
    if (!url)
        return context.fail(url.error());
    if (!*url)
        return context.fail(make_error(ErrorKind::invalid_input,
            "mail links are built from the server's public URL; give --public-url or set CHARTER_PUBLIC_URL"));
    auto& store = workspace->store();
    auto license = store.get_license(options.id);
    if (!license)
        return context.fail(license.error());
    auto customer = store.find_customer(license->customer_id);
    if (!customer)
        return context.fail(customer.error());
    ops::Json details = ops::Json::object();
    if (*kind == ops::MailKind::suspended)
        details["reason"] = license->suspend_reason.value_or("");
    if (*kind == ops::MailKind::revoked)
        details["reason"] = license->revoke_reason ? ops::Json(*license->revoke_reason) : ops::Json(nullptr);
    auto message = ops::new_mail_message(*kind, *customer, license->id, license->version, details.dump(), context.now());
    ops::MailRenderSettings render { **url, workspace->dir().mail_templates() };
    auto rendered = ops::render_mail(store, message, render);
    if (!rendered)
        return context.fail(rendered.error());
    std::cout << "To: " << ops::printable(message.recipient) << "\nSubject: " << rendered->subject << "\n\n" << rendered->text;
    if (rendered->html)
        std::cout << "\n--- HTML part ---\n" << *rendered->html << "\n";
    return exit_ok;
}

int run_send(Context& context, MailCommandOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto settings = settings_of(context, *workspace, options.mail);
    if (!settings)
        return context.fail(settings.error());
    auto& store = workspace->store();
    int64_t now = context.now();
    auto reminders = ops::queue_due_reminders(store, now);
    if (!reminders)
        return context.fail(reminders.error());
    char host[256] {};
    gethostname(host, sizeof host - 1);
    ops::MailSender sender(store, *settings, "cli:" + std::string(host) + ":" + std::to_string(getpid()));
    ops::DeliveryRound total;
    for (;;) {
        auto round = sender.deliver_due(now);
        if (!round)
            return context.fail(round.error());
        total.claimed += round->claimed;
        total.sent += round->sent;
        total.retried += round->retried;
        total.failed += round->failed;
        if (round->claimed == 0)
            break;
    }
    auto pending = store.list_mail({ .status = "pending" });
    if (!pending)
        return context.fail(pending.error());
    std::cerr << "sent " << total.sent << ", failed " << total.failed << ", to retry " << total.retried << "; "
              << pending->size() << " pending";
    if (*reminders)
        std::cerr << " (" << *reminders << " reminders queued)";
    std::cerr << "\n";
    if (total.failed || !pending->empty()) {
        std::cerr << "charter: not every message was delivered; see `charter mail list --failed` and `--pending`\n";
        return exit_undelivered;
    }
    return exit_ok;
}

int run_switch(Context& context, MailCommandOptions const& options, bool enabled)
{
    std::vector<ops::MailKind> kinds;
    for (auto const& name : options.kinds) {
        if (name == "all") {
            kinds = ops::all_mail_kinds();
            continue;
        }
        auto kind = ops::parse_mail_kind(name);
        if (!kind)
            return context.fail(kind.error());
        kinds.push_back(*kind);
    }
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto& store = workspace->store();
    if (auto set = ops::set_mail_kinds_enabled(store, kinds, enabled, context.now(), context.actor()); !set)
        return context.fail(set.error());
    auto disabled = ops::disabled_mail_kinds(store);
    if (!disabled)
        return context.fail(disabled.error());
    std::string off;
    for (auto kind : *disabled)
        off += (off.empty() ? "" : ", ") + std::string(ops::mail_kind_name(kind));
    std::cerr << "mail turned off: " << (off.empty() ? std::string("none") : off) << "\n";
    return exit_ok;
}

void add_smtp_options(CLI::App* command, ops::MailOptions& mail)
{
    command->add_option("--smtp-url", mail.smtp_url, "smtp://HOST:PORT or smtps://HOST:PORT (default: $CHARTER_SMTP_URL)");
    command->add_option("--smtp-user", mail.smtp_user, "SMTP user (default: $CHARTER_SMTP_USER; password in $CHARTER_SMTP_PASSWORD)");
    command->add_option("--smtp-password-file", mail.smtp_password_file, "a file holding the SMTP password ($CHARTER_SMTP_PASSWORD_FILE)");
    command->add_option("--smtp-tls", mail.smtp_tls, "STARTTLS: optional, required or off ($CHARTER_SMTP_TLS)");
    command->add_option("--mail-from", mail.mail_from, "the sender address ($CHARTER_MAIL_FROM)");
    command->add_option("--mail-reply-to", mail.mail_reply_to, "the Reply-To address ($CHARTER_MAIL_REPLY_TO)");
    command->add_option("--mail-lease", mail.mail_lease, "seconds a claimed message is held from other senders ($CHARTER_MAIL_LEASE, 60)");
}

}

void register_mail(CLI::App& app, Context& context)
{
    auto options = std::make_shared<MailCommandOptions>();
    auto* mail = app.add_subcommand("mail", "the mail outbox: messages to customers about their licenses");
    mail->require_subcommand(1);
    mail->footer("Examples:\n"
                 "  charter mail list --pending\n"
                 "  charter mail preview issued lic_…\n"
                 "  CHARTER_SMTP_URL=smtp://127.0.0.1:25 CHARTER_MAIL_FROM=licenses@acme.example charter mail send");

    auto* list = mail->add_subcommand("list", "list messages, oldest first");
    list->add_flag("--pending", options->pending, "only messages not yet delivered");
    list->add_flag("--failed", options->failed, "only messages the SMTP server refused for good");
    list->add_flag("--sent", options->sent, "only delivered messages");
    list->add_option("--license", options->license, "only messages about this license");
    list->add_option("--limit", options->limit, "at most this many");
    list->add_flag("--json", options->json, "print JSON");
    list->callback([&context, options] { context.exit_code = run_list(context, *options); });

    auto* show = mail->add_subcommand("show", "show one message and its delivery");
    show->add_option("ID", options->id, "msg_…")->required();
    show->add_flag("--json", options->json, "print JSON");
    show->callback([&context, options] { context.exit_code = run_show(context, *options); });

    auto* retry = mail->add_subcommand("retry", "make a failed message pending again");
    retry->add_option("ID", options->id, "msg_…")->required();
    retry->callback([&context, options] { context.exit_code = run_retry(context, *options); });

    auto* preview = mail->add_subcommand("preview", "print the message of KIND about license LIC, without sending it");
    preview->add_option("KIND", options->kind, "issued, renewed, updated, suspended, reinstated, revoked, reminder")->required();
    preview->add_option("LIC", options->id, "lic_…")->required();
    preview->callback([&context, options] { context.exit_code = run_preview(context, *options); });

    auto* send = mail->add_subcommand("send",
        "queue due reminders and deliver the pending messages once; exit 0 only when all were delivered (9 otherwise)");
    add_smtp_options(send, options->mail);
    send->callback([&context, options] { context.exit_code = run_send(context, *options); });

    auto* disable = mail->add_subcommand("disable", "stop queuing messages of these kinds (or all)");
    disable->add_option("KIND", options->kinds, "issued, renewed, updated, suspended, reinstated, revoked, reminder, signin_link, all")
        ->required();
    disable->callback([&context, options] { context.exit_code = run_switch(context, *options, false); });
    auto* enable = mail->add_subcommand("enable", "queue messages of these kinds again (or all)");
    enable->add_option("KIND", options->kinds, "a kind, or all")->required();
    enable->callback([&context, options] { context.exit_code = run_switch(context, *options, true); });
}

}
