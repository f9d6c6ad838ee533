// Blake2bChannel (F128 proof system): frozen vectors from the independent hashlib model
// tests/hash/gen_vectors.py, and the rejection rule of the F128 draws.
#include <gtest/gtest.h>

#include <numeric>

#include "ptvm/common/error.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/blake2b_channel.hpp"
#include "ptvm/hash/blake2s.hpp"  // to_hex

using namespace ptvm;
using namespace ptvm::hash;

TEST(Blake2bChannel, FrozenMixAndDrawVectors) {
  Blake2bChannel fresh;
  EXPECT_EQ(to_hex(fresh.draw_bytes()),
            "e43d8cc138a876f09a507a3ce242344cca3779fdccc74af1b4a0f0a4bf897f07");
  EXPECT_EQ(fresh.n_draws(), 1u);

  Blake2bChannel by_u64;
  by_u64.mix_u64(0x1111222233334444ull);
  EXPECT_EQ(by_u64.digest().hex(), "2fced413fe336e1a448146ca751ad521aae713242e176fa8d4c655fe97918460");

  Blake2bChannel by_u32s;
  std::vector<uint32_t> words(9);
  std::iota(words.begin(), words.end(), 1u);
  by_u32s.mix_u32s(words);
  EXPECT_EQ(by_u32s.digest().hex(), "a0667efaada59269de90aa104b13ccb864de1fe068cee093ea8decf2fff61d9d");

  Blake2b256Hash root;
  for (int i = 0; i < 32; ++i) root.bytes[i] = uint8_t(i);
  Blake2bChannel by_root;
  by_root.draw_bytes();
  by_root.mix_root(root);
  EXPECT_EQ(by_root.n_draws(), 0u);
  EXPECT_EQ(by_root.digest().hex(), "77fa625ffb85914361cd9b148de5e8272005668c931047f9edbd21c25f41e5d4");

  // mix_felts uses each field's canonical byte encoding: QM31 = 4 LE u32 words, like mix_u32s.
  Blake2bChannel by_felts, by_words;
  const QM31 felts[] = {QM31::from_u32(1, 2, 3, 4), QM31::from_u32(5, 6, 7, 8)};
  by_felts.mix_felts(std::span<const QM31>(felts));
  const uint32_t flat[] = {1, 2, 3, 4, 5, 6, 7, 8};
  by_words.mix_u32s(flat);
  EXPECT_EQ(by_felts.digest(), by_words.digest());
}

TEST(Blake2bChannel, FrozenQueries) {
  Blake2bChannel channel;
  EXPECT_EQ(channel.draw_queries(10, 8), (std::vector<size_t>{56, 154, 180, 447, 484, 738, 970, 972}));
  EXPECT_EQ(channel.n_draws(), 1u);
  EXPECT_TRUE(channel.draw_queries(5, 0).empty());
  EXPECT_THROW(channel.draw_queries(33, 1), ptvm::Error);
  // Distinct queries: the same words, no collision here, so the same positions; and 72 in 72
  // distinct pairs of 2^9 points.
  Blake2bChannel distinct;
  EXPECT_EQ(distinct.draw_distinct_queries(10, 8), (std::vector<size_t>{56, 154, 180, 447, 484, 738, 970, 972}));
  Blake2bChannel pairs;
  const auto q = pairs.draw_distinct_queries(9, 72, 1);
  ASSERT_EQ(q.size(), 72u);
  for (size_t k = 1; k < q.size(); ++k) EXPECT_LT(q[k - 1] >> 1, q[k] >> 1);
  EXPECT_THROW(pairs.draw_distinct_queries(9, 257, 1), ptvm::Error);
}

TEST(Blake2bChannel, FrozenF128Draws) {
  Blake2bChannel channel;
  const auto values = channel.draw_f128_values(5);
  const std::vector<F128Integer> expected = {
      {17327221578073390564ull, 5491087385116168346ull},
      {17386928994657056714ull, 540301936506740916ull},
      {6021589036995736085ull, 10881715987005944535ull},
      {2195543799157350902ull, 3511209510171033749ull},
      {10856685184092747761ull, 13804781527611072033ull}};
  EXPECT_EQ(values, expected);
  EXPECT_EQ(channel.n_draws(), 3u);  // two candidates per draw, the 6th discarded
  Blake2bChannel single;
  EXPECT_EQ(single.draw_f128_value(), expected[0]);
}

TEST(Blake2bChannel, F128CandidatesAtOrAboveTheModulusAreRejected) {
  // After mix_u64(0) the first candidate of the first draw is >= p (found by the Python model).
  Blake2bChannel channel;
  channel.mix_u64(0);
  Blake2bChannel copy = channel;
  const auto raw = copy.draw_bytes();
  uint64_t hi = 0;
  for (int i = 15; i >= 8; --i) hi = hi << 8 | raw[i];
  EXPECT_GE(hi, kF128ModulusHi);
  const auto values = channel.draw_f128_values(2);
  const std::vector<F128Integer> expected = {{17821492965671992837ull, 1347792575556708450ull},
                                             {16572597350323873916ull, 7772906917416249178ull}};
  EXPECT_EQ(values, expected);
  EXPECT_EQ(channel.n_draws(), 2u);
  // Every drawn value is canonical.
  Blake2bChannel many;
  for (const auto& v : many.draw_f128_values(2000)) {
    ASSERT_TRUE(v.hi < kF128ModulusHi || (v.hi == kF128ModulusHi && v.lo == 0));
  }
  // About 1 - 407/512 = 20.5% of candidates are rejected: 2000 values need ~1258 draws.
  EXPECT_GT(many.n_draws(), 1150u);
  EXPECT_LT(many.n_draws(), 1370u);
}

#include "ptvm/hash/blake2b_channel_f128.hpp"

TEST(Blake2bChannel, F128FeltsCarryTheDrawnCanonicalValues) {
  Blake2bChannel a, b;
  const auto integers = a.draw_f128_values(5);
  const auto felts = draw_f128_felts(b, 5);
  ASSERT_EQ(felts.size(), 5u);
  EXPECT_EQ(a.n_draws(), b.n_draws());
  for (size_t i = 0; i < 5; ++i) {
    uint64_t lo = 0, hi = 0;
    felts[i].to_canonical_words(lo, hi);
    EXPECT_EQ(lo, integers[i].lo);
    EXPECT_EQ(hi, integers[i].hi);
  }
}
