// Merkle tree: PROTOCOL.md §15 vectors, frozen vectors from tests/hash/gen_vectors.py, the fast
// 16-lane commit against a byte-level reference, decommit/verify round trips and tampering.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <set>
#include <random>

#include "ptvm/common/error.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/hash/merkle_hash.hpp"

using namespace ptvm;
using namespace ptvm::hash;

namespace {

using Column = std::vector<M31>;

std::vector<std::span<const M31>> spans(const std::vector<Column>& columns) {
  return {columns.begin(), columns.end()};
}

Column column_of(std::initializer_list<uint32_t> values) {
  Column c;
  for (uint32_t v : values) c.push_back(M31::from_u32(v));
  return c;
}

// Reference node hash built from bytes with the streaming hasher (no shared code with the
// word-level merkle_hash_node_words / 16-lane paths except the compression function).
Blake2sHash reference_node_hash(const Blake2sHash* left, const Blake2sHash* right,
                                const std::vector<uint32_t>& values) {
  std::vector<uint8_t> message(64, 0);
  const char* prefix = left ? "node" : "leaf";
  std::copy(prefix, prefix + 4, message.begin());
  if (left) {
    message.insert(message.end(), left->bytes.begin(), left->bytes.end());
    message.insert(message.end(), right->bytes.begin(), right->bytes.end());
  }
  for (uint32_t v : values) {
    for (int i = 0; i < 4; ++i) message.push_back(uint8_t(v >> (8 * i)));
  }
  return blake2s(message);
}

// Layer by layer, straight from the definition (PROTOCOL.md §9.1).
std::vector<std::vector<Blake2sHash>> reference_layers(const std::vector<Column>& columns) {
  uint32_t max_log = 0;
  for (const auto& c : columns) max_log = std::max<uint32_t>(max_log, std::countr_zero(c.size()));
  std::vector<std::vector<Blake2sHash>> layers(max_log + 1);
  for (int64_t k = max_log; k >= 0; --k) {
    layers[k].resize(size_t(1) << k);
    for (size_t j = 0; j < layers[k].size(); ++j) {
      std::vector<uint32_t> values;
      for (const auto& c : columns) {
        if (c.size() == (size_t(1) << k)) values.push_back(c[j].v);
      }
      if (k == int64_t(max_log)) {
        layers[k][j] = reference_node_hash(nullptr, nullptr, values);
      } else {
        layers[k][j] = reference_node_hash(&layers[k + 1][2 * j], &layers[k + 1][2 * j + 1], values);
      }
    }
  }
  return layers;
}

std::vector<Column> random_columns(std::mt19937_64& rng, size_t n_columns, uint32_t max_log) {
  std::vector<Column> columns(n_columns);
  for (auto& c : columns) {
    const uint32_t log = std::uniform_int_distribution<uint32_t>(0, max_log)(rng);
    c.resize(size_t(1) << log);
    for (auto& v : c) v = M31::from_u32(uint32_t(rng()) % M31::P);
  }
  if (!columns.empty()) columns[rng() % n_columns].resize(size_t(1) << max_log);  // pin the max
  return columns;
}

QueriesPerLogSize random_queries(std::mt19937_64& rng, const std::vector<Column>& columns,
                                 size_t max_per_size) {
  QueriesPerLogSize queries;
  for (const auto& c : columns) {
    const uint32_t log = std::countr_zero(c.size());
    if (queries.count(log) || rng() % 4 == 0) continue;  // some sizes get no queries
    std::set<size_t> positions;
    const size_t n = 1 + rng() % max_per_size;
    for (size_t i = 0; i < n; ++i) positions.insert(rng() % c.size());
    queries[log] = std::vector<size_t>(positions.begin(), positions.end());
  }
  if (queries.empty() && !columns.empty()) {
    queries[std::countr_zero(columns[0].size())] = {0};
  }
  return queries;
}

bool large_tests() {
  const char* env = std::getenv("PTVM_LARGE_TESTS");
  return env && std::string(env) == "1";
}

}  // namespace

// ---- known answers -----------------------------------------------------------------------------

TEST(Merkle, PrefixInitialStatesAreTheCompressedPrefixBlocks) {
  const uint32_t protocol_leaf[8] = {0x6510b1f7, 0xfd531f42, 0xcff75ec3, 0x382935d0,
                                     0xab15dbf2, 0x950eb564, 0xe8e92866, 0x28047aca};
  for (uint32_t prefix_word : {kMerkleLeafPrefixWord, kMerkleNodePrefixWord}) {
    uint32_t h[8], block[16] = {prefix_word};
    blake2s_init_state(h);
    blake2s_compress(h, block, 64, false);
    for (int i = 0; i < 8; ++i) {
      const uint32_t stored = prefix_word == kMerkleLeafPrefixWord ? merkle_leaf_initial_state(i)
                                                                   : merkle_node_initial_state(i);
      EXPECT_EQ(stored, h[i]) << "word " << i;
      if (prefix_word == kMerkleLeafPrefixWord) {
        EXPECT_EQ(stored, protocol_leaf[i]);
      }
    }
  }
  EXPECT_EQ(merkle_node_initial_state(0), 0xe5cf8926u);  // PROTOCOL.md §9.3
}

TEST(Merkle, ProtocolVectors) {
  EXPECT_EQ(merkle_node_hash(std::nullopt, column_of({1, 2, 3})).hex(),
            "14f642a71e091c34660412655dbb920ec6699c61111f02e8b1ea33780d1bcefd");
  const std::vector<Column> columns = {column_of({1, 2, 3, 4}), column_of({5, 6})};
  for (unsigned threads : {1u, 2u}) {
    EXPECT_EQ(MerkleTree::commit(spans(columns), threads).root().hex(),
              "22893201315f8f7373d38b79471b20a7cdb94e818c1f35b64c43014ecc39fba6");
  }
}

TEST(Merkle, FrozenRoots) {
  const uint32_t P = M31::P;
  std::vector<Column> five(5);
  for (uint32_t i = 0; i < 8; ++i) five[0].push_back(M31::from_u32((7 * i + 3) % P));
  for (uint32_t i = 0; i < 2; ++i) five[1].push_back(M31::from_u32(i * i));
  for (uint32_t i = 0; i < 8; ++i) five[2].push_back(M31::from_u32(P - 1 - i));
  five[3].push_back(M31::from_u32(11));
  for (uint32_t i = 0; i < 32; ++i) five[4].push_back(M31::from_u32((1u << 30) + i));
  EXPECT_EQ(MerkleTree::commit(spans(five)).root().hex(),
            "80f580a7745459f43f40e232bb7904ff818601c1ae6d3aa8fb38c5eb05768115");

  // Three sizes, 17 columns at the largest (two value blocks per leaf) and layers of >= 16 nodes.
  std::vector<Column> many;
  for (uint64_t c = 0; c < 17; ++c) {
    Column col;
    for (uint64_t i = 0; i < 64; ++i) col.push_back(M31::from_u32((c * 1000003 + i * 7919) % P));
    many.push_back(col);
  }
  for (uint32_t c = 0; c < 3; ++c) {
    Column col;
    for (uint32_t i = 0; i < 16; ++i) col.push_back(M31::from_u32((c + i) % P));
    many.push_back(col);
  }
  many.push_back(column_of({5, 6}));
  for (unsigned threads : {1u, 3u}) {
    EXPECT_EQ(MerkleTree::commit(spans(many), threads).root().hex(),
              "4655d7492642d60c53010f36732822b1149fed5e81e01b3369796b98b02b3a17");
  }

  const MerkleTree empty = MerkleTree::commit({});
  EXPECT_EQ(empty.root().hex(), "2a133e150238721921d1ea772882979c810f85f2849099b9d3415a8619d85fad");
  EXPECT_FALSE(MerkleVerifier(empty.root(), {}).verify({}, {}, {}));
  EXPECT_TRUE(MerkleVerifier(empty.root(), {}).verify({}, column_of({1}), {}));
}

TEST(Merkle, FrozenDecommitmentShape) {
  // A = [1,2,3,4] (log 2), B = [5,6] (log 1), query position 1 of A only: the walk sends A[1],
  // then the leaf sibling hash(leaf [1]) and B[0] (witness) for node 0 of layer 1, then the
  // layer-1 node 1 for the root.
  const std::vector<Column> columns = {column_of({1, 2, 3, 4}), column_of({5, 6})};
  const MerkleTree tree = MerkleTree::commit(spans(columns));
  const QueriesPerLogSize queries = {{2, {1}}};
  const auto opening = tree.decommit(queries);
  EXPECT_EQ(opening.queried_values, column_of({2}));
  EXPECT_EQ(opening.decommitment.column_witness, column_of({5}));
  const auto layers = reference_layers(columns);
  ASSERT_EQ(opening.decommitment.hash_witness.size(), 2u);
  EXPECT_EQ(opening.decommitment.hash_witness[0], layers[2][0]);
  EXPECT_EQ(opening.decommitment.hash_witness[1], layers[1][1]);
  EXPECT_EQ(layers[2][0], merkle_node_hash(std::nullopt, column_of({1})));
  EXPECT_FALSE(MerkleVerifier(tree.root(), {2, 1}).verify(queries, opening.queried_values,
                                                          opening.decommitment));
}

// ---- commit against the reference -------------------------------------------------------------

TEST(Merkle, CommitMatchesReferenceOnRandomMixedSizes) {
  std::mt19937_64 rng(0x3e4c1e);
  for (int trial = 0; trial < 40; ++trial) {
    const uint32_t max_log = trial % 9;  // 0..8: below, at and above the 16-node block size
    const size_t n_columns = 1 + rng() % (trial % 5 == 0 ? 40 : 6);
    const auto columns = random_columns(rng, n_columns, max_log);
    const auto layers = reference_layers(columns);
    const MerkleTree tree = MerkleTree::commit(spans(columns), 1 + trial % 3);
    ASSERT_EQ(tree.root(), layers[0][0]) << "trial " << trial;
    ASSERT_EQ(tree.max_log_size(), max_log);
    for (uint32_t k = 0; k <= max_log; ++k) {
      for (size_t j = 0; j < layers[k].size(); ++j) {
        ASSERT_EQ(tree.node(k, j), layers[k][j]) << "trial " << trial << " layer " << k << " node " << j;
      }
    }
    std::vector<uint32_t> expected_logs;
    for (const auto& c : columns) expected_logs.push_back(std::countr_zero(c.size()));
    EXPECT_EQ(tree.column_log_sizes(), expected_logs);
  }
}

TEST(Merkle, LargeTreeUsesThreadsAndMatchesReference) {
  // Layers of >= 4096 nodes are split over threads; default size stays small for CI.
  const uint32_t log_rows = large_tests() ? 16 : 13;
  std::mt19937_64 rng(0xb16);
  std::vector<Column> columns(18);
  for (size_t c = 0; c < columns.size(); ++c) {
    columns[c].resize(size_t(1) << (c < 16 ? log_rows : log_rows - 3 * (c - 15)));
    for (auto& v : columns[c]) v = M31::from_u32(uint32_t(rng()) % M31::P);
  }
  const auto layers = reference_layers(columns);
  const Blake2sHash one_thread = MerkleTree::commit(spans(columns), 1).root();
  EXPECT_EQ(one_thread, layers[0][0]);
  EXPECT_EQ(MerkleTree::commit(spans(columns), 4).root(), one_thread);
}

TEST(Merkle, CommitRejectsBadColumnLengths) {
  const std::vector<Column> three = {Column(3)};
  EXPECT_THROW(MerkleTree::commit(spans(three)), ptvm::Error);
  const std::vector<Column> empty_column = {Column(4), Column()};
  EXPECT_THROW(MerkleTree::commit(spans(empty_column)), ptvm::Error);
}

// ---- decommit / verify ------------------------------------------------------------------------

TEST(Merkle, RoundTripOnRandomColumnsAndQueries) {
  std::mt19937_64 rng(0x40d7);
  for (int trial = 0; trial < 60; ++trial) {
    const auto columns = random_columns(rng, 1 + rng() % 8, trial % 10);
    const MerkleTree tree = MerkleTree::commit(spans(columns));
    const auto queries = random_queries(rng, columns, 1 + trial % 12);
    const auto opening = tree.decommit(queries);
    // queried_values: by log size descending, position ascending, column order.
    std::vector<M31> expected_values;
    for (auto it = queries.rbegin(); it != queries.rend(); ++it) {
      for (size_t pos : it->second) {
        for (const auto& c : columns) {
          if (c.size() == (size_t(1) << it->first)) expected_values.push_back(c[pos]);
        }
      }
    }
    ASSERT_EQ(opening.queried_values, expected_values) << "trial " << trial;
    const MerkleVerifier verifier(tree.root(), tree.column_log_sizes());
    const auto verdict = verifier.verify(queries, opening.queried_values, opening.decommitment);
    ASSERT_FALSE(verdict) << "trial " << trial << ": " << *verdict;
  }
}

TEST(Merkle, DecommitRejectsMalformedQueries) {
  const std::vector<Column> columns = {Column(8), Column(2)};
  const MerkleTree tree = MerkleTree::commit(spans(columns));
  EXPECT_THROW(tree.decommit({{3, {2, 1}}}), ptvm::Error);
  EXPECT_THROW(tree.decommit({{3, {1, 1}}}), ptvm::Error);
  EXPECT_THROW(tree.decommit({{3, {8}}}), ptvm::Error);
  EXPECT_THROW(tree.decommit({{2, {0}}}), ptvm::Error);  // no column of log 2
  EXPECT_THROW(tree.decommit({{9, {0}}}), ptvm::Error);
  EXPECT_NO_THROW(tree.decommit({{2, {}}, {3, {7}}}));
}

TEST(Merkle, TamperingIsRejectedWithAReason) {
  std::mt19937_64 rng(0x7a3);
  for (int trial = 0; trial < 12; ++trial) {
    const auto columns = random_columns(rng, 2 + rng() % 5, 3 + trial % 5);
    const MerkleTree tree = MerkleTree::commit(spans(columns));
    const auto queries = random_queries(rng, columns, 4);
    const auto opening = tree.decommit(queries);
    const std::vector<uint32_t> logs = tree.column_log_sizes();
    const MerkleVerifier verifier(tree.root(), logs);
    ASSERT_FALSE(verifier.verify(queries, opening.queried_values, opening.decommitment));

    auto expect_rejected = [&](const QueriesPerLogSize& q, const std::vector<M31>& values,
                               const MerkleDecommitment& d, const std::string& what,
                               const MerkleVerifier* v = nullptr) {
      const auto verdict = (v ? *v : verifier).verify(q, values, d);
      ASSERT_TRUE(verdict.has_value()) << "trial " << trial << ": accepted after " << what;
      EXPECT_FALSE(verdict->empty());
    };
    const M31 one = M31::one();
    // Every queried value, every witness entry, changed.
    for (size_t i = 0; i < opening.queried_values.size(); ++i) {
      auto values = opening.queried_values;
      values[i] += one;
      expect_rejected(queries, values, opening.decommitment, "queried value " + std::to_string(i));
    }
    for (size_t i = 0; i < opening.decommitment.hash_witness.size(); ++i) {
      auto d = opening.decommitment;
      d.hash_witness[i].bytes[i % 32] ^= 1;
      expect_rejected(queries, opening.queried_values, d, "hash witness " + std::to_string(i));
    }
    for (size_t i = 0; i < opening.decommitment.column_witness.size(); ++i) {
      auto d = opening.decommitment;
      d.column_witness[i] += one;
      expect_rejected(queries, opening.queried_values, d, "column witness " + std::to_string(i));
    }
    // Entries dropped or added, at the end and at the front.
    {
      auto values = opening.queried_values;
      values.push_back(one);
      expect_rejected(queries, values, opening.decommitment, "extra queried value");
      values = opening.queried_values;
      values.insert(values.begin(), one);
      expect_rejected(queries, values, opening.decommitment, "queried value inserted");
      if (!opening.queried_values.empty()) {
        values = opening.queried_values;
        values.pop_back();
        expect_rejected(queries, values, opening.decommitment, "queried value dropped");
      }
      auto d = opening.decommitment;
      d.hash_witness.push_back(Blake2sHash{});
      expect_rejected(queries, opening.queried_values, d, "extra hash witness");
      d = opening.decommitment;
      d.column_witness.push_back(one);
      expect_rejected(queries, opening.queried_values, d, "extra column witness");
      if (!opening.decommitment.hash_witness.empty()) {
        d = opening.decommitment;
        d.hash_witness.erase(d.hash_witness.begin());
        expect_rejected(queries, opening.queried_values, d, "hash witness dropped");
      }
      if (!opening.decommitment.column_witness.empty()) {
        d = opening.decommitment;
        d.column_witness.pop_back();
        expect_rejected(queries, opening.queried_values, d, "column witness dropped");
      }
    }
    // Wrong root; non-canonical values.
    {
      Blake2sHash root = tree.root();
      root.bytes[31] ^= 0x80;
      const MerkleVerifier wrong_root(root, logs);
      expect_rejected(queries, opening.queried_values, opening.decommitment, "wrong root", &wrong_root);
      auto values = opening.queried_values;
      values[0].v = M31::P;  // same residue as 0, but not canonical
      expect_rejected(queries, values, opening.decommitment, "non-canonical value");
    }
    // Wrong column sizes: one size changed, a column dropped, a column added. Only layers at or
    // below the largest queried size are walked, so the tampered column is taken from there
    // (sizes of columns above every query are not bound by an opening, as in stwo).
    {
      const uint32_t walked_log = queries.rbegin()->first;
      const size_t walked = std::find(logs.begin(), logs.end(), walked_log) - logs.begin();
      auto changed = logs;
      changed[walked] = changed[walked] == 0 ? 1 : changed[walked] - 1;
      const MerkleVerifier v1(tree.root(), changed);
      expect_rejected(queries, opening.queried_values, opening.decommitment, "changed size", &v1);
      auto dropped = logs;
      dropped.erase(dropped.begin() + walked);
      const MerkleVerifier v2(tree.root(), dropped);
      expect_rejected(queries, opening.queried_values, opening.decommitment, "dropped column", &v2);
      auto added = logs;
      added.push_back(walked_log);
      const MerkleVerifier v3(tree.root(), added);
      expect_rejected(queries, opening.queried_values, opening.decommitment, "added column", &v3);
      const MerkleVerifier v4(tree.root(), {40});
      expect_rejected(queries, opening.queried_values, opening.decommitment, "size 2^40", &v4);
    }
    // Queries changed: a position moved, dropped, added, duplicated, unsorted, out of range,
    // at a size without columns.
    {
      const auto& [log, positions] = *queries.begin();
      const size_t size = size_t(1) << log;
      auto q = queries;
      size_t moved = positions.back() + 1;
      if (moved < size) {
        q[log].back() = moved;
        expect_rejected(q, opening.queried_values, opening.decommitment, "query moved");
      }
      q = queries;
      q[log].push_back(size);
      expect_rejected(q, opening.queried_values, opening.decommitment, "query out of range");
      q = queries;
      q[log].push_back(q[log].back());
      expect_rejected(q, opening.queried_values, opening.decommitment, "duplicate query");
      if (positions.size() >= 2) {
        q = queries;
        std::swap(q[log][0], q[log][1]);
        expect_rejected(q, opening.queried_values, opening.decommitment, "unsorted queries");
      }
      q = queries;
      q[log].pop_back();
      expect_rejected(q, opening.queried_values, opening.decommitment, "query dropped");
      q = queries;
      q[45] = {0};
      expect_rejected(q, opening.queried_values, opening.decommitment, "queries at log 45");
      q = queries;
      q[uint32_t(-1)] = {0};
      expect_rejected(q, opening.queried_values, opening.decommitment, "queries at log 2^32-1");
      expect_rejected({}, {}, {}, "no queries");
    }
  }
}

TEST(Merkle, RandomGarbageNeverCrashesTheVerifier) {
  std::mt19937_64 rng(0x6a7b);
  const auto columns = random_columns(rng, 5, 6);
  const MerkleTree tree = MerkleTree::commit(spans(columns));
  const MerkleVerifier verifier(tree.root(), tree.column_log_sizes());
  for (int trial = 0; trial < 300; ++trial) {
    QueriesPerLogSize queries;
    const size_t n_sizes = rng() % 4;
    for (size_t s = 0; s < n_sizes; ++s) {
      auto& positions = queries[rng() % 9];
      const size_t n = rng() % 6;
      for (size_t i = 0; i < n; ++i) positions.push_back(rng() % 80);
      if (rng() % 2) std::sort(positions.begin(), positions.end());
    }
    std::vector<M31> values(rng() % 30);
    for (auto& v : values) v.v = uint32_t(rng()) >> (rng() % 2);
    MerkleDecommitment d;
    d.hash_witness.resize(rng() % 20);
    for (auto& h : d.hash_witness) h.bytes[0] = uint8_t(rng());
    d.column_witness.resize(rng() % 30);
    EXPECT_TRUE(verifier.verify(queries, values, d).has_value());
  }
}
