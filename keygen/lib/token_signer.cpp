#include "token_signer.hpp"

#include "base64url.hpp"
#include "claims.hpp"
#include "paseto.hpp"
#include "rfc3339.hpp"

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

std::string claims_to_json(LicenseClaims const& claims)
{
    nlohmann::ordered_json json;
    json["iss"] = claims.issuer;
    json["sub"] = claims.customer;
    json["jti"] = claims.license_id;
    json["iat"] = format::format_rfc3339(claims.issued_at);
    if (claims.not_before)
        json["nbf"] = format::format_rfc3339(*claims.not_before);
    if (claims.expires_at)
        json["exp"] = format::format_rfc3339(*claims.expires_at);
    json["product"] = claims.product;
    if (claims.name)
        json["name"] = *claims.name;
    if (!claims.entitlements.empty())
        json["entitlements"] = claims.entitlements;
    if (claims.updates_until)
        json["updates_until"] = format::format_rfc3339(*claims.updates_until);
    if (claims.seats)
        json["seats"] = *claims.seats;
    if (!claims.meta.empty())
        json["meta"] = claims.meta;
    return json.dump();
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

std::string new_id(std::string_view prefix)
{
    static constexpr char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string id(prefix);
    for (int i = 0; i < 22; ++i)
        id += alphabet[randombytes_uniform(62)];
    return id;
}

}
