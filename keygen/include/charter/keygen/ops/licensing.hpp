#pragma once
// Issuing and revoking licenses: the one code path behind `charter issue`, `charter issue
// --batch` and POST /v1/licenses, so a license and its audit row are the same whichever
// way it was made.

#include "charter/db/store.hpp"
#include "charter/keygen/signing_key.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace charter::ops {

/// What a vendor asks for, as typed on a command line, in a CSV row or in a JSON body.
struct IssueRequest {
    /// A plan's name: its product, one period from now (expires, and updates_until from its
    /// updates_for), its entitlements and seats; the license remembers it. With a plan, those
    /// terms come only from it (a product given must be the plan's).
    std::optional<std::string> plan;
    /// With a plan: the end instead of one period from now, and updates_until too when the plan
    /// has updates_for (billing: a paid period's end plus the plan's grace).
    std::optional<int64_t> plan_ends_at;
    std::string product;
    std::string customer; // "cus_…" or an email address
    /// A customer given inline ({"email", "name"} in POST /v1/licenses): the one with this
    /// email (`customer`) is reused, or created with this name, in the license's transaction.
    std::optional<std::string> new_customer_name;
    bool create_customer { false };
    std::optional<std::string> expires;       // RFC 3339, YYYY-MM-DD or a duration ("1y")
    std::optional<std::string> updates_until; // same forms
    std::optional<std::string> not_before;    // same forms
    std::vector<std::string> entitlements;
    std::optional<int64_t> seats;
    std::optional<std::string> name; // absent: the customer's name, when it has one
    nlohmann::ordered_json meta = nlohmann::ordered_json::object(); // string values
    /// The request's Idempotency-Key (HTTP API), recorded with the license in its transaction.
    std::optional<db::IdempotencyRecord> idempotency;
};

/// A license checked and given its id, not yet signed: the claims to sign, and the row to
/// store with everything but the token and the signed claims.
struct PreparedLicense {
    keygen::LicenseClaims claims;
    db::License license;
};

/// Issuing is three steps, so that a batch can sign on other threads while the calling thread
/// reads, checks and stores (keygen/include/charter/keygen/ops/batch_issue.hpp): prepare, sign, store. issue() is
/// the three in a row, for one license and for the server.
class Issuer {
public:
    Issuer(db::Store& store, keygen::SigningKey key, std::string issuer_name)
        : m_store(store)
        , m_key(std::move(key))
        , m_issuer_name(std::move(issuer_name))
    {
    }

    /// Validates, signs and stores one license (with its audit row, in one transaction or
    /// in the caller's). The license is durable when this returns.
    Result<db::License> issue(IssueRequest const& request, db::Actor const& actor, int64_t now);

    /// Checks the request, looks up its product and customer and gives the license its id.
    /// Uses the store, so only on the thread that owns it. Takes the request by value: a
    /// batch moves its rows in rather than copying their entitlements and meta.
    Result<PreparedLicense> prepare(IssueRequest request, int64_t now);
    /// Signs a prepared license, filling in license.token and license.claims_json. Reads only
    /// the signing key: safe on any thread, from several threads at once. A key longer than
    /// verifiers accept (CHARTER_MAX_TOKEN_SIZE) is ErrorKind::invalid_input with both sizes.
    Result<void> sign(PreparedLicense& prepared) const;
    /// Stores a signed license with its audit row and its "issued" mail message (license.mail,
    /// set by prepare), in one transaction or in the caller's.
    Result<void> store(db::License const& license, db::Actor const& actor);

    keygen::SigningKey const& key() const { return m_key; }

private:
    Result<db::License> issue_with_customer(IssueRequest const& request, db::Actor const& actor, int64_t now);
    // Pointers into the caches below (stable: unordered_map never moves its elements).
    Result<db::Customer const*> customer(std::string const& id_or_email);
    Result<db::Product const*> product(std::string const& id);
    Result<db::Plan const*> plan(std::string const& id);
    // Fills in the terms of the request's plan (the license's expires and updates_until times).
    Result<void> apply_plan(IssueRequest& request, PreparedLicense& prepared, int64_t now);

    db::Store& m_store;
    keygen::SigningKey m_key;
    std::string m_issuer_name;
    // Lookups repeat in a batch; the store is the authority, these only save round trips.
    std::unordered_map<std::string, db::Customer> m_customers;
    std::unordered_map<std::string, db::Product> m_products;
    std::unordered_map<std::string, db::Plan> m_plans;
    // Whether the "issued" message is turned off (ops/mail_queue), read once per Issuer.
    std::optional<bool> m_issued_mail_off;
};

/// A license's text (a name, an entitlement, a reason): not empty, at most 200 bytes, no
/// control characters, valid UTF-8. `what` names it in the message ("an entitlement name").
Result<void> check_license_text(std::string const& value, std::string_view what);
/// Seats: 1 to 1,000,000,000.
Result<void> check_seats(int64_t seats);
/// Signs `claims`; ErrorKind::invalid_input when the key would be longer than verifiers accept
/// (CHARTER_MAX_TOKEN_SIZE), with both sizes. Reads only the key: safe on any thread.
Result<keygen::SignedLicense> sign_license_checked(keygen::SigningKey const& key, keygen::LicenseClaims const& claims);

/// Parses "KEY=VALUE" into meta; ErrorKind::invalid_input when there is no '=' or no key.
Result<void> add_meta(nlohmann::ordered_json& meta, std::string const& key_value);

/// The signed revocation list of `product_id` revoking `revoked`; ErrorKind::invalid_input when
/// it would be longer than verifiers accept (CHARTER_MAX_REVOCATION_LIST_SIZE).
Result<std::string> revocation_list_token(keygen::SigningKey const& key, std::string const& issuer,
    std::string const& product_id, int64_t now, std::vector<std::string> const& revoked);

/// The revocation file of `product_id` (docs/format.md): one list revoking `revoked` per key of
/// `keys`, in that order (the current key first), one per line, without a final newline. Every
/// build that trusts any of the keys finds a list it can verify. ErrorKind::invalid_input when a
/// list or the file would be longer than verifiers accept, or `keys` is empty or too many.
Result<std::string> revocation_file(std::vector<keygen::SigningKey const*> const& keys, std::string const& issuer,
    std::string const& product_id, int64_t now, std::vector<std::string> const& revoked);

/// The revocation file of a product, from the database's revoked ids, signed by `keys`.
Result<std::string> export_revocation_list(db::Store& store, std::vector<keygen::SigningKey const*> const& keys,
    std::string const& issuer, std::string const& product_id, int64_t now);

}
