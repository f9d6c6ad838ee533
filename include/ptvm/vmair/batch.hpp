// Proving many TVM runs: prove_batch takes jobs (a program, its initial memory, max steps,
// layers, a profile), proves each on its own (one claim and one proof per job) and hands the
// results to a callback in job order, whatever order they were proven in. A job that fails
// (assembly, runtime error, divergence, an unprovable run) is that job's result with its error;
// the others go on. Proofs do not depend on how the batch ran: the same bytes as prove_program
// of each job alone, for any thread or rank count.
//
// On one rank: `workers` threads each take the next job, produce its trace (transformer and native
// in lockstep) and prove it; a shared backend proves one job at a time while the other workers
// produce the next traces (the double-buffered pipeline), per-worker backends prove several jobs
// at once. At most `lookahead` finished results wait for an earlier job, bounding memory.
//
// Over a Communicator (ptvm/comm/communicator.hpp): every rank is given the same jobs. The ranks
// first run each job's program on the native engine (job i on rank i mod size; cheap next to
// proving) and all-gather the step counts, from which each job's cost is estimated
// (estimated_prover_bytes: the trace's padded rows times the blowup, so jobs of one shape cost
// the same); jobs go to ranks longest-processing-time first (assign_jobs). Each rank proves its
// jobs, and the results are gathered to rank 0, which calls on_result in job order (the other
// ranks call it for nothing). A rank whose pipeline fails as a whole (its backend cannot be made,
// a device error) reports each of its jobs failed with that reason: no job is lost.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ptvm/backend.hpp"
#include "ptvm/comm/communicator.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/vm/isa.hpp"
#include "ptvm/vmair/prove.hpp"

namespace ptvm::vmair {

struct JobError {
  ErrorCategory category = ErrorCategory::Internal;
  std::string message; // names the job: "job 3 (programs/x.tvm): ..."
};

struct ProveJob {
  std::string label; // what messages call the job (the manifest's program as written)
  vm::Program program;
  std::optional<std::vector<int16_t>> initial_memory; // replaces program.initial_memory
  uint64_t max_steps = vm::kDefaultMaxSteps;
  int layers = 1;
  std::optional<stark::Profile> profile; // nullopt: BatchProveOptions::profile
  // A job known to be bad before it runs (a manifest entry's error, a program that did not
  // assemble): reported as its result, unchanged, and never run.
  std::optional<JobError> error;
};

struct ProveJobResult {
  size_t index = 0; // the job's position in the batch
  std::string label;
  std::optional<ProvedRun> run; // set when the job was proven
  JobError error;               // when it was not
  int rank = 0;                 // which rank handled it
  bool ok() const { return run.has_value(); }
};

// Makes the backend of one proving worker of one rank (for example a CUDA backend on that rank's
// device); may throw, which fails that rank's jobs.
using BackendFactory = std::function<std::unique_ptr<Backend>(int rank, unsigned worker)>;

// Lockstep groups on one device (ptvm/gpu/group_backend.hpp: gpu::run_group). This library does
// not link a GPU runtime, so the caller that does gives run_group through `run`. Jobs are sorted
// by shape (padded trace rows, profile), cut into groups of at most max_group jobs of one shape,
// fewer when device_free_bytes bounds them; the traces of the next group are recorded on the
// workers' threads while the current group proves, and results are still delivered in job order.
struct GroupProving {
  // Runs body(j, backend_j) for j < n in lockstep on the device; one entry per job, null when
  // its body returned, else what it threw.
  std::function<std::vector<std::exception_ptr>(size_t n, const std::function<void(size_t, Backend&)>& body)> run;
  size_t max_group = 256;
  // Free device memory (0: not bounded). A group holds at most 80% of it by the jobs' estimated
  // prover memory (estimated_job_cost); a job whose estimate alone exceeds that fails alone.
  uint64_t device_free_bytes = 0;
};

struct BatchProveOptions {
  std::optional<stark::Profile> profile; // nullopt: automatic per job (automatic_profile)
  unsigned workers = 1;                  // threads per rank producing traces and proving
  // Where proofs run: `backend` (shared by the workers, one proof at a time; single-rank only),
  // else `backend_factory` (one backend per worker), else a CPU backend per worker.
  Backend* backend = nullptr;
  BackendFactory backend_factory;
  // Optional: called on each worker thread before its first job (a CUDA rank selects its device
  // here: the current device is a per-thread setting). An exception fails that worker's jobs.
  std::function<void(int rank, unsigned worker)> on_worker_start;
  // Set: prove in lockstep groups on one device (single rank; `backend` and `backend_factory` are
  // not used). `workers` threads record the traces.
  std::optional<GroupProving> group;
  size_t lookahead = 0;          // 0: 2 * workers
  uint64_t max_memory_bytes = 0; // ProveOptions::max_memory_bytes
};

using ResultFn = std::function<void(ProveJobResult&&)>;

// Single rank: proves `jobs` and calls on_result once per job, in job order, on the calling
// thread. An exception thrown by on_result stops the batch (after the running jobs finish) and
// is rethrown.
void prove_batch(const std::vector<ProveJob>& jobs, const BatchProveOptions& options,
                 const ResultFn& on_result);

// Collective over `comm`: every rank passes the same jobs and options; rank 0 receives every
// job's result in job order (results carry the rank that proved them). `options.backend` must be
// null when comm.size() > 1 (each rank makes its own).
void prove_batch(comm::Communicator& comm, const std::vector<ProveJob>& jobs,
                 const BatchProveOptions& options, const ResultFn& on_result);

// The estimated cost of proving a run of `steps` steps (estimated_prover_bytes of its shape).
uint64_t estimated_job_cost(uint64_t steps, const stark::Profile& profile);
// Longest processing time first: jobs by decreasing cost (ties by index) each go to the rank with
// the least load so far (ties by lowest rank). Deterministic; returns each job's rank.
std::vector<int> assign_jobs(const std::vector<uint64_t>& costs, int ranks);

// Results over the wire: the claim and proof as the binary proof file, the timings, the error.
comm::Bytes serialize_result(const ProveJobResult& result);
ProveJobResult deserialize_result(comm::ByteReader& in);

} // namespace ptvm::vmair
