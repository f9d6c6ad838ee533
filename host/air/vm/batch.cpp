// prove_batch (see ptvm/vmair/batch.hpp): a worker pool per rank with in-order delivery, and the
// distributed batch over a Communicator (cost estimate, LPT assignment, gather to rank 0).
#include "ptvm/vmair/batch.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

#include "ptvm/vm/runner.hpp"
#include "ptvm/vmair/profiles.hpp"
#include "ptvm/vmair/vm_air.hpp"
#include "batch_internal.hpp"

namespace ptvm::vmair {
namespace detail {

// "job 3 (x.tvm): why", unless the message names the job already (manifest entries do).
std::string job_message(size_t index, const std::string& label, const std::string& why) {
  const std::string prefix = "job " + std::to_string(index);
  if (why.rfind(prefix + ":", 0) == 0 || why.rfind(prefix + " (", 0) == 0)
    return why;
  return prefix + (label.empty() ? "" : " (" + label + ")") + ": " + why;
}

vm::Program job_program(const ProveJob& job) {
  vm::Program program = job.program;
  if (job.initial_memory) {
    if (job.initial_memory->size() > vm::kMaxMemory)
      throw Error(ErrorCategory::Usage, "initial memory of " +
                                            std::to_string(job.initial_memory->size()) +
                                            " cells exceeds " + std::to_string(vm::kMaxMemory));
    program.initial_memory = *job.initial_memory;
  }
  return program;
}

}  // namespace detail
namespace {
using detail::job_message;
using detail::job_program;

// Proves one job: the run prove_program makes (lockstep, recorded), then prove_trace; `prove_lock`
// (when a backend is shared) is held only while proving, so other workers produce traces meanwhile.
ProveJobResult prove_one(const ProveJob& job, size_t index, int rank,
                         const BatchProveOptions& options, Backend* backend,
                         std::mutex* prove_lock) {
  ProveJobResult r;
  r.index = index;
  r.label = job.label;
  r.rank = rank;
  if (job.error) {
    r.error = *job.error;
    r.error.message = job_message(index, job.label, r.error.message);
    return r;
  }
  try {
    const vm::Program program = job_program(job);
    ProveOptions prove;
    prove.max_steps = job.max_steps;
    prove.profile = job.profile ? job.profile : options.profile;
    prove.layers = job.layers;
    prove.backend = backend;
    prove.max_memory_bytes = options.max_memory_bytes;
    // The run outside the lock (other workers prove meanwhile), the proof under it.
    const RecordedRun recorded = record_run(program, prove);
    std::unique_lock<std::mutex> lock;
    if (prove_lock)
      lock = std::unique_lock(*prove_lock);
    r.run = prove_trace(recorded.trace, prove, recorded.execute_ms);
  } catch (const Error& e) {
    r.error = {e.category(), job_message(index, job.label, e.what())};
  } catch (const std::exception& e) {
    r.error = {ErrorCategory::Internal,
               job_message(index, job.label, std::string("internal error: ") + e.what())};
  }
  return r;
}

// The jobs `order` (indices into `jobs`) on this rank's workers; deliver(result) in `order`'s order
// on the calling thread. A backend that cannot be made fails every job, with its reason.
void prove_local(const std::vector<ProveJob>& jobs, const std::vector<size_t>& order,
                 const BatchProveOptions& options, int rank, const ResultFn& deliver) {
  const size_t n = order.size();
  if (n == 0)
    return;
  const unsigned workers = static_cast<unsigned>(std::clamp<size_t>(options.workers, 1, n));
  std::vector<std::unique_ptr<Backend>> own(workers);
  std::vector<Backend*> backends(workers, options.backend);
  std::mutex shared_backend_lock;
  std::mutex* prove_lock = options.backend ? &shared_backend_lock : nullptr;
  if (!options.backend) {
    try {
      for (unsigned w = 0; w < workers; ++w) {
        own[w] = options.backend_factory ? options.backend_factory(rank, w) : make_cpu_backend();
        if (!own[w])
          throw Error(ErrorCategory::Internal, "the backend factory returned no backend");
        backends[w] = own[w].get();
      }
    } catch (const std::exception& e) {
      const ErrorCategory category = dynamic_cast<const Error*>(&e)
                                         ? static_cast<const Error&>(e).category()
                                         : ErrorCategory::Internal;
      for (size_t k = 0; k < n; ++k) {
        ProveJobResult r;
        r.index = order[k];
        r.label = jobs[order[k]].label;
        r.rank = rank;
        r.error = {category,
                   job_message(order[k], r.label,
                               "rank " + std::to_string(rank) + ": no backend: " + e.what())};
        deliver(std::move(r));
      }
      return;
    }
  }

  const size_t lookahead =
      std::max<size_t>(options.lookahead ? options.lookahead : 2 * workers, workers);
  std::vector<std::optional<ProveJobResult>> slots(n);
  std::mutex mu;
  std::condition_variable ready, room;
  size_t next = 0, delivered = 0;
  bool stop = false;
  auto work = [&](unsigned w) {
    std::optional<JobError> setup_error;
    if (options.on_worker_start) {
      try {
        options.on_worker_start(rank, w);
      } catch (const Error& e) {
        setup_error =
            JobError{e.category(), "rank " + std::to_string(rank) + ": worker setup: " + e.what()};
      } catch (const std::exception& e) {
        setup_error = JobError{ErrorCategory::Internal,
                               "rank " + std::to_string(rank) + ": worker setup: " + e.what()};
      }
    }
    for (;;) {
      size_t k;
      {
        std::unique_lock lock(mu);
        room.wait(lock, [&] { return stop || next >= n || next < delivered + lookahead; });
        if (stop || next >= n)
          return;
        k = next++;
      }
      ProveJobResult r;
      if (setup_error) {
        r.index = order[k];
        r.label = jobs[order[k]].label;
        r.rank = rank;
        r.error = {setup_error->category, job_message(order[k], r.label, setup_error->message)};
      } else {
        r = prove_one(jobs[order[k]], order[k], rank, options, backends[w], prove_lock);
      }
      {
        std::lock_guard lock(mu);
        slots[k] = std::move(r);
      }
      ready.notify_all();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (unsigned w = 0; w < workers; ++w)
    pool.emplace_back(work, w);
  std::exception_ptr failure;
  for (size_t k = 0; k < n && !failure; ++k) {
    ProveJobResult r;
    {
      std::unique_lock lock(mu);
      ready.wait(lock, [&] { return slots[k].has_value(); });
      r = std::move(*slots[k]);
      slots[k].reset();
      delivered = k + 1;
    }
    room.notify_all();
    try {
      deliver(std::move(r));
    } catch (...) {
      failure = std::current_exception();
    }
  }
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  room.notify_all();
  for (std::thread& t : pool)
    t.join();
  if (failure)
    std::rethrow_exception(failure);
}

} // namespace

// Steps of the job's run on the native engine (the cost estimate's input); 0 for a job that fails.
uint64_t detail::native_steps(const ProveJob& job) {
  if (job.error || job.max_steps >= kMaxProvableSteps)
    return 0;
  try {
    vm::RunOptions run;
    run.engine = vm::EngineKind::Native;
    run.max_steps = job.max_steps;
    run.layers = job.layers;
    run.record_trace = false;
    return vm::run(job_program(job), run).steps;
  } catch (const std::exception&) {
    return 0;
  }
}

void prove_batch(const std::vector<ProveJob>& jobs, const BatchProveOptions& options,
                 const ResultFn& on_result) {
  std::vector<size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (options.group) return detail::prove_grouped(jobs, order, options, 0, on_result);
  prove_local(jobs, order, options, 0, on_result);
}

uint64_t estimated_job_cost(uint64_t steps, const stark::Profile& profile) {
  VmStatement shape;
  shape.steps = steps;
  return estimated_prover_bytes(shape, profile);
}

std::vector<int> assign_jobs(const std::vector<uint64_t>& costs, int ranks) {
  if (ranks < 1)
    throw Error(ErrorCategory::Usage, "assign_jobs: " + std::to_string(ranks) + " ranks");
  std::vector<size_t> by_cost(costs.size());
  std::iota(by_cost.begin(), by_cost.end(), size_t{0});
  std::stable_sort(by_cost.begin(), by_cost.end(),
                   [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<uint64_t> load(static_cast<size_t>(ranks), 0); // each cost < 2^45, at most 2^20 jobs
  std::vector<int> out(costs.size(), 0);
  for (size_t i : by_cost) {
    const int r =
        static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin()); // first least
    out[i] = r;
    load[static_cast<size_t>(r)] += costs[i];
  }
  return out;
}

comm::Bytes serialize_result(const ProveJobResult& result) {
  comm::ByteWriter w;
  w.u64(result.index);
  w.string(result.label);
  w.u32(static_cast<uint32_t>(result.rank));
  w.u8(result.ok() ? 1 : 0);
  if (result.ok()) {
    const ProvedRun& run = *result.run;
    w.bytes(proof_file_binary(run.claim, run.proof));
    w.f64(run.execute_ms);
    w.f64(run.witness_ms);
    w.f64(run.prove_ms);
    for (double t : run.timings.wall_ms)
      w.f64(t);
    for (double t : run.timings.cpu_ms)
      w.f64(t);
  } else {
    w.u8(static_cast<uint8_t>(result.error.category));
    w.string(result.error.message);
  }
  return w.take();
}

ProveJobResult deserialize_result(comm::ByteReader& in) {
  ProveJobResult r;
  r.index = static_cast<size_t>(in.u64());
  r.label = in.string();
  r.rank = static_cast<int>(in.u32());
  if (in.u8()) {
    const comm::Bytes file = in.bytes();
    ProofFile proof = read_proof_file_binary(file);
    ProvedRun run;
    run.claim = std::move(proof.claim);
    run.proof = std::move(proof.proof);
    run.execute_ms = in.f64();
    run.witness_ms = in.f64();
    run.prove_ms = in.f64();
    for (double& t : run.timings.wall_ms)
      t = in.f64();
    for (double& t : run.timings.cpu_ms)
      t = in.f64();
    r.run = std::move(run);
  } else {
    const uint8_t category = in.u8();
    if (category > static_cast<uint8_t>(ErrorCategory::Device))
      throw Error(ErrorCategory::Parse,
                  "batch result: unknown error category " + std::to_string(category));
    r.error = {static_cast<ErrorCategory>(category), in.string()};
  }
  return r;
}

void prove_batch(comm::Communicator& comm, const std::vector<ProveJob>& jobs,
                 const BatchProveOptions& options, const ResultFn& on_result) {
  const int size = comm.size(), rank = comm.rank();
  if (options.group && size > 1)
    throw Error(ErrorCategory::Usage, "prove_batch over " + std::to_string(size) +
                                          " ranks: lockstep groups (BatchProveOptions::group) run on one rank");
  if (options.backend && size > 1)
    throw Error(ErrorCategory::Usage,
                "prove_batch over " + std::to_string(size) +
                    " ranks: each rank makes its own backend (BatchProveOptions::backend must "
                    "be null; give backend_factory)");
  const size_t n = jobs.size();
  if (size == 1)
    return prove_batch(jobs, options, on_result);

  // 1. Shapes: job i's native run on rank i mod size, step counts all-gathered.
  comm::ByteWriter mine;
  for (size_t i = static_cast<size_t>(rank); i < n; i += static_cast<size_t>(size))
    mine.u64(detail::native_steps(jobs[i]));
  const comm::Bytes mine_bytes = mine.take();
  const std::vector<comm::Bytes> shapes = comm.all_gather(mine_bytes);
  std::vector<uint64_t> costs(n, 0);
  for (int r = 0; r < size; ++r) {
    comm::ByteReader in(shapes[static_cast<size_t>(r)],
                        "batch shapes from rank " + std::to_string(r));
    for (size_t i = static_cast<size_t>(r); i < n; i += static_cast<size_t>(size)) {
      const uint64_t steps = in.u64();
      const ProveJob& job = jobs[i];
      const stark::Profile profile = job.profile       ? *job.profile
                                     : options.profile ? *options.profile
                                                       : automatic_profile(steps);
      costs[i] = job.error ? 0 : estimated_job_cost(steps, profile);
    }
  }
  const std::vector<int> owner = assign_jobs(costs, size);

  // 2. This rank's jobs, in job order. A failure of the pipeline itself fails the jobs not yet
  // reported, so rank 0 still hears of every job.
  std::vector<size_t> order;
  for (size_t i = 0; i < n; ++i)
    if (owner[i] == rank)
      order.push_back(i);
  comm::ByteWriter out;
  std::vector<bool> reported(n, false);
  try {
    prove_local(jobs, order, options, rank, [&](ProveJobResult&& r) {
      out.bytes(serialize_result(r));
      reported[r.index] = true;
    });
  } catch (const std::exception& e) {
    const ErrorCategory category = dynamic_cast<const Error*>(&e)
                                       ? static_cast<const Error&>(e).category()
                                       : ErrorCategory::Internal;
    for (size_t i : order) {
      if (reported[i])
        continue;
      ProveJobResult r;
      r.index = i;
      r.label = jobs[i].label;
      r.rank = rank;
      r.error = {category,
                 job_message(i, r.label, "rank " + std::to_string(rank) + " failed: " + e.what())};
      out.bytes(serialize_result(r));
    }
  }
  const comm::Bytes out_bytes = out.take();

  // 3. Gathered to rank 0, delivered in job order; a job no rank reported is failed, not lost.
  const std::vector<comm::Bytes> blocks = comm.gather(out_bytes, 0);
  if (rank != 0)
    return;
  std::vector<std::optional<ProveJobResult>> results(n);
  for (int r = 0; r < size; ++r) {
    const std::string what = "batch results from rank " + std::to_string(r);
    comm::ByteReader in(blocks[static_cast<size_t>(r)], what);
    while (!in.done()) {
      const comm::Bytes one = in.bytes();
      comm::ByteReader record(one, what);
      ProveJobResult result = deserialize_result(record);
      if (result.index >= n || owner[result.index] != r || results[result.index])
        throw Error(ErrorCategory::Internal,
                    what + ": job " + std::to_string(result.index) + " was not its to report");
      results[result.index] = std::move(result);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!results[i]) {
      ProveJobResult r;
      r.index = i;
      r.label = jobs[i].label;
      r.rank = owner[i];
      r.error = {
          ErrorCategory::Internal,
          job_message(i, r.label, "rank " + std::to_string(owner[i]) + " did not report it")};
      results[i] = std::move(r);
    }
    on_result(std::move(*results[i]));
  }
}

} // namespace ptvm::vmair
