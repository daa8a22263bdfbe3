/*
 * charter_verify_activation from C (C11, the shared library): valid, an ended lease at its
 * boundary, node-locked, another machine's fingerprint, another product, altered, an unknown kid.
 *
 * Usage: test_c_activation FILE, where FILE is what make_test_activation printed (ctest runs
 * both).
 */
#include <charter/verify.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(condition)                                                                 \
    do {                                                                                 \
        if (!(condition)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #condition); \
            ++failures;                                                                  \
        }                                                                                \
    } while (0)

#define CHECK_STRING(actual, expected)                                                          \
    do {                                                                                        \
        const char *actual_value = (actual);                                                    \
        if (!actual_value || strcmp(actual_value, (expected)) != 0) {                           \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #actual, \
                actual_value ? actual_value : "(null)", (expected));                            \
            ++failures;                                                                         \
        }                                                                                       \
    } while (0)

static const int64_t issued_at = 1795860000; /* 2026-11-28T10:00:00Z */
static const int64_t lease_end = 1795860000 + 900;
static const char machine[] = "machine-1";

static char key[256];
static char tokens[4][2048];
static const char *const names[4] = { "valid", "node_locked", "other_product", "unknown_kid" };

static const char *token(const char *name)
{
    for (int i = 0; i < 4; ++i) {
        if (strcmp(names[i], name) == 0)
            return tokens[i];
    }
    return "";
}

static int verify(charter_verifier *verifier, const char *text, const char *fingerprint, int64_t now, charter_activation **out,
    char *detail, size_t detail_size)
{
    return charter_verify_activation(verifier, text, strlen(text), fingerprint, strlen(fingerprint), now, 0, out, detail, detail_size);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_c_activation FILE\n");
        return 2;
    }
    FILE *file = fopen(argv[1], "r");
    if (!file || !fgets(key, sizeof key, file)) {
        fprintf(stderr, "test_c_activation: cannot read %s\n", argv[1]);
        return 2;
    }
    key[strcspn(key, "\n")] = '\0';
    char line[2200];
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\n")] = '\0';
        char *space = strchr(line, ' ');
        if (!space)
            continue;
        *space = '\0';
        for (int i = 0; i < 4; ++i) {
            if (strcmp(line, names[i]) == 0)
                snprintf(tokens[i], sizeof tokens[i], "%s", space + 1);
        }
    }
    fclose(file);

    charter_verifier *verifier = charter_verifier_new("acme-pro");
    CHECK(verifier != NULL && charter_verifier_add_key(verifier, key) == CHARTER_OK);
    char detail[512];
    charter_activation *activation = NULL;

    /* valid, with its claims */
    CHECK(verify(verifier, token("valid"), machine, issued_at + 60, &activation, detail, sizeof detail) == CHARTER_OK);
    CHECK_STRING(detail, "");
    CHECK(activation != NULL);
    CHECK_STRING(charter_activation_id(activation), "act_test");
    CHECK_STRING(charter_activation_license_id(activation), "lic_test");
    CHECK_STRING(charter_activation_product(activation), "acme-pro");
    CHECK_STRING(charter_activation_issuer(activation), "Acme Inc.");
    CHECK(charter_activation_seat(activation) == 3);
    CHECK(charter_activation_issued_at(activation) == issued_at);
    int64_t end = 0;
    CHECK(charter_activation_lease_ends_at(activation, &end) == 1 && end == lease_end);
    CHECK(strlen(charter_activation_fingerprint(activation)) == 64);
    CHECK(strncmp(charter_activation_kid(activation), "k4.pid.", 7) == 0);
    charter_activation *copy = charter_activation_copy(activation);
    charter_activation_free(activation);
    CHECK_STRING(charter_activation_id(copy), "act_test");
    charter_activation_free(copy);

    /* the lease end: valid at it, expired one second later (and within the leeway again) */
    CHECK(verify(verifier, token("valid"), machine, lease_end, NULL, NULL, 0) == CHARTER_OK);
    CHECK(verify(verifier, token("valid"), machine, lease_end + 1, &activation, detail, sizeof detail) == CHARTER_E_LEASE_EXPIRED);
    CHECK_STRING(detail, "the lease of activation act_test of license lic_test ended at 2026-11-28T10:15:00Z; renew it with a "
                         "heartbeat or activate again");
    CHECK(activation != NULL);
    charter_activation_free(activation);
    const char *valid = token("valid");
    CHECK(charter_verify_activation(verifier, valid, strlen(valid), machine, strlen(machine), lease_end + 5, 5, NULL, NULL, 0)
        == CHARTER_OK);
    CHECK(charter_verify_activation(verifier, valid, strlen(valid), machine, strlen(machine), lease_end + 6, 5, NULL, NULL, 0)
        == CHARTER_E_LEASE_EXPIRED);

    /* node-locked: no lease end */
    CHECK(verify(verifier, token("node_locked"), machine, issued_at + 3650LL * 86400, &activation, NULL, 0) == CHARTER_OK);
    CHECK(charter_activation_lease_ends_at(activation, &end) == 0);
    charter_activation_free(activation);

    /* another machine's fingerprint */
    CHECK(verify(verifier, token("valid"), "machine-2", issued_at, &activation, detail, sizeof detail) == CHARTER_E_WRONG_MACHINE);
    CHECK_STRING(detail, "activation act_test of license lic_test belongs to another machine (its fingerprint differs from this "
                         "machine's); activate this machine");
    charter_activation_free(activation);
    CHECK_STRING(charter_status_string(CHARTER_E_WRONG_MACHINE), "activation is for another machine");

    /* another product */
    activation = (charter_activation *)detail;
    CHECK(verify(verifier, token("other_product"), machine, issued_at, &activation, detail, sizeof detail) == CHARTER_E_WRONG_PRODUCT);
    CHECK(activation == NULL);
    CHECK_STRING(detail, "activation act_test is for product \"acme-basic\", not \"acme-pro\"");

    /* altered: one character of the payload changed */
    char altered[2048];
    snprintf(altered, sizeof altered, "%s", token("valid"));
    altered[40] = altered[40] == 'A' ? 'B' : 'A';
    CHECK(verify(verifier, altered, machine, issued_at, &activation, detail, sizeof detail) == CHARTER_E_BAD_SIGNATURE);
    CHECK(activation == NULL);

    /* an unknown kid */
    CHECK(verify(verifier, token("unknown_kid"), machine, issued_at, &activation, detail, sizeof detail) == CHARTER_E_UNKNOWN_KEY);
    CHECK(activation == NULL);
    CHECK(strstr(detail, "which is not a trusted key") != NULL);

    /* arguments */
    CHECK(charter_verify_activation(verifier, valid, strlen(valid), machine, 0, issued_at, 0, NULL, NULL, 0) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_verify_activation(verifier, valid, strlen(valid), NULL, 9, issued_at, 0, NULL, NULL, 0) == CHARTER_E_INVALID_ARGUMENT);

    charter_verifier_free(verifier);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
