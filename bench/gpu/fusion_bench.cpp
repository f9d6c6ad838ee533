// The fused kernels against the unfused pairs they replace, under Google Benchmark.
//
// Host-sim build (ptvm_fusion_bench_hostsim): every time is MODELED (cuda/README.md "GPU cost
// model", ptvm/gpu/hostsim/cost_model.hpp): the kernels' sectors and declared BLAKE2s ops priced as
// an H100 would pay them, plus 4 us per launch. Counters per case: launches, kernel_bytes,
// kernel_ops, modeled_kernel_us (max(bytes, ops) per kernel), modeled_us (+ launches). Table
// copies (a few hundred bytes) are left out: both variants upload the same tables.
//   LdeLeaves/<log>/<columns>    the last circle-FFT pass of `columns` columns of 2^log values
//       fused: circle_evaluate_leaves_many (the FFT's passes, the last one hashing the leaves)
//       unfused: circle_transform_many + the leaf layer (blake2s_merkle_layers) over the LDE
//   FriFoldLeaves/<log>          a line fold of a QM31 column of 2^log values and the folded
//       layer's leaves: fri_fold_line_many with leaves, or fri_fold_line_many + blake2s_merkle_layers
// The composition kernel already divides by the vanishing polynomial before its one store (no pair
// to compare; cuda/README.md). PTVM_GPU_BENCH_LARGE=1 adds the sizes of a 2^20-step trace.
// CUDA build (ptvm_fusion_bench_cuda): the same launches timed (wall clock around the launches and
// a device synchronisation).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <vector>

#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/circle_fft.hpp"
#include "ptvm/gpu/merkle.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/stark_kernels.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/cost_model.hpp"
#endif

namespace {

using namespace ptvm;
using gpu::DeviceBuffer;

DeviceBuffer<M31> random_column(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<M31> v(n);
  for (auto& x : v) x = M31::raw(static_cast<uint32_t>(rng() % M31::P));
  return DeviceBuffer<M31>::from_host(v);
}

// Runs `launches` once untimed (host-sim: profiled) and sets the counters / the iteration time.
template <class F>
void measure(benchmark::State& state, F&& launches) {
  for (auto _ : state) {
#if defined(PTVM_HOSTSIM)
    hostsim::reset_profile();
    hostsim::set_profiling(true);
    launches();
    hostsim::set_profiling(false);
    const hostsim::ModeledCost c = hostsim::model_cost_now();
    const double s = c.kernel_s + c.launch_s;
    state.SetIterationTime(s);
    state.counters["launches"] = static_cast<double>(c.launches);
    state.counters["kernel_bytes"] = static_cast<double>(c.kernel_bytes);
    state.counters["kernel_ops"] = static_cast<double>(c.kernel_ops);
    state.counters["modeled_kernel_us"] = c.kernel_s * 1e6;
    state.counters["modeled_us"] = s * 1e6;
    for (const auto& k : c.kernels) state.counters["bytes:" + k.name] = static_cast<double>(k.bytes);
#else
    gpu::synchronize(nullptr);
    const auto t0 = std::chrono::steady_clock::now();
    launches();
    gpu::synchronize(nullptr);
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
#endif
  }
}

// LDE of `columns` coefficient columns of 2^(log-1) values to 2^log, and the leaf layer of their tree.
void LdeLeaves(benchmark::State& state, bool fused) {
  if (!gpu::device_available()) {
    state.SkipWithError("no CUDA device visible");
    return;
  }
  const uint32_t log = static_cast<uint32_t>(state.range(0));
  const uint32_t columns = static_cast<uint32_t>(state.range(1));
  const size_t n = size_t{1} << log;
  const gpu::DeviceTwiddles tw{circle::CanonicCoset{log}.half_coset()};
  std::vector<DeviceBuffer<M31>> coeffs, values;
  std::vector<gpu::FftColumnIo> io;
  std::vector<gpu::DeviceColumnRef> refs;
  for (uint32_t c = 0; c < columns; ++c) {
    coeffs.push_back(random_column(n / 2, c));
    values.emplace_back(n);
    io.push_back({coeffs.back().data(), n / 2, values.back().data()});
    refs.push_back({values.back().data(), n});
  }
  DeviceBuffer<uint32_t> leaves(8 * n);
  const auto io_table = DeviceBuffer<gpu::FftColumnIo>::from_host(io);
  const auto ref_table = DeviceBuffer<gpu::DeviceColumnRef>::from_host(refs);
  const gpu::MerkleLayerJob job{nullptr, ref_table.data(), columns, leaves.data()};
  const auto job_table = DeviceBuffer<gpu::MerkleLayerJob>::from_host(std::vector<gpu::MerkleLayerJob>{job});
  const std::vector<gpu::LdeLeafTree> trees{{0, columns, leaves.data()}};
  measure(state, [&] {
    if (fused) {
      gpu::circle_evaluate_leaves_many(io, trees, log, tw, nullptr);
    } else {
      gpu::circle_transform_many(io_table.cptr(), columns, log, false, tw, nullptr);
#if defined(PTVM_HOSTSIM)
      hostsim::declare_kernel_ops("blake2s_merkle_layers_kernel",
                                  n * ((columns + 15) / 16) * hostsim::kBlake2sCompressionOps);
#endif
      gpu::blake2s_merkle_layers(job_table.cptr(), 1, n, nullptr);
    }
  });
}

// A line fold of a QM31 column of 2^log values and the leaf layer of the folded layer's tree.
void FriFoldLeaves(benchmark::State& state, bool fused) {
  if (!gpu::device_available()) {
    state.SkipWithError("no CUDA device visible");
    return;
  }
  const uint32_t log = static_cast<uint32_t>(state.range(0));
  const size_t half = size_t{1} << (log - 1);
  std::vector<DeviceBuffer<M31>> in, out;
  for (int k = 0; k < 4; ++k) {
    in.push_back(random_column(2 * half, 10 + k));
    out.emplace_back(half);
  }
  DeviceBuffer<uint32_t> leaves(8 * half);
  gpu::FriFoldJob fold{};
  fold.in = {{in[0].cptr(), in[1].cptr(), in[2].cptr(), in[3].cptr()}};
  fold.acc = fold.in;
  fold.out = {{out[0].ptr(), out[1].ptr(), out[2].ptr(), out[3].ptr()}};
  fold.alpha = QM31::from_m31(M31::from_u32(3), M31::from_u32(5), M31::from_u32(7), M31::from_u32(11));
  fold.domain = circle::LineDomain{circle::CanonicCoset{log + 1}.half_coset()};
  fold.leaf_words = fused ? leaves.data() : nullptr;
  const auto fold_table = DeviceBuffer<gpu::FriFoldJob>::from_host(std::vector<gpu::FriFoldJob>{fold});
  std::vector<gpu::DeviceColumnRef> refs;
  for (const auto& o : out) refs.push_back({o.data(), half});
  const auto ref_table = DeviceBuffer<gpu::DeviceColumnRef>::from_host(refs);
  const gpu::MerkleLayerJob job{nullptr, ref_table.data(), 4, leaves.data()};
  const auto job_table = DeviceBuffer<gpu::MerkleLayerJob>::from_host(std::vector<gpu::MerkleLayerJob>{job});
  measure(state, [&] {
    gpu::fri_fold_line_many(fold_table.cptr(), 1, log, nullptr, fused);
    if (!fused) {
#if defined(PTVM_HOSTSIM)
      hostsim::declare_kernel_ops("blake2s_merkle_layers_kernel", half * hostsim::kBlake2sCompressionOps);
#endif
      gpu::blake2s_merkle_layers(job_table.cptr(), 1, half, nullptr);
    }
  });
}

void lde_sizes(benchmark::internal::Benchmark* b) {
  // 2^14 rows, blowup 2, the VM's main-trace width range; 2^20 rows with PTVM_GPU_BENCH_LARGE.
  b->Args({15, 16})->Args({15, 48});
  if (std::getenv("PTVM_GPU_BENCH_LARGE")) b->Args({21, 48});
  b->UseManualTime()->Iterations(1)->Unit(benchmark::kMicrosecond);
}
void fold_sizes(benchmark::internal::Benchmark* b) {
  b->Arg(15);
  if (std::getenv("PTVM_GPU_BENCH_LARGE")) b->Arg(21);
  b->UseManualTime()->Iterations(1)->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(LdeLeaves, fused, true)->Apply(lde_sizes);
BENCHMARK_CAPTURE(LdeLeaves, unfused, false)->Apply(lde_sizes);
BENCHMARK_CAPTURE(FriFoldLeaves, fused, true)->Apply(fold_sizes);
BENCHMARK_CAPTURE(FriFoldLeaves, unfused, false)->Apply(fold_sizes);

}  // namespace

BENCHMARK_MAIN();
