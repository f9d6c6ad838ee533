// Each CUDA backend stage on seeded random inputs against the CPU backend, across sizes from the
// smallest to a few above a kernel block (2..10): outputs compared value by value.
#include <gtest/gtest.h>

#include <random>

#include "ptvm/circle/point.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "require_device.hpp"

namespace ptvm {
namespace {

std::vector<std::vector<M31>> random_columns(size_t n_columns, uint32_t log_size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<M31>> cols(n_columns, std::vector<M31>(size_t{1} << log_size));
  for (auto& c : cols)
    for (auto& v : c) v = M31::raw(static_cast<uint32_t>(rng() % M31::P));
  return cols;
}

QM31 random_qm31(std::mt19937_64& rng) {
  return QM31::from_u32(static_cast<uint32_t>(rng() % M31::P), static_cast<uint32_t>(rng() % M31::P),
                        static_cast<uint32_t>(rng() % M31::P), static_cast<uint32_t>(rng() % M31::P));
}

template <class Kind>
void expect_equal_sets(const Columns<Kind>& cpu, const Columns<Kind>& cuda, const std::string& what) {
  ASSERT_EQ(cpu.n_columns(), cuda.n_columns()) << what;
  for (size_t c = 0; c < cpu.n_columns(); ++c) EXPECT_EQ(cpu.to_host(c), cuda.to_host(c)) << what << " column " << c;
}

struct Pair {
  std::unique_ptr<Backend> cpu = make_cpu_backend();
  std::unique_ptr<gpu::CudaBackend> cuda = gpu::make_cuda_backend();
};

TEST(CudaBackendStages, LdeEvaluateAtPointsAndFolds) {
  PTVM_REQUIRE_DEVICE();
  Pair b;
  for (uint32_t log = 2; log <= 10; ++log) {
    SCOPED_TRACE("log size " + std::to_string(log));
    const uint64_t seed = 1000 + log;
    std::mt19937_64 rng(seed);
    auto rows = random_columns(4, log, seed);
    auto hc = b.cpu->interpolate(b.cpu->upload_rows(rows));
    auto dc = b.cuda->interpolate(b.cuda->upload_rows(rows));
    expect_equal_sets(hc, dc, "interpolate");
    for (uint32_t ext : {0u, 1u, 2u}) {
      auto he = b.cpu->evaluate(hc, ext);
      auto de = b.cuda->evaluate(dc, ext);
      expect_equal_sets(he, de, "evaluate ext " + std::to_string(ext));
    }
    // Two points, every column at each (the OODS pattern: P and P + step).
    const auto p = circle::point_from_t(random_qm31(rng));
    const auto q = circle::point_from_t(random_qm31(rng));
    std::vector<PointEvaluationRequest> requests;
    for (size_t c = 0; c < 4; ++c) {
      requests.push_back({c, p});
      requests.push_back({c, q});
    }
    EXPECT_EQ(b.cpu->evaluate_at_points(hc, requests), b.cuda->evaluate_at_points(dc, requests));

    // FRI: the 4 columns as one QM31 column on CanonicCoset(log).
    auto hq = SecureEvaluations::from_coordinates(b.cpu->upload_rows(rows));
    auto dq = SecureEvaluations::from_coordinates(b.cuda->upload_rows(rows));
    const std::vector<size_t> positions = {0, 3, (size_t{1} << log) - 1};
    EXPECT_EQ(hq.gather(2, positions), dq.gather(2, positions));
    const QM31 alpha = random_qm31(rng);
    auto hf = b.cpu->fri_fold_circle(hq, alpha, nullptr);
    auto df = b.cuda->fri_fold_circle(dq, alpha, nullptr);
    expect_equal_sets(hf, df, "fri_fold_circle");
    auto hacc = b.cpu->fri_fold_circle(hq, alpha + QM31::one(), &hf);
    auto dacc = b.cuda->fri_fold_circle(dq, alpha + QM31::one(), &df);
    expect_equal_sets(hacc, dacc, "fri_fold_circle accumulate");
    if (log >= 3) {
      circle::LineDomain domain{circle::CanonicCoset{log}.half_coset()};
      auto hl = b.cpu->fri_fold_line(hacc, domain, alpha);
      auto dl = b.cuda->fri_fold_line(dacc, domain, alpha);
      expect_equal_sets(hl, dl, "fri_fold_line");
    }
  }
}

// Above 2^16 coefficients the OODS kernel's shared weight table takes several chunks.
TEST(CudaBackendStages, EvaluateAtPointsManyWeightChunks) {
  PTVM_REQUIRE_DEVICE();
  Pair b;
  std::mt19937_64 rng(5);
  auto rows = random_columns(1, 17, 5);
  auto h = b.cpu->interpolate(b.cpu->upload_rows(rows));
  auto d = b.cuda->interpolate(b.cuda->upload_rows(rows));
  const std::vector<PointEvaluationRequest> requests = {{0, circle::point_from_t(random_qm31(rng))}};
  EXPECT_EQ(b.cpu->evaluate_at_points(h, requests), b.cuda->evaluate_at_points(d, requests));
}

TEST(CudaBackendStages, DeepQuotientsAndMerkleOpenings) {
  PTVM_REQUIRE_DEVICE();
  Pair b;
  for (uint32_t log : {2u, 5u, 9u}) {
    SCOPED_TRACE("log size " + std::to_string(log));
    const uint64_t seed = 77 + log;
    std::mt19937_64 rng(seed);
    auto rows = random_columns(5, log, seed);
    auto small = random_columns(3, log - 1, seed + 1);
    auto hs = b.cpu->upload_rows(rows), hsmall = b.cpu->upload_rows(small);
    auto ds = b.cuda->upload_rows(rows), dsmall = b.cuda->upload_rows(small);

    std::vector<DeepQuotientBatch> hb, db;
    for (size_t k = 0; k < 2; ++k) {
      const auto point = circle::point_from_t(random_qm31(rng));
      std::vector<QM31> values;
      DeepQuotientBatch h, d;
      for (size_t c = k; c < 5; c += 2) {
        values.push_back(random_qm31(rng));
        h.columns.push_back({hs, c});
        d.columns.push_back({ds, c});
      }
      h.coefficients = d.coefficients = stark::DeepBatch::make(point, values, random_qm31(rng));
      hb.push_back(h);
      db.push_back(d);
    }
    expect_equal_sets(b.cpu->deep_quotients(log, hb), b.cuda->deep_quotients(log, db), "deep_quotients");

    auto ht = b.cpu->commit({hs, hsmall});
    auto dt = b.cuda->commit({ds, dsmall});
    EXPECT_EQ(ht->root(), dt->root());
    EXPECT_EQ(ht->column_log_sizes(), dt->column_log_sizes());
    hash::QueriesPerLogSize queries;
    queries[log] = {0, 1, (size_t{1} << log) - 1};
    queries[log - 1] = {(size_t{1} << (log - 1)) - 2};
    auto ho = ht->open(queries);
    auto dopen = dt->open(queries);
    EXPECT_EQ(ho.queried_values, dopen.queried_values);
    EXPECT_TRUE(ho.decommitment == dopen.decommitment);
    hash::QueriesPerLogSize bad;
    bad[log] = {3, 2};
    EXPECT_THROW(dt->open(bad), Error);
  }
}

}  // namespace
}  // namespace ptvm
