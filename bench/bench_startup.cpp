// What the startup check costs on top of the verification it wraps: charter_startup_check()
// configured as a vendor would ship it (an environment variable that is not set, then a key
// file that exists, then verification, message and diagnostic) against a bare charter_verify()
// of the very same token, measured in the same run. docs/performance.md ("Startup check")
// records the ratio; the target is at most 1.3.

#include "charter/keygen/token_signer.hpp"
#include "charter/verify.h"

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

constexpr int64_t issued_at = 1795860000; // 2026-11-28T10:00:00Z
constexpr int64_t now = issued_at + 30 * 86400;
constexpr char const* product = "acme-pro";
constexpr char const* env_name = "CHARTER_BENCH_STARTUP_LICENSE";

// A fixed signing key: Ed25519 verification is variable-time, so a random key would move both
// figures a little from run to run.
charter::keygen::SigningKey fixed_key()
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    for (size_t i = 0; i < sizeof seed; ++i)
        seed[i] = static_cast<unsigned char>(0xa0 + i);
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES], secret_key[crypto_sign_SECRETKEYBYTES];
    if (sodium_init() < 0 || crypto_sign_seed_keypair(public_key, secret_key, seed) != 0)
        std::abort();
    auto key = charter::keygen::SigningKey::from_secret_bytes(
        std::string_view(reinterpret_cast<char const*>(secret_key), sizeof secret_key));
    sodium_memzero(secret_key, sizeof secret_key);
    return *key;
}

// The same realistic license as bench_verify, written to a key file in a scratch directory the
// way a customer saves it (with a trailing newline).
struct Setup {
    charter::keygen::SigningKey key = fixed_key();
    std::string token;
    std::string directory;
    std::string key_file;
    charter_verifier* verifier { nullptr };

    Setup()
    {
        charter::keygen::LicenseClaims claims;
        claims.issuer = "Acme Software GmbH";
        claims.customer = "cus_4kQ9xV2mTn7RbW1cLp8sYe";
        claims.license_id = "lic_7QhZ3uFa9KdN2wXe5RtB0m";
        claims.product = product;
        claims.issued_at = issued_at;
        claims.expires_at = issued_at + 365 * 86400;
        claims.updates_until = issued_at + 365 * 86400;
        claims.name = "Globex Corporation (Engineering)";
        claims.entitlements = { "sso", "audit-log", "priority-support", "multi-region", "encryption-at-rest" };
        claims.seats = 250;
        claims.meta = { { "order", "A-2026-11-0042" }, { "plan", "enterprise-annual" }, { "reseller", "none" },
            { "contact", "licensing@globex.example" } };
        token = charter::keygen::sign_license(key, claims).token;

        char pattern[] = "/tmp/charter-bench-startup-XXXXXX";
        if (!::mkdtemp(pattern)) {
            std::perror("bench_startup: mkdtemp");
            std::exit(1);
        }
        directory = pattern;
        key_file = directory + "/acme-pro.license";
        std::ofstream(key_file) << token << "\n";
        ::unsetenv(env_name);

        verifier = charter_verifier_new(product);
        if (!verifier || charter_verifier_add_key(verifier, key.paserk_public().c_str()) != CHARTER_OK) {
            std::fprintf(stderr, "bench_startup: cannot configure the verifier\n");
            std::exit(1);
        }
    }

    ~Setup()
    {
        charter_verifier_free(verifier);
        ::unlink(key_file.c_str());
        ::rmdir(directory.c_str());
    }
};

Setup& setup()
{
    static Setup instance;
    return instance;
}

void bare_verify(benchmark::State& state)
{
    auto& s = setup();
    char detail[256];
    for (auto _ : state) {
        charter_license* license = nullptr;
        int status = charter_verify(s.verifier, s.token.data(), s.token.size(), now, &license, detail, sizeof detail);
        if (status != CHARTER_OK) {
            state.SkipWithError(detail);
            break;
        }
        benchmark::DoNotOptimize(charter_license_has_entitlement(license, "sso"));
        charter_license_free(license);
    }
}

void startup_check(benchmark::State& state)
{
    auto& s = setup();
    charter_startup* check = charter_startup_new(s.verifier);
    if (!check || charter_startup_set_env(check, env_name) != CHARTER_OK
        || charter_startup_add_file(check, s.key_file.c_str()) != CHARTER_OK
        || charter_startup_set_grace_days(check, 14) != CHARTER_OK
        || charter_startup_set_renew_url(check, "https://acme.example/renew") != CHARTER_OK)
        state.SkipWithError("cannot configure the startup check");
    for (auto _ : state) {
        charter_startup_result* result = nullptr;
        int status = charter_startup_check(check, now, &result);
        if (status != CHARTER_OK || charter_startup_result_source_kind(result) != CHARTER_SOURCE_FILE) {
            state.SkipWithError(result ? charter_startup_result_message(result) : "no result");
            charter_startup_result_free(result);
            break;
        }
        benchmark::DoNotOptimize(charter_license_has_entitlement(charter_startup_result_license(result), "sso"));
        charter_startup_result_free(result);
    }
    charter_startup_free(check);
}

// For comparison: the key in the environment variable, so no file is opened.
void startup_check_env(benchmark::State& state)
{
    auto& s = setup();
    charter_startup* check = charter_startup_new(s.verifier);
    if (!check || charter_startup_set_env(check, env_name) != CHARTER_OK
        || charter_startup_add_file(check, s.key_file.c_str()) != CHARTER_OK)
        state.SkipWithError("cannot configure the startup check");
    ::setenv(env_name, s.token.c_str(), 1);
    for (auto _ : state) {
        charter_startup_result* result = nullptr;
        int status = charter_startup_check(check, now, &result);
        if (status != CHARTER_OK || charter_startup_result_source_kind(result) != CHARTER_SOURCE_ENV) {
            state.SkipWithError(result ? charter_startup_result_message(result) : "no result");
            charter_startup_result_free(result);
            break;
        }
        benchmark::DoNotOptimize(charter_startup_result_license(result));
        charter_startup_result_free(result);
    }
    ::unsetenv(env_name);
    charter_startup_free(check);
}

}

BENCHMARK(bare_verify)->Name("charter_verify");
BENCHMARK(startup_check)->Name("charter_startup_check");
BENCHMARK(startup_check_env)->Name("charter_startup_check_env_hit");

BENCHMARK_MAIN();
