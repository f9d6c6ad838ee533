// libFuzzer target for the sumcheck-family proof readers (ptvm/sumcheck/proof_io.hpp): any byte
// string -> the reader of the kind its header names, and when it parses, that kind's verifier
// against a fixed statement (the one the seed corpus was proven for), so mutated proofs of every
// shape reach the verifiers. A reader may only throw ptvm::Error(Parse); a verifier must return
// a verdict, and a rejection must say why.
//
// Built with -DPTVM_FUZZ_WRITE_SEEDS and a main() of its own (see the end), it writes the seed
// corpus: one honest proof per kind, named by kind.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/sumcheck/proof_io.hpp"

namespace {

using namespace ptvm::sumcheck;
using ptvm::M31;
using ptvm::QM31;

std::vector<QM31> qm31s(size_t n, uint32_t seed) {
  std::vector<QM31> v(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t x = uint32_t(i) * 2654435761u + seed;
    v[i] = QM31::from_m31(M31::from_u32(x % M31::P), M31::from_u32((x >> 3) % 1000),
                          M31::from_u32(uint32_t(i)), M31::from_u32(seed));
  }
  return v;
}
std::vector<M31> m31s(size_t n, uint32_t seed) {
  std::vector<M31> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = M31::from_u32((uint32_t(i) * 40503u + seed) % M31::P);
  return v;
}

struct Fixed {
  ProductShape shape;
  std::vector<std::vector<QM31>> tables{qm31s(8, 1), qm31s(8, 2)};
  std::vector<QM31> eq_point = qm31s(3, 3);
  std::vector<M31> a = m31s(8, 4), b = m31s(8, 5), c;
  MatmulStatement matmul{{{2, 4}, {4, 2}}, {{0, 1}}};
  GkrCircuit gkr{{GkrGate::Fraction, GkrGate::Fraction}, 1};
  std::vector<std::vector<QM31>> gkr_input{qm31s(8, 6), qm31s(8, 7)};
  LayeredCircuit layered{
      {{{WiredGateKind::Mul, 0, 2}, {WiredGateKind::Add, 1, 1}},
       {{WiredGateKind::Add, 0, 1}, {WiredGateKind::Mul, 1, 2}, {WiredGateKind::Add, 2, 0}}},
      3};
  std::vector<QM31> layered_input = qm31s(3, 8);
  LookupColumns lookup{{{M31::from_u32(1), M31::from_u32(2), M31::from_u32(2)}},
                       {{M31::from_u32(1), M31::from_u32(2)}},
                       {M31::from_u32(1), M31::from_u32(2)}};
  MleCommitmentParams params{.log_blowup = 2, .n_queries = 4};
  CommittedMle opened = CommittedMle::commit(m31s(16, 9), 1, params, 1);
  std::vector<QM31> opening_point = qm31s(4, 10);
  CommittedMle values = CommittedMle::commit(
      {M31(), M31::from_u32(1), M31::from_u32(1), M31::from_u32(3)}, 0, params, 1);
  CommittedMle multiplicities = CommittedMle::commit(
      {M31::from_u32(1), M31::from_u32(2), M31(), M31::from_u32(1)}, 0, params, 1);
  std::vector<std::vector<M31>> table{
      {M31(), M31::from_u32(1), M31::from_u32(2), M31::from_u32(3)}};

  Fixed() {
    shape.n_factors = 2;
    shape.n_terms = 1;
    shape.term_masks[0] = 0b11;
    shape.term_coefficients[0] = QM31::one();
    c = multiply_m31({a, 2, 4}, {b, 4, 2});
  }
  CommittedLookupWitness witness() const { return {{&values}, &multiplicities, table}; }
};

const Fixed& fixed() {
  static const Fixed f;
  return f;
}

bool g_accepted = false; // the last verdict (the seed writer checks its proofs verify)

void require_reason(bool accepted, const std::string& reason) {
  if (!accepted && reason.empty())
    std::abort();
  g_accepted = accepted;
}

void verify_bytes(std::span<const uint8_t> bytes) {
  const Fixed& f = fixed();
  Blake2sChannel ch;
  switch (sumcheck_proof_kind(bytes)) {
  case SumcheckProofKind::Sumcheck: {
    const QM31 claim = product_sum<QM31>(f.shape, f.eq_point, f.tables);
    ch.mix_felts(std::span<const QM31>(&claim, 1)); // as the product sumcheck does first
    const auto v = verify_sumcheck_rounds(3, 3, claim, sumcheck_proof_from_bytes(bytes), ch);
    require_reason(v.accepted, v.reason);
    break;
  }
  case SumcheckProofKind::ProductSumcheck: {
    const QM31 claim = product_sum<QM31>(f.shape, f.eq_point, f.tables);
    const auto v = verify_product_sumcheck(f.shape, 3, f.eq_point, claim,
                                           product_sumcheck_proof_from_bytes(bytes), ch);
    require_reason(v.accepted, v.reason);
    break;
  }
  case SumcheckProofKind::Matmul: {
    const auto v = verify_matmul(f.matmul, matmul_proof_from_bytes(bytes), ch);
    require_reason(v.accepted, v.reason);
    break;
  }
  case SumcheckProofKind::Gkr: {
    const auto v = verify_gkr(f.gkr, gkr_proof_from_bytes(bytes), ch);
    require_reason(v.accepted, v.reason);
    break;
  }
  case SumcheckProofKind::LayeredGkr: {
    const auto v = verify_layered_gkr(f.layered, layered_gkr_proof_from_bytes(bytes), ch);
    require_reason(v.accepted, v.reason);
    if (v.accepted)
      (void)check_layered_gkr_input(f.layered, v.input, f.layered_input);
    break;
  }
  case SumcheckProofKind::Lookup: {
    const auto v = verify_lookup(f.lookup, lookup_proof_from_bytes(bytes), ch);
    require_reason(v.accepted, v.reason);
    break;
  }
  case SumcheckProofKind::CommittedLookup: {
    const CommittedLookupStatement s = statement_of(f.witness());
    const auto v =
        verify_committed_lookups(std::span(&s, 1), committed_lookup_proof_from_bytes(bytes), ch);
    require_reason(v.accepted, v.reason);
    break;
  }
  case SumcheckProofKind::MleOpening: {
    mix_commitment(ch, f.opened.commitment());
    const auto bad = verify_mle_opening(f.opened.commitment(), f.opening_point,
                                        f.opened.evaluate(f.opening_point),
                                        mle_opening_proof_from_bytes(bytes), ch);
    require_reason(!bad, bad.value_or(""));
    break;
  }
  case SumcheckProofKind::MleCommitment: { // the fixed opening against the read commitment
    const MleCommitment c = mle_commitment_from_bytes(bytes);
    Blake2sChannel oc;
    mix_commitment(oc, f.opened.commitment());
    const QM31 value = f.opened.evaluate(f.opening_point);
    const MleOpeningProof proof = f.opened.open(f.opening_point, value, oc);
    mix_commitment(ch, c);
    const auto bad = verify_mle_opening(c, f.opening_point, value, proof, ch);
    require_reason(!bad, bad.value_or(""));
    break;
  }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    verify_bytes(std::span<const uint8_t>(data, size));
  } catch (const ptvm::Error& e) {
    if (e.category() != ptvm::ErrorCategory::Parse)
      std::abort(); // only the readers may throw
  }
  return 0;
}

#ifdef PTVM_FUZZ_WRITE_SEEDS
#include <fstream>
// Writes one honest proof per kind into the directory argv[1].
int main(int argc, char** argv) {
  if (argc != 2)
    return 2;
  const Fixed& f = fixed();
  auto write = [&](const char* name, const std::vector<uint8_t>& bytes) {
    std::ofstream(std::string(argv[1]) + "/" + name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (LLVMFuzzerTestOneInput(bytes.data(), bytes.size()) != 0 || !g_accepted)
      std::abort();
  };
  {
    Blake2sChannel ch;
    const auto out = prove_product_sumcheck<QM31>(f.shape, f.eq_point, f.tables, ch);
    write("product_sumcheck", to_bytes(out.proof));
    write("sumcheck", to_bytes(out.proof.sumcheck));
  }
  {
    Blake2sChannel ch;
    const MatrixView ops[2] = {{f.a, 2, 4}, {f.b, 4, 2}};
    const MatrixView out{f.c, 2, 2};
    write("matmul", to_bytes(prove_matmul(f.matmul, ops, std::span(&out, 1), ch).proof));
  }
  {
    Blake2sChannel ch;
    write("gkr", to_bytes(prove_gkr(f.gkr, f.gkr_input, ch).proof));
  }
  {
    Blake2sChannel ch;
    write("layered_gkr", to_bytes(prove_layered_gkr(f.layered, f.layered_input, ch).proof));
  }
  {
    Blake2sChannel ch;
    write("lookup", to_bytes(prove_lookup(f.lookup, ch)));
  }
  {
    Blake2sChannel ch;
    const CommittedLookupWitness w = f.witness();
    write("committed_lookup", to_bytes(prove_committed_lookups(std::span(&w, 1), ch)));
  }
  {
    Blake2sChannel ch;
    mix_commitment(ch, f.opened.commitment());
    write("mle_opening",
          to_bytes(f.opened.open(f.opening_point, f.opened.evaluate(f.opening_point), ch)));
  }
  write("mle_commitment", to_bytes(f.opened.commitment()));
  return 0;
}
#endif
