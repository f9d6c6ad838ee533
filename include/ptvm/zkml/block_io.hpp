// The block proof file: one block proof or a decode chain.
//
// Little-endian throughout: magic "PTVMBLKP" ‖ u32 version (1) ‖ u32 count (1..4096) ‖ count proofs.
//   proof = claim ‖ list<i32> input ‖ list<i32> output ‖ graph proof
//   claim = str statement ‖ str shape (BlockShape::to_string) ‖ str quantization ‖ blob model
//           ‖ hash input_digest ‖ hash output_digest ‖ u32 decode (0, 1) ‖ u32 position
//           ‖ [blob cache_in ‖ blob cache_out when decode]
//   graph proof = blob advice_commitment ‖ u32 has_cache_out ‖ [blob cache_out_commitment]
//           ‖ u32 has_lookups ‖ [blob GkrProof] ‖ list<QM31> lookup_values
//           ‖ list<step> ‖ list<blob MleOpeningProof>
//   step  = list<QM31> values ‖ u32 has_sumcheck ‖ [blob ProductSumcheckProof]
// str = u32 length (<= 256) then bytes; hash = 32 bytes; list = u32 count then items; QM31 = four
// canonical u32; blob = u32 length then a PTVMSCPF encoding (sumcheck/proof_io.hpp, its strict
// reader) of the named kind. The reader checks the size first (kMaxBlockProofBytes), bounds every
// count by the bytes left before allocating, and refuses trailing bytes; errors are
// ptvm::Error(Parse) "block proof: <field>: <why>".
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/zkml/block.hpp"

namespace ptvm::zkml {

inline constexpr size_t kMaxBlockProofBytes = size_t{1} << 30;

std::vector<uint8_t> block_proofs_to_bytes(std::span<const BlockProof> proofs);
std::vector<BlockProof> block_proofs_from_bytes(std::span<const uint8_t> bytes);
bool is_block_proof_file(std::span<const uint8_t> bytes);  // by the magic

}  // namespace ptvm::zkml
