#pragma once
// RFC 4180 CSV: a header row, comma-separated fields, optional double quotes (with "" for a
// quote inside), CRLF or LF line ends. Every record remembers the line it started on, so
// errors can name it.

#include "charter/result.hpp"

#include <istream>
#include <string>
#include <vector>

namespace charter::ops {

struct CsvRecord {
    size_t line { 0 };
    std::vector<std::string> fields;
};

class CsvReader {
public:
    explicit CsvReader(std::istream& in) : m_in(in) { }

    /// The next record; an empty optional-like result (fields empty, line 0) at the end.
    /// Fails on an unterminated quote (a truncated file) or text after a closing quote.
    Result<CsvRecord> next();
    bool at_end() const { return m_at_end; }

private:
    std::istream& m_in;
    size_t m_line { 1 };
    bool m_at_end { false };
};

}
