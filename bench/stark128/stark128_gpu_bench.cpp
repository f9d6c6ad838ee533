// MODELED H100 times of the F128 STARK's CUDA backend (ptvm/gpu/stark128_backend.hpp), from what
// host-sim ran and the cost model (ptvm/gpu/hostsim/cost_model.hpp: per kernel max(bytes / HBM,
// declared ops / integer throughput), + 4 us per launch, + 10 us per round trip, + PCIe transfers).
// Every time reported here is modeled (manual time = the modeled seconds), not measured.
//   StatementV1Fibonacci_ModeledH100/<profile>: the original's fibonacci (103 steps) proven by
//     statement-v1 on the device backend: modeled_proof_ms and its parts, launches, round trips,
//     and per kernel modeled_us:<kernel> (its launches' max(memory, compute), launch cost excluded).
//   F128Kernel_ModeledH100/<kernel>/<log n>: one kernel on 2^log n values (NTT: a coset evaluation;
//     Merkle: 8 columns; DEEP: 8 samples at 2 points; FRI: one fold). PTVM_GPU_BENCH_LARGE=1 adds 2^20.
#include <benchmark/benchmark.h>

#include "../bench_context.hpp"

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ptvm/gpu/f128_ntt.hpp"
#include "ptvm/gpu/hostsim/cost_model.hpp"
#include "ptvm/gpu/hostsim/profile.hpp"
#include "ptvm/gpu/merkle_blake2b.hpp"
#include "ptvm/gpu/stark128_backend.hpp"
#include "ptvm/gpu/stark128_kernels.hpp"
#include "ptvm/statement_v1/statement.hpp"
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

void report(benchmark::State& state, const hostsim::ModeledCost& c) {
  state.SetIterationTime(c.total_s());
  state.counters["modeled_ms"] = c.total_s() * 1e3;
  state.counters["modeled_kernel_ms"] = c.kernel_s * 1e3;
  state.counters["modeled_launch_ms"] = c.launch_s * 1e3;
  state.counters["modeled_round_trip_ms"] = c.round_trip_s * 1e3;
  state.counters["modeled_transfer_ms"] = c.transfer_s * 1e3;
  state.counters["launches"] = static_cast<double>(c.launches);
  state.counters["round_trips"] = static_cast<double>(c.round_trips);
  state.counters["kernel_bytes"] = static_cast<double>(c.kernel_bytes);
  state.counters["kernel_ops"] = static_cast<double>(c.kernel_ops);
  state.counters["transfer_bytes"] = static_cast<double>(c.h2d_bytes + c.d2h_bytes);
  for (const auto& k : c.kernels) {
    state.counters["modeled_us:" + k.name] = k.seconds * 1e6;
    state.counters["launches:" + k.name] = static_cast<double>(k.launches);
  }
}

void StatementV1Fibonacci_ModeledH100(benchmark::State& state, const char* profile) {
  const vm::ExecutionTrace trace = fibonacci();
  const std::string fp = statement_v1::run_fingerprint(trace);
  statement_v1::ProveOptions o;
  o.options = stark128::profile_by_name(profile);
  auto backend = gpu::make_stark128_cuda_backend();
  o.backend = backend.get();
  for (auto _ : state) {
    hostsim::reset_profile();
    hostsim::set_profiling(true);
    const auto run = statement_v1::prove_trace(trace, {trace.steps(), fp, fp}, o);
    hostsim::set_profiling(false);
    benchmark::DoNotOptimize(run);
    report(state, hostsim::model_cost_now());
    state.counters["modeled_proof_ms"] = hostsim::model_cost_now().total_s() * 1e3;
  }
  state.counters["steps"] = static_cast<double>(trace.steps());
}
BENCHMARK_CAPTURE(StatementV1Fibonacci_ModeledH100, production_v1, "production-v1")
    ->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(StatementV1Fibonacci_ModeledH100, ptvm_96, "ptvm-96")
    ->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

std::vector<F128> random_f128(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<F128> v(n);
  for (auto& x : v) x = F128::from_canonical_words_unchecked(rng(), rng() % F128::P_HI);
  return v;
}

enum class Kernel { Ntt, Merkle, Deep, FriFold };

void F128Kernel_ModeledH100(benchmark::State& state, Kernel kernel) {
  const uint32_t log_n = static_cast<uint32_t>(state.range(0));
  const size_t n = size_t{1} << log_n;
  const size_t n_cols = kernel == Kernel::Merkle || kernel == Kernel::Deep ? 8 : 1;
  std::vector<gpu::DeviceBuffer<F128>> cols;
  for (size_t c = 0; c < n_cols; ++c) cols.push_back(gpu::DeviceBuffer<F128>::from_host(random_f128(n, 1 + c)));
  gpu::DeviceBuffer<F128> out(n);
  const gpu::DeviceNttRoots roots = gpu::DeviceNttRoots::upload(log_n);
  std::vector<gpu::DeviceBuffer<uint32_t>> canonical;
  for (auto _ : state) {
    hostsim::reset_profile();
    hostsim::set_profiling(true);
    switch (kernel) {
      case Kernel::Ntt:
        gpu::f128_coset_evaluate_natural(cols[0].cptr(), n, out.ptr(), log_n, F128::generator(), roots, nullptr);
        break;
      case Kernel::Merkle: {
        std::vector<gpu::DeviceValueColumnRef> refs;
        std::vector<gpu::DeviceF128ColumnRef> in;
        canonical.clear();
        canonical.emplace_back(4 * n * cols.size());
        for (size_t c = 0; c < cols.size(); ++c) {
          in.push_back({cols[c].data(), n});
          refs.push_back({canonical[0].data() + 4 * n * c, n});
        }
        gpu::f128_to_canonical(in, canonical[0].ptr(), nullptr);
        benchmark::DoNotOptimize(gpu::DeviceBlake2bMerkleTree::commit(refs, 4, nullptr));
        break;
      }
      case Kernel::Deep: {
        std::vector<gpu::F128DeepSample> samples;
        for (size_t c = 0; c < n_cols; ++c) samples.push_back({{cols[c].data(), n}, F128::from_u64(c + 2)});
        const std::vector<gpu::F128DeepPoint> points = {{F128::from_u64(11), F128::from_u64(5), 0, 4},
                                                        {F128::from_u64(13), F128::from_u64(7), 4, 4}};
        gpu::f128_deep_quotient(log_n, samples, points, out.ptr(), nullptr);
        break;
      }
      case Kernel::FriFold:
        gpu::f128_fri_fold(cols[0].cptr(), log_n, F128::generator(), F128::from_u64(3), out.ptr(), nullptr);
        break;
    }
    gpu::synchronize(nullptr);
    hostsim::set_profiling(false);
    report(state, hostsim::model_cost_now());
  }
  state.counters["values"] = static_cast<double>(n * n_cols);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(12)->Arg(16);
  if (std::getenv("PTVM_GPU_BENCH_LARGE")) b->Arg(20);
  b->UseManualTime()->Iterations(1)->Unit(benchmark::kMicrosecond);
}
BENCHMARK_CAPTURE(F128Kernel_ModeledH100, ntt, Kernel::Ntt)->Apply(sizes);
BENCHMARK_CAPTURE(F128Kernel_ModeledH100, blake2b_merkle, Kernel::Merkle)->Apply(sizes);
BENCHMARK_CAPTURE(F128Kernel_ModeledH100, deep, Kernel::Deep)->Apply(sizes);
BENCHMARK_CAPTURE(F128Kernel_ModeledH100, fri_fold, Kernel::FriFold)->Apply(sizes);

}  // namespace

int main(int argc, char** argv) {
  return ptvm::bench::run_main(argc, argv, "hostsim",
                               {.timing = ptvm::bench::Timing::ModeledH100, .threads = ptvm::bench::Threads::NotUsed,
                                .note = "every time is MODELED (host-sim counters x ptvm/gpu/hostsim/cost_model.hpp), "
                                        "not measured"});
}
