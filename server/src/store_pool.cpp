#include "charter/server/store_pool.hpp"

namespace charter::server {

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
    return Lease(*this, std::make_unique<db::Store>(std::move(*store)));
}

void StorePool::give_back(std::unique_ptr<db::Store> store)
{
    std::lock_guard lock(m_mutex);
    m_idle.push_back(std::move(store));
}

}
