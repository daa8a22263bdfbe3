#pragma once
// The one JSON string writer of the tools (license claims, the access log, the audit log's
// details), on the UTF-8 rule of utf8.hpp. It lives in common/ because db, which may depend on
// nothing of ours, needs it as much as keygen and the server do.
//
// The bytes are exactly those of nlohmann's dump() (ensure_ascii off, error_handler replace), so
// a license's claims do not depend on which writer made them (tests/test_token_signer.cpp):
// '"' and '\\' escaped, \b \f \n \r \t, other control characters as \u00xx, everything else
// verbatim; an ill-formed UTF-8 sequence becomes one U+FFFD for its longest well-formed start
// (or for a byte that cannot start a sequence), and the byte that ended it is read again.

#include "charter/utf8.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace charter {

/// Appends `text` to `out` as a JSON string literal, quotes included.
inline void append_json_string(std::string& out, std::string_view text)
{
    static constexpr char hex[] = "0123456789abcdef";
    auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; };
    out += '"';
    size_t i = 0;
    while (i < text.size()) {
        size_t run = i;
        while (run < text.size() && plain(static_cast<unsigned char>(text[run])))
            ++run;
        out.append(text.substr(i, run - i));
        i = run;
        if (i == text.size())
            break;
        auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            auto sequence = utf8_sequence_at(text, i);
            out.append(sequence.complete ? text.substr(i, sequence.length) : std::string_view("\xEF\xBF\xBD"));
            i += sequence.length;
            continue;
        }
        ++i;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xF];
        }
    }
    out += '"';
}

/// `text` as a JSON string literal.
inline std::string json_string(std::string_view text)
{
    std::string out;
    out.reserve(text.size() + 2);
    append_json_string(out, text);
    return out;
}

}
