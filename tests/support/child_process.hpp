#pragma once
// Long-running programs (charter-server, nginx): started as children with their output in
// files, stopped by the test (SIGTERM, then SIGKILL) whatever happens, plus what the tests ask
// of them over the wire: a free loopback port, raw HTTP requests that no client library
// normalises, and the resident memory of the process. POSIX/Linux only.

#include "process.hpp"
#include "test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace charter::testing {

class ChildProcess {
public:
    /// Starts `argv` with the current environment plus `env` (an empty value unsets); its
    /// stdout and stderr go to `log_prefix`.out and .err.
    ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> const& env, std::string const& log_prefix)
        : m_out_path(log_prefix + ".out")
        , m_err_path(log_prefix + ".err")
    {
        // Everything is prepared before fork(): the child only opens, dups and execs.
        ChildEnvironment environment(env);
        auto args = exec_arguments(argv);
        m_pid = fork();
        if (m_pid < 0)
            throw std::runtime_error("fork failed");
        if (m_pid == 0) {
            int in = open("/dev/null", O_RDONLY);
            int out = open(m_out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            int err = open(m_err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (in < 0 || out < 0 || err < 0)
                _exit(126);
            dup2(in, 0);
            dup2(out, 1);
            dup2(err, 2);
            execve(args[0], args.data(), environment.envp());
            _exit(127);
        }
    }

    ~ChildProcess() { stop(); }
    ChildProcess(ChildProcess const&) = delete;
    ChildProcess& operator=(ChildProcess const&) = delete;

    /// SIGTERM, then SIGKILL after 10 s; returns the exit code (128 + signal when killed), the
    /// one it had when it has ended already (-1 when it never ran).
    int stop()
    {
        if (m_pid <= 0)
            return m_exit_code;
        kill(m_pid, SIGTERM);
        int status = 0;
        for (int i = 0; i < 1000; ++i) {
            if (waitpid(m_pid, &status, WNOHANG) == m_pid)
                return finished(status);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return kill_hard();
    }

    /// SIGKILL: no handler runs, nothing is flushed. Returns the exit code (128 + 9 when the
    /// signal ended it).
    int kill_hard()
    {
        if (m_pid <= 0)
            return m_exit_code;
        kill(m_pid, SIGKILL);
        int status = 0;
        waitpid(m_pid, &status, 0);
        return finished(status);
    }

    /// Waits for it to exit by itself; returns the exit code (128 + signal when killed).
    int wait()
    {
        if (m_pid <= 0)
            return m_exit_code;
        int status = 0;
        waitpid(m_pid, &status, 0);
        return finished(status);
    }

    bool running()
    {
        int status = 0;
        if (m_pid > 0 && waitpid(m_pid, &status, WNOHANG) == m_pid)
            finished(status);
        return m_pid > 0;
    }

    pid_t pid() const { return m_pid; }
    std::string const& out_path() const { return m_out_path; }
    std::string out() const { return read_text(m_out_path); }
    std::string err() const { return read_text(m_err_path); }

    /// Waits (up to 60 s) for a line of stdout matching `pattern`; returns its first group.
    std::optional<std::string> wait_for_line(std::regex const& pattern)
    {
        for (int i = 0; i < 6000 && running(); ++i) {
            std::istringstream in(out());
            std::string line;
            std::smatch match;
            while (std::getline(in, line)) {
                if (std::regex_search(line, match, pattern))
                    return match.size() > 1 ? match[1].str() : match[0].str();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return std::nullopt;
    }

    /// Resident memory in KiB (VmRSS of /proc/PID/status).
    int64_t rss_kib() const { return status_field("VmRSS:"); }
    /// The peak of the resident memory in KiB (VmHWM).
    int64_t peak_rss_kib() const { return status_field("VmHWM:"); }

private:
    int finished(int status)
    {
        m_pid = -1;
        m_exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return m_exit_code;
    }

    int64_t status_field(std::string const& name) const
    {
        std::ifstream in("/proc/" + std::to_string(m_pid) + "/status");
        std::string line;
        while (std::getline(in, line)) {
            if (line.starts_with(name))
                return std::stoll(line.substr(name.size()));
        }
        return -1;
    }

    std::string m_out_path;
    std::string m_err_path;
    pid_t m_pid { -1 };
    int m_exit_code { -1 };
};

/// A loopback port that was free a moment ago (for programs that cannot listen on port 0).
inline int free_loopback_port()
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0
        || getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        throw std::runtime_error("no free loopback port");
    close(fd);
    return ntohs(address.sin_port);
}

inline bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_port = htons(uint16_t(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool connected = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (fd >= 0)
        close(fd);
    return connected;
}

/// A TCP connection to 127.0.0.1:`port`, from `source` (any 127/8 address) when given, for
/// requests no client library would send: one after another on the same socket, or bytes
/// until the server closes.
class RawConnection {
public:
    explicit RawConnection(int port, std::string const& source = {})
    {
        m_fd = socket(AF_INET, SOCK_STREAM, 0);
        if (m_fd < 0)
            throw std::runtime_error("socket failed");
        timeval timeout { 60, 0 };
        setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        if (!source.empty()) {
            sockaddr_in local {};
            local.sin_family = AF_INET;
            inet_pton(AF_INET, source.c_str(), &local.sin_addr);
            if (bind(m_fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
                close(m_fd);
                throw std::runtime_error("cannot bind to " + source);
            }
        }
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_port = htons(uint16_t(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            close(m_fd);
            throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
        }
    }
    ~RawConnection() { close(m_fd); }
    RawConnection(RawConnection const&) = delete;
    RawConnection& operator=(RawConnection const&) = delete;

    int fd() const { return m_fd; }

    /// The client side's port.
    int local_port() const
    {
        sockaddr_in address {};
        socklen_t size = sizeof address;
        getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &size);
        return ntohs(address.sin_port);
    }

    /// False when the server closed the connection before taking it all.
    bool send_all(std::string const& bytes)
    {
        for (size_t sent = 0; sent < bytes.size();) {
            ssize_t n = ::send(m_fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            sent += size_t(n);
        }
        return true;
    }

    /// One response (headers, then a body of its Content-Length); empty when the connection
    /// closed first.
    std::string read_response()
    {
        size_t end;
        while ((end = m_pending.find("\r\n\r\n")) == std::string::npos) {
            if (!receive())
                return {};
        }
        size_t length = 0;
        static std::regex const content_length("\r\nContent-Length: *([0-9]+)", std::regex::icase);
        std::smatch match;
        auto headers = m_pending.substr(0, end);
        if (std::regex_search(headers, match, content_length))
            length = std::stoul(match[1]);
        while (m_pending.size() < end + 4 + length) {
            if (!receive())
                return {};
        }
        auto response = m_pending.substr(0, end + 4 + length);
        m_pending.erase(0, response.size());
        return response;
    }

    /// Everything the server sends until it closes the connection (or 60 s pass).
    std::string read_to_end()
    {
        while (receive()) { }
        return std::exchange(m_pending, {});
    }

    /// Everything the server sends until it closes the connection, or until `timeout_ms`
    /// passes without a byte; `closed` tells which.
    std::string read_until_close(int timeout_ms, bool& closed)
    {
        closed = false;
        for (;;) {
            pollfd fd { m_fd, POLLIN, 0 };
            if (poll(&fd, 1, timeout_ms) <= 0)
                return std::exchange(m_pending, {});
            if (!receive()) {
                closed = true;
                return std::exchange(m_pending, {});
            }
        }
    }

    /// The status code of the first response in `data`, 0 when there is none.
    static int status_of(std::string const& data)
    {
        if (!data.starts_with("HTTP/1.1 ") || data.size() < 12)
            return 0;
        return std::stoi(data.substr(9, 3));
    }

private:
    bool receive()
    {
        char buffer[65536];
        ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
        if (n <= 0)
            return false;
        m_pending.append(buffer, size_t(n));
        return true;
    }

    int m_fd { -1 };
    std::string m_pending;
};

/// Sends `request` as is over a new loopback connection and returns everything the server
/// sends until it closes the connection (or 60 s pass). The request should ask for
/// `Connection: close`.
inline std::string raw_http(int port, std::string const& request)
{
    RawConnection connection(port);
    connection.send_all(request);
    return connection.read_to_end();
}

}
