// The circle-STARK proof object and its two encodings (JSON through nlohmann_json, and a compact
// little-endian binary form). Both round-trip exactly; both readers reject malformed, truncated,
// oversized and non-canonical input with a ptvm::Error(Parse) that names the field.
//
// Layout follows PROTOCOL.md §10 "Proof layout": per PCS tree (0 preprocessed, 1 main,
// 2 interaction, 3 composition) a commitment, the sampled values [column][sample], the Merkle
// decommitment and the queried values; then the proof of work and the FRI proof.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/stark/profile.hpp"

namespace ptvm::stark {

// 2: queries are drawn in distinct first-layer FRI pairs (version 1 drew them with replacement).
// 3: succinct preprocessed columns (row selectors, ptvm/air/succinct.hpp) are not in tree 0, whose
//    sampled and queried values a version-2 reader would mis-assign.
inline constexpr uint32_t kProofFormatVersion = 3;
inline constexpr size_t kNumTrees = 4;
enum Tree : size_t { kPreprocessedTree = 0, kMainTree = 1, kInteractionTree = 2, kCompositionTree = 3 };

struct FriLayerProof {
  std::vector<QM31> fri_witness;         // sibling values the verifier cannot compute
  hash::MerkleDecommitment decommitment;
  hash::Blake2sHash commitment;
};

struct FriProof {
  FriLayerProof first_layer;
  std::vector<FriLayerProof> inner_layers;
  std::vector<QM31> last_layer_poly;     // 2^log_last_layer_degree_bound coefficients (line basis)
};

struct StarkProof {
  Profile profile;
  std::array<hash::Blake2sHash, kNumTrees> commitments{};
  std::vector<QM31> claimed_sums;                                      // LogUp sum per component
  std::array<std::vector<std::vector<QM31>>, kNumTrees> sampled_values;  // [tree][column][sample]
  std::array<hash::MerkleDecommitment, kNumTrees> decommitments;
  std::array<std::vector<M31>, kNumTrees> queried_values;
  uint64_t proof_of_work = 0;
  FriProof fri;
};

// Limits every reader enforces (a proof above them is "oversized").
inline constexpr size_t kMaxProofBytes = size_t{64} << 20;     // 64 MiB, either encoding
inline constexpr size_t kMaxVectorLength = size_t{1} << 22;    // elements in any one list

std::string proof_to_json(const StarkProof& proof);        // compact, deterministic
// Strict readers (ptvm/common/json_reader.hpp: size, depth, duplicate keys) of the JSON form; the
// second takes an already parsed value (e.g. the "proof" member of a proof file, parsed once).
StarkProof proof_from_json(std::string_view text);
StarkProof proof_from_json_value(const nlohmann::json& value);
std::vector<uint8_t> proof_to_binary(const StarkProof& proof);
StarkProof proof_from_binary(std::span<const uint8_t> bytes);

// Serialized size in bytes of the binary form (what "proof size" reports).
size_t proof_binary_size(const StarkProof& proof);

}  // namespace ptvm::stark
