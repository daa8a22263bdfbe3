#include "guarded_server.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <optional>
#include <string>

namespace charter::server {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;

// When the connection the worker is about to serve was queued (ConnectionPool sets it just
// before the task runs; process_and_close_socket takes it).
thread_local std::optional<Clock::time_point> connection_queued_at;
// Whether the request this worker is answering missed its deadline.
thread_local bool deadline_missed = false;

// httplib::ThreadPool, with each task stamped with the time it was queued: the listener queues
// a connection as soon as it accepts it.
class ConnectionPool final : public httplib::TaskQueue {
public:
    explicit ConnectionPool(size_t threads)
        : m_pool(threads)
    {
    }

    void enqueue(std::function<void()> task) override
    {
        m_pool.enqueue([task = std::move(task), queued_at = Clock::now()] {
            connection_queued_at = queued_at;
            task();
        });
    }
    void shutdown() override { m_pool.shutdown(); }

private:
    httplib::ThreadPool m_pool;
};

// poll() on one socket, again after a signal; -1 on an error or a closed descriptor.
int poll_socket(int sock, short events, microseconds timeout)
{
    auto milliseconds = std::chrono::ceil<std::chrono::milliseconds>(std::max(timeout, microseconds(0))).count();
    for (;;) {
        pollfd entry { sock, events, 0 };
        int ready = ::poll(&entry, 1, int(std::min<int64_t>(milliseconds, INT_MAX)));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready > 0 && (entry.revents & POLLNVAL))
            return -1;
        return ready;
    }
}

// The numeric address and port of a socket's end, as cpp-httplib reports them.
void describe(sockaddr_storage const& address, socklen_t length, std::string& ip, int& port)
{
    if (address.ss_family == AF_INET)
        port = ntohs(reinterpret_cast<sockaddr_in const&>(address).sin_port);
    else if (address.ss_family == AF_INET6)
        port = ntohs(reinterpret_cast<sockaddr_in6 const&>(address).sin6_port);
    else
        return;
    std::array<char, NI_MAXHOST> host {};
    if (getnameinfo(reinterpret_cast<sockaddr const*>(&address), length, host.data(), socklen_t(host.size()), nullptr, 0,
            NI_NUMERICHOST)
        == 0)
        ip = host.data();
}

// One connection's socket as cpp-httplib's Stream, for all the requests of the connection (so
// bytes read ahead for one request are kept for the next). Reads wait at most the read timeout
// each and never past the current request's deadline.
class ConnectionStream final : public httplib::Stream {
public:
    ConnectionStream(int sock, microseconds read_timeout, microseconds write_timeout)
        : m_sock(sock)
        , m_read_timeout(read_timeout)
        , m_write_timeout(write_timeout)
    {
        // The client's address comes from the socket, never from a header.
        sockaddr_storage address {};
        socklen_t length = sizeof address;
        if (getpeername(sock, reinterpret_cast<sockaddr*>(&address), &length) == 0)
            describe(address, length, m_remote_ip, m_remote_port);
        length = sizeof address;
        if (getsockname(sock, reinterpret_cast<sockaddr*>(&address), &length) == 0)
            describe(address, length, m_local_ip, m_local_port);
    }

    /// Waits until a request starts (or was read ahead), at most until `until`.
    bool wait_for_request(Clock::time_point until) const
    {
        return m_begin < m_end || poll_socket(m_sock, POLLIN, std::chrono::duration_cast<microseconds>(until - Clock::now())) > 0;
    }
    void set_deadline(std::optional<Clock::time_point> deadline) { m_deadline = deadline; }
    bool missed_deadline() const { return m_missed; }

    bool is_readable() const override { return m_begin < m_end || wait_readable(); }

    bool is_writable() const override { return poll_socket(m_sock, POLLOUT, m_write_timeout) > 0 && peer_connected(); }

    ssize_t read(char* data, size_t size) override
    {
        if (m_begin == m_end) {
            if (!wait_readable())
                return -1;
            if (size >= m_buffer.size())
                return receive(data, size);
            auto received = receive(m_buffer.data(), m_buffer.size());
            if (received <= 0)
                return received;
            m_begin = 0;
            m_end = size_t(received);
        }
        auto count = std::min(size, m_end - m_begin);
        std::memcpy(data, m_buffer.data() + m_begin, count);
        m_begin += count;
        return ssize_t(count);
    }

    ssize_t write(char const* data, size_t size) override
    {
        if (!is_writable())
            return -1;
        for (;;) {
            auto sent = ::send(m_sock, data, size, MSG_NOSIGNAL);
            if (sent >= 0 || errno != EINTR)
                return sent;
        }
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override
    {
        ip = m_remote_ip;
        port = m_remote_port;
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override
    {
        ip = m_local_ip;
        port = m_local_port;
    }
    socket_t socket() const override { return m_sock; }

private:
    // Waits for data for the read timeout, cut short by the request's deadline. Past the
    // deadline it does not wait at all: what has already arrived is still read (a complete
    // request that waited in the queue), a client that is still sending is not waited for.
    bool wait_readable() const
    {
        auto timeout = m_read_timeout;
        bool deadline_first = false;
        if (m_deadline) {
            auto left = std::chrono::duration_cast<microseconds>(*m_deadline - Clock::now());
            if (left <= timeout) {
                timeout = left;
                deadline_first = true;
            }
        }
        int ready = poll_socket(m_sock, POLLIN, timeout);
        if (ready == 0 && deadline_first) {
            m_missed = true;
            deadline_missed = true;
        }
        return ready > 0;
    }

    ssize_t receive(char* data, size_t size) const
    {
        for (;;) {
            auto received = ::recv(m_sock, data, size, MSG_DONTWAIT);
            if (received >= 0 || errno != EINTR)
                return received;
        }
    }

    // False once the client has closed its side or the connection broke (cpp-httplib's test
    // before each write: a response to a client that is gone is not sent).
    bool peer_connected() const
    {
        int ready = poll_socket(m_sock, POLLIN, microseconds(0));
        if (ready == 0)
            return true;
        if (ready < 0)
            return false;
        char byte;
        auto peeked = ::recv(m_sock, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return peeked > 0 || (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
    }

    int m_sock;
    microseconds m_read_timeout;
    microseconds m_write_timeout;
    std::optional<Clock::time_point> m_deadline;
    mutable bool m_missed { false };
    std::array<char, 4096> m_buffer {};
    size_t m_begin { 0 };
    size_t m_end { 0 };
    std::string m_remote_ip;
    int m_remote_port { -1 };
    std::string m_local_ip;
    int m_local_port { -1 };
};

}

GuardedServer::GuardedServer(size_t threads, StreamedBody streamed_body)
    : m_threads(threads)
    , m_streamed_body(std::move(streamed_body))
{
    new_task_queue = [this] { return new ConnectionPool(m_threads); };
}

bool GuardedServer::request_deadline_missed() { return deadline_missed; }

// cpp-httplib's loop (detail::process_server_socket), with deadlines: up to
// keep_alive_max_count_ requests, each starting within the keep-alive time of the previous
// one, until the server stops, a request fails, or either side ends the connection.
bool GuardedServer::process_and_close_socket(socket_t sock)
{
    auto accepted_at = connection_queued_at.value_or(Clock::now());
    connection_queued_at.reset();
    auto read_timeout = microseconds(read_timeout_sec_ * 1'000'000 + read_timeout_usec_);
    auto write_timeout = microseconds(write_timeout_sec_ * 1'000'000 + write_timeout_usec_);
    auto keep_alive = std::chrono::seconds(keep_alive_timeout_sec_);
    ConnectionStream stream(sock, read_timeout, write_timeout);

    bool served = false;
    auto idle_since = accepted_at;
    for (size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
        if (!stream.wait_for_request(idle_since + keep_alive))
            break;
        // The first request may have been arriving since the connection was accepted; a later
        // one starts now, with its first byte.
        bool first = left == keep_alive_max_count_;
        stream.set_deadline((first ? accepted_at : Clock::now()) + read_timeout);
        deadline_missed = false;
        bool connection_closed = false;
        served = process_request(stream, left == 1, connection_closed, [&](httplib::Request& request) {
            if (m_streamed_body && m_streamed_body(request))
                stream.set_deadline(std::nullopt);
        });
        stream.set_deadline(std::nullopt);
        deadline_missed = false;
        if (!served || connection_closed || stream.missed_deadline())
            break;
        idle_since = Clock::now();
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return served;
}

}
