// GKR for arbitrarily wired layered circuits: against direct evaluation on random circuits,
// tampering of every round coefficient, final value and output; wrong inputs; malformed circuits.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/sumcheck/layered_gkr.hpp"
#include "ptvm/sumcheck/mle.hpp"
#include "random_values.hpp"

namespace ptvm::sumcheck {
namespace {

using test::random_qm31;


// widths[0] = outputs, ..., widths.back() = inputs.
LayeredCircuit random_circuit(const std::vector<uint32_t>& widths, std::mt19937_64& rng) {
  LayeredCircuit c;
  c.n_inputs = widths.back();
  c.layers.resize(widths.size() - 1);
  for (size_t i = 0; i + 1 < widths.size(); ++i)
    for (uint32_t g = 0; g < widths[i]; ++g) {
      const auto kind = rng() % 2 ? WiredGateKind::Add : WiredGateKind::Mul;
      c.layers[i].push_back(
          {kind, uint32_t(rng() % widths[i + 1]), uint32_t(rng() % widths[i + 1])});
    }
  return c;
}

LayeredGkrVerdict verify_with_input(const LayeredCircuit& c, const LayeredGkrProof& p,
                                    std::span<const QM31> input) {
  Blake2sChannel vc;
  LayeredGkrVerdict v = verify_layered_gkr(c, p, vc);
  if (v.accepted) {
    const std::string r = check_layered_gkr_input(c, v.input, input);
    if (!r.empty()) {
      v.accepted = false;
      v.reason = r;
    }
  }
  return v;
}

const std::vector<std::vector<uint32_t>> kShapes = {
    {1, 2},          {1, 1},        {3, 5},       {2, 7, 3},          {5, 4, 9, 16},
    {1, 6, 6, 6, 2}, {8, 3, 11, 1}, {17, 33, 40}, {4, 1, 4, 1, 4, 1},
};

TEST(LayeredGkr, RandomCircuitsMatchDirectEvaluation) {
  uint64_t seed = 100;
  for (const auto& widths : kShapes) {
    std::mt19937_64 rng(seed);
    const LayeredCircuit c = random_circuit(widths, rng);
    const std::vector<QM31> input = random_qm31(c.n_inputs, rng);
    const auto values = evaluate_layered_circuit(c, input);
    // Direct: each gate from the values below.
    for (size_t i = 0; i < c.depth(); ++i)
      for (size_t g = 0; g < c.layers[i].size(); ++g) {
        const WiredGate& gate = c.layers[i][g];
        const QM31 a = values[i + 1][gate.left], b = values[i + 1][gate.right];
        ASSERT_EQ(values[i][g], gate.kind == WiredGateKind::Add ? a + b : a * b) << "seed " << seed;
      }
    Blake2sChannel pc;
    const auto out = prove_layered_gkr(c, input, pc);
    EXPECT_EQ(out.proof.output, values[0]) << "seed " << seed;
    Blake2sChannel vc;
    const auto v = verify_layered_gkr(c, out.proof, vc);
    ASSERT_TRUE(v.accepted) << "seed " << seed << ": " << v.reason;
    EXPECT_EQ(vc.digest(), pc.digest());
    EXPECT_EQ(v.output, values[0]);
    for (int k = 0; k < 2; ++k) {
      EXPECT_EQ(v.input.points[k], out.input.points[k]);
      EXPECT_EQ(v.input.claims[k], out.input.claims[k]);
    }
    EXPECT_EQ(check_layered_gkr_input(c, v.input, input), "") << "seed " << seed;
    ++seed;
  }
}

TEST(LayeredGkr, EveryTamperIsRejected) {
  uint64_t seed = 200;
  for (const auto& widths : {std::vector<uint32_t>{3, 5, 6}, std::vector<uint32_t>{1, 4, 2, 3}}) {
    std::mt19937_64 rng(seed++);
    const LayeredCircuit c = random_circuit(widths, rng);
    const std::vector<QM31> input = random_qm31(c.n_inputs, rng);
    Blake2sChannel pc;
    const LayeredGkrProof proof = prove_layered_gkr(c, input, pc).proof;
    ASSERT_TRUE(verify_with_input(c, proof, input).accepted);
    const QM31 delta(M31::one());
    size_t n_tampers = 0;
    for (size_t l = 0; l < proof.layers.size(); ++l) {
      for (size_t r = 0; r < proof.layers[l].sumcheck.rounds.size(); ++r)
        for (size_t k = 0; k < proof.layers[l].sumcheck.rounds[r].coefficients.size(); ++k) {
          LayeredGkrProof bad = proof;
          bad.layers[l].sumcheck.rounds[r].coefficients[k] += delta;
          const auto v = verify_with_input(c, bad, input);
          EXPECT_FALSE(v.accepted) << "layer " << l << " round " << r << " coefficient " << k;
          EXPECT_FALSE(v.reason.empty());
          ++n_tampers;
        }
      for (size_t k = 0; k < proof.layers[l].final_values.size(); ++k) {
        LayeredGkrProof bad = proof;
        bad.layers[l].final_values[k] += delta;
        EXPECT_FALSE(verify_with_input(c, bad, input).accepted) << "layer " << l << " final " << k;
        ++n_tampers;
      }
    }
    for (size_t k = 0; k < proof.output.size(); ++k) { // a wrong output
      LayeredGkrProof bad = proof;
      bad.output[k] += delta;
      const auto v = verify_with_input(c, bad, input);
      EXPECT_FALSE(v.accepted) << "output " << k;
      ++n_tampers;
    }
    EXPECT_GT(n_tampers, 20u);
    // Shapes: a missing round, a missing layer, an extra output, a non-canonical value.
    {
      LayeredGkrProof bad = proof;
      bad.layers[0].sumcheck.rounds.pop_back();
      EXPECT_NE(verify_with_input(c, bad, input).reason.find("round"), std::string::npos);
      bad = proof;
      bad.layers.pop_back();
      EXPECT_FALSE(verify_with_input(c, bad, input).accepted);
      bad = proof;
      bad.output.push_back(QM31::zero());
      EXPECT_FALSE(verify_with_input(c, bad, input).accepted);
      bad = proof;
      bad.layers[0].final_values[0] = QM31::from_m31(M31::raw(M31::P), M31(), M31(), M31());
      EXPECT_NE(verify_with_input(c, bad, input).reason.find("canonical"), std::string::npos);
    }
    // A wrong input: the claims no longer hold.
    for (size_t k = 0; k < input.size(); ++k) {
      std::vector<QM31> wrong = input;
      wrong[k] += delta;
      const auto v = verify_with_input(c, proof, wrong);
      EXPECT_FALSE(v.accepted) << "input " << k;
      EXPECT_NE(v.reason.find("input claim"), std::string::npos) << v.reason;
    }
    // Another wiring with the same proof: the circuit digest differs.
    LayeredCircuit other = c;
    other.layers.back()[0].right = (other.layers.back()[0].right + 1) % c.n_inputs;
    Blake2sChannel vc;
    EXPECT_FALSE(verify_layered_gkr(other, proof, vc).accepted);
  }
}

TEST(LayeredGkr, MalformedCircuitsAreRefused) {
  LayeredCircuit empty;
  EXPECT_THROW(require_valid_circuit(empty), Error);
  LayeredCircuit out_of_range{{{{WiredGateKind::Add, 0, 2}}}, 2};
  EXPECT_THROW(require_valid_circuit(out_of_range), Error);
  Blake2sChannel vc;
  const auto v = verify_layered_gkr(out_of_range, LayeredGkrProof{}, vc);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("layer 0 gate 0"), std::string::npos) << v.reason;
  LayeredCircuit no_input{{{{WiredGateKind::Mul, 0, 0}}}, 0};
  EXPECT_THROW(require_valid_circuit(no_input), Error);
}

TEST(LayeredGkr, ProverIsLinearInTheGates) {
  // A wide circuit (2^12 gates per layer, 4 layers) proves and verifies; the proof has
  // 2 s_{i+1} rounds per layer.
  std::mt19937_64 rng(7);
  const LayeredCircuit c = random_circuit({4096, 4096, 4096, 4096, 4096}, rng);
  const auto input = random_qm31(c.n_inputs, rng);
  Blake2sChannel pc;
  const auto out = prove_layered_gkr(c, input, pc);
  for (const auto& l : out.proof.layers)
    EXPECT_EQ(l.sumcheck.rounds.size(), 24u);
  EXPECT_TRUE(verify_with_input(c, out.proof, input).accepted);
}

} // namespace
} // namespace ptvm::sumcheck
