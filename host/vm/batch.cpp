// run_batch: a fixed pool of std::threads pulls job indices from an atomic counter; each result is
// written to its own slot, so the output is in job order and independent of the thread count.
#include "ptvm/vm/batch.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

namespace ptvm::vm {
namespace {

BatchResult run_job(const BatchJob& job) {
  BatchResult out;
  try {
    if (job.initial_memory) {
      if (job.initial_memory->size() > kMaxMemory) {
        throw Error(ErrorCategory::Usage, job.program.source_name + ": initial memory of " +
                                              std::to_string(job.initial_memory->size()) +
                                              " cells exceeds " + std::to_string(kMaxMemory));
      }
      Program program = job.program;
      program.initial_memory = *job.initial_memory;
      out.result = run(program, job.options);
    } else {
      out.result = run(job.program, job.options);
    }
  } catch (const Error& e) {
    out.error = e.what();
    out.error_category = e.category();
  } catch (const std::exception& e) {
    out.error = std::string("internal error: ") + e.what();
    out.error_category = ErrorCategory::Internal;
  }
  return out;
}

}  // namespace

std::vector<BatchResult> run_batch(const std::vector<BatchJob>& jobs, const BatchOptions& options) {
  std::vector<BatchResult> results(jobs.size());
  unsigned threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(jobs.size())));
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next.fetch_add(1); i < jobs.size(); i = next.fetch_add(1)) {
      results[i] = run_job(jobs[i]);
    }
  };
  if (threads <= 1) {
    worker();
    return results;
  }
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();  // the calling thread works too
  for (std::thread& t : pool) t.join();
  return results;
}

}  // namespace ptvm::vm
