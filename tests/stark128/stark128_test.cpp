// The F128 STARK (statement-v1's proof system) on the VM AIR: completeness, soundness against
// tampered proofs and cheating witnesses, the binary reader, the options.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "host/stark128/protocol.hpp"
#include "ptvm/ntt/ntt.hpp"
#include "ptvm/stark128/stark128.hpp"
#include "ptvm/stark128/vm.hpp"
#include "../vm_air/vm_air_test_util.hpp"

namespace ptvm::stark128 {
namespace {

using vmair::testing::run_native;
using vmair::testing::run_source;
using vmair::testing::test_digest;

struct Proved {
  vmair::VmStatement statement;
  Air128 air;
  std::vector<F128> pub;
  Proof proof;
};

Proved prove_trace(const vm::ExecutionTrace& trace, const Options& o) {
  Proved p;
  p.statement = vmair::statement_from_trace(trace);
  p.air = build_vm_air(p.statement);
  const auto digest = test_digest();
  p.pub = vm_public_inputs(p.statement, digest);
  p.proof = prove(p.air, vm_witness(p.statement, trace), p.pub, o);
  return p;
}

vm::ExecutionTrace fibonacci_trace() {
  return run_native(vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm"), 100000);
}

TEST(Stark128Vm, FibonacciProvesAndVerifiesAtEveryNamedProfile) {
  const auto trace = fibonacci_trace();
  for (const auto& o : named_profiles()) {
    const auto t0 = std::chrono::steady_clock::now();
    const Proved p = prove_trace(trace, o);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const Verdict v = verify(p.air, p.pub, o, p.proof);
    EXPECT_TRUE(v.accepted) << o.name << ": " << v.reason;
    std::printf("[ info ] %s: steps %llu, prove %.1f ms, proof %zu bytes\n", o.name.c_str(),
                static_cast<unsigned long long>(trace.steps()), ms, proof_to_binary(p.proof).size());
  }
}

}  // namespace
}  // namespace ptvm::stark128

namespace ptvm::stark128 {
namespace {

using vmair::testing::run_source;

const Options& prod() {
  static const Options o = profile_by_name("production-v1");
  return o;
}

F128 random_felt(uint64_t& s) {
  s = s * 6364136223846793005ull + 1442695040888963407ull;
  const uint64_t lo = s;
  s = s * 6364136223846793005ull + 1442695040888963407ull;
  return F128::from_words_reduce(lo, s >> 8);
}

// ---- independent oracles for the new math -------------------------------------------------------

F128 naive_eval(const std::vector<F128>& coeffs, F128 x) {
  F128 acc = F128::zero(), p = F128::one();
  for (const F128& c : coeffs) {
    acc += c * p;
    p *= x;
  }
  return acc;
}

// The LDE the prover commits (coset NTT, bit-reversed storage on g <w>) against the polynomial
// evaluated point by point at detail::domain_point.
TEST(Stark128Oracle, LdeIsTheInterpolantEvaluatedAtTheDomainPoints) {
  uint64_t seed = 7;
  const size_t n = 8;
  const uint32_t log_lde = 5;
  std::vector<F128> rows(n);
  for (auto& v : rows) v = random_felt(seed);
  // Coefficients by naive Lagrange interpolation on <w_8> (no NTT): c = V^-1 rows with
  // V^-1 = (1/n) [w^-ij].
  const F128 w = F128::primitive_root_of_unity(3), n_inv = F128::from_u64(n).inverse();
  std::vector<F128> coeffs(n, F128::zero());
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) coeffs[i] += rows[j] * w.pow(i * j).inverse() * n_inv;
  for (size_t j = 0; j < n; ++j) ASSERT_EQ(naive_eval(coeffs, w.pow(j)), rows[j]);
  std::vector<F128> c2(n), lde(size_t{1} << log_lde);
  ntt::coset_interpolate_natural(rows, c2, F128::one());
  ntt::coset_evaluate_natural(c2, lde, detail::lde_offset());
  for (size_t pos = 0; pos < lde.size(); ++pos)
    EXPECT_EQ(lde[detail::bit_reverse(pos, log_lde)], naive_eval(coeffs, detail::domain_point(log_lde, 0, pos)))
        << "position " << pos;
}

// One FRI fold against f_even(y) + beta f_odd(y) computed from the coefficients.
TEST(Stark128Oracle, FriFoldIsEvenPlusBetaOdd) {
  uint64_t seed = 11;
  std::vector<F128> coeffs(16);
  for (auto& c : coeffs) c = random_felt(seed);
  const F128 beta = random_felt(seed);
  std::vector<F128> even, odd;
  for (size_t i = 0; i < coeffs.size(); ++i) (i % 2 ? odd : even).push_back(coeffs[i]);
  for (uint32_t fold = 0; fold < 3; ++fold) {
    const uint32_t log_m = 6 - fold;
    for (size_t j = 0; j < (size_t{1} << (log_m - 1)); ++j) {
      const F128 x = detail::domain_point(log_m, fold, 2 * j);
      ASSERT_EQ(detail::domain_point(log_m, fold, 2 * j + 1), -x);
      ASSERT_EQ(detail::domain_point(log_m - 1, fold + 1, j), x * x);
      const F128 folded =
          detail::fri_fold(naive_eval(coeffs, x), naive_eval(coeffs, -x), x.inverse(), beta);
      EXPECT_EQ(folded, naive_eval(even, x * x) + beta * naive_eval(odd, x * x));
    }
  }
}

TEST(Stark128Oracle, AirConstantsAreTheFieldsIntegers) {
  EXPECT_EQ(vmair::constant<F128>(-1) + F128::one(), F128::zero());
  EXPECT_EQ(vmair::constant<F128>(65536), F128::from_u64(65536));
  EXPECT_EQ(vmair::AirConstants<F128>::half() * F128::from_u64(2), F128::one());
  EXPECT_EQ(vmair::AirConstants<M31>::half() * M31::from_u32(2), M31::one());
  EXPECT_EQ(lift_signed(M31::from_i64(-32768)), -F128::from_u64(32768));
}

// ---- options -----------------------------------------------------------------------------------

TEST(Stark128Options, NamedProfilesAndTheirConjecturedBits) {
  EXPECT_EQ(conjectured_security_bits(profile_by_name("default")), 4u);
  EXPECT_EQ(conjectured_security_bits(profile_by_name("production-v1")), 32u);
  EXPECT_EQ(conjectured_security_bits(profile_by_name("heavier")), 48u);
  EXPECT_EQ(conjectured_security_bits(profile_by_name("ptvm-96")), 96u);
  const Options d = profile_by_name("default");
  EXPECT_EQ(d.expansion_factor, 4u);
  EXPECT_EQ(d.num_colinearity_checks, 2u);
  EXPECT_EQ(d.security_level, 2u);
  for (const auto& p : named_profiles()) EXPECT_FALSE(validate_options(p)) << p.name;
  Options bad = d;
  bad.expansion_factor = 6;
  EXPECT_TRUE(validate_options(bad));
  bad = d;
  bad.expansion_factor = 2;
  EXPECT_TRUE(validate_options(bad));
  bad = d;
  bad.security_level = 5;  // 4 bits cannot reach 5
  EXPECT_TRUE(validate_options(bad));
  EXPECT_THROW(profile_by_name("nope"), Error);
}

// ---- tampered proofs ---------------------------------------------------------------------------

TEST(Stark128Soundness, EveryProofFieldClassIsBound) {
  const auto trace = run_source(".memory 3\nLOADI 7\nSTORE 1\nADDM 1\nPUSH\nMUL 3\nPOP\nXOR 5\nCMP 3\nHALT\n");
  Options o = profile_by_name("ptvm-96");
  const Proved p = prove_trace(trace, o);
  ASSERT_TRUE(verify(p.air, p.pub, o, p.proof).accepted);
  const F128 one = F128::one();
  auto flip = [](Hash& h) { h.bytes[3] ^= 1; };
  std::vector<std::pair<std::string, std::function<void(Proof&)>>> cases = {
      {"main_root", [&](Proof& q) { flip(q.main_root); }},
      {"interaction_root", [&](Proof& q) { flip(q.interaction_root); }},
      {"composition_root", [&](Proof& q) { flip(q.composition_root); }},
      {"claimed_sums", [&](Proof& q) { q.claimed_sums[0] += one; q.claimed_sums[1] -= one; }},
      {"sampled_values[0]", [&](Proof& q) { q.sampled_values[0] += one; }},
      {"sampled_values[mid]", [&](Proof& q) { q.sampled_values[q.sampled_values.size() / 2] += one; }},
      {"sampled_values[last]", [&](Proof& q) { q.sampled_values.back() += one; }},
      {"fri_roots", [&](Proof& q) { flip(q.fri_roots[0]); }},
      {"fri_roots[last]", [&](Proof& q) { flip(q.fri_roots.back()); }},
      {"fri_last", [&](Proof& q) { q.fri_last += one; }},
      {"pow_nonce", [&](Proof& q) { q.pow_nonce += 1; }},
      {"main.values", [&](Proof& q) { q.main.values[5] += one; }},
      {"main.hash_witness", [&](Proof& q) { flip(q.main.decommitment.hash_witness[0]); }},
      {"interaction.values", [&](Proof& q) { q.interaction.values[0] += one; }},
      {"interaction.hash_witness", [&](Proof& q) { flip(q.interaction.decommitment.hash_witness.back()); }},
      {"composition.values", [&](Proof& q) { q.composition.values[1] += one; }},
      {"composition.hash_witness", [&](Proof& q) { flip(q.composition.decommitment.hash_witness[0]); }},
      {"fri_layers.values", [&](Proof& q) { q.fri_layers[0].values[0] += one; }},
      {"fri_layers[last].values", [&](Proof& q) { q.fri_layers.back().values.back() += one; }},
      {"fri_layers.hash_witness", [&](Proof& q) { flip(q.fri_layers[0].decommitment.hash_witness[0]); }},
      {"main.values dropped", [&](Proof& q) { q.main.values.pop_back(); }},
      {"fri_layers dropped", [&](Proof& q) { q.fri_layers.pop_back(); }},
  };
  for (const auto& [name, mutate] : cases) {
    Proof q = p.proof;
    mutate(q);
    const Verdict v = verify(p.air, p.pub, o, q);
    EXPECT_FALSE(v.accepted) << name;
    EXPECT_FALSE(v.reason.empty()) << name;
  }
  // Public inputs and options are bound too.
  std::vector<F128> pub = p.pub;
  pub.back() += one;
  EXPECT_FALSE(verify(p.air, pub, o, p.proof).accepted);
  Options other = o;
  other.num_colinearity_checks += 1;
  EXPECT_FALSE(verify(p.air, p.pub, other, p.proof).accepted);
}

TEST(Stark128ProofIo, RoundTripAndStrictReader) {
  const auto trace = run_source("LOADI 7\nADD 5\nHALT\n");
  const Proved p = prove_trace(trace, prod());
  const std::vector<uint8_t> bytes = proof_to_binary(p.proof);
  EXPECT_EQ(proof_from_binary(bytes), p.proof);
  for (size_t len : {size_t{0}, size_t{7}, size_t{8}, size_t{40}, bytes.size() / 2, bytes.size() - 1})
    EXPECT_THROW(proof_from_binary(std::span<const uint8_t>(bytes.data(), len)), Error) << len;
  std::vector<uint8_t> extra = bytes;
  extra.push_back(0);
  EXPECT_THROW(proof_from_binary(extra), Error);
  std::vector<uint8_t> magic = bytes;
  magic[0] ^= 1;
  EXPECT_THROW(proof_from_binary(magic), Error);
  // claimed_sums[0] := p (not canonical).
  std::vector<uint8_t> nc = bytes;
  const size_t at = 8 + 96 + 4;
  for (int i = 0; i < 16; ++i) nc[at + i] = 0;
  nc[at] = 1;
  nc[at + 15] = 0xcb;
  nc[at + 14] = 0x80;
  try {
    proof_from_binary(nc);
    ADD_FAILURE() << "non-canonical element accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("claimed_sums"), std::string::npos) << e.what();
  }
  // A huge count is refused before any allocation.
  std::vector<uint8_t> big = bytes;
  big[8 + 96] = 0xff;
  big[8 + 96 + 1] = 0xff;
  big[8 + 96 + 2] = 0xff;
  EXPECT_THROW(proof_from_binary(big), Error);
}

}  // namespace
}  // namespace ptvm::stark128

namespace ptvm::stark128 {
namespace {

// The proof bytes do not depend on the thread count (PTVM_THREADS).
TEST(Stark128Determinism, SameProofOnOneAndThreeThreads) {
  const auto trace = vmair::testing::run_source(".memory 2\nLOADI 3\nSTORE 1\nMUL 7\nXOR 5\nHALT\n");
  const Options o = profile_by_name("production-v1");
  ::setenv("PTVM_THREADS", "1", 1);
  const Proved one = prove_trace(trace, o);
  ::setenv("PTVM_THREADS", "3", 1);
  const Proved three = prove_trace(trace, o);
  ::unsetenv("PTVM_THREADS");
  EXPECT_EQ(proof_to_binary(one.proof), proof_to_binary(three.proof));
}

}  // namespace
}  // namespace ptvm::stark128

namespace ptvm::stark128 {
namespace {

// Byte-level sweep over the binary proof: flipping any sampled byte gives a parse error or a
// rejection, never an accepted proof or a crash.
TEST(Stark128Soundness, FlippedBytesAreRejected) {
  const auto trace = vmair::testing::run_source(".memory 2\nLOADI 3\nSTORE 1\nADDM 1\nHALT\n");
  const Options o = profile_by_name("default");
  const Proved p = prove_trace(trace, o);
  const std::vector<uint8_t> bytes = proof_to_binary(p.proof);
  size_t parse_errors = 0, rejections = 0;
  for (size_t at = 0; at < bytes.size(); at += 67) {
    std::vector<uint8_t> b = bytes;
    b[at] ^= 0x10;
    try {
      const Proof q = proof_from_binary(b);
      const Verdict v = verify(p.air, p.pub, o, q);
      EXPECT_FALSE(v.accepted) << "byte " << at;
      ++rejections;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Parse);
      ++parse_errors;
    }
  }
  EXPECT_GT(rejections, 150u);
  std::printf("[ info ] %zu bytes: %zu flips parse errors, %zu rejected\n", bytes.size(), parse_errors, rejections);
}

}  // namespace
}  // namespace ptvm::stark128

#include "ptvm/air/examples/wide_fibonacci.hpp"

namespace ptvm::stark128 {
namespace {

// A generic AIR (no LogUp, so no interaction columns) over F128: two components of different
// sizes, boundary constraints against public inputs; a wrong trace value or public input fails.
std::vector<std::vector<F128>> wide_fibonacci_trace(uint32_t log_rows, uint32_t width, F128 s0, F128 s1) {
  const size_t n = size_t{1} << log_rows;
  std::vector<std::vector<F128>> cols(width, std::vector<F128>(n));
  for (size_t r = 0; r < n; ++r) {
    F128 a = s0 + F128::from_u64(r), b = s1 + F128::from_u64(3 * r);
    cols[0][r] = a;
    cols[1][r] = b;
    for (uint32_t k = 2; k < width; ++k) {
      const F128 c = a * a + b * b;
      cols[k][r] = c;
      a = b;
      b = c;
    }
  }
  return cols;
}

TEST(Stark128GenericAir, MixedSizesWithoutLogup) {
  air::examples::WideFibonacci small{3, 6, true, 0, "small"}, big{5, 9, true, 2, "big"};
  Air128 a;
  a.components = {make_component128(small), make_component128(big)};
  a.n_public_inputs = 4;
  const std::vector<F128> pub = {F128::from_u64(5), F128::from_u64(7), F128::from_u64(11), F128::from_u64(13)};
  Witness w = {wide_fibonacci_trace(3, 6, pub[0], pub[1]), wide_fibonacci_trace(5, 9, pub[2], pub[3])};
  const Options o = profile_by_name("heavier");
  const Proof p = prove(a, w, pub, o);
  const Verdict v = verify(a, pub, o, p);
  EXPECT_TRUE(v.accepted) << v.reason;
  EXPECT_TRUE(p.interaction.values.empty());
  std::vector<F128> wrong_pub = pub;
  wrong_pub[2] += F128::one();
  EXPECT_FALSE(verify(a, wrong_pub, o, p).accepted);
  Witness bad = w;
  bad[1][4][17] += F128::one();
  EXPECT_FALSE(verify(a, pub, o, prove(a, bad, pub, o)).accepted);
}

}  // namespace
}  // namespace ptvm::stark128
