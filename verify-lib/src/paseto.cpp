#include "charter/format/paseto.hpp"

#include "charter/format/base64url.hpp"
#include "charter/format/pae.hpp"
#include "charter/verify.h"

#include <sodium.h>

namespace charter::format {

int decode_v4_public(std::string_view token, DecodedToken& out, std::string& detail, size_t max_size)
{
    if (token.size() > max_size) {
        detail = "license key is " + std::to_string(token.size()) + " bytes; the limit is " + std::to_string(max_size);
        return CHARTER_E_TOO_LARGE;
    }
    if (token.empty()) {
        detail = "license key is empty";
        return CHARTER_E_MALFORMED;
    }
    if (token.starts_with("cdl_")) {
        // A customer pasting the secret of a download credential where the product wants its key.
        detail = "this is a download credential (cdl_...), not a license key: a credential only opens the vendor's download server; use the license key (v4.public...)";
        return CHARTER_E_MALFORMED;
    }
    if (!token.starts_with(v4_public_header)) {
        detail = "license key does not start with \"v4.public.\"";
        return CHARTER_E_MALFORMED;
    }
    std::string_view rest = token.substr(v4_public_header.size());
    std::string_view payload = rest;
    std::string_view footer;
    out.has_footer = false;
    if (auto dot = rest.find('.'); dot != std::string_view::npos) {
        payload = rest.substr(0, dot);
        footer = rest.substr(dot + 1);
        out.has_footer = true;
        if (footer.find('.') != std::string_view::npos) {
            detail = "license key has more than four dot-separated parts";
            return CHARTER_E_MALFORMED;
        }
        if (footer.empty()) {
            detail = "license key ends with an empty footer after a dot";
            return CHARTER_E_MALFORMED;
        }
    }

    std::string decoded(base64url_decoded_size(payload.size()), '\0');
    long size = base64url_decode_into(payload, reinterpret_cast<uint8_t*>(decoded.data()));
    if (size < 0) {
        detail = "license key payload is not canonical unpadded base64url";
        return CHARTER_E_BAD_ENCODING;
    }
    if (size_t(size) < ed25519_signature_size) {
        detail = "license key payload is too short to hold a signature";
        return CHARTER_E_MALFORMED;
    }
    size_t message_size = size_t(size) - ed25519_signature_size;
    out.signature.assign(decoded, message_size, ed25519_signature_size);
    decoded.resize(message_size);
    out.message = std::move(decoded);

    out.footer.clear();
    if (out.has_footer) {
        auto footer_bytes = base64url_decode(footer);
        if (!footer_bytes) {
            detail = "license key footer is not canonical unpadded base64url";
            return CHARTER_E_BAD_ENCODING;
        }
        out.footer = std::move(*footer_bytes);
    }
    return CHARTER_OK;
}

std::string v4_public_preauth(std::string_view message, std::string_view footer, std::string_view implicit_assertion)
{
    return pae({ v4_public_header, message, footer, implicit_assertion });
}

bool v4_public_signature_valid(DecodedToken const& token, uint8_t const* public_key, std::string_view implicit_assertion)
{
    std::string signed_bytes = v4_public_preauth(token.message, token.footer, implicit_assertion);
    return crypto_sign_verify_detached(reinterpret_cast<unsigned char const*>(token.signature.data()),
               reinterpret_cast<unsigned char const*>(signed_bytes.data()), signed_bytes.size(), public_key)
        == 0;
}

}
