#pragma once
// The store: the only place in Charter where SQL lives. One interface, two databases: an SQLite
// file (the default, in the data directory) or a PostgreSQL database (a postgres:// URL), with
// the same schema, migrations, transactions and error kinds (docs/architecture.md).
//
// Thread-safety: a Store is one connection and is not thread-safe. Use one Store per thread
// (the server opens one per worker); several Stores, in one process or several, may use the
// same database at once (SQLite: WAL mode, a 5 s busy timeout; PostgreSQL: writers take turns
// on one lock, as SQLite's single writer does).
//
// Every mutating method writes its audit row in the same transaction as the change; if the
// audit row cannot be written, the change is rolled back and the error returned. Called
// inside transaction(), a failed mutator leaves the outer transaction as it was before the
// call (a savepoint; insert_license, the batch hot path, deletes its row again instead).

#include "charter/db/records.hpp"
#include "charter/result.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charter::db {

class ChangeFeed;

enum class OpenMode {
    create,   // create the file (and run every migration) when it does not exist
    existing, // a missing file is ErrorKind::not_found ("run `charter init` first")
};

/// What a committed transaction survives.
enum class Durability {
    /// The default: committed means on disk (SQLite: fsync'ed at COMMIT; PostgreSQL:
    /// synchronous_commit on); a power loss keeps it.
    power_loss,
    /// Survives a crash of the process that committed it, not a power loss or a crash of the
    /// operating system (SQLite WAL: written to the -wal file without an fsync, which the next
    /// durable commit or checkpoint flushes; PostgreSQL: synchronous_commit off, which a crash
    /// of PostgreSQL itself may lose the last fraction of a second of). For writes whose loss
    /// only undoes a step that the caller can repeat.
    process_crash,
};

/// What add_release does when the product already has a release with that version and filename.
enum class OnDuplicateRelease {
    refuse,  // ErrorKind::conflict
    replace, // overwrite size, sha256 and released_at (and un-yank); the id stays
};

/// The schema version this build of Charter writes. Older databases are upgraded in place
/// when opened; newer ones are refused with ErrorKind::version.
int latest_schema_version();

struct CopiedTable {
    std::string name;
    int64_t rows { 0 };
};

class Store {
public:
    /// Opens (or creates) the SQLite database and brings its schema up to latest_schema_version().
    static Result<Store> open(std::filesystem::path const& db_path, OpenMode mode);
    /// Connects to the PostgreSQL database at `url` (postgres:// or postgresql://; the password
    /// from the URL, PGPASSFILE or PGPASSWORD) and brings its schema up to date. The database
    /// must exist; OpenMode::existing refuses one without Charter's schema (not_found), create
    /// makes the schema in an empty one. A database with other tables is refused.
    static Result<Store> connect(std::string const& url, OpenMode mode);

    Store(Store&&) noexcept;
    Store& operator=(Store&&) noexcept;
    Store(Store const&) = delete;
    Store& operator=(Store const&) = delete;
    ~Store();

    /// PostgreSQL: reads outside a writing transaction are answered from memory while `feed`
    /// hears of no change to the database (change_feed.hpp); SQLite: nothing changes.
    void use_change_feed(std::shared_ptr<ChangeFeed> feed);

    /// The SQLite file; empty for PostgreSQL.
    std::filesystem::path const& path() const;
    /// The database for messages: the file, or the URL without its password.
    std::string const& name() const;
    bool is_postgres() const;
    Result<int> schema_version();

    /// Runs `body` in one transaction whose writes serialize with every other writer's
    /// (SQLite: BEGIN IMMEDIATE; PostgreSQL: the writers' lock): committed when it returns ok,
    /// rolled back otherwise. Nested calls use savepoints, so an inner failure undoes only
    /// the inner work (if the outer body then returns ok, the rest is committed).
    /// At the top level, a transaction that failed in a way running it again cures (a
    /// serialization failure, a deadlock, a connection lost before COMMIT; PostgreSQL only) is
    /// rolled back and `body` run again, up to 4 times in all: a body must be re-runnable,
    /// i.e. have no effect outside the database that a second run would repeat.
    Result<void> transaction(std::function<Result<void>()> const& body);
    /// The same, committed with `durability`; inside another transaction, the outer one's
    /// durability applies.
    Result<void> transaction(std::function<Result<void>()> const& body, Durability durability);
    /// transaction() for a batch of pieces of work (the server's group commit). On PostgreSQL
    /// its inserts of one row are not each a round trip: they go with the batch's next read or
    /// its COMMIT, and a failure among them surfaces there; the batch is then rolled back and
    /// `body` run again one statement at a time, where each failure is the statement's own. So
    /// `body` must be re-runnable and must not act on a piece's outcome before it returns.
    /// SQLite: transaction(). Committed with `durability`, as transaction() is.
    Result<void> batch_transaction(std::function<Result<void>()> const& body, Durability durability);
    /// Runs `body`, which only reads, in one read transaction (BEGIN DEFERRED): its reads see
    /// one snapshot of the database and start one transaction between them instead of one
    /// each (in WAL mode every start takes and releases locks). Inside transaction(), `body`
    /// simply runs in it.
    Result<void> read_snapshot(std::function<Result<void>()> const& body);

    // Signing keys (audit actions "key.add", "key.rotate", "key.retire").
    /// Adds a key; when `key.current`, it replaces the current key.
    Result<void> add_signing_key(SigningKeyRecord const& key, Actor const& actor);
    /// Makes `kid` the key new licenses are signed with; the previous one stays trusted.
    Result<void> set_current_key(std::string const& kid, int64_t at, Actor const& actor);
    /// A retired key is neither current nor trusted. The current key cannot be retired.
    Result<void> retire_key(std::string const& kid, int64_t at, Actor const& actor);
    Result<std::vector<SigningKeyRecord>> list_signing_keys(); // in created_at order
    Result<SigningKeyRecord> find_signing_key(std::string const& kid);
    Result<SigningKeyRecord> current_signing_key(); // not_found when there is none

    // Products ("product.add").
    Result<void> add_product(Product const& product, Actor const& actor);
    Result<Product> get_product(std::string const& id);
    Result<std::vector<Product>> list_products(); // by id

    // Customers ("customer.add").
    Result<void> add_customer(Customer const& customer, Actor const& actor);
    /// By id ("cus_…") or by email (case-insensitive).
    Result<Customer> find_customer(std::string const& id_or_email);
    Result<std::vector<Customer>> list_customers(); // in created_at, id order
    /// The customer linked to a Stripe customer id; absent when none is.
    Result<std::optional<Customer>> find_customer_by_stripe_id(std::string const& stripe_customer_id);
    /// Changes a customer's email, name and Stripe link ("customer.update"); a used email or
    /// Stripe id: ErrorKind::conflict.
    Result<void> update_customer(Customer const& customer, int64_t at, Actor const& actor);

    // Licenses ("license.issue", "license.revoke").
    /// Unknown product, customer or kid: ErrorKind::not_found; a used id or idempotency key:
    /// ErrorKind::conflict.
    Result<void> insert_license(License const& license, Actor const& actor);
    Result<void> revoke_license(std::string const& id, std::optional<std::string> const& reason, int64_t at,
        Actor const& actor);
    Result<License> get_license(std::string const& id);
    /// The status alone ("active" or "revoked"): what the download paths check on every request.
    Result<std::string> license_status(std::string const& id);
    /// In the order the licenses were inserted (issue order), so after_id pages through a
    /// stable sequence.
    Result<std::vector<License>> list_licenses(LicenseFilter const& filter);
    /// Counts what list_licenses would return, ignoring after_id and limit.
    Result<int64_t> count_licenses(LicenseFilter const& filter);
    /// The licenses of plan `plan_id`, neither revoked nor suspended, whose end is after `after`
    /// and not after `until` (mail reminders), by id.
    Result<std::vector<License>> licenses_ending(std::string const& plan_id, int64_t after, int64_t until);
    /// The ids of the product's revoked licenses, sorted (the revocation list's content).
    Result<std::vector<std::string>> revoked_license_ids(std::string const& product_id);

    // Changing a license ("license.renew", "license.update", "license.suspend", "license.reinstate").
    /// Makes `next` (its token, claims_json, kid, issued_at, expires_at, updates_until, plan_id)
    /// the license's current version and keeps the one it replaces in its versions, with the
    /// audit row of `change`. `next.version` must be the current version + 1: a change computed
    /// from a version another writer has replaced meanwhile is ErrorKind::conflict (read, compute
    /// and call this inside one transaction() to never see it). A revoked license:
    /// ErrorKind::conflict, saying since when.
    Result<void> add_license_version(License const& next, LicenseChange const& change, Actor const& actor);
    /// Every version of the license, the current one last (version order).
    Result<std::vector<LicenseVersion>> list_license_versions(std::string const& id);
    /// Refused (ErrorKind::conflict, saying why) when revoked or already suspended.
    Result<void> suspend_license(std::string const& id, std::string const& reason, int64_t at, Actor const& actor);
    /// Refused (ErrorKind::conflict) when revoked or not suspended.
    Result<void> reinstate_license(std::string const& id, int64_t at, Actor const& actor);

    // Plans ("plan.add", "plan.update").
    /// Unknown product: ErrorKind::not_found; a used name: ErrorKind::conflict.
    Result<void> add_plan(Plan const& plan, Actor const& actor);
    /// Replaces every term of an existing plan (not its product, not created_at); licenses
    /// issued from it keep their terms until renewed.
    Result<void> update_plan(Plan const& plan, Actor const& actor);
    Result<Plan> get_plan(std::string const& id);
    Result<std::vector<Plan>> list_plans(); // by id
    /// The plan a Stripe price is attached to; absent when none is.
    Result<std::optional<Plan>> find_plan_by_stripe_price(std::string const& price_id);

    // Stripe billing (docs/billing.md; not audited: the license changes they cause are).
    /// Records an event; an id recorded already: ErrorKind::conflict (a redelivery).
    Result<void> insert_stripe_event(StripeEvent const& event);
    /// Sets a recorded event's outcome and reason (a replay).
    Result<void> set_stripe_event_outcome(std::string const& id, std::string const& outcome, std::string const& reason,
        int64_t at);
    Result<StripeEvent> get_stripe_event(std::string const& id);
    Result<std::vector<StripeEvent>> list_stripe_events(StripeEventFilter const& filter); // newest first
    Result<std::optional<StripeCustomer>> get_stripe_customer(std::string const& id);
    Result<void> put_stripe_customer(StripeCustomer const& customer); // insert or replace
    Result<std::optional<StripeItem>> get_stripe_item(std::string const& id);
    Result<void> put_stripe_item(StripeItem const& item); // insert or replace
    /// The items of a Stripe customer, by id.
    Result<std::vector<StripeItem>> list_stripe_items_of_customer(std::string const& stripe_customer_id);
    /// The item whose license is `license_id`; absent when billing made no such license.
    Result<std::optional<StripeItem>> find_stripe_item_by_license(std::string const& license_id);
    /// Links: an invoice bills an item; a payment (charge, payment intent, or the invoice itself) pays an invoice.
    Result<void> link_stripe_invoice_item(std::string const& invoice_id, std::string const& item_id);
    Result<void> link_stripe_payment(std::string const& payment_id, std::string const& invoice_id);
    /// Records a full refund of a payment (charge, payment intent or invoice id).
    Result<void> record_stripe_refund(std::string const& payment_id, std::string const& event_id);
    /// Whether a payment of an invoice that billed the item was fully refunded.
    Result<bool> stripe_item_refunded(std::string const& item_id);
    /// The items billed by invoices a payment paid (a refund's items).
    Result<std::vector<std::string>> stripe_items_of_payment(std::string const& payment_id);

    // Activations: seats of licenses ("activation.create", "activation.release",
    // "activation.expire"; docs/activations.md).
    /// Counts the license's seats and grants one, in one writing transaction, which serialises
    /// the activations of a license (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: the
    /// writers' advisory lock). First every live
    /// activation of the license whose lease ended before `now` is marked expired
    /// ("activation.expire"). A live activation with the same fingerprint is renewed (its lease
    /// runs again from now; label and count updated) when its units still fit; otherwise a new
    /// one gets the lowest free seat number when its units fit under the limit
    /// ("activation.create"). Refused (nothing written but the expiries): outcome without an
    /// activation, with the holders. Unknown license: ErrorKind::not_found.
    Result<SeatOutcome> activate(SeatRequest const& request, Actor const& actor);
    /// A heartbeat of the license's activation `id`: renews its lease from `now` (not audited),
    /// or says it ended (marking an ended lease expired, "activation.expire"). Unknown, or of
    /// another license: ErrorKind::not_found.
    Result<std::pair<LeaseState, Activation>> renew_activation(std::string const& license_id, std::string const& id,
        int64_t now, Actor const& actor);
    /// Releases an activation ("activation.release"); when `license_id` is given, only that
    /// license's (another's is ErrorKind::not_found, as an unknown one). An activation already
    /// released or expired stays as it is; a lease ended but not yet marked is marked expired.
    /// Returns the activation as it is after the call.
    Result<Activation> release_activation(std::string const& id, std::optional<std::string> const& license_id, int64_t now,
        Actor const& actor);
    Result<Activation> get_activation(std::string const& id);
    /// The license's activations, released and expired ones included, in (created_at, seat, id) order.
    Result<std::vector<Activation>> list_activations(std::string const& license_id);
    /// The units held by live activations at `now`, per product (products with none are absent).
    Result<std::vector<std::pair<std::string, int64_t>>> active_seats_by_product(int64_t now);

    // Download credentials ("credential.create", "credential.revoke").
    /// Unknown license: ErrorKind::not_found; a live credential of the license with that name,
    /// or a used id or hash: ErrorKind::conflict.
    Result<void> insert_credential(Credential const& credential, Actor const& actor);
    /// ErrorKind::conflict when already revoked.
    Result<void> revoke_credential(std::string const& id, int64_t at, Actor const& actor);
    Result<Credential> get_credential(std::string const& id);
    /// Revoked credentials too (check revoked_at); absent when no credential has the hash.
    Result<std::optional<Credential>> find_credential_by_hash(std::string const& hash);
    /// The license's credentials, revoked ones included, in the order they were made.
    Result<std::vector<Credential>> list_credentials(std::string const& license_id);
    /// Records the credential's last use; not audited.
    Result<void> touch_credential(std::string const& id, int64_t at, std::string const& address);

    // Customer portal sessions ("portal.sign_in", "portal.sign_out") and sign-in links.
    /// Stores a new session (audited "portal.sign_in", the customer as actor) and deletes the
    /// sessions that expired before `session.created_at`. Unknown customer: ErrorKind::not_found.
    Result<void> insert_portal_session(PortalSession const& session, Actor const& actor);
    /// The session with this hash, also when expired (the caller compares expires_at); absent when none.
    Result<std::optional<PortalSession>> find_portal_session(std::string const& hash);
    /// Deletes the session (audited "portal.sign_out"); absent already: ErrorKind::not_found.
    Result<void> delete_portal_session(std::string const& hash, int64_t at, Actor const& actor);
    /// Stores a sign-in link (not audited: using it is) and deletes links expired before `link.created_at`.
    Result<void> insert_sign_in_link(SignInLink const& link);
    /// Marks the link used at `at` and returns its customer, when it exists, is unused and
    /// `at` <= its expires_at; otherwise absent. One use: of two concurrent calls one wins.
    Result<std::optional<std::string>> use_sign_in_link(std::string const& hash, int64_t at);

    // Idempotency keys of the admin API (not audited: the change they record is).
    /// Records a key in the caller's transaction (a savepoint when called outside one); a key
    /// the token has used already: ErrorKind::conflict.
    Result<void> record_idempotency_key(IdempotencyRecord const& record);
    Result<std::optional<IdempotencyRecord>> find_idempotency_key(std::string const& token_id, std::string const& key);

    // Admin API tokens ("token.create", "token.revoke").
    Result<void> insert_admin_token(AdminToken const& token, Actor const& actor);
    Result<void> revoke_admin_token(std::string const& id, int64_t at, Actor const& actor);
    /// Records the token's last use; not audited.
    Result<void> touch_admin_token(std::string const& id, int64_t at);
    /// Revoked tokens are returned too (check revoked_at); absent when no token has the hash.
    Result<std::optional<AdminToken>> find_admin_token_by_hash(std::string const& hash);
    Result<std::vector<AdminToken>> list_admin_tokens(); // in created_at, id order

    // Releases ("release.add", "release.replace", "release.yank", "release.unyank") and the downloads log.
    Result<void> add_release(Release const& release, OnDuplicateRelease on_duplicate, Actor const& actor);
    Result<void> yank_release(std::string const& id, int64_t at, Actor const& actor);
    /// Undoes yank_release ("release.unyank"); ErrorKind::conflict when it is not yanked.
    Result<void> unyank_release(std::string const& id, int64_t at, Actor const& actor);
    /// All releases, or one product's, in (product_id, released_at, id) order; yanked included.
    Result<std::vector<Release>> list_releases(std::optional<std::string> const& product_id);
    Result<Release> find_release(std::string const& id);
    Result<Release> find_release(std::string const& product_id, std::string const& version,
        std::string const& filename);
    /// Whether any release (yanked ones included) is stored as the artifact `sha256`.
    Result<bool> artifact_in_use(std::string const& sha256);
    /// Appends to the downloads log; not audited. Returns the new row's id.
    Result<int64_t> record_download(Download const& download);
    /// How many lines of `license_id` are dated `since` or later, counting no further than `limit`.
    Result<int64_t> count_license_downloads(std::string const& license_id, int64_t since, int64_t limit);
    /// Deletes up to `max_rows` of the oldest lines dated before `before` (oldest by id, which
    /// is logging order); returns how many it deleted. Call again while it returns max_rows.
    Result<int64_t> delete_downloads_before(int64_t before, int64_t max_rows);
    /// In id (= logging) order, each line with its release when it names one.
    Result<std::vector<DownloadLogEntry>> list_downloads(DownloadFilter const& filter);

    // Gems: the metadata of releases that are RubyGems packages (written with the release,
    // by the caller's transaction; not audited separately: "release.add" covers it).
    /// Stores (or replaces) the metadata of an existing release.
    Result<void> put_gem_metadata(GemMetadata const& gem);
    Result<GemMetadata> find_gem_metadata(std::string const& release_id);
    /// Every release that has gem metadata, yanked included, in (product, name, released_at, id) order.
    Result<std::vector<GemRelease>> list_gem_releases(std::optional<std::string> const& product_id);
    /// A number that changes whenever a release or its gem metadata is added, replaced,
    /// yanked or removed, in this process or another: the RubyGems indexes are rebuilt only
    /// when it moves.
    Result<int64_t> releases_generation();

    // Audit log.
    Result<std::vector<AuditEntry>> list_audit(AuditFilter const& filter); // in filter.order

    // The mail outbox (not audited: the change each message tells of is; "mail.retry" is).
    /// Queues a message in the caller's transaction (a savepoint when called outside one), so
    /// that a change and its message are committed together or not at all. A used id:
    /// ErrorKind::conflict. A used dedupe_key: nothing is written and false is returned.
    Result<bool> queue_mail(MailMessage const& message);
    Result<MailMessage> get_mail(std::string const& id);
    /// In (created_at, id) order.
    Result<std::vector<MailMessage>> list_mail(MailFilter const& filter);
    /// Claims, in one transaction, up to `limit` pending messages due at `now` (next_attempt_at
    /// <= now) that no sender holds (claimed_until absent or past): each gets claimed_until =
    /// now + lease_seconds, claimed_by = `sender` and one more attempt. Two senders (two
    /// processes) never claim the same message while its lease runs.
    Result<std::vector<MailMessage>> claim_mail(std::string const& sender, int64_t now, int64_t lease_seconds, int64_t limit);
    /// The SMTP server accepted the message: sent (whoever holds it now; a message already sent
    /// or failed stays as it is).
    Result<void> mark_mail_sent(std::string const& id, int64_t at);
    /// A temporary failure: tried again from `next_attempt_at`, `error` recorded. Only while
    /// `sender` holds the message (otherwise another sender's outcome stands).
    Result<void> mark_mail_retry(std::string const& id, std::string const& sender, int64_t next_attempt_at,
        std::string const& error);
    /// A permanent failure: failed, `error` (the SMTP server's reply) recorded. Only while
    /// `sender` holds the message.
    Result<void> mark_mail_failed(std::string const& id, std::string const& sender, std::string const& error);
    /// A failed message pending again, due at `at` ("mail.retry"); ErrorKind::conflict when it
    /// is not failed (pending already, or sent).
    Result<void> retry_mail(std::string const& id, int64_t at, Actor const& actor);
    Result<MailStats> mail_stats();

    // Settings ("setting.set"): issuer name and other instance-wide values.
    Result<std::optional<std::string>> get_setting(std::string const& key);
    Result<void> set_setting(std::string const& key, std::string const& value, int64_t at, Actor const& actor);

    // Maintenance.
    /// A consistent copy of the database at `destination` (SQLite's online backup API), safe
    /// while other processes write. An existing file at `destination` is replaced.
    /// PostgreSQL: ErrorKind::invalid_input naming pg_dump and base backups as the tools.
    Result<void> backup(std::filesystem::path const& destination);
    /// Copies every row of every table into `target` (another database, either backend, with
    /// the same schema version and no rows but those its migrations wrote) in one transaction on
    /// `target`, reading this one in one snapshot. Before committing it checks on the target that
    /// every table has the source's row count and the audit log the same rows (ids, order,
    /// contents). A target with rows: ErrorKind::conflict, nothing copied. Returns each table's count.
    Result<std::vector<CopiedTable>> copy_to(Store& target);
    /// PRAGMA integrity_check: "ok" when the database is sound, otherwise SQLite's findings.
    /// PostgreSQL: "ok" when the schema is Charter's (PostgreSQL checks its own pages).
    Result<std::string> integrity_check();

private:
    struct Impl;
    explicit Store(std::unique_ptr<Impl> impl);
    Result<void> read_plan_prices(Plan& plan);
    Result<void> write_plan_prices(Plan const& plan);
    std::unique_ptr<Impl> m_impl;
};

/// Creates a database whose schema stops at `version` (1 ≤ version ≤ latest), as an older
/// Charter would have written it. For upgrade tests.
Result<void> create_database_at_version(std::filesystem::path const& db_path, int version);

}
