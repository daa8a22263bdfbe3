#include "charter/format/paserk_public.hpp"

#include "charter/format/base64url.hpp"

#include <sodium.h>

namespace charter::format {

std::string encode_paserk_public(PublicKeyBytes const& key)
{
    return std::string(paserk_public_header) + base64url_encode(key.data(), key.size());
}

std::optional<PublicKeyBytes> decode_paserk_public(std::string_view paserk)
{
    if (!paserk.starts_with(paserk_public_header))
        return std::nullopt;
    auto bytes = base64url_decode(paserk.substr(paserk_public_header.size()));
    if (!bytes || bytes->size() != 32)
        return std::nullopt;
    PublicKeyBytes key;
    std::copy(bytes->begin(), bytes->end(), key.begin());
    return key;
}

std::string paserk_pid(PublicKeyBytes const& key)
{
    std::string input = std::string(paserk_pid_header) + encode_paserk_public(key);
    uint8_t digest[33];
    crypto_generichash(digest, sizeof digest, reinterpret_cast<unsigned char const*>(input.data()), input.size(), nullptr, 0);
    return std::string(paserk_pid_header) + base64url_encode(digest, sizeof digest);
}

}
