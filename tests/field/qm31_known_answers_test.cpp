// Known answers from ../shared/PROTOCOL.md §15 (recomputed independently there).
#include <gtest/gtest.h>

#include "ptvm/field/qm31.hpp"

using namespace ptvm;

TEST(M31KnownAnswers, Inverse19) { EXPECT_EQ(M31::raw(19).inverse().v, 1017229096u); }

TEST(M31KnownAnswers, ReduceEdges) {
  EXPECT_EQ(M31::from_u32(M31::P).v, 0u);
  EXPECT_EQ(M31::from_u64(~0ull).v, M31::reduce64(~0ull));
  EXPECT_EQ(M31::from_u64((1ull << 62) - 1).v, static_cast<uint32_t>(((1ull << 62) - 1) % M31::P));
  EXPECT_EQ((-M31::zero()).v, 0u);
  EXPECT_EQ((M31::raw(M31::P - 1) * M31::raw(M31::P - 1)).v, 1u);
}

TEST(CM31KnownAnswers, Inverse) {
  CM31 inv = CM31::from_u32(1, 2).inverse();
  EXPECT_EQ(inv.a.v, 858993459u);
  EXPECT_EQ(inv.b.v, 429496729u);
}

TEST(QM31KnownAnswers, Multiply) {
  QM31 r = QM31::from_u32(1, 2, 3, 4) * QM31::from_u32(5, 6, 7, 8);
  EXPECT_EQ(r, QM31::from_u32(2147483566u, 109, 2147483629u, 60));
}

TEST(QM31KnownAnswers, Inverse) {
  QM31 r = QM31::from_u32(1, 2, 3, 4).inverse();
  EXPECT_EQ(r, QM31::from_u32(1855247052u, 856841008u, 1588674294u, 1863525709u));
  EXPECT_EQ(r * QM31::from_u32(1, 2, 3, 4), QM31::one());
}

TEST(QM31KnownAnswers, USquared) {
  QM31 u = QM31::from_u32(0, 0, 1, 0);
  EXPECT_EQ(u * u, QM31::from_u32(2, 1, 0, 0));
}

// The per-coordinate product with one u64 reduction per coordinate against the composed CM31
// definition, on random and extreme operands (every coordinate 0, 1, p-2 or p-1 combined).
TEST(QM31KnownAnswers, FastProductMatchesDefinition) {
  uint64_t s = 0x9e3779b97f4a7c15ull;
  auto next = [&] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return M31::from_u64(s);
  };
  for (int i = 0; i < 20000; ++i) {
    QM31 x = QM31::from_m31(next(), next(), next(), next()), y = QM31::from_m31(next(), next(), next(), next());
    ASSERT_EQ(x * y, QM31::mul_reference(x, y)) << "case " << i;
  }
  const uint32_t edge[4] = {0, 1, M31::P - 2, M31::P - 1};
  for (uint32_t m = 0; m < 256; ++m) {
    auto pick = [&](uint32_t k) { return M31::raw(edge[(m >> (2 * k)) & 3]); };
    QM31 x = QM31::from_m31(pick(0), pick(1), pick(2), pick(3));
    for (uint32_t n = 0; n < 256; n += 7) {
      auto pick2 = [&](uint32_t k) { return M31::raw(edge[(n >> (2 * k)) & 3]); };
      QM31 y = QM31::from_m31(pick2(0), pick2(1), pick2(2), pick2(3));
      ASSERT_EQ(x * y, QM31::mul_reference(x, y)) << m << " " << n;
    }
  }
}
