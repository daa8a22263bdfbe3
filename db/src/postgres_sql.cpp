#include "postgres_sql.hpp"

#include <cctype>
#include <vector>

namespace charter::db {

namespace {

bool word_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// The pieces of `sql` outside quotes ('…', "…") and comments (-- …), each with whether it is code.
struct Piece {
    std::string text;
    bool code;
};

std::vector<Piece> split_quotes(std::string_view sql)
{
    std::vector<Piece> pieces;
    std::string current;
    size_t i = 0;
    auto flush = [&](bool code) {
        if (!current.empty())
            pieces.push_back({ std::move(current), code });
        current.clear();
    };
    while (i < sql.size()) {
        char c = sql[i];
        if (c == '\'' || c == '"') {
            flush(true);
            size_t end = i + 1;
            while (end < sql.size()) {
                if (sql[end] == c) {
                    if (end + 1 < sql.size() && sql[end + 1] == c) {
                        end += 2;
                        continue;
                    }
                    break;
                }
                ++end;
            }
            current = std::string(sql.substr(i, end + 1 - i));
            flush(false);
            i = end + 1;
            continue;
        }
        if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            flush(true);
            auto end = sql.find('\n', i);
            if (end == std::string_view::npos)
                end = sql.size();
            current = std::string(sql.substr(i, end - i));
            flush(false);
            i = end;
            continue;
        }
        current += c;
        ++i;
    }
    flush(true);
    return pieces;
}

std::string upper(std::string_view text)
{
    std::string result(text);
    for (auto& c : result)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return result;
}

// Replaces the whole word `from` (case-insensitive) by `to` in code.
std::string replace_word(std::string const& code, std::string_view from, std::string_view to)
{
    std::string result;
    auto const up = upper(code);
    size_t i = 0;
    while (i < code.size()) {
        auto found = up.find(from, i);
        if (found == std::string::npos) {
            result += code.substr(i);
            break;
        }
        bool starts = found == 0 || !word_char(code[found - 1]);
        bool ends = found + from.size() >= code.size() || !word_char(code[found + from.size()]);
        result += code.substr(i, found - i);
        if (starts && ends)
            result += to;
        else
            result += code.substr(found, from.size());
        i = found + from.size();
    }
    return result;
}

std::string placeholders(std::string const& code, int& next_bare)
{
    std::string result;
    for (size_t i = 0; i < code.size(); ++i) {
        if (code[i] != '?') {
            result += code[i];
            continue;
        }
        size_t end = i + 1;
        while (end < code.size() && std::isdigit(static_cast<unsigned char>(code[end])))
            ++end;
        std::string number = end > i + 1 ? code.substr(i + 1, end - i - 1) : std::to_string(next_bare++);
        // LIMIT ?N: SQLite's "no limit" is -1, which PostgreSQL refuses; its own is NULL.
        std::string before = upper(result);
        while (!before.empty() && std::isspace(static_cast<unsigned char>(before.back())))
            before.pop_back();
        if (before.size() >= 5 && before.compare(before.size() - 5, 5, "LIMIT") == 0
            && (before.size() == 5 || !word_char(before[before.size() - 6])))
            result += "NULLIF($" + number + ", -1)";
        else
            result += "$" + number;
        i = end - 1;
    }
    return result;
}

std::string join(std::vector<Piece> const& pieces)
{
    std::string result;
    for (auto const& piece : pieces)
        result += piece.text;
    return result;
}

// Adds the rowid column to each CREATE TABLE of `sql` whose INTEGER PRIMARY KEY (already an
// identity column) is not the rowid already, and drops WITHOUT ROWID.
std::string table_definitions(std::string const& sql)
{
    std::string result;
    auto const up = upper(sql);
    size_t i = 0;
    while (true) {
        auto found = up.find("CREATE TABLE", i);
        if (found == std::string::npos) {
            result += sql.substr(i);
            return result;
        }
        auto open = sql.find('(', found);
        if (open == std::string::npos) {
            result += sql.substr(i);
            return result;
        }
        int depth = 0;
        size_t close = open;
        for (; close < sql.size(); ++close) {
            if (sql[close] == '(')
                ++depth;
            else if (sql[close] == ')' && --depth == 0)
                break;
        }
        auto statement_end = sql.find(';', close);
        if (statement_end == std::string::npos)
            statement_end = sql.size();
        auto const tail = up.substr(close, statement_end - close);
        auto const body = up.substr(open, close - open);
        bool const without_rowid = tail.find("WITHOUT ROWID") != std::string::npos;
        bool const integer_key = body.find("AS IDENTITY PRIMARY KEY") != std::string::npos;
        result += sql.substr(i, open + 1 - i);
        if (!without_rowid && !integer_key)
            result += "\n    rowid BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL UNIQUE,";
        result += sql.substr(open + 1, close - open - 1);
        result += ")";
        std::string rest = sql.substr(close + 1, statement_end - close - 1);
        if (without_rowid) {
            auto at = upper(rest).find("WITHOUT ROWID");
            rest.erase(at, 13);
        }
        result += rest;
        i = statement_end;
    }
}

}

std::string postgres_statement(std::string_view sql)
{
    auto pieces = split_quotes(sql);
    int next_bare = 1;
    bool or_ignore = false;
    for (auto& piece : pieces) {
        if (!piece.code)
            continue;
        piece.text = placeholders(piece.text, next_bare);
        auto up = upper(piece.text);
        if (auto at = up.find("INSERT OR IGNORE INTO"); at != std::string::npos) {
            piece.text.replace(at, 21, "INSERT INTO");
            or_ignore = true;
        }
    }
    auto result = join(pieces);
    if (or_ignore) {
        auto up = upper(result);
        auto returning = up.rfind(" RETURNING ");
        if (returning == std::string::npos)
            result += " ON CONFLICT DO NOTHING";
        else
            result.insert(returning, " ON CONFLICT DO NOTHING");
    }
    return result;
}

std::string postgres_schema(std::string_view sql)
{
    auto pieces = split_quotes(sql);
    int next_bare = 1;
    for (auto& piece : pieces) {
        if (!piece.code)
            continue;
        piece.text = placeholders(piece.text, next_bare);
        piece.text = replace_word(piece.text, "AUTOINCREMENT", "");
        piece.text = replace_word(piece.text, "BLOB", "BYTEA");
        // Before INTEGER → BIGINT: an INTEGER PRIMARY KEY is SQLite's rowid, numbered by the database.
        auto up = upper(piece.text);
        for (auto at = up.find("INTEGER PRIMARY KEY"); at != std::string::npos; at = up.find("INTEGER PRIMARY KEY")) {
            piece.text.replace(at, 19, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
            up = upper(piece.text);
        }
        piece.text = replace_word(piece.text, "INTEGER", "BIGINT");
    }
    // Comments out of the way before finding table bodies: a parenthesis in a comment would count.
    std::vector<Piece> kept;
    for (auto& piece : pieces) {
        if (piece.code || piece.text.rfind("--", 0) != 0)
            kept.push_back(std::move(piece));
    }
    return table_definitions(join(kept));
}

}
