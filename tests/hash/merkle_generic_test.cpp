// GenericMerkleTree: with BLAKE2s over M31 it must equal the fast MerkleTree (roots, nodes and
// openings); BLAKE2b-256 trees against frozen hashlib vectors (gen_vectors.py); round trips and
// tampering over QM31.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/hash/merkle_generic.hpp"

using namespace ptvm;
using namespace ptvm::hash;

namespace {

template <class Value>
std::vector<std::span<const Value>> spans(const std::vector<std::vector<Value>>& columns) {
  return {columns.begin(), columns.end()};
}

M31 random_m31(std::mt19937_64& rng) { return M31::from_u32(uint32_t(rng()) % M31::P); }
QM31 random_qm31(std::mt19937_64& rng) {
  return QM31::from_m31(random_m31(rng), random_m31(rng), random_m31(rng), random_m31(rng));
}

template <class Value, class Random>
std::vector<std::vector<Value>> random_columns(std::mt19937_64& rng, size_t n, uint32_t max_log,
                                               Random random_value) {
  std::vector<std::vector<Value>> columns(n);
  for (auto& c : columns) {
    c.resize(size_t(1) << (rng() % (max_log + 1)));
    for (auto& v : c) v = random_value(rng);
  }
  columns[rng() % n].resize(size_t(1) << max_log, random_value(rng));
  return columns;
}

template <class Value>
QueriesPerLogSize random_queries(std::mt19937_64& rng, const std::vector<std::vector<Value>>& columns) {
  QueriesPerLogSize queries;
  for (const auto& c : columns) {
    const uint32_t log = std::countr_zero(c.size());
    if (queries.count(log) || rng() % 3 == 0) continue;
    std::set<size_t> positions;
    for (size_t i = 0, n = 1 + rng() % 5; i < n; ++i) positions.insert(rng() % c.size());
    queries[log] = {positions.begin(), positions.end()};
  }
  if (queries.empty()) queries[std::countr_zero(columns[0].size())] = {0};
  return queries;
}

using Blake2sM31Tree = GenericMerkleTree<Blake2sMerkleHasher, M31>;

}  // namespace

TEST(GenericMerkle, Blake2sOverM31EqualsTheFastTree) {
  std::mt19937_64 rng(0x9e4e);
  for (int trial = 0; trial < 30; ++trial) {
    const auto columns = random_columns<M31>(rng, 1 + rng() % 6, trial % 10, random_m31);
    const MerkleTree fast = MerkleTree::commit(spans(columns));
    const Blake2sM31Tree generic = Blake2sM31Tree::commit(spans(columns), 1 + trial % 2);
    ASSERT_EQ(generic.root(), fast.root()) << "trial " << trial;
    for (uint32_t k = 0; k <= fast.max_log_size(); ++k) {
      for (size_t j = 0; j < (size_t(1) << k); ++j) ASSERT_EQ(generic.node(k, j), fast.node(k, j));
    }
    const auto queries = random_queries(rng, columns);
    const auto a = fast.decommit(queries);
    const auto b = generic.decommit(queries);
    EXPECT_EQ(a.queried_values, b.queried_values);
    EXPECT_EQ(a.decommitment.hash_witness, b.decommitment.hash_witness);
    EXPECT_EQ(a.decommitment.column_witness, b.decommitment.column_witness);
  }
  const std::vector<std::vector<M31>> ab = {{M31::from_u32(1), M31::from_u32(2), M31::from_u32(3), M31::from_u32(4)},
                                            {M31::from_u32(5), M31::from_u32(6)}};
  EXPECT_EQ(Blake2sM31Tree::commit(spans(ab)).root().hex(),
            "22893201315f8f7373d38b79471b20a7cdb94e818c1f35b64c43014ecc39fba6");  // PROTOCOL §15
}

TEST(GenericMerkle, Blake2bFrozenVectors) {
  const std::vector<std::vector<M31>> ab = {{M31::from_u32(1), M31::from_u32(2), M31::from_u32(3), M31::from_u32(4)},
                                            {M31::from_u32(5), M31::from_u32(6)}};
  EXPECT_EQ(Blake2bMerkleTree<M31>::commit(spans(ab)).root().hex(),
            "b47e4c33d5fd9d6b9c0fa9aa46670a93a3d2204cf6aebf2d06ee06886f082bfd");
  const std::vector<std::vector<QM31>> q = {{QM31::from_u32(1, 2, 3, 4), QM31::from_u32(5, 6, 7, 8)},
                                            {QM31::from_u32(9, 10, 11, 12)}};
  EXPECT_EQ(Blake2bMerkleTree<QM31>::commit(spans(q)).root().hex(),
            "ca9c686d979d585b4315696403742dede874f30412c3d6bd5eb0335e9b77813e");
  const auto empty = Blake2bMerkleTree<QM31>::commit({});
  EXPECT_EQ(empty.root().hex(), "70359bda2777c0ed6c7a2d606c59b077ab15c1941b2f72d721c417c7c91d0129");
  EXPECT_FALSE(Blake2bMerkleVerifier<QM31>(empty.root(), {}).verify({}, {}, {}));
}

TEST(GenericMerkle, Blake2bRoundTripAndTampering) {
  std::mt19937_64 rng(0xb2b);
  for (int trial = 0; trial < 20; ++trial) {
    const auto columns = random_columns<QM31>(rng, 1 + rng() % 5, 1 + trial % 8, random_qm31);
    const auto tree = Blake2bMerkleTree<QM31>::commit(spans(columns), 1 + trial % 3);
    const auto queries = random_queries(rng, columns);
    const auto opening = tree.decommit(queries);
    const Blake2bMerkleVerifier<QM31> verifier(tree.root(), tree.column_log_sizes());
    const auto verdict = verifier.verify(queries, opening.queried_values, opening.decommitment);
    ASSERT_FALSE(verdict) << "trial " << trial << ": " << *verdict;

    const QM31 one = QM31::one();
    for (size_t i = 0; i < opening.queried_values.size(); ++i) {
      auto values = opening.queried_values;
      values[i] += one;
      EXPECT_TRUE(verifier.verify(queries, values, opening.decommitment)) << "value " << i;
    }
    for (size_t i = 0; i < opening.decommitment.hash_witness.size(); ++i) {
      auto d = opening.decommitment;
      d.hash_witness[i].bytes[7] ^= 4;
      EXPECT_TRUE(verifier.verify(queries, opening.queried_values, d)) << "hash witness " << i;
    }
    for (size_t i = 0; i < opening.decommitment.column_witness.size(); ++i) {
      auto d = opening.decommitment;
      d.column_witness[i] += one;
      EXPECT_TRUE(verifier.verify(queries, opening.queried_values, d)) << "column witness " << i;
    }
    auto d = opening.decommitment;
    d.hash_witness.emplace_back();
    EXPECT_TRUE(verifier.verify(queries, opening.queried_values, d));
    d = opening.decommitment;
    d.column_witness.push_back(one);
    EXPECT_TRUE(verifier.verify(queries, opening.queried_values, d));
    auto values = opening.queried_values;
    values.pop_back();
    EXPECT_TRUE(verifier.verify(queries, values, opening.decommitment));
    auto root = tree.root();
    root.bytes[0] ^= 1;
    EXPECT_TRUE(Blake2bMerkleVerifier<QM31>(root, tree.column_log_sizes())
                    .verify(queries, opening.queried_values, opening.decommitment));
  }
  const std::vector<std::vector<QM31>> bad = {std::vector<QM31>(3)};
  EXPECT_THROW(Blake2bMerkleTree<QM31>::commit(spans(bad)), ptvm::Error);
}
