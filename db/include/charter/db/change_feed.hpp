#pragma once
// What lets a process answer reads from memory on PostgreSQL and still honour every change the
// moment it is committed, by any process: charter-server's customer requests (validation, the
// RubyGems index, downloads) read the same few unchanged rows thousands of times a second, and
// on PostgreSQL each read is a round trip to another process.
//
// Every table of Charter's schema has a trigger that sends NOTIFY charter_changes with each
// statement that changes it (whoever runs it: a charter-server, the charter CLI, psql). A
// ChangeFeed holds a connection of its own that LISTENs for it, and numbers the states of the
// database it has heard of: generation() moves at each notification (checked on the connection
// at every call, not only when its thread wakes) and at each commit of this process. A store
// given the feed (Store::use_change_feed) remembers what its reads outside a writing
// transaction answered, under the generation of the moment it asked, and answers the same read
// again from memory while the generation has not moved. Reads inside a writing transaction
// always go to the database: what a transaction decides (a seat count, an idempotency key) is
// decided there.
//
// When the feed's connection is down or not yet made, generation() is 0 and nothing is answered
// from memory: every read goes to the database (and fails as it would without the feed while the
// database is down). On reconnecting the generation moves, so nothing remembered from before is
// used again. A silent connection is checked every few seconds (and TCP keepalives find a dead
// peer within seconds); a connection of the process found lost makes the feed's connection again
// too (a failover).
//
// A change is seen by another process's feed once PostgreSQL delivers the notification: it
// signals every listener at the writer's COMMIT, before the writer hears that it committed, and a
// process with a feed reports its own commit only once its feed has heard it
// (await_notification_after), so a change made through one server is honoured by another on any
// request that reaches it after the first answered, except if the other's PostgreSQL backend
// process has not been given the CPU to pass the notification on since (microseconds; more on a
// starved database machine). The charter CLI on PostgreSQL has a feed for this alone.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace charter::db {

class ChangeFeed {
public:
    /// Starts listening to the PostgreSQL database at `url` (a thread and a connection of its
    /// own, made again whenever it is lost). Returns at once: until the connection is made,
    /// generation() is 0.
    static std::shared_ptr<ChangeFeed> listen(std::string const& url);

    ChangeFeed(ChangeFeed const&) = delete;
    ChangeFeed& operator=(ChangeFeed const&) = delete;
    ~ChangeFeed();

    /// The state of the database as this process knows it, after reading any notification that
    /// has arrived; 0 while not listening (nothing may be answered from memory then).
    uint64_t generation();
    /// A commit made by this process: moves the generation without waiting for the notification
    /// (a request that follows it in this process must see it).
    void changed();
    /// How many notifications the feed has received.
    uint64_t heard();
    /// Waits until the feed has received a notification after the first `heard` (at most
    /// `patience`; not at all while not listening). A commit of this process that changed the
    /// database waits for its own notification this way before it is reported: PostgreSQL
    /// signalled every listener at once, so when this process's listener has passed it on, the
    /// others have almost always done the same, and a client told of the change by this process
    /// then finds it honoured by the others.
    void await_notification_after(uint64_t heard, std::chrono::milliseconds patience);
    /// Whether the feed is listening now.
    bool listening() const;
    /// Waits until the feed listens (at most `patience`); whether it does.
    bool wait_listening(std::chrono::milliseconds patience);
    /// Stops trusting the connection and makes it again (a connection of the process to the
    /// same database was found lost: the database may have failed over, and the feed's
    /// connection with it, without a word).
    void reconnect();

    /// Reads answered from memory, and reads sent to the database by stores using the feed.
    struct Counts {
        uint64_t remembered { 0 };
        uint64_t asked { 0 };
    };
    Counts counts() const;
    void count(bool remembered);

private:
    struct Impl;
    explicit ChangeFeed(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}
