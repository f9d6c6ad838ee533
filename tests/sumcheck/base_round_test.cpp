// The first round on M31 tables (base-field products until the first challenge) against the same
// tables lifted to QM31: identical round polynomials, transcripts and final values, for shapes
// with and without an eq factor, sizes 2^1..2^11, and extreme values (all p - 1).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ptvm/sumcheck/backend.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"

namespace ptvm::sumcheck {
namespace {

ProductShape shape_of(std::vector<std::pair<QM31, uint32_t>> terms, uint32_t n_factors) {
  ProductShape s;
  s.n_factors = n_factors;
  s.n_terms = uint32_t(terms.size());
  for (size_t t = 0; t < terms.size(); ++t) {
    s.term_coefficients[t] = terms[t].first;
    s.term_masks[t] = terms[t].second;
  }
  return s;
}

TEST(SumcheckBaseRound, M31TablesMatchLiftedTables) {
  const QM31 c1 = QM31::from_u32(3, 1, 4, 1), c2 = QM31::from_u32(5, 9, 2, 6);
  const std::vector<ProductShape> shapes = {
      shape_of({{QM31::one(), 0b11}}, 2),
      shape_of({{c1, 0b1001}, {c2, 0b0110}, {QM31::one(), 0b1100}}, 4),
      shape_of({{c1, 0b1}}, 1),
      shape_of({{c1, 0b111}, {c2, 0b100}, {QM31::one(), 0b011}}, 3),
  };
  std::mt19937_64 rng(17);
  for (size_t si = 0; si < shapes.size(); ++si)
    for (bool with_eq : {false, true})
      for (unsigned n = 1; n <= 11; n += (n < 4 ? 1 : 3))
        for (bool extreme : {false, true}) {
          const ProductShape& shape = shapes[si];
          std::vector<std::vector<M31>> base(shape.n_factors, std::vector<M31>(size_t{1} << n));
          for (auto& t : base)
            for (auto& x : t)
              x = extreme ? M31::from_u32(M31::P - 1) : M31::from_u64(rng());
          std::vector<std::vector<QM31>> lifted(shape.n_factors);
          for (uint32_t j = 0; j < shape.n_factors; ++j)
            for (M31 x : base[j])
              lifted[j].push_back(QM31(x));
          std::vector<QM31> z;
          if (with_eq)
            for (unsigned i = 0; i < n; ++i)
              z.push_back(QM31::from_u32(uint32_t(rng() % M31::P), 7, i, 1));
          Blake2sChannel c_base, c_lifted;
          const auto a = prove_product_sumcheck<M31>(shape, z, base, c_base);
          const auto b = prove_product_sumcheck<QM31>(shape, z, lifted, c_lifted);
          const std::string where = "shape " + std::to_string(si) + " eq " +
                                    std::to_string(with_eq) + " n " + std::to_string(n) +
                                    " extreme " + std::to_string(extreme);
          ASSERT_EQ(c_base.digest(), c_lifted.digest()) << where;
          ASSERT_EQ(a.claim, b.claim) << where;
          ASSERT_EQ(a.proof.final_values, b.proof.final_values) << where;
          ASSERT_EQ(a.claim, product_sum<M31>(shape, z, base)) << where;
          Blake2sChannel vc;
          EXPECT_TRUE(verify_product_sumcheck(shape, n, z, a.claim, a.proof, vc).accepted) << where;
        }
}

TEST(SumcheckBaseRound, ResidentBaseTablesReadBackLifted) {
  auto backend = make_cpu_sumcheck_backend();
  const std::vector<std::vector<M31>> base = {{M31::from_u32(1), M31::from_u32(2)},
                                              {M31::from_u32(3), M31::from_u32(4)}};
  auto t = backend->load_tables(std::span<const std::vector<M31>>(base), {});
  EXPECT_EQ(t->n_tables(), 2u);
  const auto host = t->to_host();
  EXPECT_EQ(host[1][1], QM31(M31::from_u32(4)));
  backend->fix_first_variable(*t, QM31::from_u32(2, 0, 0, 0));
  EXPECT_EQ(t->to_host()[0][0], QM31(M31::from_u32(3))); // 1 + 2 (2 - 1)
  EXPECT_EQ(t->n_vars(), 0u);
}

} // namespace
} // namespace ptvm::sumcheck
