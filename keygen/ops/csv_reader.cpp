#include "csv_reader.hpp"

namespace charter::ops {

Result<CsvRecord> CsvReader::next()
{
    CsvRecord record;
    record.line = m_line;
    std::string field;
    bool in_quotes = false;
    bool after_quote = false;
    bool any = false;
    int c;
    while ((c = m_in.get()) != std::char_traits<char>::eof()) {
        any = true;
        char ch = static_cast<char>(c);
        if (in_quotes) {
            if (ch == '"') {
                if (m_in.peek() == '"') {
                    m_in.get();
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
        if (ch == '\r' && m_in.peek() == '\n')
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
