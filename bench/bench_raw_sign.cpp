// The floor under `charter issue --batch`: crypto_sign_detached() alone, COUNT times, over
// messages exactly as long as the bytes Charter signs for a real license (the PAE of a token
// the batch just printed: header, claims, footer and product). scripts/bench-issue runs it
// in the same run as the batch and reports the ratio of the two throughputs
// (docs/performance.md, "Issuance (charter CLI)").
//
// Usage: bench_raw_sign COUNT TOKEN
// Prints one line: count, signed bytes per message, wall and CPU seconds, µs per signature.

#include "charter/format/paseto.hpp"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace {

double cpu_seconds()
{
    timespec now {};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return double(now.tv_sec) + double(now.tv_nsec) / 1e9;
}

int usage(char const* message)
{
    std::fprintf(stderr, "bench_raw_sign: %s\nusage: bench_raw_sign COUNT TOKEN\n", message);
    return 2;
}

}

int main(int argc, char** argv)
{
    if (argc != 3)
        return usage("expected two arguments");
    char* end = nullptr;
    long long count = std::strtoll(argv[1], &end, 10);
    if (*end != '\0' || count <= 0)
        return usage("COUNT must be a positive whole number");
    if (sodium_init() < 0)
        return usage("libsodium failed to initialise");

    charter::format::DecodedToken token;
    std::string detail;
    if (charter::format::decode_v4_public(argv[2], token, detail) != 0)
        return usage(("TOKEN is not a v4.public token: " + detail).c_str());
    auto claims = nlohmann::json::parse(token.message, nullptr, false);
    if (!claims.is_object() || !claims.contains("product") || !claims["product"].is_string())
        return usage("TOKEN has no product claim");
    std::string message = charter::format::v4_public_preauth(token.message, token.footer, claims["product"].get<std::string>());

    unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
    unsigned char secret_key[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(public_key, secret_key);

    // Every message differs, as every license does: a counter overwrites 8 bytes in the
    // middle (the bytes are never parsed, only signed).
    size_t counter_at = message.size() / 2;
    unsigned char signature[crypto_sign_BYTES];
    unsigned checksum = 0;
    auto wall_start = std::chrono::steady_clock::now();
    double cpu_start = cpu_seconds();
    for (long long i = 0; i < count; ++i) {
        std::memcpy(message.data() + counter_at, &i, sizeof i);
        crypto_sign_detached(signature, nullptr, reinterpret_cast<unsigned char const*>(message.data()), message.size(),
            secret_key);
        checksum += signature[i % crypto_sign_BYTES];
    }
    double cpu = cpu_seconds() - cpu_start;
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    sodium_memzero(secret_key, sizeof secret_key);

    std::printf("count=%lld bytes=%zu wall_s=%.3f cpu_s=%.3f us_per_sign=%.2f checksum=%u\n", count, message.size(), wall,
        cpu, cpu / double(count) * 1e6, checksum % 10);
    return 0;
}
