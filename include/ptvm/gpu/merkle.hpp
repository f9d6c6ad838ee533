// BLAKE2s Merkle commitment of M31 columns on the device (kernels/merkle/blake2s_merkle.cu), the
// same tree as ptvm::hash::MerkleTree (PROTOCOL.md §9.1 shape, §9.3 prefixed node hash): layer k
// has 2^k nodes; node j hashes its two children in layer k+1 (if any) and value j of every column of
// length 2^k, in the order the columns were given. Rows are in the columns' storage order.
//
// Device layout of a layer of n nodes: WORD-MAJOR, word i (0..7) of node j at i * n + j, so a warp
// reads and writes 32 consecutive words per access (coalesced).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/field/m31.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/hash/blake2s.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// A device column (plain data, also stored in device memory as the kernel's column table).
struct DeviceColumnRef {
  const M31* data;
  uint64_t length;  // a power of two
};

// One layer: out_words (8 * n_nodes words) = node hashes; child_words (16 * n_nodes words, layer
// k+1 in word-major layout) or an empty gptr for the largest layer; columns: n_columns column refs
// (each of length n_nodes) in device memory.
void blake2s_merkle_layer(gptr<const uint32_t> child_words, gptr<const DeviceColumnRef> columns,
                          uint32_t n_columns, gptr<uint32_t> out_words, size_t n_nodes,
                          stream_t stream);

// The same layer of many trees: per tree its child layer (null for the largest layer), its column
// table (n_columns refs, each of length n_nodes) and its output layer. One launch (gridDim.y = trees,
// split at kMaxGridY) whatever the number of trees.
struct MerkleLayerJob {
  const uint32_t* child_words;
  const DeviceColumnRef* columns;
  uint32_t n_columns;
  uint32_t* out_words;
};
inline constexpr uint32_t kMaxGridY = 65535;
void blake2s_merkle_layers(gptr<const MerkleLayerJob> jobs, uint32_t n_jobs, size_t n_nodes,
                           stream_t stream);

// All layers of the tree of `columns` (mixed power-of-two lengths, any order).
class DeviceMerkleTree {
 public:
  // Throws ptvm::Error (Usage) on a length that is not a power of two or above 2^31.
  static DeviceMerkleTree commit(std::span<const DeviceColumnRef> columns, stream_t stream);

  // The trees of many column lists at once: trees of one shape (column log sizes in order) share
  // one launch per layer. Tree t equals commit(trees[t]).
  static std::vector<DeviceMerkleTree> commit_many(std::span<const std::vector<DeviceColumnRef>> trees,
                                                   stream_t stream);
  // The same, where leaves[t], when not empty, is tree t's largest layer already hashed (8 words
  // per node, word-major, over all of its columns of the largest length in order, as
  // blake2s_merkle_layer would hash them; written by a fused kernel: circle_evaluate_leaves_many,
  // the *_leaves FRI folds). It becomes the tree's layer; only the layers above are launched.
  static std::vector<DeviceMerkleTree> commit_many(std::span<const std::vector<DeviceColumnRef>> trees,
                                                   std::vector<DeviceBuffer<uint32_t>> leaves, stream_t stream);

  uint32_t max_log_size() const { return static_cast<uint32_t>(layers_.size()) - 1; }
  hash::Blake2sHash root(stream_t stream = nullptr) const { return node(0, 0, stream); }
  // Node j of layer k (downloads 8 words).
  hash::Blake2sHash node(uint32_t layer_log_size, size_t index, stream_t stream = nullptr) const;
  // Layer k in word-major layout.
  const DeviceBuffer<uint32_t>& layer_words(uint32_t layer_log_size) const {
    return layers_.at(layer_log_size);
  }

 private:
  std::vector<DeviceBuffer<uint32_t>> layers_;  // index = log size
};

PTVM_GPU_NAMESPACE_END
