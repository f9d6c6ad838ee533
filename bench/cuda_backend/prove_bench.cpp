// The circle-STARK prover on the CUDA backend, wide Fibonacci (64 columns, the benchmark AIR of
// issue #4), default profile except PoW (see below).
//   * ptvm::cuda: wall time of a whole proof on the GPU (columns resident on the device).
//   * ptvm::hostsim: the kernels run on fibers, so wall time means nothing; the reported (manual)
//     time is the MODELED H100 time, the sum over the backend's stages of bytes moved / 3.35 TB/s
//     (ptvm/gpu/hostsim/profile.hpp), and one counter per stage gives its modeled bytes.
// PoW bits are 8 here: grinding cost does not depend on the trace, and 24 bits under fibers would
// take hours. Sizes: log rows 8 and 10 by default (host-sim is slow); PTVM_LARGE_TESTS=1 adds
// 14 and 18 on a GPU. PTVM_BENCH_PROFILE=1 prints host-sim's per-kernel and per-stage table (bytes
// moved against each stage's minimum).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "ptvm/air/examples/wide_fibonacci.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/stark/prover.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace {

using namespace ptvm;

void BM_ProveWideFibonacci(benchmark::State& state) {
  if (!gpu::device_available()) {
    state.SkipWithError("no CUDA device visible");
    return;
  }
  const uint32_t log_rows = static_cast<uint32_t>(state.range(0));
  air::examples::WideFibonacci fib{log_rows, 64, true};
  air::Air a;
  a.components.push_back(air::make_component(fib));
  a.n_public_inputs = 2;
  const std::vector<M31> pub = {M31::one(), M31::one()};
  const std::vector<std::vector<std::vector<M31>>> traces = {fib.generate_trace()};
  stark::Profile profile = stark::profile_by_name("default");
  profile.pow_bits = 8;
  auto backend = gpu::make_cuda_backend();
  for (auto _ : state) {
#if defined(PTVM_HOSTSIM)
    hostsim::set_profiling(true);
    hostsim::reset_profile();
    stark::prove(a, pub, traces, profile, *backend);
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
    stark::prove(a, pub, traces, profile, *backend);
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
#endif
  }
  state.SetItemsProcessed(state.iterations() * (int64_t{1} << log_rows) * 64);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(8)->Arg(10);
#if !defined(PTVM_HOSTSIM)
  if (std::getenv("PTVM_LARGE_TESTS")) b->Arg(14)->Arg(18);
#endif
#if defined(PTVM_HOSTSIM)
  b->Iterations(1);
#endif
  b->UseManualTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_ProveWideFibonacci)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
