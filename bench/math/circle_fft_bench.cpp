// Circle FFT on one CPU core: evaluate and interpolate at log sizes 16..22 (24 with
// PTVM_BENCH_LARGE=1), items = values transformed. stwo's SIMD backend anchor: a 2^20 circle IFFT
// in ~2.45 ms per core.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../bench_context.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/circle/lde.hpp"

using namespace ptvm;
using namespace ptvm::circle;

namespace {

const TwiddleTree& tree_for(uint32_t log) {
  static TwiddleTree tree = precompute_twiddles_for_log(24);
  (void)log;
  return tree;
}

std::vector<M31> random_values(size_t n) {
  std::mt19937_64 rng(42);
  std::vector<M31> v(n);
  for (auto& x : v) x = M31::raw(static_cast<uint32_t>(rng() % M31::P));
  return v;
}

void BM_CircleEvaluate(benchmark::State& state) {
  const uint32_t log = static_cast<uint32_t>(state.range(0));
  const TwiddleTree& tree = tree_for(log);
  std::vector<M31> data = random_values(size_t{1} << log);
  for (auto _ : state) {
    circle_evaluate_bitrev_inplace(data, tree);
    benchmark::DoNotOptimize(data.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(data.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size() * sizeof(M31)));
}

void BM_CircleInterpolate(benchmark::State& state) {
  const uint32_t log = static_cast<uint32_t>(state.range(0));
  const TwiddleTree& tree = tree_for(log);
  std::vector<M31> data = random_values(size_t{1} << log);
  for (auto _ : state) {
    circle_interpolate_bitrev_inplace(data, tree);
    benchmark::DoNotOptimize(data.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(data.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size() * sizeof(M31)));
}

// LDE of 8 columns of log (arg) by blowup 2 on one thread: items = output values.
void BM_CircleLde8Columns(benchmark::State& state) {
  const uint32_t log = static_cast<uint32_t>(state.range(0));
  const TwiddleTree& tree = tree_for(log + 1);
  std::vector<std::vector<M31>> columns(8, random_values(size_t{1} << log));
  for (auto _ : state) {
    auto out = extend_columns_bitrev(columns, 1, tree, 1);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 8 * (int64_t{2} << log));
}

int register_sizes() {
  const char* large = std::getenv("PTVM_BENCH_LARGE");
  const int max_log = (large && std::string(large) == "1") ? 24 : 22;
  for (int log = 16; log <= max_log; log += (log < 22 ? 1 : 2)) {
    benchmark::RegisterBenchmark("BM_CircleEvaluate", BM_CircleEvaluate)->Arg(log)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_CircleInterpolate", BM_CircleInterpolate)->Arg(log)->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("BM_CircleLde8Columns", BM_CircleLde8Columns)->Arg(16)->Arg(18)->Unit(benchmark::kMillisecond);
  return 0;
}
const int registered = register_sizes();

}  // namespace

int main(int argc, char** argv) { return ptvm::bench::run_main(argc, argv, "cpu", {.threads = ptvm::bench::Threads::One}); }
