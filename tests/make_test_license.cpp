// make_test_license PRODUCT: signs a license key with a fresh signing key and prints two
// lines, the k4.public key and the token, for tests of programs that only link
// libcharter-verify (the C ABI test, the consumer projects). The claims are fixed; the C
// test (test_c_abi.c) and the consumer programs check them.
//
//   iss "Acme Inc."   sub "cus_test"   jti "lic_test"   name "Jane Doe"
//   iat 2026-11-28T10:00:00Z          exp iat + 365 days   updates_until iat + 180 days
//   entitlements ["sso","audit-log"]   seats 25   meta {"order":"A-1001"}

#include "charter/keygen/token_signer.hpp"

#include <cstdio>

int main(int argc, char** argv)
{
    if (argc != 2 || !*argv[1]) {
        std::fprintf(stderr, "usage: make_test_license PRODUCT\n");
        return 2;
    }
    auto key = charter::keygen::SigningKey::generate();
    if (!key) {
        std::fprintf(stderr, "make_test_license: %s\n", key.error().message.c_str());
        return 1;
    }
    constexpr int64_t issued_at = 1795860000; // 2026-11-28T10:00:00Z
    charter::keygen::LicenseClaims claims;
    claims.issuer = "Acme Inc.";
    claims.customer = "cus_test";
    claims.license_id = "lic_test";
    claims.product = argv[1];
    claims.issued_at = issued_at;
    claims.expires_at = issued_at + 365 * 86400;
    claims.updates_until = issued_at + 180 * 86400;
    claims.name = "Jane Doe";
    claims.entitlements = { "sso", "audit-log" };
    claims.seats = 25;
    claims.meta = { { "order", "A-1001" } };
    auto license = charter::keygen::sign_license(*key, claims);
    std::printf("%s\n%s\n", key->paserk_public().c_str(), license.token.c_str());
    return 0;
}
