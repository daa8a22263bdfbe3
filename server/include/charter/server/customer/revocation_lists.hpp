#pragma once
// The signed revocation lists GET /v1/products/{id}/revocations serves: one list per trusted
// key, the current one first (a build made before a key rotation trusts only the older key),
// re-signed only when the revoked licenses or the trusted keys changed, so that polling
// applications cost a read, not a signature.

#include "charter/result.hpp"
#include "charter/server/current_signing_key.hpp"
#include "charter/server/store_pool.hpp"

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace charter::server {

class RevocationLists {
public:
    RevocationLists(StorePool& pool, CurrentSigningKey& signing_key, std::string const& issuer);

    /// The signed revocation list of `product`, signed at `now` when it has to be signed again.
    Result<std::string> signed_list(std::string const& product, int64_t now);

private:
    struct SignedList {
        std::vector<std::string> revoked; // the license ids it lists
        std::vector<std::string> kids;    // the keys that signed it, one list each
        std::string token;
    };

    StorePool& m_pool;
    CurrentSigningKey& m_signing_key;
    std::string const& m_issuer;
    std::mutex m_mutex;
    std::map<std::string, SignedList> m_lists; // by product
};

}
