#include "charter/keygen/token_signer.hpp"

#include "charter/format/base64url.hpp"
#include "charter/format/claims.hpp"
#include "charter/format/paseto.hpp"
#include "charter/format/rfc3339.hpp"
#include "charter/json_string.hpp"

#include <sodium.h>


namespace charter::keygen {

std::string sign_v4_public(SigningKey const& key, std::string_view message, std::string_view footer,
    std::string_view implicit_assertion)
{
    std::string signed_bytes = format::v4_public_preauth(message, footer, implicit_assertion);
    std::string body(message);
    body.resize(message.size() + crypto_sign_BYTES);
    crypto_sign_detached(reinterpret_cast<unsigned char*>(body.data() + message.size()), nullptr,
        reinterpret_cast<unsigned char const*>(signed_bytes.data()), signed_bytes.size(), key.secret_bytes());
    std::string token(format::v4_public_header);
    token += format::base64url_encode(body);
    if (!footer.empty()) {
        token += '.';
        token += format::base64url_encode(footer);
    }
    return token;
}

namespace {

void append_member(std::string& out, std::string_view key)
{
    out += out.size() > 1 ? ",\"" : "\"";
    out += key;
    out += "\":";
}

void append_string_member(std::string& out, std::string_view key, std::string_view value)
{
    append_member(out, key);
    append_json_string(out, value);
}

void append_time_member(std::string& out, std::string_view key, int64_t time)
{
    append_member(out, key);
    out += '"';
    out += format::format_rfc3339(time);
    out += '"';
}

}

std::string claims_to_json(LicenseClaims const& claims)
{
    // Written directly rather than through an nlohmann object: this runs once per license, and
    // a batch issues 100,000 of them (docs/performance.md). The bytes are the same as
    // ordered_json::dump() gives for the same claims (tests/test_token_signer.cpp).
    std::string out;
    out.reserve(384 + claims.issuer.size() + (claims.name ? claims.name->size() : 0));
    out += '{';
    append_string_member(out, "iss", claims.issuer);
    append_string_member(out, "sub", claims.customer);
    append_string_member(out, "jti", claims.license_id);
    append_time_member(out, "iat", claims.issued_at);
    if (claims.not_before)
        append_time_member(out, "nbf", *claims.not_before);
    if (claims.expires_at)
        append_time_member(out, "exp", *claims.expires_at);
    append_string_member(out, "product", claims.product);
    if (claims.name)
        append_string_member(out, "name", *claims.name);
    if (!claims.entitlements.empty()) {
        append_member(out, "entitlements");
        out += '[';
        for (size_t i = 0; i < claims.entitlements.size(); ++i) {
            if (i > 0)
                out += ',';
            append_json_string(out, claims.entitlements[i]);
        }
        out += ']';
    }
    if (claims.updates_until)
        append_time_member(out, "updates_until", *claims.updates_until);
    if (claims.seats) {
        append_member(out, "seats");
        out += std::to_string(*claims.seats);
    }
    if (!claims.meta.empty()) {
        append_member(out, "meta");
        bool all_strings = claims.meta.is_object();
        for (auto const& [key, value] : claims.meta.items())
            all_strings = all_strings && value.is_string();
        if (!all_strings) {
            out += claims.meta.dump();
        } else {
            out += '{';
            bool first = true;
            for (auto const& [key, value] : claims.meta.items()) {
                if (!first)
                    out += ',';
                first = false;
                append_json_string(out, key);
                out += ':';
                append_json_string(out, value.get_ref<std::string const&>());
            }
            out += '}';
        }
    }
    out += '}';
    return out;
}

Result<LicenseClaims> claims_from_json(std::string_view json)
{
    // The claims are read by verify-lib's own parser (one reader of the format); meta, which
    // verifiers do not interpret, is taken from the JSON as it is, in its order.
    format::Claims parsed;
    std::string detail;
    if (int status = format::parse_claims(json, parsed, detail); status != CHARTER_OK)
        return make_error(ErrorKind::internal, "the stored claims of a license cannot be read (" + detail + ")");
    LicenseClaims claims;
    claims.issuer = std::move(parsed.issuer);
    claims.customer = std::move(parsed.customer);
    claims.license_id = std::move(parsed.license_id);
    claims.product = std::move(parsed.product);
    claims.issued_at = parsed.issued_at;
    claims.not_before = parsed.not_before;
    claims.expires_at = parsed.expires_at;
    claims.name = std::move(parsed.name);
    claims.entitlements = std::move(parsed.entitlements);
    claims.updates_until = parsed.updates_until;
    claims.seats = parsed.seats;
    // Parsed a second time only when there may be meta (most licenses have none): a renewal
    // reads the claims of every license it renews.
    if (json.find("\"meta\"") != std::string_view::npos) {
        auto whole = nlohmann::ordered_json::parse(json, nullptr, false);
        if (whole.is_object() && whole.contains("meta") && whole["meta"].is_object())
            claims.meta = whole["meta"];
    }
    return claims;
}

SignedLicense sign_license(SigningKey const& key, LicenseClaims const& claims)
{
    SignedLicense signed_license;
    signed_license.claims_json = claims_to_json(claims);
    signed_license.token = sign_v4_public(key, signed_license.claims_json, format::make_footer(key.kid()), claims.product);
    return signed_license;
}

std::string sign_revocation_list(SigningKey const& key, std::string_view issuer, std::string_view product,
    int64_t issued_at, std::vector<std::string> const& revoked_ids)
{
    nlohmann::ordered_json json;
    json["iss"] = issuer;
    json["iat"] = format::format_rfc3339(issued_at);
    json["product"] = product;
    json["revoked"] = revoked_ids;
    std::string assertion = std::string(format::revocation_assertion_prefix) + std::string(product);
    return sign_v4_public(key, json.dump(), format::make_footer(key.kid()), assertion);
}

}
