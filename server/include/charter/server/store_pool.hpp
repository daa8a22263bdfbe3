#pragma once
// One SQLite connection per concurrent request: a Store is not thread-safe, so each request
// leases one from the pool and gives it back when done. Connections are opened on demand
// and reused; there are never more than the server has worker threads.

#include "charter/db/store.hpp"

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace charter::server {

class StorePool {
public:
    explicit StorePool(std::filesystem::path database) : m_database(std::move(database)) { }

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

    std::filesystem::path m_database;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<db::Store>> m_idle;
};

}
