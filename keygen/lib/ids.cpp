#include "charter/keygen/ids.hpp"

#include <sodium.h>

#include <atomic>
#include <pthread.h>

namespace charter::keygen {

namespace {

// Random bytes for ids, drawn from the system a few kilobytes at a time: libsodium's default
// source is one getrandom() system call per request, and a batch makes 100,000 ids. The pool
// is per thread, and a forked child throws away what it inherited so that parent and child
// never hand out the same bytes.
class RandomPool {
public:
    unsigned char next()
    {
        if (m_generation != fork_generation().load(std::memory_order_relaxed) || m_used == sizeof m_bytes) {
            randombytes_buf(m_bytes, sizeof m_bytes);
            m_used = 0;
            m_generation = fork_generation().load(std::memory_order_relaxed);
        }
        return m_bytes[m_used++];
    }

private:
    static std::atomic<unsigned>& fork_generation()
    {
        static std::atomic<unsigned> generation { [] {
            pthread_atfork(nullptr, nullptr, [] { fork_generation().fetch_add(1, std::memory_order_relaxed); });
            return 1u;
        }() };
        return generation;
    }

    unsigned char m_bytes[4096];
    size_t m_used { sizeof m_bytes };
    unsigned m_generation { 0 };
};

}

std::string new_id(std::string_view prefix)
{
    static constexpr char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    constexpr size_t length = 22;
    thread_local RandomPool pool;
    // Each character is a random byte below 248 (= 4 × 62) taken modulo 62, so all 62 are
    // equally likely; a byte of 248 or more (3 % of them) is skipped.
    std::string id;
    id.reserve(prefix.size() + length);
    id.append(prefix);
    while (id.size() < prefix.size() + length) {
        unsigned char byte = pool.next();
        if (byte < 248)
            id += alphabet[byte % 62];
    }
    return id;
}

}
