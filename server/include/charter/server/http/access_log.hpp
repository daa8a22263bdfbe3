#pragma once
// The access log's writer. Request threads hand over their line and go on; one thread writes
// what has accumulated to stdout with a single write(). Writing each line from its request
// thread cost a system call and the file's lock per request, and with many workers those
// threads queued on that lock: under load it was the largest cost of a validation after the
// TCP stack itself. Lines keep their order of hand-over and are never split.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace charter::server {

/// What the access log says of one request.
struct AccessLine {
    int64_t time { 0 };          // Unix seconds
    std::string_view request_id;
    std::string_view method;     // a label from a fixed set (metrics' method_label)
    std::string_view path;       // without the query string
    std::string_view route;      // the route's pattern, "-" when none matched
    int status { 0 };
    std::string_view bytes;      // what went on the wire, as a decimal number
    double seconds { 0 };
    std::string_view remote;     // the socket's peer, never a header
};

/// One JSON line per request, newline included.
std::string format_access_line(AccessLine const& entry);

class AccessLog {
public:
    /// Starts the writer thread; `fd` is where lines go (stdout).
    explicit AccessLog(int fd = 1);
    /// Writes everything handed over, then stops the writer.
    ~AccessLog();
    AccessLog(AccessLog const&) = delete;
    AccessLog& operator=(AccessLog const&) = delete;

    /// Queues one line (with its newline). Blocks only while a large backlog is unwritten
    /// (stdout is a pipe nobody reads, a full disk): memory stays bounded.
    void write(std::string_view line);

private:
    void run();

    int m_fd;
    std::mutex m_mutex;
    std::condition_variable m_wake;      // the writer: lines are waiting, or stop
    std::condition_variable m_drained;   // writers: the backlog went down
    std::string m_pending;
    bool m_writer_idle { false };
    bool m_stopping { false };
    std::thread m_thread;
};

}
