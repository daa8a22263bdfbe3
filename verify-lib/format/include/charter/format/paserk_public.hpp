#pragma once
// The public half of PASERK for version 4: "k4.public." keys and their "k4.pid." ids.
// (Secret-key encodings live in keygen: this library contains no signing code.)

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace charter::format {

using PublicKeyBytes = std::array<uint8_t, 32>;

inline constexpr std::string_view paserk_public_header = "k4.public.";
inline constexpr std::string_view paserk_pid_header = "k4.pid.";

std::string encode_paserk_public(PublicKeyBytes const& key);

/// The key bytes of a "k4.public." PASERK, or nullopt if it is not exactly one.
std::optional<PublicKeyBytes> decode_paserk_public(std::string_view paserk);

/// "k4.pid." + base64url(BLAKE2b-264("k4.pid." || "k4.public.…")): the key's id.
std::string paserk_pid(PublicKeyBytes const& key);

}
