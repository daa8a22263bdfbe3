// The C ABI of libcharter-verify. Every entry point catches everything: no exception may
// cross extern "C" (allocation failure becomes CHARTER_E_NO_MEMORY).

#include "charter/verify.h"

#include "claims.hpp"
#include "paserk_public.hpp"
#include "paseto.hpp"
#include "rfc3339.hpp"
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

void write_detail(char* detail, size_t detail_size, std::string_view text)
{
    if (!detail || detail_size == 0)
        return;
    size_t count = std::min(text.size(), detail_size - 1);
    std::memcpy(detail, text.data(), count);
    detail[count] = '\0';
}

int sodium_ready()
{
    // sodium_init() is idempotent and thread-safe; it picks the fastest implementations.
    return sodium_init() < 0 ? CHARTER_E_INTERNAL : CHARTER_OK;
}

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
    Claims claims;
    std::string kid, ignored;
    if (parse_claims(token.message, claims, ignored) == CHARTER_OK && claims.product != verifier.product
        && check_signature(verifier, token, claims.product, kid, ignored) == CHARTER_OK) {
        detail = "license " + claims.license_id + " is for product \"" + claims.product + "\", not \"" + verifier.product + "\"";
        return CHARTER_E_WRONG_PRODUCT;
    }
    return CHARTER_E_BAD_SIGNATURE;
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

    if (claims.not_before && now < *claims.not_before - verifier.leeway) {
        detail = "license " + claims.license_id + " is not valid before " + format_rfc3339(*claims.not_before);
        status = CHARTER_E_NOT_YET_VALID;
    } else if (claims.expires_at && now > *claims.expires_at + verifier.leeway) {
        detail = "license " + claims.license_id + " for " + claims.product + " expired on " + format_rfc3339(*claims.expires_at);
        status = CHARTER_E_EXPIRED;
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

namespace {

template<typename Function>
int guarded(Function function)
{
    try {
        return function();
    } catch (std::bad_alloc const&) {
        return CHARTER_E_NO_MEMORY;
    } catch (...) {
        return CHARTER_E_INTERNAL;
    }
}

}

extern "C" {

char const* charter_version(void)
{
    return CHARTER_VERSION_STRING;
}

char const* charter_status_string(int status)
{
    switch (status) {
    case CHARTER_OK: return "valid";
    case CHARTER_E_INVALID_ARGUMENT: return "invalid argument";
    case CHARTER_E_NO_MEMORY: return "out of memory";
    case CHARTER_E_TOO_LARGE: return "license key is too large";
    case CHARTER_E_MALFORMED: return "not a v4.public license key";
    case CHARTER_E_BAD_ENCODING: return "license key is not valid base64url";
    case CHARTER_E_BAD_FOOTER: return "license key footer is invalid";
    case CHARTER_E_NO_KEYS: return "no trusted public key configured";
    case CHARTER_E_UNKNOWN_KEY: return "license key was signed by an untrusted key";
    case CHARTER_E_BAD_SIGNATURE: return "license key signature is invalid";
    case CHARTER_E_BAD_CLAIMS: return "license claims are not a valid JSON object";
    case CHARTER_E_MISSING_CLAIM: return "license lacks a required claim";
    case CHARTER_E_WRONG_CLAIM_TYPE: return "license claim has the wrong type";
    case CHARTER_E_WRONG_PRODUCT: return "license is for another product";
    case CHARTER_E_NOT_YET_VALID: return "license is not valid yet";
    case CHARTER_E_EXPIRED: return "license has expired";
    case CHARTER_E_UPDATES_ENDED: return "license does not cover this release";
    case CHARTER_E_REVOKED: return "license has been revoked";
    case CHARTER_E_BAD_KEY: return "public key is not a valid k4.public key";
    case CHARTER_E_BAD_REVOCATION_LIST: return "revocation list is invalid";
    case CHARTER_E_INTERNAL: return "internal error";
    case CHARTER_E_NO_LICENSE: return "no license key found";
    }
    return "unknown status";
}

charter_verifier* charter_verifier_new(char const* product)
{
    if (!product || !*product || sodium_ready() != CHARTER_OK)
        return nullptr;
    try {
        auto* verifier = new charter_verifier;
        verifier->product = product;
        return verifier;
    } catch (...) {
        return nullptr;
    }
}

void charter_verifier_free(charter_verifier* verifier)
{
    delete verifier;
}

int charter_verifier_add_key(charter_verifier* verifier, char const* paserk_public)
{
    if (!verifier || !paserk_public)
        return CHARTER_E_INVALID_ARGUMENT;
    return guarded([&] {
        auto key = decode_paserk_public(paserk_public);
        if (!key)
            return int(CHARTER_E_BAD_KEY);
        std::string kid = paserk_pid(*key);
        for (auto const& trusted : verifier->keys) {
            if (trusted.kid == kid)
                return int(CHARTER_OK);
        }
        verifier->keys.push_back(charter_verifier::TrustedKey { *key, std::move(kid) });
        return int(CHARTER_OK);
    });
}

int charter_verifier_set_leeway(charter_verifier* verifier, int64_t seconds)
{
    if (!verifier || seconds < 0 || seconds > int64_t(86400) * 365)
        return CHARTER_E_INVALID_ARGUMENT;
    verifier->leeway = seconds;
    return CHARTER_OK;
}

int charter_verifier_set_build_time(charter_verifier* verifier, int64_t unix_seconds)
{
    if (!verifier)
        return CHARTER_E_INVALID_ARGUMENT;
    verifier->build_time = unix_seconds;
    return CHARTER_OK;
}

int charter_verifier_set_revocation_list(charter_verifier* verifier, char const* token, size_t token_size, char* detail,
    size_t detail_size)
{
    if (!verifier || !token)
        return CHARTER_E_INVALID_ARGUMENT;
    return guarded([&] {
        std::string message;
        RevocationList list;
        int status = charter::internal::load_revocation_list(*verifier, std::string_view(token, token_size), list, message);
        if (status != CHARTER_OK) {
            write_detail(detail, detail_size, message);
            return status;
        }
        verifier->revocations = std::move(list);
        write_detail(detail, detail_size, "");
        return int(CHARTER_OK);
    });
}

int charter_verify(charter_verifier const* verifier, char const* token, size_t token_size, int64_t now,
    charter_license** license_out, char* detail, size_t detail_size)
{
    if (license_out)
        *license_out = nullptr;
    if (!verifier || !token) {
        write_detail(detail, detail_size, "verifier and token must not be NULL");
        return CHARTER_E_INVALID_ARGUMENT;
    }
    std::string message;
    int status = guarded([&] { return charter::internal::verify(*verifier, std::string_view(token, token_size), now, nullptr, license_out, message); });
    if (status == CHARTER_E_NO_MEMORY || status == CHARTER_E_INTERNAL)
        message = charter_status_string(status);
    write_detail(detail, detail_size, message);
    return status;
}

void charter_license_free(charter_license* license)
{
    delete license;
}

charter_license* charter_license_copy(charter_license const* license)
{
    if (!license)
        return nullptr;
    try {
        return new charter_license(*license);
    } catch (...) {
        return nullptr;
    }
}

char const* charter_license_id(charter_license const* license) { return license ? license->claims.license_id.c_str() : nullptr; }
char const* charter_license_customer(charter_license const* license) { return license ? license->claims.customer.c_str() : nullptr; }
char const* charter_license_issuer(charter_license const* license) { return license ? license->claims.issuer.c_str() : nullptr; }
char const* charter_license_product(charter_license const* license) { return license ? license->claims.product.c_str() : nullptr; }
char const* charter_license_kid(charter_license const* license) { return license ? license->kid.c_str() : nullptr; }
char const* charter_license_claims_json(charter_license const* license) { return license ? license->claims_json.c_str() : nullptr; }

char const* charter_license_name(charter_license const* license)
{
    return license && license->claims.name ? license->claims.name->c_str() : nullptr;
}

int64_t charter_license_issued_at(charter_license const* license)
{
    return license ? license->claims.issued_at : 0;
}

static int optional_out(std::optional<int64_t> const& value, int64_t* out)
{
    if (!value)
        return 0;
    if (out)
        *out = *value;
    return 1;
}

int charter_license_not_before(charter_license const* license, int64_t* out) { return license ? optional_out(license->claims.not_before, out) : 0; }
int charter_license_expires_at(charter_license const* license, int64_t* out) { return license ? optional_out(license->claims.expires_at, out) : 0; }
int charter_license_updates_until(charter_license const* license, int64_t* out) { return license ? optional_out(license->claims.updates_until, out) : 0; }
int charter_license_seats(charter_license const* license, int64_t* out) { return license ? optional_out(license->claims.seats, out) : 0; }

int charter_license_has_entitlement(charter_license const* license, char const* name)
{
    if (!license || !name)
        return 0;
    auto const& entitlements = license->claims.entitlements;
    return std::find(entitlements.begin(), entitlements.end(), std::string_view(name)) != entitlements.end() ? 1 : 0;
}

size_t charter_license_entitlement_count(charter_license const* license)
{
    return license ? license->claims.entitlements.size() : 0;
}

char const* charter_license_entitlement(charter_license const* license, size_t index)
{
    if (!license || index >= license->claims.entitlements.size())
        return nullptr;
    return license->claims.entitlements[index].c_str();
}

}
