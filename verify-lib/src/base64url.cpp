#include "base64url.hpp"

#include <array>

namespace charter::format {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> make_reverse_table()
{
    std::array<int8_t, 256> table {};
    for (auto& entry : table)
        entry = -1;
    for (int i = 0; i < 64; ++i)
        table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
    return table;
}

constexpr auto reverse_table = make_reverse_table();

}

std::string base64url_encode(uint8_t const* bytes, size_t size)
{
    // Into a buffer of the final size (no capacity check per character): every license a
    // batch issues is encoded here.
    std::string out((size * 4 + 2) / 3, '\0');
    char* next = out.data();
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        uint32_t group = (uint32_t(bytes[i]) << 16) | (uint32_t(bytes[i + 1]) << 8) | bytes[i + 2];
        next[0] = alphabet[(group >> 18) & 63];
        next[1] = alphabet[(group >> 12) & 63];
        next[2] = alphabet[(group >> 6) & 63];
        next[3] = alphabet[group & 63];
        next += 4;
    }
    size_t rest = size - i;
    if (rest == 1) {
        uint32_t group = uint32_t(bytes[i]) << 16;
        next[0] = alphabet[(group >> 18) & 63];
        next[1] = alphabet[(group >> 12) & 63];
    } else if (rest == 2) {
        uint32_t group = (uint32_t(bytes[i]) << 16) | (uint32_t(bytes[i + 1]) << 8);
        next[0] = alphabet[(group >> 18) & 63];
        next[1] = alphabet[(group >> 12) & 63];
        next[2] = alphabet[(group >> 6) & 63];
    }
    return out;
}

std::string base64url_encode(std::string_view bytes)
{
    return base64url_encode(reinterpret_cast<uint8_t const*>(bytes.data()), bytes.size());
}

long base64url_decode_into(std::string_view text, uint8_t* out)
{
    // A single leftover character carries only 6 bits: no byte string encodes to that.
    size_t leftover = text.size() % 4;
    if (leftover == 1)
        return -1;
    auto const* in = reinterpret_cast<uint8_t const*>(text.data());
    auto value = [&](size_t i) { return reverse_table[in[i]]; };
    size_t written = 0;
    // Four characters at a time: 24 bits, three bytes. An invalid character is -1, so the OR
    // of the four is negative exactly when one of them is invalid.
    size_t full = text.size() - leftover;
    for (size_t i = 0; i < full; i += 4) {
        int8_t a = value(i), b = value(i + 1), c = value(i + 2), d = value(i + 3);
        if ((a | b | c | d) < 0)
            return -1;
        uint32_t group = uint32_t(a) << 18 | uint32_t(b) << 12 | uint32_t(c) << 6 | uint32_t(d);
        out[written] = static_cast<uint8_t>(group >> 16);
        out[written + 1] = static_cast<uint8_t>(group >> 8);
        out[written + 2] = static_cast<uint8_t>(group);
        written += 3;
    }
    // The last two or three characters carry one or two bytes; their unused low bits (4 or 2)
    // must be zero, or two encodings would decode to the same bytes.
    if (leftover == 2) {
        int8_t a = value(full), b = value(full + 1);
        if ((a | b) < 0 || (b & 0x0f) != 0)
            return -1;
        out[written++] = static_cast<uint8_t>(uint32_t(a) << 2 | uint32_t(b) >> 4);
    } else if (leftover == 3) {
        int8_t a = value(full), b = value(full + 1), c = value(full + 2);
        if ((a | b | c) < 0 || (c & 0x03) != 0)
            return -1;
        uint32_t group = uint32_t(a) << 12 | uint32_t(b) << 6 | uint32_t(c);
        out[written++] = static_cast<uint8_t>(group >> 10);
        out[written++] = static_cast<uint8_t>(group >> 2);
    }
    return static_cast<long>(written);
}

std::optional<std::string> base64url_decode(std::string_view text)
{
    std::string out(base64url_decoded_size(text.size()), '\0');
    long written = base64url_decode_into(text, reinterpret_cast<uint8_t*>(out.data()));
    if (written < 0)
        return std::nullopt;
    out.resize(static_cast<size_t>(written));
    return out;
}

}
