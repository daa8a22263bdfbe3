#pragma once
// charter-server's plain-HTTP server: cpp-httplib's, with its connection loop replaced so that
// slow clients cannot hold the worker threads (issue 8, docs/security.md "Hostile clients").
//
// cpp-httplib 0.11.4 gives each connection a worker thread and bounds each read by the read
// timeout, not the request: a client sending one byte per second is never cut, and as many
// such clients as there are threads stop the server. Here every request has a deadline of one
// read timeout, counted from its first byte (for a connection's first request, from the moment
// it was accepted: waiting in the queue counts, as the client may have been trickling all
// along). A read never waits past the deadline; once it has passed, a read only takes what has
// already arrived, so a complete request that waited in the queue is still served. The
// deadline covers the request head and the body that cpp-httplib reads before the handler (at
// most --max-body); a streamed body (a release upload) has only the per-read timeout once the
// head is in. A request that misses its deadline ends its connection: in its head or body,
// with a 408 (see request_deadline_missed()), in its request line without an answer.
//
// The mechanism: Server::process_and_close_socket is a private virtual that a subclass may
// override; it owns the keep-alive loop and hands each request to the protected
// Server::process_request over our own httplib::Stream, whose setup callback runs on the same
// thread after the headers are parsed (where the deadline is lifted for streamed bodies). The
// worker pool stamps each connection with the time it was queued. HTTPS (httplib::SSLServer)
// keeps cpp-httplib's loop: put nginx in front (docs/deploy/nginx.conf).

#include <httplib.h>

#include <cstddef>
#include <functional>

namespace charter::server {

class GuardedServer final : public httplib::Server {
public:
    /// True for requests whose body the handler streams (no deadline once the head is in).
    using StreamedBody = std::function<bool(httplib::Request const&)>;

    /// `threads` workers (the pool also notes when each connection was accepted).
    GuardedServer(size_t threads, StreamedBody streamed_body);

    /// True on a worker thread while the request it is answering missed its deadline: the error
    /// handler turns cpp-httplib's 400 for an unfinished request into a 408.
    static bool request_deadline_missed();

private:
    bool process_and_close_socket(socket_t sock) override;

    size_t m_threads;
    StreamedBody m_streamed_body;
};

}
