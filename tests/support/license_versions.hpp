#pragma once
// Changes of a license made straight in a data directory, as a renewal and a suspension leave it:
// a new version of its key (same jti, a new iat, new terms) signed with the current signing key
// and stored with Store::add_license_version, and a suspension or reinstatement through the
// store. For tests of the server's online decisions, which read the license's record.

#include "server_harness.hpp"

#include "charter/db/store.hpp"
#include "charter/keygen/ops/workspace.hpp"
#include "charter/keygen/token_signer.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace charter::testing {

/// The terms a new version of a license's key carries; the others stay as they are.
struct NewTerms {
    int64_t at { 0 }; // the new key's iat, and the change's time
    std::optional<int64_t> expires_at;
    std::optional<int64_t> updates_until;
};

inline ops::Workspace open_workspace(std::string const& data_dir)
{
    // As the charter CLI: a change is reported once the server's change feed was told of it.
    auto workspace = ops::Workspace::open_for_changes(test_data_dir(data_dir));
    INFO((workspace ? std::string() : workspace.error().message));
    REQUIRE(workspace);
    return std::move(*workspace);
}

/// Signs and stores the next version of `license_id` with `terms`; returns its key.
inline std::string sign_new_version(std::string const& data_dir, std::string const& license_id, NewTerms const& terms)
{
    auto workspace = open_workspace(data_dir);
    auto key = workspace.current_signing_key(std::nullopt);
    REQUIRE(key);
    auto& store = workspace.store();
    auto current = store.get_license(license_id);
    REQUIRE(current);
    auto signed_claims = nlohmann::ordered_json::parse(current->claims_json);
    keygen::LicenseClaims claims;
    claims.issuer = signed_claims.at("iss");
    claims.customer = signed_claims.at("sub");
    claims.license_id = signed_claims.at("jti");
    claims.product = signed_claims.at("product");
    if (signed_claims.contains("name"))
        claims.name = signed_claims["name"].get<std::string>();
    if (signed_claims.contains("entitlements"))
        claims.entitlements = signed_claims["entitlements"].get<std::vector<std::string>>();
    if (signed_claims.contains("seats"))
        claims.seats = signed_claims["seats"].get<int64_t>();
    if (signed_claims.contains("meta"))
        claims.meta = signed_claims["meta"];
    claims.issued_at = terms.at;
    claims.expires_at = terms.expires_at;
    claims.updates_until = terms.updates_until;
    auto signed_license = keygen::sign_license(*key, claims);
    auto next = *current;
    next.token = signed_license.token;
    next.claims_json = signed_license.claims_json;
    next.kid = key->kid();
    next.issued_at = terms.at;
    next.expires_at = terms.expires_at;
    next.updates_until = terms.updates_until;
    next.version = current->version + 1;
    auto added = store.add_license_version(next, { .action = "license.renew", .reason = "renew", .details_json = "{}", .at = terms.at },
        db::Actor { "cli" });
    INFO((added ? std::string() : added.error().message));
    REQUIRE(added);
    return next.token;
}

inline void suspend_license(std::string const& data_dir, std::string const& license_id, std::string const& reason, int64_t at)
{
    auto workspace = open_workspace(data_dir);
    REQUIRE(workspace.store().suspend_license(license_id, reason, at, db::Actor { "cli" }));
}

inline void reinstate_license(std::string const& data_dir, std::string const& license_id, int64_t at)
{
    auto workspace = open_workspace(data_dir);
    REQUIRE(workspace.store().reinstate_license(license_id, at, db::Actor { "cli" }));
}

}
