#include "charter/keygen/ops/plain_text.hpp"

#include "charter/utf8.hpp"

#include <cstdio>

namespace charter::ops {

namespace {

// The length of the UTF-8 sequence at text[i], or 0 when none starts there.
size_t sequence_length(std::string_view text, size_t i)
{
    auto lead = static_cast<unsigned char>(text[i]);
    size_t length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    if (length == 0 || i + length > text.size() || !charter::is_valid_utf8(text.substr(i, length)))
        return 0;
    return length;
}

bool is_c1(std::string_view text, size_t i)
{
    return static_cast<unsigned char>(text[i]) == 0xc2 && i + 1 < text.size()
        && static_cast<unsigned char>(text[i + 1]) >= 0x80 && static_cast<unsigned char>(text[i + 1]) <= 0x9f;
}

}

bool has_control_character(std::string_view text)
{
    for (size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f || is_c1(text, i))
            return true;
    }
    return false;
}

Result<void> check_one_line(std::string_view text, std::string_view what)
{
    if (!charter::is_valid_utf8(text))
        return make_error(ErrorKind::invalid_input, std::string(what) + " is not valid UTF-8");
    if (has_control_character(text))
        return make_error(ErrorKind::invalid_input, std::string(what)
                + " contains a control character (a line break, tab, escape or other non-printing character); "
                  "give it as one line of printable text");
    return {};
}

std::string printable(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    char escaped[8];
    for (size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '\\') {
            out += "\\\\";
            ++i;
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case 0x1b: out += "\\e"; break;
            default:
                std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
                out += escaped;
            }
            ++i;
            continue;
        }
        if (is_c1(text, i)) {
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(text[i + 1]));
            out += escaped;
            i += 2;
            continue;
        }
        size_t length = sequence_length(text, i);
        if (length == 0) {
            std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
            out += escaped;
            ++i;
            continue;
        }
        out.append(text.substr(i, length));
        i += length;
    }
    return out;
}

}
