#pragma once
// Strict unpadded base64url (RFC 4648 §5), as PASETO and PASERK require: no '=', no
// characters outside the alphabet, and the unused low bits of the last character must be
// zero, so that every byte string has exactly one encoding.
//
// Two implementations of the same rules. The plain functions are ours and fast, for what is
// public: tokens, footers, public keys, key ids, credentials a client sends. The `_secret`
// ones are libsodium's constant-time codec, for secret signing keys (k4.secret, k4.secret-pw)
// and the secrets of admin tokens and download credentials. docs/architecture.md says why.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charter::format {

std::string base64url_encode(std::string_view bytes);
std::string base64url_encode(uint8_t const* bytes, size_t size);

/// The decoded bytes, or nullopt when `text` is not canonical unpadded base64url.
std::optional<std::string> base64url_decode(std::string_view text);

/// Decodes into a caller buffer of at least base64url_decoded_size(text.size()) bytes.
/// Returns the number of bytes written, or -1 when the text is not canonical.
long base64url_decode_into(std::string_view text, uint8_t* out);

/// As base64url_encode and base64url_decode, in constant time (libsodium): for secrets.
std::string base64url_encode_secret(uint8_t const* bytes, size_t size);
std::optional<std::string> base64url_decode_secret(std::string_view text);

/// Standard base64 (RFC 4648 §4: '+' and '/'), unpadded, with the same strictness: for HTTP
/// Basic credentials, whose padding the caller removes.
std::optional<std::string> base64_decode_unpadded(std::string_view text);

constexpr size_t base64url_decoded_size(size_t encoded_size) { return encoded_size / 4 * 3 + (encoded_size % 4 * 3) / 4; }

}
