#include "charter/keygen/ops/workspace.hpp"

#include "charter/db/change_feed.hpp"

#include "charter/utf8.hpp"

#include <algorithm>
#include <chrono>

namespace charter::ops {

namespace {

constexpr char const* issuer_setting = "issuer";

db::SigningKeyRecord record_for(keygen::SigningKey const& key, bool current, int64_t now)
{
    db::SigningKeyRecord record;
    record.kid = key.kid();
    record.public_paserk = key.paserk_public();
    record.current = current;
    record.created_at = now;
    return record;
}

}

Result<Workspace> Workspace::initialize(DataDir const& dir, std::string const& issuer,
    std::optional<std::string> const& passphrase, int64_t now, db::Actor const& actor)
{
    if (issuer.empty())
        return make_error(ErrorKind::invalid_input, "--issuer must not be empty");
    // It is the "iss" claim of every license: JSON text.
    if (!charter::is_valid_utf8(issuer))
        return make_error(ErrorKind::invalid_input, "--issuer is not valid UTF-8");
    // It is also written into the source files `charter key export` makes, in a comment line.
    if (std::any_of(issuer.begin(), issuer.end(), [](char c) { return (unsigned char)c < 0x20 || c == 0x7f; }))
        return make_error(ErrorKind::invalid_input, "--issuer must be one line of text, without control characters");
    if (auto created = dir.create(); !created)
        return created.error();
    auto store = dir.open_store(db::OpenMode::create);
    if (!store)
        return store.error();
    // A PostgreSQL database is not a new file: it may hold an instance already.
    if (auto existing = store->get_setting(issuer_setting); !existing)
        return existing.error();
    else if (*existing)
        return make_error(ErrorKind::conflict, "database " + store->name() + " is already initialised (issuer \"" + **existing
                + "\"); use it without `init`, or give `init` an empty database");
    Workspace workspace(dir, std::move(*store));

    auto key = keygen::SigningKey::generate();
    if (!key)
        return key.error();
    // The key file is written before the database row: a crash in between leaves an unused
    // file, never a database that names a key nobody has.
    if (auto saved = workspace.m_keys.save(*key, passphrase); !saved)
        return saved.error();
    auto stored = workspace.m_store.transaction([&]() -> Result<void> {
        if (auto set = workspace.m_store.set_setting(issuer_setting, issuer, now, actor); !set)
            return set.error();
        return workspace.m_store.add_signing_key(record_for(*key, true, now), actor);
    });
    if (!stored)
        return stored.error();
    return workspace;
}

Result<Workspace> Workspace::open(DataDir const& dir)
{
    if (auto exists = dir.check_exists(); !exists)
        return exists.error();
    auto store = dir.open_store(db::OpenMode::existing);
    if (!store)
        return store.error();
    return Workspace(dir, std::move(*store));
}

Result<Workspace> Workspace::open_for_changes(DataDir const& dir)
{
    auto workspace = open(dir);
    if (workspace && dir.database_url()) {
        auto feed = db::ChangeFeed::listen(*dir.database_url());
        feed->wait_listening(std::chrono::seconds(2));
        workspace->store().use_change_feed(std::move(feed));
    }
    return workspace;
}

Result<std::string> Workspace::issuer()
{
    auto value = m_store.get_setting(issuer_setting);
    if (!value)
        return value.error();
    if (!*value)
        return make_error(ErrorKind::not_found, "the database has no issuer; was it created with `charter init`?");
    return **value;
}

Result<keygen::SigningKey> Workspace::current_signing_key(std::optional<std::string> const& passphrase)
{
    auto record = m_store.current_signing_key();
    if (!record)
        return record.error();
    return m_keys.load(record->kid, passphrase);
}

Result<std::vector<db::SigningKeyRecord>> Workspace::trusted_keys()
{
    auto keys = m_store.list_signing_keys();
    if (!keys)
        return keys.error();
    std::vector<db::SigningKeyRecord> trusted;
    for (auto& key : *keys) {
        if (key.status == "retired")
            continue;
        if (auto checked = check_public_key(key); !checked)
            return checked.error();
        trusted.push_back(std::move(key));
    }
    return trusted;
}

Result<std::vector<keygen::SigningKey>> Workspace::trusted_signing_keys(std::optional<std::string> const& passphrase)
{
    auto records = trusted_keys();
    if (!records)
        return records.error();
    std::stable_partition(records->begin(), records->end(), [](auto const& record) { return record.current; });
    std::vector<keygen::SigningKey> keys;
    for (auto const& record : *records) {
        auto key = m_keys.load(record.kid, passphrase);
        if (!key)
            return key.error();
        keys.push_back(std::move(*key));
    }
    return keys;
}

Result<db::SigningKeyRecord> Workspace::add_key(bool make_current, std::optional<std::string> const& passphrase, int64_t now,
    db::Actor const& actor)
{
    // When the current key is protected, the new one must be too, and with the same
    // passphrase: unwrapping the current key proves the passphrase is not a typo.
    auto current = m_store.current_signing_key();
    if (current) {
        auto protection = m_keys.protection(current->kid);
        if (protection && *protection == KeyProtection::passphrase) {
            if (!passphrase)
                return make_error(ErrorKind::unauthorized, "the signing keys are protected by a passphrase; set "
                                                           "CHARTER_PASSPHRASE or pass --passphrase-prompt so the new key is "
                                                           "protected too");
            if (auto check = m_keys.load(current->kid, passphrase); !check)
                return check.error();
        }
    }
    auto key = keygen::SigningKey::generate();
    if (!key)
        return key.error();
    if (auto saved = m_keys.save(*key, passphrase); !saved)
        return saved.error();
    auto record = record_for(*key, make_current, now);
    if (auto added = m_store.add_signing_key(record, actor); !added)
        return added.error();
    return record;
}

}
