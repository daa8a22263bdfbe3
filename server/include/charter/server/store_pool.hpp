#pragma once
// One database connection (SQLite or PostgreSQL) per concurrent request: a Store is not
// thread-safe, so each request leases one from the pool and gives it back when done.
// Connections are opened on demand and reused; there are never more than the server has
// worker threads.
//
// On PostgreSQL the pool's connections share one change feed (charter/db/change_feed.hpp): their
// reads outside writing transactions are answered from memory until any process commits a
// change, so that a customer's repeated request (the same key validated, the same index asked
// for) costs no round trip to the database.

#include "charter/db/change_feed.hpp"
#include "charter/db/store.hpp"
#include "charter/keygen/ops/data_dir.hpp"

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace charter::server {

class StorePool {
public:
    explicit StorePool(ops::DataDir dir);

    class Lease {
    public:
        Lease(StorePool& pool, std::unique_ptr<db::Store> store) : m_pool(pool), m_store(std::move(store)) { }
        Lease(Lease&&) = default;
        ~Lease()
        {
            if (m_store)
                m_pool.give_back(std::move(m_store));
        }
        db::Store& operator*() { return *m_store; }
        db::Store* operator->() { return m_store.get(); }

    private:
        StorePool& m_pool;
        std::unique_ptr<db::Store> m_store;
    };

    Result<Lease> lease();

    /// The change feed (PostgreSQL only; null on SQLite).
    db::ChangeFeed* change_feed() const { return m_feed.get(); }

private:
    void give_back(std::unique_ptr<db::Store> store);

    ops::DataDir m_dir;
    std::shared_ptr<db::ChangeFeed> m_feed;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<db::Store>> m_idle;
};

}
