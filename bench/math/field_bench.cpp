// Field multiplication throughput on one core: c[i] = a[i] * b[i] over arrays of 4096 elements
// (items = multiplications).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "../bench_context.hpp"
#include "ptvm/field/qm31.hpp"
#ifdef PTVM_BENCH_HAVE_F128
#include "ptvm/field/f128.hpp"
#endif

using namespace ptvm;

namespace {

template <class F>
F random_element(std::mt19937_64& rng);
template <>
M31 random_element<M31>(std::mt19937_64& rng) {
  return M31::raw(static_cast<uint32_t>(rng() % M31::P));
}
template <>
QM31 random_element<QM31>(std::mt19937_64& rng) {
  return QM31::from_m31(random_element<M31>(rng), random_element<M31>(rng), random_element<M31>(rng),
                        random_element<M31>(rng));
}
#ifdef PTVM_BENCH_HAVE_F128
template <>
F128 random_element<F128>(std::mt19937_64& rng) {
  return F128::from_u128_reduce((static_cast<unsigned __int128>(rng()) << 64) | rng());
}
#endif

template <class F>
void BM_FieldMul(benchmark::State& state) {
  constexpr size_t n = 4096;
  std::mt19937_64 rng(7);
  std::vector<F> a(n), b(n), c(n);
  for (size_t i = 0; i < n; ++i) a[i] = random_element<F>(rng), b[i] = random_element<F>(rng);
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) c[i] = a[i] * b[i];
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}

// Dependent chain: latency rather than throughput.
template <class F>
void BM_FieldMulChain(benchmark::State& state) {
  std::mt19937_64 rng(9);
  F x = random_element<F>(rng), y = random_element<F>(rng);
  for (auto _ : state) {
    for (int i = 0; i < 1024; ++i) x = x * y;
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations() * 1024);
}

// QM31's composed CM31 definition (QM31::mul_reference), beside BM_FieldMul<QM31> (one u64
// reduction per coordinate) for an A/B in one run.
void BM_QM31MulReference(benchmark::State& state) {
  constexpr size_t n = 4096;
  std::mt19937_64 rng(7);
  std::vector<QM31> a(n), b(n), c(n);
  for (size_t i = 0; i < n; ++i) a[i] = random_element<QM31>(rng), b[i] = random_element<QM31>(rng);
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) c[i] = QM31::mul_reference(a[i], b[i]);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}

}  // namespace

BENCHMARK(BM_FieldMul<M31>);
BENCHMARK(BM_QM31MulReference);
BENCHMARK(BM_FieldMul<QM31>);
BENCHMARK(BM_FieldMulChain<M31>);
BENCHMARK(BM_FieldMulChain<QM31>);
#ifdef PTVM_BENCH_HAVE_F128
BENCHMARK(BM_FieldMul<F128>);
BENCHMARK(BM_FieldMulChain<F128>);
#endif

int main(int argc, char** argv) { return ptvm::bench::run_main(argc, argv, "cpu", {.threads = ptvm::bench::Threads::One}); }
