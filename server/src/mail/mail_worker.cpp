#include "charter/server/mail/mail_worker.hpp"

#include "charter/server/clock.hpp"

#include <chrono>
#include <iostream>
#include <unistd.h>

namespace charter::server {

namespace {

// How often the outbox is looked at when there was nothing to send: a message the CLI
// queued is sent within about this long.
constexpr auto poll_interval = std::chrono::seconds(1);
constexpr int64_t reminder_interval_seconds = 60;

}

MailWorker::MailWorker(ops::DataDir dir, ops::MailerSettings settings)
    : m_dir(std::move(dir))
    , m_settings(std::move(settings))
{
}

MailWorker::~MailWorker()
{
    stop();
}

void MailWorker::start()
{
    m_thread = std::thread([this] { run(); });
}

void MailWorker::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

void MailWorker::run()
{
    std::optional<db::Store> store;
    std::optional<ops::MailSender> sender;
    char host[256] {};
    gethostname(host, sizeof host - 1);
    std::string name = "server:" + std::string(host) + ":" + std::to_string(getpid());
    int64_t reminders_at = 0;
    std::string last_error;
    for (;;) {
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping)
                return;
        }
        bool busy = false;
        if (!store) {
            auto opened = m_dir.open_store(db::OpenMode::existing);
            if (opened) {
                store.emplace(std::move(*opened));
                sender.emplace(*store, m_settings, name);
            } else if (opened.error().message != last_error) {
                last_error = opened.error().message;
                std::cerr << "charter-server: mail: " << last_error << "\n";
            }
        }
        if (store) {
            int64_t now = server_now();
            if (now >= reminders_at) {
                auto queued = ops::queue_due_reminders(*store, now);
                if (!queued)
                    std::cerr << "charter-server: mail: reminders: " << queued.error().message << "\n";
                reminders_at = now + reminder_interval_seconds;
            }
            auto round = sender->deliver_due(now);
            if (round) {
                m_sent += uint64_t(round->sent);
                m_retried += uint64_t(round->retried);
                m_failed += uint64_t(round->failed);
                busy = round->claimed > 0;
                last_error.clear();
            } else if (round.error().message != last_error) {
                last_error = round.error().message;
                std::cerr << "charter-server: mail: " << last_error << "\n";
            }
        }
        if (!busy) {
            std::unique_lock lock(m_mutex);
            m_wake.wait_for(lock, poll_interval, [this] { return m_stopping; });
        }
    }
}

}
