#pragma once
// `charter issue --batch FILE.csv`: the rows of a batch file as issue requests.
//
// Columns (header row, any order, names case-sensitive): customer (required: id or email),
// product (required unless a default is given), expires, updates_until, not_before,
// entitlements (names separated by ';'), seats, name, meta (KEY=VALUE pairs separated by
// ';'). Empty cells mean "not set".

#include "charter/result.hpp"
#include "csv_reader.hpp"
#include "licensing.hpp"

#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace charter::ops {

struct BatchRow {
    size_t line { 0 };
    IssueRequest request;
};

/// Streams the rows of a batch file, so a batch of any size is read in fixed memory.
class BatchReader {
public:
    /// Reads and checks the header row.
    static Result<BatchReader> open(std::istream& in, std::optional<std::string> default_product);

    /// The next row, nullopt at the end; a malformed row is an error naming its line.
    Result<std::optional<BatchRow>> next();

private:
    BatchReader(std::istream& in, std::optional<std::string> default_product)
        : m_reader(in)
        , m_default_product(std::move(default_product))
    {
    }

    CsvReader m_reader;
    std::optional<std::string> m_default_product;
    std::vector<std::string> m_columns;
};

}
