#pragma once
// Small helpers shared by the test programs: text, files, hex, vector files.

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace charter::testing {

inline std::string from_hex(std::string_view hex)
{
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        throw std::invalid_argument("not hex");
    };
    if (hex.size() % 2)
        throw std::invalid_argument("odd hex length");
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2)
        out += static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
    return out;
}

inline bool contains(std::string const& text, std::string const& part) { return text.find(part) != std::string::npos; }

/// `text` without its trailing line ends.
inline std::string trimmed(std::string text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
    return text;
}

/// The file's bytes, or empty when it cannot be read (yet).
inline std::string read_text(std::string const& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline std::string read_file(std::string const& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot open " + path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

/// Writes `data` to `path` (replacing it); throws when it cannot.
inline void write_file(std::string const& path, std::string const& data)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), std::streamsize(data.size()));
    out.close();
    if (!out)
        throw std::runtime_error("cannot write " + path);
}

/// SHA-256 of `data` in lower-case hex (libsodium: link it to use this).
inline std::string sha256_hex(std::string const& data)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<unsigned char const*>(data.data()), data.size());
    char hex[sizeof digest * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return hex;
}

inline nlohmann::json load_vectors(std::string const& relative_path)
{
    return nlohmann::json::parse(read_file(std::string(CHARTER_VECTORS_DIR) + "/" + relative_path));
}

}
