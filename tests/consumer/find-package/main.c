/* consumer KEY TOKEN: verifies a license key for product acme-pro, as a vendor's program would. */
#include <charter/verify.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: consumer K4_PUBLIC TOKEN\n");
        return 2;
    }
    if (strcmp(charter_version(), CHARTER_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", CHARTER_VERSION_STRING, charter_version());
        return 1;
    }
    charter_verifier *verifier = charter_verifier_new("acme-pro");
    if (!verifier || charter_verifier_add_key(verifier, argv[1]) != CHARTER_OK) {
        fprintf(stderr, "cannot configure the verifier\n");
        return 1;
    }
    charter_license *license = NULL;
    char detail[256];
    int64_t now = 1795860000 + 86400; /* a day after the test license was issued */
    int status = charter_verify(verifier, argv[2], strlen(argv[2]), now, &license, detail, sizeof detail);
    int ok = status == CHARTER_OK && strcmp(charter_license_id(license), "lic_test") == 0
        && charter_license_has_entitlement(license, "sso");
    if (ok)
        printf("license %s for %s: valid\n", charter_license_id(license), charter_license_customer(license));
    else
        fprintf(stderr, "license refused: %s (%s)\n", charter_status_string(status), detail);
    charter_license_free(license);
    charter_verifier_free(verifier);
    return ok ? 0 : 1;
}
