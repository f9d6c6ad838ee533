// Blake2sChannel and PoW: PROTOCOL.md §15 "newer upstream" vectors, and ptvm's own frozen vectors
// computed by the independent Python model tests/hash/gen_vectors.py (hashlib BLAKE2s).
#include <gtest/gtest.h>

#include <numeric>

#include "ptvm/common/error.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/hash/pow.hpp"

using namespace ptvm;
using namespace ptvm::hash;

namespace {
std::array<uint32_t, 4> coords(const QM31& f) {
  return {f.coord(0).v, f.coord(1).v, f.coord(2).v, f.coord(3).v};
}
}  // namespace

// ---- PROTOCOL.md §15, "Channel, newer upstream" ----------------------------------------------

TEST(Blake2sChannel, DrawU32sFromFreshChannel) {
  Blake2sChannel channel;
  const std::array<uint32_t, 8> expected = {1508103417, 49928118,   1851109195, 649450964,
                                            1514800545, 4236765031, 523819246,  4066564620};
  EXPECT_EQ(channel.draw_u32s(), expected);
  EXPECT_EQ(channel.n_draws(), 1u);
  EXPECT_NE(channel.draw_u32s(), expected);  // the counter changes the next draw
}

TEST(Blake2sChannel, DrawSecureFeltsTwo) {
  Blake2sChannel channel;
  const auto felts = channel.draw_felts(2);
  ASSERT_EQ(felts.size(), 2u);
  EXPECT_EQ(coords(felts[0]), (std::array<uint32_t, 4>{1508103417, 49928118, 1851109195, 649450964}));
  EXPECT_EQ(coords(felts[1]), (std::array<uint32_t, 4>{1514800545, 2089281384, 523819246, 1919080973}));
  EXPECT_EQ(channel.n_draws(), 1u);  // two QM31 per draw
}

TEST(Blake2sChannel, MixU64) {
  Blake2sChannel channel;
  channel.mix_u64(0x1111222233334444ull);
  EXPECT_EQ(channel.digest().hex(), "bc9e3fc1d24e8897956d3359327397249d6bcacd224d927404e7ba4a77dc6ece");
}

TEST(Blake2sChannel, MixU32sOneToNine) {
  Blake2sChannel channel;
  std::vector<uint32_t> words(9);
  std::iota(words.begin(), words.end(), 1u);
  channel.mix_u32s(words);
  EXPECT_EQ(channel.digest().hex(), "7091768357bb1bb3346fdab6b357d7fa46b8fbe32c2e4324a0ffc294cbf9a1c7");
}

// ---- ptvm's own frozen vectors (gen_vectors.py) ----------------------------------------------

// Distinct queries (what the STARK draws): the same words read until n distinct classes q >> s
// appeared. Frozen against gen_vectors.py's independent model.
TEST(Blake2sChannel, FrozenDistinctQueries) {
  Blake2sChannel all;  // every position of a domain of 8: 4 draws of 8 words
  EXPECT_EQ(all.draw_distinct_queries(3, 8), (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(all.n_draws(), 4u);
  Blake2sChannel pairs;  // 8 queries in 8 distinct pairs of a domain of 16
  EXPECT_EQ(pairs.draw_distinct_queries(4, 8, 1), (std::vector<size_t>{1, 3, 4, 6, 9, 11, 12, 14}));
  EXPECT_EQ(pairs.n_draws(), 2u);
  // The adversarial review's case: 72 queries on 2^9 points. Drawn with replacement a fresh channel
  // gives only 66 distinct positions; drawn distinct by pair, 72 positions in 72 pairs.
  Blake2sChannel with_replacement;
  EXPECT_EQ(with_replacement.draw_queries(9, 72).size(), 66u);
  Blake2sChannel distinct;
  const auto q = distinct.draw_distinct_queries(9, 72, 1);
  ASSERT_EQ(q.size(), 72u);
  EXPECT_EQ(distinct.n_draws(), 11u);
  EXPECT_EQ(std::vector<size_t>(q.begin(), q.begin() + 8), (std::vector<size_t>{2, 11, 12, 20, 27, 31, 37, 47}));
  EXPECT_EQ(q.back(), 504u);
  for (size_t i = 1; i < q.size(); ++i) EXPECT_LT(q[i - 1] >> 1, q[i] >> 1);
  // Without collisions it is the stwo rule exactly.
  Blake2sChannel a, b;
  EXPECT_EQ(a.draw_distinct_queries(10, 8), b.draw_queries(10, 8));
  // More classes than the domain has is a usage error, not an endless loop.
  Blake2sChannel c;
  EXPECT_THROW(c.draw_distinct_queries(3, 9), ptvm::Error);
  EXPECT_THROW(c.draw_distinct_queries(4, 9, 1), ptvm::Error);
  EXPECT_THROW(c.draw_distinct_queries(3, 1, 4), ptvm::Error);
  EXPECT_TRUE(c.draw_distinct_queries(5, 0, 1).empty());
}

TEST(Blake2sChannel, FrozenQueriesFromFreshChannel) {
  Blake2sChannel channel;
  EXPECT_EQ(channel.draw_queries(10, 8), (std::vector<size_t>{238, 249, 417, 468, 524, 843, 871, 950}));
  EXPECT_EQ(channel.n_draws(), 1u);
  Blake2sChannel small;  // 20 words over 8 positions: 3 draws, the last one partly used
  EXPECT_EQ(small.draw_queries(3, 20), (std::vector<size_t>{0, 1, 3, 4, 5, 6, 7}));
  EXPECT_EQ(small.n_draws(), 3u);
  Blake2sChannel none;
  EXPECT_TRUE(none.draw_queries(10, 0).empty());
  EXPECT_EQ(none.n_draws(), 0u);
  EXPECT_THROW(none.draw_queries(33, 1), ptvm::Error);
  Blake2sChannel full;  // mask of 32 bits = the words themselves, sorted
  EXPECT_EQ(full.draw_queries(32, 3), (std::vector<size_t>{49928118, 1508103417, 1851109195}));
}

TEST(Blake2sChannel, FrozenMixFeltsAndMixRoot) {
  Blake2sChannel channel;
  const QM31 felts[] = {QM31::from_u32(1, 2, 3, 4), QM31::from_u32(5, 6, 7, 8)};
  channel.mix_felts(felts);
  EXPECT_EQ(channel.digest().hex(), "fe876a6d01f100b12b5ad268e0856f09191ab4e33644ae0ac6c231f225d39ec6");

  Blake2sHash root;
  for (int i = 0; i < 32; ++i) root.bytes[i] = uint8_t(i);
  Blake2sChannel by_root, by_bytes;
  by_root.mix_root(root);
  EXPECT_EQ(by_root.digest().hex(), "3ec2373385e7587c0a590d180eaafc742920ac72ee8109e48f097247bd6b7d5f");
  by_bytes.mix_bytes(root.bytes);
  EXPECT_EQ(by_bytes.digest(), by_root.digest());
}

TEST(Blake2sChannel, FrozenDrawFeltsThreeUsesTwoDraws) {
  Blake2sChannel channel;
  const auto felts = channel.draw_felts(3);
  ASSERT_EQ(felts.size(), 3u);
  EXPECT_EQ(coords(felts[2]), (std::array<uint32_t, 4>{1769619091, 1335149496, 2007506569, 1426464368}));
  EXPECT_EQ(channel.n_draws(), 2u);
  Blake2sChannel single;
  EXPECT_EQ(single.draw_felt(), felts[0]);
}

TEST(Blake2sChannel, MixResetsTheDrawCounter) {
  Blake2sChannel a, b;
  a.draw_u32s();
  a.mix_u64(7);
  b.mix_u64(7);
  EXPECT_EQ(a.n_draws(), 0u);
  EXPECT_EQ(a.draw_u32s(), b.draw_u32s());
  // Different operations give different transcripts.
  Blake2sChannel c, d;
  c.mix_u64(1);
  d.mix_u64(2);
  EXPECT_NE(c.digest(), d.digest());
}

// ---- proof of work -----------------------------------------------------------------------------

TEST(Pow, FrozenGrindResults) {
  Blake2sChannel fresh;
  const uint64_t expected[] = {0, 2, 2, 17, 52, 31, 24, 29, 343, 595, 2388, 4147, 2032};
  for (uint32_t bits = 0; bits < std::size(expected); ++bits) {
    EXPECT_EQ(fresh.grind(bits), expected[bits]) << "pow_bits " << bits;
  }
  Blake2sChannel mixed;
  mixed.mix_u64(42);
  EXPECT_EQ(mixed.grind(8), 53u);
  EXPECT_EQ(mixed.grind(12), 3152u);
}

TEST(Pow, GrindIsTheSmallestNonceByBruteForce) {
  // check_pow goes through the scalar compression; grind through the 16-lane one.
  Blake2sChannel channel;
  for (uint32_t bits = 0; bits <= 12; ++bits) {
    channel.mix_u64(bits);
    const uint64_t nonce = channel.grind(bits, 1);
    for (uint64_t n = 0; n < nonce; ++n) ASSERT_FALSE(channel.check_pow(n, bits)) << bits << " " << n;
    ASSERT_TRUE(channel.check_pow(nonce, bits));
    if (nonce > 0) {
      EXPECT_FALSE(channel.check_pow(nonce - 1, bits));
    }
  }
}

TEST(Pow, ThreadCountDoesNotChangeTheAnswer) {
  Blake2sChannel channel;
  channel.mix_u64(0xfeed);
  for (uint32_t bits : {15u, 17u}) {
    const uint64_t one = channel.grind(bits, 1);
    for (unsigned threads : {2u, 3u, 5u}) EXPECT_EQ(channel.grind(bits, threads), one) << bits;
    EXPECT_TRUE(channel.check_pow(one, bits));
    // A valid nonce proves only the bits it was ground for, and only for this digest.
    Blake2sChannel other = channel;
    other.mix_u64(1);
    uint32_t tries_failed = 0;
    for (uint64_t n = one; n < one + 64; ++n) tries_failed += !other.check_pow(n, bits);
    EXPECT_GT(tries_failed, 60u);
  }
}

TEST(Pow, CheckRejectsOutOfRangeAndGrindRejectsHugeBits) {
  Blake2sChannel channel;
  EXPECT_TRUE(channel.check_pow(12345, 0));
  EXPECT_FALSE(channel.check_pow(0, 129));
  EXPECT_THROW(channel.grind(Blake2sChannel::kMaxGrindBits + 1), ptvm::Error);
}

TEST(Pow, TrailingZerosOfU128) {
  const uint32_t zero[4] = {0, 0, 0, 0};
  EXPECT_EQ(trailing_zeros_u128(zero), 128u);
  const uint32_t bit0[4] = {1, 0, 0, 0};
  EXPECT_EQ(trailing_zeros_u128(bit0), 0u);
  const uint32_t bit70[4] = {0, 0, 1u << 6, 0xffffffffu};
  EXPECT_EQ(trailing_zeros_u128(bit70), 70u);
  const uint32_t bit127[4] = {0, 0, 0, 0x80000000u};
  EXPECT_EQ(trailing_zeros_u128(bit127), 127u);
}
