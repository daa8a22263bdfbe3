#include "charter/keygen/ops/licensing.hpp"

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ids.hpp"
#include "charter/keygen/ops/customers.hpp"
#include "charter/keygen/ops/mail_queue.hpp"
#include "charter/keygen/ops/time_input.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/utf8.hpp"
#include "charter/verify.h"

namespace charter::ops {

namespace {

constexpr size_t max_text_size = 200;
constexpr int64_t max_seats = 1000000000;
constexpr size_t max_cached_customers = 4096;

}

Result<void> check_license_text(std::string const& value, std::string_view what)
{
    if (value.empty())
        return make_error(ErrorKind::invalid_input, std::string(what) + " must not be empty");
    if (value.size() > max_text_size)
        return make_error(ErrorKind::invalid_input, std::string(what) + " is longer than " + std::to_string(max_text_size)
                + " bytes");
    for (unsigned char c : value) {
        if (c < 0x20 || c == 0x7f)
            return make_error(ErrorKind::invalid_input, std::string(what) + " contains a control character");
    }
    if (!charter::is_valid_utf8(value))
        return make_error(ErrorKind::invalid_input, std::string(what) + " is not valid UTF-8 (save the file as UTF-8)");
    return {};
}

Result<void> check_seats(int64_t seats)
{
    if (seats < 1 || seats > max_seats)
        return make_error(ErrorKind::invalid_input, "seats must be between 1 and " + std::to_string(max_seats));
    return {};
}

Result<keygen::SignedLicense> sign_license_checked(keygen::SigningKey const& key, keygen::LicenseClaims const& claims)
{
    auto signed_license = keygen::sign_license(key, claims);
    // Checked on the signed key itself, the one number verifiers compare: a key they all
    // refuse as too_large must never be issued, stored or shown.
    if (signed_license.token.size() > CHARTER_MAX_TOKEN_SIZE)
        return make_error(ErrorKind::invalid_input,
            "the license key would be " + std::to_string(signed_license.token.size()) + " bytes, over the "
                + std::to_string(CHARTER_MAX_TOKEN_SIZE) + " bytes verifiers accept; give fewer or shorter entitlements, "
                "meta values or name");
    return signed_license;
}

Result<db::Customer const*> Issuer::customer(std::string const& id_or_email)
{
    if (auto it = m_customers.find(id_or_email); it != m_customers.end())
        return &it->second;
    auto found = m_store.find_customer(id_or_email);
    if (!found)
        return found.error();
    // A batch of 100,000 rows may name as many customers: memory stays bounded.
    if (m_customers.size() >= max_cached_customers)
        m_customers.clear();
    return &m_customers.emplace(id_or_email, std::move(*found)).first->second;
}

Result<db::Product const*> Issuer::product(std::string const& id)
{
    if (auto it = m_products.find(id); it != m_products.end())
        return &it->second;
    auto found = m_store.get_product(id);
    if (!found)
        return found.error();
    return &m_products.emplace(id, std::move(*found)).first->second;
}

Result<db::Plan const*> Issuer::plan(std::string const& id)
{
    if (auto it = m_plans.find(id); it != m_plans.end())
        return &it->second;
    auto found = m_store.get_plan(id);
    if (!found)
        return found.error();
    return &m_plans.emplace(id, std::move(*found)).first->second;
}

Result<void> Issuer::apply_plan(IssueRequest& request, PreparedLicense& prepared, int64_t now)
{
    auto plan = this->plan(*request.plan);
    if (!plan)
        return plan.error();
    auto const& terms = **plan;
    if (!request.product.empty() && request.product != terms.product_id)
        return make_error(ErrorKind::invalid_input, "plan " + terms.id + " is for product " + terms.product_id + ", not "
                + request.product + "; leave the product out or choose a plan of " + request.product);
    if (request.expires || request.updates_until || !request.entitlements.empty() || request.seats)
        return make_error(ErrorKind::invalid_input, "plan " + terms.id
                + " sets the end, updates_until, entitlements and seats; change the plan (charter plan update) or issue "
                  "without a plan, and adjust one license with `charter license update`");
    request.product = terms.product_id;
    auto duration = parse_period(terms.duration, "plan " + terms.id + "'s duration");
    if (!duration)
        return duration.error();
    auto expires = add_period(now, *duration, "plan " + terms.id + "'s end");
    if (!expires)
        return expires.error();
    prepared.claims.expires_at = request.plan_ends_at ? *request.plan_ends_at : *expires;
    if (terms.updates_for) {
        auto updates_for = parse_period(*terms.updates_for, "plan " + terms.id + "'s updates_for");
        if (!updates_for)
            return updates_for.error();
        auto updates_until = add_period(now, *updates_for, "plan " + terms.id + "'s updates_until");
        if (!updates_until)
            return updates_until.error();
        prepared.claims.updates_until = request.plan_ends_at ? *request.plan_ends_at : *updates_until;
    }
    request.entitlements = terms.entitlements;
    request.seats = terms.seats;
    prepared.license.plan_id = terms.id;
    return {};
}

Result<db::License> Issuer::issue(IssueRequest const& request, db::Actor const& actor, int64_t now)
{
    if (request.create_customer)
        return issue_with_customer(request, actor, now);
    auto prepared = prepare(request, now);
    if (!prepared)
        return prepared.error();
    if (auto signed_license = sign(*prepared); !signed_license)
        return signed_license.error();
    if (auto stored = store(prepared->license, actor); !stored)
        return stored.error();
    return std::move(prepared->license);
}

Result<db::License> Issuer::issue_with_customer(IssueRequest const& request, db::Actor const& actor, int64_t now)
{
    // One transaction (a savepoint inside a batch's): a license that is refused leaves no
    // customer behind.
    std::optional<db::License> issued;
    auto done = m_store.transaction([&]() -> Result<void> {
        // Checked as `charter customer add` checks it, even when it exists: an inline email is
        // an email, never a customer id.
        auto customer = new_customer(request.customer, request.new_customer_name.value_or(""), now);
        if (!customer)
            return customer.error();
        auto existing = m_store.find_customer(request.customer);
        if (!existing && existing.error().kind != ErrorKind::not_found)
            return existing.error();
        if (!existing) {
            if (auto added = m_store.add_customer(*customer, actor); !added)
                return added;
        }
        auto plain = request;
        plain.create_customer = false;
        auto license = issue(plain, actor, now);
        if (!license)
            return license.error();
        issued = std::move(*license);
        return {};
    });
    if (!done) {
        // The customer this transaction may have added is gone again: so is its cached copy.
        m_customers.erase(request.customer);
        return done.error();
    }
    return std::move(*issued);
}

Result<PreparedLicense> Issuer::prepare(IssueRequest request, int64_t now)
{
    PreparedLicense prepared;
    if (request.plan) {
        if (auto applied = apply_plan(request, prepared, now); !applied)
            return applied.error();
    }
    if (request.product.empty())
        return make_error(ErrorKind::invalid_input, "a product is required (--product)");
    if (request.customer.empty())
        return make_error(ErrorKind::invalid_input, "a customer is required (--customer ID or EMAIL)");
    auto product = this->product(request.product);
    if (!product)
        return product.error();
    auto customer = this->customer(request.customer);
    if (!customer)
        return customer.error();

    auto& claims = prepared.claims;
    claims.issuer = m_issuer_name;
    claims.customer = (*customer)->id;
    claims.license_id = keygen::new_id("lic_");
    claims.product = (*product)->id;
    claims.issued_at = now;
    auto expires = parse_optional_time(request.expires, now, "expires");
    if (!expires)
        return expires.error();
    auto updates_until = parse_optional_time(request.updates_until, now, "updates_until");
    if (!updates_until)
        return updates_until.error();
    auto not_before = parse_optional_time(request.not_before, now, "not_before");
    if (!not_before)
        return not_before.error();
    if (!request.plan) {
        claims.expires_at = *expires;
        claims.updates_until = *updates_until;
    }
    claims.not_before = *not_before;
    if (claims.expires_at && *claims.expires_at <= now)
        return make_error(ErrorKind::invalid_input, "expires " + format::format_rfc3339(*claims.expires_at)
                + " is not after the issue time " + format::format_rfc3339(now));
    if (claims.updates_until && *claims.updates_until <= now)
        return make_error(ErrorKind::invalid_input, "updates_until " + format::format_rfc3339(*claims.updates_until)
                + " is not after the issue time " + format::format_rfc3339(now));
    if (claims.not_before && claims.expires_at && *claims.not_before >= *claims.expires_at)
        return make_error(ErrorKind::invalid_input, "not_before is not before expires");

    for (auto const& entitlement : request.entitlements) {
        if (auto checked = check_license_text(entitlement, "an entitlement name"); !checked)
            return checked.error();
        if (std::count(request.entitlements.begin(), request.entitlements.end(), entitlement) > 1)
            return make_error(ErrorKind::invalid_input, "entitlement \"" + entitlement + "\" is given twice");
    }
    claims.entitlements = std::move(request.entitlements);
    if (request.seats) {
        if (auto checked = check_seats(*request.seats); !checked)
            return checked.error();
    }
    claims.seats = request.seats;
    if (request.name) {
        if (auto checked = check_license_text(*request.name, "name"); !checked)
            return checked.error();
        claims.name = std::move(request.name);
    } else if (!(*customer)->name.empty()) {
        // The licensee a product greets: the customer's name unless the vendor gave another.
        claims.name = (*customer)->name;
    }
    if (!request.meta.is_object())
        return make_error(ErrorKind::invalid_input, "meta must be an object of strings");
    for (auto const& [key, value] : request.meta.items()) {
        if (key.empty() || !value.is_string())
            return make_error(ErrorKind::invalid_input, "meta must map non-empty keys to strings");
        if (!charter::is_valid_utf8(key) || !charter::is_valid_utf8(value.get_ref<std::string const&>()))
            return make_error(ErrorKind::invalid_input, "a meta key or value is not valid UTF-8 (save the file as UTF-8)");
    }
    claims.meta = std::move(request.meta);

    auto& license = prepared.license;
    license.id = claims.license_id;
    license.customer_id = claims.customer;
    license.product_id = claims.product;
    license.kid = m_key.kid();
    license.issued_at = now;
    license.expires_at = claims.expires_at;
    license.updates_until = claims.updates_until;
    license.idempotency = std::move(request.idempotency);
    if (!m_issued_mail_off) {
        auto disabled = disabled_mail_kinds(m_store);
        if (!disabled)
            return disabled.error();
        m_issued_mail_off = std::find(disabled->begin(), disabled->end(), MailKind::issued) != disabled->end();
    }
    if (!*m_issued_mail_off)
        license.mail = new_mail_message(MailKind::issued, **customer, license.id, 1, "{}", now);
    return prepared;
}

Result<void> Issuer::sign(PreparedLicense& prepared) const
{
    auto signed_license = sign_license_checked(m_key, prepared.claims);
    if (!signed_license)
        return signed_license.error();
    prepared.license.token = std::move(signed_license->token);
    prepared.license.claims_json = std::move(signed_license->claims_json);
    return {};
}

Result<void> Issuer::store(db::License const& license, db::Actor const& actor)
{
    return m_store.insert_license(license, actor);
}

Result<void> add_meta(nlohmann::ordered_json& meta, std::string const& key_value)
{
    auto equals = key_value.find('=');
    if (equals == std::string::npos || equals == 0)
        return make_error(ErrorKind::invalid_input, "--meta \"" + key_value + "\" must be KEY=VALUE");
    meta[key_value.substr(0, equals)] = key_value.substr(equals + 1);
    return {};
}

Result<std::string> revocation_list_token(keygen::SigningKey const& key, std::string const& issuer,
    std::string const& product_id, int64_t now, std::vector<std::string> const& revoked)
{
    auto token = keygen::sign_revocation_list(key, issuer, product_id, now, revoked);
    if (token.size() > CHARTER_MAX_REVOCATION_LIST_SIZE)
        return make_error(ErrorKind::invalid_input,
            "the revocation list of " + product_id + " would be " + std::to_string(token.size()) + " bytes for "
                + std::to_string(revoked.size()) + " revoked licenses, over the " + std::to_string(CHARTER_MAX_REVOCATION_LIST_SIZE)
                + " bytes verifiers accept; split the product (docs/integrating.md, \"Shipping revocation lists\")");
    return token;
}

Result<std::string> revocation_file(std::vector<keygen::SigningKey const*> const& keys, std::string const& issuer,
    std::string const& product_id, int64_t now, std::vector<std::string> const& revoked)
{
    if (keys.empty())
        return make_error(ErrorKind::invalid_input, "no trusted signing key to sign the revocation list of " + product_id);
    if (keys.size() > CHARTER_MAX_REVOCATION_LISTS)
        return make_error(ErrorKind::invalid_input,
            std::to_string(keys.size()) + " signing keys are trusted, and a revocation file holds at most "
                + std::to_string(CHARTER_MAX_REVOCATION_LISTS) + " lists; retire the keys no build needs (charter key retire)");
    std::string file;
    for (auto const* key : keys) {
        auto token = revocation_list_token(*key, issuer, product_id, now, revoked);
        if (!token)
            return token.error();
        if (!file.empty())
            file += '\n';
        file += *token;
    }
    if (file.size() > CHARTER_MAX_REVOCATION_FILE_SIZE)
        return make_error(ErrorKind::invalid_input,
            "the revocation file of " + product_id + " would be " + std::to_string(file.size()) + " bytes ("
                + std::to_string(keys.size()) + " lists of " + std::to_string(revoked.size()) + " revoked licenses), over the "
                + std::to_string(CHARTER_MAX_REVOCATION_FILE_SIZE)
                + " bytes verifiers accept; retire the keys no build needs (charter key retire) or split the product");
    return file;
}

Result<std::string> export_revocation_list(db::Store& store, std::vector<keygen::SigningKey const*> const& keys,
    std::string const& issuer, std::string const& product_id, int64_t now)
{
    auto product = store.get_product(product_id);
    if (!product)
        return product.error();
    auto revoked = store.revoked_license_ids(product_id);
    if (!revoked)
        return revoked.error();
    return revocation_file(keys, issuer, product_id, now, *revoked);
}

}
