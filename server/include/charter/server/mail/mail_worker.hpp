#pragma once
// The server's mail sender: a background thread that delivers the outbox (ops::MailSender),
// including what `charter` (another process) queued, within a second or two, and queues due
// reminders every minute. docs/mail.md.

#include "charter/keygen/ops/data_dir.hpp"
#include "charter/keygen/ops/mail_delivery.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

namespace charter::server {

class MailWorker {
public:
    /// Opens its own connection to the data directory's database; sends with `settings`.
    MailWorker(ops::DataDir dir, ops::MailerSettings settings);
    ~MailWorker();
    MailWorker(MailWorker const&) = delete;
    MailWorker& operator=(MailWorker const&) = delete;

    void start();
    /// Stops after the message being sent (its outcome recorded); what it had claimed and not
    /// tried is taken again by a sender once its lease ends.
    void stop();

    // This process's counts since start, for /metrics.
    uint64_t sent() const { return m_sent; }
    uint64_t retried() const { return m_retried; }
    uint64_t failed() const { return m_failed; }

private:
    void run();

    ops::DataDir m_dir;
    ops::MailerSettings m_settings;
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping { false };
    std::atomic<uint64_t> m_sent { 0 };
    std::atomic<uint64_t> m_retried { 0 };
    std::atomic<uint64_t> m_failed { 0 };
};

}
