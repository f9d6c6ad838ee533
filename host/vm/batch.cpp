// run_batch: a fixed pool of std::threads pulls job indices from an atomic counter; each result is
// written to its own slot, so the output is in job order and independent of the thread count.
// Tensor-engine jobs without lockstep verification or traces are grouped by program, layers,
// attention mode and max steps, and every group runs as one TensorBatch: all its machines step
// together through the same GEMMs (the batch dimension).
#include "ptvm/vm/batch.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <chrono>
#include <map>
#include <thread>

#include "ptvm/vm/tensor_engine.hpp"

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

bool tensor_batchable(const BatchJob& job) {
  const RunOptions& o = job.options;
  return o.engine == EngineKind::Tensor && !o.verify_native && !o.record_trace && !o.on_progress &&
         (!job.initial_memory || job.initial_memory->size() <= kMaxMemory);
}

std::string group_key(const BatchJob& job) {
  std::string key = job.program.source_name + '\0';
  for (const Instruction& ins : job.program.instructions)
    key += std::to_string(static_cast<int>(ins.op)) + ':' + std::to_string(ins.operand) + ',';
  const RunOptions& o = job.options;
  key += '\0' + std::to_string(o.layers) + '\0' + std::to_string(static_cast<int>(o.attention.kind)) + ':' +
         std::to_string(o.attention.temperature) + '\0' + std::to_string(o.max_steps) + '\0' + o.tensor_device;
  return key;
}

// One group of tensor jobs in lockstep; fills their results.
void run_tensor_group(const std::vector<BatchJob>& jobs, const std::vector<size_t>& members,
                      std::vector<BatchResult>& results) {
  const BatchJob& first = jobs[members[0]];
  const auto start = std::chrono::steady_clock::now();
  try {
    TransformerConfig config;
    config.num_layers = first.options.layers;
    if (config.num_layers < 1 || config.num_layers > static_cast<int>(kMaxInstructions))
      throw Error(ErrorCategory::Usage, "layers must be in 1.." + std::to_string(kMaxInstructions) + " (got " +
                                            std::to_string(config.num_layers) + ")");
    std::vector<std::vector<int16_t>> memories;
    for (size_t i : members) memories.push_back(jobs[i].initial_memory.value_or(jobs[i].program.initial_memory));
    TensorBatch batch(compile_program(first.program, config), memories, first.options.max_steps,
                      first.options.attention, false, first.options.tensor_ffn);
    batch.run();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (size_t k = 0; k < members.size(); ++k) {
      const TensorBatch::Machine& m = batch.machine(k);
      BatchResult& out = results[members[k]];
      if (m.error) {
        out.error = *m.error;
        out.error_category = m.error_category;
        continue;
      }
      RunResult r;
      r.trace.program = first.program;
      r.trace.program.initial_memory = memories[k];
      r.trace.attention = first.options.attention;
      r.trace.max_steps = first.options.max_steps;
      r.trace.initial = initial_state(r.trace.program);
      r.trace.final_state = m.state;
      r.trace.final_memory = m.memory.latest_values();
      r.steps = m.steps;
      r.elapsed_seconds = elapsed;  // the whole group's time: its machines ran together
      out.result = std::move(r);
    }
  } catch (const Error& e) {
    for (size_t i : members) {
      results[i].error = e.what();
      results[i].error_category = e.category();
    }
  }
}

}  // namespace

std::vector<BatchResult> run_batch(const std::vector<BatchJob>& jobs, const BatchOptions& options) {
  std::vector<BatchResult> results(jobs.size());
  std::vector<bool> handled(jobs.size(), false);
  {
    std::map<std::string, std::vector<size_t>> groups;
    for (size_t i = 0; i < jobs.size(); ++i)
      if (tensor_batchable(jobs[i])) groups[group_key(jobs[i])].push_back(i);
    for (const auto& [key, members] : groups) {
      run_tensor_group(jobs, members, results);
      for (size_t i : members) handled[i] = true;
    }
  }
  unsigned threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(jobs.size())));
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next.fetch_add(1); i < jobs.size(); i = next.fetch_add(1)) {
      if (!handled[i]) results[i] = run_job(jobs[i]);
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
