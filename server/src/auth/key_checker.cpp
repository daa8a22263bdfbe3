#include "charter/server/auth/key_checker.hpp"

#include "charter/format/claims.hpp"

#include <mutex>

namespace charter::server {

namespace {

// Bounded memory: about 1.5 KiB per key; when full, start again.
constexpr size_t max_entries = 10000;

}

std::optional<KeyCheck> KeyChecker::find(std::string const& product, std::string const& key, int64_t now) const
{
    std::shared_lock lock(m_mutex);
    auto it = m_entries.find(key);
    if (it == m_entries.end() || it->second.product != product)
        return std::nullopt;
    auto const& check = it->second.check;
    // verify-lib's time checks (leeway 0); outside them, verify again for the exact status and
    // message.
    if (format::check_validity_period(check.not_before, check.expires_at, now, 0) != CHARTER_OK)
        return std::nullopt;
    return check;
}

void KeyChecker::remember(std::string const& product, std::string const& key, KeyCheck const& check)
{
    std::unique_lock lock(m_mutex);
    if (m_entries.size() >= max_entries)
        m_entries.clear();
    auto& entry = m_entries[key];
    entry.product = product;
    entry.check = check;
    entry.check.status = CHARTER_OK;
    entry.check.message.clear();
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
}

}
