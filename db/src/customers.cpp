// Customers: who licenses are issued to. Emails are unique regardless of case.

#include "store_impl.hpp"

namespace charter::db {

namespace {

constexpr char const* sql_insert_customer
    = "INSERT INTO customers (id, email, name, created_at, stripe_customer_id) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr char const* sql_update_customer
    = "UPDATE customers SET email = ?2, name = ?3, stripe_customer_id = ?4 WHERE id = ?1";
constexpr char const* sql_select_customer_by_stripe_id
    = "SELECT id, email, name, created_at, stripe_customer_id FROM customers WHERE stripe_customer_id = ?1";
// The email column is COLLATE NOCASE, so `email = ?1` compares case-insensitively.
constexpr char const* sql_select_customer
    = "SELECT id, email, name, created_at, stripe_customer_id FROM customers WHERE id = ?1 OR email = ?1"
      " ORDER BY id = ?1 DESC LIMIT 1";
constexpr char const* sql_select_customers
    = "SELECT id, email, name, created_at, stripe_customer_id FROM customers ORDER BY created_at, id";

Customer read_customer(Query const& row)
{
    return Customer {
        .id = row.text(0),
        .email = row.text(1),
        .name = row.text(2),
        .created_at = row.integer(3),
        .stripe_customer_id = row.optional_text(4),
    };
}

}

Result<void> Store::add_customer(Customer const& customer, Actor const& actor)
{
    if (customer.id.empty() || customer.email.empty())
        return make_error(ErrorKind::invalid_input, "a customer needs an id and an email");
    return m_impl->atomically([&]() -> Result<void> {
        auto insert = m_impl->query(sql_insert_customer);
        insert.bind(1, customer.id).bind(2, customer.email).bind(3, customer.name).bind(4, customer.created_at);
        insert.bind(5, customer.stripe_customer_id);
        if (int rc = insert.step(); rc != code::done) {
            if (rc == code::primary_key_violation)
                return make_error(ErrorKind::conflict, "customer " + customer.id + " already exists");
            if (rc == code::unique_violation) {
                auto existing = find_customer(customer.email);
                return make_error(ErrorKind::conflict,
                    "a customer with email " + customer.email + " already exists"
                        + (existing ? " (" + existing->id + ")" : std::string()));
            }
            return m_impl->error(rc);
        }
        auto details = JsonWriter().add("email", customer.email).add("name", customer.name);
        if (customer.stripe_customer_id)
            details.add("stripe_customer_id", *customer.stripe_customer_id);
        return m_impl->audit(actor, customer.created_at, "customer.add", customer.id, details.take());
    });
}

Result<void> Store::update_customer(Customer const& customer, int64_t at, Actor const& actor)
{
    if (customer.id.empty() || customer.email.empty())
        return make_error(ErrorKind::invalid_input, "a customer needs an id and an email");
    return m_impl->atomically([&]() -> Result<void> {
        auto update = m_impl->query(sql_update_customer);
        update.bind(1, customer.id).bind(2, customer.email).bind(3, customer.name).bind(4, customer.stripe_customer_id);
        if (int rc = update.step(); rc != code::done) {
            if (rc == code::unique_violation)
                return make_error(ErrorKind::conflict, "another customer already has email " + customer.email
                        + (customer.stripe_customer_id ? " or Stripe customer " + *customer.stripe_customer_id : std::string()));
            return m_impl->error(rc);
        }
        if (m_impl->connection->changes() == 0)
            return find_customer(customer.id).error();
        auto details = JsonWriter().add("email", customer.email).add("name", customer.name);
        if (customer.stripe_customer_id)
            details.add("stripe_customer_id", *customer.stripe_customer_id);
        return m_impl->audit(actor, at, "customer.update", customer.id, details.take());
    });
}

Result<std::optional<Customer>> Store::find_customer_by_stripe_id(std::string const& stripe_customer_id)
{
    auto select = m_impl->query(sql_select_customer_by_stripe_id);
    select.bind(1, stripe_customer_id);
    int rc = select.step();
    if (rc == code::row)
        return std::optional<Customer>(read_customer(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return std::optional<Customer>();
}

Result<Customer> Store::find_customer(std::string const& id_or_email)
{
    auto select = m_impl->query(sql_select_customer);
    select.bind(1, id_or_email);
    int rc = select.step();
    if (rc == code::row)
        return read_customer(select);
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found,
        "no customer " + id_or_email + "; add it with `charter customer add --email EMAIL`");
}

Result<std::vector<Customer>> Store::list_customers()
{
    auto select = m_impl->query(sql_select_customers);
    std::vector<Customer> customers;
    int rc;
    while ((rc = select.step()) == code::row)
        customers.push_back(read_customer(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return customers;
}

}
