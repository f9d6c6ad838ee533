// GKR against direct circuit evaluation; LogUp-GKR on balanced and unbalanced lookups; tampering.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <vector>

#include "ptvm/sumcheck/gkr.hpp"
#include "ptvm/sumcheck/logup_gkr.hpp"
#include "ptvm/sumcheck/mle.hpp"
#include "random_values.hpp"

namespace ptvm::sumcheck {
namespace {

using test::random_qm31;


TEST(Gkr, MixedAddMulCircuitsMatchDirectEvaluation) {
  const std::vector<std::vector<GkrGate>> circuits = {
      {GkrGate::Mul},
      {GkrGate::Add},
      {GkrGate::Mul, GkrGate::Add, GkrGate::Mul, GkrGate::Mul},
      {GkrGate::Add, GkrGate::Add, GkrGate::Mul, GkrGate::Add, GkrGate::Mul},
  };
  uint64_t seed = 1;
  for (const auto& gates : circuits)
    for (uint32_t n_out : {0u, 2u}) {
      GkrCircuit circuit{gates, n_out};
      std::mt19937_64 rng(seed++);
      std::vector<std::vector<QM31>> input = {random_qm31(size_t{1} << circuit.n_input_vars(), rng)};
      const auto layers = evaluate_gkr_circuit(circuit, input);
      // The direct evaluation by definition: a grand product / sum over each block of the input.
      if (gates.size() == 1 && n_out == 0) {
        EXPECT_EQ(layers[0][0][0], gates[0] == GkrGate::Mul ? input[0][0] * input[0][1] : input[0][0] + input[0][1]);
      }
      Blake2sChannel pc;
      auto out = prove_gkr(circuit, input, pc);
      EXPECT_EQ(out.proof.output, layers[0]);
      Blake2sChannel vc;
      auto v = verify_gkr(circuit, out.proof, vc);
      ASSERT_TRUE(v.accepted) << v.reason;
      EXPECT_EQ(vc.digest(), pc.digest());
      EXPECT_EQ(v.input_point, out.input_point);
      // The claim left is the input MLE at the point.
      EXPECT_EQ(v.input_claims[0], evaluate_mle<QM31>(input[0], v.input_point));
    }
}

TEST(Gkr, GrandProductOfEightIsTheProduct) {
  std::mt19937_64 rng(9);
  auto input = random_qm31(8, rng);
  QM31 prod = QM31::one();
  for (auto x : input) prod *= x;
  GkrCircuit circuit{{GkrGate::Mul, GkrGate::Mul, GkrGate::Mul}, 0};
  Blake2sChannel c;
  auto out = prove_gkr(circuit, {input}, c);
  EXPECT_EQ(out.proof.output[0][0], prod);
}

TEST(Gkr, TamperedProofsAreRejected) {
  GkrCircuit circuit{{GkrGate::Fraction, GkrGate::Fraction, GkrGate::Fraction, GkrGate::Fraction}, 1};
  std::mt19937_64 rng(3);
  const size_t n = size_t{1} << circuit.n_input_vars();
  std::vector<std::vector<QM31>> input = {random_qm31(n, rng), random_qm31(n, rng)};
  Blake2sChannel pc;
  const GkrProof proof = prove_gkr(circuit, input, pc).proof;
  auto verify = [&](const GkrProof& p) {
    Blake2sChannel vc;
    auto v = verify_gkr(circuit, p, vc);
    if (!v.accepted) return v;
    // The input claims discharged against the input (what a caller does).
    for (size_t c = 0; c < 2; ++c)
      if (v.input_claims[c] != evaluate_mle<QM31>(input[c], v.input_point)) {
        v.accepted = false;
        v.reason = "input claim";
      }
    return v;
  };
  ASSERT_TRUE(verify(proof).accepted);
  const QM31 delta = QM31::from_u32(0, 1, 0, 0);
  size_t cases = 0;
  for (size_t c = 0; c < proof.output.size(); ++c)
    for (size_t i = 0; i < proof.output[c].size(); ++i) {
      auto bad = proof;
      bad.output[c][i] += delta;
      EXPECT_FALSE(verify(bad).accepted) << "output " << c << "," << i;
      ++cases;
    }
  for (size_t l = 0; l < proof.layers.size(); ++l) {
    for (size_t r = 0; r < proof.layers[l].sumcheck.rounds.size(); ++r)
      for (size_t k = 0; k < proof.layers[l].sumcheck.rounds[r].coefficients.size(); ++k) {
        auto bad = proof;
        bad.layers[l].sumcheck.rounds[r].coefficients[k] += delta;
        auto v = verify(bad);
        EXPECT_FALSE(v.accepted) << "layer " << l << " round " << r << " coefficient " << k;
        EXPECT_FALSE(v.reason.empty());
        ++cases;
      }
    for (size_t j = 0; j < proof.layers[l].final_values.size(); ++j) {
      auto bad = proof;
      bad.layers[l].final_values[j] += delta;
      EXPECT_FALSE(verify(bad).accepted) << "layer " << l << " mask " << j;
      ++cases;
    }
  }
  EXPECT_GT(cases, 40u);
  auto bad = proof;
  bad.layers.pop_back();
  EXPECT_FALSE(verify(bad).accepted);
  bad = proof;
  bad.output[1].clear();
  EXPECT_FALSE(verify(bad).accepted);
  // A malformed circuit is a rejection with a reason, not an exception.
  Blake2sChannel vc;
  auto v = verify_gkr(GkrCircuit{{GkrGate::Fraction, GkrGate::Mul}, 0}, proof, vc);
  EXPECT_FALSE(v.accepted);
  EXPECT_FALSE(v.reason.empty());
}

TEST(LogupGkr, FractionSumMatchesDirectSum) {
  std::mt19937_64 rng(4);
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{8}, size_t{13}, size_t{64}}) {
    FractionColumns f{random_qm31(n, rng), random_qm31(n, rng)};
    QM31 direct = QM31::zero();
    for (size_t i = 0; i < n; ++i) direct += f.numerators[i] * f.denominators[i].inverse();
    Blake2sChannel pc;
    auto out = prove_fraction_sum(f, pc);
    Blake2sChannel vc;
    auto v = verify_fraction_sum(out.n_vars, out.proof, vc);
    ASSERT_TRUE(v.accepted) << v.reason;
    EXPECT_EQ(v.sum, direct) << "n=" << n;
    f.numerators.resize(size_t{1} << out.n_vars, QM31::zero());
    f.denominators.resize(size_t{1} << out.n_vars, QM31::one());
    EXPECT_EQ(v.numerator_claim, evaluate_mle<QM31>(f.numerators, v.point));
    EXPECT_EQ(v.denominator_claim, evaluate_mle<QM31>(f.denominators, v.point));
  }
}

LookupColumns range_lookup(size_t n_values, uint32_t table_size, uint64_t seed) {
  // Pairs (x, x^2 mod 97) looked up in the table of all (t, t^2 mod 97), t < table_size.
  std::mt19937_64 rng(seed);
  LookupColumns c;
  c.values.resize(2);
  c.table.resize(2);
  c.multiplicities.assign(table_size, M31::zero());
  for (uint32_t t = 0; t < table_size; ++t) {
    c.table[0].push_back(M31::from_u32(t));
    c.table[1].push_back(M31::from_u32(t * t % 97));
  }
  for (size_t i = 0; i < n_values; ++i) {
    const uint32_t x = uint32_t(rng() % table_size);
    c.values[0].push_back(M31::from_u32(x));
    c.values[1].push_back(M31::from_u32(x * x % 97));
    c.multiplicities[x] += M31::one();
  }
  return c;
}

TEST(LogupGkr, BalancedLookupVerifiesUnbalancedIsRejected) {
  for (auto [n_values, table_size] : {std::pair<size_t, uint32_t>{1, 1}, {5, 8}, {100, 16}, {64, 64}}) {
    LookupColumns c = range_lookup(n_values, table_size, n_values);
    Blake2sChannel pc;
    auto proof = prove_lookup(c, pc);
    Blake2sChannel vc;
    auto v = verify_lookup(c, proof, vc);
    EXPECT_TRUE(v.accepted) << v.reason;
    EXPECT_EQ(vc.digest(), pc.digest());

    // A value outside the table (its tuple broken), proven honestly: unbalanced.
    LookupColumns bad = c;
    bad.values[1][0] += M31::one();
    Blake2sChannel pc2;
    auto bad_proof = prove_lookup(bad, pc2);
    Blake2sChannel vc2;
    auto v2 = verify_lookup(bad, bad_proof, vc2);
    EXPECT_FALSE(v2.accepted);
    EXPECT_NE(v2.reason.find("unbalanced"), std::string::npos) << v2.reason;
    // A wrong multiplicity: unbalanced too.
    LookupColumns bad_m = c;
    bad_m.multiplicities[0] += M31::one();
    Blake2sChannel pc3, vc3;
    auto v3 = verify_lookup(bad_m, prove_lookup(bad_m, pc3), vc3);
    EXPECT_FALSE(v3.accepted);
    EXPECT_NE(v3.reason.find("unbalanced"), std::string::npos) << v3.reason;
    // The honest proof of c presented for other columns: rejected.
    Blake2sChannel vc4;
    EXPECT_FALSE(verify_lookup(bad, proof, vc4).accepted);
  }
}

TEST(LogupGkr, ForgedRootIsRejected) {
  // A prover that reports a zero numerator for an unbalanced lookup fails the layer checks.
  LookupColumns c = range_lookup(20, 8, 7);
  c.values[0][3] += M31::one();
  Blake2sChannel pc;
  auto proof = prove_lookup(c, pc);
  proof.gkr.output[0][0] = QM31::zero();
  Blake2sChannel vc;
  auto v = verify_lookup(c, proof, vc);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("gkr layer 0"), std::string::npos) << v.reason;
}

// The input given as a function (chunks of it generated twice, never held beside the layer above
// it) gives the proof of the materialised input, byte for byte: depths 1, 2, 3 and one above the
// generator's chunk (2^14 entries per half), Fraction and Mul circuits.
// With a small max_table_log the layers next to the input are not held at all (each a function of
// the input, its sumcheck streamed: streamed_sumcheck.hpp): still the same proof.
TEST(Gkr, GeneratedInputGivesTheSameProof) {
  std::mt19937_64 rng(2027);
  struct Case {
    uint32_t n, max_table_log;
  };
  const Case cases[] = {{1, 0}, {2, 0}, {3, 0}, {16, 0}, {2, 1}, {3, 1}, {5, 1}, {5, 2}, {7, 2}, {8, 3}, {9, 1}, {16, 11}};
  for (const auto [n, max_table_log] : cases) {
    for (const GkrGate gate : {GkrGate::Fraction, GkrGate::Mul}) {
      SCOPED_TRACE("n " + std::to_string(n) + " max_table_log " + std::to_string(max_table_log) +
                   (gate == GkrGate::Fraction ? " fraction" : " mul"));
      GkrCircuit circuit;
      circuit.gates.assign(n, gate);
      const size_t size = size_t{1} << n;
      std::vector<std::vector<QM31>> input;
      for (size_t c = 0; c < circuit.n_columns(); ++c) input.push_back(random_qm31(size, rng));
      std::atomic<size_t> generated{0};  // the fill is called from several threads
      const GkrInputFill fill = [&](size_t begin, size_t end, QM31* const* cols) {
        ASSERT_LE(end, size);
        generated += end - begin;
        for (size_t c = 0; c < input.size(); ++c)
          for (size_t x = begin; x < end; ++x) cols[c][x - begin] = input[c][x];
      };
      Blake2sChannel c1, c2;
      const GkrProverOutput a = prove_gkr(circuit, input, c1);
      const GkrProverOutput b = prove_gkr(circuit, fill, c2, default_sumcheck_backend(), max_table_log);
      if (max_table_log == 0 || n <= max_table_log + 1)
        EXPECT_EQ(generated.load(), 2 * size);  // once for the layer above, once for the input's sumcheck
      else
        EXPECT_GT(generated.load(), 2 * size);  // streamed rounds: more passes, less memory
      ASSERT_EQ(a.proof.layers.size(), b.proof.layers.size());
      EXPECT_EQ(a.proof.output, b.proof.output);
      for (size_t l = 0; l < a.proof.layers.size(); ++l) {
        EXPECT_EQ(a.proof.layers[l].final_values, b.proof.layers[l].final_values);
        ASSERT_EQ(a.proof.layers[l].sumcheck.rounds.size(), b.proof.layers[l].sumcheck.rounds.size());
        for (size_t r = 0; r < a.proof.layers[l].sumcheck.rounds.size(); ++r)
          EXPECT_EQ(a.proof.layers[l].sumcheck.rounds[r].coefficients, b.proof.layers[l].sumcheck.rounds[r].coefficients);
      }
      EXPECT_EQ(a.input_point, b.input_point);
      EXPECT_EQ(a.input_claims, b.input_claims);
      EXPECT_EQ(c1.draw_felt(), c2.draw_felt());
    }
  }
}

}  // namespace
}  // namespace ptvm::sumcheck
