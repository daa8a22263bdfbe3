#pragma once
// The downloads log (db table downloads, read with `charter downloads`): one line per download
// or refusal, kept bounded. A valid key asking for files that do not exist (or a client
// re-requesting one byte of a file in a loop) would otherwise add a row per request, without
// end: lines of one license beyond `limit` in an hour are not written (and counted in
// /metrics), and lines older than the retention are deleted, at most once an hour, in bounded
// steps. Refusals without a license (bad keys) are bounded per client by the auth-failure
// limiter and by the retention.

#include "charter/db/store.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace charter::server {

class DownloadsLog {
public:
    /// `limit`: lines per license per hour; `retention_days`: 0 keeps every line.
    DownloadsLog(int64_t limit, int64_t retention_days) : m_limit(limit), m_retention_days(retention_days) { }

    /// Writes `line` (its `at` is the server's clock) unless its license is over the limit;
    /// deletes expired lines when an hour has passed since the last time. Failures are not the
    /// client's business: the download goes on.
    void record(db::Store& store, db::Download const& line);

    /// Lines not written because their license was over the limit, since the server started.
    uint64_t dropped() const { return m_dropped.load(); }

private:
    void prune(db::Store& store, int64_t now);

    int64_t m_limit;
    int64_t m_retention_days;
    std::atomic<uint64_t> m_dropped { 0 };
    std::mutex m_prune_mutex;
    std::chrono::steady_clock::time_point m_pruned_at {};
    bool m_pruned_once { false };
};

}
