// Lockstep group proving (ptvm/gpu/group_backend.hpp) of VM runs under Google Benchmark.
//
// Host-sim build (ptvm_group_bench_hostsim): every reported time is MODELED (README "GPU cost
// model", ptvm/gpu/hostsim/cost_model.hpp): the host-sim counters of one group priced as an H100
// would pay them. Host work (trace recording, the per-job prover core between calls) is not
// modeled. A group of G jobs of one shape is proven for real (G = PTVM_GROUP_BENCH_JOBS, default
// 8 for fibonacci, 1 for 2^14 steps), then extrapolated to a full group (256 fibonacci jobs, 64
// jobs of 2^14 steps; prove-batch's default --group-size is 256): launches and round trips
// per group do not grow with its jobs (tested: GroupBackend.LaunchesPerGroupDoNotGrowWithJobs),
// kernel bytes, declared ops and copied bytes are per job, so linear. A warm-up group of the shape
// runs first, so the measured group is the pipeline's steady state. Counters (per full group):
// launches, round_trips, kernel_bytes, transfer_bytes, overlapped_bytes (uploads on the copy
// stream), pinned_transfer_bytes, modeled_group_ms = max(modeled_compute_stream_ms,
// modeled_copy_stream_ms) + modeled_round_trip_ms + modeled_transfer_ms, bytes:<kernel>; of the
// measured group: device_allocations, pinned_allocations, pool_reuses, device_synchronizations; and
//   modeled_proofs_per_second   1024 jobs of ../shared/vectors/fibonacci.tvm (4 groups of 256)
//   modeled_steps_per_second    256 jobs of 2^14 - 1 steps (4 groups of 64)
//   modeled_trace_ms            one trace of 2^k - 1 steps (Trace/k, k from
//                               PTVM_GROUP_BENCH_TRACE_LOGS, default 14) with ms:<kernel>,
//                               launches:<kernel>, stage_bytes:<stage>; Trace20: 2^20 steps (only
//                               with PTVM_GROUP_BENCH_LARGE=1: hours of host-sim)
// CUDA build (ptvm_group_bench_cuda): the same groups timed on the device (wall clock around
// run_group, host work included), reported as measured proofs/s and steps/s.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/group_backend.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/vmair_device.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vmair/prove.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/cost_model.hpp"
#endif

namespace {

using namespace ptvm;

size_t env_jobs(size_t fallback) {
  const char* e = std::getenv("PTVM_GROUP_BENCH_JOBS");
  if (!e || !*e) return fallback;
  const long v = std::strtol(e, nullptr, 10);
  return v >= 1 && v <= 1024 ? static_cast<size_t>(v) : fallback;
}

// Proves `jobs` copies of the program's run (max_steps) in one group; sets the counters of a
// group of 64 and of `total_jobs` jobs in groups of 64.
void bench_group(benchmark::State& state, const vm::Program& program, uint64_t max_steps, size_t jobs,
                 size_t total_jobs, double group_size) {
  if (!gpu::device_available()) {
    state.SkipWithError("no CUDA device visible");
    return;
  }
  vmair::ProveOptions options;
  options.max_steps = max_steps;
  const vmair::RecordedRun run = vmair::record_run(program, options);
  const double steps = static_cast<double>(run.trace.steps());
  auto device = gpu::make_cuda_backend();
  vmair::register_device_airs(*device);
  const double kGroup = std::min<double>(group_size, static_cast<double>(total_jobs));
  [[maybe_unused]] const double groups = std::ceil(static_cast<double>(total_jobs) / kGroup);
  auto prove_group = [&] {
    return gpu::run_group(*device, jobs, [&](size_t, Backend& backend) {
      vmair::ProveOptions o = options;
      o.backend = &backend;
      benchmark::DoNotOptimize(vmair::prove_trace(run.trace, o, run.execute_ms));
    });
  };
  // A first group of the shape fills the device pool and the pipeline's staging slots; the
  // measured one is the steady state (PTVM_GROUP_BENCH_COLD=1: measure the first instead).
  if (!std::getenv("PTVM_GROUP_BENCH_COLD")) prove_group();
  for (auto _ : state) {
#if defined(PTVM_HOSTSIM)
    hostsim::reset_profile();
    hostsim::set_profiling(true);
#endif
    const auto t0 = std::chrono::steady_clock::now();
    auto errors = prove_group();
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& e : errors)
      if (e) {
        state.SkipWithError("a job of the group failed");
        return;
      }
#if defined(PTVM_HOSTSIM)
    const hostsim::ModeledCost c = hostsim::model_cost_now();
    const hostsim::RuntimeProfile r = hostsim::runtime_profile();
    hostsim::set_profiling(false);
    const double scale = kGroup / static_cast<double>(jobs);
    // The cost model's time with the per-job terms scaled to the full group: the compute stream
    // (kernels, per job; launches, per group) against the copy stream (uploads, per job), plus
    // the round trips (per group) and the transfers not overlapped (per job).
    const double compute_s = c.kernel_s * scale + c.launch_s, copy_s = c.copy_stream_s * scale;
    const double group_s = std::max(compute_s, copy_s) + c.round_trip_s + c.transfer_s * scale;
    state.SetIterationTime(group_s);
    state.counters["measured_jobs"] = static_cast<double>(jobs);
    state.counters["launches"] = static_cast<double>(c.launches);
    state.counters["round_trips"] = static_cast<double>(c.round_trips);
    state.counters["kernel_bytes"] = static_cast<double>(c.kernel_bytes) * scale;
    state.counters["kernel_ops"] = static_cast<double>(c.kernel_ops) * scale;
    state.counters["transfer_bytes"] = static_cast<double>(c.h2d_bytes + c.d2h_bytes) * scale;
    state.counters["overlapped_bytes"] = static_cast<double>(c.overlapped_bytes) * scale;
    state.counters["pinned_transfer_bytes"] = static_cast<double>(c.h2d_pinned_bytes + c.d2h_pinned_bytes) * scale;
    // The measured group's allocations and device-wide synchronisations (0 in the steady state).
    state.counters["device_allocations"] = static_cast<double>(r.device_allocations);
    state.counters["pinned_allocations"] = static_cast<double>(r.pinned_allocations);
    state.counters["pool_reuses"] = static_cast<double>(r.pool_reuses);
    state.counters["device_synchronizations"] = static_cast<double>(r.device_synchronizations);
    state.counters["modeled_compute_stream_ms"] = compute_s * 1e3;
    state.counters["modeled_copy_stream_ms"] = copy_s * 1e3;
    state.counters["modeled_group_ms"] = group_s * 1e3;
    state.counters["modeled_kernel_ms"] = c.kernel_s * scale * 1e3;
    state.counters["modeled_launch_ms"] = c.launch_s * 1e3;
    state.counters["modeled_round_trip_ms"] = c.round_trip_s * 1e3;
    state.counters["modeled_transfer_ms"] = c.transfer_s * scale * 1e3;
    for (const auto& k : c.kernels) state.counters["bytes:" + k.name] = static_cast<double>(k.bytes) * scale;
    const double total_s = groups * group_s;
    state.counters["modeled_proofs_per_second"] = static_cast<double>(total_jobs) / total_s;
    state.counters["modeled_steps_per_second"] = static_cast<double>(total_jobs) * steps / total_s;
    if (total_jobs == 1) {
      // One trace: where its modeled time goes, per kernel (max(bytes, ops)) and per stage (bytes).
      state.counters["modeled_trace_ms"] = c.total_s() * 1e3;
      state.counters["steps"] = steps;
      for (const auto& k : c.kernels) {
        state.counters["ms:" + k.name] = k.seconds * 1e3;
        state.counters["launches:" + k.name] = static_cast<double>(k.launches);
      }
      for (const auto& st : hostsim::stage_profiles())
        if (st.name.rfind("group.", 0) == 0) {
          state.counters["stage_bytes:" + st.name] = static_cast<double>(st.bytes);
          state.counters["stage_launches:" + st.name] = static_cast<double>(st.launches);
        }
    }
#else
    state.SetIterationTime(wall_s);
    state.counters["measured_jobs"] = static_cast<double>(jobs);
    state.counters["proofs_per_second"] = static_cast<double>(jobs) / wall_s;
    state.counters["steps_per_second"] = static_cast<double>(jobs) * steps / wall_s;
#endif
    (void)wall_s;
  }
}

std::filesystem::path fibonacci_path() {
  return std::filesystem::path(PTVM_SOURCE_DIR) / ".." / "shared" / "vectors" / "fibonacci.tvm";
}

void GroupFibonacci(benchmark::State& state) {
  if (!std::filesystem::exists(fibonacci_path())) {
    state.SkipWithError(("no " + fibonacci_path().string()).c_str());
    return;
  }
  bench_group(state, vm::assemble_file(fibonacci_path().string()), vm::kDefaultMaxSteps, env_jobs(8), 1024, 256);
}

// programs/counter_100k.tvm with 300 outer iterations (1.2M steps): runs past 2^20 steps.
vm::Program counter() {
  std::ifstream in(std::string(PTVM_SOURCE_DIR) + "/programs/counter_100k.tvm");
  std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = source.find(".init 0 100");
  if (at != std::string::npos) source.replace(at, 11, ".init 0 300");
  return vm::assemble_source(source, "counter_300k.tvm");
}

void GroupSteps14(benchmark::State& state) { bench_group(state, counter(), (uint64_t{1} << 14) - 1, env_jobs(1), 256, 64); }

// One trace of 2^log - 1 steps (log = the benchmark argument) alone on the device pipeline: the
// sizes below 2^20 that host-sim proves in minutes, from which the 2^20 figure is extrapolated
// (README). PTVM_GROUP_BENCH_TRACE_LOGS="14,16,18" picks them (default 14).
void Trace(benchmark::State& state) {
  bench_group(state, counter(), (uint64_t{1} << state.range(0)) - 1, 1, 1, 1);
}
void trace_logs(benchmark::internal::Benchmark* b) {
  const char* e = std::getenv("PTVM_GROUP_BENCH_TRACE_LOGS");
  std::string logs = e && *e ? e : "14";
  for (size_t at = 0; at < logs.size();) {
    size_t end = logs.find(',', at);
    if (end == std::string::npos) end = logs.size();
    const long v = std::strtol(logs.substr(at, end - at).c_str(), nullptr, 10);
    if (v >= 4 && v <= 22) b->Arg(v);
    at = end + 1;
  }
  b->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
}

void Trace20(benchmark::State& state) {
  if (!std::getenv("PTVM_GROUP_BENCH_LARGE")) {
    state.SkipWithError("set PTVM_GROUP_BENCH_LARGE=1 (hours under host-sim)");
    return;
  }
  bench_group(state, counter(), (uint64_t{1} << 20) - 1, 1, 1, 1);
}

BENCHMARK(GroupFibonacci)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(GroupSteps14)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(Trace)->Apply(trace_logs);
BENCHMARK(Trace20)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
