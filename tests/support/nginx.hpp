#pragma once
// The production front, for real: Debian's nginx on loopback running a configuration made from
// the shipped docs/deploy/ files (placeholders filled in with temporary paths and free ports),
// with a certificate made by the openssl CLI, so customers' requests go over HTTPS. Needs
// NGINX_PATH, NGINX_MODULES_PATH and OPENSSL_PATH defined by the test's target. Stopped with the test.

#include "child_process.hpp"
#include "process.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace charter::testing {

inline std::string replace_all(std::string text, std::string const& from, std::string const& to)
{
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

/// A file of docs/deploy/.
inline std::string deploy_file(std::string const& name)
{
    auto text = read_file(std::string(CHARTER_SOURCE_DIR) + "/docs/deploy/" + name);
    REQUIRE_FALSE(text.empty());
    return text;
}

/// docs/deploy/nginx.conf with its `upstream charter { … }` block replaced by the one of
/// docs/deploy/nginx-upstream.conf (several charter-servers), as docs/operations.md says to.
inline std::string several_servers_nginx_config()
{
    auto config = deploy_file("nginx.conf");
    auto upstream = deploy_file("nginx-upstream.conf");
    auto start = config.find("    upstream charter {");
    REQUIRE(start != std::string::npos);
    auto end = config.find("\n    }\n", start);
    REQUIRE(end != std::string::npos);
    auto block_start = upstream.find("\nupstream charter {");
    REQUIRE(block_start != std::string::npos);
    config.replace(start, end + std::string_view("\n    }\n").size() - start, "    " + upstream.substr(block_start + 1));
    return config;
}

/// The CHARTER_* settings of the shipped systemd unit (its `Environment=NAME=VALUE` lines), on
/// top of `env`: charter-server runs as the unit runs it behind nginx.
inline std::map<std::string, std::string> unit_env(std::map<std::string, std::string> env)
{
    std::istringstream unit(deploy_file("charter-server.service"));
    std::string line;
    int settings = 0;
    while (std::getline(unit, line)) {
        if (!line.starts_with("Environment=CHARTER_"))
            continue;
        auto assignment = line.substr(std::string_view("Environment=").size());
        auto equals = assignment.find('=');
        REQUIRE(equals != std::string::npos);
        env[assignment.substr(0, equals)] = assignment.substr(equals + 1);
        ++settings;
    }
    REQUIRE(settings > 0);
    return env;
}

/// nginx running `config` (an nginx.conf text with ${CHARTER_…} placeholders) with `values`
/// filled in; in the foreground (daemon off) with every path in `dir`.
class Nginx {
public:
    Nginx(std::string const& dir, std::string config, std::map<std::string, std::string> values)
    {
        values["CHARTER_NGINX_USER"] = "root";
        values["CHARTER_NGINX_RUN"] = dir;
        values["CHARTER_NGINX_LOGS"] = dir;
        values["CHARTER_NGINX_STATE"] = dir;
        values["CHARTER_NGINX_MODULES"] = NGINX_MODULES_PATH;
        for (auto const& [name, value] : values)
            config = replace_all(config, "${" + name + "}", value);
        // Every placeholder outside the comments was known.
        std::istringstream lines(config);
        for (std::string line; std::getline(lines, line);) {
            if (auto start = line.find_first_not_of(' '); start != std::string::npos && line[start] != '#')
                CHECK_FALSE(contains(line, "${"));
        }
        auto path = dir + "/nginx.conf";
        write_file(path, config);
        auto checked = run_process({ NGINX_PATH, "-t", "-q", "-p", dir + "/", "-c", path });
        INFO("nginx -t: " << checked.err);
        REQUIRE(checked.exit_code == 0);
        m_process.emplace(std::vector<std::string> { NGINX_PATH, "-p", dir + "/", "-c", path, "-g", "daemon off;" },
            std::map<std::string, std::string> {}, dir + "/nginx");
        m_error_log = dir + "/error.log";
        m_access_log = dir + "/access.log";
    }

    /// Waits until `port` accepts connections; false when nginx exited (a port taken meanwhile).
    bool wait_until_listening(int port)
    {
        for (int i = 0; i < 3000; ++i) {
            if (!m_process->running())
                return false;
            if (port_accepts(port))
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    std::string error_log() const { return read_text(m_error_log) + m_process->err(); }
    std::string access_log() const { return read_text(m_access_log); }

    ChildProcess& process() { return *m_process; }

private:
    std::optional<ChildProcess> m_process;
    std::string m_error_log;
    std::string m_access_log;
};

/// nginx over HTTPS on loopback with a self-signed certificate for 127.0.0.1 (made by the
/// openssl CLI in `dir`): `config` with `values` and the listening addresses, certificate and
/// server name filled in.
class HttpsFront {
public:
    HttpsFront(std::string const& dir, std::string const& config, std::map<std::string, std::string> values)
        : m_cert(dir + "/cert.pem")
    {
        std::filesystem::create_directories(dir);
        auto key = dir + "/key.pem";
        auto made = run_process({ OPENSSL_PATH, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", key, "-out", m_cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
            "subjectAltName=IP:127.0.0.1" });
        INFO("openssl: " << made.err);
        REQUIRE(made.exit_code == 0);
        values["CHARTER_SERVER_NAME"] = "localhost";
        values["CHARTER_TLS_CERT"] = m_cert;
        values["CHARTER_TLS_KEY"] = key;
        // nginx cannot listen on port 0; a port free a moment ago may be taken before nginx
        // binds it, so try a few.
        for (int attempt = 0; attempt < 5 && !m_nginx; ++attempt) {
            // Bundler takes a failure whose message (URL included) contains "401" or "403" for a
            // bad credential and hides the reason (bundler/fetcher/index.rb): no such digits in
            // the port.
            do
                m_https_port = free_loopback_port();
            while (contains(std::to_string(m_https_port), "401") || contains(std::to_string(m_https_port), "403"));
            m_http_port = free_loopback_port();
            values["CHARTER_HTTPS_LISTEN"] = "127.0.0.1:" + std::to_string(m_https_port);
            values["CHARTER_HTTP_LISTEN"] = "127.0.0.1:" + std::to_string(m_http_port);
            auto nginx_dir = dir + "/nginx-" + std::to_string(attempt);
            std::filesystem::create_directories(nginx_dir);
            m_nginx.emplace(nginx_dir, config, values);
            if (!m_nginx->wait_until_listening(m_https_port)) {
                WARN("nginx did not start (attempt " << attempt + 1 << "): " << m_nginx->error_log());
                m_nginx.reset();
            }
        }
        REQUIRE(m_nginx);
    }

    int https_port() const { return m_https_port; }
    int http_port() const { return m_http_port; }
    std::string const& cert() const { return m_cert; }
    Nginx& nginx() { return *m_nginx; }
    Nginx const& nginx() const { return *m_nginx; }

    /// An HTTPS client of the front that trusts its certificate.
    std::unique_ptr<httplib::SSLClient> client() const
    {
        auto client = std::make_unique<httplib::SSLClient>("127.0.0.1", m_https_port);
        client->set_ca_cert_path(m_cert.c_str());
        client->enable_server_certificate_verification(true);
        client->set_connection_timeout(10, 0);
        client->set_read_timeout(60, 0);
        client->set_write_timeout(60, 0);
        return client;
    }

private:
    std::string m_cert;
    int m_https_port { 0 };
    int m_http_port { 0 };
    std::optional<Nginx> m_nginx;
};

}
