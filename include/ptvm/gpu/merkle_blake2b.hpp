// BLAKE2b-256 Merkle commitment on the device (kernels/merkle/blake2b_merkle.cu): the tree of
// hash::GenericMerkleTree<hash::Blake2bMerkleHasher, Value> for values whose to_bytes_le is their
// memory image (M31: 4 bytes; QM31 and canonical F128: 16 bytes). Same shape as the BLAKE2s tree
// (ptvm/gpu/merkle.hpp); node hash H("leaf"/"node" padded to 128 bytes ‖ [left ‖ right] ‖ values).
// Digests are stored word-major, 8 u32 words per node (word i of node j at i * n + j).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/hash/blake2b.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// A device column of `length` values of value_words u32 words each (plain data).
struct DeviceValueColumnRef {
  const uint32_t* words;
  uint64_t length;
};

class DeviceBlake2bMerkleTree {
 public:
  // value_words: 1 (4-byte values) or 4 (16-byte values); columns of power-of-two lengths <= 2^31,
  // mixed sizes, any order. Throws ptvm::Error (Usage) otherwise.
  static DeviceBlake2bMerkleTree commit(std::span<const DeviceValueColumnRef> columns,
                                        uint32_t value_words, stream_t stream);

  uint32_t max_log_size() const { return static_cast<uint32_t>(layers_.size()) - 1; }
  hash::Blake2b256Hash root(stream_t stream = nullptr) const { return node(0, 0, stream); }
  hash::Blake2b256Hash node(uint32_t layer_log_size, size_t index, stream_t stream = nullptr) const;
  const DeviceBuffer<uint32_t>& layer_words(uint32_t layer_log_size) const {
    return layers_.at(layer_log_size);
  }

 private:
  std::vector<DeviceBuffer<uint32_t>> layers_;
};

PTVM_GPU_NAMESPACE_END
