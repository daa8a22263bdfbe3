// charter-server: parses its options, opens the data directory, serves until SIGTERM or
// SIGINT, then stops accepting, lets in-flight requests finish and closes the database.

#include "charter/server/http_server.hpp"

#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>

int main(int argc, char** argv)
{
    using namespace charter::server;
    std::vector<std::string> args(argv + 1, argv + argc);
    auto config = parse_server_config(args);
    if (!config) {
        std::cerr << "charter-server: " << config.error().message << "\n" << server_usage();
        return 2;
    }
    if (config->help) {
        std::cout << server_usage();
        return 0;
    }

    // Block the stop signals in every thread; one thread waits for them synchronously.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    auto server = HttpServer::create(*config);
    if (!server) {
        std::cerr << "charter-server: " << server.error().message << "\n";
        return 1;
    }
    auto port = (*server)->bind();
    if (!port) {
        std::cerr << "charter-server: " << port.error().message << "\n";
        return 1;
    }
    std::cout << "listening on " << (*server)->url() << std::endl;

    std::thread waiter([&] {
        int signal = 0;
        sigwait(&stop_signals, &signal);
        std::cerr << "charter-server: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
                  << ": stopping after in-flight requests\n";
        (*server)->stop();
    });
    (*server)->run();
    // run() returned without a signal (the socket failed): wake the waiter so it can exit.
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    server->reset();
    std::cerr << "charter-server: stopped\n";
    return 0;
}
