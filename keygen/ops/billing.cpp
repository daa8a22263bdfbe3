#include "charter/keygen/ops/billing.hpp"

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/customers.hpp"
#include "charter/keygen/ops/license_changes.hpp"
#include "charter/keygen/token_signer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <tuple>

namespace charter::ops {

namespace {

using Json = nlohmann::json;

// What an event's application ends in: "applied" or "ignored", and a sentence saying what it did.
struct Applied {
    std::string outcome;
    std::string reason;
};

// An error that makes the event "failed" (recorded, answered 200) rather than an error of the
// request: the event is fine, the configuration or the object is not.
bool is_event_failure(Error const& error)
{
    return error.kind == ErrorKind::invalid_input || error.kind == ErrorKind::not_found || error.kind == ErrorKind::conflict;
}

std::optional<std::string> text_at(Json const& object, std::initializer_list<char const*> path)
{
    Json const* at = &object;
    for (auto const* key : path) {
        if (!at->is_object())
            return std::nullopt;
        auto found = at->find(key);
        if (found == at->end())
            return std::nullopt;
        at = &*found;
    }
    if (at->is_string() && !at->get_ref<std::string const&>().empty())
        return at->get<std::string>();
    // An expanded object ({"id": "cus_…", …}) in place of its id.
    if (at->is_object()) {
        auto id = at->find("id");
        if (id != at->end() && id->is_string())
            return id->get<std::string>();
    }
    return std::nullopt;
}

std::optional<int64_t> integer_at(Json const& object, std::initializer_list<char const*> path)
{
    Json const* at = &object;
    for (auto const* key : path) {
        if (!at->is_object())
            return std::nullopt;
        auto found = at->find(key);
        if (found == at->end())
            return std::nullopt;
        at = &*found;
    }
    if (at->is_number_integer())
        return at->get<int64_t>();
    return std::nullopt;
}

bool flag_at(Json const& object, char const* key)
{
    auto found = object.find(key);
    return found != object.end() && found->is_boolean() && found->get<bool>();
}

Json const& list_data(Json const& object, char const* key)
{
    static Json const empty = Json::array();
    auto list = object.find(key);
    if (list == object.end() || !list->is_object())
        return empty;
    auto data = list->find("data");
    if (data == list->end() || !data->is_array())
        return empty;
    return *data;
}

Error malformed(std::string const& what)
{
    return make_error(ErrorKind::invalid_input, "the event's object is malformed: " + what);
}

// (created, event id): the order of "latest" between events, the same whatever the arrival order.
bool later(int64_t created, std::string const& event_id, int64_t than_created, std::string const& than_event)
{
    return std::tie(created, event_id) > std::tie(than_created, than_event);
}

class Application {
public:
    Application(db::Store& store, Issuer& issuer, StripeEnvelope const& envelope, int64_t now)
        : m_store(store)
        , m_issuer(issuer)
        , m_event(envelope)
        , m_actor(stripe_actor(envelope.id))
        , m_now(now)
    {
    }

    Result<Applied> apply(Json const& object)
    {
        auto const& type = m_event.type;
        if (type == "customer.created" || type == "customer.updated")
            return customer_event(object);
        if (type == "customer.subscription.created" || type == "customer.subscription.updated"
            || type == "customer.subscription.deleted")
            return subscription_event(object);
        if (type == "invoice.paid")
            return invoice_paid(object);
        if (type == "invoice_payment.paid")
            return invoice_payment_paid(object);
        if (type == "charge.refunded")
            return charge_refunded(object);
        if (type == "checkout.session.completed")
            return checkout_completed(object);
        return Applied { "ignored", "Charter does not act on " + type };
    }

private:
    // Merges a customer's email and name (when the event is the latest to carry them) and
    // brings the Charter customer and the customer's licenses up to date.
    Result<void> merge_customer_info(std::string const& stripe_id, std::optional<std::string> email,
        std::optional<std::string> name)
    {
        auto known = m_store.get_stripe_customer(stripe_id);
        if (!known)
            return known.error();
        db::StripeCustomer customer = known->value_or(db::StripeCustomer { stripe_id, {}, {}, 0, {} });
        bool has_info = email.has_value();
        if (has_info && (!customer.email || later(m_event.created, m_event.id, customer.info_created, customer.info_event))) {
            customer.email = std::move(email);
            customer.name = name.value_or("");
            customer.info_created = m_event.created;
            customer.info_event = m_event.id;
        }
        return m_store.put_stripe_customer(customer);
    }

    // The Charter customer of a Stripe customer: linked by its id, else found by email and
    // linked, else created; its email and name follow the latest event. Absent while no event
    // has given an email.
    Result<std::optional<db::Customer>> charter_customer(std::string const& stripe_id)
    {
        auto info = m_store.get_stripe_customer(stripe_id);
        if (!info)
            return info.error();
        auto linked = m_store.find_customer_by_stripe_id(stripe_id);
        if (!linked)
            return linked.error();
        if (!*info || !(*info)->email)
            return std::move(*linked);
        auto const& email = *(*info)->email;
        auto const& name = (*info)->name.value_or("");
        if (*linked) {
            auto customer = std::move(**linked);
            if (customer.email != email || customer.name != name) {
                if (auto checked = check_customer(email, name); !checked)
                    return checked.error();
                customer.email = email;
                customer.name = name;
                if (auto updated = m_store.update_customer(customer, m_now, m_actor); !updated)
                    return updated.error();
            }
            return std::optional<db::Customer>(std::move(customer));
        }
        return customer_by_email(email, name, stripe_id);
    }

    // The customer with this email (linked to `stripe_id` when given and it has no link), or a new one.
    Result<std::optional<db::Customer>> customer_by_email(std::string const& email, std::string const& name,
        std::optional<std::string> const& stripe_id)
    {
        auto existing = m_store.find_customer(email);
        if (existing && existing->email.size() == email.size()) {
            auto customer = std::move(*existing);
            if (stripe_id && !customer.stripe_customer_id) {
                customer.stripe_customer_id = stripe_id;
                if (!name.empty())
                    customer.name = name;
                if (auto updated = m_store.update_customer(customer, m_now, m_actor); !updated)
                    return updated.error();
            }
            return std::optional<db::Customer>(std::move(customer));
        }
        if (!existing && existing.error().kind != ErrorKind::not_found)
            return existing.error();
        auto customer = new_customer(email, name, m_now);
        if (!customer)
            return customer.error();
        customer->stripe_customer_id = stripe_id;
        if (auto added = m_store.add_customer(*customer, m_actor); !added)
            return added.error();
        return std::optional<db::Customer>(std::move(*customer));
    }

    Result<Applied> customer_event(Json const& object)
    {
        auto id = text_at(object, { "id" });
        if (!id)
            return malformed("a customer without an id");
        if (auto merged = merge_customer_info(*id, text_at(object, { "email" }), text_at(object, { "name" })); !merged)
            return merged.error();
        return reconcile_customer(*id);
    }

    // Brings the Charter customer and every license of the Stripe customer up to date.
    Result<Applied> reconcile_customer(std::string const& stripe_id)
    {
        auto customer = charter_customer(stripe_id);
        if (!customer)
            return customer.error();
        if (!*customer)
            return Applied { "applied", "recorded Stripe customer " + stripe_id + " (no email yet: no Charter customer)" };
        auto items = m_store.list_stripe_items_of_customer(stripe_id);
        if (!items)
            return items.error();
        std::string said = "customer " + (*customer)->id + " (" + (*customer)->email + ")";
        for (auto& item : *items) {
            auto reconciled = reconcile(item);
            if (!reconciled)
                return reconciled.error();
            said += "; " + *reconciled;
        }
        return Applied { "applied", said };
    }

    Result<db::StripeItem> item_of(std::string const& id)
    {
        auto found = m_store.get_stripe_item(id);
        if (!found)
            return found.error();
        if (*found)
            return std::move(**found);
        db::StripeItem item;
        item.id = id;
        return item;
    }

    void merge_price(db::StripeItem& item, std::optional<std::string> const& price)
    {
        if (price && (!item.price_id || later(m_event.created, m_event.id, item.price_created, item.price_event))) {
            item.price_id = price;
            item.price_created = m_event.created;
            item.price_event = m_event.id;
        }
    }

    void merge_period_end(db::StripeItem& item, std::optional<int64_t> end)
    {
        if (end && (!item.period_end || *end > *item.period_end))
            item.period_end = end;
    }

    Result<Applied> subscription_event(Json const& subscription)
    {
        auto id = text_at(subscription, { "id" });
        auto customer = text_at(subscription, { "customer" });
        auto status = text_at(subscription, { "status" });
        if (!id || !customer || !status)
            return malformed("a subscription without an id, a customer or a status");
        auto const& items = list_data(subscription, "items");
        if (items.empty())
            return malformed("subscription " + *id + " has no items");
        if (auto merged = merge_customer_info(*customer, std::nullopt, std::nullopt); !merged)
            return merged.error();
        bool deleted = m_event.type == "customer.subscription.deleted";
        // Before 2025-03-31 the period was the subscription's; since, each item has its own.
        auto subscription_end = integer_at(subscription, { "current_period_end" });
        std::string said;
        for (auto const& entry : items) {
            auto item_id = text_at(entry, { "id" });
            if (!item_id)
                return malformed("an item of subscription " + *id + " without an id");
            auto item = item_of(*item_id);
            if (!item)
                return item.error();
            item->subscription_id = id;
            item->stripe_customer_id = customer;
            merge_price(*item, text_at(entry, { "price" }));
            auto end = integer_at(entry, { "current_period_end" });
            merge_period_end(*item, end ? end : subscription_end);
            if (!item->status || later(m_event.created, m_event.id, item->status_created, item->status_event)) {
                item->status = status;
                item->status_created = m_event.created;
                item->status_event = m_event.id;
                item->cancel_at_period_end = flag_at(subscription, "cancel_at_period_end");
            }
            item->canceled = item->canceled || deleted;
            if (auto put = m_store.put_stripe_item(*item); !put)
                return put.error();
            auto reconciled = reconcile(*item);
            if (!reconciled)
                return reconciled.error();
            said += (said.empty() ? "" : "; ") + *reconciled;
        }
        return Applied { "applied", said };
    }

    Result<Applied> invoice_paid(Json const& invoice)
    {
        auto id = text_at(invoice, { "id" });
        auto customer = text_at(invoice, { "customer" });
        if (!id || !customer)
            return malformed("an invoice without an id or a customer");
        // 2026-10-28: parent.subscription_details.subscription; before 2025-03-31: subscription.
        auto subscription = text_at(invoice, { "parent", "subscription_details", "subscription" });
        if (!subscription)
            subscription = text_at(invoice, { "subscription" });
        if (auto merged = merge_customer_info(*customer, text_at(invoice, { "customer_email" }), text_at(invoice, { "customer_name" }));
            !merged)
            return merged.error();
        // The invoice is its own payment; older versions name the charge and payment intent too.
        if (auto linked = m_store.link_stripe_payment(*id, *id); !linked)
            return linked.error();
        for (auto const* key : { "charge", "payment_intent" }) {
            if (auto payment = text_at(invoice, { key })) {
                if (auto linked = m_store.link_stripe_payment(*payment, *id); !linked)
                    return linked.error();
            }
        }
        std::vector<std::string> touched;
        for (auto const& line : list_data(invoice, "lines")) {
            auto item_id = text_at(line, { "parent", "subscription_item_details", "subscription_item" });
            if (!item_id)
                item_id = text_at(line, { "subscription_item" });
            if (!item_id)
                continue; // not a subscription's line (a one-off invoice item)
            auto line_subscription = text_at(line, { "parent", "subscription_item_details", "subscription" });
            if (!line_subscription)
                line_subscription = text_at(line, { "subscription" });
            if (!line_subscription)
                line_subscription = subscription;
            auto price = text_at(line, { "pricing", "price_details", "price" });
            if (!price)
                price = text_at(line, { "price" });
            auto item = item_of(*item_id);
            if (!item)
                return item.error();
            if (line_subscription)
                item->subscription_id = line_subscription;
            item->stripe_customer_id = customer;
            merge_price(*item, price);
            merge_period_end(*item, integer_at(line, { "period", "end" }));
            if (auto put = m_store.put_stripe_item(*item); !put)
                return put.error();
            if (auto linked = m_store.link_stripe_invoice_item(*id, *item_id); !linked)
                return linked.error();
            if (std::find(touched.begin(), touched.end(), *item_id) == touched.end())
                touched.push_back(*item_id);
        }
        if (touched.empty())
            return Applied { "ignored", "invoice " + *id + " bills no subscription item" };
        return reconcile_items(touched);
    }

    Result<Applied> reconcile_items(std::vector<std::string> const& ids)
    {
        std::string said;
        for (auto const& item_id : ids) {
            auto item = item_of(item_id);
            if (!item)
                return item.error();
            auto reconciled = reconcile(*item);
            if (!reconciled)
                return reconciled.error();
            said += (said.empty() ? "" : "; ") + *reconciled;
        }
        return Applied { "applied", said };
    }

    // 2025-03-31 and later: an invoice's payments are their own objects, naming the invoice and
    // the payment intent or charge a refund will name.
    Result<Applied> invoice_payment_paid(Json const& payment)
    {
        auto invoice = text_at(payment, { "invoice" });
        if (!invoice)
            return malformed("an invoice payment without an invoice");
        std::vector<std::string> payments;
        for (auto const* key : { "payment_intent", "charge" }) {
            if (auto id = text_at(payment, { "payment", key })) {
                if (auto linked = m_store.link_stripe_payment(*id, *invoice); !linked)
                    return linked.error();
                payments.push_back(*id);
            }
        }
        return reconcile_payments(payments, "recorded the payment of invoice " + *invoice);
    }

    Result<Applied> reconcile_payments(std::vector<std::string> const& payments, std::string const& said)
    {
        std::vector<std::string> items;
        for (auto const& payment : payments) {
            auto found = m_store.stripe_items_of_payment(payment);
            if (!found)
                return found.error();
            for (auto& item : *found) {
                if (std::find(items.begin(), items.end(), item) == items.end())
                    items.push_back(std::move(item));
            }
        }
        if (items.empty())
            return Applied { "applied", said + " (no subscription item known for it yet)" };
        auto reconciled = reconcile_items(items);
        if (!reconciled)
            return reconciled.error();
        reconciled->reason = said + "; " + reconciled->reason;
        return reconciled;
    }

    Result<Applied> charge_refunded(Json const& charge)
    {
        auto id = text_at(charge, { "id" });
        auto amount = integer_at(charge, { "amount" });
        auto refunded = integer_at(charge, { "amount_refunded" });
        if (!id || !amount || !refunded)
            return malformed("a charge without an id, amount or amount_refunded");
        if (*refunded < *amount)
            return Applied { "ignored", "charge " + *id + " is refunded in part (" + std::to_string(*refunded) + " of "
                    + std::to_string(*amount) + "): licenses stay" };
        std::vector<std::string> payments { *id };
        if (auto intent = text_at(charge, { "payment_intent" }))
            payments.push_back(*intent);
        // Before 2025-03-31 a charge named its invoice.
        if (auto invoice = text_at(charge, { "invoice" })) {
            if (auto linked = m_store.link_stripe_payment(*id, *invoice); !linked)
                return linked.error();
        }
        for (auto const& payment : payments) {
            if (auto recorded = m_store.record_stripe_refund(payment, m_event.id); !recorded)
                return recorded.error();
        }
        return reconcile_payments(payments, "charge " + *id + " refunded in full");
    }

    Result<Applied> checkout_completed(Json const& session)
    {
        auto id = text_at(session, { "id" });
        auto mode = text_at(session, { "mode" });
        if (!id || !mode)
            return malformed("a checkout session without an id or a mode");
        auto customer = text_at(session, { "customer" });
        auto email = text_at(session, { "customer_details", "email" });
        auto name = text_at(session, { "customer_details", "name" });
        if (customer) {
            if (auto merged = merge_customer_info(*customer, email, name); !merged)
                return merged.error();
        }
        auto plan = text_at(session, { "metadata", "charter_plan" });
        if (*mode != "payment" || !plan) {
            if (!customer)
                return Applied { "ignored", "checkout session " + *id + " names no customer and no charter_plan" };
            return reconcile_customer(*customer);
        }
        if (!customer && !email)
            return malformed("checkout session " + *id + " has neither a customer nor customer_details.email");
        auto item = item_of(*id);
        if (!item)
            return item.error();
        item->stripe_customer_id = customer;
        item->email = email;
        item->name = name;
        item->plan_id = plan;
        item->status = "paid";
        if (auto put = m_store.put_stripe_item(*item); !put)
            return put.error();
        // A refund names the payment intent: it pays this "invoice", the session.
        if (auto linked = m_store.link_stripe_invoice_item(*id, *id); !linked)
            return linked.error();
        if (auto linked = m_store.link_stripe_payment(*id, *id); !linked)
            return linked.error();
        if (auto intent = text_at(session, { "payment_intent" })) {
            if (auto linked = m_store.link_stripe_payment(*intent, *id); !linked)
                return linked.error();
        }
        auto reconciled = reconcile(*item);
        if (!reconciled)
            return reconciled.error();
        return Applied { "applied", *reconciled };
    }

    // Derives the item's license from its merged state and makes it so; says what it did.
    Result<std::string> reconcile(db::StripeItem& item)
    {
        std::string what = item.subscription_id ? "subscription " + *item.subscription_id + " item " + item.id : "purchase " + item.id;
        std::optional<db::Customer> customer;
        if (item.stripe_customer_id) {
            auto found = charter_customer(*item.stripe_customer_id);
            if (!found)
                return found.error();
            customer = std::move(*found);
        } else if (item.email) {
            auto found = customer_by_email(*item.email, item.name.value_or(""), std::nullopt);
            if (!found)
                return found.error();
            customer = std::move(*found);
        }
        if (!customer)
            return what + ": waiting for the customer's email (customer.created or invoice.paid)";
        std::optional<db::Plan> plan;
        if (item.plan_id) {
            auto found = m_store.get_plan(*item.plan_id);
            if (!found)
                return make_error(ErrorKind::not_found, "checkout session " + item.id + " names plan " + *item.plan_id
                        + " in its metadata (charter_plan), and there is no such plan; add it with `charter plan add`, then "
                          "`charter billing replay " + m_event.id + "`");
            plan = std::move(*found);
        } else {
            if (!item.price_id)
                return what + ": waiting for its price";
            auto found = m_store.find_plan_by_stripe_price(*item.price_id);
            if (!found)
                return found.error();
            if (!*found)
                return make_error(ErrorKind::not_found, "Stripe price " + *item.price_id + " (" + what
                        + ") sells no plan; attach it with `charter plan update PLAN --stripe-price " + *item.price_id
                        + "`, then `charter billing replay " + m_event.id + "`");
            plan = std::move(**found);
        }
        bool one_time = !item.subscription_id;
        std::optional<int64_t> end;
        if (!one_time) {
            if (!item.period_end)
                return what + ": waiting for its period";
            if (item.status == "incomplete" || item.status == "incomplete_expired")
                return what + ": not paid yet (" + *item.status + ")";
            end = *item.period_end + plan->grace_seconds;
        }
        auto refunded = m_store.stripe_item_refunded(item.id);
        if (!refunded)
            return refunded.error();
        bool revoke = (item.canceled && plan->on_cancel == "revoke") || (*refunded && plan->on_refund == "revoke");
        bool suspend = !item.canceled && (item.status == "past_due" || item.status == "unpaid")
            && plan->on_payment_failed == "suspend";

        std::vector<std::string> done;
        std::optional<db::License> license;
        if (item.license_id) {
            auto found = m_store.get_license(*item.license_id);
            if (!found)
                return found.error();
            license = std::move(*found);
        } else {
            if (end && *end <= m_now)
                return what + ": its period ended on " + format::format_rfc3339(*end) + ", no license";
            IssueRequest request;
            request.plan = plan->id;
            request.plan_ends_at = end;
            request.customer = customer->id;
            if (!customer->name.empty())
                request.name = customer->name;
            auto issued = m_issuer.issue(request, m_actor, m_now);
            if (!issued)
                return issued.error();
            item.license_id = issued->id;
            if (auto put = m_store.put_stripe_item(item); !put)
                return put.error();
            done.push_back("issued " + issued->id + " (" + plan->id + ")");
            license = std::move(*issued);
        }
        if (license->status == "revoked")
            return what + ": license " + license->id + " is revoked";

        LicenseChanges changes(m_store, m_issuer.key());
        // The terms: the plan, the end, the licensee's name.
        auto claims = keygen::claims_from_json(license->claims_json);
        if (!claims)
            return claims.error();
        UpdateRequest update;
        if (license->plan_id != plan->id)
            update.plan = plan->id;
        if (!customer->name.empty() && claims->name != customer->name)
            update.name = customer->name;
        bool move_end = end && license->expires_at != *end && *end > m_now;
        if (!update.empty() || (move_end && *end < license->expires_at.value_or(0))) {
            if (move_end)
                update.expires = format::format_rfc3339(*end);
            if (end && plan->updates_for && license->updates_until != *end && *end > m_now)
                update.updates_until = format::format_rfc3339(*end);
            auto changed = changes.update(license->id, update, m_actor, m_now);
            if (!changed)
                return changed.error();
            if (changed->new_version)
                done.push_back("updated " + license->id + " to " + plan->id + " (version " + std::to_string(changed->license.version)
                    + ")");
            license = std::move(changed->license);
        } else if (move_end) {
            RenewRequest renew;
            renew.until = format::format_rfc3339(*end);
            auto renewed = changes.renew(license->id, renew, m_actor, m_now);
            if (!renewed)
                return renewed.error();
            license = std::move(renewed->license);
            done.push_back("renewed " + license->id + " to " + format::format_rfc3339(*end));
        }

        // The state: suspended while a payment failed (when the plan says so), revoked for good.
        if (suspend && !license->suspended_at) {
            auto suspended = suspend_license(m_store, license->id,
                "payment failed: Stripe subscription " + item.subscription_id.value_or(item.id) + " is " + *item.status
                    + "; update the card in the billing portal",
                m_actor, m_now);
            if (!suspended)
                return suspended.error();
            license = std::move(*suspended);
            done.push_back("suspended " + license->id);
        } else if (!suspend && license->suspended_at && license->suspend_reason
            && license->suspend_reason->rfind("payment failed:", 0) == 0) {
            auto reinstated = reinstate_license(m_store, license->id, m_actor, m_now);
            if (!reinstated)
                return reinstated.error();
            license = std::move(*reinstated);
            done.push_back("reinstated " + license->id);
        }
        if (revoke) {
            auto reason = *refunded ? std::string("refunded in full (Stripe)") : std::string("subscription canceled (Stripe)");
            if (auto revoked = revoke_license(m_store, license->id, reason, m_actor, m_now); !revoked)
                return revoked.error();
            done.push_back("revoked " + license->id + ": " + reason);
        }
        if (done.empty())
            return what + ": license " + license->id + " unchanged";
        std::string said = what + ": ";
        for (size_t i = 0; i < done.size(); ++i)
            said += (i ? ", " : "") + done[i];
        return said;
    }

    db::Store& m_store;
    Issuer& m_issuer;
    StripeEnvelope const& m_event;
    db::Actor m_actor;
    int64_t m_now;
};

Result<Json> parse_body(std::string_view body)
{
    auto json = Json::parse(body, nullptr, false);
    if (json.is_discarded() || !json.is_object())
        return make_error(ErrorKind::invalid_input, "the body is not a JSON object; Stripe sends events as JSON");
    return json;
}

// Applies an event's object in a savepoint: undone when it fails, the failure said in `failed`.
Result<Applied> apply_event(db::Store& store, Issuer& issuer, StripeEnvelope const& envelope, std::string const& body, int64_t now)
{
    auto json = parse_body(body);
    if (!json)
        return json.error();
    std::optional<Applied> applied;
    auto done = store.transaction([&]() -> Result<void> {
        auto const& object = (*json)["data"]["object"];
        Application application(store, issuer, envelope, now);
        auto result = application.apply(object);
        if (!result)
            return result.error();
        applied = std::move(*result);
        return {};
    });
    if (!done) {
        if (!is_event_failure(done.error()))
            return done.error();
        return Applied { "failed", done.error().message };
    }
    return std::move(*applied);
}

}

db::Actor stripe_actor(std::string const& event_id)
{
    return db::Actor { "stripe:" + event_id };
}

Result<StripeEnvelope> parse_stripe_envelope(std::string_view body)
{
    auto json = parse_body(body);
    if (!json)
        return json.error();
    auto id = text_at(*json, { "id" });
    auto type = text_at(*json, { "type" });
    auto created = integer_at(*json, { "created" });
    auto data = json->find("data");
    if (!id || id->rfind("evt_", 0) != 0 || id->size() > 255 || !type || type->size() > 255 || !created || data == json->end()
        || !data->is_object() || !data->contains("object") || !(*data)["object"].is_object())
        return make_error(ErrorKind::invalid_input,
            "the body is not a Stripe event (an object with an evt_ id, a type, created and data.object)");
    return StripeEnvelope { *id, *type, *created };
}

Result<ReceivedStripeEvent> receive_stripe_event(db::Store& store, Issuer& issuer, std::string const& body, int64_t now)
{
    auto envelope = parse_stripe_envelope(body);
    if (!envelope)
        return envelope.error();
    std::optional<ReceivedStripeEvent> received;
    auto done = store.transaction([&]() -> Result<void> {
        auto recorded = store.get_stripe_event(envelope->id);
        if (recorded) {
            received = ReceivedStripeEvent { std::move(*recorded), true };
            return {};
        }
        if (recorded.error().kind != ErrorKind::not_found)
            return recorded.error();
        auto applied = apply_event(store, issuer, *envelope, body, now);
        if (!applied)
            return applied.error();
        db::StripeEvent event { envelope->id, envelope->type, envelope->created, now, applied->outcome, applied->reason, body, now };
        if (auto inserted = store.insert_stripe_event(event); !inserted)
            return inserted.error();
        received = ReceivedStripeEvent { std::move(event), false };
        return {};
    });
    if (!done)
        return done.error();
    return std::move(*received);
}

Result<db::StripeEvent> replay_stripe_event(db::Store& store, Issuer& issuer, std::string const& id, int64_t now)
{
    std::optional<db::StripeEvent> replayed;
    auto done = store.transaction([&]() -> Result<void> {
        auto event = store.get_stripe_event(id);
        if (!event)
            return event.error();
        if (event->outcome == "applied")
            return make_error(ErrorKind::conflict, "Stripe event " + id + " was applied already (" + event->reason
                    + "); an event is applied once");
        auto envelope = parse_stripe_envelope(event->payload);
        if (!envelope)
            return envelope.error();
        auto applied = apply_event(store, issuer, *envelope, event->payload, now);
        if (!applied)
            return applied.error();
        if (auto set = store.set_stripe_event_outcome(id, applied->outcome, applied->reason, now); !set)
            return set.error();
        event->outcome = applied->outcome;
        event->reason = applied->reason;
        event->updated_at = now;
        replayed = std::move(*event);
        return {};
    });
    if (!done)
        return done.error();
    return std::move(*replayed);
}

Result<std::optional<std::string>> billing_warning(db::Store& store, std::string const& license_id)
{
    auto item = store.find_stripe_item_by_license(license_id);
    if (!item)
        return item.error();
    if (!*item || (*item)->canceled || ((*item)->status != "past_due" && (*item)->status != "unpaid"))
        return std::optional<std::string>();
    auto license = store.get_license(license_id);
    if (!license)
        return license.error();
    if (!license->plan_id)
        return std::optional<std::string>();
    auto plan = store.get_plan(*license->plan_id);
    if (!plan)
        return plan.error();
    if (plan->on_payment_failed != "warn")
        return std::optional<std::string>();
    return std::optional<std::string>("the payment of subscription " + (*item)->subscription_id.value_or((*item)->id)
        + " failed (" + *(*item)->status + "); update the card in the billing portal to keep this license");
}

}
