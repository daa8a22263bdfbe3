// Products: what a license is for. The product id is also the PASETO implicit assertion.

#include "store_impl.hpp"

namespace charter::db {

namespace {

constexpr char const* sql_insert_product
    = "INSERT INTO products (id, name, keep_access_after_expiry, created_at) VALUES (?1, ?2, ?3, ?4)";
constexpr char const* sql_select_product
    = "SELECT id, name, keep_access_after_expiry, created_at FROM products WHERE id = ?1";
constexpr char const* sql_select_products
    = "SELECT id, name, keep_access_after_expiry, created_at FROM products ORDER BY id";

Product read_product(Query const& row)
{
    return Product {
        .id = row.text(0),
        .name = row.text(1),
        .keep_access_after_expiry = row.boolean(2),
        .created_at = row.integer(3),
    };
}

}

Result<void> Store::add_product(Product const& product, Actor const& actor)
{
    if (product.id.empty())
        return make_error(ErrorKind::invalid_input, "a product needs an id");
    return m_impl->atomically([&]() -> Result<void> {
        auto insert = m_impl->query(sql_insert_product);
        insert.bind(1, product.id).bind(2, product.name).bind_bool(3, product.keep_access_after_expiry).bind(4, product.created_at);
        if (int rc = insert.step(); rc != code::done) {
            if (is_unique_violation(rc))
                return make_error(ErrorKind::conflict, "product " + product.id + " already exists");
            return m_impl->error(rc);
        }
        auto details = JsonWriter()
                           .add("name", product.name)
                           .add_bool("keep_access_after_expiry", product.keep_access_after_expiry)
                           .take();
        return m_impl->audit(actor, product.created_at, "product.add", product.id, details);
    });
}

Result<Product> Store::get_product(std::string const& id)
{
    auto select = m_impl->query(sql_select_product);
    select.bind(1, id);
    int rc = select.step();
    if (rc == code::row)
        return read_product(select);
    if (rc != code::done)
        return m_impl->error(rc);
    return make_error(ErrorKind::not_found, "no product " + id + "; add it with `charter product add " + id + "`");
}

Result<std::vector<Product>> Store::list_products()
{
    auto select = m_impl->query(sql_select_products);
    std::vector<Product> products;
    int rc;
    while ((rc = select.step()) == code::row)
        products.push_back(read_product(select));
    if (rc != code::done)
        return m_impl->error(rc);
    return products;
}

}
