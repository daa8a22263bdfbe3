#include "charter/server/customer/revocation_lists.hpp"

#include "charter/keygen/ops/licensing.hpp"

namespace charter::server {

RevocationLists::RevocationLists(StorePool& pool, CurrentSigningKey& signing_key, std::string const& issuer)
    : m_pool(pool)
    , m_signing_key(signing_key)
    , m_issuer(issuer)
{
}

Result<std::string> RevocationLists::signed_list(std::string const& product, int64_t now)
{
    auto store = m_pool.lease();
    if (!store)
        return store.error();
    if (auto found = (*store)->get_product(product); !found)
        return found.error();
    auto revoked = (*store)->revoked_license_ids(product);
    if (!revoked)
        return revoked.error();
    // One list per key trusted now, the current one first: a build made before a key rotation
    // trusts only the older key, and a list signed by a key retired since would be refused by
    // every verifier.
    auto keys = m_signing_key.trusted(**store);
    if (!keys)
        return keys.error();
    std::vector<std::string> kids;
    std::vector<keygen::SigningKey const*> signers;
    for (auto const& key : *keys) {
        kids.push_back(key->kid());
        signers.push_back(key.get());
    }
    std::lock_guard lock(m_mutex);
    auto& cached = m_lists[product];
    if (cached.token.empty() || cached.revoked != *revoked || cached.kids != kids) {
        auto token = ops::revocation_file(signers, m_issuer, product, now, *revoked);
        if (!token)
            return token.error();
        cached.revoked = *revoked;
        cached.kids = std::move(kids);
        cached.token = std::move(*token);
    }
    return cached.token;
}

}
