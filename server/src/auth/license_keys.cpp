#include "charter/server/auth/license_keys.hpp"

namespace charter::server {

namespace {

constexpr auto key_cache_lifetime = std::chrono::seconds(5);
// The shortest interval between two re-reads of the trusted keys forced by an unknown kid (which
// anyone can put in a key: at most one database read a second for all of them).
constexpr auto unknown_key_refresh = std::chrono::seconds(1);

}

LicenseKeys::LicenseKeys(StorePool& pool, CurrentSigningKey const& signing_key)
    : m_pool(pool)
    , m_signing_key(signing_key)
{
}

Result<std::shared_ptr<Verifier const>> LicenseKeys::verifier_for(std::string const& product, bool unknown_key)
{
    std::lock_guard lock(m_mutex);
    auto steady_now = std::chrono::steady_clock::now();
    // A new signing key is newer than the cached trusted keys: the licenses it has just signed
    // must validate at once, not after the cache's lifetime.
    auto generation = m_signing_key.generation();
    bool forced = unknown_key && steady_now - m_keys_forced_at > unknown_key_refresh;
    if (forced)
        m_keys_forced_at = steady_now;
    if (steady_now - m_keys_loaded_at > key_cache_lifetime || generation != m_keys_generation || forced) {
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
        if (trusted != m_trusted_keys) {
            m_trusted_keys = std::move(trusted);
            m_verifiers.clear();
            m_checker.clear();
        }
        m_keys_loaded_at = steady_now;
        m_keys_generation = generation;
    }
    if (auto it = m_verifiers.find(product); it != m_verifiers.end())
        return it->second;
    auto verifier = std::make_shared<Verifier>(product.c_str());
    for (auto const& key : m_trusted_keys)
        (void)verifier->add_key(key.c_str());
    if (m_verifiers.size() > 1000)
        m_verifiers.clear();
    m_verifiers.emplace(product, verifier);
    return std::shared_ptr<Verifier const>(verifier);
}

Result<KeyCheck> LicenseKeys::check(std::string const& product, std::string const& key, int64_t now)
{
    auto generation = m_checker.generation();
    // Reloads the trusted keys when due, which forgets every remembered verdict if they changed.
    auto verifier = verifier_for(product);
    if (!verifier)
        return verifier.error();
    if (auto known = m_checker.find(product, key, now))
        return *known;
    auto checked = m_checker.check(**verifier, product, key, now, generation);
    // A key another process has just made current (`charter key rotate`, then `charter issue`)
    // signs licenses before this server's cache knows it: an unknown kid re-reads the trusted
    // keys before it is believed.
    if (checked.status == CHARTER_E_UNKNOWN_KEY) {
        generation = m_checker.generation();
        auto refreshed = verifier_for(product, true);
        if (!refreshed)
            return refreshed.error();
        if (*refreshed != *verifier)
            return m_checker.check(**refreshed, product, key, now, generation);
    }
    return checked;
}

}
