// The library's thread pool (see ptvm/common/thread_pool.hpp).
#include "ptvm/common/thread_pool.hpp"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace ptvm {
namespace {

thread_local bool t_in_pool_task = false;

class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    work_.notify_all();
    for (auto& w : workers_) w.join();
  }

  unsigned size() {
    std::lock_guard lock(mutex_);
    return static_cast<unsigned>(workers_.size());
  }

  void run(size_t n, unsigned threads, const std::function<void(size_t)>& task) {
    std::unique_lock run_lock(run_mutex_, std::try_to_lock);
    if (!run_lock.owns_lock()) {  // another thread's call is running: do this one here
      serial(n, task);
      return;
    }
    const unsigned helpers = static_cast<unsigned>(std::min<size_t>(threads, n)) - 1;
    {
      std::lock_guard lock(mutex_);
      while (workers_.size() < helpers) {
        const unsigned index = static_cast<unsigned>(workers_.size());
        workers_.emplace_back([this, index] { worker(index); });
      }
      task_ = &task;
      n_tasks_ = n;
      next_.store(0);
      done_.store(0);
      error_ = nullptr;
      allowed_ = helpers;
      open_ = true;
      ++generation_;
    }
    work_.notify_all();
    t_in_pool_task = true;
    drain();
    t_in_pool_task = false;
    std::exception_ptr error;
    {
      std::unique_lock lock(mutex_);
      done_cv_.wait(lock, [&] { return done_.load() == n_tasks_; });
      open_ = false;  // late workers no longer join this call
      done_cv_.wait(lock, [&] { return busy_ == 0; });
      task_ = nullptr;
      error = error_;
    }
    if (error) std::rethrow_exception(error);
  }

  static void serial(size_t n, const std::function<void(size_t)>& task) {
    std::exception_ptr error;
    for (size_t i = 0; i < n; ++i) {
      try {
        task(i);
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
  }

 private:
  void worker(unsigned index) {
    t_in_pool_task = true;
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        work_.wait(lock, [&] { return stop_ || (open_ && generation_ != seen && index < allowed_); });
        if (stop_) return;
        seen = generation_;
        ++busy_;
      }
      drain();
      {
        std::lock_guard lock(mutex_);
        --busy_;
      }
      done_cv_.notify_all();
    }
  }

  void drain() {
    for (size_t i = next_.fetch_add(1); i < n_tasks_; i = next_.fetch_add(1)) {
      try {
        (*task_)(i);
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      if (done_.fetch_add(1) + 1 == n_tasks_) {
        std::lock_guard lock(mutex_);
        done_cv_.notify_all();
      }
    }
  }

  std::mutex run_mutex_;  // one call at a time uses the workers
  std::mutex mutex_;
  std::condition_variable work_, done_cv_;
  std::vector<std::thread> workers_;
  const std::function<void(size_t)>* task_ = nullptr;
  size_t n_tasks_ = 0;
  std::atomic<size_t> next_{0}, done_{0};
  std::exception_ptr error_;
  unsigned allowed_ = 0, busy_ = 0;
  uint64_t generation_ = 0;
  bool open_ = false, stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

void parallel_tasks(size_t n_tasks, unsigned threads, const std::function<void(size_t)>& task) {
  if (n_tasks == 0) return;
  if (threads <= 1 || n_tasks == 1 || t_in_pool_task) {
    Pool::serial(n_tasks, task);
    return;
  }
  pool().run(n_tasks, threads, task);
}

unsigned thread_pool_size() { return pool().size(); }

}  // namespace ptvm
