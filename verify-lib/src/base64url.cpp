#include "base64url.hpp"

#include <sodium.h>

namespace charter::format {

// libsodium's codec (the library verify-lib links anyway) in its URL-safe, unpadded variant.
// It runs in constant time, which matters here: secret signing keys are encoded and decoded
// too. Its decoder is as strict as PASETO and PASERK need (docs/format.md): it refuses '=',
// ASCII characters outside the alphabet, a lone leftover character, and leftover bits that are
// not zero, so every byte string has exactly one encoding. With no `ignore` set and no end
// pointer asked for, it refuses the input unless every character was decoded.
//
// One exception, found by the conformance suite: libsodium 1.0.18 (Debian 12) decodes every
// byte from 0x80 up as '_' (63), so "AAA\xe9" would decode like "AAA_". Non-ASCII input is
// refused before libsodium sees it; the test is over all bytes, without a branch per byte,
// and tells nothing about a secret but that it holds a byte no encoding has.

namespace {

constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

long decode_into(std::string_view text, uint8_t* out, int sodium_variant)
{
    unsigned char high_bits = 0;
    for (char c : text)
        high_bits |= static_cast<unsigned char>(c);
    if (high_bits & 0x80)
        return -1;
    size_t written = 0;
    if (sodium_base642bin(out, base64url_decoded_size(text.size()), text.data(), text.size(), nullptr, &written, nullptr,
            sodium_variant)
        != 0)
        return -1;
    return static_cast<long>(written);
}

std::optional<std::string> decode(std::string_view text, int sodium_variant)
{
    std::string out(base64url_decoded_size(text.size()), '\0');
    long written = decode_into(text, reinterpret_cast<uint8_t*>(out.data()), sodium_variant);
    if (written < 0)
        return std::nullopt;
    out.resize(static_cast<size_t>(written));
    return out;
}

}

std::string base64url_encode(uint8_t const* bytes, size_t size)
{
    // sodium_bin2base64 writes a terminating NUL: the buffer has room for it, the string not.
    std::string out(sodium_base64_ENCODED_LEN(size, variant), '\0');
    sodium_bin2base64(out.data(), out.size(), bytes, size, variant);
    out.resize(out.size() - 1);
    return out;
}

std::string base64url_encode(std::string_view bytes)
{
    return base64url_encode(reinterpret_cast<uint8_t const*>(bytes.data()), bytes.size());
}

long base64url_decode_into(std::string_view text, uint8_t* out)
{
    return decode_into(text, out, variant);
}

std::optional<std::string> base64url_decode(std::string_view text)
{
    return decode(text, variant);
}

std::optional<std::string> base64_decode_unpadded(std::string_view text)
{
    return decode(text, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

}
