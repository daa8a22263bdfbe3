#include "charter/server/auth/license_keys.hpp"

#include "charter/format/rfc3339.hpp"

#include <nlohmann/json.hpp>

namespace charter::server {

namespace {

constexpr auto key_cache_lifetime = std::chrono::seconds(5);

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

LicenseKeys::LicenseKeys(StorePool& pool, CurrentSigningKey const& signing_key)
    : m_pool(pool)
    , m_signing_key(signing_key)
{
}

Result<LicenseKeys::TrustedVerifier> LicenseKeys::verifier_for(std::string const& product, bool unknown_key)
{
    auto steady_now = std::chrono::steady_clock::now();
    // A new signing key is newer than the cached trusted keys: the licenses it has just signed
    // must validate at once, not after the cache's lifetime.
    auto signing_key_generation = m_signing_key.generation();
    uint64_t read;
    {
        std::lock_guard lock(m_mutex);
        bool due = unknown_key || steady_now - m_keys_loaded_at > key_cache_lifetime
            || signing_key_generation != m_signing_key_generation;
        if (!due)
            return cached_verifier(product);
        read = ++m_reads_started;
    }
    // Read without the lock, so that requests naming unknown kids (which anyone can send, each
    // costing one small read, as any request does) never hold up the others. A key another
    // server or the CLI has just made current is trusted at the first license it signed.
    auto store = m_pool.lease();
    if (!store)
        return store.error();
    auto keys = (*store)->list_signing_keys();
    if (!keys)
        return keys.error();
    std::vector<std::string> trusted;
    for (auto const& key : *keys) {
        if (key.status != "retired")
            trusted.push_back(key.public_paserk);
    }
    std::lock_guard lock(m_mutex);
    // Reads that overlap apply in the order they started: an older read never puts back a key
    // a newer one saw retired.
    if (read > m_reads_applied) {
        m_reads_applied = read;
        if (trusted != m_trusted_keys) {
            m_trusted_keys = std::move(trusted);
            m_verifiers.clear();
            m_checker.clear();
            ++m_generation;
        }
        m_keys_loaded_at = steady_now;
        m_signing_key_generation = signing_key_generation;
    }
    return cached_verifier(product);
}

LicenseKeys::TrustedVerifier LicenseKeys::cached_verifier(std::string const& product)
{
    if (auto it = m_verifiers.find(product); it != m_verifiers.end())
        return TrustedVerifier { it->second, m_generation };
    auto verifier = std::make_shared<Verifier>(product.c_str());
    for (auto const& key : m_trusted_keys)
        (void)verifier->add_key(key.c_str());
    if (m_verifiers.size() > 1000)
        m_verifiers.clear();
    m_verifiers.emplace(product, verifier);
    return TrustedVerifier { verifier, m_generation };
}

KeyCheck LicenseKeys::verify(TrustedVerifier const& trusted, std::string const& product, std::string const& key, int64_t now)
{
    auto result = trusted.verifier->verify(key, now);
    KeyCheck check;
    check.status = result.status;
    check.message = result.detail;
    if (!result.license)
        return check;
    check.license_id = std::string(result.license->id());
    check.claims_json = claims_json(*result.license);
    check.customer = std::string(result.license->customer());
    check.not_before = result.license->not_before();
    check.expires_at = result.license->expires_at();
    check.updates_until = result.license->updates_until();
    if (result.status != CHARTER_OK)
        return check;
    // Under the lock that clears the verdicts: a verdict of keys replaced meanwhile is never kept.
    std::lock_guard lock(m_mutex);
    if (trusted.generation == m_generation)
        m_checker.remember(product, key, check);
    return check;
}

Result<KeyCheck> LicenseKeys::check(std::string const& product, std::string const& key, int64_t now)
{
    // Reloads the trusted keys when due, which forgets every remembered verdict if they changed.
    auto trusted = verifier_for(product);
    if (!trusted)
        return trusted.error();
    if (auto known = m_checker.find(product, key, now))
        return *known;
    auto checked = verify(*trusted, product, key, now);
    // A key another process has just made current (`charter key rotate`, then `charter issue`
    // or another server's issuance) signs licenses before this server's cache knows it: an
    // unknown kid re-reads the trusted keys before it is believed.
    if (checked.status == CHARTER_E_UNKNOWN_KEY) {
        auto refreshed = verifier_for(product, true);
        if (!refreshed)
            return refreshed.error();
        if (refreshed->verifier != trusted->verifier)
            return verify(*refreshed, product, key, now);
    }
    return checked;
}

}
