// Contiguous ranges of [0, n) on the library's thread pool (ptvm/common/thread_pool.hpp): the one
// way every CPU stage splits its work (the STARK backends, Merkle walks, sumcheck rounds, GKR
// layers, streamed passes).
//
// range_count(n, min_range, threads): how many ranges [0, n) splits into: at most `threads`, none
//   shorter than min_range (so one when n < 2 min_range), zero when n is zero.
// for_each_range(n, ranges, fn): fn(t, begin, end) for the ranges t < `ranges`, range t being
//   [n t / ranges, n (t + 1) / ranges); one range runs on the calling thread. Callers that keep a
//   partial result per range (sums, counts) size it by the same range_count and add the parts in
//   range order, so a result never depends on the thread count.
// parallel_for(n, min_range, fn[, threads]): fn(begin, end) over range_count(n, min_range,
//   threads) ranges; threads defaults to configured_thread_count() (PTVM_THREADS).
// Exceptions from workers are rethrown (the first one).
#pragma once
#include <algorithm>
#include <cstddef>

#include "ptvm/common/thread_pool.hpp"
#include "ptvm/common/threads.hpp"

namespace ptvm {

inline size_t range_count(size_t n, size_t min_range, unsigned threads) {
  if (n == 0) return 0;
  return std::max<size_t>(1, std::min<size_t>(std::max(threads, 1u), n / std::max<size_t>(min_range, 1)));
}

template <class Fn>
void for_each_range(size_t n, size_t ranges, Fn&& fn) {
  if (ranges <= 1) {
    if (n) fn(size_t{0}, size_t{0}, n);
    return;
  }
  parallel_tasks(ranges, static_cast<unsigned>(ranges),
                 [&](size_t t) { fn(t, n * t / ranges, n * (t + 1) / ranges); });
}

template <class Fn>
void parallel_for(size_t n, size_t min_range, Fn&& fn, unsigned threads = configured_thread_count()) {
  for_each_range(n, range_count(n, min_range, threads), [&](size_t, size_t begin, size_t end) { fn(begin, end); });
}

}  // namespace ptvm
