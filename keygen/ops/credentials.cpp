#include "charter/keygen/ops/credentials.hpp"

#include "charter/format/base64url.hpp"
#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ids.hpp"
#include "charter/keygen/ops/admin_tokens.hpp"
#include "charter/keygen/ops/plain_text.hpp"

#include <sodium.h>

namespace charter::ops {

namespace {

// A name is a label the vendor reads in listings ("ci", "deploy@eu-west"): one line, short.
constexpr size_t max_name_length = 100;

}

bool is_credential_secret(std::string_view text)
{
    return text.starts_with(credential_prefix);
}

std::string credential_hash(std::string_view secret)
{
    return blake2b_hex(secret);
}

Result<CreatedCredential> new_credential(std::string const& license_id, std::string const& name, int64_t now)
{
    if (name.empty())
        return make_error(ErrorKind::invalid_input, "a credential needs a name that says where it is used (--name ci)");
    if (name.size() > max_name_length)
        return make_error(ErrorKind::invalid_input,
            "the credential name is " + std::to_string(name.size()) + " bytes; use at most " + std::to_string(max_name_length));
    if (auto checked = check_one_line(name, "the credential name"); !checked)
        return checked.error();
    if (sodium_init() < 0)
        return make_error(ErrorKind::internal, "libsodium could not be initialised");
    // 256 random bits, base64url: 43 characters after the prefix.
    unsigned char random[32];
    randombytes_buf(random, sizeof random);
    CreatedCredential created;
    created.secret = std::string(credential_prefix) + format::base64url_encode_secret(random, sizeof random);
    sodium_memzero(random, sizeof random);
    created.record.id = keygen::new_id("cred_");
    created.record.license_id = license_id;
    created.record.name = name;
    created.record.hash = credential_hash(created.secret);
    created.record.created_at = now;
    return created;
}

Result<void> add_credential(db::Store& store, db::Credential const& credential, db::Actor const& actor)
{
    auto license = store.get_license(credential.license_id);
    if (!license)
        return license.error();
    if (license->status == "revoked")
        return make_error(ErrorKind::conflict, "license " + license->id + " was revoked on "
                + format::format_date(license->revoked_at.value_or(0)) + "; a credential for it would never be accepted");
    return store.insert_credential(credential, actor);
}

Result<CreatedCredential> create_credential(db::Store& store, std::string const& license_id, std::string const& name, int64_t now,
    db::Actor const& actor)
{
    auto created = new_credential(license_id, name, now);
    if (!created)
        return created.error();
    if (auto added = add_credential(store, created->record, actor); !added)
        return added.error();
    return created;
}

}
