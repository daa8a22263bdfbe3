// PASERK decoding: "k4.public." (verify-lib), "k4.secret." and "k4.secret-pw." (keygen). The
// whole input is offered to each decoder; each refuses what lacks its header.
//
// k4.secret-pw runs Argon2id with the memory and iteration counts written in the input (up to
// 4 GiB and 64 passes, the limits unwrap_secret_key enforces), which would make most inputs
// cost seconds and gigabytes. The harness therefore reads those two fields itself and calls
// unwrap_secret_key only when the derivation is cheap (at most 64 KiB and 2 passes), or when
// the input fails before any derivation (bad header, encoding, length or parameters). Costly
// but well-formed inputs are skipped: the code they would add is Argon2id itself (libsodium),
// not our parsing. The seed corpus holds a key wrapped at 8 KiB and 1 pass with this harness's
// passphrase, so the successful unwrap is covered too.

#include "charter/format/base64url.hpp"
#include "charter/format/paserk_public.hpp"
#include "charter/keygen/password_wrap.hpp"
#include "fuzz_support.hpp"

using namespace charter;
using namespace charter::fuzz;

namespace {

constexpr std::string_view secret_pw_header = "k4.secret-pw.";
constexpr size_t wrapped_size = 16 + 16 + 24 + 64 + 32; // salt, params, nonce, encrypted key, tag
constexpr uint64_t cheap_memory_bytes = 64 * 1024;
constexpr uint64_t cheap_iterations = 2;

uint64_t read_be(std::string_view bytes, size_t offset, size_t count)
{
    uint64_t value = 0;
    for (size_t i = 0; i < count; ++i)
        value = value << 8 | static_cast<uint8_t>(bytes[offset + i]);
    return value;
}

// False for a well-formed k4.secret-pw whose Argon2id parameters would be expensive.
bool unwrap_is_cheap(std::string_view text)
{
    if (!text.starts_with(secret_pw_header))
        return true;
    auto bytes = format::base64url_decode(text.substr(secret_pw_header.size()));
    if (!bytes || bytes->size() != wrapped_size)
        return true;
    uint64_t memory = read_be(*bytes, 16, 8);
    uint64_t iterations = read_be(*bytes, 24, 4);
    uint64_t parallelism = read_be(*bytes, 28, 4);
    // Out-of-range parameters are refused before derivation, so they are cheap to try; the
    // lower limits (8 KiB, 1 pass) are libsodium's.
    bool refused = parallelism != 1 || memory < 8192 || memory > (4ull << 30) || iterations < 1 || iterations > 64;
    return refused || (memory <= cheap_memory_bytes && iterations <= cheap_iterations);
}

void check_same_key(keygen::SigningKey const& a, keygen::SigningKey const& b)
{
    FUZZ_CHECK(a.paserk_secret() == b.paserk_secret());
    FUZZ_CHECK(a.kid() == b.kid());
}

}

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view text(reinterpret_cast<char const*>(data), size);

    if (auto key = format::decode_paserk_public(text)) {
        // Canonical: one key, one encoding.
        FUZZ_CHECK(format::encode_paserk_public(*key) == text);
        FUZZ_CHECK(format::paserk_pid(*key).starts_with("k4.pid."));
    }

    auto secret = keygen::SigningKey::from_paserk_secret(text);
    if (secret.ok()) {
        FUZZ_CHECK(secret->paserk_secret() == text);
        auto public_key = format::decode_paserk_public(secret->paserk_public());
        FUZZ_CHECK(public_key && *public_key == secret->public_key());
        FUZZ_CHECK(secret->kid() == format::paserk_pid(*public_key));
    } else {
        FUZZ_CHECK(secret.error().kind == ErrorKind::invalid_input && !secret.error().message.empty());
    }

    if (!unwrap_is_cheap(text))
        return 0;
    auto unwrapped = keygen::unwrap_secret_key(text, passphrase);
    if (!unwrapped.ok()) {
        auto kind = unwrapped.error().kind;
        FUZZ_CHECK(kind == ErrorKind::invalid_input || kind == ErrorKind::unauthorized);
        return 0;
    }
    // A successful unwrap authenticated every byte, so rewrapping (fresh salt and nonce) and
    // unwrapping again gives the same key back.
    auto rewrapped = keygen::wrap_secret_key(*unwrapped, passphrase, keygen::Argon2Cost { 8192, 1 });
    FUZZ_CHECK(rewrapped.ok());
    auto again = keygen::unwrap_secret_key(*rewrapped, passphrase);
    FUZZ_CHECK(again.ok());
    check_same_key(*unwrapped, *again);
    return 0;
}
