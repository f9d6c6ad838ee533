// The streamed product sumcheck against the table one: the same proof and transcript for every
// number of streamed rounds, with and without an eq factor, across the chunk size; a false claim
// still fails verification.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/sumcheck/streamed_sumcheck.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"
#include "random_values.hpp"

namespace ptvm::sumcheck {
namespace {

using test::random_qm31;


ProductShape fraction_like_shape(QM31 alpha) {  // p0 q1 + p1 q0 + alpha q0 q1
  ProductShape s;
  s.n_factors = 4;
  s.n_terms = 3;
  s.term_masks[0] = 0b1001;
  s.term_masks[1] = 0b0110;
  s.term_masks[2] = 0b1100;
  s.term_coefficients[0] = s.term_coefficients[1] = QM31::one();
  s.term_coefficients[2] = alpha;
  return s;
}

ProductShape product2() {
  ProductShape s;
  s.n_factors = 2;
  s.n_terms = 1;
  s.term_masks[0] = 0b11;
  s.term_coefficients[0] = QM31::one();
  return s;
}

FactorFill fill_from(const std::vector<std::vector<QM31>>& tables, std::atomic<size_t>* calls) {  // called concurrently
  return [&tables, calls](size_t begin, size_t end, QM31* const* cols) {
    ++*calls;
    ASSERT_LE(end - begin, size_t{1} << 12);
    ASSERT_EQ(begin % (end - begin), 0u) << "a range crosses a multiple of its length";
    for (size_t j = 0; j < tables.size(); ++j)
      for (size_t x = begin; x < end; ++x) cols[j][x - begin] = tables[j][x];
  };
}

void expect_same(const ProductSumcheckProverOutput& a, const ProductSumcheckProverOutput& b, const std::string& where) {
  ASSERT_EQ(a.proof.sumcheck.rounds.size(), b.proof.sumcheck.rounds.size()) << where;
  for (size_t i = 0; i < a.proof.sumcheck.rounds.size(); ++i)
    ASSERT_EQ(a.proof.sumcheck.rounds[i].coefficients, b.proof.sumcheck.rounds[i].coefficients) << where << " round " << i;
  EXPECT_EQ(a.proof.final_values, b.proof.final_values) << where;
  EXPECT_EQ(a.point, b.point) << where;
  EXPECT_EQ(a.claim, b.claim) << where;
}

TEST(StreamedSumcheck, SameProofAsTheTablesForEveryStreamedRoundCount) {
  std::mt19937_64 rng(16);
  for (uint32_t n : {1u, 2u, 3u, 6u, 14u}) {
    for (bool with_eq : {false, true}) {
      for (int shape_kind = 0; shape_kind < 2; ++shape_kind) {
        const ProductShape shape = shape_kind == 0 ? product2() : fraction_like_shape(random_qm31(1, rng)[0]);
        std::vector<std::vector<QM31>> tables;
        for (uint32_t j = 0; j < shape.n_factors; ++j) tables.push_back(random_qm31(size_t{1} << n, rng));
        const std::vector<QM31> z = with_eq ? random_qm31(n, rng) : std::vector<QM31>{};
        Blake2sChannel ref_channel;
        ref_channel.mix_u32s(std::vector<uint32_t>{n});
        const auto ref = prove_product_sumcheck<QM31>(shape, z, tables, ref_channel);
        const QM31 ref_next = ref_channel.draw_felt();
        const std::vector<uint32_t> ks = n > 6 ? std::vector<uint32_t>{0, 1, 3, n - 1, n + 5}
                                               : std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7};
        for (uint32_t k : ks) {
          const std::string where = "n=" + std::to_string(n) + " eq=" + std::to_string(with_eq) +
                                    " shape=" + std::to_string(shape_kind) + " k=" + std::to_string(k);
          Blake2sChannel channel;
          channel.mix_u32s(std::vector<uint32_t>{n});
          std::atomic<size_t> calls{0};
          const auto got = prove_product_sumcheck_streamed(shape, n, z, fill_from(tables, &calls), k, channel);
          expect_same(ref, got, where);
          EXPECT_EQ(channel.draw_felt(), ref_next) << where << ": the transcripts differ after the sumcheck";
          EXPECT_GT(calls.load(), 0u);
          // The verifier accepts it as any product sumcheck.
          Blake2sChannel vc;
          vc.mix_u32s(std::vector<uint32_t>{n});
          EXPECT_TRUE(verify_product_sumcheck(shape, n, z, got.claim, got.proof, vc).accepted) << where;
        }
      }
    }
  }
}

TEST(StreamedSumcheck, AFalseClaimIsRejected) {
  std::mt19937_64 rng(17);
  const uint32_t n = 8;
  const ProductShape shape = fraction_like_shape(random_qm31(1, rng)[0]);
  std::vector<std::vector<QM31>> tables;
  for (uint32_t j = 0; j < 4; ++j) tables.push_back(random_qm31(size_t{1} << n, rng));
  const std::vector<QM31> z = random_qm31(n, rng);
  std::atomic<size_t> calls{0};
  Blake2sChannel honest_channel;
  const QM31 honest = prove_product_sumcheck_streamed(shape, n, z, fill_from(tables, &calls), 3, honest_channel).claim;
  const QM31 wrong = honest + QM31::one();
  Blake2sChannel channel;
  const auto got = prove_product_sumcheck_streamed(shape, n, z, fill_from(tables, &calls), 3, channel, default_sumcheck_backend(),
                                                   &wrong);
  Blake2sChannel vc;
  const auto verdict = verify_product_sumcheck(shape, n, z, wrong, got.proof, vc);
  EXPECT_FALSE(verdict.accepted);
  EXPECT_FALSE(verdict.reason.empty());
}

TEST(StreamedSumcheck, BadArgumentsAreUsageErrors) {
  std::atomic<size_t> calls{0};
  std::vector<std::vector<QM31>> tables(2, std::vector<QM31>(4));
  Blake2sChannel c;
  const std::vector<QM31> short_point(1);
  EXPECT_THROW(prove_product_sumcheck_streamed(product2(), 2, short_point, fill_from(tables, &calls), 1, c), Error);
  EXPECT_THROW(prove_product_sumcheck_streamed(product2(), 0, {}, fill_from(tables, &calls), 1, c), Error);
}

}  // namespace
}  // namespace ptvm::sumcheck
