// Byte encodings of the sumcheck-family proofs: round trips (bytes, then the verifier on the
// decoded proof), every truncation, trailing bytes, oversized counts, non-canonical values, wrong
// magic/version/kind, and random mutations: a reader only ever throws ptvm::Error(Parse).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/sumcheck/proof_io.hpp"
#include "random_values.hpp"

namespace ptvm::sumcheck {
namespace {

using test::random_m31;
using test::random_qm31;


// One encoded proof and a decode -> re-encode of its kind.
struct Sample {
  std::string name;
  std::vector<uint8_t> bytes;
  std::function<std::vector<uint8_t>(std::span<const uint8_t>)> reencode;
};

template <class Decode>
std::function<std::vector<uint8_t>(std::span<const uint8_t>)> reencoder(Decode decode) {
  return [decode](std::span<const uint8_t> b) { return to_bytes(decode(b)); };
}

const std::vector<Sample>& samples() {
  static const std::vector<Sample> all = [] {
    std::vector<Sample> s;
    std::mt19937_64 rng(11);
    { // product sumcheck (and its rounds alone), degree 3 with an eq factor
      ProductShape shape;
      shape.n_factors = 2;
      shape.n_terms = 1;
      shape.term_masks[0] = 0b11;
      shape.term_coefficients[0] = QM31::one();
      const std::vector<std::vector<QM31>> tables = {random_qm31(16, rng), random_qm31(16, rng)};
      const auto z = random_qm31(4, rng);
      Blake2sChannel c;
      const auto out = prove_product_sumcheck<QM31>(shape, z, tables, c);
      s.push_back({"product", to_bytes(out.proof), reencoder(product_sumcheck_proof_from_bytes)});
      s.push_back({"sumcheck", to_bytes(out.proof.sumcheck), reencoder(sumcheck_proof_from_bytes)});
    }
    { // matrix product 4x8 * 8x4
      const auto a = random_m31(32, rng), b = random_m31(32, rng);
      const MatrixView av{a, 4, 8}, bv{b, 8, 4};
      const auto cvals = multiply_m31(av, bv);
      const MatrixView cv{cvals, 4, 4};
      const MatmulStatement st{{{4, 8}, {8, 4}}, {{0, 1}}};
      const MatrixView ops[2] = {av, bv};
      Blake2sChannel ch;
      s.push_back({"matmul", to_bytes(prove_matmul(st, ops, std::span(&cv, 1), ch).proof),
                   reencoder(matmul_proof_from_bytes)});
    }
    { // binary-tree GKR of fractions, and a lookup
      GkrCircuit circuit{{GkrGate::Fraction, GkrGate::Fraction, GkrGate::Fraction}, 1};
      Blake2sChannel c;
      s.push_back(
          {"gkr",
           to_bytes(prove_gkr(circuit, {random_qm31(16, rng), random_qm31(16, rng)}, c).proof),
           reencoder(gkr_proof_from_bytes)});
      LookupColumns cols{{{M31::from_u32(1), M31::from_u32(2), M31::from_u32(2)}},
                         {{M31::from_u32(1), M31::from_u32(2)}},
                         {M31::from_u32(1), M31::from_u32(2)}};
      Blake2sChannel lc;
      s.push_back({"lookup", to_bytes(prove_lookup(cols, lc)), reencoder(lookup_proof_from_bytes)});
    }
    { // layered GKR
      LayeredCircuit c{
          {{{WiredGateKind::Mul, 0, 2}, {WiredGateKind::Add, 1, 1}, {WiredGateKind::Mul, 2, 0}},
           {{WiredGateKind::Add, 0, 1}, {WiredGateKind::Mul, 1, 2}, {WiredGateKind::Add, 2, 2}}},
          3};
      Blake2sChannel ch;
      s.push_back({"layered_gkr", to_bytes(prove_layered_gkr(c, random_qm31(3, rng), ch).proof),
                   reencoder(layered_gkr_proof_from_bytes)});
    }
    { // an MLE opening and a committed lookup
      const MleCommitmentParams params{.log_blowup = 2, .n_queries = 8};
      auto table = CommittedMle::commit(random_m31(64, rng), 2, params, 1);
      Blake2sChannel ch;
      const auto point = random_qm31(6, rng);
      s.push_back({"mle_opening", to_bytes(table.open(point, table.evaluate(point), ch)),
                   reencoder(mle_opening_proof_from_bytes)});
      s.push_back(
          {"mle_commitment", to_bytes(table.commitment()), reencoder(mle_commitment_from_bytes)});
      std::vector<M31> values = {M31::from_u32(0), M31::from_u32(1), M31::from_u32(1),
                                 M31::from_u32(3)};
      const auto v = CommittedMle::commit(values, 0, params, 1);
      const auto m = CommittedMle::commit(
          {M31::from_u32(1), M31::from_u32(2), M31(), M31::from_u32(1)}, 0, params, 1);
      const CommittedLookupWitness w{
          {&v}, &m, {{M31::from_u32(0), M31::from_u32(1), M31::from_u32(2), M31::from_u32(3)}}};
      Blake2sChannel lc;
      s.push_back({"committed_lookup", to_bytes(prove_committed_lookups(std::span(&w, 1), lc)),
                   reencoder(committed_lookup_proof_from_bytes)});
    }
    return s;
  }();
  return all;
}

// The decoder's outcome: "" when it parsed, else the Parse message; any other exception fails.
std::string decode_error(const Sample& s, std::span<const uint8_t> bytes) {
  try {
    (void)s.reencode(bytes);
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Parse) << s.name << ": " << e.what();
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("sumcheck proof: ", 0), 0u) << m;
    return m.empty() ? "?" : m;
  } catch (const std::exception& e) {
    ADD_FAILURE() << s.name << ": not a ptvm::Error: " << e.what();
    return "other";
  }
}

void put_u32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[off + i] = uint8_t(v >> (8 * i));
}

TEST(SumcheckProofIo, RoundTripsAreByteIdentical) {
  for (const Sample& s : samples()) {
    EXPECT_EQ(s.reencode(s.bytes), s.bytes) << s.name;
    EXPECT_EQ(uint32_t(sumcheck_proof_kind(s.bytes)), uint32_t(s.bytes[12])) << s.name;
  }
}

TEST(SumcheckProofIo, DecodedProofsStillVerify) {
  std::mt19937_64 rng(3);
  LayeredCircuit c{
      {{{WiredGateKind::Mul, 0, 1}, {WiredGateKind::Add, 1, 2}},
       {{WiredGateKind::Mul, 0, 2}, {WiredGateKind::Add, 1, 0}, {WiredGateKind::Mul, 2, 2}}},
      3};
  const auto input = random_qm31(3, rng);
  Blake2sChannel pc;
  const auto proof = layered_gkr_proof_from_bytes(to_bytes(prove_layered_gkr(c, input, pc).proof));
  Blake2sChannel vc;
  const auto v = verify_layered_gkr(c, proof, vc);
  ASSERT_TRUE(v.accepted) << v.reason;
  EXPECT_EQ(check_layered_gkr_input(c, v.input, input), "");
}

TEST(SumcheckProofIo, EveryTruncationAndTrailingByteIsRejected) {
  for (const Sample& s : samples()) {
    const size_t step = s.bytes.size() > 6000 ? 7 : 1;
    for (size_t n = 0; n < s.bytes.size(); n += step) {
      const std::string e = decode_error(s, std::span(s.bytes.data(), n));
      EXPECT_FALSE(e.empty()) << s.name << " cut at " << n;
    }
    std::vector<uint8_t> longer = s.bytes;
    longer.push_back(0);
    EXPECT_NE(decode_error(s, longer).find("trailing"), std::string::npos) << s.name;
  }
}

TEST(SumcheckProofIo, HeaderErrorsAreNamed) {
  const Sample& s = samples()[0];
  std::vector<uint8_t> b = s.bytes;
  b[0] = 'X';
  EXPECT_NE(decode_error(s, b).find("magic"), std::string::npos);
  b = s.bytes;
  put_u32(b, 8, 2);
  EXPECT_NE(decode_error(s, b).find("unsupported version 2"), std::string::npos);
  b = s.bytes;
  put_u32(b, 12, 99);
  EXPECT_NE(decode_error(s, b).find("unknown proof kind"), std::string::npos);
  b = s.bytes;
  put_u32(b, 12, uint32_t(SumcheckProofKind::Matmul));
  EXPECT_NE(decode_error(s, b).find("expected kind 2"), std::string::npos);
  std::vector<uint8_t> huge(kMaxSumcheckProofBytes + 1);
  EXPECT_NE(decode_error(s, huge).find("oversized"), std::string::npos);
}

TEST(SumcheckProofIo, CountsAndValuesAreChecked) {
  const Sample& product = samples()[0]; // header, u32 rounds, u32 coefficients, QM31...
  std::vector<uint8_t> b = product.bytes;
  put_u32(b, 16, 0xffffffffu);
  std::string e = decode_error(product, b);
  EXPECT_NE(e.find("product.sumcheck.rounds: oversized list"), std::string::npos) << e;
  b = product.bytes;
  put_u32(b, 20, 60); // within the limit: the bytes after are misread and run out
  e = decode_error(product, b);
  EXPECT_FALSE(e.empty());
  b = product.bytes;
  put_u32(b, 20, 65);
  e = decode_error(product, b);
  EXPECT_NE(e.find("coefficients: oversized list"), std::string::npos) << e;
  b = product.bytes;
  put_u32(b, 24 + 16 + 8, M31::P); // coefficient 1, coordinate c
  e = decode_error(product, b);
  EXPECT_NE(
      e.find("product.sumcheck.rounds[0].coefficients[1]: non-canonical M31 value 2147483647"),
      std::string::npos)
      << e;
  // A length that needs more bytes than are left.
  const Sample& opening = samples()[6];
  ASSERT_EQ(opening.name, "mle_opening");
  b = opening.bytes;
  put_u32(b, 16, 1u << 20);
  e = decode_error(opening, b);
  EXPECT_NE(e.find("mle_opening.proximity_row: truncated"), std::string::npos) << e;
}

TEST(SumcheckProofIo, CommitmentParametersAreChecked) {
  const Sample* commitment = nullptr;
  for (const Sample& s : samples())
    if (s.name == "mle_commitment")
      commitment = &s;
  ASSERT_NE(commitment, nullptr);
  EXPECT_EQ(commitment->bytes.size(), 16u + 32 + 16);
  std::vector<uint8_t> b = commitment->bytes;
  put_u32(b, 48, 0);
  EXPECT_NE(decode_error(*commitment, b).find("mle_commitment.n_vars: 0 variables"),
            std::string::npos);
  b = commitment->bytes;
  put_u32(b, 52, 6); // log_rows = n_vars
  EXPECT_NE(decode_error(*commitment, b).find("mle_commitment.log_rows"), std::string::npos);
}

TEST(SumcheckProofIo, RandomMutationsOnlyGiveParseErrors) {
  std::mt19937_64 rng(21);
  size_t parsed = 0, rejected = 0;
  for (const Sample& s : samples())
    for (int trial = 0; trial < 400; ++trial) {
      std::vector<uint8_t> b = s.bytes;
      const int n_flips = 1 + int(rng() % 4);
      for (int f = 0; f < n_flips; ++f) {
        const size_t pos = rng() % b.size();
        switch (rng() % 3) {
        case 0:
          b[pos] ^= uint8_t(1u << (rng() % 8));
          break;
        case 1:
          b[pos] = uint8_t(rng());
          break;
        default:
          b.resize(pos);
          break;
        }
        if (b.empty())
          break;
      }
      (decode_error(s, b).empty() ? parsed : rejected)++;
    }
  EXPECT_GT(rejected, 0u);
  EXPECT_GT(parsed, 0u);
}

} // namespace
} // namespace ptvm::sumcheck
