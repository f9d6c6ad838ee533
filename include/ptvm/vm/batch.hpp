// Running many independent jobs across a pool of host threads. Results come back in job order and
// do not depend on the thread count; a failing job records its error and the others go on.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/runner.hpp"

namespace ptvm::vm {

struct BatchJob {
  Program program;
  // Replaces program.initial_memory (and so the memory size and the initial sp); at most 255 cells.
  std::optional<std::vector<int16_t>> initial_memory;
  RunOptions options;
};

struct BatchResult {
  std::optional<RunResult> result;  // set when the job succeeded
  std::string error;                // the error message when it failed
  ErrorCategory error_category = ErrorCategory::Internal;
  bool ok() const { return result.has_value(); }
};

struct BatchOptions {
  unsigned threads = 0;  // 0: std::thread::hardware_concurrency() (at least 1)
};

std::vector<BatchResult> run_batch(const std::vector<BatchJob>& jobs, const BatchOptions& options = {});

}  // namespace ptvm::vm
