// acme-worker: a product whose license counts seats (docs/activations.md, docs/integrating.md
// "Seats: the activation mode"). It activates this machine with the license server at start,
// renews the seat's lease from a helper thread of its own, keeps working through a server outage
// up to the lease end plus a grace period (with a warning), stops working after it, recovers
// when the server is back, and releases the seat when it is stopped (SIGTERM or SIGINT).
//
// The HTTP client is libcurl (Debian: libcurl4-openssl-dev): libcharter-verify never touches
// the network; charter::Seat builds the requests and verifies the tokens, this program sends them.
//
//   export ACME_PRO_LICENSE=v4.public.…
//   acme-worker --server http://127.0.0.1:8080 --public-key k4.public.… --label "$(hostname)" --grace 3600
//       --fingerprint "$(cat /etc/machine-id)"
//
// It prints one line per event on stdout: "activated: …", "heartbeat: …", "state: valid|warning|
// refused: <message>" when the answer to "may I keep running" changes, "released" at exit.
// Exit status: 0 after a release, 1 when it could not start (no seat, no license, no server).
//
// A real product would embed its public keys (charter key export --format cpp) instead of taking
// one on the command line, and read its fingerprint itself.

#include <charter/verify.hpp>

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace {

std::atomic<bool> stopping { false };

extern "C" void on_signal(int)
{
    stopping = true;
}

int64_t unix_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One line at a time, from either thread.
std::mutex output;
void say(std::string const& line)
{
    std::lock_guard lock(output);
    std::cout << line << std::endl;
}

size_t collect(char* data, size_t size, size_t count, void* out)
{
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
}

// The transport: one short-lived libcurl handle per request, short timeouts (the seat waits for
// it; the heartbeat thread, not the product's work, pays for a slow server).
charter::SeatTransport curl_transport(std::string base_url)
{
    return [base_url](charter::SeatRequest const& request, std::string& reason) -> std::optional<charter::SeatResponse> {
        CURL* curl = curl_easy_init();
        if (!curl) {
            reason = "libcurl could not start";
            return std::nullopt;
        }
        std::string url = base_url + std::string(request.path);
        std::string authorization = "Authorization: " + std::string(request.authorization);
        std::string body;
        curl_slist* headers = curl_slist_append(nullptr, authorization.c_str());
        std::string method(request.method);
        std::string payload;
        curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
        if (request.body) {
            payload = std::string(*request.body);
            headers = curl_slist_append(headers, "Content-Type: application/json");
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, long(payload.size()));
        } else if (method == "POST") {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
        }
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 3000L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        CURLcode code = curl_easy_perform(curl);
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        if (code != CURLE_OK) {
            reason = curl_easy_strerror(code);
            return std::nullopt;
        }
        return charter::SeatResponse { int(status), std::move(body) };
    };
}

struct Options {
    std::string server;
    std::string public_key;
    std::string fingerprint;
    std::string label;
    int64_t grace { 0 };
    int64_t leeway { 0 };
};

std::optional<Options> parse(int argc, char** argv)
{
    Options options;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string name = argv[i], value = argv[i + 1];
        if (name == "--server")
            options.server = value;
        else if (name == "--public-key")
            options.public_key = value;
        else if (name == "--fingerprint")
            options.fingerprint = value;
        else if (name == "--label")
            options.label = value;
        else if (name == "--grace")
            options.grace = std::atoll(value.c_str());
        else if (name == "--leeway")
            options.leeway = std::atoll(value.c_str());
        else
            return std::nullopt;
    }
    if (argc % 2 == 0 || options.server.empty() || options.public_key.empty() || options.fingerprint.empty())
        return std::nullopt;
    return options;
}

}

int main(int argc, char** argv)
{
    auto options = parse(argc, argv);
    if (!options) {
        std::cerr << "usage: acme-worker --server URL --public-key K4_PUBLIC --fingerprint TEXT [--label TEXT] [--grace SECONDS] "
                     "[--leeway SECONDS]\n(the license key in ACME_PRO_LICENSE)\n";
        return 2;
    }
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    charter::Verifier verifier("acme-pro");
    if (verifier.add_key(options->public_key.c_str()) != CHARTER_OK) {
        std::cerr << "acme-worker: --public-key is not a k4.public key\n";
        return 2;
    }
    charter::StartupCheck check(verifier);
    check.env("ACME_PRO_LICENSE");
    charter::Seat seat(check, curl_transport(options->server));
    seat.fingerprint(options->fingerprint).grace_seconds(options->grace).leeway(options->leeway);
    if (!options->label.empty())
        seat.label(options->label);

    auto started = seat.activate(unix_now());
    if (!started.valid) {
        say("refused: " + started.message);
        curl_global_cleanup();
        return 1;
    }
    say("activated: " + started.message);

    // The helper thread: a heartbeat whenever one is due (the seat says when), woken early to stop.
    std::mutex mutex;
    std::condition_variable wake;
    std::thread heartbeats([&] {
        std::unique_lock lock(mutex);
        while (!stopping) {
            int64_t due = seat.next_heartbeat();
            if (due == 0) // node-locked: nothing to renew
                due = unix_now() + 3600;
            auto when = std::chrono::system_clock::time_point(std::chrono::seconds(due));
            if (wake.wait_until(lock, when, [] { return stopping.load(); }))
                break;
            lock.unlock();
            auto beat = seat.heartbeat(unix_now());
            say(std::string("heartbeat: ") + beat.status_string() + (beat.warning ? " (warning)" : "") + ": " + beat.message);
            lock.lock();
        }
    });

    // The product's work: it asks the seat (no network) before each unit of work.
    std::string last_state;
    uint64_t units = 0;
    while (!stopping) {
        auto state = seat.check(unix_now());
        std::string line = std::string(!state.valid ? "refused" : state.warning ? "warning" : "valid") + ": " + state.message;
        if (line != last_state) {
            say("state: " + line);
            last_state = line;
        }
        if (state.valid)
            ++units; // one unit of the product's real work
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }

    {
        std::lock_guard lock(mutex);
        wake.notify_all();
    }
    heartbeats.join();
    std::string detail;
    if (seat.release(&detail) == CHARTER_OK)
        say("released after " + std::to_string(units) + " units of work");
    else
        say("release failed: " + detail);
    curl_global_cleanup();
    return 0;
}
