// BLAKE2b-256 Merkle layers (declared in ptvm/gpu/merkle_blake2b.hpp). One thread per node, the
// message streamed as u32 words into 128-byte blocks (a full block is compressed only when the
// next word arrives, so the final one carries the last-block flag); the prefix block's
// compression is a per-tree constant computed once on the host with the same PTVM_HD function.
#include <string>

#include "../common/field_access.cuh"
#include "ptvm/gpu/merkle_blake2b.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace ptvm::kernels {
namespace {

using gpu::DeviceValueColumnRef;
constexpr unsigned kThreads = 128;
constexpr unsigned kColumnChunk = 64;

struct PrefixStates {
  uint64_t leaf[8];   // chaining value after the "leaf" prefix block (t = 128)
  uint64_t node[8];   // after the "node" prefix block
  uint32_t empty[8];  // digest of the prefix alone (the empty tree's root)
};

// Appends message words to a BLAKE2b chain.
struct Blake2bStream {
  uint64_t h[8];
  uint64_t block[16];
  uint32_t words = 0;  // words in `block`
  uint64_t t = 128;

  __device__ PTVM_FORCEINLINE void push(uint32_t word) {
    if (words == 32) {
      t += 128;
      hash::blake2b_compress(h, block, t, false);
      words = 0;
    }
    if ((words & 1) == 0) block[words >> 1] = word;
    else block[words >> 1] |= static_cast<uint64_t>(word) << 32;
    ++words;
  }
  __device__ PTVM_FORCEINLINE void finish() {
    for (uint32_t w = (words + 1) >> 1; w < 16; ++w) block[w] = 0;
    t += 4ull * words;
    hash::blake2b_compress(h, block, t, true);
  }
};

__global__ void blake2b_merkle_layer_kernel(gptr<const uint32_t> child_words,
                                            gptr<const DeviceValueColumnRef> columns,
                                            uint32_t n_columns, uint32_t value_words,
                                            gptr<uint32_t> out_words, size_t n_nodes,
                                            PrefixStates prefix) {
  PTVM_SHARED(DeviceValueColumnRef, column_chunk, kColumnChunk);
  const bool has_children = static_cast<bool>(child_words);
  for (size_t first = static_cast<size_t>(blockIdx.x) * blockDim.x; first < n_nodes;
       first += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const size_t j = first + threadIdx.x;
    const bool active = j < n_nodes;
    Blake2bStream s;
    for (int i = 0; i < 8; ++i) s.h[i] = has_children ? prefix.node[i] : prefix.leaf[i];
    if (has_children && active) {
      const gptr<const uint2> pairs = child_words.template as<const uint2>();
      uint32_t right[8];
      for (int i = 0; i < 8; ++i) {
        const uint2 w = pairs.load(static_cast<size_t>(i) * n_nodes + j);
        s.push(w.x);
        right[i] = w.y;
      }
      for (int i = 0; i < 8; ++i) s.push(right[i]);
    }
    for (uint32_t chunk = 0; chunk < n_columns; chunk += kColumnChunk) {
      const uint32_t in_chunk = n_columns - chunk < kColumnChunk ? n_columns - chunk : kColumnChunk;
      __syncthreads();
      if (threadIdx.x < in_chunk) column_chunk[threadIdx.x] = columns.load(chunk + threadIdx.x);
      __syncthreads();
      if (!active) continue;
      for (uint32_t c = 0; c < in_chunk; ++c) {
        const DeviceValueColumnRef col = column_chunk[c];
        if (value_words == 4) {  // one 16-byte access per value
          const uint4 v = gptr<const uint4>(reinterpret_cast<const uint4*>(col.words), col.length).load(j);
          s.push(v.x);
          s.push(v.y);
          s.push(v.z);
          s.push(v.w);
        } else {
          s.push(gptr<const uint32_t>(col.words, col.length).load(j));
        }
      }
    }
    if (!active) continue;
    uint32_t digest[8];
    if (!has_children && n_columns == 0) {
      for (int i = 0; i < 8; ++i) digest[i] = prefix.empty[i];
    } else {
      s.finish();
      for (int i = 0; i < 4; ++i) {
        digest[2 * i] = static_cast<uint32_t>(s.h[i]);
        digest[2 * i + 1] = static_cast<uint32_t>(s.h[i] >> 32);
      }
    }
    for (int i = 0; i < 8; ++i) out_words.store(static_cast<size_t>(i) * n_nodes + j, digest[i]);
  }
}

PrefixStates prefix_states() {
  PrefixStates p{};
  uint64_t block[16] = {};
  const char* tags[2] = {"leaf", "node"};
  for (int k = 0; k < 2; ++k) {
    uint64_t* h = k == 0 ? p.leaf : p.node;
    hash::blake2b_init_state(h, 32);
    block[0] = static_cast<uint64_t>(static_cast<uint8_t>(tags[k][0])) |
               static_cast<uint64_t>(static_cast<uint8_t>(tags[k][1])) << 8 |
               static_cast<uint64_t>(static_cast<uint8_t>(tags[k][2])) << 16 |
               static_cast<uint64_t>(static_cast<uint8_t>(tags[k][3])) << 24;
    uint64_t empty[8];
    for (int i = 0; i < 8; ++i) empty[i] = h[i];
    hash::blake2b_compress(h, block, 128, false);
    if (k == 0) {
      hash::blake2b_compress(empty, block, 128, true);
      for (int i = 0; i < 4; ++i) {
        p.empty[2 * i] = static_cast<uint32_t>(empty[i]);
        p.empty[2 * i + 1] = static_cast<uint32_t>(empty[i] >> 32);
      }
    }
  }
  return p;
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

DeviceBlake2bMerkleTree DeviceBlake2bMerkleTree::commit(std::span<const DeviceValueColumnRef> columns,
                                                        uint32_t value_words, stream_t stream) {
  if (value_words != 1 && value_words != 4)
    throw Error(ErrorCategory::Usage, "DeviceBlake2bMerkleTree::commit: value_words " +
                                          std::to_string(value_words) + ", expected 1 or 4");
  uint32_t max_log = 0;
  std::vector<std::vector<DeviceValueColumnRef>> by_log(32);
  for (size_t c = 0; c < columns.size(); ++c) {
    const uint64_t n = columns[c].length;
    if (n == 0 || (n & (n - 1)) || n > (uint64_t{1} << 31))
      throw Error(ErrorCategory::Usage, "DeviceBlake2bMerkleTree::commit: column " +
                                            std::to_string(c) + " has length " + std::to_string(n) +
                                            ", expected a power of two <= 2^31");
    uint32_t log = 0;
    while ((uint64_t{1} << log) < n) ++log;
    by_log[log].push_back(columns[c]);
    if (log > max_log) max_log = log;
  }
  const PrefixStates prefix = prefix_states();
  DeviceBlake2bMerkleTree tree;
  tree.layers_.resize(max_log + 1);
  std::vector<DeviceBuffer<DeviceValueColumnRef>> tables;
  for (int log = static_cast<int>(max_log); log >= 0; --log) {
    const size_t n_nodes = size_t{1} << log;
    tree.layers_[log] = DeviceBuffer<uint32_t>(8 * n_nodes);
    const auto& cols = by_log[log];
    tables.push_back(DeviceBuffer<DeviceValueColumnRef>::from_host(cols, stream));
    gptr<const uint32_t> children;
    if (log < static_cast<int>(max_log)) children = tree.layers_[log + 1].cptr();
    PTVM_LAUNCH(blake2b_merkle_layer_kernel, grid_stride_blocks(n_nodes, kThreads), kThreads, 0,
                stream)(children, tables.back().cptr(), static_cast<uint32_t>(cols.size()),
                        value_words, tree.layers_[log].ptr(), n_nodes, prefix);
    PTVM_CHECK_LAUNCH("blake2b_merkle_layer_kernel");
#if defined(PTVM_HOSTSIM)
    // Compressions per node: the message after the prefix block, in 128-byte blocks.
    const uint64_t message_bytes = (children ? 64 : 0) + uint64_t{4} * value_words * cols.size();
    hostsim::declare_kernel_ops("blake2b_merkle_layer_kernel",
                                n_nodes * ((message_bytes + 127) / 128) * hostsim::kBlake2bCompressionOps);
#endif
  }
  synchronize(stream);
  return tree;
}

hash::Blake2b256Hash DeviceBlake2bMerkleTree::node(uint32_t layer_log_size, size_t index,
                                                   stream_t stream) const {
  if (layer_log_size >= layers_.size() || index >= (size_t{1} << layer_log_size))
    throw Error(ErrorCategory::Usage, "DeviceBlake2bMerkleTree::node: no node " +
                                          std::to_string(index) + " in layer " +
                                          std::to_string(layer_log_size));
  const size_t n = size_t{1} << layer_log_size;
  hash::Blake2b256Hash out;
  for (int i = 0; i < 8; ++i) {
    uint32_t word = 0;
    layers_[layer_log_size].download(std::span<uint32_t>(&word, 1), stream, i * n + index);
    for (int b = 0; b < 4; ++b) out.bytes[4 * i + b] = static_cast<uint8_t>(word >> (8 * b));
  }
  return out;
}

PTVM_GPU_NAMESPACE_END
