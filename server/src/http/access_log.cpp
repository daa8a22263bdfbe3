#include "charter/server/http/access_log.hpp"

#include "charter/format/rfc3339.hpp"
#include "charter/json_string.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <unistd.h>

namespace charter::server {

namespace {

constexpr size_t max_backlog = 8 << 20;

// The log's time, formatted once per second per thread.
std::string const& log_time(int64_t now)
{
    thread_local int64_t formatted_at = -1;
    thread_local std::string text;
    if (now != formatted_at) {
        text = format::format_rfc3339(now);
        formatted_at = now;
    }
    return text;
}

}

std::string format_access_line(AccessLine const& entry)
{
    // One JSON line per request. The path is logged without its query string (which may
    // carry cursors or filters, never secrets by design, but the rule is simple), and the
    // address is the socket's peer, never a header.
    std::string line;
    line.reserve(256);
    line += "{\"time\":\"";
    line += log_time(entry.time);
    line += "\",\"request_id\":\"";
    line += entry.request_id;
    line += "\",\"method\":\"";
    line += entry.method;
    line += "\",\"path\":";
    append_json_string(line, entry.path);
    line += ",\"route\":";
    append_json_string(line, entry.route);
    line += ",\"status\":";
    line += std::to_string(entry.status);
    line += ",\"bytes\":";
    line += entry.bytes;
    line += ",\"duration_ms\":";
    char milliseconds[32];
    auto written = std::to_chars(milliseconds, milliseconds + sizeof milliseconds, entry.seconds * 1000.0, std::chars_format::fixed, 3);
    line.append(milliseconds, written.ptr);
    line += ",\"remote\":";
    append_json_string(line, entry.remote);
    line += "}\n";
    return line;
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
