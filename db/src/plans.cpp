// Plans: named templates of license terms (a vendor's SKUs). Periods are stored as the
// calendar text the vendor wrote ("1y"), because a year is not a fixed number of seconds.

#include "store_impl.hpp"

namespace charter::db {

namespace {

#define CHARTER_PLAN_COLUMNS \
    "SELECT id, product_id, duration, updates_for, entitlements, seats, grace_seconds, created_at, updated_at, reminders," \
    " seat_counting, lease_seconds, on_payment_failed, on_cancel, on_refund FROM plans"

constexpr char const* sql_insert_plan
    = "INSERT INTO plans (id, product_id, duration, updates_for, entitlements, seats, grace_seconds, created_at,"
      " updated_at, reminders, seat_counting, lease_seconds, on_payment_failed, on_cancel, on_refund)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
constexpr char const* sql_update_plan
    = "UPDATE plans SET duration = ?2, updates_for = ?3, entitlements = ?4, seats = ?5, grace_seconds = ?6,"
      " updated_at = ?7, reminders = ?8, seat_counting = ?9, lease_seconds = ?10, on_payment_failed = ?11,"
      " on_cancel = ?12, on_refund = ?13 WHERE id = ?1";
constexpr char const* sql_select_plan_prices = "SELECT price_id FROM plan_stripe_prices WHERE plan_id = ?1 ORDER BY price_id";
constexpr char const* sql_delete_plan_prices = "DELETE FROM plan_stripe_prices WHERE plan_id = ?1";
constexpr char const* sql_insert_plan_price = "INSERT INTO plan_stripe_prices (price_id, plan_id) VALUES (?1, ?2)";
constexpr char const* sql_select_price_plan = "SELECT plan_id FROM plan_stripe_prices WHERE price_id = ?1";
constexpr char const* sql_select_plan = CHARTER_PLAN_COLUMNS " WHERE id = ?1";
constexpr char const* sql_select_plans = CHARTER_PLAN_COLUMNS " ORDER BY id";

#undef CHARTER_PLAN_COLUMNS

Plan read_plan(Query const& row)
{
    return Plan {
        .id = row.text(0),
        .product_id = row.text(1),
        .duration = row.text(2),
        .updates_for = row.optional_text(3),
        .entitlements = split_lines(row.text(4)),
        .seats = row.optional_integer(5),
        .grace_seconds = row.integer(6),
        .reminders = split_lines(row.text(9)),
        .created_at = row.integer(7),
        .updated_at = row.integer(8),
        .seat_counting = row.text(10),
        .lease_seconds = row.integer(11),
        .stripe_prices = {},
        .on_payment_failed = row.text(12),
        .on_cancel = row.text(13),
        .on_refund = row.text(14),
    };
}

std::string plan_details(Plan const& plan)
{
    return JsonWriter()
        .add("product", plan.product_id)
        .add("duration", plan.duration)
        .add("updates_for", plan.updates_for)
        .add("entitlements", join_lines(plan.entitlements))
        .add("seats", plan.seats)
        .add("grace_seconds", plan.grace_seconds)
        .add("reminders", join_lines(plan.reminders))
        .add("seat_counting", plan.seat_counting)
        .add("lease_seconds", plan.lease_seconds)
        .add("stripe_prices", join_lines(plan.stripe_prices))
        .add("on_payment_failed", plan.on_payment_failed)
        .add("on_cancel", plan.on_cancel)
        .add("on_refund", plan.on_refund)
        .take();
}

Result<void> check_plan(Plan const& plan)
{
    if (plan.id.empty() || plan.duration.empty())
        return make_error(ErrorKind::invalid_input, "a plan needs a name and a duration");
    if (plan.seat_counting != "machines" && plan.seat_counting != "processes" && plan.seat_counting != "cores")
        return make_error(ErrorKind::invalid_input, "a plan counts seats as machines, processes or cores");
    if (plan.lease_seconds < 0)
        return make_error(ErrorKind::invalid_input, "a plan's lease cannot be negative (0 is node-locked)");
    for (auto const& entitlement : plan.entitlements) {
        if (entitlement.empty() || entitlement.find('\n') != std::string::npos)
            return make_error(ErrorKind::invalid_input, "a plan's entitlement must be one non-empty line");
    }
    auto one_of = [](std::string const& value, char const* a, char const* b) { return value == a || value == b; };
    if (!one_of(plan.on_payment_failed, "warn", "suspend") || !one_of(plan.on_cancel, "end", "revoke")
        || !one_of(plan.on_refund, "keep", "revoke"))
        return make_error(ErrorKind::invalid_input, "a plan's billing policies must be warn|suspend, end|revoke and keep|revoke");
    return {};
}

}

Result<void> Store::read_plan_prices(Plan& plan)
{
    auto select = m_impl->query(sql_select_plan_prices);
    select.bind(1, plan.id);
    int rc;
    while ((rc = select.step()) == code::row)
        plan.stripe_prices.push_back(select.text(0));
    if (rc != code::done)
        return m_impl->error(rc);
    return {};
}

// Replaces the plan's Stripe prices; a price another plan has: ErrorKind::conflict naming it.
Result<void> Store::write_plan_prices(Plan const& plan)
{
    auto remove = m_impl->query(sql_delete_plan_prices);
    remove.bind(1, plan.id);
    if (int rc = remove.step(); rc != code::done)
        return m_impl->error(rc);
    for (auto const& price : plan.stripe_prices) {
        auto insert = m_impl->query(sql_insert_plan_price);
        insert.bind(1, price).bind(2, plan.id);
        if (int rc = insert.step(); rc != code::done) {
            if (is_unique_violation(rc)) {
                auto owner = find_plan_by_stripe_price(price);
                return make_error(ErrorKind::conflict, "Stripe price " + price + " already sells plan "
                        + (owner && *owner ? (*owner)->id : std::string("another plan"))
                        + "; a price belongs to one plan (remove it there with --remove-stripe-price)");
            }
            return m_impl->error(rc);
        }
    }
    return {};
}

Result<void> Store::add_plan(Plan const& plan, Actor const& actor)
{
    if (auto checked = check_plan(plan); !checked)
        return checked;
    return m_impl->atomically([&]() -> Result<void> {
        auto const entitlements = join_lines(plan.entitlements);
        auto const reminders = join_lines(plan.reminders);
        auto insert = m_impl->query(sql_insert_plan);
        insert.bind(1, plan.id).bind(2, plan.product_id).bind(3, plan.duration).bind(4, plan.updates_for);
        insert.bind(5, entitlements).bind(6, plan.seats).bind(7, plan.grace_seconds).bind(8, plan.created_at);
        insert.bind(9, plan.updated_at);
        insert.bind(10, reminders).bind(11, plan.seat_counting).bind(12, plan.lease_seconds);
        insert.bind(13, plan.on_payment_failed).bind(14, plan.on_cancel).bind(15, plan.on_refund);
        if (int rc = insert.step(); rc != code::done) {
            if (is_unique_violation(rc))
                return make_error(ErrorKind::conflict, "plan " + plan.id + " already exists; change it with `charter plan update "
                        + plan.id + "`");
            if (is_foreign_key_violation(rc)) {
                if (auto product = get_product(plan.product_id); !product)
                    return product.error();
            }
            return m_impl->error(rc);
        }
        if (auto prices = write_plan_prices(plan); !prices)
            return prices;
        return m_impl->audit(actor, plan.created_at, "plan.add", plan.id, plan_details(plan));
    });
}

Result<void> Store::update_plan(Plan const& plan, Actor const& actor)
{
    if (auto checked = check_plan(plan); !checked)
        return checked;
    return m_impl->atomically([&]() -> Result<void> {
        auto const entitlements = join_lines(plan.entitlements);
        auto const reminders = join_lines(plan.reminders);
        auto update = m_impl->query(sql_update_plan);
        update.bind(1, plan.id).bind(2, plan.duration).bind(3, plan.updates_for).bind(4, entitlements);
        update.bind(5, plan.seats).bind(6, plan.grace_seconds).bind(7, plan.updated_at);
        update.bind(8, reminders).bind(9, plan.seat_counting).bind(10, plan.lease_seconds);
        update.bind(11, plan.on_payment_failed).bind(12, plan.on_cancel).bind(13, plan.on_refund);
        if (int rc = update.step(); rc != code::done)
            return m_impl->error(rc);
        if (m_impl->connection->changes() == 0)
            return get_plan(plan.id).error();
        if (auto prices = write_plan_prices(plan); !prices)
            return prices;
        return m_impl->audit(actor, plan.updated_at, "plan.update", plan.id, plan_details(plan));
    });
}

Result<Plan> Store::get_plan(std::string const& id)
{
    auto select = m_impl->query(sql_select_plan);
    select.bind(1, id);
    int rc = select.step();
    if (rc != code::row && rc != code::done)
        return m_impl->error(rc);
    if (rc == code::done)
        return make_error(ErrorKind::not_found, "no plan " + id + "; `charter plan list` shows the plans");
    auto plan = read_plan(select);
    if (auto prices = read_plan_prices(plan); !prices)
        return prices.error();
    return plan;
}

Result<std::optional<Plan>> Store::find_plan_by_stripe_price(std::string const& price_id)
{
    std::string plan_id;
    {
        auto select = m_impl->query(sql_select_price_plan);
        select.bind(1, price_id);
        int rc = select.step();
        if (rc == code::done)
            return std::optional<Plan>();
        if (rc != code::row)
            return m_impl->error(rc);
        plan_id = select.text(0);
    }
    auto plan = get_plan(plan_id);
    if (!plan)
        return plan.error();
    return std::optional<Plan>(std::move(*plan));
}

Result<std::vector<Plan>> Store::list_plans()
{
    auto select = m_impl->query(sql_select_plans);
    std::vector<Plan> plans;
    int rc;
    while ((rc = select.step()) == code::row)
        plans.push_back(read_plan(select));
    if (rc != code::done)
        return m_impl->error(rc);
    for (auto& plan : plans) {
        if (auto prices = read_plan_prices(plan); !prices)
            return prices.error();
    }
    return plans;
}

}
