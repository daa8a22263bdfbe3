/*
 * The C ABI of libcharter-verify, from C: charter/verify.h compiles as C11 and the shared
 * library does what it promises to a C caller.
 *
 * Usage: test_c_abi K4_PUBLIC TOKEN, where TOKEN is a license key for product "acme-pro"
 * signed by K4_PUBLIC with the claims make_test_license.cpp writes (ctest runs it through
 * run_with_license.cmake).
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

/* The claims make_test_license signs. */
static const int64_t issued_at = 1795860000;                    /* 2026-11-28T10:00:00Z */
static const int64_t expires_at = 1795860000 + 365 * 86400;
static const int64_t updates_until = 1795860000 + 180 * 86400;
static const int64_t a_day_later = 1795860000 + 86400;

/* Stored in license out-parameters before a call that must overwrite them with NULL. */
static char not_a_license;
#define GARBAGE_LICENSE ((charter_license *)&not_a_license)

static charter_verifier *make_verifier(const char *product, const char *key)
{
    charter_verifier *verifier = charter_verifier_new(product);
    CHECK(verifier != NULL);
    if (verifier)
        CHECK(charter_verifier_add_key(verifier, key) == CHARTER_OK);
    return verifier;
}

static void test_version_and_status_strings(void)
{
    CHECK_STRING(charter_version(), CHARTER_VERSION_STRING);
    for (int status = CHARTER_OK; status >= CHARTER_E_INTERNAL; --status) {
        const char *text = charter_status_string(status);
        CHECK(text != NULL && strcmp(text, "unknown status") != 0);
    }
    CHECK_STRING(charter_status_string(CHARTER_OK), "valid");
    CHECK_STRING(charter_status_string(CHARTER_E_EXPIRED), "license has expired");
    CHECK_STRING(charter_status_string(12345), "unknown status");
}

static void test_null_handling(const char *key, const char *token)
{
    char detail[128];
    charter_license *license = GARBAGE_LICENSE;

    CHECK(charter_verifier_new(NULL) == NULL);
    CHECK(charter_verifier_new("") == NULL);
    charter_verifier_free(NULL);
    charter_license_free(NULL);

    CHECK(charter_verifier_add_key(NULL, key) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_verifier_set_leeway(NULL, 10) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_verifier_set_build_time(NULL, 0) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_verifier_set_revocation_list(NULL, token, strlen(token), NULL, 0) == CHARTER_E_INVALID_ARGUMENT);

    CHECK(charter_verify(NULL, token, strlen(token), a_day_later, &license, detail, sizeof detail)
        == CHARTER_E_INVALID_ARGUMENT);
    CHECK(license == NULL);
    CHECK(strlen(detail) > 0);

    charter_verifier *verifier = make_verifier("acme-pro", key);
    CHECK(charter_verifier_add_key(verifier, NULL) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_verifier_set_revocation_list(verifier, NULL, 0, detail, sizeof detail) == CHARTER_E_INVALID_ARGUMENT);
    license = GARBAGE_LICENSE;
    CHECK(charter_verify(verifier, NULL, 0, a_day_later, &license, detail, sizeof detail) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(license == NULL);
    /* Every out-parameter may be NULL. */
    CHECK(charter_verify(verifier, token, strlen(token), a_day_later, NULL, NULL, 0) == CHARTER_OK);
    charter_verifier_free(verifier);

    /* Accessors on a NULL license answer "nothing" instead of crashing. */
    int64_t value = 42;
    CHECK(charter_license_id(NULL) == NULL);
    CHECK(charter_license_customer(NULL) == NULL);
    CHECK(charter_license_issuer(NULL) == NULL);
    CHECK(charter_license_product(NULL) == NULL);
    CHECK(charter_license_name(NULL) == NULL);
    CHECK(charter_license_kid(NULL) == NULL);
    CHECK(charter_license_claims_json(NULL) == NULL);
    CHECK(charter_license_issued_at(NULL) == 0);
    CHECK(charter_license_expires_at(NULL, &value) == 0 && value == 42);
    CHECK(charter_license_seats(NULL, &value) == 0 && value == 42);
    CHECK(charter_license_has_entitlement(NULL, "sso") == 0);
    CHECK(charter_license_entitlement_count(NULL) == 0);
    CHECK(charter_license_entitlement(NULL, 0) == NULL);
}

static void test_valid_license(const char *key, const char *token)
{
    charter_verifier *verifier = make_verifier("acme-pro", key);
    charter_license *license = NULL;
    char detail[256] = "not cleared";
    int status = charter_verify(verifier, token, strlen(token), a_day_later, &license, detail, sizeof detail);
    if (status != CHARTER_OK)
        fprintf(stderr, "verify: %s: %s\n", charter_status_string(status), detail);
    CHECK(status == CHARTER_OK);
    CHECK(detail[0] == '\0');
    CHECK(license != NULL);
    if (!license) {
        charter_verifier_free(verifier);
        return;
    }

    CHECK_STRING(charter_license_id(license), "lic_test");
    CHECK_STRING(charter_license_customer(license), "cus_test");
    CHECK_STRING(charter_license_issuer(license), "Acme Inc.");
    CHECK_STRING(charter_license_product(license), "acme-pro");
    CHECK_STRING(charter_license_name(license), "Jane Doe");
    CHECK(strncmp(charter_license_kid(license), "k4.pid.", 7) == 0);

    int64_t value = 0;
    CHECK(charter_license_issued_at(license) == issued_at);
    CHECK(charter_license_not_before(license, &value) == 0);
    CHECK(charter_license_expires_at(license, &value) == 1 && value == expires_at);
    CHECK(charter_license_updates_until(license, &value) == 1 && value == updates_until);
    CHECK(charter_license_seats(license, &value) == 1 && value == 25);
    CHECK(charter_license_expires_at(license, NULL) == 1);

    CHECK(charter_license_has_entitlement(license, "sso") == 1);
    CHECK(charter_license_has_entitlement(license, "audit-log") == 1);
    CHECK(charter_license_has_entitlement(license, "admin") == 0);
    CHECK(charter_license_has_entitlement(license, NULL) == 0);
    CHECK(charter_license_entitlement_count(license) == 2);
    CHECK_STRING(charter_license_entitlement(license, 0), "sso");
    CHECK_STRING(charter_license_entitlement(license, 1), "audit-log");
    CHECK(charter_license_entitlement(license, 2) == NULL);

    const char *claims = charter_license_claims_json(license);
    CHECK(claims != NULL && claims[0] == '{');
    CHECK(claims != NULL && strstr(claims, "\"meta\":{\"order\":\"A-1001\"}") != NULL);

    /* The license outlives the verifier: it owns its strings. */
    charter_verifier_free(verifier);
    CHECK_STRING(charter_license_id(license), "lic_test");
    charter_license_free(license);
}

static void test_refusals(const char *key, const char *token)
{
    size_t size = strlen(token);
    charter_license *license = NULL;
    char detail[256];

    /* A key for acme-pro never verifies for another product (the product is the implicit
       assertion), and a genuine one is told apart from an altered one. */
    charter_verifier *other_product = make_verifier("acme-enterprise", key);
    license = GARBAGE_LICENSE;
    CHECK(charter_verify(other_product, token, size, a_day_later, &license, detail, sizeof detail)
        == CHARTER_E_WRONG_PRODUCT);
    CHECK(license == NULL);
    CHECK(strstr(detail, "acme-enterprise") != NULL);
    charter_verifier_free(other_product);

    charter_verifier *verifier = make_verifier("acme-pro", key);

    /* One character of the signed payload changed (another base64url letter, same length). */
    char *tampered = malloc(size + 1);
    CHECK(tampered != NULL);
    if (tampered) {
        memcpy(tampered, token, size + 1);
        size_t position = strlen("v4.public.") + 20;
        tampered[position] = tampered[position] == 'A' ? 'B' : 'A';
        license = GARBAGE_LICENSE;
        CHECK(charter_verify(verifier, tampered, size, a_day_later, &license, detail, sizeof detail)
            == CHARTER_E_BAD_SIGNATURE);
        CHECK(license == NULL);
        free(tampered);
    }

    /* token_size counts, not the NUL: a prefix of the token is a truncated token. */
    CHECK(charter_verify(verifier, token, size - 10, a_day_later, &license, detail, sizeof detail) < 0);
    CHECK(license == NULL);
    CHECK(charter_verify(verifier, token, 0, a_day_later, &license, detail, sizeof detail) == CHARTER_E_MALFORMED);
    CHECK(charter_verify(verifier, "v4.local.AAAA", 13, a_day_later, &license, detail, sizeof detail)
        == CHARTER_E_MALFORMED);

    char *oversized = malloc(CHARTER_MAX_TOKEN_SIZE + 2);
    CHECK(oversized != NULL);
    if (oversized) {
        memset(oversized, 'A', CHARTER_MAX_TOKEN_SIZE + 1);
        memcpy(oversized, "v4.public.", 10);
        oversized[CHARTER_MAX_TOKEN_SIZE + 1] = '\0';
        CHECK(charter_verify(verifier, oversized, CHARTER_MAX_TOKEN_SIZE + 1, a_day_later, &license, detail,
                  sizeof detail)
            == CHARTER_E_TOO_LARGE);
        free(oversized);
    }

    /* Expired: the license handle still comes back, so the caller can say which license. */
    CHECK(charter_verify(verifier, token, size, expires_at + 1, &license, detail, sizeof detail) == CHARTER_E_EXPIRED);
    CHECK(license != NULL);
    CHECK_STRING(charter_license_id(license), "lic_test");
    CHECK(strstr(detail, "lic_test") != NULL);
    charter_license_free(license);
    CHECK(charter_verifier_set_leeway(verifier, 60) == CHARTER_OK);
    CHECK(charter_verify(verifier, token, size, expires_at + 60, NULL, NULL, 0) == CHARTER_OK);
    CHECK(charter_verify(verifier, token, size, expires_at + 61, NULL, NULL, 0) == CHARTER_E_EXPIRED);
    CHECK(charter_verifier_set_leeway(verifier, -1) == CHARTER_E_INVALID_ARGUMENT);

    /* A build made after updates_until is not covered. */
    CHECK(charter_verifier_set_build_time(verifier, updates_until) == CHARTER_OK);
    CHECK(charter_verify(verifier, token, size, a_day_later, NULL, NULL, 0) == CHARTER_OK);
    CHECK(charter_verifier_set_build_time(verifier, updates_until + 1) == CHARTER_OK);
    CHECK(charter_verify(verifier, token, size, a_day_later, NULL, NULL, 0) == CHARTER_E_UPDATES_ENDED);

    /* Detail buffers are NUL-terminated and truncated, never overrun. */
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK(charter_verify(verifier, token, 0, a_day_later, NULL, small, sizeof small) == CHARTER_E_MALFORMED);
    CHECK(strlen(small) == sizeof small - 1);
    char untouched = 'x';
    CHECK(charter_verify(verifier, token, 0, a_day_later, NULL, &untouched, 0) == CHARTER_E_MALFORMED);
    CHECK(untouched == 'x');

    charter_verifier_free(verifier);

    /* No key configured, and keys that are not k4.public PASERKs. */
    charter_verifier *keyless = charter_verifier_new("acme-pro");
    CHECK(charter_verify(keyless, token, size, a_day_later, NULL, NULL, 0) == CHARTER_E_NO_KEYS);
    CHECK(charter_verifier_add_key(keyless, "k4.public.tooshort") == CHARTER_E_BAD_KEY);
    CHECK(charter_verifier_add_key(keyless, "k3.public.AAAA") == CHARTER_E_BAD_KEY);
    charter_verifier_free(keyless);
}

/* The startup check's outcome at `now` for the key as an application-found value. */
static charter_startup_result *run_startup(const charter_startup *check, int64_t now, int expected_return)
{
    charter_startup_result *result = NULL;
    CHECK(charter_startup_check(check, now, &result) == expected_return);
    CHECK(result != NULL);
    return result;
}

/* The renewal warning from C: valid with a warning from exactly N days before exp, none a
 * second earlier; at exp still valid, a second later refused, saying where the renewed key
 * comes from. */
static void test_renewal_warning(const char *key, const char *token)
{
    charter_verifier *verifier = make_verifier("acme-pro", key);
    charter_startup *check = charter_startup_new(verifier);
    CHECK(check != NULL);
    CHECK(charter_startup_add_value(check, "ACME_PRO_KEY", token) == CHARTER_OK);

    /* The default: 14 days, and no renewal URL. */
    charter_startup_result *result = run_startup(check, expires_at - 14 * 86400 - 1, CHARTER_OK);
    CHECK(charter_startup_result_warning(result) == 0);
    CHECK_STRING(charter_startup_result_message(result), "the license lic_test for acme-pro is valid until 2027-11-28");
    charter_startup_result_free(result);
    result = run_startup(check, expires_at - 14 * 86400, CHARTER_OK);
    CHECK(charter_startup_result_valid(result) == 1);
    CHECK(charter_startup_result_warning(result) == 1);
    CHECK_STRING(charter_startup_result_message(result),
        "the license lic_test for acme-pro ends on 2027-11-28 (in 14 days); get the renewed key from Acme Inc. and put it in ACME_PRO_KEY");
    charter_startup_result_free(result);

    /* A configured period and renewal URL. */
    CHECK(charter_startup_set_renewal_warning_days(check, 30) == CHARTER_OK);
    CHECK(charter_startup_set_renew_url(check, "https://acme.example/renew") == CHARTER_OK);
    result = run_startup(check, expires_at - 30 * 86400 - 1, CHARTER_OK);
    CHECK(charter_startup_result_warning(result) == 0);
    charter_startup_result_free(result);
    result = run_startup(check, expires_at - 30 * 86400, CHARTER_OK);
    CHECK(charter_startup_result_warning(result) == 1);
    CHECK_STRING(charter_startup_result_message(result),
        "the license lic_test for acme-pro ends on 2027-11-28 (in 30 days); renew at https://acme.example/renew");
    charter_startup_result_free(result);

    result = run_startup(check, expires_at, CHARTER_OK);
    CHECK(charter_startup_result_status(result) == CHARTER_OK);
    CHECK(charter_startup_result_warning(result) == 1);
    CHECK_STRING(charter_startup_result_message(result),
        "the license lic_test for acme-pro ends on 2027-11-28 (in less than a day); renew at https://acme.example/renew");
    charter_startup_result_free(result);
    result = run_startup(check, expires_at + 1, CHARTER_E_EXPIRED);
    CHECK(charter_startup_result_valid(result) == 0);
    CHECK_STRING(charter_startup_result_message(result),
        "the license lic_test for acme-pro expired on 2027-11-28; renew at https://acme.example/renew");
    charter_startup_result_free(result);

    /* 0 turns it off; out of range is refused and changes nothing. */
    CHECK(charter_startup_set_renewal_warning_days(check, -1) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_startup_set_renewal_warning_days(check, 3651) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_startup_set_renewal_warning_days(NULL, 14) == CHARTER_E_INVALID_ARGUMENT);
    result = run_startup(check, expires_at - 30 * 86400, CHARTER_OK);
    CHECK(charter_startup_result_warning(result) == 1);
    charter_startup_result_free(result);
    CHECK(charter_startup_set_renewal_warning_days(check, 0) == CHARTER_OK);
    result = run_startup(check, expires_at, CHARTER_OK);
    CHECK(charter_startup_result_warning(result) == 0);
    charter_startup_result_free(result);

    charter_startup_free(check);
    charter_verifier_free(verifier);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_c_abi K4_PUBLIC TOKEN\n");
        return 2;
    }
    const char *key = argv[1];
    const char *token = argv[2];

    test_version_and_status_strings();
    test_null_handling(key, token);
    test_valid_license(key, token);
    test_refusals(key, token);
    test_renewal_warning(key, token);

    if (failures) {
        fprintf(stderr, "test_c_abi: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_c_abi: all checks passed\n");
    return 0;
}
