// F128 coset NTT on one core: evaluate and interpolate at log sizes 12..20, items = values.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "../bench_context.hpp"
#include "ptvm/ntt/ntt.hpp"

using namespace ptvm;

namespace {

std::vector<F128> random_values(size_t n) {
  std::mt19937_64 rng(3);
  std::vector<F128> v(n);
  for (auto& x : v) x = F128::from_u128_reduce((static_cast<unsigned __int128>(rng()) << 64) | rng());
  return v;
}

void BM_F128CosetEvaluate(benchmark::State& state) {
  const size_t n = size_t{1} << state.range(0);
  const auto coeffs = random_values(n);
  std::vector<F128> values(n);
  for (auto _ : state) {
    ntt::coset_evaluate_natural(coeffs, values, F128::generator());
    benchmark::DoNotOptimize(values.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}

void BM_F128CosetInterpolate(benchmark::State& state) {
  const size_t n = size_t{1} << state.range(0);
  const auto values = random_values(n);
  std::vector<F128> coeffs(n);
  for (auto _ : state) {
    ntt::coset_interpolate_natural(values, coeffs, F128::generator());
    benchmark::DoNotOptimize(coeffs.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}

}  // namespace

BENCHMARK(BM_F128CosetEvaluate)->DenseRange(12, 20, 4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_F128CosetInterpolate)->DenseRange(12, 20, 4)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) { return ptvm::bench::run_main(argc, argv, "cpu", {.threads = ptvm::bench::Threads::One}); }
