#pragma once
// The real charter-server for the robustness tests (crash safety, hostile clients): a vendor's
// data directory made with the CLI, the server started as a child on 127.0.0.1 with an
// ephemeral port and stopped by the test whatever happens (SIGTERM, then SIGKILL), and raw
// sockets for requests no client library would send. POSIX/Linux only.

#include "process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace charter::testing {

// Variables that would change what the CLI or the server does, cleared for every child.
inline std::map<std::string, std::string> const clean_env { { "CHARTER_PASSPHRASE", "" }, { "CHARTER_DATA_DIR", "" },
    { "CHARTER_LISTEN", "" }, { "CHARTER_THREADS", "" }, { "CHARTER_TLS_CERT", "" }, { "CHARTER_TLS_KEY", "" },
    { "CHARTER_MAX_BODY", "" }, { "CHARTER_READ_TIMEOUT", "" }, { "CHARTER_AUTH_FAILURE_LIMIT", "" },
    { "CHARTER_MAX_UPLOAD", "" }, { "CHARTER_ACCEL_REDIRECT", "" }, { "CHARTER_NOW", "" }, { "NO_COLOR", "1" } };

inline std::string trimmed(std::string text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
    return text;
}

inline bool contains(std::string const& text, std::string const& part) { return text.find(part) != std::string::npos; }

inline std::string read_text(std::string const& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// `charter --data-dir DIR ARGS...`, with `env` set over the clean environment
/// (CHARTER_PASSPHRASE, for one).
inline ProcessResult charter_cli(std::string const& data_dir, std::vector<std::string> args,
    std::map<std::string, std::string> const& env = {})
{
    args.insert(args.begin(), { CHARTER_CLI_PATH, "--data-dir", data_dir });
    auto variables = env;
    variables.insert(clean_env.begin(), clean_env.end());
    return run_process(args, variables);
}

/// `sqlite3 DB SQL`, its stdout.
inline std::string sql(std::string const& data_dir, std::string const& statement)
{
    return run_process({ "/usr/bin/sqlite3", data_dir + "/charter.db", statement }).out;
}

/// A data directory with product acme-pro, customer jane@example.com and an admin token; the
/// first signing key is wrapped when `env` has CHARTER_PASSPHRASE.
inline std::string make_vendor(std::string const& data_dir, std::map<std::string, std::string> const& env = {})
{
    for (auto const& args : std::vector<std::vector<std::string>> { { "init", "--issuer", "Acme Inc." },
             { "product", "add", "acme-pro", "--name", "Acme Pro" }, { "customer", "add", "--email", "jane@example.com", "--name", "Jane Doe" } }) {
        auto result = charter_cli(data_dir, args, env);
        if (result.exit_code != 0)
            throw std::runtime_error("charter " + args[0] + " failed: " + result.err);
    }
    auto token = charter_cli(data_dir, { "token", "create", "--scope", "admin" });
    if (token.exit_code != 0)
        throw std::runtime_error("charter token create failed: " + token.err);
    return trimmed(token.out);
}

/// charter-server on 127.0.0.1:0 as a child; stdout and stderr in files under `log_dir`;
/// `env` set over the clean environment.
class ServerChild {
public:
    ServerChild(std::string const& data_dir, std::string const& log_dir, std::vector<std::string> extra = {},
        std::map<std::string, std::string> const& env = {})
    {
        auto variables = env;
        variables.insert(clean_env.begin(), clean_env.end());
        static int counter = 0;
        m_out_path = log_dir + "/server-" + std::to_string(++counter) + ".out";
        m_err_path = log_dir + "/server-" + std::to_string(counter) + ".err";
        std::vector<std::string> argv { CHARTER_SERVER_PATH, "--data-dir", data_dir, "--listen", "127.0.0.1:0" };
        argv.insert(argv.end(), extra.begin(), extra.end());
        std::vector<char*> args;
        for (auto& arg : argv)
            args.push_back(arg.data());
        args.push_back(nullptr);
        m_pid = fork();
        if (m_pid < 0)
            throw std::runtime_error("fork failed");
        if (m_pid == 0) {
            for (auto const& [name, value] : variables) {
                if (value.empty())
                    unsetenv(name.c_str());
                else
                    setenv(name.c_str(), value.c_str(), 1);
            }
            int out = open(m_out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            int err = open(m_err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            int in = open("/dev/null", O_RDONLY);
            if (out < 0 || err < 0 || in < 0)
                _exit(126);
            dup2(in, 0);
            dup2(out, 1);
            dup2(err, 2);
            execv(args[0], args.data());
            _exit(127);
        }
        static std::regex const listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
        for (int i = 0; i < 6000; ++i) {
            std::smatch match;
            std::string first = read_text(m_out_path);
            if (auto end = first.find('\n'); end != std::string::npos) {
                first.resize(end);
                if (!std::regex_search(first, match, listening))
                    throw std::runtime_error("unexpected first line: " + first);
                m_port = std::stoi(match[1].str());
                return;
            }
            int status = 0;
            if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
                m_pid = -1;
                throw std::runtime_error("charter-server exited before listening: " + read_text(m_err_path));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        throw std::runtime_error("charter-server did not listen within 60 s");
    }
    ~ServerChild() { stop(); }
    ServerChild(ServerChild const&) = delete;
    ServerChild& operator=(ServerChild const&) = delete;

    int port() const { return m_port; }
    std::string out() const { return read_text(m_out_path); }
    std::string err() const { return read_text(m_err_path); }

    bool running()
    {
        int status = 0;
        if (m_pid > 0 && waitpid(m_pid, &status, WNOHANG) == m_pid)
            m_pid = -1;
        return m_pid > 0;
    }

    /// SIGKILL: no handler runs, nothing is flushed.
    void kill_hard()
    {
        if (m_pid <= 0)
            return;
        ::kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
        m_pid = -1;
    }

    /// SIGTERM, then SIGKILL after 10 s.
    void stop()
    {
        if (m_pid <= 0)
            return;
        ::kill(m_pid, SIGTERM);
        for (int i = 0; i < 1000; ++i) {
            if (waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
                m_pid = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        kill_hard();
    }

private:
    pid_t m_pid { -1 };
    int m_port { 0 };
    std::string m_out_path, m_err_path;
};

/// A TCP connection to 127.0.0.1:`port`, from `source` (any 127/8 address) when given.
class RawConnection {
public:
    RawConnection(int port, std::string const& source = {})
    {
        m_fd = socket(AF_INET, SOCK_STREAM, 0);
        if (m_fd < 0)
            throw std::runtime_error("socket failed");
        if (!source.empty()) {
            sockaddr_in local {};
            local.sin_family = AF_INET;
            inet_pton(AF_INET, source.c_str(), &local.sin_addr);
            if (bind(m_fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
                throw std::runtime_error("cannot bind to " + source);
        }
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_port = htons(uint16_t(port));
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
        if (connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
            throw std::runtime_error("connect failed");
    }
    ~RawConnection()
    {
        if (m_fd >= 0)
            close(m_fd);
    }
    RawConnection(RawConnection const&) = delete;
    RawConnection& operator=(RawConnection const&) = delete;

    /// False when the peer has closed (EPIPE/ECONNRESET).
    bool send_all(std::string const& data)
    {
        size_t sent = 0;
        while (sent < data.size()) {
            ssize_t n = ::send(m_fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            sent += size_t(n);
        }
        return true;
    }

    /// Everything the server sends until it closes the connection, or until `timeout_ms`
    /// passes without a byte; `closed` tells which.
    std::string read_until_close(int timeout_ms, bool& closed)
    {
        std::string data;
        closed = false;
        for (;;) {
            pollfd fd { m_fd, POLLIN, 0 };
            if (poll(&fd, 1, timeout_ms) <= 0)
                return data;
            char buffer[16384];
            ssize_t n = recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                closed = true;
                return data;
            }
            data.append(buffer, size_t(n));
        }
    }

    /// The status code of the first response in `data`, 0 when there is none.
    static int status_of(std::string const& data)
    {
        if (!data.starts_with("HTTP/1.1 ") || data.size() < 12)
            return 0;
        return std::stoi(data.substr(9, 3));
    }

    int fd() const { return m_fd; }

private:
    int m_fd { -1 };
};

}
