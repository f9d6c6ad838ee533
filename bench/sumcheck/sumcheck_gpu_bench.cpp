// The sumcheck kernels under Google Benchmark, built twice like bench/gpu: against ptvm::hostsim
// the reported time is the MODELED H100 time (host-sim's bytes moved / 3.35 TB/s, manual time;
// compute is not modeled), against ptvm::cuda it is CUDA events (skipped without a device).
// Counters: bytes_moved, min_bytes (the fewest bytes the stage must move) and their ratio.
//   BM_SumcheckRoundKernel/log_n: one eq-weighted round of the LogUp-GKR layer shape (4 tables and
//                                 the eq weights, degree 3 + eq)
//   BM_FixVariableKernel/log_n:   fixing the first variable of 5 tables
//   BM_EqTableKernel/log_n:       an eq table of 2^log_n entries
//   BM_RestrictRowsKernel/M/K:    an M x K M31 matrix restricted by eq(r_rows) (the matmul prover's
//                                 main cost: 4096 x 4096 by default, fused, no intermediate)
//   BM_RestrictColumnsKernel/K/N: a K x N matrix restricted by eq(r_cols)
// PTVM_GPU_BENCH_LARGE=1 adds log 24 and the 4096 x 16384 restriction.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <functional>
#include <random>

#include "../bench_context.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/sumcheck_eq_table.hpp"
#include "ptvm/gpu/sumcheck_fix_variable.hpp"
#include "ptvm/gpu/sumcheck_restrict.hpp"
#include "ptvm/gpu/sumcheck_round.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace {

using namespace ptvm;
using sumcheck::ProductShape;

std::vector<M31> random_m31(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<M31> v(n);
  for (auto& x : v) x = M31::from_u64(rng());
  return v;
}
std::vector<QM31> random_qm31(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<QM31> v(n);
  for (auto& x : v)
    x = QM31::from_m31(M31::from_u64(rng()), M31::from_u64(rng()), M31::from_u64(rng()), M31::from_u64(rng()));
  return v;
}

bool have_device(benchmark::State& state) {
  if (gpu::device_available()) return true;
  state.SkipWithError("no CUDA device visible");
  return false;
}

bool large() {
  const char* e = std::getenv("PTVM_GPU_BENCH_LARGE");
  return e && e[0] == '1';
}

void run_timed(benchmark::State& state, const std::function<void(gpu::stream_t)>& op, uint64_t min_bytes,
               uint64_t items) {
  gpu::Stream stream;
#if defined(PTVM_HOSTSIM)
  double bytes = 0;
  for (auto _ : state) {
    hostsim::set_profiling(true);
    hostsim::reset_profile();
    {
      gpu::StageScope stage("bench", min_bytes);
      op(stream.get());
    }
    hostsim::set_profiling(false);
    double modeled = 0;
    for (const auto& s : hostsim::stage_profiles())
      if (s.name == "bench") {
        modeled = s.modeled_seconds();
        bytes = static_cast<double>(s.bytes);
      }
    state.SetIterationTime(modeled);
  }
  state.counters["bytes_moved"] = bytes;
  state.counters["min_bytes"] = static_cast<double>(min_bytes);
  state.counters["moved_over_min"] = min_bytes ? bytes / static_cast<double>(min_bytes) : 0.0;
#else
  op(stream.get());
  stream.synchronize();
  gpu::Event start, stop;
  for (auto _ : state) {
    start.record(stream.get());
    op(stream.get());
    stop.record(stream.get());
    stop.synchronize();
    state.SetIterationTime(gpu::Event::elapsed_ms(start, stop) / 1e3);
  }
  state.counters["min_bytes"] = static_cast<double>(min_bytes);
#endif
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * min_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * items));
  state.SetLabel(gpu::runtime_name());
}

ProductShape logup_layer_shape() {
  ProductShape s;
  s.n_factors = 4;  // p0, p1, q0, q1; eq(z, .) is the weight table
  s.n_terms = 3;
  s.term_masks[0] = 0b1001;
  s.term_masks[1] = 0b0110;
  s.term_masks[2] = 0b1100;
  s.term_coefficients[0] = s.term_coefficients[1] = QM31::one();
  s.term_coefficients[2] = QM31::from_u32(9, 8, 7, 6);
  return s;
}

// The eq-weighted round of a LogUp-GKR layer: q(0..3) over 4 tables and the weights.
void BM_SumcheckRoundKernel(benchmark::State& state) {
  if (!have_device(state)) return;
  const unsigned log_n = unsigned(state.range(0));
  const size_t n = size_t{1} << log_n;
  const ProductShape shape = logup_layer_shape();
  auto tables = gpu::DeviceBuffer<QM31>::from_host(random_qm31(n * shape.n_factors, log_n));
  auto weights = gpu::DeviceBuffer<QM31>::from_host(random_qm31(n / 2, log_n + 7));
  run_timed(
      state,
      [&](gpu::stream_t s) {
        benchmark::DoNotOptimize(
            gpu::sumcheck_round(tables.cptr(), n, shape.n_factors, log_n, shape, shape.degree() + 1, weights.cptr(), s));
      },
      (n * shape.n_factors + n / 2) * sizeof(QM31), n / 2);
}

void BM_FixVariableKernel(benchmark::State& state) {
  if (!have_device(state)) return;
  const unsigned log_n = unsigned(state.range(0));
  const size_t n = size_t{1} << log_n;
  auto tables = gpu::DeviceBuffer<QM31>::from_host(random_qm31(n * 5, log_n + 1));
  // Reads 5 tables of n, writes 5 of n / 2 (in place; each run folds fresh data of the same size).
  run_timed(
      state, [&](gpu::stream_t s) { gpu::sumcheck_fix_first_variable(tables.ptr(), n, 5, log_n, QM31::from_u32(3, 1, 4, 1), s); },
      5 * (n + n / 2) * sizeof(QM31), n);
}

void BM_EqTableKernel(benchmark::State& state) {
  if (!have_device(state)) return;
  const unsigned log_n = unsigned(state.range(0));
  auto point = gpu::DeviceBuffer<QM31>::from_host(random_qm31(log_n, 9));
  gpu::DeviceBuffer<QM31> out(size_t{1} << log_n);
  run_timed(
      state, [&](gpu::stream_t s) { gpu::sumcheck_eq_table(point.cptr(), log_n, QM31::one(), out.ptr(), s); },
      (size_t{1} << log_n) * sizeof(QM31), size_t{1} << log_n);
}

void BM_RestrictRowsKernel(benchmark::State& state) {
  if (!have_device(state)) return;
  const size_t m = size_t(state.range(0)), k = size_t(state.range(1));
  auto matrix = gpu::DeviceBuffer<M31>::from_host(random_m31(m * k, 1));
  auto weights = gpu::DeviceBuffer<QM31>::from_host(random_qm31(m, 2));
  gpu::DeviceBuffer<QM31> out(k);
  run_timed(
      state, [&](gpu::stream_t s) { gpu::sumcheck_restrict_rows(matrix.cptr(), m, k, weights.cptr(), out.ptr(), s); },
      m * k * sizeof(M31) + m * sizeof(QM31) + k * sizeof(QM31), m * k);
}

void BM_RestrictColumnsKernel(benchmark::State& state) {
  if (!have_device(state)) return;
  const size_t k = size_t(state.range(0)), n = size_t(state.range(1));
  auto matrix = gpu::DeviceBuffer<M31>::from_host(random_m31(k * n, 3));
  auto weights = gpu::DeviceBuffer<QM31>::from_host(random_qm31(n, 4));
  gpu::DeviceBuffer<QM31> out(k);
  run_timed(
      state, [&](gpu::stream_t s) { gpu::sumcheck_restrict_columns(matrix.cptr(), k, n, weights.cptr(), out.ptr(), s); },
      k * n * sizeof(M31) + n * sizeof(QM31) + k * sizeof(QM31), k * n);
}

void log_sizes(benchmark::internal::Benchmark* b) {
  b->Arg(16)->Arg(20);
  if (large()) b->Arg(24);
#if defined(PTVM_HOSTSIM)
  b->Iterations(1);
#endif
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

void restrict_rows_sizes(benchmark::internal::Benchmark* b) {
  b->Args({4096, 4096})->Args({128, 4096});
  if (large()) b->Args({4096, 16384});
#if defined(PTVM_HOSTSIM)
  b->Iterations(1);
#endif
  b->ArgNames({"M", "K"})->UseManualTime()->Unit(benchmark::kMicrosecond);
}

void restrict_columns_sizes(benchmark::internal::Benchmark* b) {
  b->Args({4096, 1})->Args({4096, 128});
#if defined(PTVM_HOSTSIM)
  b->Iterations(1);
#endif
  b->ArgNames({"K", "N"})->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_SumcheckRoundKernel)->ArgName("log_n")->Apply(log_sizes);
BENCHMARK(BM_FixVariableKernel)->ArgName("log_n")->Apply(log_sizes);
BENCHMARK(BM_EqTableKernel)->ArgName("log_n")->Apply(log_sizes);
BENCHMARK(BM_RestrictRowsKernel)->Apply(restrict_rows_sizes);
BENCHMARK(BM_RestrictColumnsKernel)->Apply(restrict_columns_sizes);

}  // namespace

int main(int argc, char** argv) {
#if defined(PTVM_HOSTSIM)
  return ptvm::bench::run_main(argc, argv, "hostsim",
                               {.timing = ptvm::bench::Timing::ModeledH100, .threads = ptvm::bench::Threads::NotUsed});
#else
  return ptvm::bench::run_main(argc, argv, "cuda",
                               {.timing = ptvm::bench::Timing::CudaEvents, .threads = ptvm::bench::Threads::NotUsed,
                                .device = ptvm::gpu::device_description()});
#endif
}
