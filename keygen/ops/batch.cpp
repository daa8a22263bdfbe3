#include "batch.hpp"


#include <array>
#include <charconv>

namespace charter::ops {

namespace {

constexpr std::array known_columns { "customer", "product", "expires", "updates_until", "not_before", "entitlements", "seats",
    "name", "meta" };

std::vector<std::string> split(std::string const& text, char separator)
{
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(separator, start);
        if (end == std::string::npos)
            end = text.size();
        std::string part = text.substr(start, end - start);
        if (!part.empty())
            parts.push_back(std::move(part));
        start = end + 1;
    }
    return parts;
}

Error row_error(size_t line, std::string const& message)
{
    return make_error(ErrorKind::invalid_input, "line " + std::to_string(line) + ": " + message);
}

}

Result<BatchReader> BatchReader::open(std::istream& in, std::optional<std::string> default_product)
{
    BatchReader batch(in, std::move(default_product));
    auto header = batch.m_reader.next();
    if (!header)
        return header.error();
    if (header->fields.empty())
        return make_error(ErrorKind::invalid_input, "the batch file is empty (it needs a header row, see `charter issue --help`)");
    auto const& columns = header->fields;
    for (auto const& column : columns) {
        if (std::find(known_columns.begin(), known_columns.end(), column) == known_columns.end())
            return row_error(1, "unknown column \"" + column + "\" (known: customer, product, expires, updates_until, not_before, "
                                "entitlements, seats, name, meta)");
        if (std::count(columns.begin(), columns.end(), column) > 1)
            return row_error(1, "column \"" + column + "\" appears twice");
    }
    if (std::find(columns.begin(), columns.end(), "customer") == columns.end())
        return row_error(1, "the header has no \"customer\" column");
    if (!batch.m_default_product && std::find(columns.begin(), columns.end(), "product") == columns.end())
        return row_error(1, "the header has no \"product\" column (or pass --product)");
    batch.m_columns = columns;
    return batch;
}

Result<std::optional<BatchRow>> BatchReader::next()
{
    while (!m_reader.at_end()) {
        auto record = m_reader.next();
        if (!record)
            return record.error();
        if (record->fields.empty() || (record->fields.size() == 1 && record->fields[0].empty()))
            continue; // a blank line
        if (record->fields.size() != m_columns.size())
            return row_error(record->line, "has " + std::to_string(record->fields.size()) + " fields, the header has "
                    + std::to_string(m_columns.size()));
        BatchRow row;
        row.line = record->line;
        if (m_default_product)
            row.request.product = *m_default_product;
        for (size_t i = 0; i < m_columns.size(); ++i) {
            auto const& column = m_columns[i];
            auto& value = record->fields[i];
            if (value.empty())
                continue;
            auto& request = row.request;
            if (column == "customer") {
                request.customer = value;
            } else if (column == "product") {
                request.product = value;
            } else if (column == "expires") {
                request.expires = value;
            } else if (column == "updates_until") {
                request.updates_until = value;
            } else if (column == "not_before") {
                request.not_before = value;
            } else if (column == "entitlements") {
                request.entitlements = split(value, ';');
            } else if (column == "name") {
                request.name = value;
            } else if (column == "seats") {
                int64_t seats = 0;
                auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seats);
                if (error != std::errc() || end != value.data() + value.size())
                    return row_error(row.line, "seats \"" + value + "\" is not a whole number");
                request.seats = seats;
            } else if (column == "meta") {
                for (auto const& pair : split(value, ';')) {
                    if (auto added = add_meta(request.meta, pair); !added)
                        return row_error(row.line, added.error().message);
                }
            }
        }
        if (row.request.customer.empty())
            return row_error(row.line, "the customer is empty");
        if (row.request.product.empty())
            return row_error(row.line, "the product is empty");
        return std::optional<BatchRow>(std::move(row));
    }
    return std::optional<BatchRow> {};
}

}
