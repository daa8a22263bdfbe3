// Stripe billing: the events received, and the state merged from them (docs/billing.md). Not
// audited here: the license and customer changes the events cause write their own audit rows.

#include "store_impl.hpp"

namespace charter::db {

namespace {

constexpr char const* sql_insert_event
    = "INSERT INTO stripe_events (id, type, created, received_at, outcome, reason, payload, updated_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr char const* sql_update_event_outcome = "UPDATE stripe_events SET outcome = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1";
#define CHARTER_EVENT_COLUMNS "SELECT id, type, created, received_at, outcome, reason, payload, updated_at FROM stripe_events"
constexpr char const* sql_select_event = CHARTER_EVENT_COLUMNS " WHERE id = ?1";
constexpr char const* sql_select_events = CHARTER_EVENT_COLUMNS
    " WHERE (CAST(?1 AS TEXT) IS NULL OR type = ?1) AND (CAST(?2 AS TEXT) IS NULL OR outcome = ?2) ORDER BY received_at DESC, id DESC LIMIT ?3";
#undef CHARTER_EVENT_COLUMNS

constexpr char const* sql_select_customer = "SELECT id, email, name, info_created, info_event FROM stripe_customers WHERE id = ?1";
constexpr char const* sql_upsert_customer
    = "INSERT INTO stripe_customers (id, email, name, info_created, info_event) VALUES (?1, ?2, ?3, ?4, ?5)"
      " ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, info_created = excluded.info_created,"
      " info_event = excluded.info_event";

#define CHARTER_ITEM_COLUMNS \
    "SELECT id, subscription_id, stripe_customer_id, email, name, price_id, price_created, price_event, plan_id, status," \
    " status_created, status_event, cancel_at_period_end, period_end, canceled, license_id FROM stripe_items"
constexpr char const* sql_select_item = CHARTER_ITEM_COLUMNS " WHERE id = ?1";
constexpr char const* sql_select_items_of_customer = CHARTER_ITEM_COLUMNS " WHERE stripe_customer_id = ?1 ORDER BY id";
constexpr char const* sql_select_item_of_license = CHARTER_ITEM_COLUMNS " WHERE license_id = ?1";
#undef CHARTER_ITEM_COLUMNS
constexpr char const* sql_upsert_item
    = "INSERT INTO stripe_items (id, subscription_id, stripe_customer_id, email, name, price_id, price_created, price_event,"
      " plan_id, status, status_created, status_event, cancel_at_period_end, period_end, canceled, license_id)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
      " ON CONFLICT (id) DO UPDATE SET subscription_id = excluded.subscription_id,"
      " stripe_customer_id = excluded.stripe_customer_id, email = excluded.email, name = excluded.name,"
      " price_id = excluded.price_id, price_created = excluded.price_created, price_event = excluded.price_event,"
      " plan_id = excluded.plan_id, status = excluded.status, status_created = excluded.status_created,"
      " status_event = excluded.status_event, cancel_at_period_end = excluded.cancel_at_period_end,"
      " period_end = excluded.period_end, canceled = excluded.canceled, license_id = excluded.license_id";

constexpr char const* sql_link_invoice_item
    = "INSERT INTO stripe_invoice_items (invoice_id, item_id) VALUES (?1, ?2) ON CONFLICT (invoice_id, item_id) DO NOTHING";
constexpr char const* sql_link_payment
    = "INSERT INTO stripe_payments (payment_id, invoice_id) VALUES (?1, ?2) ON CONFLICT (payment_id, invoice_id) DO NOTHING";
constexpr char const* sql_insert_refund
    = "INSERT INTO stripe_refunds (payment_id, event_id) VALUES (?1, ?2) ON CONFLICT (payment_id) DO NOTHING";
constexpr char const* sql_item_refunded
    = "SELECT count(*) FROM stripe_invoice_items i JOIN stripe_payments p ON p.invoice_id = i.invoice_id"
      " JOIN stripe_refunds r ON r.payment_id = p.payment_id WHERE i.item_id = ?1";
constexpr char const* sql_items_of_payment
    = "SELECT DISTINCT i.item_id FROM stripe_payments p JOIN stripe_invoice_items i ON i.invoice_id = p.invoice_id"
      " WHERE p.payment_id = ?1 ORDER BY i.item_id";

StripeEvent read_event(Query const& row)
{
    return StripeEvent {
        .id = row.text(0),
        .type = row.text(1),
        .created = row.integer(2),
        .received_at = row.integer(3),
        .outcome = row.text(4),
        .reason = row.text(5),
        .payload = row.text(6),
        .updated_at = row.integer(7),
    };
}

StripeItem read_item(Query const& row)
{
    return StripeItem {
        .id = row.text(0),
        .subscription_id = row.optional_text(1),
        .stripe_customer_id = row.optional_text(2),
        .email = row.optional_text(3),
        .name = row.optional_text(4),
        .price_id = row.optional_text(5),
        .price_created = row.integer(6),
        .price_event = row.text(7),
        .plan_id = row.optional_text(8),
        .status = row.optional_text(9),
        .status_created = row.integer(10),
        .status_event = row.text(11),
        .cancel_at_period_end = row.boolean(12),
        .period_end = row.optional_integer(13),
        .canceled = row.boolean(14),
        .license_id = row.optional_text(15),
    };
}

}

Result<void> Store::insert_stripe_event(StripeEvent const& event)
{
    auto insert = m_impl->query(sql_insert_event);
    insert.bind(1, event.id).bind(2, event.type).bind(3, event.created).bind(4, event.received_at).bind(5, event.outcome);
    insert.bind(6, event.reason).bind(7, event.payload).bind(8, event.updated_at);
    if (int rc = insert.step(); rc != code::done) {
        if (is_unique_violation(rc))
            return make_error(ErrorKind::conflict, "Stripe event " + event.id + " was received already");
        return m_impl->error(rc);
    }
    return {};
}

Result<void> Store::set_stripe_event_outcome(std::string const& id, std::string const& outcome, std::string const& reason,
    int64_t at)
{
    auto update = m_impl->query(sql_update_event_outcome);
    update.bind(1, id).bind(2, outcome).bind(3, reason).bind(4, at);
    if (int rc = update.step(); rc != code::done)
        return m_impl->error(rc);
    if (m_impl->connection->changes() == 0)
        return get_stripe_event(id).error();
    return {};
}

Result<StripeEvent> Store::get_stripe_event(std::string const& id)
{
    auto select = m_impl->query(sql_select_event);
    select.bind(1, id);
    int rc = select.step();
    if (rc == code::row)
        return read_event(select);
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no Stripe event " + id + " was received; `charter billing events` lists them");
}

Result<std::vector<StripeEvent>> Store::list_stripe_events(StripeEventFilter const& filter)
{
    auto select = m_impl->query(sql_select_events);
    select.bind(1, filter.type).bind(2, filter.outcome).bind(3, filter.limit.value_or(-1));
    std::vector<StripeEvent> events;
    int rc;
    while ((rc = select.step()) == code::row)
        events.push_back(read_event(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return events;
}

Result<std::optional<StripeCustomer>> Store::get_stripe_customer(std::string const& id)
{
    auto select = m_impl->query(sql_select_customer);
    select.bind(1, id);
    int rc = select.step();
    if (rc == code::done)
        return std::optional<StripeCustomer>();
    if (rc != code::row)
        return m_impl->error(rc);
    return std::optional<StripeCustomer>(StripeCustomer {
        .id = select.text(0),
        .email = select.optional_text(1),
        .name = select.optional_text(2),
        .info_created = select.integer(3),
        .info_event = select.text(4),
    });
}

Result<void> Store::put_stripe_customer(StripeCustomer const& customer)
{
    auto upsert = m_impl->query(sql_upsert_customer);
    upsert.bind(1, customer.id).bind(2, customer.email).bind(3, customer.name).bind(4, customer.info_created);
    upsert.bind(5, customer.info_event);
    if (int rc = upsert.step(); rc != code::done)
        return m_impl->error(rc);
    return {};
}

Result<std::optional<StripeItem>> Store::get_stripe_item(std::string const& id)
{
    auto select = m_impl->query(sql_select_item);
    select.bind(1, id);
    int rc = select.step();
    if (rc == code::done)
        return std::optional<StripeItem>();
    if (rc != code::row)
        return m_impl->error(rc);
    return std::optional<StripeItem>(read_item(select));
}

Result<void> Store::put_stripe_item(StripeItem const& item)
{
    auto upsert = m_impl->query(sql_upsert_item);
    upsert.bind(1, item.id).bind(2, item.subscription_id).bind(3, item.stripe_customer_id).bind(4, item.email);
    upsert.bind(5, item.name).bind(6, item.price_id).bind(7, item.price_created).bind(8, item.price_event);
    upsert.bind(9, item.plan_id).bind(10, item.status).bind(11, item.status_created).bind(12, item.status_event);
    upsert.bind_bool(13, item.cancel_at_period_end).bind(14, item.period_end).bind_bool(15, item.canceled);
    upsert.bind(16, item.license_id);
    if (int rc = upsert.step(); rc != code::done)
        return m_impl->error(rc);
    return {};
}

Result<std::vector<StripeItem>> Store::list_stripe_items_of_customer(std::string const& stripe_customer_id)
{
    auto select = m_impl->query(sql_select_items_of_customer);
    select.bind(1, stripe_customer_id);
    std::vector<StripeItem> items;
    int rc;
    while ((rc = select.step()) == code::row)
        items.push_back(read_item(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return items;
}

Result<std::optional<StripeItem>> Store::find_stripe_item_by_license(std::string const& license_id)
{
    auto select = m_impl->query(sql_select_item_of_license);
    select.bind(1, license_id);
    int rc = select.step();
    if (rc == code::done)
        return std::optional<StripeItem>();
    if (rc != code::row)
        return m_impl->error(rc);
    return std::optional<StripeItem>(read_item(select));
}

Result<void> Store::link_stripe_invoice_item(std::string const& invoice_id, std::string const& item_id)
{
    auto insert = m_impl->query(sql_link_invoice_item);
    insert.bind(1, invoice_id).bind(2, item_id);
    if (int rc = insert.step(); rc != code::done)
        return m_impl->error(rc);
    return {};
}

Result<void> Store::link_stripe_payment(std::string const& payment_id, std::string const& invoice_id)
{
    auto insert = m_impl->query(sql_link_payment);
    insert.bind(1, payment_id).bind(2, invoice_id);
    if (int rc = insert.step(); rc != code::done)
        return m_impl->error(rc);
    return {};
}

Result<void> Store::record_stripe_refund(std::string const& payment_id, std::string const& event_id)
{
    auto insert = m_impl->query(sql_insert_refund);
    insert.bind(1, payment_id).bind(2, event_id);
    if (int rc = insert.step(); rc != code::done)
        return m_impl->error(rc);
    return {};
}

Result<bool> Store::stripe_item_refunded(std::string const& item_id)
{
    auto select = m_impl->query(sql_item_refunded);
    select.bind(1, item_id);
    int rc = select.step();
    if (rc != code::row)
        return m_impl->error(rc);
    return select.integer(0) > 0;
}

Result<std::vector<std::string>> Store::stripe_items_of_payment(std::string const& payment_id)
{
    auto select = m_impl->query(sql_items_of_payment);
    select.bind(1, payment_id);
    std::vector<std::string> items;
    int rc;
    while ((rc = select.step()) == code::row)
        items.push_back(select.text(0));
    if (rc != code::done)
        return m_impl->error(rc);
    return items;
}

}
