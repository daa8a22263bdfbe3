#include "charter/server/admin/issue_batcher.hpp"

namespace charter::server {

Result<db::License> IssueBatcher::issue(ops::IssueRequest const& request, db::Actor const& actor, int64_t now)
{
    std::optional<db::License> issued;
    Work work = [&](db::Store&, ops::Issuer& issuer) -> Result<void> {
        auto license = issuer.issue(request, actor, now);
        if (!license)
            return license.error();
        issued = std::move(*license);
        return {};
    };
    if (auto done = run(work); !done)
        return done.error();
    return std::move(*issued);
}

Result<void> IssueBatcher::run(Work const& work, db::Durability durability)
{
    Pending pending { &work, durability };
    std::unique_lock lock(m_mutex);
    m_queue.push_back(&pending);
    while (!pending.done) {
        if (m_writing) {
            pending.wake.wait(lock);
            continue;
        }
        // No commit running: this thread writes everything queued so far, its own included.
        m_writing = true;
        auto batch = std::move(m_queue);
        m_queue.clear();
        lock.unlock();
        try {
            write(batch);
        } catch (...) {
            // The followers must never wait for a leader that is gone.
            for (auto* entry : batch)
                entry->result = make_error(ErrorKind::internal, "writing failed unexpectedly");
        }
        lock.lock();
        for (auto* entry : batch) {
            entry->done = true;
            if (entry != &pending)
                entry->wake.notify_one();
        }
        m_writing = false;
        // What arrived during this commit is the next batch; its first request leads it.
        if (!m_queue.empty())
            m_queue.front()->wake.notify_one();
    }
    return std::move(pending.result);
}

void IssueBatcher::write(std::vector<Pending*>& batch)
{
    auto fail_all = [&](Error const& error) {
        for (auto* entry : batch)
            entry->result = error;
    };
    auto store = m_pool.lease();
    if (!store)
        return fail_all(store.error());
    // The batch is as durable as its most demanding work.
    auto durability = db::Durability::process_crash;
    for (auto* entry : batch) {
        if (entry->durability == db::Durability::power_loss)
            durability = db::Durability::power_loss;
    }
    auto committed = (*store)->batch_transaction([&]() -> Result<void> {
        // Asked inside the transaction, which holds the database's write lock: the key cannot
        // stop being current, let alone be retired, before these licenses are committed.
        auto key = m_signing_key.get(**store);
        if (!key)
            return key.error();
        ops::Issuer issuer(**store, **key, m_issuer_name);
        for (auto* entry : batch) {
            entry->result = (*entry->work)(**store, issuer);
            // A failed license (or change) undoes only itself (the store removes its row again,
            // a savepoint rolls back); a failing database (full disk, I/O error) may have rolled
            // back the whole transaction, so it ends the batch for everyone.
            if (!entry->result) {
                auto kind = entry->result.error().kind;
                if (kind == ErrorKind::io || kind == ErrorKind::internal)
                    return entry->result.error();
            }
        }
        return {};
    }, durability);
    if (!committed)
        fail_all(committed.error());
}

}
