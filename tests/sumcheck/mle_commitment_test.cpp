// The tensor-code multilinear commitment: commit -> open -> verify, and every part of an opening
// tampered (rows, opened values, Merkle witnesses, the value, the point, the commitment).
#include <gtest/gtest.h>

#include <algorithm>

#include <random>
#include <vector>

#include "ptvm/backend.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/mle.hpp"
#include "ptvm/sumcheck/mle_commitment.hpp"

namespace ptvm::sumcheck {
namespace {

std::vector<M31> random_table(uint32_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<M31> v(size_t{1} << n);
  for (auto& x : v) x = M31::from_u64(rng());
  return v;
}
std::vector<QM31> random_point(uint32_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<QM31> v(n);
  for (auto& x : v) x = QM31::from_m31(M31::from_u64(rng()), M31::from_u64(rng()), M31::from_u64(rng()), M31::from_u64(rng()));
  return v;
}

struct Opened {
  CommittedMle committed;
  std::vector<QM31> point;
  QM31 value;
  MleOpeningProof proof;
};

Opened open_random(uint32_t n, uint32_t log_rows, MleCommitmentParams params, uint64_t seed) {
  Opened o{CommittedMle::commit(random_table(n, seed), log_rows, params, 1), random_point(n, seed + 1), QM31(), {}};
  o.value = o.committed.evaluate(o.point);
  hash::Blake2sChannel channel;
  mix_commitment(channel, o.committed.commitment());
  o.proof = o.committed.open(o.point, o.value, channel);
  return o;
}

std::optional<std::string> verify(const MleCommitment& c, const std::vector<QM31>& point, QM31 value,
                                  const MleOpeningProof& proof) {
  hash::Blake2sChannel channel;
  mix_commitment(channel, c);
  return verify_mle_opening(c, point, value, proof, channel);
}

TEST(MleCommitment, OpeningsVerifyAcrossShapes) {
  const MleCommitmentParams small{.log_blowup = 2, .n_queries = 20};
  for (auto [n, a] : {std::pair<uint32_t, uint32_t>{1, 0}, {4, 0}, {4, 3}, {8, 2}, {10, 5}, {11, 3}}) {
    // A code of 2^(n - a + 2) symbols: at most that many distinct queries.
    MleCommitmentParams p = small;
    if (p.n_queries > (1u << (n - a + 2))) p.n_queries = 1u << (n - a + 2);
    Opened o = open_random(n, a, p, n * 10 + a);
    EXPECT_EQ(o.value, evaluate_mle<M31>(o.committed.table(), o.point));
    auto r = verify(o.committed.commitment(), o.point, o.value, o.proof);
    EXPECT_FALSE(r.has_value()) << "n=" << n << " a=" << a << ": " << r.value_or("");
  }
  // The default parameters (148 queries at rate 1/4) on a table big enough for them.
  Opened o = open_random(12, default_log_rows(12), {}, 5);
  EXPECT_EQ(o.proof.queried_values.size(), size_t{148} << o.committed.commitment().log_rows);
  EXPECT_FALSE(verify(o.committed.commitment(), o.point, o.value, o.proof).has_value());
}

TEST(MleCommitment, TamperedOpeningsAreRejected) {
  const MleCommitmentParams params{.log_blowup = 2, .n_queries = 24};
  Opened o = open_random(9, 4, params, 77);
  const MleCommitment& c = o.committed.commitment();
  ASSERT_FALSE(verify(c, o.point, o.value, o.proof).has_value());
  const QM31 delta = QM31::from_u32(0, 0, 0, 1);
  // The value, the point.
  EXPECT_TRUE(verify(c, o.point, o.value + delta, o.proof).has_value());
  auto other_point = o.point;
  other_point[3] += delta;
  EXPECT_TRUE(verify(c, other_point, o.value, o.proof).has_value());
  // Every entry of both rows.
  for (size_t j = 0; j < o.proof.proximity_row.size(); ++j) {
    auto bad = o.proof;
    bad.proximity_row[j] += delta;
    EXPECT_TRUE(verify(c, o.point, o.value, bad).has_value()) << "proximity " << j;
    bad = o.proof;
    bad.evaluation_row[j] += delta;
    EXPECT_TRUE(verify(c, o.point, o.value, bad).has_value()) << "evaluation " << j;
  }
  // Every opened value, every Merkle witness.
  for (size_t k = 0; k < o.proof.queried_values.size(); k += 7) {
    auto bad = o.proof;
    bad.queried_values[k] = bad.queried_values[k] + M31::one();
    EXPECT_TRUE(verify(c, o.point, o.value, bad).has_value()) << "opened value " << k;
  }
  for (size_t k = 0; k < o.proof.decommitment.hash_witness.size(); ++k) {
    auto bad = o.proof;
    bad.decommitment.hash_witness[k].bytes[k % 32] ^= 1;
    EXPECT_TRUE(verify(c, o.point, o.value, bad).has_value()) << "hash witness " << k;
  }
  for (size_t k = 0; k < o.proof.decommitment.column_witness.size(); ++k) {
    auto bad = o.proof;
    bad.decommitment.column_witness[k] = bad.decommitment.column_witness[k] + M31::one();
    EXPECT_TRUE(verify(c, o.point, o.value, bad).has_value()) << "column witness " << k;
  }
  {
    auto bad = o.proof;
    bad.queried_values.pop_back();
    EXPECT_TRUE(verify(c, o.point, o.value, bad).has_value());
    bad = o.proof;
    bad.queried_values[0] = M31::raw(M31::P);  // not canonical
    EXPECT_TRUE(verify(c, o.point, o.value, bad).has_value());
    bad = o.proof;
    bad.evaluation_row.pop_back();
    EXPECT_TRUE(verify(c, o.point, o.value, bad).has_value());
  }
  // Another commitment's root, other parameters.
  {
    MleCommitment other = c;
    other.root.bytes[0] ^= 0x80;
    EXPECT_TRUE(verify(other, o.point, o.value, o.proof).has_value());
    other = c;
    other.log_rows = 3;
    EXPECT_TRUE(verify(other, o.point, o.value, o.proof).has_value());
    other = c;
    other.log_rows = other.n_vars;  // malformed: a reason, no exception
    EXPECT_TRUE(verify(other, o.point, o.value, o.proof).has_value());
  }
}

// A prover that commits one table and answers with the rows of another (consistent with a false
// value) is caught by the column checks: the commitment binds.
TEST(MleCommitment, RowsOfAnotherTableAreRejected) {
  const MleCommitmentParams params{.log_blowup = 2, .n_queries = 24};
  Opened o = open_random(9, 4, params, 91);
  const MleCommitment& c = o.committed.commitment();
  auto other = random_table(9, 92);
  const QM31 false_value = evaluate_mle<M31>(other, o.point);
  const size_t rows = size_t{1} << c.log_rows, cols = size_t{1} << c.log_cols();
  auto cpu = make_cpu_sumcheck_backend();
  const auto other_rows = cpu->restrict_rows(other, rows, cols, eq_table(std::span<const QM31>(o.point).first(c.log_rows)));
  // The cheating prover opens honest Merkle paths at the transcript's positions (open() takes the
  // evaluation row from the caller).
  hash::Blake2sChannel cheat;
  mix_commitment(cheat, c);
  auto bad = o.committed.open(o.point, false_value, cheat, *cpu, &other_rows);
  auto r = verify(c, o.point, false_value, bad);
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->find("fails the row check"), std::string::npos) << *r;
  // And a proof made by the honest prover for a false value fails on the value check.
  hash::Blake2sChannel channel;
  mix_commitment(channel, c);
  auto lie = o.committed.open(o.point, false_value, channel);
  auto r2 = verify(c, o.point, false_value, lie);
  ASSERT_TRUE(r2.has_value());
  EXPECT_NE(r2->find("claimed value"), std::string::npos) << *r2;
}

TEST(MleCommitment, BadParametersAreUsageErrors) {
  EXPECT_THROW(CommittedMle::commit(random_table(4, 1), 4), Error);                       // no column variable
  EXPECT_THROW(CommittedMle::commit(random_table(4, 1), 1, {.log_blowup = 2, .n_queries = 100}), Error);  // 32 symbols
  EXPECT_THROW(CommittedMle::commit(std::vector<M31>(3), 0), Error);                      // not a power of two
  EXPECT_THROW(CommittedMle::commit(random_table(16, 1), 2, {.log_blowup = 2, .n_queries = 1025}), Error);  // > 1024
}

// A forged commitment asking for millions of queries is refused before any is drawn (the fuzzer
// found the verifier sampling 2^23 distinct positions; corpus file regression-many-queries-timeout).
TEST(MleCommitment, ForgedQueryCountIsRefusedCheaply) {
  const MleCommitmentParams params{.log_blowup = 2, .n_queries = 24};
  Opened o = open_random(9, 4, params, 78);
  MleCommitment c = o.committed.commitment();
  c.n_queries = 1u << 23;
  const auto r = verify(c, o.point, o.value, o.proof);
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->find("queries"), std::string::npos) << *r;
  c = o.committed.commitment();
  auto fewer = o.proof;
  fewer.queried_values.pop_back();
  const auto r2 = verify(c, o.point, o.value, fewer);
  ASSERT_TRUE(r2.has_value());
  EXPECT_NE(r2->find("opened values"), std::string::npos) << *r2;
}

// Two commitments of one table (different storage or backend): the same root, the same opening at
// `point` byte for byte and the same transcript after it; the second's opening verifies.
void expect_same_commitment_and_opening(const CommittedMle& reference, const CommittedMle& other,
                                        const std::vector<QM31>& point) {
  ASSERT_EQ(other.commitment().root, reference.commitment().root);
  const QM31 value = reference.evaluate(point);
  hash::Blake2sChannel c1, c2;
  mix_commitment(c1, reference.commitment());
  mix_commitment(c2, other.commitment());
  const MleOpeningProof a = reference.open(point, value, c1), b = other.open(point, value, c2);
  EXPECT_EQ(a.proximity_row, b.proximity_row);
  EXPECT_EQ(a.evaluation_row, b.evaluation_row);
  EXPECT_EQ(a.queried_values, b.queried_values);
  EXPECT_EQ(a.decommitment, b.decommitment);
  EXPECT_EQ(c1.digest(), c2.digest());
  EXPECT_FALSE(verify(other.commitment(), point, value, b).has_value());
}

// A commitment that drops its encoding after the commit (MleEncodingStorage::Recomputed: the
// weights') re-encodes at the opening: the same root and the same opening, byte for byte, at
// sizes with and without unstored Merkle layers, with fewer rows than a Blake2s block (1, 2, 4, 8),
// a multiple of it (32, 64), and several row batches (512 rows of a 2^15-symbol code: 2 batches).
TEST(MleCommitment, RecomputedEncodingGivesTheSameOpening) {
  const MleCommitmentParams params{.log_blowup = 2, .n_queries = 24};
  for (const auto& [n, log_rows] : {std::pair{6u, 1u}, std::pair{11u, 3u}, std::pair{16u, 6u}, std::pair{5u, 0u},
                                    std::pair{8u, 2u}, std::pair{12u, 5u}, std::pair{22u, 9u}}) {
    SCOPED_TRACE("n_vars " + std::to_string(n));
    const CommittedMle kept = CommittedMle::commit(random_table(n, 90 + n), log_rows, params, 1);
    const CommittedMle dropped =
        CommittedMle::commit(random_table(n, 90 + n), log_rows, params, 1, MleEncodingStorage::Recomputed);
    expect_same_commitment_and_opening(kept, dropped, random_point(n, 7 + n));
  }
}

// A commitment encoded and hashed on a STARK backend (commit_on; here the CPU backend, the CUDA
// backend under host-sim in tests/cuda/common/zkml_block_backend_test.cpp) has commit()'s root and
// opening, byte for byte, with one row and with many.
TEST(MleCommitment, CommitOnAStarkBackendGivesTheSameCommitmentAndOpening) {
  const MleCommitmentParams params{.log_blowup = 2, .n_queries = 24};
  const auto stark = make_cpu_backend();
  for (const auto& [n, log_rows] : {std::pair{6u, 1u}, std::pair{5u, 0u}, std::pair{12u, 5u}, std::pair{16u, 6u}}) {
    SCOPED_TRACE("n_vars " + std::to_string(n));
    const CommittedMle host = CommittedMle::commit(random_table(n, 40 + n), log_rows, params, 1);
    const CommittedMle on = CommittedMle::commit_on(*stark, random_table(n, 40 + n), log_rows, params);
    expect_same_commitment_and_opening(host, on, random_point(n, 3 + n));
  }
  EXPECT_THROW(CommittedMle::commit_on(*stark, random_table(6, 1), 6, params), Error) << "no column variable";
}

// A tree from leaf hashes (what the Recomputed commitment builds) has commit()'s root and
// openings, reading only the queried positions; bad leaf counts and unqueried reads are refused.
TEST(MleCommitment, MerkleTreeFromLeafHashesMatchesCommit) {
  for (const uint32_t log_size : {0u, 3u, 4u, 9u}) {
    SCOPED_TRACE("log size " + std::to_string(log_size));
    std::vector<std::vector<M31>> columns;
    for (int c = 0; c < 19; ++c) columns.push_back(random_table(log_size, 40 + c));
    const std::vector<std::span<const M31>> spans(columns.begin(), columns.end());
    const hash::MerkleTree committed = hash::MerkleTree::commit(spans, 1);
    std::vector<hash::Blake2sHash> leaves;
    for (size_t j = 0; j < columns[0].size(); ++j) {
      std::vector<M31> values;
      for (const auto& col : columns) values.push_back(col[j]);
      leaves.push_back(hash::merkle_node_hash(std::nullopt, values));
    }
    const hash::MerkleTree tree = hash::MerkleTree::from_leaf_hashes(leaves, columns.size());
    ASSERT_EQ(tree.root(), committed.root());
    hash::QueriesPerLogSize queries;
    queries[log_size] = log_size == 0 ? std::vector<size_t>{0} : std::vector<size_t>{1, 2, (size_t{1} << log_size) - 1};
    const auto expected = committed.decommit(queries);
    size_t reads = 0;
    const auto got = tree.decommit_values(queries, [&](size_t column, size_t position) {
      ++reads;
      EXPECT_TRUE(std::find(queries[log_size].begin(), queries[log_size].end(), position) != queries[log_size].end());
      return columns[column][position];
    });
    EXPECT_EQ(got.queried_values, expected.queried_values);
    EXPECT_EQ(got.decommitment, expected.decommitment);
    EXPECT_EQ(reads, queries[log_size].size() * columns.size());
  }
  EXPECT_THROW(hash::MerkleTree::from_leaf_hashes(std::vector<hash::Blake2sHash>(3), 1), Error);
  EXPECT_THROW(hash::MerkleTree::from_leaf_hashes(std::vector<hash::Blake2sHash>(4), 0), Error);
}

// A tree whose columns were forgotten refuses to open without them, and with a wrong column set.
TEST(MleCommitment, ForgottenMerkleColumnsMustBeGivenAgain) {
  std::vector<std::vector<M31>> columns{random_table(8, 3), random_table(8, 4)};
  hash::MerkleTree tree = hash::MerkleTree::commit({columns[0], columns[1]}, 1);
  const hash::Blake2sHash root = tree.root();
  hash::QueriesPerLogSize queries;
  queries[8] = {3, 77, 200};
  const auto opening = tree.decommit(queries);
  tree.forget_columns();
  EXPECT_EQ(tree.root(), root);
  EXPECT_THROW(tree.decommit(queries), Error);
  const std::vector<std::span<const M31>> again{columns[0], columns[1]};
  const auto reopened = tree.decommit(queries, again);
  EXPECT_EQ(reopened.queried_values, opening.queried_values);
  EXPECT_EQ(reopened.decommitment, opening.decommitment);
  const std::vector<std::span<const M31>> one{columns[0]};
  EXPECT_THROW(tree.decommit(queries, one), Error);
  const std::vector<std::span<const M31>> short_column{columns[0], std::span<const M31>(columns[1]).first(128)};
  EXPECT_THROW(tree.decommit(queries, short_column), Error);
}

}  // namespace
}  // namespace ptvm::sumcheck

namespace ptvm::sumcheck {
namespace {

// An opening that reads the table from resident values made once (a model's weights) is the
// opening that uploads it itself; resident values of another size are a Usage error.
TEST(MleCommitment, OpeningFromResidentValuesIsTheSame) {
  auto cpu = make_cpu_sumcheck_backend();
  const CommittedMle committed = CommittedMle::commit(random_table(10, 31), 4, {}, 1);
  const auto point = random_point(10, 32);
  const QM31 value = committed.evaluate(point);
  const auto resident = cpu->upload_matrix(committed.table());
  hash::Blake2sChannel c1, c2;
  const MleOpeningProof a = committed.open(point, value, c1, *cpu);
  const MleOpeningProof b = committed.open(point, value, c2, *cpu, nullptr, resident.get());
  EXPECT_EQ(a.proximity_row, b.proximity_row);
  EXPECT_EQ(a.evaluation_row, b.evaluation_row);
  EXPECT_EQ(c1.digest(), c2.digest());
  const auto half = cpu->upload_matrix(committed.table().first(512));
  hash::Blake2sChannel c3;
  try {
    committed.open(point, value, c3, *cpu, nullptr, half.get());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Usage);
    EXPECT_NE(std::string(e.what()).find("resident values of 512"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ptvm::sumcheck
