// The CPU sumcheck backend on several threads against one thread: every operation (round sums on
// M31 and QM31 tables, with and without an eq factor, fixing variables, eq tables, both
// restrictions at shapes that split by tiles, by rows and by columns) gives the same values, and a
// whole sumcheck the same transcript. Sizes are above the backend's chunk threshold (2^14 entries),
// so the threaded paths run even on a machine of fewer cores (the pool runs 3 threads anyway).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/sumcheck/backend.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/mle.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"
#include "random_values.hpp"

namespace ptvm::sumcheck {
namespace {

using test::random_m31;
using test::random_qm31;

ProductShape two_terms_of_three() {
  ProductShape s;
  s.n_factors = 3;
  s.n_terms = 2;
  s.term_coefficients[0] = QM31::from_u32(3, 1, 4, 1);
  s.term_masks[0] = 0b111;
  s.term_coefficients[1] = QM31::from_u32(5, 9, 2, 6);
  s.term_masks[1] = 0b010;
  return s;
}

TEST(SumcheckCpuThreads, RoundsAndFoldsMatchOneThread) {
  auto one = make_cpu_sumcheck_backend(1), three = make_cpu_sumcheck_backend(3);
  const ProductShape shape = two_terms_of_three();
  std::mt19937_64 rng(11);
  const unsigned n = 17;  // 2^16 pairs in the first round: above the chunk threshold
  for (bool with_eq : {false, true})
    for (bool base : {false, true}) {
      const std::vector<QM31> z = with_eq ? random_qm31(n, rng) : std::vector<QM31>{};
      std::unique_ptr<SumcheckTables> a, b;
      if (base) {
        std::vector<std::vector<M31>> tables;
        for (int j = 0; j < 3; ++j) tables.push_back(random_m31(size_t{1} << n, rng));
        a = one->load_tables(std::span<const std::vector<M31>>(tables), z);
        b = three->load_tables(std::span<const std::vector<M31>>(tables), z);
      } else {
        std::vector<std::vector<QM31>> tables;
        for (int j = 0; j < 3; ++j) tables.push_back(random_qm31(size_t{1} << n, rng));
        a = one->load_tables(std::span<const std::vector<QM31>>(tables), z);
        b = three->load_owned_tables(std::move(tables), z);
      }
      const uint32_t degree = shape.degree() + (with_eq ? 1 : 0);
      for (unsigned round = 0; round < n; ++round) {
        const std::string where = "eq " + std::to_string(with_eq) + " base " + std::to_string(base) +
                                  " round " + std::to_string(round);
        ASSERT_EQ(one->sumcheck_round(*a, shape, degree), three->sumcheck_round(*b, shape, degree)) << where;
        const QM31 r = random_qm31(1, rng)[0];
        one->fix_first_variable(*a, r);
        three->fix_first_variable(*b, r);
        if (round == 0 || round + 1 == n) {
          ASSERT_EQ(a->to_host(), b->to_host()) << where;
        }
      }
    }
}

TEST(SumcheckCpuThreads, EqTablesMatchOneThreadAndTheDefinition) {
  auto one = make_cpu_sumcheck_backend(1), three = make_cpu_sumcheck_backend(3);
  std::mt19937_64 rng(12);
  for (unsigned n : {0u, 5u, 16u, 19u}) {
    const std::vector<QM31> r = random_qm31(n, rng);
    const QM31 scale = random_qm31(1, rng)[0];
    const std::vector<QM31> t = three->eq_table(r, scale);
    ASSERT_EQ(t, one->eq_table(r, scale)) << n;
    ASSERT_EQ(t.size(), size_t{1} << n);
    // Spot entries against eq(r, x) by its product (r_0 pairs with the most significant bit).
    for (size_t x : {size_t{0}, t.size() / 3, t.size() - 1}) {
      std::vector<QM31> point(n);
      for (unsigned i = 0; i < n; ++i) point[i] = QM31(M31::from_u32(uint32_t((x >> (n - 1 - i)) & 1)));
      EXPECT_EQ(t[x], scale * eq_eval(r, point)) << "n " << n << " x " << x;
    }
  }
}

TEST(SumcheckCpuThreads, RestrictionsMatchOneThreadInEverySplit) {
  auto one = make_cpu_sumcheck_backend(1), three = make_cpu_sumcheck_backend(3);
  std::mt19937_64 rng(13);
  // (rows, cols): many column tiles; one tile, rows split; few rows, columns split; odd sizes.
  const std::vector<std::pair<size_t, size_t>> shapes = {{8, 20000}, {300, 600}, {2, 40000}, {1, 70001}, {257, 129}};
  for (auto [rows, cols] : shapes) {
    const std::vector<M31> m = random_m31(rows * cols, rng);
    const std::vector<QM31> wr = random_qm31(rows, rng), wc = random_qm31(cols, rng);
    const std::string where = std::to_string(rows) + " x " + std::to_string(cols);
    const std::vector<QM31> by_rows = three->restrict_rows(m, rows, cols, wr);
    const std::vector<QM31> by_cols = three->restrict_columns(m, rows, cols, wc);
    ASSERT_EQ(by_rows, one->restrict_rows(m, rows, cols, wr)) << where;
    ASSERT_EQ(by_cols, one->restrict_columns(m, rows, cols, wc)) << where;
    // And against the definition at one output each.
    QM31 row_sum = QM31::zero(), col_sum = QM31::zero();
    for (size_t i = 0; i < rows; ++i) row_sum += wr[i] * QM31(m[i * cols + cols - 1]);
    for (size_t j = 0; j < cols; ++j) col_sum += QM31(m[(rows - 1) * cols + j]) * wc[j];
    EXPECT_EQ(by_rows[cols - 1], row_sum) << where;
    EXPECT_EQ(by_cols[rows - 1], col_sum) << where;
    const auto resident = three->upload_matrix(m);
    EXPECT_EQ(three->restrict_rows(*resident, 0, rows, cols, wr), by_rows) << where;
  }
}

TEST(SumcheckCpuThreads, WholeSumcheckTranscriptsMatchOneThread) {
  auto one = make_cpu_sumcheck_backend(1), three = make_cpu_sumcheck_backend(3);
  const ProductShape shape = two_terms_of_three();
  std::mt19937_64 rng(14);
  const unsigned n = 16;
  std::vector<std::vector<M31>> tables;
  for (int j = 0; j < 3; ++j) tables.push_back(random_m31(size_t{1} << n, rng));
  const std::vector<QM31> z = random_qm31(n, rng);
  Blake2sChannel ca, cb;
  const auto a = prove_product_sumcheck<M31>(shape, z, tables, ca, *one);
  const auto b = prove_product_sumcheck<M31>(shape, z, tables, cb, *three);
  EXPECT_EQ(ca.digest(), cb.digest());
  EXPECT_EQ(a.claim, b.claim);
  EXPECT_EQ(a.proof.final_values, b.proof.final_values);
  Blake2sChannel vc;
  EXPECT_TRUE(verify_product_sumcheck(shape, n, z, a.claim, b.proof, vc).accepted);
}

TEST(SumcheckCpuThreads, TooManyThreadsIsAUsageError) {
  try {
    make_cpu_sumcheck_backend(100000);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Usage);
  }
}

// The M31 MLE evaluation by rows (two eq tables, lazy row dot products on the pool) against the
// fold of mle.hpp, below and above its small-table cut-off, with even and odd variable counts,
// canonical extremes (p - 1 everywhere) and at 1 and 3 threads.
TEST(SumcheckCpuThreads, MleByRowsMatchesTheFold) {
  std::mt19937_64 rng(17);
  for (unsigned n : {0u, 1u, 5u, 11u, 12u, 13u, 16u, 17u}) {
    SCOPED_TRACE("n " + std::to_string(n));
    std::vector<M31> table = random_m31(size_t{1} << n, rng);
    const std::vector<QM31> point = random_qm31(n, rng);
    const QM31 expected = evaluate_mle<M31>(table, point);
    EXPECT_EQ(evaluate_mle_by_rows(table, point, 1), expected);
    EXPECT_EQ(evaluate_mle_by_rows(table, point, 3), expected);
    std::fill(table.begin(), table.end(), M31::from_u64(M31::P - 1));
    EXPECT_EQ(evaluate_mle_by_rows(table, point, 3), evaluate_mle<M31>(table, point));
  }
  std::vector<M31> table(size_t{1} << 13);
  EXPECT_THROW(evaluate_mle_by_rows(table, std::vector<QM31>(12), 2), Error);
}

}  // namespace
}  // namespace ptvm::sumcheck
