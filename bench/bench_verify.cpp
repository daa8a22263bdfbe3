// What a license check costs on top of the Ed25519 verification it cannot avoid: a full
// charter_verify() (decoding, key lookup by kid, PAE, signature, claims parsing, time checks,
// handle allocation and free) against crypto_sign_verify_detached() alone over the very same
// signed bytes, measured in the same run. docs/performance.md records the ratio; the target is
// at most 1.15. The same for an activation token: charter_verify_activation() (which also hashes
// the fingerprint with SHA-256) against the raw verification of its own signed bytes.

#include "charter/format/claims.hpp"
#include "charter/format/paseto.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/verify.h"
#include "support/activation_tokens.hpp"

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

constexpr int64_t issued_at = 1795860000; // 2026-11-28T10:00:00Z
constexpr int64_t now = issued_at + 30 * 86400;
constexpr char const* product = "acme-pro";

// A fixed signing key: Ed25519 verification is variable-time, so a random key would move the
// raw figure a little from run to run.
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

// A license as a vendor would issue it: every optional claim present, a few entitlements and
// some vendor metadata (about 500 bytes of claims).
struct Setup {
    charter::keygen::SigningKey key = fixed_key();
    std::string token;
    std::string public_key;
    std::string signed_bytes; // PAE("v4.public.", message, footer, product)
    std::string signature;

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
        auto license = charter::keygen::sign_license(key, claims);
        token = license.token;
        public_key = key.paserk_public();

        charter::format::DecodedToken decoded;
        std::string detail;
        if (charter::format::decode_v4_public(token, decoded, detail) != CHARTER_OK) {
            std::fprintf(stderr, "bench_verify: cannot decode the token: %s\n", detail.c_str());
            std::exit(1);
        }
        signed_bytes = charter::format::v4_public_preauth(decoded.message, decoded.footer, product);
        signature = decoded.signature;
    }
};

Setup const& setup()
{
    static Setup const instance;
    return instance;
}

// An activation token as the server issues it: a 15-minute lease, a machine-id fingerprint.
struct ActivationSetup {
    charter::keygen::SigningKey key = fixed_key();
    std::string fingerprint = "4f1c2a9e0b7d4c3f8a6e5d2b1c0f9e8d"; // an /etc/machine-id
    std::string token;
    std::string signed_bytes;
    std::string signature;

    ActivationSetup()
    {
        charter::testing::ActivationFields fields;
        fields.issuer = "Acme Software GmbH";
        fields.activation_id = "act_9pLm2QxT7vRb4NcW8sYk1e";
        fields.license_id = "lic_7QhZ3uFa9KdN2wXe5RtB0m";
        fields.product = product;
        fields.fingerprint = fingerprint;
        fields.seat = 42;
        fields.issued_at = now;
        fields.lease_ends_at = now + 900;
        token = charter::testing::sign_activation(key, fields);
        charter::format::DecodedToken decoded;
        std::string detail;
        if (charter::format::decode_v4_public(token, decoded, detail) != CHARTER_OK) {
            std::fprintf(stderr, "bench_verify: cannot decode the activation token: %s\n", detail.c_str());
            std::exit(1);
        }
        signed_bytes = charter::format::v4_public_preauth(decoded.message, decoded.footer,
            std::string(charter::format::activation_assertion_prefix) + product);
        signature = decoded.signature;
    }
};

ActivationSetup const& activation_setup()
{
    static ActivationSetup const instance;
    return instance;
}

void full_verify_activation(benchmark::State& state)
{
    auto const& s = activation_setup();
    charter_verifier* verifier = charter_verifier_new(product);
    if (charter_verifier_add_key(verifier, s.key.paserk_public().c_str()) != CHARTER_OK)
        state.SkipWithError("cannot add the key");
    char detail[256];
    for (auto _ : state) {
        charter_activation* activation = nullptr;
        int status = charter_verify_activation(verifier, s.token.data(), s.token.size(), s.fingerprint.data(), s.fingerprint.size(),
            now + 60, 30, &activation, detail, sizeof detail);
        if (status != CHARTER_OK) {
            state.SkipWithError(detail);
            break;
        }
        benchmark::DoNotOptimize(charter_activation_seat(activation));
        charter_activation_free(activation);
    }
    charter_verifier_free(verifier);
    state.SetLabel(std::to_string(s.token.size()) + "-byte token");
}

void raw_ed25519_verify_activation(benchmark::State& state)
{
    auto const& s = activation_setup();
    auto const* signature = reinterpret_cast<unsigned char const*>(s.signature.data());
    auto const* message = reinterpret_cast<unsigned char const*>(s.signed_bytes.data());
    for (auto _ : state) {
        int result = crypto_sign_verify_detached(signature, message, s.signed_bytes.size(), s.key.public_key().data());
        if (result != 0) {
            state.SkipWithError("signature does not verify");
            break;
        }
        benchmark::DoNotOptimize(result);
    }
    state.SetLabel(std::to_string(s.signed_bytes.size()) + " signed bytes");
}

void full_verify(benchmark::State& state)
{
    auto const& s = setup();
    charter_verifier* verifier = charter_verifier_new(product);
    if (charter_verifier_add_key(verifier, s.public_key.c_str()) != CHARTER_OK)
        state.SkipWithError("cannot add the key");
    char detail[256];
    for (auto _ : state) {
        charter_license* license = nullptr;
        int status = charter_verify(verifier, s.token.data(), s.token.size(), now, &license, detail, sizeof detail);
        if (status != CHARTER_OK) {
            state.SkipWithError(detail);
            break;
        }
        benchmark::DoNotOptimize(charter_license_has_entitlement(license, "sso"));
        charter_license_free(license);
    }
    charter_verifier_free(verifier);
    state.SetLabel(std::to_string(s.token.size()) + "-byte token");
}

void raw_ed25519_verify(benchmark::State& state)
{
    auto const& s = setup();
    auto const* signature = reinterpret_cast<unsigned char const*>(s.signature.data());
    auto const* message = reinterpret_cast<unsigned char const*>(s.signed_bytes.data());
    for (auto _ : state) {
        int result = crypto_sign_verify_detached(signature, message, s.signed_bytes.size(), s.key.public_key().data());
        if (result != 0) {
            state.SkipWithError("signature does not verify");
            break;
        }
        benchmark::DoNotOptimize(result);
    }
    state.SetLabel(std::to_string(s.signed_bytes.size()) + " signed bytes");
}

}

BENCHMARK(full_verify)->Name("charter_verify");
BENCHMARK(raw_ed25519_verify)->Name("crypto_sign_verify_detached");
BENCHMARK(full_verify_activation)->Name("charter_verify_activation");
BENCHMARK(raw_ed25519_verify_activation)->Name("crypto_sign_verify_detached_activation");

BENCHMARK_MAIN();
