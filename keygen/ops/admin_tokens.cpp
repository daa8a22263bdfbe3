#include "charter/keygen/ops/admin_tokens.hpp"

#include "charter/format/base64url.hpp"
#include "charter/keygen/ids.hpp"
#include "charter/keygen/token_signer.hpp"

#include <sodium.h>

#include <algorithm>

namespace charter::ops {

Result<std::vector<std::string>> parse_scopes(std::string_view text)
{
    std::vector<std::string> scopes;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(',', start);
        if (end == std::string_view::npos)
            end = text.size();
        std::string scope(text.substr(start, end - start));
        start = end + 1;
        if (scope.empty())
            continue;
        if (std::find_if(std::begin(admin_scopes), std::end(admin_scopes), [&](char const* known) { return scope == known; })
            == std::end(admin_scopes))
            return make_error(ErrorKind::invalid_input, "unknown scope \"" + scope + "\" (use issue, read, revoke, upload, admin)");
        if (std::find(scopes.begin(), scopes.end(), scope) == scopes.end())
            scopes.push_back(std::move(scope));
    }
    if (scopes.empty())
        return make_error(ErrorKind::invalid_input, "at least one scope is required (issue, read, revoke, upload, admin)");
    return scopes;
}

std::string blake2b_hex(std::string_view bytes)
{
    unsigned char digest[32];
    crypto_generichash(digest, sizeof digest, reinterpret_cast<unsigned char const*>(bytes.data()), bytes.size(), nullptr, 0);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return hex;
}

Result<CreatedToken> create_admin_token(db::Store& store, std::string const& name, std::vector<std::string> const& scopes,
    int64_t now, db::Actor const& actor)
{
    if (sodium_init() < 0)
        return make_error(ErrorKind::internal, "libsodium could not be initialised");
    unsigned char random[32];
    randombytes_buf(random, sizeof random);
    CreatedToken created;
    created.secret = "chrt_" + format::base64url_encode_secret(random, sizeof random);
    sodium_memzero(random, sizeof random);
    created.record.id = keygen::new_id("tok_");
    created.record.name = name;
    created.record.hash = blake2b_hex(created.secret);
    created.record.scopes = scopes;
    created.record.created_at = now;
    if (auto inserted = store.insert_admin_token(created.record, actor); !inserted)
        return inserted.error();
    return created;
}

}
