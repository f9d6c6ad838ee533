// LogUp-GKR over committed columns: a range check and a two-column nibble table batched in one
// proof; unbalanced lookups, wrong multiplicities, tampered evaluations and openings rejected.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/sumcheck/committed_lookup.hpp"
#include "ptvm/sumcheck/mle.hpp"

namespace ptvm::sumcheck {
namespace {

const MleCommitmentParams kParams{.log_blowup = 2, .n_queries = 16};

std::unique_ptr<CommittedMle> commit(std::vector<M31> column) {
  const uint32_t n = log2_table_size(column.size(), "test");
  const uint32_t log_rows = default_log_rows(n);
  MleCommitmentParams params = kParams; // a small code has fewer symbols than queries
  params.n_queries = std::min<uint32_t>(params.n_queries, 1u << (n - log_rows + params.log_blowup));
  return std::make_unique<CommittedMle>(
      CommittedMle::commit(std::move(column), log_rows, params, 1));
}

// Owns the committed columns of one instance.
struct Instance {
  std::vector<std::unique_ptr<CommittedMle>> values;
  std::unique_ptr<CommittedMle> multiplicities;
  std::vector<std::vector<M31>> table;
  CommittedLookupWitness witness() const {
    CommittedLookupWitness w;
    for (const auto& v : values)
      w.values.push_back(v.get());
    w.multiplicities = multiplicities.get();
    w.table = table;
    return w;
  }
};

// Looked-up tuples (k columns) against `table`; multiplicities counted, plus one at adjust_row.
Instance make_instance(const std::vector<std::vector<M31>>& value_columns,
                       const std::vector<std::vector<M31>>& table, int64_t adjust_row = -1) {
  Instance in;
  in.table = table;
  std::vector<M31> m(table[0].size(), M31());
  for (size_t r = 0; r < value_columns[0].size(); ++r)
    for (size_t t = 0; t < table[0].size(); ++t) {
      bool eq = true;
      for (size_t j = 0; j < table.size(); ++j)
        eq = eq && table[j][t] == value_columns[j][r];
      if (eq) {
        m[t] += M31::one();
        break;
      }
    }
  if (adjust_row >= 0)
    m[size_t(adjust_row)] += M31::one();
  for (const auto& col : value_columns)
    in.values.push_back(commit(col));
  in.multiplicities = commit(std::move(m));
  return in;
}

std::vector<std::vector<M31>> range_table() {
  std::vector<M31> t(256);
  for (uint32_t i = 0; i < 256; ++i)
    t[i] = M31::from_u32(i);
  return {t};
}
std::vector<std::vector<M31>> nibble_pair_table() {
  std::vector<M31> a(256), b(256);
  for (uint32_t i = 0; i < 256; ++i) {
    a[i] = M31::from_u32(i >> 4);
    b[i] = M31::from_u32(i & 15);
  }
  return {a, b};
}

struct Fixture {
  Instance range, pairs;
  Fixture(bool unbalanced = false, int64_t wrong_multiplicity_row = -1) {
    std::mt19937_64 rng(5);
    std::vector<M31> bytes(64);
    for (auto& x : bytes)
      x = M31::from_u32(uint32_t(rng() % 256));
    if (unbalanced)
      bytes[3] = M31::from_u32(256); // outside the range
    range = make_instance({bytes}, range_table(), wrong_multiplicity_row);
    std::vector<M31> hi(32), lo(32);
    for (size_t i = 0; i < 32; ++i) {
      hi[i] = M31::from_u32(uint32_t(rng() % 16));
      lo[i] = M31::from_u32(uint32_t(rng() % 16));
    }
    pairs = make_instance({hi, lo}, nibble_pair_table());
  }
  std::vector<CommittedLookupWitness> witnesses() const {
    return {range.witness(), pairs.witness()};
  }
  std::vector<CommittedLookupStatement> statements() const {
    return {statement_of(range.witness()), statement_of(pairs.witness())};
  }
  CommittedLookupProof prove() const {
    Blake2sChannel c;
    const auto w = witnesses();
    return prove_committed_lookups(w, c);
  }
  CommittedLookupVerdict verify(const CommittedLookupProof& p) const {
    Blake2sChannel c;
    const auto s = statements();
    return verify_committed_lookups(s, p, c);
  }
};

TEST(CommittedLookup, BalancedBatchVerifies) {
  const Fixture f;
  const auto proof = f.prove();
  const auto v = f.verify(proof);
  EXPECT_TRUE(v.accepted) << v.reason;
  // One instance alone.
  Blake2sChannel pc, vc;
  const std::vector<CommittedLookupWitness> one = {f.pairs.witness()};
  const auto p1 = prove_committed_lookups(one, pc);
  const std::vector<CommittedLookupStatement> s1 = {statement_of(one[0])};
  EXPECT_TRUE(verify_committed_lookups(s1, p1, vc).accepted);
  EXPECT_EQ(pc.digest(), vc.digest());
}

TEST(CommittedLookup, SmallTableAndEqualBlocks) {
  // Table of 2 rows (0, 1), 4 looked-up bits; and values of the table's size.
  const std::vector<M31> bits = {M31::one(), M31(), M31::one(), M31::one()};
  const Instance a = make_instance({bits}, {{M31(), M31::one()}});
  const Instance b =
      make_instance({{M31::from_u32(3), M31::from_u32(1)}}, {{M31::from_u32(1), M31::from_u32(3)}});
  const std::vector<CommittedLookupWitness> w = {a.witness(), b.witness()};
  Blake2sChannel pc, vc;
  const auto proof = prove_committed_lookups(w, pc);
  const std::vector<CommittedLookupStatement> s = {statement_of(w[0]), statement_of(w[1])};
  const auto v = verify_committed_lookups(s, proof, vc);
  EXPECT_TRUE(v.accepted) << v.reason;
}

TEST(CommittedLookup, UnbalancedAndWrongMultiplicityAreRejected) {
  {
    const Fixture f(/*unbalanced=*/true);
    const auto v = f.verify(f.prove());
    EXPECT_FALSE(v.accepted);
    EXPECT_NE(v.reason.find("unbalanced"), std::string::npos) << v.reason;
  }
  {
    const Fixture f(false, /*wrong_multiplicity_row=*/17);
    const auto v = f.verify(f.prove());
    EXPECT_FALSE(v.accepted);
    EXPECT_NE(v.reason.find("unbalanced"), std::string::npos) << v.reason;
  }
}

TEST(CommittedLookup, TamperedProofsAreRejected) {
  const Fixture f;
  const auto proof = f.prove();
  ASSERT_TRUE(f.verify(proof).accepted);
  const QM31 one(M31::one());
  auto expect_rejected = [&](const CommittedLookupProof& bad, const char* what,
                             const char* reason_part) {
    const auto v = f.verify(bad);
    EXPECT_FALSE(v.accepted) << what;
    EXPECT_NE(v.reason.find(reason_part), std::string::npos) << what << ": " << v.reason;
  };
  for (size_t i = 0; i < 2; ++i) {
    for (size_t j = 0; j < proof.instances[i].value_evaluations.size(); ++j) {
      auto bad = proof;
      bad.instances[i].value_evaluations[j] += one;
      expect_rejected(bad, "value evaluation", "input claims");
    }
    auto bad = proof;
    bad.instances[i].multiplicity_evaluation += one;
    expect_rejected(bad, "multiplicity evaluation", "input claims");
    bad = proof;
    bad.instances[i].value_openings[0].evaluation_row[0] += one;
    expect_rejected(bad, "value opening row", "value column 0");
    bad = proof;
    bad.instances[i].value_openings[0].queried_values[1] += M31::one();
    expect_rejected(bad, "value opening column", "value column 0");
    bad = proof;
    bad.instances[i].multiplicity_opening.proximity_row[2] += one;
    expect_rejected(bad, "multiplicity opening", "multiplicities");
    bad = proof;
    bad.instances[i].multiplicity_opening.decommitment.hash_witness[0].bytes[0] ^= 1;
    expect_rejected(bad, "multiplicity merkle", "multiplicities");
  }
  auto bad = proof;
  bad.gkr.layers[2].sumcheck.rounds[0].coefficients[1] += one;
  expect_rejected(bad, "gkr round", "logup-gkr");
  bad = proof;
  bad.gkr.output[0][0] += one;
  expect_rejected(bad, "gkr output", "");
  bad = proof;
  bad.instances.pop_back();
  expect_rejected(bad, "missing instance", "instances");
  // Another statement with the same proof: a commitment swapped.
  auto s = f.statements();
  std::swap(s[1].values[0], s[1].values[1]);
  Blake2sChannel c;
  EXPECT_FALSE(verify_committed_lookups(s, proof, c).accepted);
}

TEST(CommittedLookup, MalformedInstancesAreRefused) {
  const Fixture f;
  auto w = f.witnesses();
  w[0].table.push_back(w[0].table[0]); // two table columns, one value column
  Blake2sChannel c;
  EXPECT_THROW(prove_committed_lookups(w, c), Error);
  auto s = f.statements();
  s[1].table[0].pop_back();
  Blake2sChannel vc;
  const auto v = verify_committed_lookups(s, f.prove(), vc);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("instance 1"), std::string::npos) << v.reason;
}

} // namespace
} // namespace ptvm::sumcheck
