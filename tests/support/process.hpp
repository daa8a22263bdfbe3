#pragma once
// Runs a real program (the charter CLI, the server) the way a user would, capturing its
// exit code, stdout and stderr. POSIX only.

#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace charter::testing {

/// The environment of a child: this process's own plus `changes` (an empty value unsets),
/// built before fork() so that the child only dups and execs (setenv after fork is not
/// async-signal-safe).
class ChildEnvironment {
public:
    explicit ChildEnvironment(std::map<std::string, std::string> const& changes)
    {
        std::map<std::string, std::string> variables;
        for (char** entry = environ; *entry; ++entry) {
            std::string text = *entry;
            if (auto equals = text.find('='); equals != std::string::npos)
                variables[text.substr(0, equals)] = text.substr(equals + 1);
        }
        for (auto const& [name, value] : changes) {
            if (value.empty())
                variables.erase(name);
            else
                variables[name] = value;
        }
        for (auto const& [name, value] : variables)
            m_strings.push_back(name + "=" + value);
        for (auto& text : m_strings)
            m_pointers.push_back(text.data());
        m_pointers.push_back(nullptr);
    }
    ChildEnvironment(ChildEnvironment const&) = delete;
    ChildEnvironment& operator=(ChildEnvironment const&) = delete;

    char** envp() { return m_pointers.data(); }

private:
    std::vector<std::string> m_strings;
    std::vector<char*> m_pointers;
};

/// The environment changes for every CLI and server child: each CHARTER_* variable of this
/// process unset (so a new one needs no list kept here), and NO_COLOR=1.
inline std::map<std::string, std::string> clean_env()
{
    std::map<std::string, std::string> env { { "NO_COLOR", "1" } };
    for (char** entry = environ; *entry; ++entry) {
        std::string_view text = *entry;
        if (text.starts_with("CHARTER_"))
            env[std::string(text.substr(0, text.find('=')))] = "";
    }
    return env;
}

/// clean_env() with `env` set over it.
inline std::map<std::string, std::string> clean_env(std::map<std::string, std::string> const& env)
{
    auto variables = clean_env();
    for (auto const& [name, value] : env)
        variables[name] = value;
    return variables;
}

/// `argv` as execve wants it; `argv` must outlive the result.
inline std::vector<char*> exec_arguments(std::vector<std::string>& argv)
{
    std::vector<char*> args;
    for (auto& arg : argv)
        args.push_back(arg.data());
    args.push_back(nullptr);
    return args;
}

struct ProcessResult {
    int exit_code { -1 };
    std::string out;
    std::string err;
};

/// Runs `argv` with the current environment plus `env` (an empty value unsets), feeding
/// `input` on stdin, and waits for it.
inline ProcessResult run_process(std::vector<std::string> argv, std::map<std::string, std::string> const& env = {},
    std::string const& input = {})
{
    ChildEnvironment environment(env);
    auto args = exec_arguments(argv);
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe(in_pipe) || pipe(out_pipe) || pipe(err_pipe))
        throw std::runtime_error("pipe failed");
    pid_t pid = fork();
    if (pid < 0)
        throw std::runtime_error("fork failed");
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        for (int fd : { in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1] })
            close(fd);
        execve(args[0], args.data(), environment.envp());
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    signal(SIGPIPE, SIG_IGN);
    size_t written = 0;
    bool in_open = true;
    if (input.empty()) {
        close(in_pipe[1]);
        in_open = false;
    }
    ProcessResult result;
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        std::vector<pollfd> fds;
        if (out_open)
            fds.push_back({ out_pipe[0], POLLIN, 0 });
        if (err_open)
            fds.push_back({ err_pipe[0], POLLIN, 0 });
        if (in_open)
            fds.push_back({ in_pipe[1], POLLOUT, 0 });
        poll(fds.data(), fds.size(), -1);
        for (auto const& fd : fds) {
            if (!fd.revents)
                continue;
            if (fd.fd == in_pipe[1]) {
                ssize_t n = write(in_pipe[1], input.data() + written, input.size() - written);
                if (n > 0)
                    written += size_t(n);
                if (n < 0 || written == input.size()) {
                    close(in_pipe[1]);
                    in_open = false;
                }
                continue;
            }
            char buffer[65536];
            ssize_t n = read(fd.fd, buffer, sizeof buffer);
            if (n <= 0) {
                close(fd.fd);
                (fd.fd == out_pipe[0] ? out_open : err_open) = false;
                continue;
            }
            (fd.fd == out_pipe[0] ? result.out : result.err).append(buffer, size_t(n));
        }
    }
    if (in_open)
        close(in_pipe[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

/// A tmpfs of `size` (as mount(8) writes it: "4m") mounted on a new folder `path`, unmounted at
/// scope exit; needs root (the tests that use one are [root] cases, catch_main.cpp).
class MountedTmpfs {
public:
    MountedTmpfs(std::string path, std::string const& size)
        : m_path(std::move(path))
    {
        if (mkdir(m_path.c_str(), 0700) != 0 || mount("tmpfs", m_path.c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0)
            throw std::runtime_error("cannot mount a tmpfs on " + m_path);
    }
    ~MountedTmpfs() { umount2(m_path.c_str(), MNT_DETACH); }
    MountedTmpfs(MountedTmpfs const&) = delete;
    MountedTmpfs& operator=(MountedTmpfs const&) = delete;
    std::string const& path() const { return m_path; }

private:
    std::string m_path;
};

/// A fresh folder under /tmp, removed with its contents at scope exit.
class TempDir {
public:
    TempDir()
    {
        char pattern[] = "/tmp/charter-test-XXXXXX";
        char* made = mkdtemp(pattern);
        if (!made)
            throw std::runtime_error("mkdtemp failed");
        m_path = made;
    }
    ~TempDir()
    {
        std::string command = "chmod -R u+rwx '" + m_path + "' 2>/dev/null; rm -rf '" + m_path + "'";
        [[maybe_unused]] int ignored = std::system(command.c_str());
    }
    TempDir(TempDir const&) = delete;
    TempDir& operator=(TempDir const&) = delete;
    std::string const& path() const { return m_path; }
    std::string operator/(std::string const& name) const { return m_path + "/" + name; }

private:
    std::string m_path;
};

}
