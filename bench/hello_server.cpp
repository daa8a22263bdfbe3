// The yardstick of scripts/bench-server: a hello-world handler on the same cpp-httplib, with
// the same thread pool, socket options, timeouts and keep-alive limit as charter-server, so
// that the ratio of the two measures what Charter's handlers cost and nothing else.
//
// Usage: hello_server THREADS   (listens on 127.0.0.1, a free port; prints the URL first)

#include <httplib.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <pthread.h>
#include <string>
#include <thread>

int main(int argc, char** argv)
{
    size_t threads = argc > 1 ? size_t(std::atoi(argv[1])) : 16;
    if (threads == 0) {
        std::cerr << "usage: hello_server THREADS\n";
        return 2;
    }
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    httplib::Server server;
    // charter-server's settings (server/src/http_server.cpp, install_hardening).
    server.set_tcp_nodelay(true);
    server.set_payload_max_length(1 << 20);
    server.set_read_timeout(5, 0);
    server.set_write_timeout(5, 0);
    server.set_keep_alive_max_count(100);
    server.set_keep_alive_timeout(5);
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server.Get("/", [](httplib::Request const&, httplib::Response& response) {
        response.set_content("Hello, World!\n", "text/plain");
    });

    int port = server.bind_to_any_port("127.0.0.1");
    if (port <= 0) {
        std::cerr << "hello_server: cannot listen on 127.0.0.1\n";
        return 1;
    }
    std::cout << "listening on http://127.0.0.1:" << port << std::endl;
    std::thread waiter([&] {
        int signal = 0;
        sigwait(&stop_signals, &signal);
        server.stop();
    });
    server.listen_after_bind();
    waiter.join();
    return 0;
}
