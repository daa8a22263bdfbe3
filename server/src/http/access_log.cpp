#include "charter/server/http/access_log.hpp"

#include <cerrno>
#include <unistd.h>

namespace charter::server {

namespace {
constexpr size_t max_backlog = 8 << 20;
}

AccessLog::AccessLog(int fd)
    : m_fd(fd)
{
    m_thread = std::thread([this] { run(); });
}

AccessLog::~AccessLog()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

void AccessLog::write(std::string_view line)
{
    std::unique_lock lock(m_mutex);
    m_drained.wait(lock, [this] { return m_pending.size() < max_backlog || m_stopping; });
    m_pending.append(line);
    // Wake the writer only when it sleeps; under load it is busy writing the previous batch.
    if (m_writer_idle) {
        m_writer_idle = false;
        lock.unlock();
        m_wake.notify_one();
    }
}

void AccessLog::run()
{
    std::string batch;
    std::unique_lock lock(m_mutex);
    for (;;) {
        if (m_pending.empty()) {
            if (m_stopping)
                return;
            m_writer_idle = true;
            m_wake.wait(lock, [this] { return !m_pending.empty() || m_stopping; });
            m_writer_idle = false;
            continue;
        }
        batch.clear();
        batch.swap(m_pending);
        lock.unlock();
        m_drained.notify_all();
        size_t written = 0;
        while (written < batch.size()) {
            ssize_t n = ::write(m_fd, batch.data() + written, batch.size() - written);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break; // stdout is gone: the lines cannot be written anywhere
            written += size_t(n);
        }
        lock.lock();
    }
}

}
