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
    std::string out;
    out.reserve((size * 4 + 2) / 3);
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        uint32_t group = (uint32_t(bytes[i]) << 16) | (uint32_t(bytes[i + 1]) << 8) | bytes[i + 2];
        out += alphabet[(group >> 18) & 63];
        out += alphabet[(group >> 12) & 63];
        out += alphabet[(group >> 6) & 63];
        out += alphabet[group & 63];
    }
    size_t rest = size - i;
    if (rest == 1) {
        uint32_t group = uint32_t(bytes[i]) << 16;
        out += alphabet[(group >> 18) & 63];
        out += alphabet[(group >> 12) & 63];
    } else if (rest == 2) {
        uint32_t group = (uint32_t(bytes[i]) << 16) | (uint32_t(bytes[i + 1]) << 8);
        out += alphabet[(group >> 18) & 63];
        out += alphabet[(group >> 12) & 63];
        out += alphabet[(group >> 6) & 63];
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
    if (text.size() % 4 == 1)
        return -1;
    size_t written = 0;
    uint32_t group = 0;
    int bits = 0;
    for (char c : text) {
        int8_t value = reverse_table[static_cast<uint8_t>(c)];
        if (value < 0)
            return -1;
        group = (group << 6) | uint32_t(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[written++] = static_cast<uint8_t>(group >> bits);
            group &= (1u << bits) - 1;
        }
    }
    // Leftover bits (2 or 4) must be zero, or two encodings would decode to the same bytes.
    if (group != 0)
        return -1;
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
