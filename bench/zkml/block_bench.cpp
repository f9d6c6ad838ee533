// Transformer block proofs on the CPU (the sumcheck backend, the streamed passes and GKR layers,
// the forward products, the commitments' encoding and Merkle trees on the library's thread pool).
//   BM_Block/shape: shape 0 = d_model 256, 4 query / 2 KV heads, head dim 64, FFN 1024 (SwiGLU),
//     seq_len 16 (issue #16's target: prove <= 30 s, verify <= 200 ms on the 2-core machine).
//     Timed: the forward pass and prove_block (the weights are committed once, outside: commit_ms).
//     Counters: forward_ms, prove_ms (per iteration), verify_ms (median of 5 verify_block runs),
//     proof_bytes (the PTVMBLKP file), commit_ms, weights (real), padded_weights (the MLEs'),
//     peak_rss_mib, peak_rss_bytes_per_weight (peak RSS / real weights), quant_rel_rms (the
//     quantized output against the float reference). Shapes need not be powers of two.
//   BM_BlockThreads/sumcheck_threads: shape 0 proven on make_cpu_sumcheck_backend(threads) (1 or
//     2): the sumcheck prover's scaling with the one knob it has (SumcheckBackend::host_threads);
//     the same counters, the proof bytes identical at both counts (checked: the run fails if not).
//   BM_DecodeStep: the same shape's model, 4 decode steps over a 16-row KV cache; prove_ms per step,
//     verify_ms for the whole chain.
//   BM_BlockCustom (opt-in): PTVM_ZKML_BENCH_SHAPE="d_model=...,q_heads=...,..." adds that shape.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

#include "../bench_context.hpp"
#include "ptvm/sumcheck/backend.hpp"
#include "ptvm/zkml/block.hpp"
#include "ptvm/zkml/block_io.hpp"

namespace {

using namespace ptvm::zkml;
using Clock = std::chrono::steady_clock;

double ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }
double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

void run_block(benchmark::State& state, const BlockShape& shape, ptvm::sumcheck::SumcheckBackend* backend = nullptr,
               std::vector<uint8_t>* bytes_out = nullptr) {
  const TransformerBlock block = transformer_block(shape);
  Values base = random_model(block, 1);
  base[block.input] = random_input(block, 1);
  const auto t0 = Clock::now();
  const auto model = commit_weights(block.graph, base);
  const double commit_ms = ms(t0, Clock::now());
  double forward_ms = 0, prove_ms = 0;
  BlockProof proof;
  Values v;
  for (auto _ : state) {
    v = base;
    const auto a = Clock::now();
    block.graph.forward(v);
    const auto b = Clock::now();
    proof = prove_block(block, v, model, backend);
    const auto c = Clock::now();
    forward_ms += ms(a, b);
    prove_ms += ms(b, c);
  }
  std::vector<double> verify;
  for (int i = 0; i < 5; ++i) {
    const auto a = Clock::now();
    const auto verdict = verify_block(proof, model.commitment());
    verify.push_back(ms(a, Clock::now()));
    if (!verdict.accepted) state.SkipWithError(("rejected: " + verdict.reason).c_str());
  }
  std::sort(verify.begin(), verify.end());
  size_t n_weights = 0;
  for (TensorId w : block.weights) n_weights += block.graph.tensors()[w].real_size();
  const double n = double(state.iterations());
  state.counters["forward_ms"] = forward_ms / n;
  state.counters["prove_ms"] = prove_ms / n;
  state.counters["verify_ms"] = verify[2];
  const std::vector<uint8_t> bytes = block_proofs_to_bytes(std::vector<BlockProof>{proof});
  state.counters["proof_bytes"] = double(bytes.size());
  if (bytes_out) *bytes_out = bytes;
  state.counters["commit_ms"] = commit_ms;
  state.counters["weights"] = double(n_weights);
  state.counters["peak_rss_mib"] = peak_rss_mib();
  // The prover's memory per real weight (the process's peak RSS: model, commitment, forward pass,
  // proof; the padded weights are what the MLEs hold: padded_weights).
  state.counters["peak_rss_bytes_per_weight"] = peak_rss_mib() * 1048576.0 / double(n_weights);
  size_t padded = 0;
  for (TensorId w : block.weights) padded += block.graph.tensors()[w].size();
  state.counters["padded_weights"] = double(padded);
  state.counters["quant_rel_rms"] = quantization_error(block, v).relative_rms;
  state.SetLabel(shape.to_string());
}

const BlockShape kTarget{256, 4, 2, 64, 1024, 16, FfnKind::SwiGLU};

void BM_Block(benchmark::State& state) { run_block(state, kTarget); }
BENCHMARK(BM_Block)->Arg(0)->ArgName("shape")->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

void BM_BlockThreads(benchmark::State& state) {
  static std::vector<uint8_t> first;  // the proof of the first thread count run
  const auto backend = ptvm::sumcheck::make_cpu_sumcheck_backend(unsigned(state.range(0)));
  std::vector<uint8_t> bytes;
  run_block(state, kTarget, backend.get(), &bytes);
  if (first.empty()) first = bytes;
  else if (bytes != first) state.SkipWithError("the proof bytes differ between thread counts");
  state.counters["sumcheck_threads"] = double(state.range(0));
}
BENCHMARK(BM_BlockThreads)->Arg(1)->Arg(2)->ArgName("sumcheck_threads")->Unit(benchmark::kMillisecond)->Iterations(2)
    ->UseRealTime();

void BM_DecodeStep(benchmark::State& state) {
  const TransformerBlock block = transformer_block(kTarget);
  Values v = random_model(block, 1);
  v[block.input] = random_input(block, 1);
  const auto model = commit_weights(block.graph, v);
  std::vector<std::vector<int64_t>> inputs;
  for (size_t t = 0; t < 4; ++t)
    inputs.emplace_back(v[block.input].begin() + t * kTarget.d_model, v[block.input].begin() + (t + 1) * kTarget.d_model);
  double prove_ms = 0;
  DecodeChain chain;
  for (auto _ : state) {
    const auto a = Clock::now();
    chain = prove_decode(block, v, model, inputs);
    prove_ms += ms(a, Clock::now());
  }
  const auto a = Clock::now();
  const auto verdict = verify_decode(chain, model.commitment());
  state.counters["verify_ms"] = ms(a, Clock::now());
  if (!verdict.accepted) state.SkipWithError(("rejected: " + verdict.reason).c_str());
  state.counters["prove_ms_per_step"] = prove_ms / double(state.iterations()) / 4.0;
  state.counters["proof_bytes_per_step"] = double(block_proofs_to_bytes(chain.steps).size()) / 4.0;
  state.SetLabel(kTarget.to_string() + ", 4 steps");
}
BENCHMARK(BM_DecodeStep)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  if (const char* custom = std::getenv("PTVM_ZKML_BENCH_SHAPE")) {
    const BlockShape shape = BlockShape::parse(custom);
    benchmark::RegisterBenchmark("BM_BlockCustom", [shape](benchmark::State& s) { run_block(s, shape); })
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1)
        ->UseRealTime();
  }
  return ptvm::bench::run_main(argc, argv, "cpu",
                               {.threads = ptvm::bench::Threads::CpuBackendPool,
                                .note = "the sumcheck backend is single-threaded; commitments use the pool"});
}
