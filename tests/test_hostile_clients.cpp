// Hostile clients (issue 8) against the real charter-server on 127.0.0.1: slow clients,
// malformed requests, huge headers, chunked and compressed bodies, bad text in JSON fields,
// SQL-looking names, path traversal, and a flood of wrong license keys. Raw sockets where a
// client library would clean the request up. After each, the server still answers /healthz.

#include "support/server_harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cctype>

using namespace charter::testing;
using Json = nlohmann::json;

namespace {

// The vendor fixture with its server running.
struct Running : Vendor {
    std::string const& admin = admin_token;
    std::unique_ptr<ServerChild> server;

    explicit Running(std::vector<std::string> extra = { "--threads", "4" })
    {
        server = std::make_unique<ServerChild>(data_dir, temp.path(), extra);
    }
    int port() const { return server->port(); }

    /// Sends `request` raw and returns what the server answered before closing (or going quiet
    /// for 5 s).
    std::string raw(std::string const& request, bool* closed = nullptr) const
    {
        RawConnection connection(port());
        connection.send_all(request);
        bool was_closed = false;
        auto answer = connection.read_until_close(5000, was_closed);
        if (closed)
            *closed = was_closed;
        return answer;
    }

    bool healthy() const
    {
        httplib::Client client("127.0.0.1", port());
        auto result = client.Get("/healthz");
        return result && result->status == 200;
    }

    std::string admin_post(std::string const& path, std::string const& body) const
    {
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin
            + "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    }
};

std::string body_of(std::string const& response)
{
    auto end = response.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : response.substr(end + 4);
}

std::string issue_license(std::string const& data_dir)
{
    return trimmed(charter_cli(data_dir, { "issue", "--product", "acme-pro", "--customer", "jane@example.com" }).out);
}

// An HTTP Basic credential with the license key as the password.
std::string basic_credentials(std::string const& key)
{
    static char const alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string in = "user:" + key, out = "Basic ";
    for (size_t i = 0; i < in.size(); i += 3) {
        uint32_t n = uint32_t(uint8_t(in[i])) << 16;
        if (i + 1 < in.size())
            n |= uint32_t(uint8_t(in[i + 1])) << 8;
        if (i + 2 < in.size())
            n |= uint32_t(uint8_t(in[i + 2]));
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += i + 1 < in.size() ? alphabet[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? alphabet[n & 63] : '=';
    }
    return out;
}

std::string percent_encoded(std::string const& text)
{
    static char const hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += char(c);
            continue;
        }
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

}

// Cases tagged [http] test the HTTP layer alone, whatever the database: they run in the SQLite
// run only (tests/CMakeLists.txt).

// cpp-httplib 0.11.4's read timeout bounds each read, not the request, so a client sending a
// byte every 200 ms would hold a worker thread for ever; GuardedServer gives each request one
// read timeout in all (for a connection's first request, counted from its accept).
TEST_CASE("64 slow clients trickling headers do not keep a normal request from being answered", "[http]")
{
    Running running({ "--threads", "8", "--read-timeout", "2" });
    int const slow_count = 64;
    std::vector<std::unique_ptr<RawConnection>> slow;
    for (int i = 0; i < slow_count; ++i)
        slow.push_back(std::make_unique<RawConnection>(running.port()));
    std::string const trickle = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(4000, 'a');
    auto started = std::chrono::steady_clock::now();
    std::atomic<bool> done { false };
    std::atomic<int> closed_by_server { 0 };
    std::atomic<int64_t> last_cut_ms { 0 };
    // One thread feeds every slow connection one byte per ~200 ms; a connection the server has
    // closed (EOF or an answer waiting) is counted instead.
    std::thread feeder([&] {
        std::vector<bool> open(slow.size(), true);
        for (size_t position = 0; position < trickle.size() && !done; ++position) {
            for (size_t i = 0; i < slow.size(); ++i) {
                if (!open[i])
                    continue;
                pollfd fd { slow[i]->fd(), POLLIN, 0 };
                bool peer_closed = poll(&fd, 1, 0) > 0;
                if (peer_closed || !slow[i]->send_all(trickle.substr(position, 1))) {
                    open[i] = false;
                    ++closed_by_server;
                    last_cut_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
                }
            }
            if (closed_by_server == int(slow.size()))
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    });
    // Let the slow clients take every worker thread first.
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    httplib::Client client("127.0.0.1", running.port());
    client.set_read_timeout(15, 0);
    auto asked = std::chrono::steady_clock::now();
    auto result = client.Get("/healthz");
    auto answer_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - asked).count();
    bool answered = result && result->status == 200;
    // Wait (bounded) for the server to cut the slow connections.
    for (int i = 0; i < 100 && closed_by_server < slow_count; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    done = true;
    feeder.join();
    CHECK(answered);
    CHECK(closed_by_server == slow_count);
    CHECK(running.healthy());
    WARN("hostile (slow clients): " << slow_count << " clients trickling 1 byte/200 ms against 8 threads and a 2 s read timeout; "
                                    << closed_by_server.load() << " cut by the server, the last " << last_cut_ms.load()
                                    << " ms after they connected; normal request sent 1 s after them answered: " << answered
                                    << ", in " << answer_ms << " ms");
}

TEST_CASE("a request head still arriving after --read-timeout gets 408 and the connection closes", "[http]")
{
    Running running({ "--threads", "2", "--read-timeout", "1" });
    RawConnection connection(running.port());
    REQUIRE(connection.send_all("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    // Keep sending a header, a byte at a time, until the server answers or closes.
    std::string answer;
    bool closed = false;
    std::string const header = "X-Slow: " + std::string(200, 'a');
    for (size_t i = 0; i < header.size() && !closed && answer.empty(); ++i) {
        if (!connection.send_all(header.substr(i, 1)))
            break;
        answer = connection.read_until_close(100, closed);
    }
    if (!closed)
        answer += connection.read_until_close(5000, closed);
    INFO(answer.substr(0, 400));
    CHECK(RawConnection::status_of(answer) == 408);
    CHECK(Json::parse(body_of(answer)).at("error").at("code") == "request_timeout");
    CHECK(contains(answer, "Connection: close"));
    CHECK(closed);
    CHECK(running.healthy());
}

TEST_CASE("a complete request that waited behind a slow upload longer than --read-timeout is still served", "[http]")
{
    // One thread: an upload whose body trickles for longer than the read timeout keeps it (an
    // upload's body has --upload-timeout, 600 s here), while a whole request waits in the queue.
    Running running({ "--threads", "1", "--read-timeout", "1" });
    std::string const body(16, 'x');
    RawConnection upload(running.port());
    REQUIRE(upload.send_all("POST /v1/products/acme-pro/releases?version=1.0&filename=a.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + running.admin + "\r\nContent-Type: application/octet-stream\r\nConnection: close\r\nContent-Length: "
        + std::to_string(body.size()) + "\r\n\r\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    RawConnection waiting(running.port());
    REQUIRE(waiting.send_all("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    for (char byte : body) {
        REQUIRE(upload.send_all(std::string(1, byte)));
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
    bool closed = false;
    auto uploaded = upload.read_until_close(10000, closed);
    INFO(uploaded.substr(0, 400));
    CHECK(RawConnection::status_of(uploaded) == 201);
    auto served = waiting.read_until_close(10000, closed);
    INFO(served.substr(0, 400));
    CHECK(RawConnection::status_of(served) == 200);
    CHECK(running.healthy());
}

// Issue 12 item 21: 20 strangers posting 1 GB "releases" a byte at a time held every worker
// (the body was read to its end before the answer), and /healthz went unanswered.
TEST_CASE("unauthenticated uploads trickling a huge body are refused before their body is read", "[http]")
{
    Running running({ "--threads", "4", "--read-timeout", "5" });
    int const count = 20;
    std::vector<std::unique_ptr<RawConnection>> uploads;
    for (int i = 0; i < count; ++i) {
        uploads.push_back(std::make_unique<RawConnection>(running.port()));
        std::string authorization = i % 2 == 0 ? "" : "Authorization: Bearer chrt_not-a-token\r\n";
        REQUIRE(uploads.back()->send_all("POST /v1/products/acme-pro/releases?version=1.0&filename=a.bin HTTP/1.1\r\nHost: x\r\n"
            + authorization + "Content-Type: application/octet-stream\r\nContent-Length: 1000000000\r\n\r\nx"));
    }
    // Each keeps sending a byte every 500 ms (well within --read-timeout) while it is open, for
    // at most 30 s.
    std::atomic<bool> done { false };
    std::thread feeder([&] {
        for (int round = 0; round < 60 && !done; ++round) {
            for (auto& upload : uploads) {
                pollfd fd { upload->fd(), POLLIN, 0 };
                if (poll(&fd, 1, 0) == 0)
                    upload->send_all("x");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    });
    httplib::Client client("127.0.0.1", running.port());
    client.set_read_timeout(10, 0);
    auto health = client.Get("/healthz");
    int refused = 0;
    for (auto& upload : uploads) {
        bool closed = false;
        auto answer = upload->read_until_close(10000, closed);
        INFO(answer.substr(0, 300));
        if (RawConnection::status_of(answer) == 401 && closed && contains(answer, "Connection: close"))
            ++refused;
    }
    done = true;
    feeder.join();
    REQUIRE(health);
    CHECK(health->status == 200);
    CHECK(refused == count);
    CHECK(running.healthy());
}

// The rest of issue 12 item 21: an authorised upload's body has an overall deadline too.
TEST_CASE("an upload body trickling past --upload-timeout gets 408 and the connection closes", "[http]")
{
    Running running({ "--threads", "2", "--read-timeout", "5", "--upload-timeout", "2" });
    RawConnection upload(running.port());
    REQUIRE(upload.send_all("POST /v1/products/acme-pro/releases?version=1.0&filename=a.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + running.admin + "\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n"));
    // A byte every 200 ms: no read waits long, but 1,000 bytes would take 200 s.
    std::string answer;
    bool closed = false;
    for (int sent = 0; sent < 150 && answer.empty() && !closed; ++sent) {
        if (!upload.send_all("x"))
            break;
        answer = upload.read_until_close(200, closed);
    }
    if (!closed)
        answer += upload.read_until_close(5000, closed);
    INFO(answer.substr(0, 400));
    CHECK(RawConnection::status_of(answer) == 408);
    CHECK(contains(body_of(answer), "--upload-timeout"));
    CHECK(closed);
    CHECK(sql(running.data_dir, "SELECT count(*) FROM releases;") == "0\n");
    CHECK(running.healthy());
}

// Issue 12 item 19: cpp-httplib answered 416 to any Range it could not parse, on every route,
// before the route ran. RFC 9110 14.2: Range is ignored on methods other than GET, and an
// invalid one is ignored.
TEST_CASE("a Range header that does not parse, or on a method other than GET, is ignored", "[http]")
{
    Running running;
    auto license = issue_license(running.data_dir);
    std::vector<std::string> const invalid { "bytes=abc", "bytes=5-1", "bytes=", "bytes=0-1,", "items=0-1", "bytes=--1",
        "bytes=99999999999999999999-" };
    for (auto const& range : invalid) {
        INFO("Range: " << range);
        auto health = running.raw("GET /healthz HTTP/1.1\r\nHost: x\r\nRange: " + range + "\r\nConnection: close\r\n\r\n");
        CHECK(RawConnection::status_of(health) == 200);
        auto keys = running.raw("GET /v1/keys HTTP/1.1\r\nHost: x\r\nrange: " + range + "\r\nConnection: close\r\n\r\n");
        CHECK(RawConnection::status_of(keys) == 200);
        CHECK(Json::parse(body_of(keys), nullptr, false).is_object());
        std::string validate = R"({"product":"acme-pro","key":")" + license + "\"}";
        auto validated = running.raw("POST /v1/validate HTTP/1.1\r\nHost: x\r\nRange: " + range
            + "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + std::to_string(validate.size())
            + "\r\n\r\n" + validate);
        CHECK(RawConnection::status_of(validated) == 200);
    }
    // POST /v1/licenses with a bad Range, and with a good one (which does not apply to POST):
    // each issues its license, and the answer is the whole JSON.
    for (std::string range : { "bytes=abc", "bytes=0-5" }) {
        INFO("Range: " << range);
        std::string body = R"({"product":"acme-pro","customer":"jane@example.com"})";
        auto request = running.admin_post("/v1/licenses", body);
        request.insert(request.find("\r\n") + 2, "Range: " + range + "\r\n");
        auto issued = running.raw(request);
        CHECK(RawConnection::status_of(issued) == 201);
        auto json = Json::parse(body_of(issued), nullptr, false);
        REQUIRE(json.is_object());
        CHECK(std::string(json.value("key", "")).starts_with("v4.public."));
    }
    CHECK(sql(running.data_dir, "SELECT count(*) FROM licenses;") == "3\n");
    // A download: a bad Range gets the whole file; a good one still gets its part.
    auto file = running.temp / "notes.txt";
    {
        std::ofstream out(file);
        out << "0123456789";
    }
    REQUIRE(charter_cli(running.data_dir, { "release", "add", "--product", "acme-pro", "--version", "1.0", file }).exit_code == 0);
    auto download = [&](std::string const& range) {
        return running.raw("GET /downloads/acme-pro/1.0/notes.txt HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic_credentials(license)
            + "\r\nRange: " + range + "\r\nConnection: close\r\n\r\n");
    };
    auto whole = download("bytes=abc");
    CHECK(RawConnection::status_of(whole) == 200);
    CHECK(body_of(whole) == "0123456789");
    auto part = download("bytes=2-4");
    CHECK(RawConnection::status_of(part) == 206);
    CHECK(body_of(part) == "234");
    CHECK(running.healthy());
}

TEST_CASE("malformed request lines and headers: 400 or closed, the server stays healthy", "[http]")
{
    Running running;
    std::vector<std::string> malformed {
        "garbage\r\n\r\n",
        "\x01\x02\x03\xff\xfe\r\n\r\n",
        "GET /healthz\r\n\r\n", // no HTTP version
        "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET  HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n",
        "GET /healthz HTTP/1.1\r\n: empty name\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost x\r\nContent-Length: -1\r\n\r\n",
        "POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n{}",
        "POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        "POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad\x01Name: y\r\n\r\n",
        "GET /healthz HTTP/1.1\nHost: x\n\n", // bare LF
        [] {
            static constexpr char with_nul[] = "GET /heal\0thz HTTP/1.1\r\nHost: x\r\n\r\n";
            return std::string(with_nul, sizeof with_nul - 1);
        }(),
        "\r\n\r\n\r\n",
    };
    int refused = 0, closed_only = 0, other = 0;
    for (auto const& request : malformed) {
        bool closed = false;
        auto answer = running.raw(request, &closed);
        int status = RawConnection::status_of(answer);
        INFO("request: " << Json(request).dump(-1, ' ', true, Json::error_handler_t::replace) << " -> " << answer.substr(0, 200));
        CHECK(running.healthy());
        if (status == 0) {
            CHECK(closed);
            ++closed_only;
            continue;
        }
        if (status >= 400 && status < 500) {
            ++refused;
            continue;
        }
        ++other; // served as a normal request (e.g. bare LF line ends are tolerated): must be a valid answer
        CHECK(status == 200);
    }
    CHECK(running.server->running());
    WARN("hostile (malformed): " << malformed.size() << " malformed requests: " << refused << " refused with 4xx, " << closed_only
                                 << " closed without an answer, " << other << " tolerated and answered 200; server healthy after each");
}

TEST_CASE("a 1 MB header line is refused, the server stays healthy", "[http]")
{
    Running running;
    for (std::string const& request : { "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1 << 20, 'a') + "\r\n\r\n",
             "GET /" + std::string(1 << 20, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n" }) {
        bool closed = false;
        RawConnection connection(running.port());
        connection.send_all(request); // may fail part-way when the server closes early
        auto answer = connection.read_until_close(10000, closed);
        int status = RawConnection::status_of(answer);
        INFO(answer.substr(0, 300));
        CHECK((status == 431 || status == 400 || status == 414 || (status == 0 && closed)));
        CHECK(running.healthy());
    }
}

TEST_CASE("chunked bodies get 411, compressed bodies 415", "[http]")
{
    Running running;
    std::string chunked = "POST /v1/licenses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + running.admin
        + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
    auto answer = running.raw(chunked);
    CHECK(RawConnection::status_of(answer) == 411);
    CHECK(Json::parse(body_of(answer)).at("error").at("code") == "length_required");
    std::string gzip_body("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00\x43\xbf\xa6\xa3\x02\x00\x00\x00", 22);
    std::string gzipped = "POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: "
        + std::to_string(gzip_body.size()) + "\r\n\r\n" + gzip_body;
    answer = running.raw(gzipped);
    CHECK(RawConnection::status_of(answer) == 415);
    CHECK(Json::parse(body_of(answer)).at("error").at("code") == "unsupported_media_type");
    CHECK(running.healthy());
}

TEST_CASE("a POST without Content-Length has no body: answered without waiting for one", "[http]")
{
    Running running;
    // cpp-httplib 0.11.4 alone reads such a body until the client closes, with no size limit
    // (then the deadline would answer 408, or nothing).
    RawConnection connection(running.port());
    REQUIRE(connection.send_all("POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"));
    bool closed = false;
    auto answer = connection.read_until_close(10000, closed);
    INFO(answer.substr(0, 300));
    CHECK(RawConnection::status_of(answer) == 400);
    CHECK(running.healthy());
}

TEST_CASE("invalid UTF-8 and control characters in JSON fields: refused with a clear error or stored intact")
{
    Running running;
    struct Case {
        std::string path, body;
    };
    std::vector<Case> cases {
        { "/v1/customers", "{\"email\":\"a1@example.com\",\"name\":\"caf\xe9\"}" },
        { "/v1/customers", "{\"email\":\"a2@example.com\",\"name\":\"\xc3\x28\"}" },
        { "/v1/customers", "{\"email\":\"a3@example.com\",\"name\":\"\xed\xa0\x80\"}" }, // a UTF-16 surrogate
        { "/v1/customers", "{\"email\":\"a4@exam\xffple.com\"}" },
        { "/v1/customers", std::string("{\"email\":\"a5@example.com\",\"name\":\"nul\0in\"}", 41) },
        { "/v1/customers", "{\"email\":\"a6@example.com\",\"name\":\"tab\there\x01\"}" },
        { "/v1/customers", "{\"email\":\"a7@example.com\",\"name\":\"esc \\u0000\\u0001\\u001f\\ud800\"}" },
        { "/v1/customers", "{\"email\":\"a8@example.com\",\"name\":\"bell \\u0007 nul \\u0000\"}" },
        { "/v1/products", "{\"id\":\"p-one\",\"name\":\"Pro \xc0\xaf\"}" },
        { "/v1/products", "{\"id\":\"p-two\",\"name\":\"Pro \\u0000\\u001b[31m\"}" },
        { "/v1/licenses", "{\"product\":\"acme-pro\",\"customer\":\"jane@example.com\",\"name\":\"\xf8\x88\x80\x80\x80\"}" },
        { "/v1/licenses", "{\"product\":\"acme-pro\",\"customer\":\"jane@example.com\",\"name\":\"ctl \\u0001\\u007f\"}" },
    };
    int refused = 0, stored = 0;
    for (auto const& [path, body] : cases) {
        auto answer = running.raw(running.admin_post(path, body));
        int status = RawConnection::status_of(answer);
        INFO(path << " " << Json(body).dump(-1, ' ', true, Json::error_handler_t::replace) << " -> " << answer.substr(0, 400));
        REQUIRE(status != 0);
        CHECK(status < 500);
        auto json = Json::parse(body_of(answer)); // every answer is valid JSON (UTF-8)
        if (status == 400 || status == 422) {
            ++refused;
            CHECK(!json.at("error").at("message").get<std::string>().empty());
            continue;
        }
        CHECK(status == 201);
        ++stored;
        // Stored: returned as the same text it was sent as.
        auto sent = Json::parse(body);
        if (sent.contains("name"))
            CHECK(json.at("name") == sent.at("name"));
    }
    CHECK(running.healthy());
    // Every stored row is valid UTF-8 in the listing.
    httplib::Client client("127.0.0.1", running.port());
    for (auto const* path : { "/v1/customers", "/v1/products", "/v1/licenses" }) {
        auto listing = client.Get(path, { { "Authorization", "Bearer " + running.admin } });
        REQUIRE(listing);
        CHECK(listing->status == 200);
        CHECK_NOTHROW(Json::parse(listing->body));
    }
    CHECK(integrity_check(running.data_dir) == "ok\n");
    WARN("hostile (text): " << cases.size() << " bodies with invalid UTF-8 or control characters: " << refused << " refused (400/422), "
                            << stored << " stored and returned intact");
}

TEST_CASE("SQL-looking names are stored verbatim and do no harm")
{
    Running running;
    std::vector<std::string> names { "x'); DROP TABLE licenses;--", "Robert'); DELETE FROM customers; --", "\" OR 1=1 --",
        "a'||(select token from licenses)||'", "%' AND 1=1 --" };
    int64_t licenses_before = std::stoll(sql(running.data_dir, "select count(*) from licenses"));
    int i = 0;
    for (auto const& name : names) {
        ++i;
        auto customer = Json::parse(body_of(running.raw(running.admin_post("/v1/customers",
            Json { { "email", "sql" + std::to_string(i) + "@example.com" }, { "name", name } }.dump()))));
        CHECK(customer.at("name") == name);
        auto license_answer = running.raw(running.admin_post("/v1/licenses", Json { { "product", "acme-pro" },
            { "customer", customer.at("id") }, { "name", name } }.dump()));
        CHECK(RawConnection::status_of(license_answer) == 201);
        auto license = Json::parse(body_of(license_answer));
        CHECK(charter_cli(running.data_dir, { "verify", license.at("key").get<std::string>() }).exit_code == 0);
        // Looked up by the name-like value: nothing found, nothing broken.
        httplib::Client client("127.0.0.1", running.port());
        auto lookup = client.Get("/v1/customers/" + percent_encoded(name), { { "Authorization", "Bearer " + running.admin } });
        REQUIRE(lookup);
        CHECK(lookup->status == 404);
    }
    CHECK(sql(running.data_dir, "select count(*) from licenses") == std::to_string(licenses_before + int64_t(names.size())) + "\n");
    CHECK(sql(running.data_dir, "select count(*) from customers") == std::to_string(1 + names.size()) + "\n");
    CHECK(integrity_check(running.data_dir) == "ok\n");
    CHECK(running.healthy());
}

TEST_CASE("path traversal in download paths never serves a file outside artifacts/")
{
    Running running;
    std::string key = issue_license(running.data_dir);
    REQUIRE(key.starts_with("v4.public."));
    std::vector<std::string> paths { "/downloads/../../etc/passwd", "/downloads/%2e%2e/%2e%2e/etc/passwd",
        "/downloads/acme-pro/1.0/..%2F..%2F..%2F..%2Fetc%2Fpasswd", "/downloads/acme-pro/..%2f..%2f/passwd",
        "/downloads/acme-pro/1.0/passwd%00.gem", "/downloads/acme-pro/%2e%2e/%2e%2e", "/downloads/..%2F..%2F..%2Fetc/passwd/x",
        "/downloads/acme-pro/1.0/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/downloads/acme-pro/1.0/....//....//etc/passwd",
        "/downloads/%252e%252e/%252e%252e/etc/passwd", "/downloads/acme-pro/1.0/%5c..%5c..%5cetc%5cpasswd",
        "/v1/downloads/../../etc/passwd", "/rubygems/gems/..%2F..%2F..%2Fetc%2Fpasswd", "/downloads/acme-pro/1.0/..",
        "/downloads/acme-pro/1.0/%00" };
    std::map<int, int> statuses;
    for (auto const& path : paths) {
        auto answer = running.raw("GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic_credentials(key) + "\r\nConnection: close\r\n\r\n");
        int status = RawConnection::status_of(answer);
        INFO(path << " -> " << answer.substr(0, 300));
        ++statuses[status];
        CHECK(status >= 400);
        CHECK(!contains(answer, "root:"));
    }
    CHECK(running.healthy());
    std::string seen;
    for (auto const& [status, count] : statuses)
        seen += std::to_string(count) + "x" + std::to_string(status) + " ";
    WARN("hostile (traversal): " << paths.size() << " traversal paths with a valid key: " << seen << "; none served a file");
}

TEST_CASE("10,000 wrong license keys from one address are rate limited; another address is still served")
{
    int const limit = 20;
    Running running({ "--threads", "4", "--auth-failure-limit", std::to_string(limit) });
    std::string key = issue_license(running.data_dir);
    REQUIRE(key.starts_with("v4.public."));
    httplib::Client client("127.0.0.1", running.port());
    client.set_keep_alive(true);
    int const attempts = 10000;
    int unauthorized = 0, limited = 0, other = 0, first_limited = -1;
    bool retry_after_ok = true;
    for (int i = 0; i < attempts; ++i) {
        std::string wrong = "v4.public.wrong" + std::to_string(i);
        auto path = i % 2 ? "/v1/downloads" : "/downloads/acme-pro/1.0/acme-pro-1.0.gem";
        auto result = client.Get(path, { { "Authorization", basic_credentials(wrong) } });
        REQUIRE(result);
        if (result->status == 401) {
            ++unauthorized;
            continue;
        }
        if (result->status == 429) {
            if (first_limited < 0)
                first_limited = i;
            ++limited;
            auto retry_after = result->get_header_value("Retry-After");
            if (retry_after.empty() || std::stoi(retry_after) <= 0)
                retry_after_ok = false;
            continue;
        }
        ++other;
    }
    CHECK(first_limited == limit);
    CHECK(retry_after_ok);
    CHECK(other == 0);
    // The limiter's window is a minute: at most `limit` failures per minute get through. On a
    // loaded machine the loop may span a few minutes; still only a handful of the 10,000.
    CHECK(unauthorized < attempts / 20);
    CHECK(limited == attempts - unauthorized);
    // From 127.0.0.2, the same moment: the valid key is served, a wrong one is 401 (not 429).
    {
        RawConnection other_address(running.port(), "127.0.0.2");
        other_address.send_all("GET /v1/downloads HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic_credentials(key) + "\r\nConnection: close\r\n\r\n");
        bool closed = false;
        auto answer = other_address.read_until_close(10000, closed);
        INFO(answer.substr(0, 300));
        CHECK(RawConnection::status_of(answer) == 200);
    }
    {
        RawConnection other_address(running.port(), "127.0.0.2");
        other_address.send_all("GET /v1/downloads HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic_credentials("v4.public.nope")
            + "\r\nConnection: close\r\n\r\n");
        bool closed = false;
        CHECK(RawConnection::status_of(other_address.read_until_close(10000, closed)) == 401);
    }
    // The flooded address stays limited, even with the right key.
    auto still = client.Get("/v1/downloads", { { "Authorization", basic_credentials(key) } });
    REQUIRE(still);
    CHECK(still->status == 429);
    CHECK(running.healthy());
    WARN("hostile (wrong keys): " << attempts << " wrong keys from 127.0.0.1 with --auth-failure-limit " << limit << ": " << unauthorized
                                  << " answered 401, " << limited << " answered 429 (first at request " << first_limited + 1
                                  << "); 127.0.0.2 served normally at the same time");
}
