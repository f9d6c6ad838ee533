// Circle group, domains, index maps and vanishing functions: PROTOCOL.md 2.x, 4.1 and the known
// answers of 15.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "../field/field_test_util.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/circle/point.hpp"

using namespace ptvm;
using namespace ptvm::circle;
using ptvm::test::test_seed;

namespace {
constexpr uint32_t P = M31::P;
CirclePoint<M31> pt(uint32_t x, uint32_t y) { return CirclePoint<M31>{M31::raw(x), M31::raw(y)}; }
}  // namespace

TEST(CircleGroup, GeneratorHasOrder2To31) {
  const CirclePoint<M31> g = kM31CircleGen;
  EXPECT_TRUE(g.is_on_circle());
  CirclePoint<M31> p = g;
  for (int k = 0; k < 30; ++k) {
    ASSERT_NE(p, CirclePoint<M31>::identity()) << "order divides 2^" << k;
    p = p.doubled();
  }
  EXPECT_EQ(p, pt(P - 1, 0));  // 2^30 G
  EXPECT_EQ(p.doubled(), CirclePoint<M31>::identity());
}

TEST(CircleGroup, SubgroupGeneratorsKnownAnswers) {
  EXPECT_EQ(PointIndex::subgroup_gen(1).to_point(), pt(P - 1, 0));
  EXPECT_EQ(PointIndex::subgroup_gen(2).to_point(), pt(0, P - 1));
  EXPECT_EQ(PointIndex::subgroup_gen(3).to_point(), pt(32768, 2147450879));
  EXPECT_EQ(PointIndex::subgroup_gen(4).to_point(), pt(590768354, 978592373));
  EXPECT_EQ(PointIndex::subgroup_gen(5).to_point(), pt(1179735656, 1241207368));
  EXPECT_EQ(PointIndex::subgroup_gen(31).to_point(), kM31CircleGen);
  EXPECT_EQ(PointIndex::subgroup_gen(0).to_point(), CirclePoint<M31>::identity());
  EXPECT_EQ(PointIndex{12345}.to_point(), pt(806494139, 1574714136));
}

TEST(CircleGroup, GroupLawAndIndexArithmetic) {
  std::mt19937_64 rng(test_seed());
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  for (int iter = 0; iter < 200; ++iter) {
    PointIndex a = PointIndex::from(rng()), b = PointIndex::from(rng());
    uint32_t k = static_cast<uint32_t>(rng());
    CirclePoint<M31> pa = a.to_point(), pb = b.to_point();
    ASSERT_TRUE(pa.is_on_circle());
    ASSERT_EQ((a + b).to_point(), pa + pb);
    ASSERT_EQ((a - b).to_point(), pa - pb);
    ASSERT_EQ((-a).to_point(), -pa);
    ASSERT_EQ((a * k).to_point(), pa.mul(k));
    ASSERT_EQ(pa.doubled(), pa + pa);
    ASSERT_EQ(pa.antipode(), pa + pt(P - 1, 0));
    ASSERT_EQ(pa + CirclePoint<M31>::identity(), pa);
    ASSERT_EQ(pa - pa, CirclePoint<M31>::identity());
    ASSERT_EQ(((a * 2).half() * 2), a * 2);
    ASSERT_EQ((PointIndex{a.v & ~1u}.half() * 2), PointIndex{a.v & ~1u});
    // The same law over QM31 on lifted points.
    ASSERT_EQ(lift(pa) + lift(pb), lift(pa + pb));
    ASSERT_EQ(lift(pa).doubled(), lift(pa.doubled()));
  }
}

TEST(CircleGroup, SecureFieldGeneratorAndRandomPoint) {
  const CirclePoint<QM31> g = qm31_circle_gen();
  EXPECT_TRUE(g.is_on_circle());
  // get_random_point of a fresh stwo-2502 channel: t is its first draw_felt() (PROTOCOL.md 15).
  const QM31 t = QM31::from_u32(2094729646u, 876761046u, 906620817u, 1981437117u);
  const CirclePoint<QM31> p = point_from_t(t);
  EXPECT_EQ(p.x, QM31::from_u32(1062920609u, 1976724421u, 1192586434u, 1423563682u));
  EXPECT_EQ(p.y, QM31::from_u32(1224474292u, 1625003875u, 1099232697u, 1009383206u));
  EXPECT_TRUE(p.is_on_circle());
  // t = i makes 1 + t^2 zero: the degenerate result is detectably off the circle.
  EXPECT_FALSE(point_from_t(QM31::from_u32(0, 1, 0, 0)).is_on_circle());
}

TEST(CircleDomains, CanonicCosetKnownAnswersBitReversed) {
  auto stored = [](uint32_t log) {
    std::vector<CirclePoint<M31>> out;
    CircleDomain d = CanonicCoset{log}.circle_domain();
    for (size_t r = 0; r < d.size(); ++r) out.push_back(d.at(bit_reverse_index(r, log)));
    return out;
  };
  EXPECT_EQ(stored(1), (std::vector{pt(0, 2147483646), pt(0, 1)}));
  EXPECT_EQ(stored(2), (std::vector{pt(32768, 2147450879), pt(32768, 32768), pt(2147450879, 32768),
                                    pt(2147450879, 2147450879)}));
  EXPECT_EQ(stored(3),
            (std::vector{pt(590768354, 978592373), pt(590768354, 1168891274),
                         pt(1556715293, 1168891274), pt(1556715293, 978592373),
                         pt(978592373, 1556715293), pt(978592373, 590768354),
                         pt(1168891274, 590768354), pt(1168891274, 1556715293)}));
}

TEST(CircleDomains, CosetsAndDomainsAreConsistent) {
  for (uint32_t log = 1; log <= 10; ++log) {
    SCOPED_TRACE("log " + std::to_string(log));
    const CanonicCoset canonic{log};
    const CircleDomain domain = canonic.circle_domain();
    const size_t n = canonic.size();
    EXPECT_TRUE(domain.is_canonic());
    EXPECT_EQ(domain.size(), n);
    EXPECT_EQ(domain.log_size(), log);
    EXPECT_EQ(canonic.step(), PointIndex::subgroup_gen(log).to_point());
    EXPECT_EQ(canonic.coset(), Coset::odds(log));
    // Same point set; coset order j maps to circle-domain index coset_index_to_circle_domain_index.
    std::vector<bool> hit(n, false);
    for (size_t j = 0; j < n; ++j) {
      const size_t i = coset_index_to_circle_domain_index(j, log);
      ASSERT_LT(i, n);
      ASSERT_FALSE(hit[i]);
      hit[i] = true;
      ASSERT_EQ(canonic.at(j), domain.at(i)) << j;
      ASSERT_EQ(circle_domain_index_to_coset_index(i, log), j);
      // Row j is G_2N + j G_N.
      ASSERT_EQ(canonic.at(j), PointIndex::subgroup_gen(log + 1).to_point() + canonic.step().mul(j));
      // Canonic cosets contain no identity and are closed under negation.
      ASSERT_NE(canonic.at(j), CirclePoint<M31>::identity());
    }
    // Natural circle-domain order: second half is the conjugates of the first half.
    for (size_t i = 0; i < n / 2; ++i) ASSERT_EQ(domain.at(n / 2 + i), -domain.at(i));
    // Bit-reversed storage: positions 2k and 2k+1 are a conjugate pair.
    for (size_t k = 0; k < n / 2; ++k)
      ASSERT_EQ(domain.at(bit_reverse_index(2 * k + 1, log)), -domain.at(bit_reverse_index(2 * k, log)));
  }
  EXPECT_EQ(Coset::subgroup(3).at(1), PointIndex::subgroup_gen(3).to_point());
  EXPECT_EQ(Coset::half_odds(2), CanonicCoset{3}.half_coset());
  EXPECT_EQ(Coset::odds(4).conjugate().at(3), -Coset::odds(4).at(3));
  // A circle domain built on a non-canonic half coset.
  EXPECT_FALSE((CircleDomain{Coset::make(PointIndex{3}, 3)}).is_canonic());
}

// PROTOCOL.md 2.4: CanonicCoset(n).at(bitrev_n(i)) (coset order) doubled s times equals
// CanonicCoset(n-s).at(bitrev_{n-s}(i >> s)); in bit-reversed circle-domain order the same holds
// for the x-coordinate (what the folds use); and line-domain folding.
TEST(CircleDomains, CosetDoublingProperty) {
  for (uint32_t log = 1; log <= 9; ++log)
    for (uint32_t s = 0; s < log; ++s) {
      const CanonicCoset big{log}, small{log - s};
      const CircleDomain big_domain = big.circle_domain(), small_domain = small.circle_domain();
      for (size_t i = 0; i < big.size(); ++i) {
        CirclePoint<M31> p = big.at(bit_reverse_index(i, log));
        CirclePoint<M31> q = big_domain.at(bit_reverse_index(i, log));
        for (uint32_t k = 0; k < s; ++k) p = p.doubled(), q = q.doubled();
        ASSERT_EQ(p, small.at(bit_reverse_index(i >> s, log - s))) << log << " " << s << " " << i;
        ASSERT_EQ(q.x, small_domain.at(bit_reverse_index(i >> s, log - s)).x) << log << " " << s << " " << i;
      }
    }
  // Line domain: bit-reversed positions (2k, 2k+1) hold x and -x; they fold to the doubled domain.
  for (uint32_t log = 2; log <= 8; ++log) {
    const LineDomain line{CanonicCoset{log + 1}.half_coset()};
    const LineDomain folded = line.doubled();
    EXPECT_EQ(folded.log_size(), log - 1);
    for (size_t k = 0; k < line.size() / 2; ++k) {
      const M31 x = line.at(bit_reverse_index(2 * k, log));
      ASSERT_EQ(line.at(bit_reverse_index(2 * k + 1, log)), -x);
      ASSERT_EQ(folded.at(bit_reverse_index(k, log - 1)), CirclePoint<M31>::double_x(x));
    }
  }
}

TEST(CircleDomains, BitReverse) {
  EXPECT_EQ(bit_reverse_index(1, 3), 4u);
  EXPECT_EQ(bit_reverse_index(6, 3), 3u);
  EXPECT_EQ(bit_reverse_index(5, 0), 5u);
  EXPECT_EQ(bit_reverse_index(1, 64), size_t{1} << 63);
  std::vector<int> v{0, 1, 2, 3, 4, 5, 6, 7};
  bit_reverse(std::span<int>(v));
  EXPECT_EQ(v, (std::vector<int>{0, 4, 2, 6, 1, 5, 3, 7}));
  std::vector<int> bad(6);
  EXPECT_THROW(bit_reverse(std::span<int>(bad)), Error);
}

// PROTOCOL.md 2.5: the storage position of "row + offset", against a direct point computation
// (and against stwo's formula where it applies).
TEST(CircleDomains, OffsetBitReversedCircleDomainIndex) {
  auto stwo_formula = [](size_t r, uint32_t dlog, uint32_t elog, int64_t off) {
    int64_t i = static_cast<int64_t>(bit_reverse_index(r, elog));
    const int64_t h = int64_t{1} << (elog - 1);
    const int64_t s = off * (int64_t{1} << (elog - dlog - 1));
    auto mod = [](int64_t a, int64_t m) { return ((a % m) + m) % m; };
    i = i < h ? mod(i + s, h) : mod(i - h - s, h) + h;
    return bit_reverse_index(static_cast<size_t>(i), elog);
  };
  for (uint32_t dlog = 1; dlog <= 6; ++dlog)
    for (uint32_t elog = dlog; elog <= dlog + 3; ++elog) {
      const CircleDomain eval = CanonicCoset{elog}.circle_domain();
      const CirclePoint<M31> step = CanonicCoset{dlog}.step();
      for (int64_t off : {-3, -1, 0, 1, 2, 5, 1000}) {
        const CirclePoint<M31> shift = off >= 0 ? step.mul(off) : -step.mul(-off);
        for (size_t r = 0; r < eval.size(); ++r) {
          const size_t got = offset_bit_reversed_circle_domain_index(r, dlog, elog, off);
          ASSERT_EQ(eval.at(bit_reverse_index(got, elog)),
                    eval.at(bit_reverse_index(r, elog)) + shift)
              << dlog << " " << elog << " " << off << " " << r;
          if (elog > dlog) {
            ASSERT_EQ(got, stwo_formula(r, dlog, elog, off));
          }
        }
      }
    }
  // Trace row j is stored at bitrev(coset_index_to_circle_domain_index(j)); "next row" is j+1.
  const uint32_t log = 5;
  for (size_t j = 0; j < 32; ++j) {
    const size_t pos = bit_reverse_index(coset_index_to_circle_domain_index(j, log), log);
    const size_t next = bit_reverse_index(coset_index_to_circle_domain_index((j + 1) % 32, log), log);
    EXPECT_EQ(offset_bit_reversed_circle_domain_index(pos, log, log, 1), next);
  }
}

TEST(Vanishing, KnownAnswerAndZeros) {
  const CirclePoint<M31> p = PointIndex{12345}.to_point();
  EXPECT_EQ(canonic_vanishing<M31>(3, p), M31::raw(1582307983));
  EXPECT_EQ(coset_vanishing<M31>(CanonicCoset{3}.coset(), p), M31::raw(1582307983));
  for (uint32_t log = 1; log <= 8; ++log) {
    const CanonicCoset c{log};
    for (size_t j = 0; j < c.size(); ++j) {
      ASSERT_TRUE(canonic_vanishing<M31>(log, c.at(j)).is_zero());
      ASSERT_TRUE(coset_vanishing<M31>(c.coset(), c.at(j)).is_zero());
    }
    // Non-zero off the coset: points of the next-larger canonic coset that are not in this one
    // (the other twin), and a QM31 point.
    const CanonicCoset bigger{log + 1};
    for (size_t j = 0; j < bigger.size(); ++j) {
      const bool inside = coset_vanishing<M31>(c.coset(), bigger.at(j)).is_zero();
      ASSERT_FALSE(inside) << "odd multiples of G_2^(log+2) are not in CanonicCoset(log)";
    }
    const CirclePoint<QM31> q = point_from_t(QM31::from_u32(7, 11, 13, 17));
    ASSERT_EQ(canonic_vanishing<QM31>(log, q), coset_vanishing<QM31>(c.coset(), q));
    ASSERT_FALSE(canonic_vanishing<QM31>(log, q).is_zero());
  }
  // General (non-canonic) cosets vanish exactly on their points.
  std::mt19937_64 rng(test_seed());
  for (int iter = 0; iter < 20; ++iter) {
    const uint32_t log = 1 + static_cast<uint32_t>(rng() % 6);
    const Coset coset = Coset::make(PointIndex::from(rng()), log);
    for (size_t j = 0; j < coset.size(); ++j)
      ASSERT_TRUE(coset_vanishing<M31>(coset, coset.at(j)).is_zero());
    const CirclePoint<M31> outside = coset.at(0) + PointIndex::subgroup_gen(log + 1).to_point();
    ASSERT_FALSE(coset_vanishing<M31>(coset, outside).is_zero());
  }
}

TEST(Vanishing, PairPointExcluderPointVanishing) {
  std::mt19937_64 rng(test_seed());
  for (int iter = 0; iter < 50; ++iter) {
    const CirclePoint<QM31> e0 = lift(PointIndex::from(rng()).to_point());
    const CirclePoint<QM31> e1 = point_from_t(QM31::from_u32(1 + iter, 2, 3, 4));
    const CirclePoint<QM31> other = point_from_t(QM31::from_u32(9, 8, 7 + iter, 6));
    ASSERT_TRUE(pair_vanishing(e0, e1, e0).is_zero());
    ASSERT_TRUE(pair_vanishing(e0, e1, e1).is_zero());
    ASSERT_FALSE(pair_vanishing(e0, e1, other).is_zero());
    ASSERT_TRUE(point_excluder(e0, e0).is_zero());
    ASSERT_FALSE(point_excluder(e0, other).is_zero());
    ASSERT_TRUE(point_vanishing(e1, e1).is_zero());
    ASSERT_FALSE(point_vanishing(e1, other).is_zero());
  }
}
