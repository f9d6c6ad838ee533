// Backend conformance: every ptvm::Backend operation on seeded random inputs, across sizes that
// cross each switch point of the implementations, checked against the independent oracles of
// oracles.hpp (not only against another backend). One suite, instantiated per backend factory:
//   cpu, the CUDA backend (host-sim in ptvm_backend_tests, a GPU in ptvm_backend_gpu_tests),
//   dual(cpu, cuda) and dual(cpu, cpu).
// Switch points swept (smallest size, one below/at/above each):
//   * CPU: 16 packed lanes (evaluate_at_points, deep_quotients, composition), 2^5 (low-layer FFT
//     chunk), 2^12 (FFT block), 1024 (DEEP sub-block, composition grain), 2048 (LogUp chunk);
//   * CUDA: 256 threads per block (deep, fri, logup, oods, permute), 2^13 (FFT inner tile; above
//     it outer passes, GPU build only), 64 columns per Merkle column chunk, the 2^12-nonce grind
//     window of host-sim.
// Sizes go up to 2^14 (2^15 on a GPU): the O(N)-per-point oracles check every position up to 2^8
// and a seeded sample of 40 (ends and half boundaries included) above.
// Every failure names the backend (test parameter), the seed and the log size (SCOPED_TRACE).
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "oracles.hpp"
#include "ptvm/air/examples/range_check.hpp"
#include "ptvm/air/examples/wide_fibonacci.hpp"
#include "ptvm/backend.hpp"
#include "ptvm/shard/sharded_backend.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/sharded_device_backend.hpp"
#include "ptvm/gpu/vmair_device.hpp"
#include "ptvm/vmair/vm_air.hpp"

namespace ptvm {
namespace {

using oracle::Column;

#if defined(PTVM_HOSTSIM)
constexpr const char* kDeviceName = "hostsim";
constexpr uint32_t kDeviceMaxLog = 14;
#else
constexpr const char* kDeviceName = "cuda";
constexpr uint32_t kDeviceMaxLog = 15;
#endif
constexpr uint32_t kCpuMaxLog = 14;

// The CUDA backend with the VM AIR's device evaluators registered (the VM side's, not cuda/'s).
std::unique_ptr<gpu::CudaBackend> cuda_with_vm_airs() {
  auto b = gpu::make_cuda_backend();
  vmair::register_device_airs(*b);
  return b;
}

struct BackendCase {
  std::string name;
  std::function<std::unique_ptr<Backend>()> make;
  uint32_t max_log;        // largest evaluation domain the sweeps use
  bool needs_device;
};

void PrintTo(const BackendCase& c, std::ostream* os) { *os << c.name; }

std::vector<BackendCase> backend_cases() {
  return {
      {"cpu", [] { return make_cpu_backend(); }, kCpuMaxLog, false},
      {kDeviceName, [] { return std::unique_ptr<Backend>(cuda_with_vm_airs()); }, kDeviceMaxLog, true},
      {std::string("dual_cpu_") + kDeviceName,
       [] { return gpu::make_dual_backend(make_cpu_backend(), cuda_with_vm_airs()); }, kDeviceMaxLog, true},
      {"dual_cpu_cpu", [] { return gpu::make_dual_backend(make_cpu_backend(), make_cpu_backend()); }, kCpuMaxLog, false},
      {"sharded_1", [] { return shard::make_single_rank_sharded_backend(); }, kCpuMaxLog, false},
      {std::string("sharded_") + kDeviceName + "_1",
       [] {
         auto b = gpu::make_single_rank_sharded_device_backend();
         vmair::register_device_airs(b->air_registry());
         return std::unique_ptr<Backend>(std::move(b));
       },
       kDeviceMaxLog, true},
  };
}

// Log sizes at and around the switch points, up to max_log.
std::vector<uint32_t> sweep(uint32_t min_log, uint32_t max_log) {
  std::vector<uint32_t> out;
  for (uint32_t l : {1u, 2u, 3u, 4u, 5u, 6u, 8u, 9u, 10u, 11u, 12u, 13u, 14u, 15u})
    if (l >= min_log && l <= max_log) out.push_back(l);
  return out;
}

std::string where(const char* op, uint64_t seed, uint32_t log) {
  return std::string(op) + ": seed " + std::to_string(seed) + ", log size " + std::to_string(log);
}

// First difference and the number of differences, not thousands of values.
::testing::AssertionResult same_values(const Column& got, const Column& expected) {
  if (got.size() != expected.size())
    return ::testing::AssertionFailure() << "length " << got.size() << ", expected " << expected.size();
  size_t first = SIZE_MAX, count = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != expected[i]) {
      if (first == SIZE_MAX) first = i;
      ++count;
    }
  if (count == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << count << " of " << got.size() << " values differ; first at position "
                                       << first << ": got " << got[first].v << ", expected " << expected[first].v;
}

template <class Kind>
::testing::AssertionResult same_set(const Columns<Kind>& got, const std::vector<Column>& expected) {
  if (got.n_columns() != expected.size())
    return ::testing::AssertionFailure() << got.n_columns() << " columns, expected " << expected.size();
  for (size_t c = 0; c < expected.size(); ++c) {
    auto r = same_values(got.to_host(c), expected[c]);
    if (!r) return ::testing::AssertionFailure() << "column " << c << ": " << r.message();
  }
  return ::testing::AssertionSuccess();
}

template <class Kind>
std::vector<Column> host_set(const Columns<Kind>& s) {
  std::vector<Column> out;
  for (size_t c = 0; c < s.n_columns(); ++c) out.push_back(s.to_host(c));
  return out;
}

QM31 qm31_at(const std::vector<Column>& cols, size_t first, size_t i) {
  return QM31::from_m31(cols[first][i], cols[first + 1][i], cols[first + 2][i], cols[first + 3][i]);
}

// Positions checked against an O(N)-per-point oracle: all of them up to 2^8, else a seeded sample
// that always includes both ends and both halves' boundaries.
std::vector<size_t> checked_positions(uint32_t log, std::mt19937_64& rng) {
  const size_t n = size_t{1} << log;
  std::set<size_t> s;
  if (log <= 8) {
    for (size_t i = 0; i < n; ++i) s.insert(i);
  } else {
    for (size_t p : {size_t{0}, size_t{1}, n / 2 - 1, n / 2, n - 2, n - 1}) s.insert(p);
    while (s.size() < 40) s.insert(rng() % n);
  }
  return {s.begin(), s.end()};
}

class BackendConformance : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    if (GetParam().needs_device && !gpu::device_available()) GTEST_SKIP() << "no CUDA device visible";
    backend_ = GetParam().make();
  }
  uint32_t max_log() const { return GetParam().max_log; }
  // Evaluations (bit-reversed) of given storage values, through upload_rows.
  Evaluations upload_storage(const std::vector<Column>& storage) {
    std::vector<Column> rows;
    for (const auto& s : storage) {
      const auto pos = oracle::row_positions(static_cast<uint32_t>(std::countr_zero(s.size())));
      Column r(s.size());
      for (size_t j = 0; j < r.size(); ++j) r[j] = s[pos[j]];
      rows.push_back(std::move(r));
    }
    return backend_->upload_rows(rows);
  }
  std::unique_ptr<Backend> backend_;
};

// ---- layout ------------------------------------------------------------------------------------

TEST_P(BackendConformance, UploadRowsPutsEachRowAtItsPointAndRoundTrips) {
  for (uint32_t log : sweep(1, max_log())) {
    const uint64_t seed = 100 + log;
    SCOPED_TRACE(where("upload_rows", seed, log));
    std::mt19937_64 rng(seed);
    std::vector<Column> rows = oracle::random_columns(rng, 3, log);
    rows.push_back(oracle::random_column(rng, log > 1 ? log - 1 : log));  // mixed sizes in one set
    auto set = backend_->upload_rows(rows);
    ASSERT_EQ(set.n_columns(), rows.size());
    for (size_t c = 0; c < rows.size(); ++c) {
      EXPECT_EQ(set.log_size(c), static_cast<uint32_t>(std::countr_zero(rows[c].size()))) << "column " << c;
      const Column storage = oracle::rows_to_storage(rows[c]);
      EXPECT_TRUE(same_values(set.to_host(c), storage)) << "to_host, column " << c;
      EXPECT_TRUE(same_values(backend_->to_host_rows(set, c), rows[c])) << "to_host_rows, column " << c;
      std::vector<size_t> positions = {0, rows[c].size() - 1, rng() % rows[c].size(), rng() % rows[c].size()};
      const std::vector<M31> got = set.gather(c, positions);
      ASSERT_EQ(got.size(), positions.size());
      for (size_t i = 0; i < positions.size(); ++i) EXPECT_EQ(got[i], storage[positions[i]]) << "gather " << positions[i];
    }
  }
}

// ---- circle FFT --------------------------------------------------------------------------------

TEST_P(BackendConformance, InterpolateGivesTheCoefficientsOfTheNaiveEvaluation) {
  for (uint32_t log : sweep(1, max_log())) {
    const uint64_t seed = 200 + log;
    SCOPED_TRACE(where("interpolate", seed, log));
    std::mt19937_64 rng(seed);
    // Two columns of this size and one smaller (the twiddles of the largest serve both).
    std::vector<Column> storage = oracle::random_columns(rng, 2, log);
    if (log > 1) storage.push_back(oracle::random_column(rng, log - 1));
    auto coeffs = backend_->interpolate(upload_storage(storage));
    ASSERT_EQ(coeffs.n_columns(), storage.size());
    for (size_t c = 0; c < storage.size(); ++c) {
      const Column got = coeffs.to_host(c);
      const uint32_t l = static_cast<uint32_t>(std::countr_zero(storage[c].size()));
      ASSERT_EQ(got.size(), storage[c].size());
      for (size_t r : checked_positions(l, rng))
        ASSERT_EQ(oracle::naive_eval<M31>(got, oracle::domain_point(l, r)), storage[c][r])
            << "column " << c << ", f(point at position " << r << ") from the interpolated coefficients";
    }
  }
}

TEST_P(BackendConformance, EvaluateMatchesTheNaiveEvaluationOnExtendedDomains) {
  for (uint32_t log : sweep(1, max_log())) {
    const uint64_t seed = 300 + log;
    SCOPED_TRACE(where("evaluate", seed, log));
    std::mt19937_64 rng(seed);
    std::vector<Column> storage = oracle::random_columns(rng, 2, log);
    auto evals = upload_storage(storage);
    auto coeffs = backend_->interpolate(evals);
    const std::vector<Column> c_host = host_set(coeffs);
    EXPECT_TRUE(same_set(backend_->evaluate(coeffs, 0), storage)) << "evaluate(interpolate(v), 0) != v";
    for (uint32_t ext : {1u, 2u, 3u}) {
      if (log + ext > max_log()) break;
      SCOPED_TRACE("log extension " + std::to_string(ext));
      auto out = backend_->evaluate(coeffs, ext);
      ASSERT_EQ(out.n_columns(), 2u);
      for (size_t c = 0; c < 2; ++c) {
        const Column got = out.to_host(c);
        ASSERT_EQ(got.size(), size_t{1} << (log + ext));
        for (size_t r : checked_positions(log + ext, rng))
          ASSERT_EQ(got[r], oracle::naive_eval<M31>(c_host[c], oracle::domain_point(log + ext, r)))
              << "column " << c << " position " << r;
      }
    }
  }
}

TEST_P(BackendConformance, EvaluateAtPointsMatchesTheNaiveSum) {
  for (uint32_t log : sweep(1, max_log())) {
    const uint64_t seed = 400 + log;
    SCOPED_TRACE(where("evaluate_at_points", seed, log));
    std::mt19937_64 rng(seed);
    std::vector<Column> storage = oracle::random_columns(rng, 3, log);
    if (log > 1) storage.push_back(oracle::random_column(rng, log - 1));
    auto coeffs = backend_->interpolate(upload_storage(storage));
    const std::vector<Column> c_host = host_set(coeffs);
    // The OODS pattern (every column at P and P + step), a point shared across sizes, one column
    // asked twice, requests out of column order.
    const auto p = oracle::random_qm31_point(rng), q = oracle::random_qm31_point(rng);
    std::vector<PointEvaluationRequest> requests;
    for (size_t c = storage.size(); c-- > 0;) {
      requests.push_back({c, p});
      requests.push_back({c, q});
    }
    requests.push_back({0, p});
    requests.push_back({1, oracle::random_qm31_point(rng)});
    const std::vector<QM31> got = backend_->evaluate_at_points(coeffs, requests);
    ASSERT_EQ(got.size(), requests.size());
    for (size_t i = 0; i < requests.size(); ++i)
      EXPECT_EQ(got[i], oracle::naive_eval<QM31>(c_host[requests[i].column], requests[i].point))
          << "request " << i << " (column " << requests[i].column << ")";
  }
}

// ---- Merkle ------------------------------------------------------------------------------------

TEST_P(BackendConformance, CommitMatchesTheOpenSslMerkleTreeAndOpensVerifiably) {
  struct Shape {
    std::vector<uint32_t> set_a, set_b;  // log sizes of the columns of two sets
  };
  std::vector<Shape> shapes;
  for (uint32_t log : sweep(1, std::min(max_log(), 10u))) shapes.push_back({{log, log, log > 1 ? log - 1 : log}, {log}});
  shapes.push_back({{1}, {}});
  shapes.push_back({{3, 5, 2, 5, 1}, {4, 5}});                           // unsorted mixed sizes
  shapes.push_back({std::vector<uint32_t>(65, 4), {2, 4}});              // > 64 columns of one size
  shapes.push_back({std::vector<uint32_t>(64, 3), std::vector<uint32_t>(64, 3)});  // 128 of one size
  for (size_t i = 0; i < shapes.size(); ++i) {
    const uint64_t seed = 500 + i;
    const uint32_t max_shape_log = *std::max_element(shapes[i].set_a.begin(), shapes[i].set_a.end());
    SCOPED_TRACE(where("commit/open", seed, max_shape_log) + ", shape " + std::to_string(i));
    std::mt19937_64 rng(seed);
    std::vector<Column> rows_a, rows_b;
    for (uint32_t l : shapes[i].set_a) rows_a.push_back(oracle::random_column(rng, l));
    for (uint32_t l : shapes[i].set_b) rows_b.push_back(oracle::random_column(rng, l));
    auto a = backend_->upload_rows(rows_a), b = backend_->upload_rows(rows_b);
    std::vector<Column> committed = host_set(a);  // storage order, in commitment order
    for (auto& c : host_set(b)) committed.push_back(std::move(c));
    auto tree = backend_->commit({a, b});
    ASSERT_EQ(tree->root(), oracle::merkle_root(committed));
    std::vector<uint32_t> logs;
    for (const auto& c : committed) logs.push_back(static_cast<uint32_t>(std::countr_zero(c.size())));
    EXPECT_EQ(tree->column_log_sizes(), logs);

    // Queries: some sizes, sorted distinct positions (first and last included at the largest).
    hash::QueriesPerLogSize queries;
    for (uint32_t l : std::set<uint32_t>(logs.begin(), logs.end())) {
      if (l != max_shape_log && rng() % 3 == 0) continue;
      std::set<size_t> pos;
      if (l == max_shape_log) pos = {0, (size_t{1} << l) - 1};
      for (size_t k = 0; k < 1 + rng() % 5; ++k) pos.insert(rng() % (size_t{1} << l));
      queries[l] = std::vector<size_t>(pos.begin(), pos.end());
    }
    const auto opening = tree->open(queries);
    EXPECT_EQ(opening.queried_values, oracle::queried_values(committed, queries));
    std::vector<std::span<const M31>> spans(committed.begin(), committed.end());
    const auto reference = hash::MerkleTree::commit(spans).decommit(queries);
    EXPECT_TRUE(opening.decommitment == reference.decommitment) << "witnesses differ from hash::MerkleTree's";
    const auto verdict = hash::MerkleVerifier(tree->root(), logs).verify(queries, opening.queried_values, opening.decommitment);
    EXPECT_FALSE(verdict.has_value()) << *verdict;
  }
}

// ---- LogUp interaction trace -------------------------------------------------------------------

struct LogupCase {
  std::shared_ptr<const air::Component> component;
  std::function<oracle::LogupOracle(const std::vector<Column>&, const std::vector<Column>&,
                                    const std::vector<air::RelationChallenges>&)>
      oracle;
};
template <class AirT>
LogupCase logup_case(AirT a) {
  auto c = air::make_component(a);
  const uint32_t batches = c->shape().n_logup_batches;
  return {c, [a, batches](const auto& pre, const auto& main, const auto& ch) {
            return oracle::logup_oracle(a, batches, pre, main, ch);
          }};
}

std::vector<air::RelationChallenges> random_challenges(std::mt19937_64& rng, size_t n) {
  std::vector<air::RelationChallenges> out;
  for (size_t i = 0; i < std::max<size_t>(n, 1); ++i)
    out.push_back(air::RelationChallenges::from(oracle::random_qm31(rng), oracle::random_qm31(rng)));
  return out;
}

TEST_P(BackendConformance, LogupInteractionMatchesTheFractionsSummedOneByOne) {
  // log_rows up to one above the CPU's 2048-row chunk (cpu) or a few kernel blocks (host-sim).
  const uint32_t top = max_log() >= 13 ? 12 : 10;
  std::vector<LogupCase> cases;
  for (uint32_t log : sweep(2, top)) cases.push_back(logup_case(air::examples::RangeCheckedValues{log}));  // 2 fractions, 1 batch
  cases.push_back(logup_case(air::examples::ByteTable{}));                                               // 1 fraction, odd
  for (uint32_t log : {2u, 4u, 5u}) cases.push_back(logup_case(vmair::StepAir{log, 3}));                 // many batches, odd last
  vmair::MemoryAir memory;
  memory.log_rows = 3;
  cases.push_back(logup_case(memory));
  cases.push_back(logup_case(vmair::TablesAir{}));
  for (size_t i = 0; i < cases.size(); ++i) {
    const air::Component& comp = *cases[i].component;
    const uint32_t n = comp.log_rows();
    const uint64_t seed = 600 + i;
    SCOPED_TRACE(where("logup_interaction", seed, n) + ", component '" + comp.info().name + "', " +
                 std::to_string(comp.shape().n_fractions) + " fractions");
    std::mt19937_64 rng(seed);
    // Random columns: the trace need not satisfy the AIR; every denominator is nonzero w.h.p.
    const std::vector<Column> pre = oracle::random_columns(rng, comp.shape().n_preprocessed_total, n);
    const std::vector<Column> main = oracle::random_columns(rng, comp.info().n_main_columns, n);
    const auto challenges = random_challenges(rng, comp.shape().n_relations_referenced);
    const oracle::LogupOracle expected = cases[i].oracle(pre, main, challenges);
    auto pre_set = backend_->upload_rows(pre), main_set = backend_->upload_rows(main);
    const Backend::Interaction got = backend_->logup_interaction(comp, pre_set, main_set, challenges);
    EXPECT_EQ(got.claimed_sum, expected.claimed_sum);
    ASSERT_EQ(got.columns.n_columns(), 4 * size_t{comp.shape().n_logup_batches});
    std::vector<Column> storage;
    for (const auto& r : expected.rows) storage.push_back(oracle::rows_to_storage(r));
    EXPECT_TRUE(same_set(got.columns, storage));
  }
}

// ---- constraint composition --------------------------------------------------------------------

struct CompositionCase {
  std::shared_ptr<const air::Component> component;
  std::function<std::vector<Column>(uint32_t, const std::vector<Column>&, const std::vector<Column>&,
                                    const std::vector<Column>&, std::span<const M31>,
                                    const std::vector<air::RelationChallenges>&, const std::vector<QM31>&, QM31)>
      oracle;
};
template <class AirT>
CompositionCase composition_case(AirT a) {
  auto c = air::make_component(a);
  auto typed = std::dynamic_pointer_cast<const air::ComponentAdapter<AirT>>(c);
  return {c, [typed](uint32_t e, const auto& pre, const auto& main, const auto& inter, std::span<const M31> pub,
                     const auto& ch, const auto& coeffs, QM31 sum) {
            return oracle::composition_oracle(*typed, e, pre, main, inter, pub, ch, coeffs, sum);
          }};
}

TEST_P(BackendConformance, EvalCompositionMatchesTheScalarDomainEvaluation) {
  // Constraint domains from 2^3 (below the 16 packed lanes) to above the CPU's 1024-position grain.
  const uint32_t top = max_log() >= 13 ? 11 : 8;
  std::vector<CompositionCase> cases;
  for (uint32_t log : sweep(2, top - 1)) {
    air::examples::WideFibonacci w;
    w.log_rows = log;
    w.n_columns = 5;
    w.bind_first_row = log % 2 == 0;  // boundary constraints (selectors, public inputs) half of the time
    cases.push_back(composition_case(w));
  }
  for (uint32_t log : {2u, 5u, top - 1}) cases.push_back(composition_case(air::examples::RangeCheckedValues{log}));
  cases.push_back(composition_case(air::examples::ByteTable{}));
  for (uint32_t log : {2u, 4u}) cases.push_back(composition_case(vmair::StepAir{log, 3}));
  vmair::RomAir rom;
  rom.log_rows = 3;
  cases.push_back(composition_case(rom));
  for (size_t i = 0; i < cases.size(); ++i) {
    const air::Component& comp = *cases[i].component;
    const auto& shape = comp.shape();
    const uint32_t n = comp.log_rows();
    for (uint32_t extra : {0u, 1u}) {
      const uint32_t e = n + shape.log_constraint_extension + extra;
      if (e > top && extra > 0) continue;
      const uint64_t seed = 700 + 2 * i + extra;
      SCOPED_TRACE(where("eval_composition", seed, e) + ", component '" + comp.info().name + "' (log_rows " +
                   std::to_string(n) + ", " + std::to_string(shape.n_constraints()) + " constraints, " +
                   std::to_string(shape.n_logup_batches) + " LogUp batches)");
      std::mt19937_64 rng(seed);
      // Values on the constraint domain need not be low-degree extensions for this check.
      const auto pre = oracle::random_columns(rng, shape.n_preprocessed_total, e);
      const auto main = oracle::random_columns(rng, comp.info().n_main_columns, e);
      const auto inter = oracle::random_columns(rng, shape.n_interaction_columns(), e);
      std::vector<M31> pub;
      for (int k = 0; k < 30; ++k) pub.push_back(oracle::random_m31(rng));
      const auto challenges = random_challenges(rng, shape.n_relations_referenced);
      std::vector<QM31> coeffs;
      for (uint32_t k = 0; k < shape.n_constraints(); ++k) coeffs.push_back(oracle::random_qm31(rng));
      const QM31 claimed_sum = oracle::random_qm31(rng);
      auto pre_set = upload_storage(pre), main_set = upload_storage(main), inter_set = upload_storage(inter);
      CompositionInputs in;
      in.preprocessed = &pre_set;
      in.main = &main_set;
      in.interaction = &inter_set;
      in.public_inputs = pub;
      in.challenges = challenges;
      in.coefficients = coeffs;
      in.claimed_sum = claimed_sum;
      auto got = backend_->eval_composition(comp, in);
      EXPECT_TRUE(same_set(got, cases[i].oracle(e, pre, main, inter, pub, challenges, coeffs, claimed_sum)));
    }
  }
}

// ---- column arithmetic -------------------------------------------------------------------------

TEST_P(BackendConformance, AddAssignSliceAndCoefficientSliceMatchElementwise) {
  for (uint32_t log : sweep(1, max_log())) {
    const uint64_t seed = 800 + log;
    SCOPED_TRACE(where("add_assign/slice/coefficient_slice", seed, log));
    std::mt19937_64 rng(seed);
    const auto x = oracle::random_columns(rng, 4, log), y = oracle::random_columns(rng, 4, log);
    auto xs = SecureEvaluations::from_coordinates(upload_storage(x)),
         ys = SecureEvaluations::from_coordinates(upload_storage(y));
    backend_->add_assign(xs, ys);
    std::vector<Column> sum = x;
    for (size_t c = 0; c < 4; ++c)
      for (size_t i = 0; i < sum[c].size(); ++i) sum[c][i] = M31::from_u64(uint64_t{x[c][i].v} + y[c][i].v);
    EXPECT_TRUE(same_set(xs, sum)) << "add_assign";
    EXPECT_TRUE(same_set(ys, y)) << "add_assign changed its source";
    // slice and coefficient_slice take coefficients (never written in place, so a slice cannot
    // alias its source): any values serve, the interpolations of x and y.
    auto xc = backend_->interpolate(xs.coordinates()), yc = backend_->interpolate(ys.coordinates());
    const std::vector<Column> xh = host_set(xc), yh = host_set(yc);
    EXPECT_TRUE(same_set(backend_->slice(xc, 1, 2), {xh[1], xh[2]})) << "slice";
    EXPECT_TRUE(same_set(backend_->slice(xc, 4, 0), {})) << "empty slice";
    for (uint32_t part = 0; part <= log; ++part) {
      const size_t len = size_t{1} << part;
      for (size_t begin : {size_t{0}, (size_t{1} << log) - len}) {
        auto cs = backend_->coefficient_slice(yc, begin, part);
        std::vector<Column> expected;
        for (const auto& c : yh) expected.emplace_back(c.begin() + begin, c.begin() + begin + len);
        EXPECT_TRUE(same_set(cs, expected)) << "coefficient_slice begin " << begin << " log " << part;
      }
    }
  }
}

// ---- DEEP quotients ----------------------------------------------------------------------------

TEST_P(BackendConformance, DeepQuotientsMatchTheBatchFormula) {
  for (uint32_t log : sweep(1, max_log())) {
    for (size_t n_batches : {size_t{1}, size_t{3}}) {
      const uint64_t seed = 900 + 4 * log + n_batches;
      SCOPED_TRACE(where("deep_quotients", seed, log) + ", " + std::to_string(n_batches) + " batches");
      std::mt19937_64 rng(seed);
      const auto xa = oracle::random_columns(rng, 5, log), xb = oracle::random_columns(rng, 2, log);
      auto sa = upload_storage(xa), sb = upload_storage(xb);
      std::vector<DeepQuotientBatch> batches;
      std::vector<std::vector<const Column*>> batch_columns;
      for (size_t bi = 0; bi < n_batches; ++bi) {
        DeepQuotientBatch b;
        std::vector<const Column*> cols;
        std::vector<QM31> values;
        const size_t m = bi == 0 ? 5 : bi == 1 ? 1 : 3;  // columns per batch; the last mixes both sets
        for (size_t k = 0; k < m; ++k) {
          if (bi == 2 && k == 1) {
            b.columns.push_back({sb, 1});
            cols.push_back(&xb[1]);
          } else {
            const size_t c = (k * 3 + bi) % 5;
            b.columns.push_back({sa, c});
            cols.push_back(&xa[c]);
          }
          values.push_back(oracle::random_qm31(rng));
        }
        b.coefficients = stark::DeepBatch::make(oracle::random_qm31_point(rng), values, oracle::random_qm31(rng));
        batches.push_back(std::move(b));
        batch_columns.push_back(std::move(cols));
      }
      auto got = backend_->deep_quotients(log, batches);
      const size_t size = size_t{1} << log;
      std::vector<Column> expected(4, Column(size));
      for (size_t q = 0; q < size; ++q) {
        const auto pt = oracle::domain_point(log, q);
        QM31 acc;
        for (size_t bi = 0; bi < batches.size(); ++bi) {
          const auto& co = batches[bi].coefficients;
          const QM31 num = co.numerator(pt.y, [&](size_t k) { return (*batch_columns[bi][k])[q]; });
          const QM31 term = num * co.denominator(pt.x, pt.y).inverse();
          acc = bi == 0 ? term : acc * co.alpha_pow_m + term;
        }
        for (int k = 0; k < 4; ++k) expected[k][q] = acc.coord(k);
      }
      EXPECT_TRUE(same_set(got, expected));
    }
  }
}

// ---- FRI folds ---------------------------------------------------------------------------------

TEST_P(BackendConformance, FriFoldCircleMatchesThePairFormula) {
  for (uint32_t log : sweep(2, max_log())) {
    const uint64_t seed = 1000 + log;
    SCOPED_TRACE(where("fri_fold_circle", seed, log));
    std::mt19937_64 rng(seed);
    const auto x = oracle::random_columns(rng, 4, log);
    const auto acc_in = oracle::random_columns(rng, 4, log - 1);
    const QM31 alpha = oracle::random_qm31(rng);
    auto xs = SecureEvaluations::from_coordinates(upload_storage(x));
    auto accs = LineEvaluations::from_coordinates(upload_storage(acc_in));
    const size_t half = size_t{1} << (log - 1);
    std::vector<Column> fresh(4, Column(half)), accumulated(4, Column(half));
    for (size_t i = 0; i < half; ++i) {
      const auto p = oracle::domain_point(log, 2 * i);
      ASSERT_TRUE(oracle::domain_point(log, 2 * i + 1) == -p) << "positions 2i, 2i+1 are not a conjugate pair";
      const QM31 g = stark::fold_circle_pair(qm31_at(x, 0, 2 * i), qm31_at(x, 0, 2 * i + 1), p.y.inverse(), alpha);
      const QM31 a = qm31_at(acc_in, 0, i) * (alpha * alpha) + g;
      for (int k = 0; k < 4; ++k) {
        fresh[k][i] = g.coord(k);
        accumulated[k][i] = a.coord(k);
      }
    }
    EXPECT_TRUE(same_set(backend_->fri_fold_circle(xs, alpha, nullptr), fresh)) << "into a fresh column";
    EXPECT_TRUE(same_set(backend_->fri_fold_circle(xs, alpha, &accs), accumulated)) << "accumulating";
    EXPECT_TRUE(same_set(accs, host_set(upload_storage(acc_in)))) << "the accumulator input changed";
  }
}

TEST_P(BackendConformance, FriFoldLineMatchesThePairFormula) {
  for (uint32_t log : sweep(1, max_log())) {
    // The first line domain of a 2^(log+1) circle column, and a twice doubled one (later layers).
    for (uint32_t doublings : {0u, 2u}) {
      if (log + doublings + 1 > 31) continue;
      const uint64_t seed = 1100 + 4 * log + doublings;
      SCOPED_TRACE(where("fri_fold_line", seed, log) + ", " + std::to_string(doublings) + " doublings");
      std::mt19937_64 rng(seed);
      circle::LineDomain domain{circle::CanonicCoset{log + doublings + 1}.half_coset()};
      for (uint32_t d = 0; d < doublings; ++d) domain = domain.doubled();
      ASSERT_EQ(domain.log_size(), log);
      const auto x = oracle::random_columns(rng, 4, log);
      const QM31 alpha = oracle::random_qm31(rng);
      // Line evaluations are plain bit-reversed vectors: upload as storage of a circle domain.
      auto xs = LineEvaluations::from_coordinates(upload_storage(x));
      const size_t half = size_t{1} << (log - 1);
      std::vector<Column> expected(4, Column(half));
      for (size_t i = 0; i < half; ++i) {
        const M31 px = domain.at(circle::bit_reverse_index(2 * i, log));
        ASSERT_EQ(domain.at(circle::bit_reverse_index(2 * i + 1, log)), -px) << "positions 2i, 2i+1 are not x, -x";
        const QM31 g = stark::fold_line_pair(qm31_at(x, 0, 2 * i), qm31_at(x, 0, 2 * i + 1), px.inverse(), alpha);
        for (int k = 0; k < 4; ++k) expected[k][i] = g.coord(k);
      }
      EXPECT_TRUE(same_set(backend_->fri_fold_line(xs, domain, alpha), expected));
    }
  }
}

// ---- proof of work -----------------------------------------------------------------------------

TEST_P(BackendConformance, GrindReturnsTheSmallestValidNonce) {
  // pow_bits 13 takes ~2^13 nonces: past host-sim's first 2^12-nonce window.
  for (uint32_t pow_bits : {0u, 1u, 2u, 5u, 8u, 11u, 13u}) {
    for (uint64_t seed : {uint64_t{1200} + pow_bits, uint64_t{1300} + pow_bits}) {
      SCOPED_TRACE("grind: seed " + std::to_string(seed) + ", pow_bits " + std::to_string(pow_bits));
      hash::Blake2sChannel channel;
      channel.mix_u64(seed);
      const uint64_t nonce = backend_->grind(channel, pow_bits);
      const hash::Blake2sHash prefixed = oracle::pow_prefixed(channel.digest(), pow_bits);
      EXPECT_GE(oracle::pow_zeros(prefixed, nonce), pow_bits) << "nonce " << nonce << " is not valid";
      for (uint64_t smaller = 0; smaller < nonce; ++smaller)
        ASSERT_LT(oracle::pow_zeros(prefixed, smaller), pow_bits) << "nonce " << smaller << " < " << nonce << " is valid";
      EXPECT_TRUE(channel.check_pow(nonce, pow_bits));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendConformance, ::testing::ValuesIn(backend_cases()),
                         [](const ::testing::TestParamInfo<BackendCase>& info) { return info.param.name; });

}  // namespace
}  // namespace ptvm
