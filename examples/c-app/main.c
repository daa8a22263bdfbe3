/* acme-pro, a plain C program that checks its license at startup (docs/integrating.md).
 * Exit status: 0 when licensed (possibly with a warning on stderr), 1 when not. */

#include <charter/verify.h>

#include <stdio.h>
#include <time.h>

#include "charter_keys.h" /* generated at build time: charter key export --format c */

#ifndef ACME_BUILD_TIME
#    error "define ACME_BUILD_TIME (Unix seconds) when building: see the Makefile"
#endif

static void print_license(const charter_license *license)
{
    const char *name = charter_license_name(license);
    size_t count = charter_license_entitlement_count(license);
    printf("licensed to %s (%s)\n", name ? name : charter_license_customer(license), charter_license_id(license));
    printf("entitlements:");
    for (size_t i = 0; i < count; ++i)
        printf("%s%s", i ? ", " : " ", charter_license_entitlement(license, i));
    printf("%s\n", count ? "" : " none");
}

/* Returns 0 when acme-pro may run; prints why not otherwise. */
static int check_license(void)
{
    charter_verifier *verifier = charter_verifier_new("acme-pro");
    charter_startup *check = charter_startup_new(verifier);
    charter_startup_result *result = NULL;
    int status = CHARTER_E_NO_MEMORY;

    if (!verifier || !check) {
        fprintf(stderr, "acme-pro: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < CHARTER_PUBLIC_KEY_COUNT; ++i) {
        if (charter_verifier_add_key(verifier, charter_public_keys[i]) != CHARTER_OK) {
            fprintf(stderr, "acme-pro: embedded public key %zu is invalid\n", i);
            goto done;
        }
    }
    if (charter_verifier_set_build_time(verifier, ACME_BUILD_TIME) != CHARTER_OK
        || charter_startup_set_env(check, "ACME_PRO_LICENSE") != CHARTER_OK
        || charter_startup_add_file(check, "./config/acme-pro.license") != CHARTER_OK
        || charter_startup_add_file(check, "~/.config/acme-pro/license") != CHARTER_OK
        || charter_startup_set_revocation_file(check, "./config/acme-pro.revocations") != CHARTER_OK
        || charter_startup_set_grace_days(check, 14) != CHARTER_OK
        || charter_startup_set_renew_url(check, "https://acme.example/renew") != CHARTER_OK) {
        fprintf(stderr, "acme-pro: cannot configure the license check\n");
        goto done;
    }

    status = charter_startup_check(check, (int64_t)time(NULL), &result);
    if (!result) {
        fprintf(stderr, "acme-pro: the license check could not run: %s\n", charter_status_string(status));
        goto done;
    }
    if (status != CHARTER_OK) {
        fprintf(stderr, "acme-pro: %s\n\n%s", charter_startup_result_message(result), charter_startup_result_diagnostic(result));
        goto done;
    }
    if (charter_startup_result_warning(result))
        fprintf(stderr, "acme-pro: warning: %s\n", charter_startup_result_message(result));
    if (charter_startup_result_license(result))
        print_license(charter_startup_result_license(result));

done:
    charter_startup_result_free(result);
    charter_startup_free(check);
    charter_verifier_free(verifier);
    return status == CHARTER_OK ? 0 : 1;
}

int main(void)
{
    if (check_license() != 0)
        return 1;
    /* ... acme-pro itself ... */
    return 0;
}
