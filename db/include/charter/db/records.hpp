#pragma once
// The rows of Charter's database as plain values. Times are Unix seconds (UTC) everywhere;
// nullable columns are std::optional. Ids are created by the caller ("lic_…", "cus_…",
// "tok_…", "rel_…"); the store only checks that they are unique.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace charter::db {

/// Who made a change, as written into the audit log: "cli", "token:tok_…", "server", ….
struct Actor {
    std::string name {};
};

/// The public half of a signing key. The secret never enters the database (it lives in
/// keys/), so a database backup never leaks a signing key.
struct SigningKeyRecord {
    std::string kid {};           // "k4.pid.…"
    std::string public_paserk {}; // "k4.public.…"
    std::string status { "active" }; // "active" (trusted) or "retired" (neither current nor trusted)
    bool current { false };    // the key new licenses are signed with; exactly one at a time
    int64_t created_at { 0 };
    std::optional<int64_t> retired_at {};
};

struct Product {
    std::string id {}; // "acme-pro": also the PASETO implicit assertion, so it never changes
    std::string name {};
    /// false: after a license's exp the customer can no longer download anything.
    /// true: after exp the customer keeps the releases published before exp.
    bool keep_access_after_expiry { false };
    int64_t created_at { 0 };
};

struct Customer {
    std::string id {};    // "cus_…"
    std::string email {}; // unique, compared case-insensitively
    std::string name {};
    int64_t created_at { 0 };
    /// The Stripe customer ("cus_…" of Stripe) this customer pays through, when billing linked one.
    std::optional<std::string> stripe_customer_id {};
};

/// An Idempotency-Key an admin token sent with a request that changed something.
struct IdempotencyRecord {
    std::string token_id {};    // "tok_…": keys are scoped to the token that sent them
    std::string key {};         // the header's value
    std::string fingerprint {}; // a hash of the request (method, path, body)
    std::string resource {};    // the id of what the request made or changed ("lic_…", "cus_…", …)
    int64_t created_at { 0 };
};

/// A message of the mail outbox: written in the transaction of the change it tells the customer
/// about, delivered later by a sender (charter-server's, or `charter mail send`). It holds what
/// the message is about, not its text: the text is rendered from the templates when it is sent.
struct MailMessage {
    std::string id {};   // "msg_…": also the left part of its Message-ID, the same on every attempt
    std::string kind {}; // "issued", "renewed", "updated", "suspended", "reinstated", "revoked", "reminder", "signin_link"
    std::string recipient {};      // the address, as it was when queued
    std::string recipient_name {}; // may be empty
    std::optional<std::string> license_id {};
    std::optional<int64_t> license_version {}; // the version whose key and terms it tells
    std::string details_json { "{}" };         // per kind: the reason, the link, the reminder's offset
    /// Unique when set: a second message with the same key is not queued (a reminder is sent once).
    std::optional<std::string> dedupe_key {};
    std::string status { "pending" }; // "pending", "sent", "failed"
    int64_t created_at { 0 };
    int64_t next_attempt_at { 0 }; // a pending message is not tried before this
    int64_t attempts { 0 };        // how many times a sender claimed it
    std::optional<int64_t> claimed_until {}; // a sender's lease: no other sender takes it before this
    std::optional<std::string> claimed_by {};
    std::optional<std::string> last_error {}; // the SMTP server's reply (or the connection's error)
    std::optional<int64_t> sent_at {};
};

struct MailFilter {
    std::optional<std::string> status {};     // "pending", "sent", "failed"
    std::optional<std::string> license_id {};
    std::optional<int64_t> limit {};          // absent: all
};

/// The outbox's counts, for metrics.
struct MailStats {
    int64_t pending { 0 };
    int64_t sent { 0 };
    int64_t failed { 0 };
    std::optional<int64_t> oldest_pending_at {}; // created_at of the oldest pending message
};

struct License {
    std::string id {}; // "lic_…", the jti claim
    std::string customer_id {};
    std::string product_id {};
    std::string token {};       // the full "v4.public.…" license key
    std::string claims_json {}; // the signed message, exactly as signed
    std::string kid {};         // the signing key's "k4.pid.…"
    int64_t issued_at { 0 };
    std::optional<int64_t> expires_at {};
    std::optional<int64_t> updates_until {};
    std::string status { "active" }; // "active" or "revoked"; "expired" is derived from expires_at
    std::optional<int64_t> revoked_at {};
    std::optional<std::string> revoke_reason {};
    /// The current version's number: 1 when issued, one more with every change of terms. The
    /// fields above (token, claims_json, kid, issued_at, expires_at, updates_until) are that
    /// version's; earlier ones are in list_license_versions.
    int64_t version { 1 };
    std::string version_reason { "issue" }; // what signed the current version: "issue", "renew", "update"
    /// Set while suspended (online refusals only; the license stays "active" underneath).
    std::optional<int64_t> suspended_at {};
    std::optional<std::string> suspend_reason {};
    std::optional<std::string> plan_id {}; // the plan it was issued or last renewed from
    /// Set when issued through the HTTP API with an Idempotency-Key header: recorded with the
    /// license, in its transaction (its resource is this license's id). Not read back with the
    /// license (find_idempotency_key reads it).
    std::optional<IdempotencyRecord> idempotency {};
    /// Set by the code that issues (keygen/ops): the outbox message telling the customer, written
    /// with the license, in its transaction. Not read back with the license.
    std::optional<MailMessage> mail {};
};

/// One signed version of a license's key. Version 1 is the key issued; each renewal or
/// update signs the next, with the same license id (jti).
struct LicenseVersion {
    std::string license_id {};
    int64_t version { 1 };
    std::string token {};
    std::string claims_json {};
    std::string kid {};
    int64_t issued_at { 0 }; // the key's iat
    std::optional<int64_t> expires_at {};
    std::optional<int64_t> updates_until {};
    std::optional<std::string> plan_id {};
    std::string reason {}; // "issue", "renew", "update"
    std::string actor {};  // who made it (Actor::name)
};

/// A change of a license's terms, as add_license_version writes it.
struct LicenseChange {
    std::string action {};       // the audit action: "license.renew", "license.update"
    std::string reason {};       // the version's reason: "renew", "update"
    std::string details_json {}; // the audit row's details, a JSON object ("{}" when none)
    int64_t at { 0 };
};

/// A named template of license terms (a vendor's SKU): "pro-yearly".
struct Plan {
    std::string id {}; // the name, unique
    std::string product_id {};
    std::string duration {};                  // a calendar period, e.g. "1y"
    std::optional<std::string> updates_for {}; // a period; absent: licenses get no updates_until
    std::vector<std::string> entitlements {};
    std::optional<int64_t> seats {};
    int64_t grace_seconds { 0 };
    /// When to remind the customer of the license's end: periods before it ("14d", "3d").
    std::vector<std::string> reminders {};
    int64_t created_at { 0 };
    int64_t updated_at { 0 };
    /// What a seat is (docs/activations.md): "machines" (one per activation), "processes" or
    /// "cores" (an activation occupies the count it gives).
    std::string seat_counting { "machines" };
    /// How long an activation's lease runs without a heartbeat; 0: node-locked, no expiry.
    int64_t lease_seconds { default_lease_seconds };

    static constexpr int64_t default_lease_seconds = 15 * 60;
    /// Stripe prices ("price_…") that sell this plan (docs/billing.md); each belongs to one plan.
    std::vector<std::string> stripe_prices {};
    std::string on_payment_failed { "warn" }; // "warn" (validate says so) or "suspend"
    std::string on_cancel { "end" };           // "end" (at the paid period's end) or "revoke"
    std::string on_refund { "keep" };          // on a full refund: "keep" or "revoke"
};

/// A Stripe webhook event as received: its id is unique, so a redelivery is recognised.
struct StripeEvent {
    std::string id {};   // "evt_…"
    std::string type {}; // "invoice.paid"
    int64_t created { 0 }; // Stripe's `created`
    int64_t received_at { 0 };
    std::string outcome {}; // "applied", "ignored" or "failed"
    std::string reason {};  // what it did, or why it could not be applied
    std::string payload {}; // the body exactly as received, for replay
    int64_t updated_at { 0 }; // when the outcome was last set (a replay sets it again)
};

struct StripeEventFilter {
    std::optional<std::string> type {};
    std::optional<std::string> outcome {};
    std::optional<int64_t> limit {}; // absent: all; newest first
};

/// A Stripe customer's details as the latest event carrying them gave them.
struct StripeCustomer {
    std::string id {}; // Stripe's "cus_…"
    std::optional<std::string> email {};
    std::optional<std::string> name {};
    int64_t info_created { 0 }; // the `created` of the event they came from
    std::string info_event {};  // that event's id (ties broken by it)
};

/// What Charter knows of one Stripe subscription item (or one-time Checkout session), merged
/// from every event that described it; its license is derived from this alone (docs/billing.md).
struct StripeItem {
    std::string id {}; // "si_…", or "cs_…" for a one-time purchase
    std::optional<std::string> subscription_id {};
    std::optional<std::string> stripe_customer_id {};
    std::optional<std::string> email {}; // a one-time purchase's buyer without a Stripe customer
    std::optional<std::string> name {};
    std::optional<std::string> price_id {}; // from the latest event naming a price
    int64_t price_created { 0 };
    std::string price_event {};
    std::optional<std::string> plan_id {}; // one-time purchases: the plan of its metadata
    std::optional<std::string> status {};  // the subscription's status, from the latest event
    int64_t status_created { 0 };
    std::string status_event {};
    bool cancel_at_period_end { false };
    std::optional<int64_t> period_end {}; // the latest period end seen (never moves back)
    bool canceled { false };              // customer.subscription.deleted seen
    std::optional<std::string> license_id {};
};

/// A machine (or process group) holding a seat of a license (docs/activations.md). Live while
/// neither released nor expired; a lease whose end has passed counts as expired whether or not
/// a count has marked it yet (live_at).
struct Activation {
    std::string id {}; // "act_…", the jti of its tokens
    std::string license_id {};
    std::string fingerprint_sha256 {}; // 64 lowercase hex; the fingerprint itself is never stored
    std::optional<std::string> label {};
    std::optional<int64_t> processes {};
    std::optional<int64_t> cores {};
    int64_t units { 1 }; // what it occupies of the license's limit
    int64_t seat { 0 };  // 1 and up, the lowest free one when it was made
    int64_t lease_seconds { 0 }; // 0: node-locked
    int64_t created_at { 0 };
    int64_t heartbeat_at { 0 };
    std::optional<int64_t> lease_ends_at {}; // absent: node-locked
    std::optional<int64_t> released_at {};
    std::optional<int64_t> expired_at {};

    /// Holds its seat at `now`: not released, not marked expired, and its lease (if any) not
    /// ended (a lease still runs at its end, as a license at its exp).
    bool live_at(int64_t now) const
    {
        return !released_at && !expired_at && (!lease_ends_at || now <= *lease_ends_at);
    }
};

/// What Store::activate counts and writes: the activation to make (every field but seat,
/// heartbeat_at and lease_ends_at, which the store sets), and the license's limit.
struct SeatRequest {
    Activation activation {};
    std::optional<int64_t> limit {}; // in units; absent: no limit
    int64_t now { 0 };
};

/// The answer of Store::activate.
struct SeatOutcome {
    /// The activation holding the seat: a new one (created), or the fingerprint's live one,
    /// its lease renewed. Absent when refused.
    std::optional<Activation> activation {};
    bool created { false };
    /// When refused: the live activations that hold the seats (seat order), and the units
    /// they occupy together.
    std::vector<Activation> holders {};
    int64_t held_units { 0 };
};

/// What a heartbeat found (Store::renew_activation).
enum class LeaseState {
    renewed,  // the lease runs again from now
    ended,    // released, or its lease ended (marked expired now if it was not yet)
};

/// A per-environment download secret of a license ("cdl_…"); only its hash is stored.
struct Credential {
    std::string id {}; // "cred_…"
    std::string license_id {};
    std::string name {}; // "ci", "laptop": unique among the license's live credentials
    std::string hash {}; // hex; the caller hashes the secret, the store never sees it
    int64_t created_at { 0 };
    std::optional<int64_t> revoked_at {};
    std::optional<int64_t> last_used_at {};
    std::optional<std::string> last_used_from {}; // the client address of the last use
};

/// A signed-in customer portal session. The browser holds the secret in a cookie; only its hash
/// is stored, so a copy of the database opens no session.
struct PortalSession {
    std::string hash {};        // hex BLAKE2b-256 of the cookie's secret
    std::string customer_id {}; // the one customer the session sees
    std::string csrf_token {};  // the token every form of the session carries
    std::string signed_in_with {}; // "key lic_…", "credential cred_…", "email"
    int64_t created_at { 0 };
    int64_t expires_at { 0 };
};

/// A one-use portal sign-in link sent by email; only its token's hash is stored.
struct SignInLink {
    std::string hash {}; // hex BLAKE2b-256 of the link's token
    std::string customer_id {};
    int64_t created_at { 0 };
    int64_t expires_at { 0 };
    std::optional<int64_t> used_at {};
};

struct AdminToken {
    std::string id {};   // "tok_…"
    std::string name {}; // what the token is for, e.g. "stripe webhook"
    std::string hash {}; // hex; the caller hashes the secret, the store never sees it
    std::vector<std::string> scopes {}; // "issue", "read", "revoke", "upload", "admin"
    int64_t created_at { 0 };
    std::optional<int64_t> revoked_at {};
    std::optional<int64_t> last_used_at {};
};

struct Release {
    std::string id {}; // "rel_…"
    std::string product_id {};
    std::string version {};  // "2.3.1"
    std::string filename {}; // "acme-pro-2.3.1.gem"
    int64_t size { 0 };
    std::string sha256 {}; // hex; the artifact's name in artifacts/
    int64_t released_at { 0 }; // compared with a license's updates_until and exp
    bool yanked { false };
    int64_t created_at { 0 };
};

/// A runtime dependency of a gem: the gem's name and its requirements ("~> 1.0", ">= 1.0.2").
struct GemDependency {
    std::string name {};
    std::vector<std::string> requirements {};
};

/// What a release that is a RubyGems package says about itself (its Gem::Specification),
/// kept beside the release so that the RubyGems indexes never reopen the file.
struct GemMetadata {
    std::string release_id {};
    std::string name {};
    std::string version {};
    std::string platform { "ruby" }; // "ruby" or e.g. "x86_64-linux"
    std::vector<GemDependency> dependencies {}; // runtime only, in the gemspec's order
    std::vector<std::string> required_ruby_version {};     // requirements; empty = any
    std::vector<std::string> required_rubygems_version {}; // requirements; empty = any
    std::string summary {};
    std::vector<std::string> authors {};
    std::vector<std::string> licenses {};
    std::string date {}; // the gemspec's date, "YYYY-MM-DD"
    std::string sha256 {}; // hex, of the whole .gem file
};

/// A gem release with its metadata, as the RubyGems source reads them.
struct GemRelease {
    Release release {};
    GemMetadata gem {};
};

/// One line of the downloads log (written by the server, not audited: it is its own log).
struct Download {
    int64_t id { 0 }; // assigned by the store
    int64_t at { 0 };
    std::optional<std::string> license_id {}; // absent when the key could not be identified
    std::optional<std::string> release_id {}; // absent when no release matched
    int64_t bytes { 0 };
    std::string remote_address {};
    std::string outcome {}; // "ok", "denied", "not_found", …
};

/// A line of the downloads log with the release it names, as `charter downloads` reads it.
struct DownloadLogEntry {
    Download download {};
    /// Absent when the line names no release (a refused key, an unknown file).
    std::optional<Release> release {};
};

struct AuditEntry {
    int64_t id { 0 }; // increasing; usable as a cursor
    int64_t at { 0 };
    std::string actor {};   // Actor::name
    std::string action {};  // "license.issue", "license.revoke", "key.rotate", …
    std::string subject {}; // the id acted on
    std::string details_json {}; // a JSON object, "{}" when there is nothing to add
};

/// A license's state, derived in this order: "revoked" (permanent), "suspended" (until
/// reinstated), "expired" (its current expires_at is before `now`), otherwise "active".
enum class LicenseState {
    active,
    revoked,
    expired,
    suspended,
};

/// The state of `license` at `now`, by the rule above (one home for it: the CLI, the admin API
/// and every customer-facing decision call this).
inline LicenseState state_at(License const& license, int64_t now)
{
    if (license.status == "revoked")
        return LicenseState::revoked;
    if (license.suspended_at)
        return LicenseState::suspended;
    // Expired means now > exp, as in verify-lib: at exp itself the license still runs.
    if (license.expires_at && now > *license.expires_at)
        return LicenseState::expired;
    return LicenseState::active;
}

inline char const* state_name(LicenseState state)
{
    switch (state) {
    case LicenseState::active:
        return "active";
    case LicenseState::revoked:
        return "revoked";
    case LicenseState::expired:
        return "expired";
    case LicenseState::suspended:
        return "suspended";
    }
    return "active";
}

struct LicenseFilter {
    std::optional<std::string> product_id {};
    std::optional<std::string> customer_id {};
    std::optional<LicenseState> state {};
    int64_t now { 0 }; // the clock `state` and `expiring_within` are evaluated against
    /// Licenses neither revoked nor suspended whose end falls within [now, now + this] seconds.
    std::optional<int64_t> expiring_within {};
    /// Cursor: only licenses issued after this one (in list_licenses order).
    std::optional<std::string> after_id {};
    std::optional<int64_t> limit {}; // absent: all
};

struct DownloadFilter {
    std::optional<int64_t> since {};           // lines with at >= since
    std::optional<std::string> license_id {};  // lines of this license
    std::optional<std::string> product_id {};  // lines whose release is of this product
    std::optional<std::string> outcome {};     // "ok", "expired", …
    std::optional<int64_t> after_id {};        // cursor: lines with id > after_id
    std::optional<int64_t> limit {};           // absent: all
};

enum class AuditOrder {
    oldest_first, // id order
    newest_first, // reverse id order: `limit` keeps the most recent entries
};

struct AuditFilter {
    /// Entries whose actor starts with this ("stripe:" for the changes Stripe events made).
    std::optional<std::string> actor_prefix {};
    std::optional<int64_t> since {};    // entries with at >= since
    std::optional<int64_t> after_id {}; // cursor: entries after this one in `order` (id > it, or id < it)
    std::optional<int64_t> limit {};    // absent: all
    AuditOrder order { AuditOrder::oldest_first };
};

}
