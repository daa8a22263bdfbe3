#pragma once
// The UTF-8 rule of the tools (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF): what a license's claims, an issuer's name, a release's names and a plain-text
// input must be, and what the JSON string writer (json_string.hpp) replaces when it is broken.
// In common/ because db, keygen and the server all need it.

#include <cstddef>
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

/// True when `text` is well-formed UTF-8 (RFC 3629), as JSON text and a license's claims must be.
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

}
