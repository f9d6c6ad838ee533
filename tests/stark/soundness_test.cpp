// Soundness: every class of proof element tampered with, wrong statements, bad traces and LogUp
// sums that do not cancel must all be rejected, with a reason.
#include <gtest/gtest.h>

#include <functional>

#include "stark_test_util.hpp"

namespace ptvm::stark {
namespace {

using testing::Statement;

const Profile kFast = profile_by_name("fast-test-insecure");

QM31 bump(QM31 v) { return v + QM31::from_u32(0, 0, 1, 0); }
M31 bump(M31 v) { return v + M31::one(); }
hash::Blake2sHash bump(hash::Blake2sHash h) {
  h.bytes[7] ^= 0x10;
  return h;
}

class Tamper : public ::testing::Test {
 protected:
  void SetUp() override {
    s_ = testing::mixed_sizes(5);
    proof_ = testing::prove_cpu(s_, kFast);
    ASSERT_TRUE(verify(s_.air, s_.public_inputs, proof_, kFast).accepted);
  }
  // Applies `change` to a copy of the proof and expects rejection; returns the count checked.
  void expect_rejected(const std::string& what, const std::function<void(StarkProof&)>& change) {
    StarkProof p = proof_;
    change(p);
    Verdict v = verify(s_.air, s_.public_inputs, p, kFast);
    EXPECT_FALSE(v.accepted) << what << " was accepted";
    EXPECT_FALSE(v.reason.empty()) << what;
    ++checked_;
  }
  Statement s_;
  StarkProof proof_;
  size_t checked_ = 0;
};

TEST_F(Tamper, Commitments) {
  for (size_t t = 0; t < kNumTrees; ++t)
    expect_rejected("commitment " + std::to_string(t), [&](StarkProof& p) { p.commitments[t] = bump(p.commitments[t]); });
}

TEST_F(Tamper, ClaimedSums) {
  for (size_t c = 0; c < proof_.claimed_sums.size(); ++c)
    expect_rejected("claimed sum " + std::to_string(c), [&](StarkProof& p) { p.claimed_sums[c] = bump(p.claimed_sums[c]); });
  // Shifting mass between two components keeps the total at zero but breaks the constraints.
  expect_rejected("balanced claimed sums", [&](StarkProof& p) {
    p.claimed_sums[2] = bump(p.claimed_sums[2]);
    p.claimed_sums[4] = p.claimed_sums[4] - QM31::from_u32(0, 0, 1, 0);
  });
}

TEST_F(Tamper, OodsValues) {
  for (size_t t = 0; t < kNumTrees; ++t)
    for (size_t c = 0; c < proof_.sampled_values[t].size(); ++c)
      for (size_t s = 0; s < proof_.sampled_values[t][c].size(); ++s)
        expect_rejected("sampled value", [&](StarkProof& p) { p.sampled_values[t][c][s] = bump(p.sampled_values[t][c][s]); });
  EXPECT_GT(checked_, 50u);
}

TEST_F(Tamper, QueriedValuesAndMerkleSiblings) {
  for (size_t t = 0; t < kNumTrees; ++t) {
    for (size_t i = 0; i < proof_.queried_values[t].size(); ++i)
      expect_rejected("queried value", [&](StarkProof& p) { p.queried_values[t][i] = bump(p.queried_values[t][i]); });
    for (size_t i = 0; i < proof_.decommitments[t].hash_witness.size(); ++i)
      expect_rejected("merkle sibling", [&](StarkProof& p) {
        p.decommitments[t].hash_witness[i] = bump(p.decommitments[t].hash_witness[i]);
      });
    for (size_t i = 0; i < proof_.decommitments[t].column_witness.size(); ++i)
      expect_rejected("column witness", [&](StarkProof& p) {
        p.decommitments[t].column_witness[i] = bump(p.decommitments[t].column_witness[i]);
      });
    expect_rejected("dropped queried value", [&](StarkProof& p) { p.queried_values[t].pop_back(); });
  }
}

void tamper_layer(Tamper* self, const std::string& name, const std::function<FriLayerProof&(StarkProof&)>& layer,
                  const StarkProof& proof, const std::function<void(const std::string&, const std::function<void(StarkProof&)>&)>& expect) {
  StarkProof copy = proof;
  const FriLayerProof& l = layer(copy);
  expect(name + " commitment", [&](StarkProof& p) { layer(p).commitment = bump(layer(p).commitment); });
  for (size_t i = 0; i < l.fri_witness.size(); ++i)
    expect(name + " witness", [&](StarkProof& p) { layer(p).fri_witness[i] = bump(layer(p).fri_witness[i]); });
  for (size_t i = 0; i < l.decommitment.hash_witness.size(); ++i)
    expect(name + " sibling", [&](StarkProof& p) {
      layer(p).decommitment.hash_witness[i] = bump(layer(p).decommitment.hash_witness[i]);
    });
  expect(name + " extra witness", [&](StarkProof& p) { layer(p).fri_witness.push_back(QM31::one()); });
  (void)self;
}

TEST_F(Tamper, FriLayers) {
  auto expect = [&](const std::string& w, const std::function<void(StarkProof&)>& f) { expect_rejected(w, f); };
  tamper_layer(this, "first layer", [](StarkProof& p) -> FriLayerProof& { return p.fri.first_layer; }, proof_, expect);
  for (size_t i = 0; i < proof_.fri.inner_layers.size(); ++i)
    tamper_layer(this, "inner layer " + std::to_string(i), [i](StarkProof& p) -> FriLayerProof& { return p.fri.inner_layers[i]; },
                 proof_, expect);
  for (size_t i = 0; i < proof_.fri.last_layer_poly.size(); ++i)
    expect_rejected("last layer", [&](StarkProof& p) { p.fri.last_layer_poly[i] = bump(p.fri.last_layer_poly[i]); });
  expect_rejected("dropped inner layer", [&](StarkProof& p) { p.fri.inner_layers.pop_back(); });
  expect_rejected("longer last layer", [&](StarkProof& p) { p.fri.last_layer_poly.push_back(QM31::zero()); });
}

TEST_F(Tamper, ProofOfWorkAndProfile) {
  // Every nonce below the honest one fails the PoW check (the honest one is the smallest).
  for (uint64_t n = 0; n < proof_.proof_of_work; ++n)
    expect_rejected("nonce", [&](StarkProof& p) { p.proof_of_work = n; });
  expect_rejected("nonce + 2^40", [&](StarkProof& p) { p.proof_of_work += uint64_t{1} << 40; });
  expect_rejected("profile", [&](StarkProof& p) { p.profile.n_queries += 1; });
  Verdict v = verify(s_.air, s_.public_inputs, proof_, profile_by_name("default"));
  EXPECT_FALSE(v.accepted);
}

TEST_F(Tamper, PublicInputs) {
  for (size_t i = 0; i < s_.public_inputs.size(); ++i) {
    auto pub = s_.public_inputs;
    pub[i] = bump(pub[i]);
    Verdict v = verify(s_.air, pub, proof_, kFast);
    EXPECT_FALSE(v.accepted) << i;
  }
  auto shorter = s_.public_inputs;
  shorter.pop_back();
  EXPECT_FALSE(verify(s_.air, shorter, proof_, kFast).accepted);
}

TEST_F(Tamper, RandomBytesOfTheBinaryEncoding) {
  std::vector<uint8_t> bytes = proof_to_binary(proof_);
  uint64_t state = 12345;
  for (int trial = 0; trial < 300; ++trial) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    size_t pos = (state >> 20) % bytes.size();
    std::vector<uint8_t> b = bytes;
    b[pos] ^= static_cast<uint8_t>(1u << ((state >> 8) & 7));
    try {
      StarkProof p = proof_from_binary(b);
      Verdict v = verify(s_.air, s_.public_inputs, p, kFast);
      EXPECT_FALSE(v.accepted) << "byte " << pos;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Parse);
    }
  }
}

TEST(StarkBadWitness, OneViolatedConstraintInOneRow) {
  Statement s = testing::wide_fibonacci(6, 8);
  s.traces[0][5][17] = s.traces[0][5][17] + M31::one();
  auto problem = check_constraints(s.air, s.public_inputs, s.traces);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("row 17"), std::string::npos) << *problem;
  StarkProof proof = testing::prove_cpu(s, kFast);
  Verdict v = verify(s.air, s.public_inputs, proof, kFast);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("OODS"), std::string::npos) << v.reason;
}

TEST(StarkBadWitness, ViolatedBoundary) {
  Statement s = testing::wide_fibonacci(5, 6);
  s.public_inputs[1] = M31::from_u32(2);
  EXPECT_TRUE(check_constraints(s.air, s.public_inputs, s.traces).has_value());
  Verdict v = verify(s.air, s.public_inputs, testing::prove_cpu(s, kFast), kFast);
  EXPECT_FALSE(v.accepted);
}

TEST(StarkBadWitness, LastRowViolation) {
  Statement s = testing::range_check(5);
  s.traces[0][2][31] = s.traces[0][2][31] + M31::one();  // word != lo + 256 hi in the last row
  Verdict v = verify(s.air, s.public_inputs, testing::prove_cpu(s, kFast), kFast);
  EXPECT_FALSE(v.accepted);
}

TEST(StarkBadWitness, LogUpValueOutOfRange) {
  Statement s = testing::range_check(6);
  // lo = 300 and hi adjusted so that word = lo + 256 hi still holds: only the range check fails.
  uint32_t word = s.traces[0][2][9].v;
  s.traces[0][0][9] = M31::from_u32(300);
  s.traces[0][1][9] = (M31::from_u32(word) - M31::from_u32(300)) * M31::from_u32(256).inverse();
  s.traces[1] = air::examples::ByteTable::generate_trace({s.traces[0]});
  ASSERT_EQ(check_constraints(s.air, s.public_inputs, s.traces), std::nullopt);
  StarkProof proof = testing::prove_cpu(s, kFast);
  Verdict v = verify(s.air, s.public_inputs, proof, kFast);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("LogUp"), std::string::npos) << v.reason;
}

TEST(StarkBadWitness, LogUpMultiplicityOffByOne) {
  Statement s = testing::range_check(6);
  s.traces[1][0][200] = s.traces[1][0][200] + M31::one();
  Verdict v = verify(s.air, s.public_inputs, testing::prove_cpu(s, kFast), kFast);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("LogUp"), std::string::npos) << v.reason;
}

TEST(StarkBadWitness, ClaimedSumForgedToZero) {
  // A prover that lies about the claimed sums (total forced to zero) fails the LogUp constraints.
  Statement s = testing::range_check(6);
  s.traces[1][0][200] = s.traces[1][0][200] + M31::one();
  StarkProof proof = testing::prove_cpu(s, kFast);
  proof.claimed_sums[1] = -proof.claimed_sums[0];
  EXPECT_FALSE(verify(s.air, s.public_inputs, proof, kFast).accepted);
}

TEST(StarkBadWitness, WrongAirShape) {
  Statement s = testing::wide_fibonacci(5, 8);
  StarkProof proof = testing::prove_cpu(s, kFast);
  Statement other = testing::wide_fibonacci(5, 9);
  EXPECT_FALSE(verify(other.air, other.public_inputs, proof, kFast).accepted);
  Statement bigger = testing::wide_fibonacci(6, 8);
  EXPECT_FALSE(verify(bigger.air, bigger.public_inputs, proof, kFast).accepted);
}

}  // namespace
}  // namespace ptvm::stark
