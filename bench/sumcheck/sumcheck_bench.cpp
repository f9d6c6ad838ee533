// Sumcheck benchmarks on one CPU core (the CPU sumcheck backend is single-threaded):
//   BM_MatmulProof/M/K/N: C = A B with A (M x K) the committed operand (weights), B and C public.
//     Timed: binding the commitment of A, B and C into the channel, prove_matmul (the
//     restrictions of A and B by eq tables and the sumcheck over K), then the opening of the
//     claim on MLE(A) (mle_commitment.hpp). Counters (thread CPU time, which a loaded machine does
//     not inflate; the benchmark's own times are wall and CPU as usual): prove_matmul_ms and
//     prove_open_ms (the two parts), verify_ms (all of it: verify_matmul, the verifier's own
//     evaluation of MLE(B) and MLE(C), the opening; median of 9), verify_wall_ms (the same, wall
//     clock), verify_matmul_ms (without the opening), proof_bytes (both proofs).
//   BM_MleCommit/log_n: committing a table (preprocessing for weights), one thread.
//   BM_ProductSumcheck/log_n/case: a whole product sumcheck over 2^log_n points; rounds_per_second
//     and points_per_second (hypercube points of all rounds, 2^(n+1) in total).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <utility>
#include <random>
#include <string>
#include <vector>

#include "../bench_context.hpp"
#include "ptvm/sumcheck/layered_gkr.hpp"
#include "ptvm/sumcheck/matmul.hpp"
#include "ptvm/sumcheck/mle.hpp"
#include "ptvm/sumcheck/mle_commitment.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"

namespace {

using namespace ptvm;
using namespace ptvm::sumcheck;

std::vector<M31> random_matrix(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<M31> v(n);
  for (auto& x : v) x = M31::from_u64(rng());
  return v;
}

size_t proof_bytes(const MatmulProof& p) {
  size_t felts = p.product_claims.size() + p.sumcheck.final_values.size();
  for (const auto& r : p.sumcheck.sumcheck.rounds) felts += r.coefficients.size();
  return felts * QM31::kBytes;
}

size_t opening_bytes(const MleOpeningProof& p) {
  return (p.proximity_row.size() + p.evaluation_row.size()) * QM31::kBytes + p.queried_values.size() * 4 +
         p.decommitment.hash_witness.size() * 32 + p.decommitment.column_witness.size() * 4;
}

// This thread's CPU time in ms: on a loaded machine it is what one core spent, where the wall
// clock also counts waiting for a core.
double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

// Medians of the wall and the thread CPU times of f over reps runs.
template <class F>
std::pair<double, double> median_ms(int reps, F&& f) {
  std::vector<double> wall, cpu;
  for (int rep = 0; rep < reps; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_ms();
    f();
    cpu.push_back(thread_cpu_ms() - c0);
    wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

// The committed operand A is opened with the tensor-code MLE commitment (mle_commitment.hpp,
// default split, 148 queries at rate 1/4); the commitment itself is made once, before timing
// (weights are committed ahead of proving). Timed: binding, the matmul reduction, the opening.
void BM_MatmulProof(benchmark::State& state) {
  const size_t m = size_t(state.range(0)), k = size_t(state.range(1)), n = size_t(state.range(2));
  const auto a = random_matrix(m * k, 1), b = random_matrix(k * n, 2);
  const MatrixView av{a, m, k}, bv{b, k, n};
  const auto c = multiply_m31(av, bv);  // the forward pass: the witness, not timed
  const MatrixView cv{c, m, n};
  const MatmulStatement statement{{{m, k}, {k, n}}, {{0, 1}}};
  const MatrixView operands[] = {av, bv};
  const MatrixView outputs[] = {cv};
  const uint32_t n_vars = log2_table_size(m * k, "bench");
  const CommittedMle committed = CommittedMle::commit(a, default_log_rows(n_vars));
  const MleCommitment& commitment = committed.commitment();

  auto bind = [&](Blake2sChannel& channel) {
    mix_commitment(channel, commitment);
    mix_public_matrix(channel, bv);
    mix_public_matrix(channel, cv);
  };
  MatmulProof proof;
  MleOpeningProof opening;
  double matmul_ms = 0, open_ms = 0;  // thread CPU time
  for (auto _ : state) {
    const double t0 = thread_cpu_ms();
    Blake2sChannel channel;
    bind(channel);
    auto out = prove_matmul(statement, operands, outputs, channel);
    const double t1 = thread_cpu_ms();
    const MleClaim& on_a = out.claims.left_operands[0];
    opening = committed.open(on_a.point, on_a.value, channel);
    const double t2 = thread_cpu_ms();
    matmul_ms += t1 - t0;
    open_ms += t2 - t1;
    proof = std::move(out.proof);
  }
  bool ok = true;
  double verify_matmul_ms = 0;
  const auto [verify_wall_ms, verify_cpu_ms] = median_ms(9, [&] {
    const double t0 = thread_cpu_ms();
    Blake2sChannel channel;
    bind(channel);
    auto v = verify_matmul(statement, proof, channel);
    ok = ok && v.accepted && check_public_claim(v.claims.products[0], cv, "C").empty() &&
         check_public_claim(v.claims.right_operands[1], bv, "B").empty();
    verify_matmul_ms = thread_cpu_ms() - t0;
    ok = ok && v.accepted &&
         !verify_mle_opening(commitment, v.claims.left_operands[0].point, v.claims.left_operands[0].value, opening, channel);
  });
  if (!ok) state.SkipWithError("the proof did not verify");
  const double iters = double(state.iterations());
  state.counters["prove_matmul_ms"] = matmul_ms / iters;
  state.counters["prove_open_ms"] = open_ms / iters;
  state.counters["verify_ms"] = verify_cpu_ms;
  state.counters["verify_wall_ms"] = verify_wall_ms;
  state.counters["verify_matmul_ms"] = verify_matmul_ms;
  state.counters["matmul_proof_bytes"] = double(proof_bytes(proof));
  state.counters["opening_bytes"] = double(opening_bytes(opening));
  state.counters["proof_bytes"] = double(proof_bytes(proof) + opening_bytes(opening));
  state.SetLabel("A committed (log_rows " + std::to_string(commitment.log_rows) + "), B and C public");
}
BENCHMARK(BM_MatmulProof)->Args({4096, 4096, 1})->Args({128, 4096, 128})->Args({4096, 16384, 1})
    ->ArgNames({"M", "K", "N"})->Unit(benchmark::kMillisecond);

// Committing a weight matrix (preprocessing, one thread): row encoding and the Merkle tree.
void BM_MleCommit(benchmark::State& state) {
  const uint32_t n_vars = uint32_t(state.range(0));
  const auto table = random_matrix(size_t{1} << n_vars, 3);
  for (auto _ : state) benchmark::DoNotOptimize(CommittedMle::commit(table, default_log_rows(n_vars), {}, 1).commitment().root);
  state.SetItemsProcessed(int64_t(state.iterations()) << n_vars);
}
BENCHMARK(BM_MleCommit)->Arg(20)->Arg(24)->ArgName("log_n")->Unit(benchmark::kMillisecond);

ProductShape shape_for(int which) {
  ProductShape s;
  if (which == 0) {  // degree 2: a * b
    s.n_factors = 2;
    s.n_terms = 1;
    s.term_masks[0] = 0b11;
  } else {  // degree 3 with eq: eq * (p0 q1 + p1 q0 + lambda q0 q1), LogUp-GKR's layer
    s.n_factors = 4;
    s.n_terms = 3;
    s.term_masks[0] = 0b1001;
    s.term_masks[1] = 0b0110;
    s.term_masks[2] = 0b1010;
  }
  for (uint32_t t = 0; t < s.n_terms; ++t) s.term_coefficients[t] = QM31::from_u32(t + 1, 2, 3, 4);
  return s;
}

void BM_ProductSumcheck(benchmark::State& state) {
  const unsigned log_n = unsigned(state.range(0));
  const int which = int(state.range(1));
  const ProductShape shape = shape_for(which);
  std::vector<std::vector<QM31>> tables(shape.n_factors);
  std::mt19937_64 rng(7);
  for (auto& t : tables) {
    t.resize(size_t{1} << log_n);
    for (auto& x : t) x = QM31::from_m31(M31::from_u64(rng()), M31::from_u64(rng()), M31::from_u64(rng()), M31::from_u64(rng()));
  }
  std::vector<QM31> z;
  if (which == 1)
    for (unsigned i = 0; i < log_n; ++i) z.push_back(QM31::from_u32(i + 5, 1, 2, 3));
  for (auto _ : state) {
    Blake2sChannel channel;
    auto out = prove_product_sumcheck<QM31>(shape, z, tables, channel);
    benchmark::DoNotOptimize(out.point.data());
  }
  state.counters["rounds_per_second"] = benchmark::Counter(double(log_n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["points_per_second"] =
      benchmark::Counter(double(size_t{2} << log_n), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(which == 0 ? "degree 2: a*b" : "degree 3 with eq: logup layer");
}
BENCHMARK(BM_ProductSumcheck)->ArgsProduct({{16, 20}, {0, 1}})->ArgNames({"log_n", "case"})
    ->Unit(benchmark::kMillisecond);

// M31 witness tables: path 0 lifts them to QM31 and runs every round in QM31 (what loading M31
// tables did before the base-field first round); path 1 hands them to the backend as M31 (first
// round in base-field products, the first fold lifts). Same proof bytes; the difference is the
// first round and the lift.
void BM_ProductSumcheckM31(benchmark::State& state) {
  const unsigned log_n = unsigned(state.range(0));
  const int which = int(state.range(1));
  const bool base_path = state.range(2) == 1;
  const ProductShape shape = shape_for(which);
  std::vector<std::vector<M31>> tables(shape.n_factors);
  std::mt19937_64 rng(7);
  for (auto& t : tables) {
    t.resize(size_t{1} << log_n);
    for (auto& x : t) x = M31::from_u64(rng());
  }
  std::vector<QM31> z;
  if (which == 1)
    for (unsigned i = 0; i < log_n; ++i) z.push_back(QM31::from_u32(i + 5, 1, 2, 3));
  for (auto _ : state) {
    Blake2sChannel channel;
    if (base_path) {
      auto out = prove_product_sumcheck<M31>(shape, z, tables, channel);
      benchmark::DoNotOptimize(out.point.data());
    } else {
      std::vector<std::vector<QM31>> lifted(tables.size());
      for (size_t j = 0; j < tables.size(); ++j) {
        lifted[j].reserve(tables[j].size());
        for (M31 x : tables[j]) lifted[j].push_back(QM31(x));
      }
      auto out = prove_product_sumcheck<QM31>(shape, z, lifted, channel);
      benchmark::DoNotOptimize(out.point.data());
    }
  }
  state.counters["points_per_second"] =
      benchmark::Counter(double(size_t{2} << log_n), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(which == 0 ? "degree 2: a*b" : "degree 3 with eq: logup layer") +
                 (base_path ? ", M31 first round" : ", lifted to QM31"));
}
BENCHMARK(BM_ProductSumcheckM31)->ArgsProduct({{16, 20}, {0, 1}, {0, 1}})->ArgNames({"log_n", "case", "m31"})
    ->Unit(benchmark::kMillisecond);

// Layered GKR with arbitrary wiring: `depth` layers of 2^log_width random Add/Mul gates each
// (prove; the verifier's time, O(gates) per layer for the wiring predicates, as a counter).
void BM_LayeredGkr(benchmark::State& state) {
  const unsigned log_width = unsigned(state.range(0));
  const size_t depth = size_t(state.range(1));
  const uint32_t width = uint32_t(1) << log_width;
  std::mt19937_64 rng(3);
  LayeredCircuit circuit;
  circuit.n_inputs = width;
  circuit.layers.resize(depth);
  for (auto& layer : circuit.layers)
    for (uint32_t g = 0; g < width; ++g)
      layer.push_back({rng() % 2 ? WiredGateKind::Add : WiredGateKind::Mul, uint32_t(rng() % width),
                       uint32_t(rng() % width)});
  std::vector<QM31> input(width);
  for (auto& x : input) x = QM31::from_m31(M31::from_u64(rng()), M31::from_u64(rng()), M31(), M31());
  LayeredGkrProof proof;
  for (auto _ : state) {
    Blake2sChannel channel;
    proof = prove_layered_gkr(circuit, input, channel).proof;
    benchmark::DoNotOptimize(proof.layers.data());
  }
  const auto t0 = std::chrono::steady_clock::now();
  Blake2sChannel vc;
  const bool ok = verify_layered_gkr(circuit, proof, vc).accepted;
  const double verify_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!ok) state.SkipWithError("the proof did not verify");
  state.counters["verify_ms"] = verify_ms;
  state.counters["gates_per_second"] =
      benchmark::Counter(double(width) * double(depth), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_LayeredGkr)->Args({14, 4})->Args({18, 4})->ArgNames({"log_width", "depth"})->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  return ptvm::bench::run_main(argc, argv, "cpu",
                               {.threads = ptvm::bench::Threads::One,
                                .note = "BM_MatmulProof: A is committed ahead of time (BM_MleCommit), its "
                                        "opening is in the prove and verify times"});
}
