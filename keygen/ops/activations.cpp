#include "charter/keygen/ops/activations.hpp"

#include "charter/format/claims.hpp"
#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/json_views.hpp"
#include "charter/keygen/token_signer.hpp"

#include <sodium.h>

#include <charconv>

namespace charter::ops {

namespace {

constexpr int64_t max_count = 1000000000;

Json time_or_null(std::optional<int64_t> const& time)
{
    return time ? Json(format::format_rfc3339(*time)) : Json(nullptr);
}

}

Result<SeatPolicy> seat_policy(db::Store& store, db::License const& license)
{
    SeatPolicy policy;
    auto claims = nlohmann::json::parse(license.claims_json, nullptr, false);
    if (claims.is_object() && claims.contains("seats") && claims["seats"].is_number_integer())
        policy.limit = claims["seats"].get<int64_t>();
    if (license.plan_id) {
        auto plan = store.get_plan(*license.plan_id);
        if (!plan)
            return plan.error();
        policy.counting = plan->seat_counting;
        policy.lease_seconds = plan->lease_seconds;
    }
    return policy;
}

Result<int64_t> activation_units(SeatPolicy const& policy, std::optional<int64_t> processes, std::optional<int64_t> cores)
{
    for (auto const& [count, name] : { std::pair { processes, "processes" }, std::pair { cores, "cores" } }) {
        if (count && (*count < 1 || *count > max_count))
            return make_error(ErrorKind::invalid_input,
                std::string("\"") + name + "\" must be a whole number from 1 to " + std::to_string(max_count));
    }
    if (policy.counting == "machines")
        return int64_t { 1 };
    auto const& count = policy.counting == "processes" ? processes : cores;
    if (!count)
        return make_error(ErrorKind::invalid_input, "this license's seats are counted in " + policy.counting + "; send \""
                + policy.counting + "\": how many this activation runs (1 or more)");
    return *count;
}

Result<int64_t> parse_lease(std::string_view text, std::string_view what)
{
    auto refuse = [&]() -> Error {
        return make_error(ErrorKind::invalid_input, std::string(what) + " \"" + std::string(text)
                + "\" is not a lease; give 0 (node-locked) or a whole number of s, m, h or d, e.g. 15m, up to 366d");
    };
    if (text == "0")
        return int64_t { 0 };
    if (text.size() < 2)
        return refuse();
    int64_t count = 0;
    auto digits = text.substr(0, text.size() - 1);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
    if (error != std::errc() || end != digits.data() + digits.size() || count < 1)
        return refuse();
    int64_t unit = 0;
    switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return refuse();
    }
    if (count > max_lease_seconds / unit)
        return refuse();
    return count * unit;
}

std::string lease_text(int64_t seconds)
{
    if (seconds <= 0)
        return "0 (node-locked)";
    for (auto const& [unit, suffix] : { std::pair { int64_t { 86400 }, "d" }, std::pair { int64_t { 3600 }, "h" },
             std::pair { int64_t { 60 }, "m" } }) {
        if (seconds % unit == 0)
            return std::to_string(seconds / unit) + suffix;
    }
    return std::to_string(seconds) + "s";
}

std::string fingerprint_sha256(std::string_view fingerprint)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<unsigned char const*>(fingerprint.data()), fingerprint.size());
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return hex;
}

std::string activation_claims_json(ActivationClaims const& claims)
{
    nlohmann::ordered_json json;
    json["iss"] = claims.issuer;
    json["jti"] = claims.activation_id;
    json["license"] = claims.license_id;
    json["product"] = claims.product;
    json["fingerprint"] = claims.fingerprint_sha256;
    json["seat"] = claims.seat;
    json["iat"] = format::format_rfc3339(claims.issued_at);
    if (claims.lease_ends_at)
        json["exp"] = format::format_rfc3339(*claims.lease_ends_at);
    return json.dump();
}

std::string sign_activation_token(keygen::SigningKey const& key, ActivationClaims const& claims)
{
    std::string assertion = std::string(activation_assertion_prefix) + claims.product;
    return keygen::sign_v4_public(key, activation_claims_json(claims), format::make_footer(key.kid()), assertion);
}

std::string activation_state(db::Activation const& activation, int64_t now)
{
    if (activation.released_at)
        return "released";
    if (!activation.live_at(now))
        return "expired";
    return "active";
}

nlohmann::ordered_json activation_json(db::Activation const& activation, int64_t now)
{
    return nlohmann::ordered_json {
        { "id", activation.id },
        { "license", activation.license_id },
        { "state", activation_state(activation, now) },
        { "seat", activation.seat },
        { "label", activation.label ? Json(*activation.label) : Json(nullptr) },
        { "fingerprint_sha256", activation.fingerprint_sha256 },
        { "processes", activation.processes ? Json(*activation.processes) : Json(nullptr) },
        { "cores", activation.cores ? Json(*activation.cores) : Json(nullptr) },
        { "units", activation.units },
        { "created_at", format::format_rfc3339(activation.created_at) },
        { "last_heartbeat_at", format::format_rfc3339(activation.heartbeat_at) },
        { "lease_ends_at", time_or_null(activation.lease_ends_at) },
        { "released_at", time_or_null(activation.released_at) },
        { "expired_at", time_or_null(activation.expired_at) },
    };
}

Result<db::Activation> release_activation(db::Store& store, std::string const& id, db::Actor const& actor, int64_t now)
{
    return store.release_activation(id, std::nullopt, now, actor);
}

}
