// The library's thread pool: every task runs exactly once, the first exception comes back, a call
// from inside a task and calls from two threads at once finish (serially) with the same results,
// and workers are started once and reused.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ptvm/common/thread_pool.hpp"

namespace ptvm {
namespace {

TEST(ThreadPool, EveryTaskRunsOnce) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{7}, size_t{1000}}) {
    for (unsigned threads : {1u, 2u, 4u}) {
      std::vector<std::atomic<int>> hits(n);
      parallel_tasks(n, threads, [&](size_t i) { hits[i].fetch_add(1); });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << n << " tasks, " << threads << " threads, task " << i;
    }
  }
}

TEST(ThreadPool, WorkersAreStartedOnceAndReused) {
  parallel_tasks(64, 3, [](size_t) {});
  const unsigned after_first = thread_pool_size();
  EXPECT_GE(after_first, 2u);  // threads - 1 helpers; the caller is the third
  for (int round = 0; round < 200; ++round) parallel_tasks(8, 3, [](size_t) {});
  EXPECT_EQ(thread_pool_size(), after_first);
}

TEST(ThreadPool, FirstExceptionIsRethrownAndTheRestStillRun) {
  std::atomic<int> ran{0};
  EXPECT_THROW(parallel_tasks(100, 4,
                              [&](size_t i) {
                                ran.fetch_add(1);
                                if (i % 10 == 3) throw std::runtime_error("task " + std::to_string(i));
                              }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 100);
  // The pool is usable afterwards.
  std::atomic<int> again{0};
  parallel_tasks(50, 4, [&](size_t) { again.fetch_add(1); });
  EXPECT_EQ(again.load(), 50);
}

TEST(ThreadPool, NestedAndConcurrentCallsFinish) {
  std::atomic<long> sum{0};
  parallel_tasks(8, 2, [&](size_t i) {
    parallel_tasks(8, 2, [&](size_t j) { sum.fetch_add(static_cast<long>(i * 8 + j)); });  // runs inline
  });
  EXPECT_EQ(sum.load(), 63 * 64 / 2);
  std::atomic<long> a{0}, b{0};
  std::thread other([&] {
    for (int r = 0; r < 50; ++r) parallel_tasks(100, 2, [&](size_t i) { b.fetch_add(static_cast<long>(i)); });
  });
  for (int r = 0; r < 50; ++r) parallel_tasks(100, 2, [&](size_t i) { a.fetch_add(static_cast<long>(i)); });
  other.join();
  EXPECT_EQ(a.load(), 50L * 4950);
  EXPECT_EQ(b.load(), 50L * 4950);
}

}  // namespace
}  // namespace ptvm
