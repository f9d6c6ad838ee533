// Field laws, edge values, inverses, batch inversion and canonical bytes for every field, as one
// typed suite; multiplication is checked against an independent big-integer reference
// (unsigned __int128 schoolbook arithmetic written here, not the field code).
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "field_test_util.hpp"
#include "ptvm/field/batch_inverse.hpp"

using namespace ptvm;
using namespace ptvm::test;

template <class F>
class FieldLaws : public ::testing::Test {
 protected:
  std::mt19937_64 rng{test_seed()};
  F random() { return FieldOps<F>::random(rng); }
};

using FieldTypes = ::testing::Types<M31, CM31, QM31, F128>;
TYPED_TEST_SUITE(FieldLaws, FieldTypes);

TYPED_TEST(FieldLaws, RingLaws) {
  using F = TypeParam;
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  for (int iter = 0; iter < 2000; ++iter) {
    F a = this->random(), b = this->random(), c = this->random();
    ASSERT_EQ(a + b, b + a);
    ASSERT_EQ(a * b, b * a);
    ASSERT_EQ((a + b) + c, a + (b + c));
    ASSERT_EQ((a * b) * c, a * (b * c));
    ASSERT_EQ(a * (b + c), a * b + a * c);
    ASSERT_EQ(a + F::zero(), a);
    ASSERT_EQ(a * F::one(), a);
    ASSERT_EQ(a * F::zero(), F::zero());
    ASSERT_EQ(a - a, F::zero());
    ASSERT_EQ(a + (-a), F::zero());
    ASSERT_EQ(-(-a), a);
    ASSERT_EQ((a - b) + b, a);
    ASSERT_EQ(a.square(), a * a);
    ASSERT_EQ(a.pow(5), a * a * a * a * a);
    ASSERT_TRUE(FieldOps<F>::is_canonical(a + b));
    ASSERT_TRUE(FieldOps<F>::is_canonical(a * b));
    ASSERT_TRUE(FieldOps<F>::is_canonical(a - b));
  }
}

TYPED_TEST(FieldLaws, MultiplyMatchesBigIntegerReference) {
  using F = TypeParam;
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  for (int iter = 0; iter < 5000; ++iter) {
    F a = this->random(), b = this->random();
    ASSERT_EQ(a * b, FieldOps<F>::reference_mul(a, b));
    ASSERT_EQ(a + b, FieldOps<F>::reference_add(a, b));
  }
  // Edge values: 0, 1, p-1 in every coordinate combination the helper provides.
  const auto edges = FieldOps<F>::edge_values();
  for (const F& a : edges)
    for (const F& b : edges) {
      ASSERT_EQ(a * b, FieldOps<F>::reference_mul(a, b));
      ASSERT_EQ(a + b, FieldOps<F>::reference_add(a, b));
      ASSERT_EQ(a - b + b, a);
      ASSERT_TRUE(FieldOps<F>::is_canonical(a * b));
      ASSERT_TRUE(FieldOps<F>::is_canonical(a - b));
    }
}

TYPED_TEST(FieldLaws, Inverse) {
  using F = TypeParam;
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  EXPECT_EQ(F::zero().inverse(), F::zero());  // documented convention
  EXPECT_EQ(F::one().inverse(), F::one());
  EXPECT_EQ((-F::one()).inverse(), -F::one());
  for (const F& e : FieldOps<F>::edge_values())
    if (!e.is_zero()) {
      ASSERT_EQ(e * e.inverse(), F::one());
    }
  for (int iter = 0; iter < 300; ++iter) {
    F a = this->random();
    if (a.is_zero()) continue;
    ASSERT_EQ(a * a.inverse(), F::one());
    ASSERT_EQ(a.inverse().inverse(), a);
  }
}

TYPED_TEST(FieldLaws, BatchInverseMatchesSingleInverses) {
  using F = TypeParam;
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  for (size_t n : {0, 1, 2, 3, 7, 64, 257}) {
    std::vector<F> in(n);
    for (auto& x : in) x = this->random();
    // Zeros at the ends and in the middle must come back as zeros without spoiling the rest.
    if (n > 0) in[0] = F::zero();
    if (n > 2) in[n / 2] = F::zero();
    if (n > 1) in[n - 1] = F::zero();
    std::vector<F> out(n);
    batch_inverse<F>(in, out);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], in[i].inverse()) << "n " << n << " i " << i;
    // In place.
    std::vector<F> inplace = in;
    batch_inverse<F>(inplace, inplace);
    ASSERT_EQ(inplace, out);
  }
  std::vector<F> all_zero(5, F::zero()), out(5, F::one());
  batch_inverse<F>(all_zero, out);
  for (const F& x : out) EXPECT_EQ(x, F::zero());
  std::vector<F> wrong(4);
  EXPECT_THROW(batch_inverse<F>(all_zero, wrong), Error);
}

TYPED_TEST(FieldLaws, CanonicalBytesRoundTripAndRejectNonCanonical) {
  using F = TypeParam;
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  std::vector<uint8_t> buf(F::kBytes);
  for (int iter = 0; iter < 500; ++iter) {
    F a = this->random();
    a.to_bytes_le(buf.data());
    ASSERT_EQ(F::from_bytes_le(buf.data()), a);
  }
  for (const F& e : FieldOps<F>::edge_values()) {
    e.to_bytes_le(buf.data());
    ASSERT_EQ(F::from_bytes_le(buf.data()), e);
  }
  // Known layout: the element with every word/limb p-1 encodes as the modulus minus one, LE.
  FieldOps<F>::check_known_encoding();
  // Every non-canonical encoding the helper lists is rejected with ptvm::Error (Parse).
  for (const auto& bad : FieldOps<F>::non_canonical_encodings()) {
    try {
      (void)F::from_bytes_le(bad.data());
      ADD_FAILURE() << "accepted a non-canonical encoding";
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Parse);
    }
  }
}

TEST(M31Extras, FromCanonicalRejectsP) {
  EXPECT_EQ(M31::from_canonical(M31::P - 1).v, M31::P - 1);
  EXPECT_THROW(M31::from_canonical(M31::P), Error);
  EXPECT_THROW(M31::from_canonical(0xffffffffu), Error);
}

TEST(M31Extras, SqrtOfSquaresAndNonResidues) {
  std::mt19937_64 rng(test_seed());
  int found = 0, missing = 0;
  for (int iter = 0; iter < 500; ++iter) {
    M31 a = M31::from_u32(static_cast<uint32_t>(rng()));
    M31 r;
    ASSERT_TRUE(a.square().sqrt(&r));
    ASSERT_EQ(r.square(), a.square());
    ASSERT_LE(r.v, M31::P / 2);
    // Euler's criterion decides residuosity independently of the sqrt code.
    const bool residue = a.is_zero() || a.pow((M31::P - 1) / 2) == M31::one();
    ASSERT_EQ(a.sqrt(&r), residue);
    if (residue) {
      ASSERT_EQ(r * r, a);
      ++found;
    } else {
      ++missing;
    }
  }
  EXPECT_GT(found, 0);
  EXPECT_GT(missing, 0);
  M31 r;
  EXPECT_FALSE(M31::raw(M31::P - 1).sqrt(&r));  // -1 is a non-residue since p = 3 mod 4
  EXPECT_TRUE(M31::zero().sqrt(&r));
  EXPECT_EQ(r, M31::zero());
}

TEST(M31Extras, ReduceMatchesModuloOnEdges) {
  const uint64_t p64 = M31::P;
  for (uint64_t x : std::initializer_list<uint64_t>{0, 1, p64, p64 + 1, uint64_t{1} << 31, p64 * p64,
                                                    (uint64_t{1} << 62) - 1, uint64_t{1} << 63,
                                                    ~uint64_t{0}})
    EXPECT_EQ(M31::reduce64(x), static_cast<uint32_t>(x % M31::P)) << x;
  for (uint32_t x : {0u, 1u, M31::P - 1, M31::P, M31::P + 1, 0xffffffffu})
    EXPECT_EQ(M31::reduce32(x), x % M31::P) << x;
}
