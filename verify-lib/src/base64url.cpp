#include "charter/format/base64url.hpp"

#include <array>
#include <sodium.h>

namespace charter::format {

// Public input is decoded by a table, four characters at a time: a license key is checked on
// every start of the vendor's application and on every request to charter-server, and
// libsodium's constant-time decoder took about 4 µs of an 813-character token, 9 % of a whole
// verification (docs/performance.md). Timing can only tell about bytes the observer does not
// know; a token, a public key or a client's own credentials are known to whoever sends them.
//
// Secrets go through libsodium's codec (URL-safe, unpadded), which runs in constant time and is
// exactly as strict: it refuses '=', ASCII characters outside the alphabet, a lone leftover
// character and leftover bits that are not zero, and, with no `ignore` set and no end pointer
// asked for, any input it did not decode whole. test_base64url checks that both decoders accept
// the same texts and give the same bytes.

namespace {

constexpr std::string_view url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view standard_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

using ValueTable = std::array<int8_t, 256>;

// Each byte's 6-bit value, or -1 for a byte outside the alphabet (every byte from 0x80 too).
constexpr ValueTable make_value_table(std::string_view alphabet)
{
    ValueTable table {};
    for (auto& entry : table)
        entry = -1;
    for (size_t i = 0; i < alphabet.size(); ++i)
        table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
    return table;
}

constexpr ValueTable url_values = make_value_table(url_alphabet);
constexpr ValueTable standard_values = make_value_table(standard_alphabet);

long decode_public(std::string_view text, uint8_t* out, ValueTable const& values)
{
    // A single leftover character carries only 6 bits: no byte string encodes to that.
    size_t leftover = text.size() % 4;
    if (leftover == 1)
        return -1;
    auto const* in = reinterpret_cast<uint8_t const*>(text.data());
    auto value = [&](size_t i) { return values[in[i]]; };
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

std::optional<std::string> decode_public(std::string_view text, ValueTable const& values)
{
    std::string out(base64url_decoded_size(text.size()), '\0');
    long written = decode_public(text, reinterpret_cast<uint8_t*>(out.data()), values);
    if (written < 0)
        return std::nullopt;
    out.resize(static_cast<size_t>(written));
    return out;
}

constexpr int sodium_variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

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
        next[0] = url_alphabet[(group >> 18) & 63];
        next[1] = url_alphabet[(group >> 12) & 63];
        next[2] = url_alphabet[(group >> 6) & 63];
        next[3] = url_alphabet[group & 63];
        next += 4;
    }
    size_t rest = size - i;
    if (rest == 1) {
        uint32_t group = uint32_t(bytes[i]) << 16;
        next[0] = url_alphabet[(group >> 18) & 63];
        next[1] = url_alphabet[(group >> 12) & 63];
    } else if (rest == 2) {
        uint32_t group = (uint32_t(bytes[i]) << 16) | (uint32_t(bytes[i + 1]) << 8);
        next[0] = url_alphabet[(group >> 18) & 63];
        next[1] = url_alphabet[(group >> 12) & 63];
        next[2] = url_alphabet[(group >> 6) & 63];
    }
    return out;
}

std::string base64url_encode(std::string_view bytes)
{
    return base64url_encode(reinterpret_cast<uint8_t const*>(bytes.data()), bytes.size());
}

long base64url_decode_into(std::string_view text, uint8_t* out)
{
    return decode_public(text, out, url_values);
}

std::optional<std::string> base64url_decode(std::string_view text)
{
    return decode_public(text, url_values);
}

std::optional<std::string> base64_decode_unpadded(std::string_view text)
{
    return decode_public(text, standard_values);
}

std::string base64url_encode_secret(uint8_t const* bytes, size_t size)
{
    // sodium_bin2base64 writes a terminating NUL: the buffer has room for it, the string not.
    std::string out(sodium_base64_ENCODED_LEN(size, sodium_variant), '\0');
    sodium_bin2base64(out.data(), out.size(), bytes, size, sodium_variant);
    out.resize(out.size() - 1);
    return out;
}

std::optional<std::string> base64url_decode_secret(std::string_view text)
{
    // libsodium 1.0.18 (Debian 12) decodes every byte from 0x80 up as '_' (63), so "AAA\xe9"
    // would decode like "AAA_" (the conformance suite found it). Non-ASCII input is refused
    // before libsodium sees it; the test is over all bytes, without a branch per byte, and
    // tells nothing about a secret but that it holds a byte no encoding has.
    unsigned char high_bits = 0;
    for (char c : text)
        high_bits |= static_cast<unsigned char>(c);
    if (high_bits & 0x80)
        return std::nullopt;
    std::string out(base64url_decoded_size(text.size()), '\0');
    size_t written = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
            &written, nullptr, sodium_variant)
        != 0) {
        sodium_memzero(out.data(), out.size());
        return std::nullopt;
    }
    out.resize(written);
    return out;
}

}
