// Lockstep group proving on one device (DESIGN.md "Batches and many GPUs"): the proofs of a group
// of jobs run together, every stage one batched launch (or one fixed set of launches) over the
// columns of all the jobs, instead of one launch per job.
//
// The prover core is written once (host/stark/prover.cpp against ptvm::Backend). run_group runs
// each job's unchanged prover on its own host thread against a per-job proxy backend. A proxy call
// does not touch the device: it waits until every job still running has made its next call (the
// rendezvous), then the coordinator (the thread that called run_group, the only one that launches
// kernels or frees device memory) executes the calls of one kind together, in job order, and
// resumes the jobs. Each job keeps its own Fiat-Shamir channel on its own thread; the challenges
// of all jobs arrive with their calls and are uploaded in one table per round.
//
// Batched on the device (one launch set per distinct column log size, whatever the job count):
// upload_rows, interpolate, evaluate, commit (each Merkle layer of all trees in one launch, all
// roots in one copy), extend_and_commit (the last FFT pass of every tree's largest columns fused
// with their leaf hashes: circle_evaluate_leaves_many), the FRI folds with the next layer's leaves
// (fri_fold_*_and_commit: the *_leaves_many fold kernels), evaluate_at_points, deep_quotients, the FRI folds, grind (one window launch
// over all jobs' digests), ColumnSet::to_host / gather and CommittedTree::open (one gather and
// one copy for all jobs), add_assign, logup_interaction (fractions of all components of one AIR
// type in one launch, every scan and running column in one more) and eval_composition (one launch
// per AIR type). Only slice / coefficient_slice stay per job (device-to-device copies, no kernel).
//
// Proofs are the same bytes as each job proven alone on any backend: every batched launch computes
// the same per-column function as the single launch.
//
// The coordinator runs the rounds under a PipelineScope of the device's pipeline
// (CudaBackend::pipeline(), ptvm/gpu/runtime.hpp): every launch on its compute stream, uploads
// staged through its pinned slots on its copy stream (events order the two), every buffer from
// the stream-ordered pool. Host waits are only on the event of a download the provers need (roots,
// sampled values, claimed sums, openings, nonces) or of a staging slot being refilled; nothing
// synchronises the device, and a second group of a shape allocates no device or pinned memory.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "ptvm/backend.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/cuda_backend.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// The backend calls a proxy forwards, as counted by GroupStats.
enum class GroupCall : uint32_t {
  UploadRows, ToHostRows, Interpolate, Evaluate, EvaluateAtPoints, Commit, Logup, Composition,
  AddAssign, Slice, CoefficientSlice, Deep, FoldCircle, FoldLine, Grind, Gather, Open,  // Gather: to_host too
  ExtendCommit,  // extend_and_commit (the fused LDE + leaf hashes); the fused folds count as folds
  Count
};
const char* group_call_name(GroupCall call);

struct GroupStats {
  uint64_t rounds = 0;  // rendezvous rounds: one host <-> device round trip each
  // Per kind: how many rounds executed it, and how many job calls it covered.
  std::array<uint64_t, static_cast<size_t>(GroupCall::Count)> kind_rounds{}, kind_calls{};
  // Rounds whose calls could not all be batched (jobs at different kinds of call).
  uint64_t mixed_rounds = 0;
};

using GroupJobFn = std::function<void(size_t job, Backend& backend)>;

// Runs body(j, proxy_j) for every j < n_jobs, each on its own host thread, in lockstep on `device`
// (a backend made by make_cuda_backend(); it must outlive the call). Returns one entry per job:
// null when its body returned, else what it threw (a failing job leaves the group; the others go
// on). Column sets and trees a body keeps past its return are destroyed with the group.
std::vector<std::exception_ptr> run_group(CudaBackend& device, size_t n_jobs, const GroupJobFn& body,
                                          GroupStats* stats = nullptr);
// (prove_batch's lockstep groups over run_group: vmair::group_proving, ptvm/gpu/vmair_device.hpp.)

PTVM_GPU_NAMESPACE_END
