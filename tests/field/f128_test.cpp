// F128-specific checks: Montgomery constants, known answers computed with Python integers, the
// exact orders of the generator and of the 2-adic roots, square roots.
#include <gtest/gtest.h>

#include <random>

#include "field_test_util.hpp"
#include "ptvm/field/batch_inverse.hpp"
#include "ptvm/field/f128.hpp"

using namespace ptvm;
using namespace ptvm::test;

TEST(F128, MontgomeryConstants) {
  EXPECT_EQ(F128::one().to_u128(), u128{1});
  EXPECT_EQ(F128::from_u64(1), F128::one());
  EXPECT_EQ(F128::generator(), F128::from_u64(3));
  EXPECT_EQ(F128::two_adic_root().to_u128(), parse_u128("85408008396924667383611388730472331217"));
  EXPECT_EQ(F128::two_adic_root(), F128::from_u64(3).pow(407));
  // r_squared is 2^256 mod p: in Montgomery form its value is 2^128 mod p, i.e. one()'s raw words.
  EXPECT_EQ(F128::r_squared().to_u128(), (u128{F128::one().hi} << 64) | F128::one().lo);
  EXPECT_EQ(kF128P, u128{407} * (u128{1} << 119) + 1);
  EXPECT_EQ(F128::zero().to_u128(), u128{0});
  EXPECT_EQ((-F128::one()).to_u128(), kF128P - 1);
}

// Python: random.seed(128); a, b random in [0, p); a*b, a+b, a^-1 mod p.
TEST(F128, KnownAnswersFromPython) {
  const char* rows[][5] = {
      {"138039901878243111198220328211004658401", "164423711883070252373636637511082207262",
       "140597034086209052433858068514592756242", "31965716619082983435932228955036744446",
       "147013361698851848572437600200709780112"},
      {"108420327422203720506552076406976532126", "214073302432718457952957348043543454659",
       "15182446225596908156421122002054728841", "51995732712691798323584687683469865568",
       "9415286038175292161298590931372231470"},
      {"263957089901440639348909744960935088241", "258831093643154725941502203059205064045",
       "68140720444513788617066663613399852137", "252290286402364985154487211253090031069",
       "181014577289422395088752111566592597016"},
      {"176977280121205864732395828496392377699", "160075579505551807768249516309839676230",
       "27365167983964658089911060418276857166", "66554962484527292364720608039181932712",
       "258865924557883987206087905449482160985"},
      {"179304359483888824107220593307834052281", "104775948611934427834586263721260870638",
       "207279014494968857614041252896853592340", "13582410953592871805882120262044801702",
       "11432947621970777821070692136213559394"},
      {"48082637175477192393321062952115190894", "25701320007689726284194247291264265411",
       "131151232843650456862828280691148129645", "73783957183166918677515310243379456305",
       "167731122687441315720939508755856567229"},
  };
  for (const auto& row : rows) {
    const F128 a = F128::from_canonical_u128(parse_u128(row[0]));
    const F128 b = F128::from_canonical_u128(parse_u128(row[1]));
    EXPECT_EQ((a * b).to_decimal(), row[2]);
    EXPECT_EQ((a + b).to_decimal(), row[3]);
    EXPECT_EQ(a.inverse().to_decimal(), row[4]);
    EXPECT_EQ(a.to_decimal(), row[0]);
  }
}

TEST(F128, GeneratorAndRootsHaveExactOrders) {
  const F128 g = F128::generator();
  const u128 order = kF128P - 1;
  EXPECT_EQ(F128::from_canonical_u128(ref_pow(3, order)), F128::one());
  EXPECT_EQ(g.pow_words(static_cast<uint64_t>(order), static_cast<uint64_t>(order >> 64)), F128::one());
  // p - 1 = 2^119 * 11 * 37: no maximal proper divisor of the order kills g.
  for (u128 q : {u128{2}, u128{11}, u128{37}}) {
    const u128 e = order / q;
    EXPECT_NE(g.pow_words(static_cast<uint64_t>(e), static_cast<uint64_t>(e >> 64)), F128::one()) << "q";
  }
  // The 2-adic roots: order exactly 2^k.
  for (uint32_t k : {0u, 1u, 2u, 5u, 20u, 64u, 118u, 119u}) {
    F128 w = F128::primitive_root_of_unity(k);
    for (uint32_t i = 0; i + 1 < k; ++i) w = w.square();
    if (k == 0) {
      EXPECT_EQ(w, F128::one());
      continue;
    }
    EXPECT_EQ(w, -F128::one()) << k;  // w^(2^(k-1)) = -1, so the order is not smaller
    EXPECT_EQ(w.square(), F128::one()) << k;
  }
  EXPECT_EQ(F128::primitive_root_of_unity(1), -F128::one());
}

TEST(F128, SquareRoots) {
  std::mt19937_64 rng(test_seed());
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  int squares = 0, non_squares = 0;
  for (int iter = 0; iter < 60; ++iter) {
    const F128 a = FieldOps<F128>::random(rng);
    F128 r;
    ASSERT_TRUE(a.square().sqrt(&r));
    ASSERT_EQ(r.square(), a.square());
    // Euler's criterion through the independent reference.
    const u128 av = a.to_u128();
    const bool residue = av == 0 || ref_pow(av, (kF128P - 1) / 2) == 1;
    ASSERT_EQ(a.is_square(), residue);
    ASSERT_EQ(a.sqrt(&r), residue);
    if (residue) {
      ASSERT_EQ(r * r, a);
      ASSERT_LE(r.to_u128(), (-r).to_u128());
      ++squares;
    } else {
      ++non_squares;
    }
  }
  EXPECT_GT(squares, 0);
  EXPECT_GT(non_squares, 0);
  F128 r;
  EXPECT_FALSE(F128::generator().sqrt(&r));
  EXPECT_TRUE((-F128::one()).sqrt(&r));  // p = 1 mod 4
  EXPECT_EQ(r * r, -F128::one());
  EXPECT_TRUE(F128::zero().sqrt(&r));
  EXPECT_TRUE(r.is_zero());
}

TEST(F128, FromWordsReduceAndCanonicalChecks) {
  EXPECT_EQ(F128::from_words_reduce(F128::P_LO, F128::P_HI), F128::zero());
  EXPECT_EQ(F128::from_u128_reduce(~u128{0}).to_u128(), ~u128{0} - kF128P);
  EXPECT_THROW(F128::from_canonical_u128(kF128P), Error);
  EXPECT_EQ(F128::from_canonical_u128(kF128P - 1).to_u128(), kF128P - 1);
}
