// End-to-end circle-STARK proving of the wide Fibonacci AIR (64 columns) on the CPU backend, per
// stage, with proof size and verify time. Rows 2^16..2^20 (Arg = log rows).
//   PTVM_BENCH_PROFILE   profile name (default "default"; e.g. "stwo-cairo", "blowup4")
//   PTVM_THREADS         threads of the CPU backend (default: all cores)
// Counters are milliseconds per stage of the last iteration, proof_bytes, verify_ms, and
// items_per_second = trace cells (rows x columns) proven per second.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>

#include "../bench_context.hpp"
#include "ptvm/air/component.hpp"
#include "ptvm/air/examples/wide_fibonacci.hpp"
#include "ptvm/backend.hpp"
#include "ptvm/stark/prover.hpp"
#include "ptvm/stark/verifier.hpp"

namespace {

using namespace ptvm;

const char* bench_profile_name() {
  const char* name = std::getenv("PTVM_BENCH_PROFILE");
  return name ? name : "default";
}

stark::Profile bench_profile() { return stark::profile_by_name(bench_profile_name()); }

void BM_ProveWideFibonacci64(benchmark::State& state) {
  const uint32_t log_rows = static_cast<uint32_t>(state.range(0));
  const uint32_t n_columns = 64;
  air::examples::WideFibonacci fib{log_rows, n_columns, true};
  air::Air air;
  air.components.push_back(air::make_component(fib));
  air.n_public_inputs = 2;
  std::vector<M31> pub = {M31::one(), M31::one()};
  auto traces = std::vector<std::vector<std::vector<M31>>>{fib.generate_trace()};
  const stark::Profile profile = bench_profile();
  auto backend = make_cpu_backend();
  stark::StageTimings t;
  // One untimed proof first: the CPU backend's buffer pool then holds the peak footprint, so the
  // timed proof does not pay first-touch page faults (~3 ms per MiB on this VM).
  stark::StarkProof proof = stark::prove(air, pub, traces, profile, *backend, &t);
  for (auto _ : state) {
    proof = stark::prove(air, pub, traces, profile, *backend, &t);
    benchmark::DoNotOptimize(proof);
  }
  auto root = stark::preprocessed_commitment(air, profile);
  auto start = std::chrono::steady_clock::now();
  stark::Verdict v = stark::verify(air, pub, proof, profile, root);
  double verify_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!v.accepted) state.SkipWithError(("verify failed: " + v.reason).c_str());
  for (size_t i = 0; i < stark::kStageCount; ++i) {
    auto stage = static_cast<stark::Stage>(i);
    state.counters[std::string(stark::stage_name(stage)) + "_ms"] = t.wall(stage);
    state.counters[std::string(stark::stage_name(stage)) + "_cpu_ms"] = t.cpu(stage);
  }
  state.counters["proof_bytes"] = static_cast<double>(stark::proof_binary_size(proof));
  state.counters["verify_ms"] = verify_ms;
  state.counters["security_bits"] = stark::conjectured_security_bits(profile, log_rows + profile.log_blowup);
  state.SetItemsProcessed(state.iterations() * (int64_t{1} << log_rows) * n_columns);
}

BENCHMARK(BM_ProveWideFibonacci64)->DenseRange(16, 20)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return ptvm::bench::run_main(argc, argv, "cpu", {.threads = ptvm::bench::Threads::CpuBackendPool,
                                   .profile = bench_profile_name()}); }
