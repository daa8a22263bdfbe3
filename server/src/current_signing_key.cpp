#include "charter/server/current_signing_key.hpp"

#include <sodium.h>

#include <iostream>

namespace charter::server {

namespace {

// How long a key that failed to load is refused before it is tried again: long enough that a
// flood of requests cannot keep the server unwrapping it, short enough that the server
// recovers by itself once the operator has copied the missing file into keys/.
constexpr auto failed_key_retry = std::chrono::seconds(5);

// What the client is told. The cause's own message names files of the data directory, which
// only the server's log shows; this names the key and what the operator has to do.
Error unavailable(std::string const& kid, Error const& cause, bool has_passphrase, char const* which = "current")
{
    std::string why;
    if (cause.kind == ErrorKind::unauthorized && !has_passphrase)
        why = "it is protected by a passphrase and charter-server was started without CHARTER_PASSPHRASE; restart "
              "charter-server with it";
    else if (cause.kind == ErrorKind::unauthorized)
        why = "its passphrase is not the one charter-server was started with (CHARTER_PASSPHRASE); restart "
              "charter-server with the key's passphrase";
    else if (cause.kind == ErrorKind::not_found)
        why = "its file is missing from the data directory's keys/ folder; copy it there";
    else
        why = "its file in the data directory's keys/ folder cannot be used (the server's log says why)";
    return make_error(ErrorKind::unavailable, std::string("charter-server cannot load the ") + which + " signing key " + kid + ": " + why
            + "; nothing was signed");
}

}

CurrentSigningKey::CurrentSigningKey(ops::DataDir dir, keygen::SigningKey loaded, std::optional<std::string> passphrase)
    : m_keys(std::move(dir))
    , m_passphrase(std::move(passphrase))
    , m_key(std::make_shared<keygen::SigningKey const>(std::move(loaded)))
{
}

CurrentSigningKey::~CurrentSigningKey()
{
    if (m_passphrase)
        sodium_memzero(m_passphrase->data(), m_passphrase->size());
}

Result<CurrentSigningKey::KeyPointer> CurrentSigningKey::get(db::Store& store)
{
    auto record = store.current_signing_key();
    if (!record) {
        // No key is current: the data directory's state, not the request's (which would make
        // not_found a 404 or a 422).
        if (record.error().kind == ErrorKind::not_found)
            return make_error(ErrorKind::unavailable, record.error().message);
        return record.error();
    }
    std::lock_guard lock(m_mutex);
    if (m_key->kid() == record->kid)
        return m_key;
    return load(record->kid);
}

Result<CurrentSigningKey::KeyPointer> CurrentSigningKey::load(std::string const& kid)
{
    auto steady_now = std::chrono::steady_clock::now();
    if (kid == m_failed_kid && steady_now - m_failed_at < failed_key_retry)
        return m_failure;
    auto loaded = m_keys.load(kid, m_passphrase);
    // The server's stderr is the operator's view of it (the access log is on stdout): a key
    // change, or why there is none, is said there once.
    auto const& warnings = m_keys.warnings();
    for (; m_warnings_shown < warnings.size(); ++m_warnings_shown)
        std::cerr << "charter-server: warning: " << warnings[m_warnings_shown] << "\n";
    if (!loaded) {
        auto failure = unavailable(kid, loaded.error(), m_passphrase.has_value());
        if (kid != m_failed_kid || loaded.error().message != m_failure_cause)
            std::cerr << "charter-server: cannot load the current signing key " << kid << ": " << loaded.error().message
                      << "; POST /v1/licenses and revocation lists fail until it can be loaded\n";
        m_failed_kid = kid;
        m_failed_at = steady_now;
        m_failure = failure;
        m_failure_cause = loaded.error().message;
        return failure;
    }
    std::cerr << "charter-server: signing with " << kid << " (was " << m_key->kid() << ")\n";
    m_key = std::make_shared<keygen::SigningKey const>(std::move(*loaded));
    m_failed_kid.clear();
    m_failure_cause.clear();
    m_generation.fetch_add(1, std::memory_order_release);
    return m_key;
}

Result<std::vector<CurrentSigningKey::KeyPointer>> CurrentSigningKey::trusted(db::Store& store)
{
    auto current = get(store);
    if (!current)
        return current.error();
    auto records = store.list_signing_keys();
    if (!records)
        return records.error();
    std::vector<KeyPointer> keys { *current };
    std::lock_guard lock(m_mutex);
    auto steady_now = std::chrono::steady_clock::now();
    for (auto const& record : *records) {
        if (record.status == "retired" || record.kid == (*current)->kid())
            continue;
        if (auto found = m_others.find(record.kid); found != m_others.end()) {
            keys.push_back(found->second);
            continue;
        }
        if (auto failed = m_other_failures.find(record.kid);
            failed != m_other_failures.end() && steady_now - failed->second.first < failed_key_retry)
            return failed->second.second;
        auto loaded = m_keys.load(record.kid, m_passphrase);
        if (!loaded) {
            auto failure = unavailable(record.kid, loaded.error(), m_passphrase.has_value(), "trusted");
            std::cerr << "charter-server: cannot load the trusted signing key " << record.kid << ": " << loaded.error().message
                      << "; revocation lists fail until it can be loaded (builds that trust only it need its list)\n";
            m_other_failures.insert_or_assign(record.kid, std::make_pair(steady_now, failure));
            return failure;
        }
        m_other_failures.erase(record.kid);
        auto pointer = std::make_shared<keygen::SigningKey const>(std::move(*loaded));
        m_others.emplace(record.kid, pointer);
        keys.push_back(std::move(pointer));
    }
    return keys;
}

}
