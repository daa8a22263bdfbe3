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
// most --max-body); a streamed body (a release upload) gets a deadline of its own once the head
// is in (--upload-timeout, issue 12 item 21). A request that misses its deadline ends its
// connection: in its head or body, with a 408 (see request_deadline_missed()), in its request
// line without an answer.
//
// Two more things only the connection layer can do, both on the bytes of the stream:
//
// - Range (issue 12 item 19). cpp-httplib parses a Range header before anything of ours runs
//   and answers 416 to one it cannot parse, on every route (POST /v1/licenses included, which
//   then issues nothing). RFC 9110 (14.2) says to ignore Range on any method but GET and to
//   ignore an invalid one, so the stream drops such a header line from the request head
//   before cpp-httplib reads it. The downloads, the only routes that serve ranges, read the
//   header that is left.
// - The reason phrase (issue 12 item 1). A handler may set Response::reason (which cpp-httplib's
//   server otherwise ignores: it writes a fixed phrase per status); the status line then carries
//   it. It is how a refusal of the RubyGems source reaches the customer: RubyGems
//   (rubygems/remote_fetcher.rb, fetch_http) reports a failed index or gem request as
//   "bad response <reason phrase> <status>", without the body, and Bundler falls back to that
//   legacy index when the compact index fails (bundler/fetcher/compact_index.rb swallows its
//   errors; bundler/fetcher/index.rb prints RubyGems' message). Only printable ASCII, at most
//   max_reason_phrase bytes; a response without a reason keeps the standard phrase. GuardedServer
//   uses the post-routing handler for it: nothing else may set one. Over HTTPS (cpp-httplib's
//   own loop) every response has the standard phrase.
//
// The mechanism: Server::process_and_close_socket is a private virtual that a subclass may
// override; it owns the keep-alive loop and hands each request to the protected
// Server::process_request over our own httplib::Stream, whose setup callback runs on the same
// thread after the headers are parsed (where the deadline is lifted for streamed bodies). The
// worker pool stamps each connection with the time it was queued. HTTPS (httplib::SSLServer)
// keeps cpp-httplib's loop: put nginx in front (docs/deploy/nginx.conf).

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace charter::server {

class GuardedServer final : public httplib::Server {
public:
    /// True for requests whose body the handler streams (which then has its own deadline).
    using StreamedBody = std::function<bool(httplib::Request const&)>;

    /// `threads` workers (the pool also notes when each connection was accepted); a streamed
    /// body must have arrived within `streamed_body_timeout` of the end of its head.
    GuardedServer(size_t threads, StreamedBody streamed_body, std::chrono::seconds streamed_body_timeout);

    /// The longest reason phrase sent; a longer one is cut.
    static constexpr size_t max_reason_phrase = 320;
    /// `reason` as a reason phrase: printable ASCII ("..." for U+2026, "?" for other
    /// characters), cut at max_reason_phrase bytes.
    static std::string reason_phrase(std::string const& reason);

    /// True on a worker thread while the request it is answering missed its deadline: the error
    /// handler turns cpp-httplib's 400 for an unfinished request into a 408.
    static bool request_deadline_missed();

private:
    bool process_and_close_socket(socket_t sock) override;

    size_t m_threads;
    StreamedBody m_streamed_body;
    std::chrono::seconds m_streamed_body_timeout;
};

}
