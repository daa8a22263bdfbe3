#pragma once
// The JSON shape of each record, shared by `charter … --json` and the HTTP API so both
// describe a license (or customer, product, key, audit entry) identically.

#include "charter/db/records.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace charter::ops {

using Json = nlohmann::ordered_json;

/// "active", "suspended", "revoked" or "expired": db::state_at's word for the license at `now`.
std::string license_state(db::License const& license, int64_t now);

/// The license with its key and claims. `include_key` false leaves the key out (listings).
Json license_json(db::License const& license, int64_t now, bool include_key = true);
/// One version of a license's key (`charter show`, GET /v1/licenses/{id}/versions).
Json license_version_json(db::LicenseVersion const& version, bool include_key = true);
Json plan_json(db::Plan const& plan);
Json customer_json(db::Customer const& customer);
Json product_json(db::Product const& product);
Json signing_key_json(db::SigningKeyRecord const& key);
Json audit_json(db::AuditEntry const& entry);
Json admin_token_json(db::AdminToken const& token);
/// A download credential, never its secret (only its hash is stored, and that is left out too).
Json credential_json(db::Credential const& credential);
Json release_json(db::Release const& release);
/// A downloads log line, its release flattened into product, version and filename (null when
/// the line names no release).
Json download_json(db::DownloadLogEntry const& entry);

}
