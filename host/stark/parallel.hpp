// Internal: a parallel-for over index ranges on the library's thread pool
// (ptvm/common/thread_pool.hpp). PTVM_THREADS sets the thread count.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "ptvm/common/thread_pool.hpp"
#include "ptvm/common/threads.hpp"

namespace ptvm::stark::detail {

inline unsigned default_thread_count() { return configured_thread_count(); }

// fn(begin, end) over [0, n) split into contiguous chunks; at most one chunk per thread and no
// chunk smaller than min_chunk. Exceptions from workers are rethrown (the first one).
template <class Fn>
void parallel_for(size_t n, size_t min_chunk, Fn&& fn) {
  unsigned threads = default_thread_count();
  if (min_chunk == 0) min_chunk = 1;
  size_t max_threads = (n + min_chunk - 1) / min_chunk;
  if (max_threads < threads) threads = static_cast<unsigned>(std::max<size_t>(max_threads, 1));
  if (threads <= 1 || n == 0) {
    if (n) fn(size_t{0}, n);
    return;
  }
  const size_t chunk = (n + threads - 1) / threads;
  const size_t n_chunks = (n + chunk - 1) / chunk;
  parallel_tasks(n_chunks, threads, [&](size_t t) { fn(t * chunk, std::min(n, t * chunk + chunk)); });
}

}  // namespace ptvm::stark::detail
