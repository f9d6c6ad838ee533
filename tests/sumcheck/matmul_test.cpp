// Matrix products by sumcheck: prove -> verify -> discharge the operand claims against the public
// matrices -> tamper (a changed entry of C, every claim and round coefficient, the final values).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ptvm/sumcheck/matmul.hpp"
#include "ptvm/sumcheck/mle.hpp"

namespace ptvm::sumcheck {
namespace {

std::vector<M31> random_matrix(size_t rows, size_t cols, std::mt19937_64& rng) {
  std::vector<M31> v(rows * cols);
  for (auto& x : v) x = M31::from_u64(rng());
  return v;
}

struct Batch {
  MatmulStatement statement;
  std::vector<std::vector<M31>> operand_values, output_values;
  std::vector<MatrixView> operands() const {
    std::vector<MatrixView> out;
    for (size_t o = 0; o < operand_values.size(); ++o)
      out.push_back({operand_values[o], statement.operands[o].rows, statement.operands[o].cols});
    return out;
  }
  std::vector<MatrixView> outputs() const {
    std::vector<MatrixView> out;
    for (size_t t = 0; t < output_values.size(); ++t)
      out.push_back({output_values[t], statement.operands[statement.products[t].left].rows,
                     statement.operands[statement.products[t].right].cols});
    return out;
  }
};

Batch make_batch(std::vector<MatrixShape> shapes, std::vector<MatmulProductIndices> products, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Batch b;
  b.statement = {shapes, products};
  for (const auto& s : shapes) b.operand_values.push_back(random_matrix(s.rows, s.cols, rng));
  auto ops = b.operands();
  for (const auto& p : products) b.output_values.push_back(multiply_m31(ops[p.left], ops[p.right]));
  return b;
}

// The statement bound first, as the protocol asks: every public matrix into the channel.
void bind(Blake2sChannel& channel, const Batch& b) {
  for (const auto& m : b.operands()) mix_public_matrix(channel, m);
  for (const auto& m : b.outputs()) mix_public_matrix(channel, m);
}

// Verifies and discharges every claim against the public matrices; "" when all hold.
std::string verify_public(const Batch& b, const MatmulProof& proof) {
  Blake2sChannel channel;
  bind(channel, b);
  auto v = verify_matmul(b.statement, proof, channel);
  if (!v.accepted) return v.reason;
  auto ops = b.operands();
  auto outs = b.outputs();
  for (size_t t = 0; t < outs.size(); ++t)
    if (auto r = check_public_claim(v.claims.products[t], outs[t], "C"); !r.empty()) return r;
  for (size_t o = 0; o < ops.size(); ++o) {
    if (v.claims.is_left[o])
      if (auto r = check_public_claim(v.claims.left_operands[o], ops[o], "left operand"); !r.empty()) return r;
    if (v.claims.is_right[o])
      if (auto r = check_public_claim(v.claims.right_operands[o], ops[o], "right operand"); !r.empty()) return r;
  }
  return {};
}

MatmulProverOutput prove(const Batch& b, Blake2sChannel& channel) {
  bind(channel, b);
  auto ops = b.operands();
  auto outs = b.outputs();
  return prove_matmul(b.statement, ops, outs, channel);
}

TEST(Matmul, MultiplyM31MatchesNaive) {
  std::mt19937_64 rng(1);
  auto a = random_matrix(4, 8, rng), bm = random_matrix(8, 2, rng);
  auto c = multiply_m31({a, 4, 8}, {bm, 8, 2});
  for (size_t i = 0; i < 4; ++i)
    for (size_t j = 0; j < 2; ++j) {
      M31 s = M31::zero();
      for (size_t k = 0; k < 8; ++k) s += a[i * 8 + k] * bm[k * 2 + j];
      EXPECT_EQ(c[i * 2 + j], s);
    }
}

TEST(Matmul, MatrixMleMatchesFlatMle) {
  std::mt19937_64 rng(2);
  for (auto [r, c] : {std::pair<size_t, size_t>{1, 8}, {8, 1}, {4, 16}, {16, 4}, {1, 1}}) {
    auto m = random_matrix(r, c, rng);
    std::vector<QM31> point;
    unsigned n = 0;
    while ((size_t{1} << n) < r * c) ++n;
    for (unsigned i = 0; i < n; ++i) point.push_back(QM31::from_u32(uint32_t(rng() % M31::P), 3, 5, i));
    unsigned lr = 0;
    while ((size_t{1} << lr) < r) ++lr;
    std::span<const QM31> p(point);
    EXPECT_EQ(evaluate_matrix_mle({m, r, c}, p.first(lr), p.subspan(lr)), evaluate_mle<M31>(m, point))
        << r << "x" << c;
  }
}

TEST(Matmul, SingleProductsOfManyShapesVerify) {
  const size_t dims[][3] = {{1, 2, 1}, {4, 8, 1}, {1, 16, 8}, {8, 4, 16}, {16, 32, 2}, {2, 2, 2}};
  uint64_t seed = 10;
  for (const auto& d : dims) {
    Batch b = make_batch({{d[0], d[1]}, {d[1], d[2]}}, {{0, 1}}, seed++);
    Blake2sChannel channel;
    auto out = prove(b, channel);
    EXPECT_EQ(verify_public(b, out.proof), "") << d[0] << "x" << d[1] << "x" << d[2];
    // The prover's claims are the true MLE values.
    EXPECT_EQ(check_public_claim(out.claims.left_operands[0], b.operands()[0], "A"), "");
    EXPECT_EQ(check_public_claim(out.claims.right_operands[1], b.operands()[1], "B"), "");
    EXPECT_EQ(out.proof.sumcheck.sumcheck.rounds.size(), [&] { unsigned l = 0; while ((size_t{1} << l) < d[1]) ++l; return l; }());
  }
}

TEST(Matmul, BatchesSharingAnOperand) {
  // Q, K, V = X Wq, X Wk, X Wv: one left operand shared, one claim on X.
  Batch shared_left = make_batch({{4, 16}, {16, 8}, {16, 8}, {16, 2}}, {{0, 1}, {0, 2}, {0, 3}}, 30);
  Blake2sChannel c1;
  auto out1 = prove(shared_left, c1);
  EXPECT_EQ(verify_public(shared_left, out1.proof), "");
  EXPECT_EQ(out1.proof.sumcheck.final_values.size(), 4u);  // X~, Wq~, Wk~, Wv~
  // W x1, ..., W x3 with one weight on the right... and a product with an operand on both sides.
  Batch shared_right = make_batch({{2, 8}, {4, 8}, {8, 8}}, {{0, 2}, {1, 2}, {2, 2}}, 31);
  Blake2sChannel c2;
  auto out2 = prove(shared_right, c2);
  EXPECT_EQ(verify_public(shared_right, out2.proof), "");
  EXPECT_TRUE(out2.claims.is_left[2] && out2.claims.is_right[2]);
}

TEST(Matmul, WrongProductIsRejected) {
  Batch b = make_batch({{8, 16}, {16, 4}}, {{0, 1}}, 40);
  Blake2sChannel c;
  auto honest = prove(b, c);
  ASSERT_EQ(verify_public(b, honest.proof), "");
  for (size_t entry : {size_t{0}, size_t{5}, size_t{31}}) {
    Batch wrong = b;
    wrong.output_values[0][entry] += M31::one();
    // The honest proof against the changed public C: the claim on C no longer holds.
    EXPECT_NE(verify_public(wrong, honest.proof), "") << entry;
    // A proof made from the wrong C fails in the first round.
    Blake2sChannel c2;
    auto lie = prove(wrong, c2);
    const std::string reason = verify_public(wrong, lie.proof);
    EXPECT_NE(reason.find("round 0"), std::string::npos) << reason;
  }
}

TEST(Matmul, TamperedProofsAreRejected) {
  Batch b = make_batch({{4, 16}, {16, 8}, {16, 8}}, {{0, 1}, {0, 2}}, 50);
  Blake2sChannel c;
  const MatmulProof proof = prove(b, c).proof;
  ASSERT_EQ(verify_public(b, proof), "");
  const QM31 delta = QM31::from_u32(0, 0, 1, 0);
  for (size_t t = 0; t < proof.product_claims.size(); ++t) {
    auto bad = proof;
    bad.product_claims[t] += delta;
    EXPECT_NE(verify_public(b, bad), "") << "claim " << t;
  }
  for (size_t i = 0; i < proof.sumcheck.sumcheck.rounds.size(); ++i)
    for (size_t k = 0; k < proof.sumcheck.sumcheck.rounds[i].coefficients.size(); ++k) {
      auto bad = proof;
      bad.sumcheck.sumcheck.rounds[i].coefficients[k] += delta;
      EXPECT_NE(verify_public(b, bad), "") << "round " << i << " coefficient " << k;
    }
  for (size_t j = 0; j < proof.sumcheck.final_values.size(); ++j) {
    auto bad = proof;
    bad.sumcheck.final_values[j] += delta;
    EXPECT_NE(verify_public(b, bad), "") << "final value " << j;
  }
  // Consistent final values that lie about an operand pass the sumcheck, and the public check
  // catches them: scale A~(r) up and B~(r) down.
  {
    auto bad = proof;
    const QM31 s = QM31::from_u32(3, 0, 0, 0);
    // Product terms: X~ * W1~ + lambda X~ * W2~; multiply X~ by s and both W~ by 1/s.
    bad.sumcheck.final_values[0] *= s;
    bad.sumcheck.final_values[1] *= s.inverse();
    bad.sumcheck.final_values[2] *= s.inverse();
    const std::string reason = verify_public(b, bad);
    EXPECT_NE(reason.find("public matrix"), std::string::npos) << reason;
  }
  {
    auto bad = proof;
    bad.product_claims.pop_back();
    EXPECT_NE(verify_public(b, bad), "");
  }
}

TEST(Matmul, MalformedStatementsAreRejectedWithAReason) {
  MatmulProof empty;
  auto verdict = [&](MatmulStatement st) {
    Blake2sChannel c;
    return verify_matmul(st, empty, c);
  };
  for (const MatmulStatement& st : {
           MatmulStatement{{{4, 8}, {8, 2}}, {}},              // no product
           MatmulStatement{{{4, 8}, {4, 2}}, {{0, 1}}},        // inner dimensions differ
           MatmulStatement{{{4, 6}, {6, 2}}, {{0, 1}}},        // not a power of two
           MatmulStatement{{{4, 1}, {1, 2}}, {{0, 1}}},        // K = 1
           MatmulStatement{{{4, 8}, {8, 2}}, {{0, 2}}},        // index out of range
       }) {
    auto v = verdict(st);
    EXPECT_FALSE(v.accepted);
    EXPECT_FALSE(v.reason.empty());
  }
  Batch b = make_batch({{4, 8}, {8, 2}}, {{0, 1}}, 60);
  Blake2sChannel pc;
  EXPECT_THROW(prove_matmul({{{4, 8}, {4, 2}}, {{0, 1}}}, b.operands(), b.outputs(), pc), Error);
}

}  // namespace
}  // namespace ptvm::sumcheck

// The deployment shape: the weight A committed ahead of time (mle_commitment.hpp), B and C public.
// The claim on MLE(A) is opened against the commitment; tampering with either proof, or a wrong
// entry of C, is rejected.
#include "ptvm/sumcheck/mle_commitment.hpp"

namespace ptvm::sumcheck {
namespace {

struct CommittedCase {
  Batch batch;
  CommittedMle weight;
};

std::string verify_committed(const CommittedCase& cc, const MatmulProof& proof, const MleOpeningProof& opening) {
  const Batch& b = cc.batch;
  Blake2sChannel channel;
  mix_commitment(channel, cc.weight.commitment());
  mix_public_matrix(channel, b.operands()[1]);
  mix_public_matrix(channel, b.outputs()[0]);
  auto v = verify_matmul(b.statement, proof, channel);
  if (!v.accepted) return v.reason;
  if (auto r = check_public_claim(v.claims.products[0], b.outputs()[0], "C"); !r.empty()) return r;
  if (auto r = check_public_claim(v.claims.right_operands[1], b.operands()[1], "B"); !r.empty()) return r;
  const MleClaim& on_a = v.claims.left_operands[0];
  if (auto r = verify_mle_opening(cc.weight.commitment(), on_a.point, on_a.value, opening, channel)) return *r;
  return {};
}

std::pair<MatmulProof, MleOpeningProof> prove_committed(const CommittedCase& cc) {
  const Batch& b = cc.batch;
  Blake2sChannel channel;
  mix_commitment(channel, cc.weight.commitment());
  mix_public_matrix(channel, b.operands()[1]);
  mix_public_matrix(channel, b.outputs()[0]);
  auto ops = b.operands();
  auto outs = b.outputs();
  auto out = prove_matmul(b.statement, ops, outs, channel);
  const MleClaim& on_a = out.claims.left_operands[0];
  auto opening = cc.weight.open(on_a.point, on_a.value, channel);
  return {std::move(out.proof), std::move(opening)};
}

TEST(Matmul, CommittedWeightIsOpenedAndTamperingIsRejected) {
  Batch b = make_batch({{16, 32}, {32, 2}}, {{0, 1}}, 70);
  CommittedCase cc{b, CommittedMle::commit(b.operand_values[0], 4, {.log_blowup = 2, .n_queries = 40}, 1)};
  auto [proof, opening] = prove_committed(cc);
  ASSERT_EQ(verify_committed(cc, proof, opening), "");
  // The opening's parts.
  auto bad_opening = opening;
  bad_opening.evaluation_row[1] += QM31::one();
  EXPECT_NE(verify_committed(cc, proof, bad_opening), "");
  bad_opening = opening;
  bad_opening.queried_values[3] += M31::one();
  EXPECT_NE(verify_committed(cc, proof, bad_opening), "");
  // The matmul proof's final value on A, changed with B's to keep the sumcheck consistent: only
  // the opening can catch it.
  auto bad_proof = proof;
  const QM31 s = QM31::from_u32(5, 0, 0, 0);
  bad_proof.sumcheck.final_values[0] *= s;
  bad_proof.sumcheck.final_values[1] *= s.inverse();
  EXPECT_NE(verify_committed(cc, bad_proof, opening), "");
  // A wrong entry of C, proven honestly.
  Batch wrong_batch = b;
  wrong_batch.output_values[0][7] += M31::one();
  CommittedCase wrong{wrong_batch, CommittedMle::commit(b.operand_values[0], 4, {.log_blowup = 2, .n_queries = 40}, 1)};
  auto [lie, lie_opening] = prove_committed(wrong);
  EXPECT_NE(verify_committed(wrong, lie, lie_opening), "");
  // Another weight behind the same public B and C: the commitment differs, the proof fails.
  std::mt19937_64 rng(71);
  CommittedCase other{b, CommittedMle::commit(random_matrix(16, 32, rng), 4, {.log_blowup = 2, .n_queries = 40}, 1)};
  EXPECT_NE(verify_committed(other, proof, opening), "");
}

}  // namespace
}  // namespace ptvm::sumcheck
