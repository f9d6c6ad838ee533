// VM proving benchmarks: fibonacci end to end per profile (the original needs ~29 s at 32
// conjectured bits), proving time / proof size vs steps (2^8 .. 2^20, a long loop) per stage, and
// N fibonacci runs in one aggregate proof against N separate proofs (size, prove and verify time),
// and verification time vs steps (BM_VerifyLoop).
// Stage times are reported as counters (ms); steps_per_second counts proven steps.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "../bench_context.hpp"
#include "ptvm/backend.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vmair/aggregate.hpp"
#include "ptvm/vmair/prove.hpp"
#include "ptvm/vmair/profiles.hpp"

namespace {

using namespace ptvm;

constexpr double kOriginalFibonacciSeconds = 29.0;  // the original at 32 conjectured bits

// Peak resident memory of the process (Linux VmHWM), reset before each measured proof by writing
// "5" to /proc/self/clear_refs. Both return 0 where /proc is unavailable (the counter then reads 0).
void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  if (f) f << "5";
}
double peak_rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;  // kB
  return 0;
}

// Main-trace cells of the VM AIR for this trace: sum over components of rows x main columns.
double main_trace_cells(const vm::ExecutionTrace& trace) {
  const air::Air air = vmair::build_air(vmair::statement_from_trace(trace));
  double cells = 0;
  for (const auto& c : air.components)
    cells += static_cast<double>(c->info().n_main_columns) * static_cast<double>(uint64_t{1} << c->log_rows());
  return cells;
}

void add_stage_counters(benchmark::State& state, const vmair::ProvedRun& run) {
  const auto& t = run.timings;
  state.counters["execute_ms"] = run.execute_ms;
  state.counters["witness_ms"] = run.witness_ms;
  state.counters["prove_ms"] = run.prove_ms;
  for (size_t i = 0; i + 1 < stark::kStageCount; ++i) {
    const auto stage = static_cast<stark::Stage>(i);
    state.counters[std::string(stark::stage_name(stage)) + "_ms"] = t.wall(stage);
  }
  state.counters["proof_bytes"] = static_cast<double>(stark::proof_binary_size(run.proof));
  state.counters["security_bits"] = run.claim.security_bits;
}

// Fibonacci (the original's program, ../shared/vectors/fibonacci.tvm, 103 steps) end to end:
// lockstep execution, witness, proof. Run with PTVM_THREADS=1 for the one-core figure.
void BM_FibonacciEndToEnd(benchmark::State& state, std::string profile) {
  vm::Program program = vm::assemble_file(std::string(PTVM_SHARED_DIR) + "/vectors/fibonacci.tvm");
  vmair::ProveOptions options;
  options.profile = vmair::profile_by_name(profile);
  auto backend = make_cpu_backend();
  options.backend = backend.get();
  vmair::ProvedRun run;
  double total_ms = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    run = vmair::prove_program(program, options);
    total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(run.proof.proof_of_work);
  }
  add_stage_counters(state, run);
  state.counters["end_to_end_ms"] = total_ms;
  state.counters["speedup_vs_original"] = kOriginalFibonacciSeconds * 1000.0 / total_ms;
  state.counters["steps"] = static_cast<double>(run.claim.statement.steps);
  state.SetLabel("profile=" + profile);
}

// The native trace of a loop that runs forever (ADD, STORE, MUL, XORM, PUSH, POP, CMP, JNZ, JMP),
// stopped at max_steps = steps.
vm::ExecutionTrace loop_trace(uint64_t steps) {
  vm::Program program = vm::assemble_source(
      ".memory 4\nloop:\nADD 3\nSTORE 1\nMUL 5\nXORM 1\nPUSH\nPOP\nCMP 100\nJNZ loop\nJMP loop\n", "loop");
  vm::RunOptions run_options;
  run_options.max_steps = steps;
  return vm::run(program, run_options).trace;
}

// The loop of loop_trace, stopped at
// max_steps = 2^k (2^10 .. 2^22: the steps/s curve; 2^22 needs ~10 GB), proven at the given profile (second argument: 1 = "default", 0 = "vm-small";
// vm-small blows the trace up 16x and is meant for small runs).
void BM_ProveLoop(benchmark::State& state) {
  const uint64_t steps = uint64_t{1} << state.range(0);
  vm::ExecutionTrace trace = loop_trace(steps);
  vmair::ProveOptions options;
  const std::string profile = state.range(1) ? "default" : "vm-small";
  options.profile = vmair::profile_by_name(profile);
  auto backend = make_cpu_backend();
  options.backend = backend.get();
  // A cold proof first, untimed: it pays the first touch of its peak footprint (page faults, ~3 ms
  // per MiB on this project's VMs: ~2.5 GB, several seconds of system time at 2^20), which the
  // CPU backend's buffer pool then keeps; the timed proof is the warm one a batch prover (or
  // prove-batch) runs at that size. Both are reported.
  reset_peak_rss();
  vmair::ProvedRun run = vmair::prove_trace(trace, options);
  double peak = peak_rss_bytes();
  const double cold_ms = run.prove_ms;
  for (auto _ : state) {
    run = vmair::prove_trace(trace, options);
    benchmark::DoNotOptimize(run.proof.proof_of_work);
  }
  state.counters["cold_prove_ms"] = cold_ms;
  add_stage_counters(state, run);
  // Peak memory of the proof (the process's high-water mark while proving, trace included) and
  // per main-trace cell: the largest trace that fits a memory budget is budget / bytes_per_cell.
  const double cells = main_trace_cells(trace);
  state.counters["peak_rss_bytes"] = peak;
  state.counters["main_trace_cells"] = cells;
  state.counters["peak_bytes_per_main_cell"] = cells > 0 ? peak / cells : 0;
  state.counters["steps_per_second"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("profile=" + profile);
}

// N runs of the original's fibonacci (../shared/vectors/fibonacci.tvm) at the automatic 96-bit
// profile: one aggregate proof (prove-batch --aggregate) against N separate proofs of the same
// runs. Counters: bytes and verify time of both, and their ratios (separate / aggregate).
void BM_AggregateFibonacci(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const vm::Program program = vm::assemble_file(std::string(PTVM_SHARED_DIR) + "/vectors/fibonacci.tvm");
  vmair::ProveOptions po;
  const vmair::RecordedRun recorded = vmair::record_run(program, po);
  std::vector<vmair::AggregateRun> runs(n, vmair::AggregateRun{&recorded.trace, 1});
  vmair::AggregateProof agg;
  for (auto _ : state) agg = vmair::prove_aggregate(runs);
  const vmair::ProvedRun one = vmair::prove_trace(recorded.trace, po);
  auto time_ms = [](auto&& f, int reps) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
  };
  bool ok = true;
  const double agg_verify = time_ms([&] { ok = ok && vmair::verify_aggregate(agg.claims, agg.proof).accepted; }, 3);
  const double one_verify = time_ms([&] { ok = ok && vmair::verify_proof(one.claim, one.proof).accepted; }, 3);
  if (!ok) state.SkipWithError("a proof was rejected");
  const double agg_bytes = static_cast<double>(stark::proof_binary_size(agg.proof));
  const double sep_bytes = static_cast<double>(n) * static_cast<double>(stark::proof_binary_size(one.proof));
  state.counters["jobs"] = static_cast<double>(n);
  state.counters["aggregate_proof_bytes"] = agg_bytes;
  state.counters["separate_proof_bytes"] = sep_bytes;
  state.counters["bytes_ratio_separate_over_aggregate"] = sep_bytes / agg_bytes;
  state.counters["aggregate_verify_ms"] = agg_verify;
  state.counters["separate_verify_ms"] = one_verify * static_cast<double>(n);
  state.counters["verify_ratio_separate_over_aggregate"] = one_verify * static_cast<double>(n) / agg_verify;
  state.counters["separate_prove_ms"] = one.prove_ms * static_cast<double>(n);
  state.counters["proofs_per_second"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("profile=" + agg.claims[0].profile.name);
}

// Verification of a loop proof of 2^k steps at the default profile (#8: <= 15 ms up to 2^22):
// proved once outside the timed loop, then vmair::verify_proof (claim checks, channel, composition
// at the OODS point, Merkle paths, DEEP, FRI, tree 0 recomputed: ROM, memory and tables only, the
// step component's preprocessed columns being succinct). 2^16 and 2^20 by default; 2^22 (about
// 10 GB and minutes to prove) only with PTVM_BENCH_LARGE=1.
void BM_VerifyLoop(benchmark::State& state) {
  const uint64_t steps = uint64_t{1} << state.range(0);
  vm::ExecutionTrace trace = loop_trace(steps);
  vmair::ProveOptions options;
  options.profile = vmair::profile_by_name("default");
  auto backend = make_cpu_backend();
  options.backend = backend.get();
  const vmair::ProvedRun run = vmair::prove_trace(trace, options);
  bool ok = true;
  for (auto _ : state) {
    ok = ok && vmair::verify_proof(run.claim, run.proof).accepted;
  }
  if (!ok) state.SkipWithError("the proof was rejected");
  state.counters["prove_ms"] = run.prove_ms;
  state.counters["proof_bytes"] = static_cast<double>(stark::proof_binary_size(run.proof));
  state.counters["steps"] = static_cast<double>(steps);
  state.SetLabel("profile=default");
}

BENCHMARK_CAPTURE(BM_FibonacciEndToEnd, vm_small, std::string("vm-small"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_FibonacciEndToEnd, default, std::string("default"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ProveLoop)
    ->ArgsProduct({{10, 12, 14, 16, 18, 20, 22}, {1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK(BM_AggregateFibonacci)->Arg(1)->Arg(4)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  // PTVM_BENCH_LARGE=1 (the benchmarks' opt-in for large sizes) adds the 2^22 verify case.
  const char* large = std::getenv("PTVM_BENCH_LARGE");
  const bool verify_large = large && std::string(large) == "1";
  auto* verify = benchmark::RegisterBenchmark("BM_VerifyLoop", BM_VerifyLoop)->Arg(16)->Arg(20);
  if (verify_large) verify->Arg(22);
  verify->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // The profile differs between cases: each case's label names it.
  ptvm::bench::add_context("cpu", {.threads = ptvm::bench::Threads::CpuBackendPool});
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
