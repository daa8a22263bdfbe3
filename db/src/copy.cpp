// `charter db copy`: every row of every table from one database into another, either backend
// to either, in one transaction on the target, checked before it commits.

#include "store_impl.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace charter::db {

namespace {

// Tables are copied parents first, so that every foreign key finds its row. Tables not named
// here (added by a later migration) follow in name order: a new table that refers to another
// new one must be added here, after it.
constexpr char const* copy_order[] = { "settings", "signing_keys", "products", "customers", "plans", "licenses",
    "license_versions", "credentials", "admin_tokens", "releases", "gems", "gem_dependencies", "idempotency_keys",
    "audit", "downloads" };
// Rows the migrations themselves write (the releases generation): a new database has them, so
// they do not make a target non-empty; they are replaced by the source's, last, after the
// triggers that copying releases fired.
constexpr char const* seeded_tables[] = { "generations" };

constexpr char const* sql_sqlite_tables
    = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
constexpr char const* sql_postgres_tables = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                                            " AND table_type = 'BASE TABLE' AND table_name <> 'schema_version' ORDER BY table_name";
constexpr char const* sql_postgres_columns = "SELECT column_name, is_identity FROM information_schema.columns"
                                             " WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position";

struct Column {
    std::string name;
    bool identity { false }; // PostgreSQL numbers it (an INTEGER PRIMARY KEY, or the added rowid)
};

Result<std::vector<std::string>> texts(Connection& connection, char const* sql)
{
    int rc = code::done;
    auto select = connection.prepare_once(sql, rc);
    if (!select)
        return connection.error(rc);
    std::vector<std::string> values;
    while ((rc = select->step()) == code::row)
        values.push_back(select->text(0));
    if (rc != code::done)
        return connection.error(rc);
    return values;
}

Result<int64_t> scalar(Connection& connection, std::string const& sql)
{
    int rc = code::done;
    auto statement = connection.prepare_once(sql, rc);
    if (!statement)
        return connection.error(rc);
    rc = statement->step();
    if (rc != code::row)
        return connection.error(rc);
    return statement->integer(0);
}

std::string identifier(std::string const& name)
{
    return "\"" + name + "\"";
}

Result<std::vector<Column>> columns_of(Connection& connection, std::string const& table)
{
    std::vector<Column> columns;
    int rc = code::done;
    bool const postgres = connection.backend() == Backend::postgres;
    auto select = postgres ? connection.prepare_once(sql_postgres_columns, rc)
                           : connection.prepare_once("SELECT name, 'NO' FROM pragma_table_info(?1) ORDER BY cid", rc);
    if (!select)
        return connection.error(rc);
    select->bind_text(1, table);
    while ((rc = select->step()) == code::row)
        columns.push_back({ select->text(0), select->text(1) == "YES" });
    if (rc != code::done)
        return connection.error(rc);
    return columns;
}

Result<std::vector<std::string>> tables_of(Connection& connection)
{
    return texts(connection, connection.backend() == Backend::postgres ? sql_postgres_tables : sql_sqlite_tables);
}

bool seeded(std::string const& table)
{
    return std::find(std::begin(seeded_tables), std::end(seeded_tables), table) != std::end(seeded_tables);
}

// The columns to copy: those both have, by name. PostgreSQL's added `rowid` column is SQLite's
// rowid of the same table, so it is copied too (insertion order, which listings follow).
std::vector<std::string> shared_columns(std::vector<Column> const& source, std::vector<Column> const& target)
{
    std::set<std::string> in_target;
    for (auto const& column : target)
        in_target.insert(column.name);
    std::set<std::string> in_source;
    for (auto const& column : source)
        in_source.insert(column.name);
    std::vector<std::string> names;
    bool const rowid = in_source.count("rowid") || in_target.count("rowid");
    if (rowid)
        names.push_back("rowid");
    for (auto const& column : source) {
        if (column.name != "rowid" && in_target.count(column.name))
            names.push_back(column.name);
    }
    return names;
}

}

Result<std::vector<CopiedTable>> Store::copy_to(Store& target)
{
    if (m_impl->depth > 0 || target.m_impl->depth > 0)
        return make_error(ErrorKind::internal, "copy_to runs outside transactions");
    auto source_version = schema_version();
    auto target_version = target.schema_version();
    if (!source_version)
        return source_version.error();
    if (!target_version)
        return target_version.error();
    if (*source_version != *target_version)
        return make_error(ErrorKind::version, "the two databases have different schema versions (" + std::to_string(*source_version)
                + " and " + std::to_string(*target_version) + "); open both with this charter first");

    std::vector<CopiedTable> copied;
    auto& to = *target.m_impl;
    auto done = read_snapshot([&]() -> Result<void> {
        auto tables = tables_of(*m_impl->connection);
        if (!tables)
            return tables.error();
        std::vector<std::string> ordered;
        for (auto const* name : copy_order) {
            if (std::find(tables->begin(), tables->end(), name) != tables->end())
                ordered.push_back(name);
        }
        for (auto const& name : *tables) {
            if (std::find(ordered.begin(), ordered.end(), name) == ordered.end() && !seeded(name))
                ordered.push_back(name);
        }
        for (auto const& name : *tables) {
            if (seeded(name))
                ordered.push_back(name);
        }

        return to.atomically([&]() -> Result<void> {
            copied.clear();
            auto target_tables = tables_of(*to.connection);
            if (!target_tables)
                return target_tables.error();
            for (auto const& table : ordered) {
                if (std::find(target_tables->begin(), target_tables->end(), table) == target_tables->end())
                    return make_error(ErrorKind::invalid_input, "the target database " + target.name() + " has no table " + table);
                if (seeded(table))
                    continue;
                auto rows = scalar(*to.connection, "SELECT count(*) FROM " + identifier(table));
                if (!rows)
                    return rows.error();
                if (*rows > 0)
                    return make_error(ErrorKind::conflict, "the target database " + target.name() + " is not empty (table " + table + " has "
                            + std::to_string(*rows) + " rows); copy into a new, empty database");
            }
            for (auto const& table : ordered) {
                auto source_columns = columns_of(*m_impl->connection, table);
                if (!source_columns)
                    return source_columns.error();
                auto target_columns = columns_of(*to.connection, table);
                if (!target_columns)
                    return target_columns.error();
                auto names = shared_columns(*source_columns, *target_columns);
                std::string list, placeholders;
                for (size_t i = 0; i < names.size(); ++i) {
                    list += std::string(i ? ", " : "") + identifier(names[i]);
                    placeholders += std::string(i ? ", ?" : "?") + std::to_string(i + 1);
                }
                if (seeded(table)) {
                    if (int rc = to.connection->execute("DELETE FROM " + identifier(table)); rc != code::done)
                        return to.error(rc);
                }
                int rc = code::done;
                auto order = std::find(names.begin(), names.end(), "rowid") != names.end() ? " ORDER BY \"rowid\"" : "";
                // SQLite's rowid is not a column name it quotes: spell it bare there.
                std::string select_list = list;
                if (m_impl->backend() == Backend::sqlite) {
                    if (auto at = select_list.find("\"rowid\""); at != std::string::npos)
                        select_list.replace(at, 7, "rowid");
                }
                std::string insert_list = list;
                if (to.backend() == Backend::sqlite) {
                    if (auto at = insert_list.find("\"rowid\""); at != std::string::npos)
                        insert_list.replace(at, 7, "rowid");
                }
                auto select = m_impl->connection->prepare_once(
                    "SELECT " + select_list + " FROM " + identifier(table) + (*order ? std::string(" ORDER BY ") + (m_impl->backend() == Backend::sqlite ? "rowid" : "\"rowid\"") : ""), rc);
                if (!select)
                    return m_impl->error(rc);
                auto insert = to.connection->prepare_once("INSERT INTO " + identifier(table) + " (" + insert_list + ") VALUES (" + placeholders + ")", rc);
                if (!insert)
                    return to.error(rc);
                int64_t rows = 0;
                while ((rc = select->step()) == code::row) {
                    std::vector<std::string> values(names.size());
                    for (size_t i = 0; i < names.size(); ++i) {
                        int const column = static_cast<int>(i);
                        if (select->is_null(column)) {
                            insert->bind_null(column + 1);
                        } else {
                            values[i] = select->text(column);
                            insert->bind_text(column + 1, values[i]);
                        }
                    }
                    int inserted = insert->step();
                    insert->reset();
                    if (inserted != code::done)
                        return to.error(inserted);
                    ++rows;
                }
                if (rc != code::done)
                    return m_impl->error(rc);
                copied.push_back({ table, rows });
            }
            // PostgreSQL: the numbers the database hands out next follow the copied rows.
            if (to.backend() == Backend::postgres) {
                for (auto const& table : ordered) {
                    auto columns = columns_of(*to.connection, table);
                    if (!columns)
                        return columns.error();
                    for (auto const& column : *columns) {
                        if (!column.identity)
                            continue;
                        auto set = scalar(*to.connection, "SELECT setval(pg_get_serial_sequence('" + table + "', '" + column.name
                                + "'), coalesce((SELECT max(" + identifier(column.name) + ") FROM " + identifier(table) + "), 0) + 1, false)");
                        if (!set)
                            return set.error();
                    }
                }
            }
            // Checked on the target before it commits: every table's count, and the audit log's
            // ids in the same order.
            for (auto const& table : copied) {
                auto source_rows = scalar(*m_impl->connection, "SELECT count(*) FROM " + identifier(table.name));
                auto target_rows = scalar(*to.connection, "SELECT count(*) FROM " + identifier(table.name));
                if (!source_rows)
                    return source_rows.error();
                if (!target_rows)
                    return target_rows.error();
                if (*source_rows != table.rows || *target_rows != table.rows)
                    return make_error(ErrorKind::internal, "table " + table.name + " has " + std::to_string(*target_rows) + " rows in the copy, "
                            + std::to_string(*source_rows) + " in the source; nothing was copied");
            }
            auto source_audit = list_audit({});
            auto target_audit = target.list_audit({});
            if (!source_audit)
                return source_audit.error();
            if (!target_audit)
                return target_audit.error();
            bool same = source_audit->size() == target_audit->size();
            for (size_t i = 0; same && i < source_audit->size(); ++i) {
                auto const& a = (*source_audit)[i];
                auto const& b = (*target_audit)[i];
                same = a.id == b.id && a.at == b.at && a.action == b.action && a.subject == b.subject && a.actor == b.actor
                    && a.details_json == b.details_json;
            }
            if (!same)
                return make_error(ErrorKind::internal, "the audit log of the copy differs from the source's; nothing was copied");
            return {};
        });
    });
    if (!done)
        return done.error();
    return copied;
}

}
