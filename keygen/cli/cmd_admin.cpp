// charter audit, charter db backup|copy, charter token create|list|revoke

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/admin_tokens.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "context.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace charter::cli {

namespace {

struct AdminOptions {
    std::string since;
    std::string source;
    std::string path;
    std::string to;
    std::string scopes;
    std::string name;
    std::string id;
    std::optional<int64_t> limit;
    bool oldest_first { false };
    bool json { false };
};

int run_audit(Context& context, AdminOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    db::AuditFilter filter;
    // Newest first: what an operator looks for is what just happened, and --limit keeps that.
    filter.order = options.oldest_first ? db::AuditOrder::oldest_first : db::AuditOrder::newest_first;
    if (!options.source.empty()) {
        // Sources are the first word of an actor: "cli", "token:tok_…", "stripe:evt_…", and
        // "customer:cus_…" for what a customer did in the portal.
        if (options.source == "stripe" || options.source == "token")
            filter.actor_prefix = options.source + ":";
        else if (options.source == "cli")
            filter.actor_prefix = "cli";
        else if (options.source == "portal")
            filter.actor_prefix = "customer:";
        else
            return context.fail(make_error(ErrorKind::invalid_input, "--source \"" + options.source
                    + "\" is not one of cli, token, stripe, portal"));
    }
    if (!options.since.empty()) {
        auto since = parse_time_option(options.since, context.now(), "--since", ops::DurationFromNow::ago);
        if (!since)
            return context.fail(since.error());
        filter.since = *since;
    }
    // A page at a time: a 100,000-license batch leaves as many audit rows.
    constexpr int64_t page_size = 1000;
    std::optional<int64_t> remaining = options.limit;
    JsonArrayPrinter json;
    while (!remaining || *remaining > 0) {
        filter.limit = remaining ? std::min(*remaining, page_size) : page_size;
        auto entries = workspace->store().list_audit(filter);
        if (!entries)
            return context.fail(entries.error());
        for (auto const& entry : *entries) {
            if (options.json)
                json.add(ops::audit_json(entry));
            else
                std::cout << format::format_rfc3339(entry.at) << "  " << ops::printable(entry.actor) << "  " << entry.action << "  "
                          << ops::printable(entry.subject) << "  " << ops::printable(entry.details_json) << "\n";
        }
        if (remaining)
            *remaining -= int64_t(entries->size());
        if (entries->size() < size_t(*filter.limit))
            break;
        filter.after_id = entries->back().id;
    }
    if (options.json)
        json.finish();
    return exit_ok;
}

int run_backup(Context& context, AdminOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    if (auto done = workspace->store().backup(options.path); !done)
        return context.fail(done.error());
    std::cerr << "backed up " << workspace->dir().database().string() << " to " << options.path
              << " (signing keys are not in it: back up " << workspace->dir().keys().string() << " separately)\n";
    return exit_ok;
}

int run_copy(Context& context, AdminOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto& source = workspace->store();
    bool const to_postgres = options.to.rfind("postgres://", 0) == 0 || options.to.rfind("postgresql://", 0) == 0;
    std::error_code ignored;
    if (!to_postgres && !source.is_postgres() && std::filesystem::exists(options.to, ignored)
        && std::filesystem::equivalent(options.to, source.path(), ignored))
        return context.fail(make_error(ErrorKind::invalid_input, "--to " + options.to + " is the database being copied"));
    auto target = to_postgres ? db::Store::connect(options.to, db::OpenMode::create) : db::Store::open(options.to, db::OpenMode::create);
    if (!target)
        return context.fail(target.error());
    auto copied = source.copy_to(*target);
    if (!copied)
        return context.fail(copied.error());
    int64_t rows = 0;
    for (auto const& table : *copied) {
        std::cout << table.name << "\t" << table.rows << "\n";
        rows += table.rows;
    }
    std::cerr << "copied " << rows << " rows in " << copied->size() << " tables from " << source.name() << " to " << target->name()
              << "; row counts and the audit log checked (signing keys are not in it: they stay in "
              << workspace->dir().keys().string() << ")\n";
    return exit_ok;
}

int run_token_create(Context& context, AdminOptions const& options)
{
    auto scopes = ops::parse_scopes(options.scopes);
    if (!scopes)
        return context.fail(scopes.error());
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto created = ops::create_admin_token(workspace->store(), options.name, *scopes, context.now(), context.actor());
    if (!created)
        return context.fail(created.error());
    if (options.json) {
        auto json = ops::admin_token_json(created->record);
        json["token"] = created->secret;
        Context::print_json(json);
        return exit_ok;
    }
    std::cout << created->secret << "\n";
    std::cerr << "created " << created->record.id << "; this is the only time the token is shown\n";
    return exit_ok;
}

int run_token_list(Context& context, AdminOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    auto tokens = workspace->store().list_admin_tokens();
    if (!tokens)
        return context.fail(tokens.error());
    if (options.json) {
        ops::Json list = ops::Json::array();
        for (auto const& token : *tokens)
            list.push_back(ops::admin_token_json(token));
        Context::print_json(list);
        return exit_ok;
    }
    for (auto const& token : *tokens) {
        std::string scopes;
        for (auto const& scope : token.scopes)
            scopes += (scopes.empty() ? "" : ",") + scope;
        std::cout << token.id << "  " << (token.revoked_at ? "revoked" : "active ") << "  " << scopes << "  " << ops::printable(token.name)
                  << "\n";
    }
    return exit_ok;
}

int run_token_revoke(Context& context, AdminOptions const& options)
{
    auto workspace = context.open_workspace();
    if (!workspace)
        return context.fail(workspace.error());
    if (auto revoked = workspace->store().revoke_admin_token(options.id, context.now(), context.actor()); !revoked)
        return context.fail(revoked.error());
    std::cerr << "revoked " << options.id << "\n";
    return exit_ok;
}

}

void register_admin(CLI::App& app, Context& context)
{
    auto options = std::make_shared<AdminOptions>();
    auto* audit = app.add_subcommand("audit", "show the audit log");
    audit->add_option("--since", options->since, "entries at or after this time: RFC 3339, YYYY-MM-DD, or a duration ago (7d)");
    audit->add_option("--limit", options->limit, "at most this many entries: the newest (the oldest with --oldest-first)")
        ->check(CLI::PositiveNumber);
    audit->add_option("--source", options->source, "only the changes made by: cli, token (the admin API), stripe (its events) or portal (customers)");
    audit->add_flag("--oldest-first", options->oldest_first, "list in the order the changes were made (default: newest first)");
    audit->add_flag("--json", options->json, "print JSON");
    audit->footer("Examples:\n  charter audit --limit 20   # the 20 most recent changes, newest first\n"
                  "  charter audit --since 2026-11-01 --oldest-first --json\n  charter audit --since 24h   # the last day\n"
                  "  charter audit --source stripe   # the changes Stripe's events made (actor stripe:evt_…)");
    audit->callback([&context, options] { context.exit_code = run_audit(context, *options); });

    auto* database = app.add_subcommand("db", "database maintenance");
    database->require_subcommand(1);
    database->footer("Examples:\n  charter db backup /var/backups/charter-$(date +%F).db\n"
                     "  charter db copy --to postgres://charter@db.internal/charter");
    auto* backup = database->add_subcommand("backup", "copy the database consistently, safe while the server runs");
    backup->add_option("PATH", options->path, "destination file")->required();
    backup->footer("Example:\n  charter db backup /var/backups/charter-$(date +%F).db");
    backup->callback([&context, options] { context.exit_code = run_backup(context, *options); });
    auto* copy = database->add_subcommand("copy", "copy every row into another, empty database: PostgreSQL or an SQLite file");
    copy->add_option("--to", options->to, "postgres://USER@HOST:PORT/DATABASE, or FILE.db (a new SQLite database)")->required();
    copy->footer("Copies in one transaction on the target, then checks every table's row count and the audit log\n"
                 "before committing; a target that holds rows is refused. The source is the data directory's\n"
                 "charter.db, or --database / CHARTER_DATABASE_URL.\n"
                 "Examples:\n  charter db copy --to postgres://charter@db.internal/charter\n"
                 "  charter --database postgres://charter@db.internal/charter db copy --to /var/backups/charter.db");
    copy->callback([&context, options] { context.exit_code = run_copy(context, *options); });

    auto* token = app.add_subcommand("token", "admin API tokens for charter-server");
    token->require_subcommand(1);
    token->footer("Examples:\n  TOKEN=$(charter token create --scope issue,read --name \"stripe webhook\")\n"
                  "  charter token list\n  charter token revoke tok_…");
    auto* create = token->add_subcommand("create", "create a token; prints it once (only its hash is stored)");
    create->add_option("--scope", options->scopes, "comma-separated: issue, read, revoke, upload, admin")->required();
    create->add_option("--name", options->name, "what the token is for");
    create->add_flag("--json", options->json, "print JSON");
    create->footer("Example:\n  TOKEN=$(charter token create --scope issue,read --name \"stripe webhook\")");
    create->callback([&context, options] { context.exit_code = run_token_create(context, *options); });
    auto* list = token->add_subcommand("list", "list tokens (never their secrets)");
    list->add_flag("--json", options->json, "print JSON");
    list->footer("Example:\n  charter token list");
    list->callback([&context, options] { context.exit_code = run_token_list(context, *options); });
    auto* revoke = token->add_subcommand("revoke", "revoke a token");
    revoke->add_option("TOKEN_ID", options->id, "tok_…")->required();
    revoke->footer("Example:\n  charter token revoke tok_…");
    revoke->callback([&context, options] { context.exit_code = run_token_revoke(context, *options); });
}

}
