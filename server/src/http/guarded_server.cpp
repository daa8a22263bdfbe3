#include "charter/server/http/guarded_server.hpp"

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
#include <cctype>
#include <cstring>
#include <string_view>
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
// The reason phrase of the response this worker is about to write (empty: the standard one).
// The post-routing handler sets it from Response::reason, just before cpp-httplib writes the
// status line on the same thread.
thread_local std::string pending_reason;

// A request head line longer than this is passed on unexamined (cpp-httplib refuses a
// request line over 8 KiB and a header line over 8 KiB anyway).
constexpr size_t max_head_line = 16 * 1024;
// How long a closing connection keeps dropping what its client still sends (close_lingering).
constexpr auto linger_time = std::chrono::seconds(1);

bool equals_ignoring_case(std::string_view a, std::string_view b)
{
    return a.size() == b.size()
        && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(uint8_t(x)) == std::tolower(uint8_t(y)); });
}

// Whether cpp-httplib 0.11.4 can parse `value` as a Range (its grammar, RFC 9110's byte ranges
// without optional whitespace but after commas): "bytes=" and FIRST-LAST, FIRST- or -SUFFIX
// ranges, FIRST <= LAST, numbers of at most 18 digits (its conversion never overflows).
bool parsable_range(std::string_view value)
{
    if (!value.starts_with("bytes="))
        return false;
    value.remove_prefix(6);
    for (bool first = true;; first = false) {
        if (!first) {
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
                value.remove_prefix(1);
        }
        auto comma = value.find(',');
        auto spec = value.substr(0, comma);
        auto dash = spec.find('-');
        if (dash == std::string_view::npos)
            return false;
        auto from = spec.substr(0, dash), to = spec.substr(dash + 1);
        auto number = [](std::string_view digits) {
            return digits.size() <= 18 && digits.find_first_not_of("0123456789") == std::string_view::npos;
        };
        if ((from.empty() && to.empty()) || !number(from) || !number(to))
            return false;
        if (!from.empty() && !to.empty() && std::stoll(std::string(from)) > std::stoll(std::string(to)))
            return false;
        if (comma == std::string_view::npos)
            return true;
        value.remove_prefix(comma + 1);
    }
}

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
    /// The next bytes read start a request head (see read_head_line()).
    void start_head()
    {
        m_in_head = true;
        m_head_lines = 0;
        m_method.clear();
    }

    bool is_readable() const override { return m_line_at < m_line.size() || m_begin < m_end || wait_readable(); }

    bool is_writable() const override { return poll_socket(m_sock, POLLOUT, m_write_timeout) > 0 && peer_connected(); }

    ssize_t read(char* data, size_t size) override
    {
        if (m_line_at == m_line.size() && m_in_head) {
            if (auto failed = read_head_line(); failed <= 0)
                return failed;
        }
        if (m_line_at < m_line.size()) {
            auto count = std::min(size, m_line.size() - m_line_at);
            std::memcpy(data, m_line.data() + m_line_at, count);
            m_line_at += count;
            return ssize_t(count);
        }
        return read_raw(data, size);
    }

    ssize_t write(char const* data, size_t size) override
    {
        // cpp-httplib writes the status line and the headers in one call, as its first write of
        // a response (an interim "100 Continue" is written before the handler has run).
        std::string_view head(data, size);
        if (pending_reason.empty() || !head.starts_with("HTTP/1.1 ") || head.size() < 12)
            return write_some(data, size);
        auto line_end = head.find("\r\n");
        if (line_end == std::string_view::npos)
            return write_some(data, size);
        std::string rewritten;
        rewritten.reserve(size + pending_reason.size());
        rewritten.append(head.substr(0, 12)); // "HTTP/1.1 NNN"
        rewritten += ' ';
        rewritten += pending_reason;
        rewritten.append(head.substr(line_end));
        pending_reason.clear();
        for (size_t sent = 0; sent < rewritten.size();) {
            auto written = write_some(rewritten.data() + sent, rewritten.size() - sent);
            if (written < 0)
                return written;
            sent += size_t(written);
        }
        return ssize_t(size);
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
    // The next line of the request head into m_line, without the Range header lines RFC 9110
    // says to ignore (see guarded_server.hpp): on any method but GET, and any that cpp-httplib
    // could not parse. What the socket gave before a failure is passed on, so cpp-httplib sees
    // a cut request exactly as it arrived. Returns the failed read's result, or 1.
    ssize_t read_head_line()
    {
        for (;;) {
            m_line.clear();
            m_line_at = 0;
            char byte = 0;
            while (m_line.size() < max_head_line && byte != '\n') {
                auto got = read_raw(&byte, 1);
                if (got <= 0)
                    return m_line.empty() ? got : 1;
                m_line += byte;
            }
            if (byte != '\n') {
                m_in_head = false; // too long for cpp-httplib: passed on as it is
                return 1;
            }
            std::string_view line(m_line);
            line.remove_suffix(line.ends_with("\r\n") ? 2 : 1);
            if (m_head_lines++ == 0) {
                m_method = line.substr(0, line.find(' '));
                return 1;
            }
            if (line.empty()) {
                m_in_head = false;
                return 1;
            }
            auto colon = line.find(':');
            if (colon == std::string_view::npos || !equals_ignoring_case(line.substr(0, colon), "Range"))
                return 1;
            auto value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
                value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
                value.remove_suffix(1);
            if (m_method == "GET" && parsable_range(value))
                return 1;
            // Dropped: the next line is read in its place.
        }
    }

    ssize_t read_raw(char* data, size_t size)
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

    ssize_t write_some(char const* data, size_t size)
    {
        if (!is_writable())
            return -1;
        for (;;) {
            auto sent = ::send(m_sock, data, size, MSG_NOSIGNAL);
            if (sent >= 0 || errno != EINTR)
                return sent;
        }
    }

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
    // The request head, while it is read: the current line and how much of it was read.
    bool m_in_head { false };
    int m_head_lines { 0 };
    std::string m_method;
    std::string m_line;
    size_t m_line_at { 0 };
    std::string m_remote_ip;
    int m_remote_port { -1 };
    std::string m_local_ip;
    int m_local_port { -1 };
};

// Closes a connection after the answer that ended it. Its client may still be sending a body
// that was refused unread (an upload without a valid token): closed with bytes unread, the
// socket would send a reset, and the client could lose the answer it has not read yet. So the
// server stops sending, and drops what still arrives until the client closes, for at most
// linger_time (no longer than a silent client could hold the worker anyway).
void close_lingering(int sock)
{
    ::shutdown(sock, SHUT_WR);
    char buffer[16384];
    auto until = Clock::now() + linger_time;
    for (;;) {
        auto left = std::chrono::duration_cast<microseconds>(until - Clock::now());
        if (left <= microseconds(0) || poll_socket(sock, POLLIN, left) <= 0)
            break;
        auto received = ::recv(sock, buffer, sizeof buffer, MSG_DONTWAIT);
        if (received == 0 || (received < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            break;
    }
    ::close(sock);
}

}

GuardedServer::GuardedServer(size_t threads, StreamedBody streamed_body, std::chrono::seconds streamed_body_timeout)
    : m_threads(threads)
    , m_streamed_body(std::move(streamed_body))
    , m_streamed_body_timeout(streamed_body_timeout)
{
    new_task_queue = [this] { return new ConnectionPool(m_threads); };
    // cpp-httplib calls it for every response, on the worker's thread, just before it writes the
    // status line (ConnectionStream::write puts the phrase in). Nothing else may set one.
    set_post_routing_handler([](httplib::Request const&, httplib::Response& response) {
        pending_reason = response.reason.empty() ? std::string() : reason_phrase(response.reason);
    });
}

std::string GuardedServer::reason_phrase(std::string const& reason)
{
    std::string phrase;
    for (size_t i = 0; i < reason.size() && phrase.size() < max_reason_phrase; ++i) {
        auto c = uint8_t(reason[i]);
        if (c >= 0x20 && c < 0x7f) {
            phrase += char(c);
        } else if (reason.compare(i, 3, "\xE2\x80\xA6") == 0) {
            phrase += "...";
            i += 2;
        } else if (c >= 0x80) {
            // One "?" per character: its continuation bytes are skipped.
            phrase += '?';
            while (i + 1 < reason.size() && (uint8_t(reason[i + 1]) & 0xC0) == 0x80)
                ++i;
        } else {
            phrase += ' '; // a control character: never a CR or LF in the status line
        }
    }
    if (phrase.size() > max_reason_phrase)
        phrase.resize(max_reason_phrase);
    return phrase;
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
    bool answered = false; // the connection ends after an answer, not for want of a request
    auto idle_since = accepted_at;
    for (size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
        if (!stream.wait_for_request(idle_since + keep_alive))
            break;
        // The first request may have been arriving since the connection was accepted; a later
        // one starts now, with its first byte.
        bool first = left == keep_alive_max_count_;
        stream.set_deadline((first ? accepted_at : Clock::now()) + read_timeout);
        stream.start_head();
        deadline_missed = false;
        pending_reason.clear();
        bool connection_closed = false;
        served = process_request(stream, left == 1, connection_closed, [&](httplib::Request& request) {
            if (m_streamed_body && m_streamed_body(request))
                stream.set_deadline(Clock::now() + m_streamed_body_timeout);
        });
        stream.set_deadline(std::nullopt);
        deadline_missed = false;
        pending_reason.clear();
        answered = true;
        if (!served || connection_closed || stream.missed_deadline())
            break;
        answered = false;
        idle_since = Clock::now();
    }
    if (answered) {
        close_lingering(sock);
    } else {
        ::shutdown(sock, SHUT_RDWR);
        ::close(sock);
    }
    return served;
}

}
