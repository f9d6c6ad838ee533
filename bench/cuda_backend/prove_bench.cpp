// The circle-STARK prover on the CUDA backend, wide Fibonacci (64 columns, the benchmark AIR of
// issue #4), default profile except PoW (see below).
//   * ptvm::cuda: wall time of a whole proof on the GPU (columns resident on the device).
//   * ptvm::hostsim: the kernels run on fibers, so wall time means nothing; the reported (manual)
//     time is the MODELED H100 time, the sum over the backend's stages of bytes moved / 3.35 TB/s
//     (ptvm/gpu/hostsim/profile.hpp), and one counter per stage gives its modeled bytes.
//   * the CPU backend (label "cpu"): the same proof, same profile and sizes, host wall time, so
//     every GPU case (label gpu::runtime_name()) has its CPU figure beside it under the same
//     name (tools/bench_report.py plots the two against each other).
// PoW bits are 8 here: grinding cost does not depend on the trace, and 24 bits under fibers would
// take hours. Sizes: log rows 8 and 10 by default (host-sim is slow); PTVM_LARGE_TESTS=1 adds
// 14 and 18 on a GPU. PTVM_BENCH_PROFILE=1 prints host-sim's per-kernel and per-stage table (bytes
// moved against each stage's minimum).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "../bench_context.hpp"
#include "ptvm/air/examples/wide_fibonacci.hpp"
#include "ptvm/backend.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/stark/prover.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace {

using namespace ptvm;

constexpr const char* kProfileName = "default";
constexpr uint32_t kPowBits = 8;

stark::Profile bench_profile() {
  stark::Profile profile = stark::profile_by_name(kProfileName);
  profile.pow_bits = kPowBits;
  return profile;
}

// The wide Fibonacci AIR (64 columns) at 2^log_rows rows with its trace.
struct Workload {
  explicit Workload(uint32_t log_rows) : fib{log_rows, 64, true} {
    air.components.push_back(air::make_component(fib));
    air.n_public_inputs = 2;
    traces = {fib.generate_trace()};
  }
  air::examples::WideFibonacci fib;
  air::Air air;
  std::vector<M31> pub = {M31::one(), M31::one()};
  std::vector<std::vector<std::vector<M31>>> traces;
};

void BM_ProveWideFibonacci(benchmark::State& state) {
  if (!gpu::device_available()) {
    state.SkipWithError("no CUDA device visible");
    return;
  }
  const uint32_t log_rows = static_cast<uint32_t>(state.range(0));
  const Workload w(log_rows);
  const stark::Profile profile = bench_profile();
  auto backend = gpu::make_cuda_backend();
  for (auto _ : state) {
#if defined(PTVM_HOSTSIM)
    hostsim::set_profiling(true);
    hostsim::reset_profile();
    stark::prove(w.air, w.pub, w.traces, profile, *backend);
    hostsim::set_profiling(false);
    double modeled = 0;
    // The backend's own stages ("cuda.*"); the GPU helpers' stages nest inside them.
    for (const auto& s : hostsim::stage_profiles()) {
      if (s.name.rfind("cuda.", 0) != 0) continue;
      modeled += s.modeled_seconds();
      state.counters[s.name + ".bytes"] = static_cast<double>(s.bytes);
    }
    state.SetIterationTime(modeled);
    if (std::getenv("PTVM_BENCH_PROFILE")) std::fprintf(stderr, "%s\n", hostsim::format_profile().c_str());
#else
    const auto start = std::chrono::steady_clock::now();
    stark::prove(w.air, w.pub, w.traces, profile, *backend);
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
#endif
  }
  state.SetItemsProcessed(state.iterations() * (int64_t{1} << log_rows) * 64);
  state.SetLabel(gpu::runtime_name());
}

// The CPU side of the comparison: the same proof on the CPU backend (PTVM_THREADS threads).
void BM_ProveWideFibonacciCpu(benchmark::State& state) {
  const uint32_t log_rows = static_cast<uint32_t>(state.range(0));
  const Workload w(log_rows);
  const stark::Profile profile = bench_profile();
  auto backend = make_cpu_backend();
  stark::prove(w.air, w.pub, w.traces, profile, *backend);  // untimed: fills the buffer pool
  for (auto _ : state)
    benchmark::DoNotOptimize(stark::prove(w.air, w.pub, w.traces, profile, *backend));
  state.SetItemsProcessed(state.iterations() * (int64_t{1} << log_rows) * 64);
  state.SetLabel("cpu");
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(8)->Arg(10);
#if !defined(PTVM_HOSTSIM)
  if (std::getenv("PTVM_LARGE_TESTS")) b->Arg(14)->Arg(18);
#endif
  b->Unit(benchmark::kMillisecond);
}
void gpu_cases(benchmark::internal::Benchmark* b) {
  sizes(b);
#if defined(PTVM_HOSTSIM)
  b->Iterations(1);
#endif
  b->UseManualTime();
}
void cpu_cases(benchmark::internal::Benchmark* b) {
  sizes(b);
  b->UseRealTime();
}
BENCHMARK(BM_ProveWideFibonacci)->Apply(gpu_cases);
// Registered under the GPU case's name: the label ("cpu" / runtime_name()) tells them apart.
[[maybe_unused]] const auto* const cpu_registered =
    benchmark::RegisterBenchmark("BM_ProveWideFibonacci", BM_ProveWideFibonacciCpu)
        ->Apply(cpu_cases);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
#if defined(PTVM_HOSTSIM)
  constexpr auto timing = ptvm::bench::Timing::ModeledH100;
#else
  constexpr auto timing = ptvm::bench::Timing::GpuWallClock;
#endif
  const std::string profile = std::string(kProfileName) + ", pow_bits " + std::to_string(kPowBits);
  ptvm::bench::add_context(
      ptvm::gpu::runtime_name(),
      {.timing = timing,
       .threads = ptvm::bench::Threads::CpuBackendPool,
       .profile = profile,
       .device = ptvm::gpu::device_description(),
       .note = "cases labelled cpu run on the CPU backend, timed by the host clock (measured)"});
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
