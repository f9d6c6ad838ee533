// GPU kernels under Google Benchmark. Built twice: against ptvm::cuda (timings from CUDA events,
// manual time; needs a visible device) and against ptvm::hostsim, where the reported time is the
// MODELED H100 time of the host-sim profile counters (bytes moved / 3.35 TB/s; see
// ptvm/gpu/hostsim/profile.hpp), so bytes_per_second and items_per_second are modeled figures too.
// Counters: bytes_moved and min_bytes per iteration (host-sim), and their ratio.
//
// Host-sim runs each case once (it executes every CUDA thread as a fiber). Sizes: log 16 and 20
// by default; PTVM_GPU_BENCH_LARGE=1 adds log 24.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <random>

#include "../bench_context.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/gpu/circle_fft.hpp"
#include "ptvm/gpu/column_ops.hpp"
#include "ptvm/gpu/merkle.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/tensor_batch.hpp"
#include "ptvm/vm/assembler.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace {

using namespace ptvm;

std::vector<M31> random_m31(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<M31> v(n);
  for (auto& x : v) x = M31::raw(static_cast<uint32_t>(rng() % M31::P));
  return v;
}

// False (and the case marked skipped) when no device is visible: checked before any allocation.
bool have_device(benchmark::State& state) {
  if (gpu::device_available()) return true;
  state.SkipWithError("no CUDA device visible");
  return false;
}

// Times `op` (all work on `stream`): CUDA events per iteration, or the modeled time of the
// host-sim stage that op opens. min_bytes: the fewest bytes the operation must move.
void run_timed(benchmark::State& state, const std::function<void(gpu::stream_t)>& op,
               uint64_t min_bytes, uint64_t items) {
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
    const auto stages = hostsim::stage_profiles();
    double modeled = 0;
    for (const auto& s : stages)
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
  op(stream.get());  // warm-up
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

void BM_CircleFftEvaluate(benchmark::State& state, bool inverse) {
  if (!have_device(state)) return;
  const uint32_t log = static_cast<uint32_t>(state.range(0));
  const size_t n = size_t{1} << log;
  const auto tree = circle::precompute_twiddles_for_log(log);
  const auto twiddles = gpu::DeviceTwiddles::upload(tree);
  auto data = gpu::DeviceBuffer<M31>::from_host(random_m31(n, log));
  run_timed(
      state,
      [&](gpu::stream_t s) {
        if (inverse)
          gpu::circle_interpolate_bitrev_inplace(data.ptr(), log, twiddles, s);
        else
          gpu::circle_evaluate_bitrev_inplace(data.ptr(), log, twiddles, s);
      },
      2 * n * sizeof(M31), n);
}

// One leaf layer: 2^log rows of `columns` M31 columns -> 2^log digests.
void BM_Blake2sLeaves(benchmark::State& state) {
  if (!have_device(state)) return;
  const uint32_t log = static_cast<uint32_t>(state.range(0));
  const uint32_t columns = static_cast<uint32_t>(state.range(1));
  const size_t rows = size_t{1} << log;
  std::vector<gpu::DeviceBuffer<M31>> cols;
  std::vector<gpu::DeviceColumnRef> refs;
  for (uint32_t c = 0; c < columns; ++c) {
    cols.push_back(gpu::DeviceBuffer<M31>::from_host(random_m31(rows, c)));
    refs.push_back({cols.back().data(), rows});
  }
  auto table = gpu::DeviceBuffer<gpu::DeviceColumnRef>::from_host(refs);
  gpu::DeviceBuffer<uint32_t> digests(8 * rows);
  run_timed(
      state,
      [&](gpu::stream_t s) {
        gpu::blake2s_merkle_layer(gpu::gptr<const uint32_t>(), table.cptr(), columns,
                                  digests.ptr(), rows, s);
      },
      rows * (4ull * columns + 32), rows);
  // Throughput of the hashed input alone (the usual "hashing rate").
  state.counters["input_bytes_per_second"] = benchmark::Counter(
      static_cast<double>(rows * 4ull * columns) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

void BM_M31ColumnAdd(benchmark::State& state) {
  if (!have_device(state)) return;
  const size_t n = size_t{1} << state.range(0);
  auto a = gpu::DeviceBuffer<M31>::from_host(random_m31(n, 1));
  auto b = gpu::DeviceBuffer<M31>::from_host(random_m31(n, 2));
  gpu::DeviceBuffer<M31> out(n);
  run_timed(
      state,
      [&](gpu::stream_t s) {
        gpu::m31_columns_apply(gpu::ColumnOp::Add, a.cptr(), b.cptr(), out.ptr(), n, s);
      },
      3 * n * sizeof(M31), n);
}

// A loop that never halts and whose path depends on the data: every fourth count takes the longer
// branch, so machines started from different counts spread over the loop's pcs.
const char* const kSpreadingLoop =
    ".memory 4\n"
    "loop:\n  LOAD 0\n  ADD 1\n  STORE 0\n  AND 3\n  JZ slow\n  LOAD 1\n  ADD 7\n  STORE 1\n  JMP loop\n"
    "slow:\n  LOAD 2\n  XOR 5\n  STORE 2\n  LOAD 3\n  SUB 1\n  STORE 3\n  JMP loop\n";

// The tensor engine's step on the device: B machines of kSpreadingLoop started from counts 0 ..
// B-1, spread over its pcs (several groups per step). A warm-up of 8 steps, then 16 measured
// steps.
//
// Host-sim reports a MODELED H100 step time; the model, per step:
//   launches x 4 us (launch latency) + round trips x 10 us (a host wait for the stream, which the
//   next step's attention read needs) + (kernel bytes + bytes copied to and from the device) /
//   3.35 TB/s.
// Kernel bytes are host-sim's profile counters (32-byte sectors of every gptr access, no cache);
// launches, copies, their bytes and round trips are the DeviceTensorFfn's counters. The host's
// own work per step (attention reads over the hull caches, flag rules) is not in the model. On
// CUDA the time is the measured host wall clock of the whole step.
// Counters per step: launches, transfers (copies), round_trips, bytes_to_device, bytes_to_host,
// kernel_bytes; machine_steps_per_second (items) and modeled_us_per_step.
void BM_TensorEngineStep(benchmark::State& state, gpu::TensorGemmPath path) {
  if (!have_device(state)) return;
  if (path == gpu::TensorGemmPath::Cublas && !gpu::cublas_available()) {
    state.SkipWithError("cuBLAS is not part of this runtime");
    return;
  }
  const size_t machines = static_cast<size_t>(state.range(0));
  const vm::CompiledModel model = vm::compile_program(vm::assemble_source(kSpreadingLoop), vm::TransformerConfig{});
  std::vector<std::vector<int16_t>> memories;
  for (size_t b = 0; b < machines; ++b) memories.push_back({static_cast<int16_t>(b), 0, 0, 0});
  constexpr int kWarmup = 8, kSteps = 16;
  double per_step_s = 0, launches = 0, transfers = 0, round_trips = 0, to_device = 0, to_host = 0, kernel_bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    gpu::DeviceTensorBatch batch(model, memories, 1000000, vm::AttentionMode{}, false, path);
    for (int i = 0; i < kWarmup; ++i) batch.step();
    batch.device().reset_counters();
    state.ResumeTiming();
#if defined(PTVM_HOSTSIM)
    hostsim::set_profiling(true);
    hostsim::reset_profile();
    for (int i = 0; i < kSteps; ++i) batch.step();
    hostsim::set_profiling(false);
    uint64_t bytes = 0;
    for (const auto& k : hostsim::kernel_profiles()) bytes += k.bytes();
    kernel_bytes = static_cast<double>(bytes) / kSteps;
#else
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kSteps; ++i) batch.step();
    per_step_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / kSteps;
#endif
    const gpu::DeviceTensorCounters& c = batch.device().counters();
    launches = static_cast<double>(c.launches) / kSteps;
    transfers = static_cast<double>(c.uploads + c.downloads) / kSteps;
    round_trips = static_cast<double>(c.round_trips) / kSteps;
    to_device = static_cast<double>(c.bytes_to_device) / kSteps;
    to_host = static_cast<double>(c.bytes_to_host) / kSteps;
#if defined(PTVM_HOSTSIM)
    constexpr double kLaunchSeconds = 4e-6, kRoundTripSeconds = 10e-6;
    per_step_s = launches * kLaunchSeconds + round_trips * kRoundTripSeconds +
                 (kernel_bytes + to_device + to_host) / hostsim::kH100BytesPerSecond;
#endif
    state.SetIterationTime(per_step_s * kSteps);
  }
  state.counters["machines"] = static_cast<double>(machines);
  state.counters["launches"] = launches;
  state.counters["transfers"] = transfers;
  state.counters["round_trips"] = round_trips;
  state.counters["bytes_to_device"] = to_device;
  state.counters["bytes_to_host"] = to_host;
  state.counters["kernel_bytes"] = kernel_bytes;
  state.counters["us_per_step"] = per_step_s * 1e6;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kSteps * static_cast<int64_t>(machines));
#if defined(PTVM_HOSTSIM)
  state.SetLabel(std::string("modeled H100 (4 us/launch, 10 us/round trip, 3.35 TB/s), ") +
                 gpu::tensor_gemm_path_name(path));
#else
  state.SetLabel(std::string("cuda wall clock, ") + gpu::tensor_gemm_path_name(path));
#endif
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(16)->Arg(20);
  const char* large = std::getenv("PTVM_GPU_BENCH_LARGE");
  if (large && large[0] == '1') b->Arg(24);
}
void leaf_sizes(benchmark::internal::Benchmark* b) {
  for (int columns : {8, 32}) {
    b->Args({16, columns})->Args({20, columns});
    const char* large = std::getenv("PTVM_GPU_BENCH_LARGE");
    if (large && large[0] == '1') b->Args({24, columns});
  }
}

void mode(benchmark::internal::Benchmark* b) {
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
#if defined(PTVM_HOSTSIM)
  b->Iterations(1);  // the modeled time is the same every run
#endif
}
void fft_cases(benchmark::internal::Benchmark* b) {
  mode(b);
  sizes(b);
}
void leaf_cases(benchmark::internal::Benchmark* b) {
  mode(b);
  leaf_sizes(b);
}

BENCHMARK_CAPTURE(BM_CircleFftEvaluate, evaluate, false)->Apply(fft_cases);
BENCHMARK_CAPTURE(BM_CircleFftEvaluate, interpolate, true)->Apply(fft_cases);
BENCHMARK(BM_Blake2sLeaves)->Apply(leaf_cases);
BENCHMARK(BM_M31ColumnAdd)->Apply(fft_cases);
void tensor_cases(benchmark::internal::Benchmark* b) {
  mode(b);
  b->ArgName("machines")->Arg(1)->Arg(64)->Arg(1024);
}
#if defined(PTVM_HOSTSIM)
BENCHMARK_CAPTURE(BM_TensorEngineStep, modeled_own_kernel, gpu::TensorGemmPath::OwnKernel)->Apply(tensor_cases);
#else
BENCHMARK_CAPTURE(BM_TensorEngineStep, own_kernel, gpu::TensorGemmPath::OwnKernel)->Apply(tensor_cases);
BENCHMARK_CAPTURE(BM_TensorEngineStep, cublas, gpu::TensorGemmPath::Cublas)->Apply(tensor_cases);
#endif

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
#if defined(PTVM_HOSTSIM)
  constexpr auto timing = ptvm::bench::Timing::ModeledH100;
#else
  constexpr auto timing = ptvm::bench::Timing::CudaEvents;
#endif
  ptvm::bench::add_context(ptvm::gpu::runtime_name(),
                           {.timing = timing,
                            .threads = ptvm::bench::Threads::NotUsed,
                            .device = ptvm::gpu::device_description()});
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
