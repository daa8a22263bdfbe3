#include "charter/format/statuses.hpp"

#include "charter/verify.h"

namespace charter::format {

namespace {

struct Status {
    int code;
    char const* name;
    char const* text;
};

constexpr Status statuses[] = {
    { CHARTER_OK, "valid", "valid" },
    { CHARTER_E_INVALID_ARGUMENT, "invalid_argument", "invalid argument" },
    { CHARTER_E_NO_MEMORY, "no_memory", "out of memory" },
    { CHARTER_E_TOO_LARGE, "too_large", "license key is too large" },
    { CHARTER_E_MALFORMED, "malformed", "not a v4.public license key" },
    { CHARTER_E_BAD_ENCODING, "bad_encoding", "license key is not valid base64url" },
    { CHARTER_E_BAD_FOOTER, "bad_footer", "license key footer is invalid" },
    { CHARTER_E_NO_KEYS, "no_keys", "no trusted public key configured" },
    { CHARTER_E_UNKNOWN_KEY, "unknown_key", "license key was signed by an untrusted key" },
    { CHARTER_E_BAD_SIGNATURE, "bad_signature", "license key signature is invalid" },
    { CHARTER_E_BAD_CLAIMS, "bad_claims", "license claims are not a valid JSON object" },
    { CHARTER_E_MISSING_CLAIM, "missing_claim", "license lacks a required claim" },
    { CHARTER_E_WRONG_CLAIM_TYPE, "wrong_claim_type", "license claim has the wrong type" },
    { CHARTER_E_WRONG_PRODUCT, "wrong_product", "license is for another product" },
    { CHARTER_E_NOT_YET_VALID, "not_yet_valid", "license is not valid yet" },
    { CHARTER_E_EXPIRED, "expired", "license has expired" },
    { CHARTER_E_UPDATES_ENDED, "updates_ended", "license does not cover this release" },
    { CHARTER_E_REVOKED, "revoked", "license has been revoked" },
    { CHARTER_E_BAD_KEY, "bad_key", "public key is not a valid k4.public key" },
    { CHARTER_E_BAD_REVOCATION_LIST, "bad_revocation_list", "revocation list is invalid" },
    { CHARTER_E_INTERNAL, "internal", "internal error" },
    { CHARTER_E_NO_LICENSE, "no_license", "no license key found" },
    { CHARTER_E_WRONG_MACHINE, "wrong_machine", "activation is for another machine" },
    { CHARTER_E_LEASE_EXPIRED, "lease_expired", "activation lease has ended" },
    { CHARTER_E_SEATS_EXHAUSTED, "seats_exhausted", "every seat of the license is taken" },
    { CHARTER_E_UNREACHABLE, "unreachable", "license server could not be reached" },
    { CHARTER_E_ACTIVATION_REFUSED, "activation_refused", "license server refused the activation" },
};

Status const* find(int code)
{
    for (auto const& status : statuses) {
        if (status.code == code)
            return &status;
    }
    return nullptr;
}

}

char const* status_name(int status)
{
    auto const* found = find(status);
    return found ? found->name : "unknown";
}

char const* status_text(int status)
{
    auto const* found = find(status);
    return found ? found->text : "unknown status";
}

}
