// make_test_activation: signs activation tokens with a fresh signing key, for the C test of
// charter_verify_activation (test_c_activation.c), which links libcharter-verify only. Prints
// the k4.public key on the first line, then one "NAME TOKEN" line per token:
//
//   valid          product acme-pro, fingerprint "machine-1", seat 3, iat 2026-11-28T10:00:00Z,
//                  exp iat + 900 s (the lease end)
//   node_locked    the same without exp
//   other_product  the same for product acme-basic
//   unknown_kid    the same signed by another key, which the verifier does not trust
//
// Another machine's token is the valid one checked with another fingerprint; an altered one is
// the valid one with a byte changed by the test.

#include "support/activation_tokens.hpp"

#include <cstdio>

int main()
{
    auto key = charter::keygen::SigningKey::generate();
    auto untrusted = charter::keygen::SigningKey::generate();
    if (!key || !untrusted) {
        std::fprintf(stderr, "make_test_activation: cannot generate a key\n");
        return 1;
    }
    charter::testing::ActivationFields fields;
    fields.activation_id = "act_test";
    fields.license_id = "lic_test";
    fields.seat = 3;
    auto node_locked = fields;
    node_locked.lease_ends_at = std::nullopt;
    auto other_product = fields;
    other_product.product = "acme-basic";
    std::printf("%s\n", key->paserk_public().c_str());
    std::printf("valid %s\n", charter::testing::sign_activation(*key, fields).c_str());
    std::printf("node_locked %s\n", charter::testing::sign_activation(*key, node_locked).c_str());
    std::printf("other_product %s\n", charter::testing::sign_activation(*key, other_product).c_str());
    std::printf("unknown_kid %s\n", charter::testing::sign_activation(*untrusted, fields).c_str());
    return 0;
}
