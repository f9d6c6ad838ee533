// Internal to prove_batch (batch.cpp, batch_group.cpp).
#pragma once
#include <string>
#include <vector>

#include "ptvm/vmair/batch.hpp"

namespace ptvm::vmair::detail {

// "job 3 (x.tvm): why", unless the message names the job already (manifest entries do).
std::string job_message(size_t index, const std::string& label, const std::string& why);
// The job's program with its initial memory.
vm::Program job_program(const ProveJob& job);
// Steps of the job's run on the native engine; 0 for a job that fails.
uint64_t native_steps(const ProveJob& job);
// The jobs `order` in lockstep groups (options.group); deliver(result) in `order`'s order.
void prove_grouped(const std::vector<ProveJob>& jobs, const std::vector<size_t>& order,
                   const BatchProveOptions& options, int rank, const ResultFn& deliver);

}  // namespace ptvm::vmair::detail
