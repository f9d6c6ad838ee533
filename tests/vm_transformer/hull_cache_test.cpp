// The convex-hull KV cache against brute force: every query's argmax (max score, ties to the
// largest step) equals the O(n) scan over all keys, for random, monotone and collinear key sets
// and random query directions.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/hull_cache.hpp"

namespace ptvm::vm {
namespace {

AttentionKey brute_force_argmax(const std::vector<AttentionKey>& keys, QueryDirection q) {
  AttentionKey best = keys.front();
  for (const AttentionKey& k : keys) {
    const int64_t s = attention_score(q, k), b = attention_score(q, best);
    if (s > b || (s == b && k.step > best.step))
      best = k;
  }
  return best;
}

bool large_tests() {
  const char* v = std::getenv("PTVM_LARGE_TESTS");
  return v != nullptr && std::string(v) == "1";
}

QueryDirection random_query(std::mt19937_64& rng, int64_t bound) {
  std::uniform_int_distribution<int64_t> d(-bound, bound);
  return {d(rng), d(rng)};
}

// Inserts keys one by one and, after every insert, checks `queries_per_insert` random directions
// plus the memory query (1, 0) and the axis directions against brute force.
void check_against_brute_force(const std::vector<AttentionKey>& keys, uint64_t seed,
                               int queries_per_insert) {
  std::mt19937_64 rng(seed);
  ConvexHullKeyCache cache;
  std::vector<AttentionKey> inserted;
  for (const AttentionKey& key : keys) {
    cache.insert(key);
    inserted.push_back(key);
    ASSERT_EQ(cache.latest(), key);
    std::vector<QueryDirection> queries = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {0, 0}, {1, 1}};
    for (int i = 0; i < queries_per_insert; ++i)
      queries.push_back(random_query(rng, 1000));
    for (const QueryDirection q : queries) {
      const AttentionKey expected = brute_force_argmax(inserted, q);
      const AttentionKey got = cache.argmax(q);
      ASSERT_EQ(got, expected) << "seed " << seed << " after " << inserted.size()
                               << " keys, query (" << q.x << ", " << q.y << ")";
    }
  }
}

std::vector<AttentionKey> random_keys(std::mt19937_64& rng, size_t n, int64_t max_gap,
                                      int64_t value_bound) {
  std::uniform_int_distribution<int64_t> gap(1, max_gap), value(-value_bound, value_bound);
  std::vector<AttentionKey> keys;
  int64_t step = 0;
  for (size_t i = 0; i < n; ++i) {
    keys.push_back({step, value(rng)});
    step += gap(rng);
  }
  return keys;
}

TEST(HullCache, RandomKeysMatchBruteForce) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    std::mt19937_64 rng(seed);
    const size_t n = 1 + seed * 3;
    // Small value ranges force many collinear and equal-score ties.
    const int64_t value_bound = seed % 3 == 0 ? 2 : (seed % 3 == 1 ? 50 : 32768);
    check_against_brute_force(random_keys(rng, n, seed % 2 ? 1 : 7, value_bound), seed, 8);
  }
}

TEST(HullCache, MonotoneAndCollinearKeysMatchBruteForce) {
  std::vector<AttentionKey> increasing, decreasing, constant, convex, concave, zigzag;
  for (int64_t i = 0; i < 60; ++i) {
    increasing.push_back({i, i * 3});
    decreasing.push_back({2 * i, -i});
    constant.push_back({i, 7});
    convex.push_back({i, (i - 30) * (i - 30)});
    concave.push_back({i, -(i - 30) * (i - 30)});
    zigzag.push_back({i, i % 2 ? 100 : -100});
  }
  uint64_t seed = 100;
  for (const auto& keys : {increasing, decreasing, constant, convex, concave, zigzag})
    check_against_brute_force(keys, seed++, 16);
}

TEST(HullCache, HullSizesOnDegenerateInputs) {
  ConvexHullKeyCache line;
  for (int64_t i = 0; i < 1000; ++i)
    line.insert({i, 5 * i - 3});
  EXPECT_EQ(line.upper_hull().size(), 2u); // collinear middle points are dropped
  EXPECT_EQ(line.lower_hull().size(), 2u);
  EXPECT_EQ(line.keys_inserted(), 1000u);
  ConvexHullKeyCache parabola;
  for (int64_t i = 0; i < 100; ++i)
    parabola.insert({i, i * i});
  EXPECT_EQ(parabola.lower_hull().size(), 100u); // every point of a convex curve is a vertex
  EXPECT_EQ(parabola.upper_hull().size(), 2u);
  EXPECT_EQ(parabola.argmax({0, -1}), (AttentionKey{0, 0}));
  EXPECT_EQ(parabola.argmax({-40, 1}), (AttentionKey{99, 9801}));
  EXPECT_EQ(parabola.argmax({40, -1}), (AttentionKey{20, 400}));
}

TEST(HullCache, RejectsBadInput) {
  ConvexHullKeyCache cache;
  EXPECT_THROW(cache.argmax({1, 0}), Error);
  cache.insert({5, 1});
  EXPECT_THROW(cache.insert({5, 2}), Error); // steps must strictly increase
  EXPECT_THROW(cache.insert({4, 2}), Error);
  EXPECT_THROW(cache.insert({6, kMaxKeyValue + 1}), Error);
  EXPECT_THROW(cache.insert({kMaxKeyStep, 0}), Error);
  EXPECT_THROW(cache.argmax({kMaxQueryComponent + 1, 0}), Error);
  cache.insert({6, -3}); // a rejected insert left the cache usable
  EXPECT_EQ(cache.argmax({1, 0}), (AttentionKey{6, -3}));
  cache.clear();
  EXPECT_TRUE(cache.empty());
}

// 10^6 keys (10^7 with PTVM_LARGE_TESTS=1): random queries against a brute-force scan of all keys.
// Inserting is amortized O(1) and each query O(log n); the scans dominate, so only a few are made.
TEST(HullCache, ManyKeysMatchBruteForce) {
  const size_t n = large_tests() ? 10000000 : 1000000;
  std::mt19937_64 rng(7);
  const std::vector<AttentionKey> keys = random_keys(rng, n, 3, 32768);
  ConvexHullKeyCache cache;
  for (const AttentionKey& k : keys)
    cache.insert(k);
  EXPECT_EQ(cache.keys_inserted(), n);
  EXPECT_EQ(cache.argmax({1, 0}), keys.back());
  for (int i = 0; i < 20; ++i) {
    const QueryDirection q = i == 0 ? QueryDirection{0, 1} : random_query(rng, 1 << 20);
    ASSERT_EQ(cache.argmax(q), brute_force_argmax(keys, q)) << "query " << i;
  }
  // Hulls of random points stay small, which is what keeps reads cheap.
  EXPECT_LT(cache.upper_hull().size(), 200u);
  EXPECT_LT(cache.lower_hull().size(), 200u);
}

TEST(HullKvMemory, HardReadsTheLatestWrite) {
  const std::vector<int16_t> initial = {3, -4, 5};
  HullKvMemory memory(initial, AttentionMode{});
  EXPECT_EQ(memory.size(), 3u);
  EXPECT_EQ(memory.read(1), -4);
  memory.write(1, 2, 100);
  memory.write(1, 9, -7);
  memory.write(2, 9, 8);
  EXPECT_EQ(memory.read(1), -7);
  EXPECT_EQ(memory.latest(1), -7);
  EXPECT_EQ(memory.latest_values(), (std::vector<int16_t>{3, -7, 8}));
  EXPECT_TRUE(memory.history(1).empty()); // no full history under average-hard
  EXPECT_THROW(memory.write(1, 9, 1), Error);
}

// ISA.md's soft example: keys (0, 0), (2, 0), (4, 10) read 10 / 9 / 4.
TEST(HullKvMemory, SoftModesWeightTheWholeHistory) {
  const std::vector<int16_t> initial = {0};
  const AttentionMode modes[] = {
      {AttentionMode::Kind::AverageHard, 1.0},
      {AttentionMode::Kind::Softmax, 1.0},
      {AttentionMode::Kind::HardSoftmax, 10.0},
  };
  const int16_t expected[] = {10, 9, 4};
  for (int m = 0; m < 3; ++m) {
    HullKvMemory memory(initial, modes[m]);
    memory.write(0, 2, 0);
    memory.write(0, 4, 10);
    EXPECT_EQ(memory.read(0), expected[m]) << "mode " << m;
    EXPECT_EQ(memory.latest(0), 10);
  }
  // Direct formula check: mean of (0, 0), (1, 1) at T = 1 is e/(1+e) = 0.731 -> 1; at a large T
  // the mean is about 0.5 + a little -> rounds half away from zero to 1; values negative mirror.
  const std::vector<AttentionKey> two = {{0, 0}, {1, 1}}, two_negative = {{0, 0}, {1, -1}};
  EXPECT_EQ(soft_attention_read(two, 1.0), 1);
  EXPECT_EQ(soft_attention_read(two, 1e9), 1);
  EXPECT_EQ(soft_attention_read(two_negative, 1e9), -1);
  const std::vector<AttentionKey> far = {{0, 30000}, {100000, -2}};
  EXPECT_EQ(soft_attention_read(far, 1.0), -2); // the old key's weight underflows to exactly 0
  EXPECT_THROW(HullKvMemory(initial, AttentionMode{AttentionMode::Kind::HardSoftmax, 0.0}), Error);
  EXPECT_THROW(HullKvMemory(initial, AttentionMode{AttentionMode::Kind::HardSoftmax, -1.0}), Error);
}

} // namespace
} // namespace ptvm::vm
