#pragma once
// `charter issue --batch`: issuing the rows of a batch file, with signing on other threads.
//
// The calling thread reads and checks the rows (Issuer::prepare, which needs the store) and
// stores the signed licenses in row order (Issuer::store); signing threads sign chunks of
// rows in between (Issuer::sign). While a thread signs one chunk, the calling thread stores
// the chunk before it and prepares the one after, so a batch takes about as long as the
// slower of the two instead of their sum. At most a few chunks are in flight at any time,
// so memory stays flat whatever the batch size.

#include "charter/db/store.hpp"
#include "charter/keygen/ops/batch.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "charter/result.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>

namespace charter::ops {

/// What a batch prints for each license: its key, or the license as one line of JSON.
enum class BatchOutput { keys, json_lines };

struct BatchJob {
    db::Actor actor;
    int64_t now { 0 };
    BatchOutput output { BatchOutput::keys };
    unsigned signing_threads { 1 };
};

struct BatchOutcome {
    size_t issued { 0 };
    unsigned signing_threads { 0 }; // threads that signed (fewer than asked for if some could not start)
};

/// How many threads should sign a batch on this machine: one fewer than the CPUs this
/// process may run on (the calling thread has the reading and storing to do), at least one,
/// at most four (beyond that the calling thread cannot keep up and more threads only wait).
unsigned default_signing_threads();

/// Issues every row of `rows` in row order, inside the caller's transaction, and appends
/// each license's output line to `output` once it is stored. The first row that fails (to
/// parse, to validate, to sign or to store) ends the batch with an error naming its line;
/// the rows before it are stored by then, so the caller must roll back for all or nothing.
/// `on_issued` is called on the calling thread with the count after each stored license.
/// Signing threads that cannot be started leave the signing to the calling thread.
Result<BatchOutcome> issue_batch(Issuer& issuer, BatchReader& rows, BatchJob const& job, HeldOutput& output,
    std::function<void(size_t issued)> const& on_issued);

}
