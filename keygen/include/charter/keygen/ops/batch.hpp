#pragma once
// `charter issue --batch FILE.csv`: the rows of a batch file as issue requests.
//
// Columns (header row, any order, names case-sensitive): customer (required: id or email),
// product (required unless a default is given), expires, updates_until, not_before,
// entitlements (names separated by ';'), seats, name, meta (KEY=VALUE pairs separated by
// ';'). Empty cells mean "not set".

#include "charter/keygen/ops/csv_reader.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "charter/result.hpp"

#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
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

/// What a batch prints, held back until its transaction has committed (a key is never shown
/// before its license is durable). It goes to an unlinked temporary file in `directory` (the
/// data directory, where the same keys are stored anyway), not to memory, so a batch of any
/// size runs in flat memory and nothing has to be read back from the database.
class HeldOutput {
public:
    static Result<HeldOutput> create(std::filesystem::path const& directory);
    HeldOutput(HeldOutput&& other) noexcept;
    HeldOutput& operator=(HeldOutput&&) = delete;
    ~HeldOutput();

    Result<void> append(std::string_view text);
    /// Writes everything appended so far to `fd`, from the start.
    Result<void> copy_to(int fd);

private:
    explicit HeldOutput(int fd) : m_fd(fd) { }
    Result<void> flush();

    int m_fd { -1 };
    std::string m_buffer;
};

}
