#pragma once
// One database connection (SQLite or PostgreSQL) per concurrent request: a Store is not
// thread-safe, so each request leases one from the pool and gives it back when done.
// Connections are opened on demand and reused; there are never more than the server has
// worker threads.

#include "charter/db/store.hpp"
#include "charter/keygen/ops/data_dir.hpp"

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace charter::server {

class StorePool {
public:
    explicit StorePool(ops::DataDir dir) : m_dir(std::move(dir)) { }

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

private:
    void give_back(std::unique_ptr<db::Store> store);

    ops::DataDir m_dir;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<db::Store>> m_idle;
};

}
