// Internal: a minimal parallel-for over index ranges with std::thread (no pool: the stages it is
// used for run for milliseconds or more). PTVM_THREADS overrides the thread count.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

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
  std::vector<std::thread> pool;
  std::exception_ptr error;
  std::mutex error_mutex;
  const size_t chunk = (n + threads - 1) / threads;
  for (unsigned t = 0; t < threads; ++t) {
    size_t begin = t * chunk, end = std::min(n, begin + chunk);
    if (begin >= end) break;
    pool.emplace_back([&, begin, end] {
      try {
        fn(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace ptvm::stark::detail
