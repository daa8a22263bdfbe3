#include "charter/server/auth/key_checker.hpp"

#include "claims.hpp"
#include "rfc3339.hpp"

#include <nlohmann/json.hpp>

#include <mutex>

namespace charter::server {

namespace {

// Bounded memory: about 1.5 KiB per key; when full, start again.
constexpr size_t max_entries = 10000;

using Json = nlohmann::ordered_json;

Json time_or_null(std::optional<int64_t> const& time)
{
    return time ? Json(format::format_rfc3339(*time)) : Json(nullptr);
}

// What validation may show of a license: the key's own claims, nothing from the database.
std::string claims_json(License const& license)
{
    Json json;
    json["id"] = std::string(license.id());
    json["product"] = std::string(license.product());
    json["customer"] = std::string(license.customer());
    auto name = license.name();
    json["name"] = name ? Json(std::string(*name)) : Json(nullptr);
    json["issued_at"] = format::format_rfc3339(license.issued_at());
    json["expires_at"] = time_or_null(license.expires_at());
    json["updates_until"] = time_or_null(license.updates_until());
    Json entitlements = Json::array();
    for (auto const& entitlement : license.entitlements())
        entitlements.push_back(std::string(entitlement));
    json["entitlements"] = entitlements;
    auto seats = license.seats();
    json["seats"] = seats ? Json(*seats) : Json(nullptr);
    return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}

std::optional<KeyCheck> KeyChecker::find(std::string const& product, std::string const& key, int64_t now) const
{
    std::shared_lock lock(m_mutex);
    auto it = m_entries.find(key);
    if (it == m_entries.end() || it->second.product != product)
        return std::nullopt;
    auto const& entry = it->second;
    // verify-lib's time checks (leeway 0); outside them, verify again for the exact status and
    // message.
    if (format::check_validity_period(entry.not_before, entry.expires_at, now, 0) != CHARTER_OK)
        return std::nullopt;
    return KeyCheck { CHARTER_OK, {}, entry.license_id, entry.claims_json, entry.customer, entry.expires_at, entry.updates_until };
}

KeyCheck KeyChecker::check(Verifier const& verifier, std::string const& product, std::string const& key, int64_t now,
    uint64_t generation)
{
    auto result = verifier.verify(key, now);
    KeyCheck check;
    check.status = result.status;
    check.message = result.detail;
    if (!result.license)
        return check;
    check.license_id = std::string(result.license->id());
    check.claims_json = claims_json(*result.license);
    check.customer = std::string(result.license->customer());
    check.expires_at = result.license->expires_at();
    check.updates_until = result.license->updates_until();
    if (result.status != CHARTER_OK)
        return check;
    std::unique_lock lock(m_mutex);
    if (generation != m_generation.load())
        return check;
    if (m_entries.size() >= max_entries)
        m_entries.clear();
    m_entries.insert_or_assign(key,
        Entry { product, check.license_id, check.claims_json, check.customer, result.license->not_before(), check.expires_at,
            check.updates_until });
    return check;
}

std::optional<std::string> KeyChecker::product_of(std::string const& key) const
{
    std::shared_lock lock(m_mutex);
    auto it = m_entries.find(key);
    if (it == m_entries.end())
        return std::nullopt;
    return it->second.product;
}

void KeyChecker::clear()
{
    std::unique_lock lock(m_mutex);
    m_entries.clear();
    ++m_generation;
}

}
