// Batch proving across ranks. Two kinds of figures, told apart by their names and labels:
//
// BM_ProveBatchThreadRanks/ranks:R (measured): a batch of 12 mixed jobs (vm-small, 96 bits)
//   proven by vmair::prove_batch over R in-process thread ranks on this machine's CPU cores;
//   items_per_second counts jobs. With the CPU backend already using every core inside one proof,
//   ranks here mostly overlap the serial parts (trace generation, Fiat-Shamir, small stages).
//
// BM_ModeledGpuBatch/gpus:G/jobs:J (modeled, label "modeled"): the speed-up of proving a batch of
//   J mixed-shape jobs on G GPUs (8 per node; more is several nodes) over one GPU, from
//     - compute: each job's estimated_job_cost at an assumed GPU proving rate (kGpuRowsPerSecond
//       trace rows per second, an assumption stated in the counters), summed per rank of the
//       deterministic LPT assignment (vmair::assign_jobs) that prove_batch uses;
//     - communication: the collectives prove_batch makes, each costed latency + bytes/bandwidth:
//       one all_gather of the step counts (8 bytes per job), the gather of every proof to rank 0
//       (proof bytes measured from a real proof and scaled by trace size). NVLink 450 GB/s per
//       direction per GPU inside a node, InfiniBand 50 GB/s per node across nodes; latency
//       10 us per collective in a node, 25 us across nodes (NCCL/MPI small-message figures);
//     - the shape phase (one native run per job, spread over the ranks), measured here on the CPU.
//   Counters: modeled_speedup, modeled_efficiency, comm_us, comm_fraction, load_imbalance
//   (largest rank load / mean), collectives. Goal (issue #12): >= 7x at 8 GPUs.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "../bench_context.hpp"
#include "ptvm/comm/communicator.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vmair/batch.hpp"
#include "ptvm/vmair/profiles.hpp"

namespace {

using namespace ptvm;

std::string program_path(const char* name) {
  return std::string(PTVM_SOURCE_DIR) + "/programs/" + name;
}

std::vector<vmair::ProveJob> cpu_batch() {
  const struct {
    const char* program;
    uint64_t max_steps;
  } spec[] = {
      {"fibonacci.tvm", 512},     {"multiply.tvm", 512},     {"bitwise.tvm", 512},
      {"counter_100k.tvm", 1500}, {"dot_product.tvm", 512},  {"factorial_recursive.tvm", 512},
      {"fibonacci.tvm", 512},     {"counter_100k.tvm", 700}, {"neuron.tvm", 512},
      {"stack_calls.tvm", 512},   {"sum_wrapping.tvm", 512}, {"counter_100k.tvm", 3000}};
  std::vector<vmair::ProveJob> jobs;
  for (const auto& s : spec) {
    vmair::ProveJob j;
    j.label = s.program;
    j.program = vm::assemble_file(program_path(s.program));
    j.max_steps = s.max_steps;
    jobs.push_back(std::move(j));
  }
  return jobs;
}

void BM_ProveBatchThreadRanks(benchmark::State& state) {
  const int ranks = static_cast<int>(state.range(0));
  const std::vector<vmair::ProveJob> jobs = cpu_batch();
  vmair::BatchProveOptions options;
  options.profile = vmair::profile_by_name("vm-small");
  size_t proven = 0;
  for (auto _ : state) {
    proven = 0;
    comm::run_ranks(ranks, [&](comm::Communicator& c) {
      vmair::prove_batch(c, jobs, options, [&](vmair::ProveJobResult&& r) { proven += r.ok(); });
    });
  }
  if (proven != jobs.size())
    state.SkipWithError("a job failed");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * jobs.size()));
  state.counters["jobs"] = static_cast<double>(jobs.size());
  state.SetLabel("measured, cpu, vm-small, " + std::to_string(ranks) + " thread ranks");
}
BENCHMARK(BM_ProveBatchThreadRanks)
    ->ArgName("ranks")
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// ---- the modeled multi-GPU batch -------------------------------------------------------------

constexpr double kGpuRowsPerSecond =
    64e6; // assumed: trace rows (blowup included) proven per second per GPU
constexpr double kNvlinkBytesPerSecond = 450e9;
constexpr double kInfinibandBytesPerSecond = 50e9;
constexpr double kNodeLatencySeconds = 10e-6;
constexpr double kCrossNodeLatencySeconds = 25e-6;
constexpr int kGpusPerNode = 8;

vm::Program loop_program() {
  return vm::assemble_source(".memory 4\nloop:\nADD 3\nSTORE 1\nJMP loop\n", "loop");
}

// One collective: latency plus the bytes the busiest link carries.
double collective_seconds(int gpus, double bytes_in_node_link, double bytes_cross_node) {
  if (gpus == 1)
    return 0;
  const bool nodes = gpus > kGpusPerNode;
  return (nodes ? kCrossNodeLatencySeconds : kNodeLatencySeconds) +
         bytes_in_node_link / kNvlinkBytesPerSecond + bytes_cross_node / kInfinibandBytesPerSecond;
}

void BM_ModeledGpuBatch(benchmark::State& state) {
  const int gpus = static_cast<int>(state.range(0));
  const size_t n = static_cast<size_t>(state.range(1));
  const stark::Profile profile = vmair::profile_by_name("default");
  // A real proof's size (2^12 steps of the default profile), scaled by log rows for other shapes,
  // and the native engine's time per step (the shape phase), best of 3: both measured once.
  static const double sample_proof_bytes = [&] {
    vmair::ProveOptions prove;
    prove.profile = profile;
    prove.max_steps = 1 << 12;
    prove.lockstep = false;
    return static_cast<double>(
        stark::proof_binary_size(vmair::prove_program(loop_program(), prove).proof));
  }();
  static const double native_seconds_per_step = [] {
    vm::RunOptions native;
    native.max_steps = 1 << 20;
    native.record_trace = false;
    double best = 1e30;
    for (int k = 0; k < 3; ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(vm::run(loop_program(), native).steps);
      best = std::min(best,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best / static_cast<double>(native.max_steps);
  }();

  // Mixed shapes: 2^10 .. 2^18 steps, deterministic (a fixed LCG).
  std::vector<uint64_t> steps(n), costs(n);
  std::vector<double> seconds(n), proof_bytes(n);
  uint64_t seed = 12345;
  double native_total = 0;
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    const int log_steps = 10 + static_cast<int>((seed >> 33) % 9);
    steps[i] = (uint64_t{1} << log_steps) - 3;
    costs[i] = vmair::estimated_job_cost(steps[i], profile);
    const double rows = std::ldexp(1.0, log_steps + static_cast<int>(profile.log_blowup));
    seconds[i] = rows / kGpuRowsPerSecond;
    proof_bytes[i] =
        sample_proof_bytes * (log_steps + profile.log_blowup) / (12.0 + profile.log_blowup);
    native_total += static_cast<double>(steps[i]) * native_seconds_per_step;
  }
  double one_gpu = 0, modeled = 0, comm_seconds = 0, imbalance = 1;
  int collectives = 0;
  for (auto _ : state) {
    const std::vector<int> owner = vmair::assign_jobs(costs, gpus);
    std::vector<double> load(static_cast<size_t>(gpus), 0);
    double to_root_in_node = 0, to_root_cross = 0;
    for (size_t i = 0; i < n; ++i) {
      load[static_cast<size_t>(owner[i])] += seconds[i];
      if (owner[i] == 0)
        continue;
      (owner[i] < kGpusPerNode ? to_root_in_node : to_root_cross) += proof_bytes[i];
    }
    one_gpu = native_total + std::accumulate(seconds.begin(), seconds.end(), 0.0);
    const double longest = *std::max_element(load.begin(), load.end());
    imbalance = longest / (std::accumulate(load.begin(), load.end(), 0.0) / gpus);
    // all_gather of the step counts (every rank receives 8 bytes per job), then the gather of the
    // proofs: rank 0's NVLink carries what its node's ranks send and its node's link what the
    // other nodes send.
    const double shapes =
        collective_seconds(gpus, 8.0 * static_cast<double>(n), gpus > kGpusPerNode ? 8.0 * n : 0);
    const double gather = collective_seconds(gpus, to_root_in_node + to_root_cross, to_root_cross);
    comm_seconds = shapes + gather;
    collectives = gpus == 1 ? 0 : 2;
    modeled = native_total / gpus + longest + comm_seconds;
    benchmark::DoNotOptimize(modeled);
  }
  state.counters["modeled_speedup"] = one_gpu / modeled;
  state.counters["modeled_efficiency"] = one_gpu / modeled / gpus;
  state.counters["modeled_batch_ms"] = modeled * 1e3;
  state.counters["one_gpu_ms"] = one_gpu * 1e3;
  state.counters["comm_us"] = comm_seconds * 1e6;
  state.counters["comm_fraction"] = comm_seconds / modeled;
  state.counters["load_imbalance"] = imbalance;
  state.counters["collectives"] = collectives;
  state.counters["assumed_gpu_rows_per_s"] = kGpuRowsPerSecond;
  state.counters["native_ns_per_step"] = native_seconds_per_step * 1e9;
  state.SetLabel("modeled: LPT over " + std::to_string(gpus) +
                 " GPUs, NVLink 450 GB/s, IB 50 GB/s/node");
}
BENCHMARK(BM_ModeledGpuBatch)
    ->ArgNames({"gpus", "jobs"})
    ->ArgsProduct({{1, 2, 4, 8, 16}, {16, 64, 256}})
    ->Iterations(1)
    ->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char** argv) {
  return ptvm::bench::run_main(argc, argv, "cpu",
                               {.timing = ptvm::bench::Timing::HostClock,
                                .threads = ptvm::bench::Threads::CpuBackendPool,
                                .note = "BM_ProveBatchThreadRanks is measured on this CPU; "
                                        "BM_ModeledGpuBatch is modeled (its counters: "
                                        "compute at an assumed GPU rate, collectives as latency + "
                                        "bytes/bandwidth, NVLink 450 GB/s, "
                                        "InfiniBand 50 GB/s per node), not a measurement"});
}
