#pragma once
// Group commit for POST /v1/licenses. A license must be on disk (its transaction committed and
// fsync'ed) before its key is sent; one fsync per license would cap issuance at one license per
// disk flush, whatever the CPUs. Requests that arrive while a commit is running wait for the
// next one, and that commit writes all of them: a leader takes the queue, issues each license
// through ops::Issuer (the code path of `charter issue`, with its audit rows) inside one
// transaction, commits, and wakes the others. Under no load a batch is one license and adds no
// delay; under load a batch is as many licenses as arrived during the previous commit. Each
// batch signs with the data directory's current signing key as of its transaction
// (CurrentSigningKey), so a `charter key rotate` in another process applies to the next batch.
// Renewals and updates of licenses (new versions of their keys, POST /v1/licenses/{id}/renew,
// PATCH /v1/licenses/{id}) need the same: they share these commits through run().
// Work whose loss in a power cut only undoes a step its client repeats (a seat's heartbeat: a
// lost renewal ends the lease earlier than its last token said) asks for
// db::Durability::process_crash: a batch of nothing else commits without the fsync (SQLite
// synchronous NORMAL in WAL mode, PostgreSQL synchronous_commit off), so its rate is the CPU's,
// not the disk's flushes; a batch that also holds durable work commits durably, for all of it.

#include "charter/db/records.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "charter/result.hpp"
#include "charter/server/current_signing_key.hpp"
#include "charter/server/store_pool.hpp"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace charter::server {

class IssueBatcher {
public:
    IssueBatcher(StorePool& pool, CurrentSigningKey& signing_key, std::string const& issuer_name)
        : m_pool(pool)
        , m_signing_key(signing_key)
        , m_issuer_name(issuer_name)
    {
    }

    /// Issues one license; returns once the transaction holding it has committed. Errors of
    /// this request alone (unknown product, bad date, a reused idempotency key) are its own;
    /// an error of the database, or a current signing key that cannot be loaded, fails every
    /// license of the batch, none of which is stored.
    Result<db::License> issue(ops::IssueRequest const& request, db::Actor const& actor, int64_t now);

    /// Work that writes with the batch's store and signs with its current key (the Issuer's),
    /// inside the batch's transaction: it must undo its own writes when it fails (a nested
    /// store.transaction() does), and keep what it made in its own captures.
    using Work = std::function<Result<void>(db::Store& store, ops::Issuer& issuer)>;
    /// Runs `work` in the next commit; returns once that commit is durable (or has failed, with
    /// this work's error or the database's).
    Result<void> run(Work const& work, db::Durability durability = db::Durability::power_loss);

private:
    struct Pending {
        Pending(Work const* of, db::Durability needed) : work(of), durability(needed) { }
        Work const* work;
        db::Durability durability;
        Result<void> result { make_error(ErrorKind::internal, "not written") };
        bool done { false };
        // Woken when its batch is done, or to lead the next one: one wake-up per request
        // instead of every waiter at every commit.
        std::condition_variable wake;
    };

    void write(std::vector<Pending*>& batch);

    StorePool& m_pool;
    CurrentSigningKey& m_signing_key;
    std::string const& m_issuer_name;
    std::mutex m_mutex;
    std::vector<Pending*> m_queue;
    bool m_writing { false };
};

}
