// The library's one pool of worker threads. Every parallel stage (the CPU backend's parallel_for,
// Merkle layers, LDE columns, proof-of-work rounds) runs its tasks here instead of starting
// std::threads per call: workers are started once, on first use, and grown to the largest thread
// count asked for.
//
// parallel_tasks(n, threads, task) calls task(i) for every i in [0, n) on at most `threads`
// threads, the caller being one of them, and returns when all are done; the first exception a
// task throws is rethrown (the other tasks still run). A call made from inside a task, or while
// another thread's call is running, runs its tasks on the calling thread: no deadlock, and since
// callers split work by task index, the same results.
#pragma once
#include <cstddef>
#include <functional>

namespace ptvm {

void parallel_tasks(size_t n_tasks, unsigned threads, const std::function<void(size_t)>& task);

// Workers the pool has started so far (for tests and benchmarks).
unsigned thread_pool_size();

}  // namespace ptvm
