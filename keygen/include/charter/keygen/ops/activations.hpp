#pragma once
// Seats of licenses (docs/activations.md): what a license's seats are (its seats term, and its
// plan's counting and lease), the activation tokens the server hands a machine holding one,
// releasing a seat (`charter activation release`, DELETE /v1/activations/{id}), and the JSON
// of an activation. The counting itself is the store's (db::Store::activate), in one
// transaction.

#include "charter/db/store.hpp"
#include "charter/keygen/signing_key.hpp"
#include "charter/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace charter::ops {

/// The implicit assertion of an activation token is this prefix and the product id.
inline constexpr std::string_view activation_assertion_prefix = "charter-activation:";
/// The longest fingerprint a product may send, in bytes.
inline constexpr size_t max_fingerprint_bytes = 256;
/// The longest lease a plan may set (a longer one is what node-locked, lease 0, is for).
inline constexpr int64_t max_lease_seconds = 366 * 86400;

/// How a license's seats are counted, at the time of an activation.
struct SeatPolicy {
    std::optional<int64_t> limit;      // the license's current seats term; absent: no limit
    std::string counting { "machines" }; // "machines", "processes" or "cores"
    int64_t lease_seconds { db::Plan::default_lease_seconds }; // 0: node-locked
};

/// The policy of `license`: its current terms' seats, and its plan's counting and lease (the
/// plan as it is now), or machines with the default lease (15 minutes) when it has no plan.
Result<SeatPolicy> seat_policy(db::Store& store, db::License const& license);

/// The units an activation occupies under `policy`: 1 machine, or the processes or cores it
/// gives (required then; invalid_input with a sentence when missing or not 1 or more).
Result<int64_t> activation_units(SeatPolicy const& policy, std::optional<int64_t> processes, std::optional<int64_t> cores);

/// A lease as typed: "0" (node-locked), or a whole number of s, m, h or d ("15m", "1h").
Result<int64_t> parse_lease(std::string_view text, std::string_view what);
/// A lease in seconds as people read it: "15m", "1h", "90s", "0 (node-locked)".
std::string lease_text(int64_t seconds);

/// SHA-256 of a fingerprint's bytes, 64 lowercase hex: all Charter stores or signs of it.
std::string fingerprint_sha256(std::string_view fingerprint);

/// What an activation token says (docs/activations.md).
struct ActivationClaims {
    std::string issuer;
    std::string activation_id; // jti
    std::string license_id;
    std::string product;
    std::string fingerprint_sha256;
    int64_t seat { 0 };
    int64_t issued_at { 0 };
    std::optional<int64_t> lease_ends_at; // exp; absent when node-locked
};

/// The claims as signed: compact JSON, members in the order above.
std::string activation_claims_json(ActivationClaims const& claims);
/// PASETO v4.public, footer {"kid":…}, implicit assertion "charter-activation:<product>".
std::string sign_activation_token(keygen::SigningKey const& key, ActivationClaims const& claims);

/// An activation as the CLI and the admin API show it, with its state at `now` ("active",
/// "released", "expired").
nlohmann::ordered_json activation_json(db::Activation const& activation, int64_t now);
std::string activation_state(db::Activation const& activation, int64_t now);

/// Releases an activation for an operator ("activation.release"); an unknown id is not_found.
Result<db::Activation> release_activation(db::Store& store, std::string const& id, db::Actor const& actor, int64_t now);

}
