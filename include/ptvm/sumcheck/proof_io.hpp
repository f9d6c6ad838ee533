// Byte encodings of the sumcheck-family proofs (sumcheck, product sumcheck, matrix products,
// binary-tree GKR, layered GKR, LogUp-GKR lookups, committed lookups, MLE openings) and of the
// MLE commitment.
//
// Format, little-endian throughout:
//   magic "PTVMSCPF" (8 bytes) ‖ u32 version (kSumcheckProofVersion)
//   ‖ u32 kind (SumcheckProofKind) ‖ the body ‖ nothing after it.
// Body items: u32; QM31 = four u32 coordinates (a, b, c, d), each < p; M31 = one u32 < p;
// hash = 32 bytes; list = u32 count then the items. The bodies, field by field:
//   RoundPolynomial        = list<QM31> coefficients
//   SumcheckProof          = list<RoundPolynomial> rounds
//   ProductSumcheckProof   = SumcheckProof ‖ list<QM31> final_values
//   MatmulProof            = list<QM31> product_claims ‖ ProductSumcheckProof
//   GkrProof               = list<list<QM31>> output ‖ list<ProductSumcheckProof> layers
//   LayeredGkrProof        = list<QM31> output ‖ list<ProductSumcheckProof> layers
//   LookupProof            = GkrProof
//   MleOpeningProof        = list<QM31> proximity_row ‖ list<QM31> evaluation_row
//                            ‖ list<M31> queried_values ‖ list<hash> hash_witness
//                            ‖ list<M31> column_witness
//   CommittedLookupProof   = GkrProof ‖ list<instance>, instance =
//                            list<QM31> value_evaluations ‖ QM31 multiplicity_evaluation
//                            ‖ list<MleOpeningProof> value_openings
//                            ‖ MleOpeningProof multiplicity_opening
//   MleCommitment          = hash root ‖ u32 n_vars ‖ u32 log_rows ‖ u32 log_blowup
//                            ‖ u32 n_queries (n_vars in 1..40, log_rows < n_vars; the rest
//                            is checked by the opening verifier)
//
// Readers keep ptvm's reader discipline: the input size is checked first (kMaxSumcheckProofBytes);
// every count is bounded (by a per-field limit and by the bytes left, before anything is
// allocated); every field value is canonical; the kind must be the one asked for; trailing bytes
// are an error. Errors are ptvm::Error(Parse) "sumcheck proof: <field path>: <why>"; nothing else
// is thrown on malformed input. Shapes the format allows but a statement does not (a wrong number
// of rounds, of coefficients) are the verifier's to reject.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/sumcheck/committed_lookup.hpp"
#include "ptvm/sumcheck/gkr.hpp"
#include "ptvm/sumcheck/layered_gkr.hpp"
#include "ptvm/sumcheck/logup_gkr.hpp"
#include "ptvm/sumcheck/matmul.hpp"
#include "ptvm/sumcheck/mle_commitment.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"

namespace ptvm::sumcheck {

inline constexpr uint32_t kSumcheckProofVersion = 1;
inline constexpr size_t kMaxSumcheckProofBytes = size_t{64} << 20;

enum class SumcheckProofKind : uint32_t {
  Sumcheck = 1,
  ProductSumcheck = 2,
  Matmul = 3,
  Gkr = 4,
  LayeredGkr = 5,
  Lookup = 6,
  CommittedLookup = 7,
  MleOpening = 8,
  MleCommitment = 9,
};

std::vector<uint8_t> to_bytes(const SumcheckProof& proof);
std::vector<uint8_t> to_bytes(const ProductSumcheckProof& proof);
std::vector<uint8_t> to_bytes(const MatmulProof& proof);
std::vector<uint8_t> to_bytes(const GkrProof& proof);
std::vector<uint8_t> to_bytes(const LayeredGkrProof& proof);
std::vector<uint8_t> to_bytes(const LookupProof& proof);
std::vector<uint8_t> to_bytes(const CommittedLookupProof& proof);
std::vector<uint8_t> to_bytes(const MleOpeningProof& proof);
std::vector<uint8_t> to_bytes(const MleCommitment& commitment);

SumcheckProof sumcheck_proof_from_bytes(std::span<const uint8_t> bytes);
ProductSumcheckProof product_sumcheck_proof_from_bytes(std::span<const uint8_t> bytes);
MatmulProof matmul_proof_from_bytes(std::span<const uint8_t> bytes);
GkrProof gkr_proof_from_bytes(std::span<const uint8_t> bytes);
LayeredGkrProof layered_gkr_proof_from_bytes(std::span<const uint8_t> bytes);
LookupProof lookup_proof_from_bytes(std::span<const uint8_t> bytes);
CommittedLookupProof committed_lookup_proof_from_bytes(std::span<const uint8_t> bytes);
MleOpeningProof mle_opening_proof_from_bytes(std::span<const uint8_t> bytes);
MleCommitment mle_commitment_from_bytes(std::span<const uint8_t> bytes);

// The kind named by an encoding's header (Parse error on a bad magic, version or kind).
SumcheckProofKind sumcheck_proof_kind(std::span<const uint8_t> bytes);

} // namespace ptvm::sumcheck
