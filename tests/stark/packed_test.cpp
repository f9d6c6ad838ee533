// PackedM31 (16 lanes) against scalar M31, including the edge values 0, 1, P-1, P-2.
#include <gtest/gtest.h>

#include "ptvm/air/packed.hpp"

namespace ptvm::air {
namespace {

TEST(PackedM31, MatchesScalarArithmetic) {
  uint64_t s = 99;
  auto next = [&] {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t r = static_cast<uint32_t>(s >> 33);
    switch (r % 8) {
      case 0: return M31::zero();
      case 1: return M31::one();
      case 2: return M31::raw(M31::P - 1);
      case 3: return M31::raw(M31::P - 2);
      default: return M31::from_u32(r % M31::P);
    }
  };
  for (int trial = 0; trial < 2000; ++trial) {
    M31 a[16], b[16];
    for (int i = 0; i < 16; ++i) a[i] = next(), b[i] = next();
    PackedM31 pa = PackedM31::load(a), pb = PackedM31::load(b);
    PackedM31 sum = pa + pb, diff = pa - pb, prod = pa * pb, neg = -pa;
    for (size_t i = 0; i < 16; ++i) {
      ASSERT_EQ(sum.lane(i), a[i] + b[i]);
      ASSERT_EQ(diff.lane(i), a[i] - b[i]);
      ASSERT_EQ(prod.lane(i), a[i] * b[i]);
      ASSERT_EQ(neg.lane(i), -a[i]);
    }
    QM31 c = QM31::from_m31(next(), next(), next(), next());
    PackedQM31 acc;
    acc.add_product(c, pa);
    for (size_t i = 0; i < 16; ++i) ASSERT_EQ(acc.lane(i), c * a[i]);
  }
  EXPECT_EQ(PackedM31(M31::raw(5)).lane(15), M31::raw(5));
}

}  // namespace
}  // namespace ptvm::air
