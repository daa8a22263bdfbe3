// License verification (charter_verify() without its C boundary, which is c_api.cpp): the
// signature by the key the footer names, the claims, the time checks, updates and revocations;
// and the loading of revocation files.

#include "charter/verify.h"

#include "charter/format/claims.hpp"
#include "charter/format/paserk_public.hpp"
#include "charter/format/paseto.hpp"
#include "charter/format/rfc3339.hpp"
#include "verifier_internal.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <new>

using namespace charter::format;

namespace {

// Finds the key that signed `token`, verifying its signature. With a kid in the footer,
// only that key is tried; without a footer, every trusted key is.
int check_signature(charter_verifier const& verifier, DecodedToken const& token, std::string_view implicit_assertion,
    std::string& kid, std::string& detail)
{
    if (verifier.keys.empty()) {
        detail = "no public key is configured to verify license keys with";
        return CHARTER_E_NO_KEYS;
    }
    if (token.has_footer) {
        int status = parse_footer_kid(token.footer, kid, detail);
        if (status != CHARTER_OK)
            return status;
        auto it = std::find_if(verifier.keys.begin(), verifier.keys.end(), [&](auto const& key) { return key.kid == kid; });
        if (it == verifier.keys.end()) {
            detail = "license key was signed by " + kid + ", which is not a trusted key";
            return CHARTER_E_UNKNOWN_KEY;
        }
        if (!v4_public_signature_valid(token, it->key.data(), implicit_assertion)) {
            detail = "license key signature does not verify for product \"" + verifier.product + "\" (the key was altered)";
            return CHARTER_E_BAD_SIGNATURE;
        }
        return CHARTER_OK;
    }
    for (auto const& key : verifier.keys) {
        if (v4_public_signature_valid(token, key.key.data(), implicit_assertion)) {
            kid = key.kid;
            return CHARTER_OK;
        }
    }
    detail = "license key signature does not verify with any trusted key for product \"" + verifier.product + "\"";
    return CHARTER_E_BAD_SIGNATURE;
}

// The product is the implicit assertion, so a genuine license key of another product fails the
// signature check like an altered one. Its claims say which product it is for: when the
// signature verifies for that product, with a trusted key, the key is not altered but the wrong
// one, and the customer should be told so. (One more Ed25519 verification, on this path only.)
int explain_bad_signature(charter_verifier const& verifier, DecodedToken const& token, std::string& detail)
{
    auto claimed = claimed_product_of_message(token.message);
    std::string kid, ignored;
    if (!claimed || *claimed == verifier.product || check_signature(verifier, token, *claimed, kid, ignored) != CHARTER_OK)
        return CHARTER_E_BAD_SIGNATURE;
    Claims claims;
    if (parse_claims(token.message, claims, ignored) != CHARTER_OK)
        return CHARTER_E_BAD_SIGNATURE;
    detail = "license " + claims.license_id + " is for product \"" + claims.product + "\", not \"" + verifier.product + "\"";
    return CHARTER_E_WRONG_PRODUCT;
}

bool is_listed(RevocationList const* list, std::string const& license_id)
{
    return list && std::binary_search(list->revoked.begin(), list->revoked.end(), license_id);
}

}

namespace charter::internal {

int verify(charter_verifier const& verifier, std::string_view token_text, int64_t now,
    RevocationList const* extra_revocations, charter_license** license_out, std::string& detail)
{
    DecodedToken token;
    int status = decode_v4_public(token_text, token, detail);
    if (status != CHARTER_OK)
        return status;

    auto license = std::make_unique<charter_license>();
    status = check_signature(verifier, token, verifier.product, license->kid, detail);
    if (status == CHARTER_E_BAD_SIGNATURE)
        return explain_bad_signature(verifier, token, detail);
    if (status != CHARTER_OK)
        return status;

    status = parse_claims(token.message, license->claims, detail);
    if (status != CHARTER_OK)
        return status;
    auto const& claims = license->claims;
    if (claims.product != verifier.product) {
        detail = "license " + claims.license_id + " is for product \"" + claims.product + "\", not \"" + verifier.product + "\"";
        return CHARTER_E_WRONG_PRODUCT;
    }
    license->claims_json = std::move(token.message);

    status = check_validity_period(claims.not_before, claims.expires_at, now, verifier.leeway);
    if (status == CHARTER_E_NOT_YET_VALID) {
        detail = "license " + claims.license_id + " is not valid before " + format_rfc3339(*claims.not_before);
    } else if (status == CHARTER_E_EXPIRED) {
        detail = "license " + claims.license_id + " for " + claims.product + " expired on " + format_rfc3339(*claims.expires_at);
    } else if (claims.updates_until && verifier.build_time && *verifier.build_time > *claims.updates_until) {
        detail = "license " + claims.license_id + " covers releases up to " + format_rfc3339(*claims.updates_until)
            + "; this build is from " + format_rfc3339(*verifier.build_time);
        status = CHARTER_E_UPDATES_ENDED;
    } else if (is_listed(verifier.revocations ? &*verifier.revocations : nullptr, claims.license_id)
        || is_listed(extra_revocations, claims.license_id)) {
        detail = "license " + claims.license_id + " for " + claims.product + " has been revoked";
        status = CHARTER_E_REVOKED;
    }
    if (license_out)
        *license_out = license.release();
    return status;
}

std::string fingerprint_hash(std::string_view fingerprint)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<unsigned char const*>(fingerprint.data()), fingerprint.size());
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

namespace {

// An activation token of another product fails the signature check (the product is in the
// implicit assertion); when it verifies for the product its claims name, say so, as for licenses.
int explain_bad_activation_signature(charter_verifier const& verifier, DecodedToken const& token, std::string& detail)
{
    auto claimed = claimed_product_of_message(token.message);
    std::string kid, ignored;
    if (!claimed || *claimed == verifier.product
        || check_signature(verifier, token, std::string(activation_assertion_prefix) + *claimed, kid, ignored) != CHARTER_OK)
        return CHARTER_E_BAD_SIGNATURE;
    ActivationClaims claims;
    if (parse_activation_claims(token.message, claims, ignored) != CHARTER_OK)
        return CHARTER_E_BAD_SIGNATURE;
    detail = "activation " + claims.activation_id + " is for product \"" + claims.product + "\", not \"" + verifier.product + "\"";
    return CHARTER_E_WRONG_PRODUCT;
}

}

int verify_activation(charter_verifier const& verifier, std::string_view token_text, std::string_view fingerprint, int64_t now,
    int64_t leeway, charter_activation** activation_out, std::string& detail)
{
    DecodedToken token;
    int status = decode_v4_public(token_text, token, detail);
    if (status != CHARTER_OK) {
        if (detail.starts_with("license key"))
            detail.replace(0, 11, "activation token");
        return status;
    }
    // Activation tokens always name their key: without a footer no key is tried (fail closed).
    if (!token.has_footer && !verifier.keys.empty()) {
        detail = "activation token has no footer naming the key that signed it";
        return CHARTER_E_BAD_FOOTER;
    }

    auto activation = std::make_unique<charter_activation>();
    std::string assertion = std::string(activation_assertion_prefix) + verifier.product;
    status = check_signature(verifier, token, assertion, activation->kid, detail);
    if (status == CHARTER_E_BAD_SIGNATURE) {
        detail = "activation token signature does not verify for product \"" + verifier.product + "\" (the token was altered)";
        return explain_bad_activation_signature(verifier, token, detail);
    }
    if (status != CHARTER_OK) {
        if (detail.starts_with("license key"))
            detail.replace(0, 11, "activation token");
        return status;
    }

    status = parse_activation_claims(token.message, activation->claims, detail);
    if (status != CHARTER_OK)
        return status;
    auto const& claims = activation->claims;
    if (claims.product != verifier.product) {
        detail = "activation " + claims.activation_id + " is for product \"" + claims.product + "\", not \"" + verifier.product + "\"";
        return CHARTER_E_WRONG_PRODUCT;
    }
    activation->claims_json = std::move(token.message);
    if (fingerprint_hash(fingerprint) != claims.fingerprint) {
        detail = "activation " + claims.activation_id + " of license " + claims.license_id
            + " belongs to another machine (its fingerprint differs from this machine's); activate this machine";
        status = CHARTER_E_WRONG_MACHINE;
    } else if (check_validity_period(std::nullopt, claims.lease_ends_at, now, leeway) == CHARTER_E_EXPIRED) {
        detail = "the lease of activation " + claims.activation_id + " of license " + claims.license_id + " ended at "
            + format_rfc3339(*claims.lease_ends_at) + "; renew it with a heartbeat or activate again";
        status = CHARTER_E_LEASE_EXPIRED;
    }
    if (activation_out)
        *activation_out = activation.release();
    return status;
}

namespace {

// One list token: checked like a license (size, decoding, key by kid, signature with the
// revocation assertion), then parsed, and its product must be the verifier's.
int load_one_revocation_list(charter_verifier const& verifier, std::string_view token, RevocationList& out,
    std::string& message)
{
    DecodedToken decoded;
    int status = decode_v4_public(token, decoded, message, CHARTER_MAX_REVOCATION_LIST_SIZE);
    std::string kid;
    std::string assertion = std::string(revocation_assertion_prefix) + verifier.product;
    if (status == CHARTER_OK)
        status = check_signature(verifier, decoded, assertion, kid, message);
    if (status == CHARTER_OK)
        status = parse_revocation_list(decoded.message, out, message);
    if (status == CHARTER_OK && out.product != verifier.product) {
        message = "revocation list is for product \"" + out.product + "\", not \"" + verifier.product + "\"";
        status = CHARTER_E_BAD_REVOCATION_LIST;
    }
    return status;
}

}

int load_revocation_list(charter_verifier const& verifier, std::string_view file, RevocationList& out,
    std::string& detail)
{
    // A revocation file holds one list token per signing key the vendor still trusts, one per
    // line, so that a build trusting any of those keys finds a list it can verify (a build made
    // before a key rotation trusts only the old key). The first line that is a valid list wins.
    if (file.size() > CHARTER_MAX_REVOCATION_FILE_SIZE) {
        detail = "revocation list rejected: the file is " + std::to_string(file.size()) + " bytes; the limit is "
            + std::to_string(CHARTER_MAX_REVOCATION_FILE_SIZE);
        return CHARTER_E_BAD_REVOCATION_LIST;
    }
    std::vector<std::string_view> lines;
    for (size_t start = 0; start <= file.size();) {
        size_t end = std::min(file.find('\n', start), file.size());
        std::string_view line = file.substr(start, end - start);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (!line.empty())
            lines.push_back(line);
        start = end + 1;
    }
    if (lines.empty()) {
        detail = "revocation list rejected: it is empty";
        return CHARTER_E_BAD_REVOCATION_LIST;
    }
    if (lines.size() > CHARTER_MAX_REVOCATION_LISTS) {
        detail = "revocation list rejected: the file holds " + std::to_string(lines.size()) + " lists; the limit is "
            + std::to_string(CHARTER_MAX_REVOCATION_LISTS);
        return CHARTER_E_BAD_REVOCATION_LIST;
    }
    std::string reasons;
    for (size_t i = 0; i < lines.size(); ++i) {
        RevocationList list;
        std::string message;
        if (load_one_revocation_list(verifier, lines[i], list, message) == CHARTER_OK) {
            out = std::move(list);
            return CHARTER_OK;
        }
        if (lines.size() == 1) {
            detail = "revocation list rejected: " + message;
            return CHARTER_E_BAD_REVOCATION_LIST;
        }
        reasons += (i == 0 ? "" : "; ") + ("line " + std::to_string(i + 1) + ": ") + message;
    }
    detail = "revocation list rejected: none of its " + std::to_string(lines.size()) + " lists is valid for this build ("
        + reasons + ")";
    return CHARTER_E_BAD_REVOCATION_LIST;
}

}
