#pragma once
// tests/support/smtp_sink.py (a real SMTP server on aiosmtpd) as a child of the test: started on
// 127.0.0.1 (an ephemeral port, or a given one to come back on), stopped whatever happens; the
// messages it accepted read back from its folder.

#include "child_process.hpp"
#include "test_support.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace charter::testing {

struct SunkMessage {
    std::string file;
    nlohmann::json envelope; // mail_from, rcpt_tos, message_id
    std::string data;        // the message as received
};

class SmtpSink {
public:
    /// `extra`: --temporary-failures N, --reject ADDRESS, --delay-ms N, --port P.
    SmtpSink(std::string dir, std::vector<std::string> extra = {})
        : m_dir(std::move(dir))
    {
        std::vector<std::string> argv { "/usr/bin/python3", CHARTER_SOURCE_DIR "/tests/support/smtp_sink.py", "--dir", m_dir };
        argv.insert(argv.end(), extra.begin(), extra.end());
        m_process = std::make_unique<ChildProcess>(argv, std::map<std::string, std::string> {}, m_dir + "-sink-" + std::to_string(++s_started));
        auto port = m_process->wait_for_line(std::regex("^port ([0-9]+)$"));
        if (!port)
            throw std::runtime_error("smtp_sink.py did not start: " + m_process->err());
        m_port = std::stoi(*port);
    }

    int port() const { return m_port; }
    std::string url() const { return "smtp://127.0.0.1:" + std::to_string(m_port); }
    void stop() { m_process->stop(); }

    std::vector<SunkMessage> messages() const
    {
        std::vector<SunkMessage> found;
        if (!std::filesystem::exists(m_dir))
            return found;
        for (auto const& entry : std::filesystem::directory_iterator(m_dir)) {
            auto path = entry.path();
            if (path.extension() != ".json")
                continue;
            auto eml = path;
            eml.replace_extension(".eml");
            if (!std::filesystem::exists(eml))
                continue;
            found.push_back({ path.stem().string(), nlohmann::json::parse(read_file(path.string())), read_file(eml.string()) });
        }
        std::sort(found.begin(), found.end(), [](auto const& a, auto const& b) { return a.file < b.file; });
        return found;
    }

    /// Waits (up to 60 s) until at least `count` messages arrived; returns them.
    std::vector<SunkMessage> wait_for(size_t count) const
    {
        for (int i = 0; i < 600; ++i) {
            auto found = messages();
            if (found.size() >= count)
                return found;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return messages();
    }

private:
    static inline int s_started = 0;
    std::string m_dir;
    std::unique_ptr<ChildProcess> m_process;
    int m_port { 0 };
};

}
