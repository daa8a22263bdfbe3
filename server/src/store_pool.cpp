#include "charter/server/store_pool.hpp"

namespace charter::server {

StorePool::StorePool(ops::DataDir dir)
    : m_dir(std::move(dir))
{
    if (m_dir.database_url())
        m_feed = db::ChangeFeed::listen(*m_dir.database_url());
}

Result<StorePool::Lease> StorePool::lease()
{
    {
        std::lock_guard lock(m_mutex);
        if (!m_idle.empty()) {
            auto store = std::move(m_idle.back());
            m_idle.pop_back();
            return Lease(*this, std::move(store));
        }
    }
    auto store = m_dir.open_store(db::OpenMode::existing);
    if (!store)
        return store.error();
    if (m_feed)
        store->use_change_feed(m_feed);
    return Lease(*this, std::make_unique<db::Store>(std::move(*store)));
}

void StorePool::give_back(std::unique_ptr<db::Store> store)
{
    std::lock_guard lock(m_mutex);
    m_idle.push_back(std::move(store));
}

}
