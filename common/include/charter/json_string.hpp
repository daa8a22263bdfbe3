#pragma once
// The one JSON string writer of the tools (license claims, the access log, the audit log's
// details), and the UTF-8 rule it rests on. It lives in common/ because db, which may depend on
// nothing of ours, needs it as much as keygen and the server do.
//
// The bytes are exactly those of nlohmann's dump() (ensure_ascii off, error_handler replace), so
// a license's claims do not depend on which writer made them (tests/test_token_signer.cpp):
// '"' and '\\' escaped, \b \f \n \r \t, other control characters as \u00xx, everything else
// verbatim; an ill-formed UTF-8 sequence becomes one U+FFFD for its longest well-formed start
// (or for a byte that cannot start a sequence), and the byte that ended it is read again.

#include <cstddef>
#include <string>
#include <string_view>

namespace charter {

struct Utf8Sequence {
    size_t length { 0 };    // bytes of the well-formed start, at least 1
    bool complete { false }; // the bytes are a whole character
};

/// The UTF-8 sequence starting at text[at] (RFC 3629: no overlong forms, no surrogates,
/// nothing above U+10FFFF): how many of its bytes are well formed, and whether they are whole.
inline Utf8Sequence utf8_sequence_at(std::string_view text, size_t at)
{
    auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    unsigned char lead = byte(at);
    if (lead < 0x80)
        return { 1, true };
    size_t continuations = 0;
    // The second byte's range narrows for E0 (overlong), ED (surrogates), F0 (overlong) and F4
    // (above U+10FFFF); every other continuation byte is 80-BF.
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        continuations = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        continuations = 2;
        low = lead == 0xE0 ? 0xA0 : 0x80;
        high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        continuations = 3;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
        return { 1, false };
    }
    size_t length = 1;
    for (size_t i = 0; i < continuations; ++i, ++length) {
        if (at + length >= text.size())
            return { length, false };
        unsigned char next = byte(at + length);
        if (i == 0 ? next < low || next > high : (next & 0xC0) != 0x80)
            return { length, false };
    }
    return { length, true };
}

inline bool is_valid_utf8(std::string_view text)
{
    for (size_t i = 0; i < text.size();) {
        auto sequence = utf8_sequence_at(text, i);
        if (!sequence.complete)
            return false;
        i += sequence.length;
    }
    return true;
}

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
