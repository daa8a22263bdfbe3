// The change feed (change_feed.hpp): LISTEN charter_changes on a connection of its own, read by
// a thread that sleeps in poll() on the connection's socket and by every generation() call.

#include "charter/db/change_feed.hpp"

#include <libpq-fe.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace charter::db {

namespace {

// How long the connection may stay silent before the thread checks that it is still there (a
// connection lost without a word, as behind a failed-over address, would otherwise keep the
// feed "listening" to nothing). The connection's TCP keepalives and user timeout (below) bound
// how long a check, or a dead peer, can go unnoticed.
constexpr int silence_check_ms = 5000;
constexpr auto first_retry = std::chrono::milliseconds(50);
constexpr auto last_retry = std::chrono::milliseconds(1000);

}

struct ChangeFeed::Impl {
    std::string url;
    std::mutex mutex; // the connection, while it is read or made; `heard`
    std::condition_variable heard_cv;
    uint64_t heard { 0 }; // notifications received
    PGconn* connection { nullptr };
    std::atomic<bool> listening { false };
    std::atomic<uint64_t> generation { 1 };
    std::atomic<uint64_t> remembered { 0 };
    std::atomic<uint64_t> asked { 0 };
    std::atomic<bool> stopping { false };
    std::atomic<bool> checking { false }; // the thread asks the database whether it is there
    int wake { -1 }; // eventfd: stops the thread's poll()
    std::thread thread;

    ~Impl()
    {
        if (connection)
            PQfinish(connection);
        if (wake >= 0)
            ::close(wake);
    }

    // With `mutex` held: whatever arrived on the connection. False when it is lost.
    bool read_notifications()
    {
        if (!connection || PQconsumeInput(connection) != 1 || PQstatus(connection) != CONNECTION_OK)
            return false;
        uint64_t const before = heard;
        while (PGnotify* notification = PQnotifies(connection)) {
            PQfreemem(notification);
            ++heard;
        }
        if (heard != before) {
            generation.fetch_add(1);
            heard_cv.notify_all();
        }
        return true;
    }

    void wake_thread()
    {
        uint64_t one = 1;
        if (wake >= 0)
            (void)!::write(wake, &one, sizeof one);
    }

    // The thread makes the connection again at once (it may be waiting on the lost one).
    void lost()
    {
        listening.store(false);
        generation.fetch_add(1);
        heard_cv.notify_all();
        wake_thread();
    }

    void drain_wake()
    {
        uint64_t count = 0;
        (void)!::read(wake, &count, sizeof count);
    }

    // Makes the connection and LISTENs; the generation moves before the feed says it listens,
    // so nothing remembered while it was deaf is used.
    bool connect()
    {
        // The URL's settings, then these (later ones win): a dead peer is noticed within
        // seconds, not after the system's default keepalive of two hours.
        char const* keywords[] = { "dbname", "application_name", "keepalives", "keepalives_idle", "keepalives_interval",
            "keepalives_count", "tcp_user_timeout", "connect_timeout", nullptr };
        char const* values[] = { url.c_str(), "charter change feed", "1", "5", "1", "3", "5000", "5", nullptr };
        PGconn* made = PQconnectdbParams(keywords, values, 1);
        bool ok = made && PQstatus(made) == CONNECTION_OK;
        if (ok) {
            PQsetNoticeProcessor(made, [](void*, char const*) { }, nullptr);
            PGresult* result = PQexec(made, "LISTEN charter_changes");
            ok = result && PQresultStatus(result) == PGRES_COMMAND_OK;
            PQclear(result);
        }
        if (!ok) {
            if (made)
                PQfinish(made);
            return false;
        }
        std::lock_guard lock(mutex);
        if (connection)
            PQfinish(connection);
        connection = made;
        generation.fetch_add(1);
        listening.store(true);
        return true;
    }

    // A round trip; meanwhile generation() answers 0 rather than wait for it.
    bool still_there()
    {
        checking.store(true);
        std::lock_guard lock(mutex);
        PGresult* result = PQexec(connection, "SELECT 1");
        bool ok = result && PQresultStatus(result) == PGRES_TUPLES_OK;
        PQclear(result);
        ok = ok && read_notifications();
        checking.store(false);
        return ok;
    }

    // Sleeps up to `ms` unless stopped; false when stopping.
    bool pause(std::chrono::milliseconds ms)
    {
        pollfd stop { wake, POLLIN, 0 };
        if (::poll(&stop, 1, static_cast<int>(ms.count())) > 0)
            drain_wake();
        return !stopping.load();
    }

    void run()
    {
        auto retry = first_retry;
        while (!stopping.load()) {
            if (!listening.load()) {
                if (connect()) {
                    retry = first_retry;
                } else {
                    if (!pause(retry))
                        return;
                    retry = std::min(retry * 2, std::chrono::duration_cast<std::chrono::milliseconds>(last_retry));
                }
                continue;
            }
            pollfd fds[2] = { { PQsocket(connection), POLLIN, 0 }, { wake, POLLIN, 0 } };
            int ready = ::poll(fds, 2, silence_check_ms);
            if (stopping.load())
                return;
            if (ready > 0 && (fds[1].revents & POLLIN)) {
                // reconnect(): made again at the top of the loop.
                drain_wake();
                continue;
            }
            bool ok = true;
            if (ready == 0) {
                ok = still_there();
            } else if (ready > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
                std::lock_guard lock(mutex);
                ok = read_notifications();
            }
            if (!ok)
                lost();
        }
    }
};

ChangeFeed::ChangeFeed(std::unique_ptr<Impl> impl)
    : m_impl(std::move(impl))
{
}

std::shared_ptr<ChangeFeed> ChangeFeed::listen(std::string const& url)
{
    auto impl = std::make_unique<Impl>();
    impl->url = url;
    impl->wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    auto* running = impl.get();
    std::shared_ptr<ChangeFeed> feed(new ChangeFeed(std::move(impl)));
    running->thread = std::thread([running] { running->run(); });
    return feed;
}

ChangeFeed::~ChangeFeed()
{
    m_impl->stopping.store(true);
    m_impl->wake_thread();
    if (m_impl->thread.joinable())
        m_impl->thread.join();
}

uint64_t ChangeFeed::generation()
{
    // The connection is read by one thread at a time; while the feed's thread checks it with a
    // round trip (every few seconds of silence), reads go to the database instead of waiting.
    if (!m_impl->listening.load() || m_impl->checking.load())
        return 0;
    std::lock_guard lock(m_impl->mutex);
    if (!m_impl->listening.load())
        return 0;
    if (!m_impl->read_notifications()) {
        m_impl->lost();
        return 0;
    }
    return m_impl->generation.load();
}

void ChangeFeed::reconnect()
{
    if (!m_impl->listening.exchange(false))
        return;
    m_impl->generation.fetch_add(1);
    m_impl->heard_cv.notify_all();
    m_impl->wake_thread();
}

void ChangeFeed::changed()
{
    m_impl->generation.fetch_add(1);
}

uint64_t ChangeFeed::heard()
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->heard;
}

void ChangeFeed::await_notification_after(uint64_t heard, std::chrono::milliseconds patience)
{
    std::unique_lock lock(m_impl->mutex);
    (void)m_impl->heard_cv.wait_for(lock, patience, [&] { return m_impl->heard > heard || !m_impl->listening.load(); });
}

bool ChangeFeed::listening() const
{
    return m_impl->listening.load();
}

bool ChangeFeed::wait_listening(std::chrono::milliseconds patience)
{
    auto until = std::chrono::steady_clock::now() + patience;
    while (!m_impl->listening.load() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return m_impl->listening.load();
}

ChangeFeed::Counts ChangeFeed::counts() const
{
    return Counts { m_impl->remembered.load(), m_impl->asked.load() };
}

void ChangeFeed::count(bool remembered)
{
    (remembered ? m_impl->remembered : m_impl->asked).fetch_add(1, std::memory_order_relaxed);
}

}
