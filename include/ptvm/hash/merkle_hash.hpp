// The Merkle node hash of PROTOCOL.md §9.3 (newer upstream stwo, domain-separated), written once
// for host and device:
//   hash = Blake2s-256( prefix(64 bytes) ‖ [left ‖ right] ‖ LE32(v) for each value )
//   prefix = "leaf" + 60 zero bytes without children, "node" + 60 zero bytes with children.
// The prefix is exactly one block, so its compression is a constant chaining value
// (LEAF/NODE_INITIAL_STATE) and each hash starts from it with counter 64.
#pragma once
#include <cstdint>

#include "ptvm/common/hd.hpp"
#include "ptvm/hash/blake2s.hpp"

namespace ptvm::hash {

// "leaf" and "node" as little-endian u32: the first message word of the prefix block.
inline constexpr uint32_t kMerkleLeafPrefixWord = 0x6661656cu;
inline constexpr uint32_t kMerkleNodePrefixWord = 0x65646f6eu;

// Chaining value after compressing the prefix block (t = 64, not last), checked in the tests
// against a fresh compression (and the leaf one against PROTOCOL.md §9.3).
PTVM_HD PTVM_FORCEINLINE constexpr uint32_t merkle_leaf_initial_state(int i) {
  switch (i) {
    case 0: return 0x6510b1f7u;
    case 1: return 0xfd531f42u;
    case 2: return 0xcff75ec3u;
    case 3: return 0x382935d0u;
    case 4: return 0xab15dbf2u;
    case 5: return 0x950eb564u;
    case 6: return 0xe8e92866u;
    default: return 0x28047acau;
  }
}
PTVM_HD PTVM_FORCEINLINE constexpr uint32_t merkle_node_initial_state(int i) {
  switch (i) {
    case 0: return 0xe5cf8926u;
    case 1: return 0x841cea30u;
    case 2: return 0x7b4acadau;
    case 3: return 0xfc5d8d28u;
    case 4: return 0xfc6ef857u;
    case 5: return 0xb29da528u;
    case 6: return 0xc0d319c7u;
    default: return 0x8ae795c8u;
  }
}

// Hash of one Merkle node from words. children: the 16 words left ‖ right, or nullptr for a
// leaf; values: n_values M31 values as canonical u32. out: the 8 digest words (LE bytes of the
// digest = Blake2sHash::from_words(out)).
PTVM_HD inline void merkle_hash_node_words(const uint32_t* children, const uint32_t* values,
                                           uint32_t n_values, uint32_t out[8]) {
  uint32_t block[16];
  if (children == nullptr && n_values == 0) {
    // The message is the prefix alone, so the prefix block is the last block.
    blake2s_init_state(out);
    block[0] = kMerkleLeafPrefixWord;
    for (int i = 1; i < 16; ++i) block[i] = 0;
    blake2s_compress(out, block, 64, true);
    return;
  }
  for (int i = 0; i < 8; ++i) {
    out[i] = children ? merkle_node_initial_state(i) : merkle_leaf_initial_state(i);
  }
  uint64_t t = 64;
  if (children != nullptr) {
    for (int i = 0; i < 16; ++i) block[i] = children[i];
    t += 64;
    blake2s_compress(out, block, t, n_values == 0);
  }
  for (uint32_t start = 0; start < n_values; start += 16) {
    uint32_t k = n_values - start < 16 ? n_values - start : 16;
    for (uint32_t i = 0; i < 16; ++i) block[i] = i < k ? values[start + i] : 0;
    t += 4ull * k;
    blake2s_compress(out, block, t, start + 16 >= n_values);
  }
}

}  // namespace ptvm::hash
