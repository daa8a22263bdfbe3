#include "charter/format/claims.hpp"

#include "charter/format/paserk_public.hpp"
#include "charter/format/paseto.hpp"
#include "charter/format/rfc3339.hpp"
#include "charter/format/strict_json.hpp"
#include "charter/verify.h"

#include <algorithm>

namespace charter::format {

namespace {

// Reads typed members out of a JsonObject, remembering the first problem as a status and
// a sentence; each getter is a no-op once a problem is recorded. Values are moved out of the
// object, so each member is read once.
class ClaimReader {
public:
    ClaimReader(JsonObject& object, int missing_status, int type_status, std::string& detail)
        : m_object(object)
        , m_missing_status(missing_status)
        , m_type_status(type_status)
        , m_detail(detail)
    {
    }

    int status() const { return m_status; }

    std::optional<std::string> string(std::string_view key, bool required)
    {
        auto* member = lookup(key, required);
        if (!member)
            return std::nullopt;
        if (member->type != JsonType::string)
            return wrong_type(*member, "a string");
        return std::move(member->string_value);
    }

    std::optional<int64_t> time(std::string_view key, bool required)
    {
        auto const* member = lookup(key, required);
        if (!member)
            return std::nullopt;
        if (member->type != JsonType::string)
            return wrong_type(*member, "an RFC 3339 time string");
        auto parsed = parse_rfc3339(member->string_value);
        if (!parsed)
            return fail(m_type_status, "claim \"" + std::string(key) + "\" is not an RFC 3339 time: \""
                    + member->string_value + "\"");
        return parsed;
    }

    std::optional<int64_t> non_negative_integer(std::string_view key)
    {
        auto const* member = lookup(key, false);
        if (!member)
            return std::nullopt;
        if (member->type != JsonType::integer || member->integer_value < 0)
            return wrong_type(*member, "a non-negative integer");
        return member->integer_value;
    }

    std::optional<int64_t> positive_integer(std::string_view key, bool required)
    {
        auto const* member = lookup(key, required);
        if (!member)
            return std::nullopt;
        if (member->type != JsonType::integer)
            return wrong_type(*member, "an integer of at least 1");
        if (member->integer_value < 1)
            return fail(m_type_status, "claim \"" + member->key + "\" must be at least 1, not " + std::to_string(member->integer_value));
        return member->integer_value;
    }

    std::optional<std::string> sha256_hex(std::string_view key, bool required)
    {
        auto value = string(key, required);
        if (!value)
            return std::nullopt;
        bool hex = value->size() == fingerprint_hash_hex_size
            && std::all_of(value->begin(), value->end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
        if (!hex)
            return fail(m_type_status, "claim \"" + std::string(key) + "\" must be a SHA-256 hash in 64 lowercase hexadecimal digits");
        return value;
    }

    std::optional<std::vector<std::string>> strings(std::string_view key, bool required)
    {
        auto* member = lookup(key, required);
        if (!member)
            return std::nullopt;
        if (member->type != JsonType::array || !member->array_of_strings)
            return wrong_type(*member, "an array of strings");
        return std::move(member->strings);
    }

    void object(std::string_view key)
    {
        auto const* member = lookup(key, false);
        if (member && member->type != JsonType::object)
            wrong_type(*member, "an object");
    }

private:
    JsonMember* lookup(std::string_view key, bool required)
    {
        if (m_status != CHARTER_OK)
            return nullptr;
        auto* member = m_object.find(key);
        if (!member && required)
            fail(m_missing_status, "required claim \"" + std::string(key) + "\" is missing");
        return member;
    }

    std::nullopt_t wrong_type(JsonMember const& member, char const* expected)
    {
        return fail(m_type_status, "claim \"" + member.key + "\" must be " + expected + ", not "
                + json_type_name(member.type));
    }

    std::nullopt_t fail(int status, std::string message)
    {
        if (m_status == CHARTER_OK) {
            m_status = status;
            m_detail = std::move(message);
        }
        return std::nullopt;
    }

    JsonObject& m_object;
    int m_missing_status;
    int m_type_status;
    std::string& m_detail;
    int m_status { CHARTER_OK };
};

}

int parse_claims(std::string_view json, Claims& out, std::string& detail)
{
    std::string error;
    auto object = read_json_object(json, error);
    if (!object) {
        detail = "license claims: " + error;
        return CHARTER_E_BAD_CLAIMS;
    }
    ClaimReader reader(*object, CHARTER_E_MISSING_CLAIM, CHARTER_E_WRONG_CLAIM_TYPE, detail);
    auto issuer = reader.string("iss", true);
    auto customer = reader.string("sub", true);
    auto license_id = reader.string("jti", true);
    auto product = reader.string("product", true);
    auto issued_at = reader.time("iat", true);
    out.name = reader.string("name", false);
    out.not_before = reader.time("nbf", false);
    out.expires_at = reader.time("exp", false);
    out.updates_until = reader.time("updates_until", false);
    out.seats = reader.non_negative_integer("seats");
    auto entitlements = reader.strings("entitlements", false);
    reader.object("meta");
    if (reader.status() != CHARTER_OK)
        return reader.status();
    out.issuer = std::move(*issuer);
    out.customer = std::move(*customer);
    out.license_id = std::move(*license_id);
    out.product = std::move(*product);
    out.issued_at = *issued_at;
    out.entitlements = entitlements ? std::move(*entitlements) : std::vector<std::string> {};
    return CHARTER_OK;
}

int parse_activation_claims(std::string_view json, ActivationClaims& out, std::string& detail)
{
    std::string error;
    auto object = read_json_object(json, error);
    if (!object) {
        detail = "activation claims: " + error;
        return CHARTER_E_BAD_CLAIMS;
    }
    ClaimReader reader(*object, CHARTER_E_MISSING_CLAIM, CHARTER_E_WRONG_CLAIM_TYPE, detail);
    auto issuer = reader.string("iss", true);
    auto activation_id = reader.string("jti", true);
    auto license_id = reader.string("license", true);
    auto product = reader.string("product", true);
    auto fingerprint = reader.sha256_hex("fingerprint", true);
    auto seat = reader.positive_integer("seat", true);
    auto issued_at = reader.time("iat", true);
    out.lease_ends_at = reader.time("exp", false);
    if (reader.status() != CHARTER_OK) {
        detail = "activation token: " + detail;
        return reader.status();
    }
    out.issuer = std::move(*issuer);
    out.activation_id = std::move(*activation_id);
    out.license_id = std::move(*license_id);
    out.product = std::move(*product);
    out.fingerprint = std::move(*fingerprint);
    out.seat = *seat;
    out.issued_at = *issued_at;
    return CHARTER_OK;
}

namespace {

// The footer exactly as make_footer() writes it: {"kid":"k4.pid.<base64url>"}. Such a footer
// needs no JSON reader (it has no escapes, no whitespace, one member), and it is the one every
// Charter license carries; any other footer goes through the strict reader.
std::optional<std::string_view> canonical_footer_kid(std::string_view json)
{
    constexpr std::string_view prefix = "{\"kid\":\"";
    constexpr std::string_view suffix = "\"}";
    if (!json.starts_with(prefix) || !json.ends_with(suffix) || json.size() < prefix.size() + suffix.size())
        return std::nullopt;
    std::string_view kid = json.substr(prefix.size(), json.size() - prefix.size() - suffix.size());
    if (!kid.starts_with(paserk_pid_header))
        return std::nullopt;
    for (char c : kid.substr(paserk_pid_header.size())) {
        bool base64url = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!base64url)
            return std::nullopt;
    }
    return kid;
}

}

int parse_footer_kid(std::string_view json, std::string& kid, std::string& detail)
{
    if (auto canonical = canonical_footer_kid(json)) {
        kid = *canonical;
        return CHARTER_OK;
    }
    std::string error;
    auto object = read_json_object(json, error);
    if (!object) {
        detail = "license key footer: " + error;
        return CHARTER_E_BAD_FOOTER;
    }
    auto const* member = object->find("kid");
    if (!member || member->type != JsonType::string) {
        detail = "license key footer has no \"kid\" string";
        return CHARTER_E_BAD_FOOTER;
    }
    if (!member->string_value.starts_with(paserk_pid_header)) {
        detail = "license key footer kid is not a k4.pid key id";
        return CHARTER_E_BAD_FOOTER;
    }
    kid = member->string_value;
    return CHARTER_OK;
}

std::string make_footer(std::string_view kid)
{
    // Key ids are base64url, so they never need JSON escaping.
    return "{\"kid\":\"" + std::string(kid) + "\"}";
}

int parse_revocation_list(std::string_view json, RevocationList& out, std::string& detail)
{
    std::string error;
    auto object = read_json_object(json, error);
    if (!object) {
        detail = "revocation list: " + error;
        return CHARTER_E_BAD_REVOCATION_LIST;
    }
    ClaimReader reader(*object, CHARTER_E_BAD_REVOCATION_LIST, CHARTER_E_BAD_REVOCATION_LIST, detail);
    auto issuer = reader.string("iss", true);
    auto product = reader.string("product", true);
    auto issued_at = reader.time("iat", true);
    auto revoked = reader.strings("revoked", true);
    if (reader.status() != CHARTER_OK) {
        detail = "revocation list: " + detail;
        return reader.status();
    }
    out.issuer = std::move(*issuer);
    out.product = std::move(*product);
    out.issued_at = *issued_at;
    out.revoked = std::move(*revoked);
    std::sort(out.revoked.begin(), out.revoked.end());
    return CHARTER_OK;
}

int check_validity_period(std::optional<int64_t> not_before, std::optional<int64_t> expires_at, int64_t now,
    int64_t leeway)
{
    if (not_before && now < *not_before - leeway)
        return CHARTER_E_NOT_YET_VALID;
    if (expires_at && now > *expires_at + leeway)
        return CHARTER_E_EXPIRED;
    return CHARTER_OK;
}

std::optional<std::string> claimed_product_of_message(std::string_view claims_json, ClaimedProductRule rule)
{
    std::string ignored;
    if (rule == ClaimedProductRule::complete_claims) {
        Claims claims;
        if (parse_claims(claims_json, claims, ignored) != CHARTER_OK)
            return std::nullopt;
        return std::move(claims.product);
    }
    auto object = read_json_object(claims_json, ignored);
    auto* product = object ? object->find("product") : nullptr;
    if (!product || product->type != JsonType::string || product->string_value.empty())
        return std::nullopt;
    return std::move(product->string_value);
}

std::optional<std::string> claimed_product(std::string_view token, std::string& detail, size_t max_token_size,
    ClaimedProductRule rule)
{
    DecodedToken decoded;
    if (decode_v4_public(token, decoded, detail, max_token_size) != CHARTER_OK)
        return std::nullopt;
    auto product = claimed_product_of_message(decoded.message, rule);
    if (!product)
        detail = "it names no product";
    return product;
}

}
