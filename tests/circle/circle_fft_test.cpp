// Circle FFT: known answers (PROTOCOL.md 15), the naive O(N^2) evaluator of 3.5 at every size
// 2^1..2^10, round trips, eval_at_point, the twiddle layout of 3.4, and the LDE.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "../field/field_test_util.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/circle/lde.hpp"

using namespace ptvm;
using namespace ptvm::circle;
using ptvm::test::large_tests;
using ptvm::test::test_seed;

namespace {

std::vector<M31> m31s(std::initializer_list<uint32_t> v) {
  std::vector<M31> out;
  for (uint32_t x : v) out.push_back(M31::raw(x));
  return out;
}

std::vector<M31> random_m31s(std::mt19937_64& rng, size_t n) {
  std::vector<M31> out(n);
  for (auto& x : out) x = M31::raw(static_cast<uint32_t>(rng() % M31::P));
  return out;
}

// b_j(p) straight from the definition of PROTOCOL.md 3.1 (product over the set bits of j).
template <class F>
F naive_eval(const std::vector<M31>& coeffs, CirclePoint<F> p) {
  const size_t n = coeffs.size();
  uint32_t log = 0;
  while ((size_t{1} << log) < n) ++log;
  std::vector<F> factors;  // factors[k] is selected by bit k of j
  factors.push_back(p.y);
  F x = p.x;
  for (uint32_t k = 1; k < log; ++k) {
    factors.push_back(x);
    x = x * x + x * x - F::one();
  }
  F sum = F::zero();
  for (size_t j = 0; j < n; ++j) {
    F b = F::one();
    for (uint32_t k = 0; k < log; ++k)
      if ((j >> k) & 1) b = b * factors[k];
    sum = sum + b * coeffs[j];
  }
  return sum;
}

}  // namespace

TEST(Twiddles, KnownAnswerLayoutForCanonicCoset3) {
  const TwiddleTree tree = precompute_twiddles(Coset::half_odds(2));
  EXPECT_EQ(tree.twiddles, m31s({590768354, 978592373, 32768, 1}));
  for (size_t i = 0; i < tree.twiddles.size(); ++i)
    EXPECT_EQ(tree.twiddles[i] * tree.itwiddles[i], M31::one());
  // Circle-layer twiddles of CanonicCoset(3): derived from line layer 1 and directly.
  const std::vector<M31> expected_t0 = m31s({978592373, 1168891274, 1556715293, 590768354});
  const M31* line1 = tree.twiddles.data() + line_twiddle_offset(2, 3, 1);
  for (size_t h = 0; h < 4; ++h) {
    EXPECT_EQ(circle_twiddle_from_line(line1, h), expected_t0[h]);
    EXPECT_EQ(circle_twiddle_direct(3, h), expected_t0[h]);
  }
}

TEST(Twiddles, LayersMatchDirectFormulaForAllSmallerDomains) {
  const uint32_t max_log = 11;
  const TwiddleTree tree = precompute_twiddles_for_log(max_log);
  EXPECT_EQ(tree.twiddles.size(), size_t{1} << (max_log - 1));
  for (uint32_t n = 1; n <= max_log; ++n) {
    const CircleDomain d = CanonicCoset{n}.circle_domain();
    // t_l[h] = x of the point stored at position h * 2^(l+1), mapped by pi^(l-1).
    for (uint32_t l = 1; l < n; ++l) {
      const M31* slice = tree.twiddles.data() + line_twiddle_offset(max_log - 1, n, l);
      for (size_t h = 0; h < (size_t{1} << (n - 1 - l)); ++h) {
        M31 x = d.at(bit_reverse_index(h << (l + 1), n)).x;
        for (uint32_t k = 1; k < l; ++k) x = CirclePoint<M31>::double_x(x);
        ASSERT_EQ(slice[h], x) << n << " " << l << " " << h;
      }
    }
    for (size_t h = 0; h < d.size() / 2; ++h) {
      const M31 y = d.at(bit_reverse_index(2 * h, n)).y;
      ASSERT_EQ(circle_twiddle_direct(n, h), y);
      if (n >= 3) {
        ASSERT_EQ(circle_twiddle_from_line(tree.twiddles.data() + line_twiddle_offset(max_log - 1, n, 1), h), y);
      }
    }
  }
}

TEST(CircleFft, KnownAnswers) {
  const TwiddleTree tree = precompute_twiddles_for_log(3);
  std::vector<M31> out(8);
  circle_evaluate_bitrev(m31s({1, 2, 3, 4, 5, 6, 7, 8}), out, tree);
  EXPECT_EQ(out, m31s({885347334, 2092305986, 1262332919, 55636419, 714723476, 1109642644, 1432563561,
                       1037382257}));
  circle_interpolate_bitrev(m31s({0, 1, 2, 3, 4, 5, 6, 7}), out, tree);
  EXPECT_EQ(out, m31s({1073741827, 0, 190298901, 0, 2147352575, 0, 775648038, 2}));
  std::vector<M31> out4(4);
  circle_evaluate_bitrev(m31s({1, 2, 3, 4}), out4, tree);
  EXPECT_EQ(out4, m31s({32767, 163843, 2147450878, 2147319810}));
  circle_interpolate_bitrev(m31s({0, 1, 2, 3}), out4, tree);
  EXPECT_EQ(out4, m31s({1073741825, 0, 2147418111, 1}));
  // The 4-coefficient example of 3.1: [c0..c3] is c0 + c1 y + c2 x + c3 x y.
  const CirclePoint<M31> p = PointIndex{777}.to_point();
  const auto c = m31s({11, 22, 33, 44});
  EXPECT_EQ(circle_eval_at_point<M31>(c, p), c[0] + c[1] * p.y + c[2] * p.x + c[3] * p.x * p.y);
}

TEST(CircleFft, MatchesNaiveEvaluationAtEverySizeUpTo1024) {
  std::mt19937_64 rng(test_seed());
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  const TwiddleTree tree = precompute_twiddles_for_log(12);  // serves every smaller domain
  for (uint32_t n = 1; n <= 10; ++n) {
    const size_t size = size_t{1} << n;
    const CircleDomain d = CanonicCoset{n}.circle_domain();
    const auto coeffs = random_m31s(rng, size);
    std::vector<M31> values(size);
    circle_evaluate_bitrev(coeffs, values, tree);
    for (size_t r = 0; r < size; ++r)
      ASSERT_EQ(values[r], naive_eval<M31>(coeffs, d.at(bit_reverse_index(r, n)))) << n << " " << r;
    // Interpolation against the naive evaluator too: random values -> coefficients whose naive
    // evaluation gives the values back.
    const auto rand_values = random_m31s(rng, size);
    std::vector<M31> back(size);
    circle_interpolate_bitrev(rand_values, back, tree);
    for (size_t r = 0; r < size; ++r)
      ASSERT_EQ(naive_eval<M31>(back, d.at(bit_reverse_index(r, n))), rand_values[r]) << n << " " << r;
    // A smaller coefficient vector is zero-padded.
    if (n >= 2) {
      std::vector<M31> short_coeffs(coeffs.begin(), coeffs.begin() + size / 4);
      circle_evaluate_bitrev(short_coeffs, values, tree);
      std::vector<M31> padded = short_coeffs;
      padded.resize(size, M31::zero());
      for (size_t r = 0; r < size; ++r)
        ASSERT_EQ(values[r], naive_eval<M31>(padded, d.at(bit_reverse_index(r, n))));
    }
  }
}

TEST(CircleFft, RoundTrips) {
  std::mt19937_64 rng(test_seed());
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  const uint32_t max_log = large_tests() ? 20 : 16;
  const TwiddleTree tree = precompute_twiddles_for_log(max_log);
  for (uint32_t n = 1; n <= max_log; ++n) {
    const auto coeffs = random_m31s(rng, size_t{1} << n);
    std::vector<M31> values(coeffs.size()), back(coeffs.size());
    circle_evaluate_bitrev(coeffs, values, tree);
    circle_interpolate_bitrev(values, back, tree);
    ASSERT_EQ(back, coeffs) << "log " << n;
    // In place, and interpolate-then-evaluate.
    std::vector<M31> data = values;
    circle_interpolate_bitrev_inplace(data, tree);
    ASSERT_EQ(data, coeffs);
    circle_evaluate_bitrev_inplace(data, tree);
    ASSERT_EQ(data, values);
    // Spot check against eval_at_point for the larger sizes (naive is too slow there).
    const CircleDomain d = CanonicCoset{n}.circle_domain();
    for (int k = 0; k < 4; ++k) {
      const size_t r = rng() % values.size();
      ASSERT_EQ(circle_eval_at_point<M31>(coeffs, d.at(bit_reverse_index(r, n))), values[r]);
    }
  }
}

TEST(CircleFft, EvalAtPointMatchesNaiveAndFftOverM31AndQM31) {
  std::mt19937_64 rng(test_seed());
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  const TwiddleTree tree = precompute_twiddles_for_log(9);
  for (uint32_t n = 0; n <= 9; ++n) {
    const auto coeffs = random_m31s(rng, size_t{1} << n);
    for (int k = 0; k < 5; ++k) {
      const CirclePoint<M31> p = PointIndex::from(rng()).to_point();
      ASSERT_EQ(circle_eval_at_point<M31>(coeffs, p), naive_eval<M31>(coeffs, p));
      const CirclePoint<QM31> q = point_from_t(ptvm::test::FieldOps<QM31>::random(rng));
      ASSERT_EQ(circle_eval_at_point<QM31>(coeffs, q), naive_eval<QM31>(coeffs, q));
      ASSERT_EQ(circle_eval_at_point<QM31>(coeffs, lift(p)), QM31(circle_eval_at_point<M31>(coeffs, p)));
    }
    if (n == 0) continue;
    std::vector<M31> values(coeffs.size());
    circle_evaluate_bitrev(coeffs, values, tree);
    const CircleDomain d = CanonicCoset{n}.circle_domain();
    for (size_t r = 0; r < values.size(); ++r)
      ASSERT_EQ(circle_eval_at_point<QM31>(coeffs, lift(d.at(bit_reverse_index(r, n)))), QM31(values[r]));
  }
}

TEST(CircleFft, BadInputsThrow) {
  const TwiddleTree tree = precompute_twiddles_for_log(4);
  std::vector<M31> v3(3), v8(8), v16(16), v32(32), v1(1);
  EXPECT_THROW(circle_evaluate_bitrev(v3, v8, tree), Error);   // not a power of two
  EXPECT_THROW(circle_evaluate_bitrev(v16, v8, tree), Error);  // too many coefficients
  EXPECT_THROW(circle_evaluate_bitrev(v8, v32, tree), Error);  // tree too small
  EXPECT_THROW(circle_interpolate_bitrev(v8, v16, tree), Error);
  EXPECT_THROW(circle_evaluate_bitrev_inplace(v1, tree), Error);  // no canonic domain of log 0
  const TwiddleTree wrong = precompute_twiddles(Coset::subgroup(3));
  EXPECT_THROW(circle_evaluate_bitrev_inplace(v8, wrong), Error);
  EXPECT_THROW(circle_eval_at_point<M31>(std::span<const M31>(v3), kM31CircleGen), Error);
}

TEST(CircleLde, ExtendThenInterpolateGivesZeroPaddedCoefficients) {
  std::mt19937_64 rng(test_seed());
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  const TwiddleTree tree = precompute_twiddles_for_log(14);
  for (uint32_t log_blowup : {0u, 1u, 2u, 4u}) {
    std::vector<std::vector<M31>> coeffs, columns;
    for (uint32_t n : {1u, 2u, 3u, 5u, 8u, 10u}) {
      coeffs.push_back(random_m31s(rng, size_t{1} << n));
      std::vector<M31> values(coeffs.back().size());
      circle_evaluate_bitrev(coeffs.back(), values, tree);
      columns.push_back(values);
    }
    for (unsigned threads : {1u, 3u}) {
      const auto extended = extend_columns_bitrev(columns, log_blowup, tree, threads);
      ASSERT_EQ(extended.size(), columns.size());
      for (size_t c = 0; c < columns.size(); ++c) {
        ASSERT_EQ(extended[c].size(), columns[c].size() << log_blowup);
        std::vector<M31> back(extended[c].size());
        circle_interpolate_bitrev(extended[c], back, tree);
        std::vector<M31> padded = coeffs[c];
        padded.resize(back.size(), M31::zero());
        ASSERT_EQ(back, padded) << "column " << c << " blowup " << log_blowup;
        // Every extended value is the polynomial at that point of the bigger domain.
        uint32_t elog = 0;
        while ((size_t{1} << elog) < extended[c].size()) ++elog;
        const CircleDomain d = CanonicCoset{elog}.circle_domain();
        for (int k = 0; k < 8; ++k) {
          const size_t r = rng() % extended[c].size();
          ASSERT_EQ(extended[c][r], circle_eval_at_point<M31>(coeffs[c], d.at(bit_reverse_index(r, elog))));
        }
      }
    }
  }
  std::vector<std::vector<M31>> bad{std::vector<M31>(6)};
  EXPECT_THROW(extend_columns_bitrev(bad, 1, tree), Error);
  std::vector<std::vector<M31>> too_big{std::vector<M31>(size_t{1} << 13)};
  EXPECT_THROW(extend_columns_bitrev(too_big, 2, tree), Error);
}

// Above the L1 block (2^12) and the radix-4 high layers: every value of a 2^13 and a 2^14
// evaluation of a 2^9-coefficient polynomial, against eval_at_point (independent of the FFT).
TEST(CircleFft, LargeDomainsMatchEvalAtPointEverywhere) {
  std::mt19937_64 rng(test_seed());
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  const TwiddleTree tree = precompute_twiddles_for_log(14);
  for (uint32_t n : {13u, 14u}) {
    const auto coeffs = random_m31s(rng, size_t{1} << 9);
    std::vector<M31> values(size_t{1} << n);
    circle_evaluate_bitrev(coeffs, values, tree);
    const CircleDomain d = CanonicCoset{n}.circle_domain();
    for (size_t r = 0; r < values.size(); ++r)
      ASSERT_EQ(values[r], circle_eval_at_point<M31>(coeffs, d.at(bit_reverse_index(r, n)))) << n << " " << r;
  }
}
