#include "charter/keygen/ops/batch_issue.hpp"

#include "charter/keygen/ops/json_views.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <sched.h>
#include <system_error>
#include <thread>
#include <vector>

namespace charter::ops {

namespace {

// Rows handed to a signing thread at a time: enough that the hand-over (a lock and a
// wake-up) costs nothing next to the signing (256 signatures take about 4 ms), few enough
// that a chunk holds under a megabyte (about 2.5 KiB per license and its output line).
constexpr size_t chunk_rows = 256;
constexpr unsigned max_signing_threads = 4;
// Chunks read but not yet stored, at most: on a busy machine one thread may not run for tens
// of milliseconds (several chunks' worth), and the other should not have to stop and wait
// for it. Bounded, so memory stays flat: 8 chunks of 256 licenses are a few megabytes.
constexpr size_t min_chunks_in_flight = 8;

// Consecutive rows of a batch on their way from prepare through sign to store.
struct Chunk {
    std::vector<size_t> lines; // one per row: lines.size() is the number of rows
    // Slots for the rows, kept from one use of the chunk to the next rather than destroyed:
    // a slot's strings hand their old buffers back to the thread that fills them again
    // (std::string's move assignment), so each thread mostly frees what it allocated. glibc
    // makes freeing another thread's memory dear (a lock, cache lines moving between CPUs).
    std::vector<PreparedLicense> licenses;
    // The output lines of the signed rows, one after the other: one buffer for the chunk
    // rather than a string per row.
    std::string output;
    // Set by the signing thread; read by the calling thread only once `done` is (under the
    // mutex of SigningThreads, which orders the two).
    size_t signed_rows { 0 }; // fewer than rows() when signing a row failed
    std::optional<Error> failure; // why row signed_rows could not be signed
    bool done { false };

    // For the next rows, keeping the memory the vectors and the buffer have grown to.
    void clear()
    {
        lines.clear();
        output.clear();
        signed_rows = 0;
        failure.reset();
        done = false;
    }

    size_t rows() const { return lines.size(); }

    void add(size_t line, PreparedLicense&& prepared)
    {
        if (licenses.size() == lines.size())
            licenses.emplace_back();
        licenses[lines.size()] = std::move(prepared);
        lines.push_back(line);
    }
};

Error line_error(size_t line, Error const& error)
{
    return make_error(error.kind, "line " + std::to_string(line) + ": " + error.message);
}

// Signs the licenses of a chunk and formats their output lines; everything here is pure
// (the key is only read), so any number of threads may do it at once.
void sign_chunk(Issuer const& issuer, BatchJob const& job, Chunk& chunk)
{
    for (; chunk.signed_rows < chunk.rows(); ++chunk.signed_rows) {
        auto& prepared = chunk.licenses[chunk.signed_rows];
        // A signing thread must not end the process with an exception (std::terminate): what
        // goes wrong becomes the error of its row, reported by the calling thread.
        try {
            if (auto signed_license = issuer.sign(prepared); !signed_license) {
                chunk.failure = signed_license.error();
                return;
            }
            if (job.output == BatchOutput::json_lines)
                chunk.output += license_json(prepared.license, job.now).dump();
            else
                chunk.output += prepared.license.token;
            chunk.output += '\n';
            if (chunk.signed_rows == 0)
                chunk.output.reserve(chunk.output.size() * chunk.rows() * 9 / 8);
        } catch (std::exception const& exception) {
            chunk.failure = make_error(ErrorKind::internal,
                std::string("the license could not be signed (") + exception.what() + ")");
            return;
        } catch (...) {
            chunk.failure = make_error(ErrorKind::internal, "the license could not be signed (an unknown exception)");
            return;
        }
    }
}

class SigningThreads {
public:
    SigningThreads(Issuer const& issuer, BatchJob const& job)
        : m_issuer(issuer)
        , m_job(job)
    {
        m_threads.reserve(std::max(job.signing_threads, 1u));
        for (unsigned i = 0; i < std::max(job.signing_threads, 1u); ++i) {
            try {
                m_threads.emplace_back([this] { work(); });
            } catch (std::system_error const&) {
                break; // no more threads (a process limit): the ones running will do
            }
        }
    }

    SigningThreads(SigningThreads const&) = delete;
    SigningThreads& operator=(SigningThreads const&) = delete;

    // Also on an early return: chunks still queued are dropped, a chunk being signed is
    // finished, and no thread outlives the chunks it points into.
    ~SigningThreads()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
            m_queue.clear();
        }
        m_work_ready.notify_all();
        for (auto& thread : m_threads)
            thread.join();
    }

    unsigned thread_count() const { return unsigned(m_threads.size()); }

    void submit(Chunk& chunk)
    {
        if (m_threads.empty()) {
            sign_chunk(m_issuer, m_job, chunk);
            chunk.done = true;
            return;
        }
        {
            std::lock_guard lock(m_mutex);
            m_queue.push_back(&chunk);
        }
        m_work_ready.notify_one();
    }

    void wait(Chunk const& chunk)
    {
        std::unique_lock lock(m_mutex);
        m_chunk_done.wait(lock, [&] { return chunk.done; });
    }

private:
    void work()
    {
        std::unique_lock lock(m_mutex);
        while (true) {
            m_work_ready.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
            if (m_stopping)
                return;
            Chunk& chunk = *m_queue.front();
            m_queue.pop_front();
            lock.unlock();
            sign_chunk(m_issuer, m_job, chunk);
            lock.lock();
            chunk.done = true;
            m_chunk_done.notify_all();
        }
    }

    Issuer const& m_issuer;
    BatchJob const& m_job;
    std::mutex m_mutex;
    std::condition_variable m_work_ready;
    std::condition_variable m_chunk_done;
    std::deque<Chunk*> m_queue;
    bool m_stopping { false };
    std::vector<std::thread> m_threads;
};

}

unsigned default_signing_threads()
{
    // The CPUs this process may use (taskset, a container's cpuset), not all the machine has.
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    unsigned available = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? unsigned(CPU_COUNT(&cpus))
                                                                        : std::thread::hardware_concurrency();
    return std::clamp(available > 1 ? available - 1 : 1u, 1u, max_signing_threads);
}

Result<BatchOutcome> issue_batch(Issuer& issuer, BatchReader& rows, BatchJob const& job, HeldOutput& output,
    std::function<void(size_t issued)> const& on_issued)
{
    // In row order. Declared before the threads, which are therefore stopped before the
    // chunks they may be signing are freed. Stored chunks are used again (spare).
    std::deque<std::unique_ptr<Chunk>> in_flight;
    std::vector<std::unique_ptr<Chunk>> spare;
    SigningThreads signing(issuer, job);
    // At least one chunk per thread being signed, one signed and waiting to be stored, one
    // being prepared; a few more let either side run ahead while the other is not scheduled.
    size_t const max_in_flight = std::max(min_chunks_in_flight, size_t(signing.thread_count()) + 2);
    BatchOutcome outcome;
    outcome.signing_threads = signing.thread_count();

    auto store_oldest = [&]() -> Result<void> {
        std::unique_ptr<Chunk> chunk = std::move(in_flight.front());
        in_flight.pop_front();
        signing.wait(*chunk);
        for (size_t i = 0; i < chunk->signed_rows; ++i) {
            if (auto stored = issuer.store(chunk->licenses[i].license, job.actor); !stored)
                return line_error(chunk->lines[i], stored.error());
            on_issued(++outcome.issued);
        }
        if (chunk->signed_rows < chunk->rows())
            return line_error(chunk->lines[chunk->signed_rows], *chunk->failure);
        if (auto appended = output.append(chunk->output); !appended)
            return appended;
        chunk->clear();
        spare.push_back(std::move(chunk));
        return {};
    };

    // A row that cannot be read or prepared is reported only after the rows before it are
    // stored: a batch fails on its first bad row, whichever step finds it.
    std::optional<Error> read_error;
    bool at_end = false;
    while (!at_end && !read_error) {
        std::unique_ptr<Chunk> chunk;
        if (spare.empty()) {
            chunk = std::make_unique<Chunk>();
            chunk->lines.reserve(chunk_rows);
            chunk->licenses.reserve(chunk_rows);
        } else {
            chunk = std::move(spare.back());
            spare.pop_back();
        }
        while (chunk->rows() < chunk_rows) {
            auto row = rows.next();
            if (!row) {
                read_error = row.error();
                break;
            }
            if (!*row) {
                at_end = true;
                break;
            }
            auto prepared = issuer.prepare(std::move((*row)->request), job.now);
            if (!prepared) {
                read_error = line_error((*row)->line, prepared.error());
                break;
            }
            chunk->add((*row)->line, std::move(*prepared));
        }
        if (chunk->rows() > 0) {
            in_flight.push_back(std::move(chunk));
            signing.submit(*in_flight.back());
        }
        while (in_flight.size() >= max_in_flight) {
            if (auto stored = store_oldest(); !stored)
                return stored.error();
        }
    }
    while (!in_flight.empty()) {
        if (auto stored = store_oldest(); !stored)
            return stored.error();
    }
    if (read_error)
        return *read_error;
    return outcome;
}

}
