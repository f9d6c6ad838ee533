// statement-v1 / the F128 STARK: the original's fibonacci (../shared/vectors/fibonacci.tvm, 103
// steps) proven at production-v1 and ptvm-96 (targets 29 ms and 100 ms), its verification, and
// the F128 NTT and BLAKE2b Merkle throughput on one core.
#include <benchmark/benchmark.h>

#include "../bench_context.hpp"

#include <string>
#include <vector>

#include "ptvm/hash/merkle_generic.hpp"
#include "ptvm/ntt/ntt.hpp"
#include "ptvm/statement_v1/statement.hpp"
#include "ptvm/stark128/vm.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/runner.hpp"

namespace {

using namespace ptvm;

vm::ExecutionTrace fibonacci() {
  vm::RunOptions o;
  o.engine = vm::EngineKind::Native;
  o.max_steps = 100000;
  return vm::run(vm::assemble_file(std::string(PTVM_SHARED_DIR) + "/vectors/fibonacci.tvm"), o).trace;
}

statement_v1::Equivalence equivalence(const vm::ExecutionTrace& t) {
  const std::string fp = statement_v1::run_fingerprint(t);
  return {t.steps(), fp, fp};
}

// The whole statement-v1 prover on a recorded run: claim, witness, STARK.
void BM_StatementV1_Fibonacci_Prove(benchmark::State& state, const char* profile) {
  const vm::ExecutionTrace trace = fibonacci();
  statement_v1::ProveOptions o;
  o.options = stark128::profile_by_name(profile);
  for (auto _ : state) benchmark::DoNotOptimize(statement_v1::prove_trace(trace, equivalence(trace), o));
  state.counters["steps"] = static_cast<double>(trace.steps());
}
BENCHMARK_CAPTURE(BM_StatementV1_Fibonacci_Prove, production_v1, "production-v1")->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_StatementV1_Fibonacci_Prove, ptvm_96, "ptvm-96")->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);

void BM_StatementV1_Fibonacci_Verify(benchmark::State& state, const char* profile) {
  const vm::ExecutionTrace trace = fibonacci();
  statement_v1::ProveOptions o;
  o.options = stark128::profile_by_name(profile);
  const auto run = statement_v1::prove_trace(trace, equivalence(trace), o);
  statement_v1::VerifyOptions v;
  v.min_security_bits = 0;
  v.reexecute = false;
  for (auto _ : state) {
    const auto r = statement_v1::verify(run.claim, run.proof, v);
    if (!r.accepted) state.SkipWithError(r.reason.c_str());
  }
}
BENCHMARK_CAPTURE(BM_StatementV1_Fibonacci_Verify, production_v1, "production-v1")->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_StatementV1_Fibonacci_Verify, ptvm_96, "ptvm-96")->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);

// F128 coset NTT (evaluate) of 2^k values: elements per second.
void BM_F128_CosetNtt(benchmark::State& state) {
  const size_t n = size_t{1} << state.range(0);
  std::vector<F128> coeffs(n), values(n);
  for (size_t i = 0; i < n; ++i) coeffs[i] = F128::from_u64(i * 7919 + 1);
  for (auto _ : state) {
    ntt::coset_evaluate_natural(coeffs, values, F128::generator());
    benchmark::DoNotOptimize(values.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_F128_CosetNtt)->Arg(10)->Arg(14)->Arg(18)->Unit(benchmark::kMicrosecond);

// BLAKE2b Merkle commitment of 64 F128 columns of 2^k rows, one thread: bytes hashed per second.
void BM_F128_Blake2bMerkle(benchmark::State& state) {
  const size_t n = size_t{1} << state.range(0);
  std::vector<std::vector<F128>> cols(64, std::vector<F128>(n));
  for (size_t c = 0; c < cols.size(); ++c)
    for (size_t i = 0; i < n; ++i) cols[c][i] = F128::from_u64(c * n + i);
  std::vector<std::span<const F128>> spans(cols.begin(), cols.end());
  for (auto _ : state) benchmark::DoNotOptimize(hash::Blake2bMerkleTree<F128>::commit(spans, 1).root());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * cols.size() * 16));
}
BENCHMARK(BM_F128_Blake2bMerkle)->Arg(10)->Arg(14)->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);

}  // namespace
int main(int argc, char** argv) {
  return ptvm::bench::run_main(
      argc, argv, "cpu",
      {.threads = ptvm::bench::Threads::PerBenchmark,
       .threads_note = "Prove/Verify: BLAKE2b Merkle leaf layers of >= 1024 rows on hardware_concurrency threads, "
                       "everything else on one (compare CPU time); F128_CosetNtt and F128_Blake2bMerkle: one thread"});
}
