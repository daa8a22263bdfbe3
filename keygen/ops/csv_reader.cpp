#include "charter/keygen/ops/csv_reader.hpp"

namespace charter::ops {

Result<CsvRecord> CsvReader::next()
{
    CsvRecord record;
    record.line = m_line;
    std::string field;
    bool in_quotes = false;
    bool after_quote = false;
    bool any = false;
    // Straight from the stream buffer: istream::get() builds a sentry per character, which
    // was a visible part of a 100,000-row batch.
    std::streambuf& in = *m_in.rdbuf();
    constexpr auto eof = std::char_traits<char>::eof();
    int c;
    while ((c = in.sbumpc()) != eof) {
        any = true;
        char ch = static_cast<char>(c);
        if (in_quotes) {
            if (ch == '"') {
                if (in.sgetc() == '"') {
                    in.sbumpc();
                    field += '"';
                } else {
                    in_quotes = false;
                    after_quote = true;
                }
            } else {
                if (ch == '\n')
                    ++m_line;
                field += ch;
            }
            continue;
        }
        if (ch == ',') {
            record.fields.push_back(std::move(field));
            field.clear();
            after_quote = false;
            continue;
        }
        if (ch == '\r' && in.sgetc() == '\n')
            continue;
        if (ch == '\n') {
            ++m_line;
            record.fields.push_back(std::move(field));
            return record;
        }
        if (after_quote)
            return make_error(ErrorKind::invalid_input, "line " + std::to_string(m_line) + ": text after a closing quote");
        if (ch == '"' && field.empty()) {
            in_quotes = true;
            continue;
        }
        field += ch;
    }
    if (in_quotes)
        return make_error(ErrorKind::invalid_input, "line " + std::to_string(record.line)
                + ": unterminated quoted field (the file looks truncated)");
    m_at_end = true;
    if (!any)
        return CsvRecord {};
    record.fields.push_back(std::move(field));
    return record;
}

}
