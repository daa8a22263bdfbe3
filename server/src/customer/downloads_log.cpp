#include "charter/server/customer/downloads_log.hpp"

namespace charter::server {

namespace {
constexpr int64_t hour = 3600;
constexpr auto prune_interval = std::chrono::hours(1);
// Each statement deletes this many lines at most, so that no request waits long on it, and one
// pass deletes at most max_prune_steps of them (a larger backlog goes over the next hours).
constexpr int64_t prune_step = 2000;
constexpr int max_prune_steps = 50;
}

void DownloadsLog::record(db::Store& store, db::Download const& line)
{
    if (m_retention_days > 0)
        prune(store, line.at);
    if (line.license_id) {
        auto recent = store.count_license_downloads(*line.license_id, line.at - hour + 1, m_limit);
        if (recent && *recent >= m_limit) {
            ++m_dropped;
            return;
        }
    }
    (void)store.record_download(line);
}

void DownloadsLog::prune(db::Store& store, int64_t now)
{
    {
        std::lock_guard lock(m_prune_mutex);
        auto steady_now = std::chrono::steady_clock::now();
        if (m_pruned_once && steady_now - m_pruned_at < prune_interval)
            return;
        m_pruned_once = true;
        m_pruned_at = steady_now;
    }
    int64_t before = now - m_retention_days * 24 * hour;
    for (int step = 0; step < max_prune_steps; ++step) {
        auto deleted = store.delete_downloads_before(before, prune_step);
        if (!deleted || *deleted < prune_step)
            return;
    }
}

}
