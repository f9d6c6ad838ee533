// BLAKE2s Merkle layers on the device (declared in ptvm/gpu/merkle.hpp). One thread per node: the
// node's hash is one chain of compressions (children block, then 16 column values per block), all
// through the shared PTVM_HD code of ptvm/hash/merkle_hash.hpp's constants and blake2s_compress.
// Column values are read column by column, so a warp reads 32 consecutive words (4 sectors) per
// request; digests are word-major for the same reason. The column table goes through shared memory
// in chunks, so every thread does not re-read it from global memory.
#include <map>
#include <string>

#include "../common/field_access.cuh"
#include "ptvm/gpu/merkle.hpp"
#include "ptvm/hash/merkle_hash.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace ptvm::kernels {
namespace {

using gpu::DeviceColumnRef;
constexpr unsigned kMerkleThreads = 256;
constexpr unsigned kColumnChunk = 64;  // column refs staged in shared memory at a time

__device__ PTVM_FORCEINLINE void merkle_layer(gptr<const uint32_t> child_words,
                                             gptr<const DeviceColumnRef> columns,
                                             uint32_t n_columns, gptr<uint32_t> out_words,
                                             size_t n_nodes) {
  PTVM_SHARED(DeviceColumnRef, column_chunk, kColumnChunk);
  const bool has_children = static_cast<bool>(child_words);
  // Whole blocks iterate together (uniform trip count) because of the barriers below.
  for (size_t first = static_cast<size_t>(blockIdx.x) * blockDim.x; first < n_nodes;
       first += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const size_t j = first + threadIdx.x;
    const bool active = j < n_nodes;
    uint32_t h[8], block[16];
    uint64_t t = 64;  // the prefix block is already folded into the initial state
    for (int i = 0; i < 8; ++i)
      h[i] = has_children ? hash::merkle_node_initial_state(i) : hash::merkle_leaf_initial_state(i);
    if (has_children && active) {
      // Words i of children 2j and 2j+1 are adjacent in the child layer: one 8-byte access.
      const gptr<const uint2> pairs = child_words.template as<const uint2>();
      for (int i = 0; i < 8; ++i) {
        const uint2 w = pairs.load(static_cast<size_t>(i) * n_nodes + j);
        block[i] = w.x;
        block[8 + i] = w.y;
      }
      t += 64;
      hash::blake2s_compress(h, block, t, n_columns == 0);
    }
    for (uint32_t chunk = 0; chunk < n_columns; chunk += kColumnChunk) {
      const uint32_t in_chunk = n_columns - chunk < kColumnChunk ? n_columns - chunk : kColumnChunk;
      __syncthreads();  // the previous chunk is no longer read
      if (threadIdx.x < in_chunk) column_chunk[threadIdx.x] = columns.load(chunk + threadIdx.x);
      __syncthreads();
      if (!active) continue;
      for (uint32_t start = 0; start < in_chunk; start += 16) {
        const uint32_t k = in_chunk - start < 16 ? in_chunk - start : 16;
        for (uint32_t i = 0; i < 16; ++i) {
          if (i < k) {
            const DeviceColumnRef c = column_chunk[start + i];
            block[i] = gptr<const M31>(c.data, c.length).load(j).v;
          } else {
            block[i] = 0;
          }
        }
        t += 4ull * k;
        hash::blake2s_compress(h, block, t, chunk + start + k == n_columns);
      }
    }
    if (!active) continue;
    if (!has_children && n_columns == 0) {
      // A node with neither children nor values (the empty tree): hash of the prefix alone.
      hash::merkle_hash_node_words(nullptr, nullptr, 0, h);
    }
    for (int i = 0; i < 8; ++i) out_words.store(static_cast<size_t>(i) * n_nodes + j, h[i]);
  }
}

__global__ void blake2s_merkle_layer_kernel(gptr<const uint32_t> child_words,
                                            gptr<const DeviceColumnRef> columns,
                                            uint32_t n_columns, gptr<uint32_t> out_words,
                                            size_t n_nodes) {
  merkle_layer(child_words, columns, n_columns, out_words, n_nodes);
}

// The same layer of many trees of one shape: tree blockIdx.y.
__global__ void blake2s_merkle_layers_kernel(gptr<const gpu::MerkleLayerJob> jobs, size_t n_nodes) {
  const gpu::MerkleLayerJob job = jobs.load(blockIdx.y);
  gptr<const uint32_t> children;
  if (job.child_words) children = gptr<const uint32_t>(job.child_words, 16 * n_nodes);
  merkle_layer(children, gptr<const DeviceColumnRef>(job.columns, job.n_columns), job.n_columns,
               gptr<uint32_t>(job.out_words, 8 * n_nodes), n_nodes);
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void blake2s_merkle_layer(gptr<const uint32_t> child_words, gptr<const DeviceColumnRef> columns,
                          uint32_t n_columns, gptr<uint32_t> out_words, size_t n_nodes,
                          stream_t stream) {
  if (n_nodes == 0) return;
  PTVM_LAUNCH(blake2s_merkle_layer_kernel, grid_stride_blocks(n_nodes, kMerkleThreads),
              kMerkleThreads, 0, stream)(child_words, columns, n_columns, out_words, n_nodes);
  PTVM_CHECK_LAUNCH("blake2s_merkle_layer_kernel");
#if defined(PTVM_HOSTSIM)
  hostsim::declare_kernel_ops("blake2s_merkle_layer_kernel",
                              n_nodes * ((child_words ? 1 : 0) + (n_columns + 15) / 16) * hostsim::kBlake2sCompressionOps);
#endif
}

DeviceMerkleTree DeviceMerkleTree::commit(std::span<const DeviceColumnRef> columns,
                                          stream_t stream) {
  uint32_t max_log = 0;
  std::vector<std::vector<DeviceColumnRef>> by_log(32);
  for (size_t c = 0; c < columns.size(); ++c) {
    const uint64_t n = columns[c].length;
    if (n == 0 || (n & (n - 1)) || n > (uint64_t{1} << 31))
      throw Error(ErrorCategory::Usage, "DeviceMerkleTree::commit: column " + std::to_string(c) +
                                            " has length " + std::to_string(n) +
                                            ", expected a power of two <= 2^31");
    uint32_t log = 0;
    while ((uint64_t{1} << log) < n) ++log;
    by_log[log].push_back(columns[c]);
    if (log > max_log) max_log = log;
  }
  DeviceMerkleTree tree;
  tree.layers_.resize(max_log + 1);
  std::vector<DeviceBuffer<DeviceColumnRef>> tables;  // kept alive until the stream is done
  for (int log = static_cast<int>(max_log); log >= 0; --log) {
    const size_t n_nodes = size_t{1} << log;
    tree.layers_[log] = DeviceBuffer<uint32_t>(8 * n_nodes);
    const auto& cols = by_log[log];
    tables.push_back(DeviceBuffer<DeviceColumnRef>::from_host(cols, stream));
    gptr<const uint32_t> children;
    if (log < static_cast<int>(max_log)) children = tree.layers_[log + 1].cptr();
    blake2s_merkle_layer(children, tables.back().cptr(), static_cast<uint32_t>(cols.size()),
                         tree.layers_[log].ptr(), n_nodes, stream);
  }
  synchronize_before_free(stream);
  return tree;
}

void blake2s_merkle_layers(gptr<const MerkleLayerJob> jobs, uint32_t n_jobs, size_t n_nodes,
                           stream_t stream) {
  if (n_nodes == 0 || n_jobs == 0) return;
  for (uint32_t first = 0; first < n_jobs; first += kMaxGridY) {
    const uint32_t count = n_jobs - first < kMaxGridY ? n_jobs - first : kMaxGridY;
    PTVM_LAUNCH(blake2s_merkle_layers_kernel, dim3(grid_stride_blocks(n_nodes, kMerkleThreads, 132 * 16 / count + 1), count),
                kMerkleThreads, 0, stream)(jobs.offset(first), n_nodes);
    PTVM_CHECK_LAUNCH("blake2s_merkle_layers_kernel");
  }
}

std::vector<DeviceMerkleTree> DeviceMerkleTree::commit_many(std::span<const std::vector<DeviceColumnRef>> trees,
                                                            stream_t stream) {
  return commit_many(trees, std::vector<DeviceBuffer<uint32_t>>(trees.size()), stream);
}

std::vector<DeviceMerkleTree> DeviceMerkleTree::commit_many(std::span<const std::vector<DeviceColumnRef>> trees,
                                                            std::vector<DeviceBuffer<uint32_t>> leaves,
                                                            stream_t stream) {
  if (leaves.size() != trees.size())
    throw Error(ErrorCategory::Usage, "DeviceMerkleTree::commit_many: " + std::to_string(leaves.size()) +
                                          " leaf layers for " + std::to_string(trees.size()) + " trees");
  // Trees of one shape (column log sizes in order) share every layer launch.
  std::vector<DeviceMerkleTree> out(trees.size());
  std::map<std::vector<uint32_t>, std::vector<size_t>> by_shape;
  std::vector<std::vector<std::vector<DeviceColumnRef>>> by_log(trees.size());
  for (size_t t = 0; t < trees.size(); ++t) {
    std::vector<uint32_t> shape;
    by_log[t].resize(32);
    for (size_t c = 0; c < trees[t].size(); ++c) {
      const uint64_t n = trees[t][c].length;
      if (n == 0 || (n & (n - 1)) || n > (uint64_t{1} << 31))
        throw Error(ErrorCategory::Usage, "DeviceMerkleTree::commit_many: tree " + std::to_string(t) + " column " +
                                              std::to_string(c) + " has length " + std::to_string(n) +
                                              ", expected a power of two <= 2^31");
      uint32_t log = 0;
      while ((uint64_t{1} << log) < n) ++log;
      shape.push_back(log);
      by_log[t][log].push_back(trees[t][c]);
    }
    by_shape[shape].push_back(t);
  }
  std::vector<DeviceBuffer<DeviceColumnRef>> tables;  // kept alive until the stream is done
  std::vector<DeviceBuffer<MerkleLayerJob>> job_tables;
  for (const auto& [shape, members] : by_shape) {
    uint32_t max_log = 0;
    for (uint32_t l : shape) max_log = l > max_log ? l : max_log;
    // One column table for all trees and layers of this shape, sliced per (tree, layer).
    std::vector<DeviceColumnRef> all_refs;
    std::vector<std::vector<size_t>> first_ref(members.size(), std::vector<size_t>(max_log + 1));
    for (size_t m = 0; m < members.size(); ++m)
      for (uint32_t log = 0; log <= max_log; ++log) {
        first_ref[m][log] = all_refs.size();
        const auto& cols = by_log[members[m]][log];
        all_refs.insert(all_refs.end(), cols.begin(), cols.end());
      }
    tables.push_back(DeviceBuffer<DeviceColumnRef>::from_host(all_refs, stream));
    const DeviceColumnRef* table = tables.back().data();
    for (size_t m = 0; m < members.size(); ++m) out[members[m]].layers_.resize(max_log + 1);
    for (int log = static_cast<int>(max_log); log >= 0; --log) {
      const size_t n_nodes = size_t{1} << log;
      std::vector<MerkleLayerJob> jobs;
      for (size_t m = 0; m < members.size(); ++m) {
        DeviceMerkleTree& tree = out[members[m]];
        DeviceBuffer<uint32_t>& given = leaves[members[m]];
        if (log == static_cast<int>(max_log) && given.size() != 0) {
          // The leaf layer a fused kernel already hashed (over the same columns, in the same order).
          if (given.size() != 8 * n_nodes)
            throw Error(ErrorCategory::Usage, "DeviceMerkleTree::commit_many: tree " + std::to_string(members[m]) +
                                                  " leaf layer of " + std::to_string(given.size()) + " words, expected " +
                                                  std::to_string(8 * n_nodes));
          tree.layers_[log] = std::move(given);
          continue;
        }
        tree.layers_[log] = DeviceBuffer<uint32_t>(8 * n_nodes);
        MerkleLayerJob job;
        job.child_words = log < static_cast<int>(max_log) ? tree.layers_[log + 1].data() : nullptr;
        job.columns = table + first_ref[m][log];
        job.n_columns = static_cast<uint32_t>(by_log[members[m]][log].size());
        job.out_words = tree.layers_[log].data();
        jobs.push_back(job);
      }
      if (jobs.empty()) continue;
      job_tables.push_back(DeviceBuffer<MerkleLayerJob>::from_host(jobs, stream));
#if defined(PTVM_HOSTSIM)
      uint64_t compressions = 0;
      for (const MerkleLayerJob& j : jobs) compressions += (j.child_words ? 1 : 0) + (j.n_columns + 15) / 16;
      hostsim::declare_kernel_ops("blake2s_merkle_layers_kernel", n_nodes * compressions * hostsim::kBlake2sCompressionOps);
#endif
      blake2s_merkle_layers(job_tables.back().cptr(), static_cast<uint32_t>(jobs.size()), n_nodes, stream);
    }
  }
  synchronize_before_free(stream);
  return out;
}

hash::Blake2sHash DeviceMerkleTree::node(uint32_t layer_log_size, size_t index,
                                         stream_t stream) const {
  if (layer_log_size >= layers_.size() || index >= (size_t{1} << layer_log_size))
    throw Error(ErrorCategory::Usage, "DeviceMerkleTree::node: no node " + std::to_string(index) +
                                          " in layer " + std::to_string(layer_log_size));
  const size_t n = size_t{1} << layer_log_size;
  uint32_t words[8];
  for (int i = 0; i < 8; ++i)
    layers_[layer_log_size].download(std::span<uint32_t>(&words[i], 1), stream, i * n + index);
  return hash::Blake2sHash::from_words(words);
}

PTVM_GPU_NAMESPACE_END
