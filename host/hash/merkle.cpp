// Merkle tree of mixed-size M31 columns: commit (16 nodes at a time with the x16 hasher),
// decommit and verify (the walk of PROTOCOL.md §9.4, after stwo's vcs prover/verifier).
#include "ptvm/common/threads.hpp"
#include "ptvm/hash/merkle.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <thread>

#include "ptvm/common/error.hpp"
#include "ptvm/hash/blake2s_x16.hpp"
#include "ptvm/hash/merkle_hash.hpp"

namespace ptvm::hash {

static_assert(sizeof(M31) == sizeof(uint32_t), "M31 columns are read as u32 words");

namespace {

// Position of word i of node j in a layer of 2^layer_log_size nodes (see MerkleTree::layers_).
inline size_t layer_word_index(uint32_t layer_log_size, size_t j, int i) {
  if (layer_log_size >= 4) return (j >> 4) * 128 + size_t(i) * 16 + (j & 15);
  return j * 8 + size_t(i);
}

inline const uint32_t* column_words(std::span<const M31> column) {
  return reinterpret_cast<const uint32_t*>(column.data());
}

// Lanes 0,2,..,30 (even) or 1,3,..,31 (odd) of the 32-lane concatenation a ‖ b: the left or right
// children of 16 consecutive parents, given the hashes of their 32 children as two blocks.
inline U32x16 even_lanes(U32x16 a, U32x16 b) {
#if defined(__clang__)
  return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
#else
  const U32x16 mask = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
  return __builtin_shuffle(a, b, mask);
#endif
}
inline U32x16 odd_lanes(U32x16 a, U32x16 b) {
#if defined(__clang__)
  return __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
#else
  const U32x16 mask = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
  return __builtin_shuffle(a, b, mask);
#endif
}

// Hashes the 16 nodes of one block: children (if any) are the 32 child hashes as two blocks in
// register layout (low = children 0..15, high = 16..31), values are 16 consecutive rows of each
// column of this layer.
PTVM_FORCEINLINE void hash_block_x16(const U32x16* children_low, const U32x16* children_high,
                                     const std::vector<const uint32_t*>& columns, size_t block,
                                     U32x16 out[8]) {
  const bool has_children = children_low != nullptr;
  for (int i = 0; i < 8; ++i) {
    out[i] = u32x16_splat(has_children ? merkle_node_initial_state(i) : merkle_leaf_initial_state(i));
  }
  U32x16 m[16];
  int n_words = 0;
  uint64_t t = 64;  // the prefix block is already in out
  if (has_children) {
    for (int i = 0; i < 8; ++i) {
      m[i] = even_lanes(children_low[i], children_high[i]);
      m[8 + i] = odd_lanes(children_low[i], children_high[i]);
    }
    n_words = 16;
  }
  for (const uint32_t* column : columns) {
    if (n_words == 16) {  // a full block with more words after it: not the last block
      t += 64;
      blake2s_compress_x16(out, m, t, false);
      n_words = 0;
    }
    m[n_words++] = u32x16_load(column + 16 * block);
  }
  for (int i = n_words; i < 16; ++i) m[i] = U32x16{};
  t += 4ull * n_words;
  blake2s_compress_x16(out, m, t, true);
}

// What the hashing of one tree needs: the columns of each layer and the largest layer.
struct CommitLayout {
  uint32_t max_log_size;
  std::vector<std::vector<const uint32_t*>> columns_by_layer;  // [log size] -> column words
};

// Block `block` of layer `log_size` (>= 4) from scratch, hashing its whole subtree down to the
// largest layer without storing it (a subtree of depth d reads 2^d blocks: cache resident).
void hash_subtree_block_x16(const CommitLayout& layout, uint32_t log_size, size_t block,
                            U32x16 out[8]) {
  if (log_size == layout.max_log_size) {
    hash_block_x16(nullptr, nullptr, layout.columns_by_layer[log_size], block, out);
    return;
  }
  U32x16 low[8], high[8];
  hash_subtree_block_x16(layout, log_size + 1, 2 * block, low);
  hash_subtree_block_x16(layout, log_size + 1, 2 * block + 1, high);
  hash_block_x16(low, high, layout.columns_by_layer[log_size], block, out);
}

// Hashes every node of a layer with < 16 nodes, one at a time.
void hash_small_layer(uint32_t layer_log_size, const uint32_t* child_layer,
                      const std::vector<const uint32_t*>& columns, uint32_t* out) {
  const size_t n_nodes = size_t(1) << layer_log_size;
  std::vector<uint32_t> values(columns.size());
  for (size_t j = 0; j < n_nodes; ++j) {
    uint32_t children[16];
    if (child_layer) {
      for (int i = 0; i < 8; ++i) {
        children[i] = child_layer[layer_word_index(layer_log_size + 1, 2 * j, i)];
        children[8 + i] = child_layer[layer_word_index(layer_log_size + 1, 2 * j + 1, i)];
      }
    }
    for (size_t c = 0; c < columns.size(); ++c) values[c] = columns[c][j];
    uint32_t digest[8];
    merkle_hash_node_words(child_layer ? children : nullptr, values.data(),
                           static_cast<uint32_t>(values.size()), digest);
    for (int i = 0; i < 8; ++i) out[layer_word_index(layer_log_size, j, i)] = digest[i];
  }
}

using detail::merkle_position_text;

}  // namespace

Blake2sHash merkle_node_hash(const std::optional<std::pair<Blake2sHash, Blake2sHash>>& children,
                             std::span<const M31> values) {
  uint32_t child_words[16];
  if (children) {
    auto left = children->first.words(), right = children->second.words();
    for (int i = 0; i < 8; ++i) {
      child_words[i] = left[i];
      child_words[8 + i] = right[i];
    }
  }
  std::vector<uint32_t> value_words(values.size());
  for (size_t i = 0; i < values.size(); ++i) value_words[i] = values[i].v;
  uint32_t digest[8];
  merkle_hash_node_words(children ? child_words : nullptr, value_words.data(),
                         static_cast<uint32_t>(value_words.size()), digest);
  return Blake2sHash::from_words(digest);
}

// ---- MerkleTree ----------------------------------------------------------------------------

MerkleTree MerkleTree::commit(std::vector<std::span<const M31>> columns, unsigned n_threads) {
  if (n_threads == 0) n_threads = configured_thread_count();
  MerkleTree tree;
  uint32_t max_log_size = 0;
  for (size_t c = 0; c < columns.size(); ++c) {
    const size_t n = columns[c].size();
    if (n == 0 || !std::has_single_bit(n) || std::countr_zero(n) > int(kMerkleMaxLogSize)) {
      throw Error(ErrorCategory::Usage,
                  "MerkleTree::commit: column " + std::to_string(c) + " has length " +
                      std::to_string(n) + ", not a power of two in [1, 2^" +
                      std::to_string(kMerkleMaxLogSize) + "]");
    }
    const uint32_t log_size = static_cast<uint32_t>(std::countr_zero(n));
    tree.column_log_sizes_.push_back(log_size);
    max_log_size = std::max(max_log_size, log_size);
  }
  tree.columns_ = std::move(columns);
  tree.columns_by_log_size_.resize(max_log_size + 1);
  for (size_t c = 0; c < tree.columns_.size(); ++c) {
    tree.columns_by_log_size_[tree.column_log_sizes_[c]].push_back(c);
  }
  tree.max_log_size_ = max_log_size;
  if (tree.columns_.empty()) {
    uint32_t digest[8];
    merkle_hash_node_words(nullptr, nullptr, 0, digest);
    tree.layers_.emplace_back(digest, digest + 8);
    return tree;
  }
  CommitLayout layout{max_log_size, std::vector<std::vector<const uint32_t*>>(max_log_size + 1)};
  for (size_t c = 0; c < tree.columns_.size(); ++c) {
    layout.columns_by_layer[tree.column_log_sizes_[c]].push_back(column_words(tree.columns_[c]));
  }
  // Large trees: the kUnstoredLayers largest layers are hashed subtree by subtree and dropped.
  constexpr uint32_t kUnstoredLayers = 3;
  const bool fused = max_log_size >= 4 + kUnstoredLayers;
  tree.stored_max_log_size_ = fused ? max_log_size - kUnstoredLayers : max_log_size;
  tree.layers_.resize(tree.stored_max_log_size_ + 1);

  for (int64_t k = tree.stored_max_log_size_; k >= 0; --k) {
    const uint32_t log_size = static_cast<uint32_t>(k);
    const std::vector<const uint32_t*>& layer_columns = layout.columns_by_layer[log_size];
    const uint32_t* child_layer =
        log_size < tree.stored_max_log_size_ ? tree.layers_[log_size + 1].data() : nullptr;
    LayerWords& out = tree.layers_[log_size];
    out.resize(size_t(8) << log_size);
    if (log_size < 4) {
      hash_small_layer(log_size, child_layer, layer_columns, out.data());
      continue;
    }
    const size_t n_blocks = size_t(1) << (log_size - 4);
    const bool from_scratch = log_size == tree.stored_max_log_size_;
    // Threads pay off on large layers only (starting one costs tens of microseconds).
    const size_t work = from_scratch ? n_blocks << (max_log_size - log_size) : n_blocks;
    const unsigned layer_threads = work >= 256 ? n_threads : 1;
    parallel_for(n_blocks, 1, [&](size_t begin, size_t end) {
      U32x16 h[8];
      for (size_t block = begin; block < end; ++block) {
        if (from_scratch) {
          hash_subtree_block_x16(layout, log_size, block, h);
        } else {
          U32x16 low[8], high[8];
          for (int i = 0; i < 8; ++i) {
            low[i] = u32x16_load(child_layer + (2 * block) * 128 + i * 16);
            high[i] = u32x16_load(child_layer + (2 * block + 1) * 128 + i * 16);
          }
          hash_block_x16(low, high, layer_columns, block, h);
        }
        for (int i = 0; i < 8; ++i) u32x16_store(out.data() + block * 128 + i * 16, h[i]);
      }
    }, layer_threads);
  }
  return tree;
}

MerkleTree MerkleTree::from_leaf_hashes(std::span<const Blake2sHash> leaves, size_t n_columns) {
  const size_t n = leaves.size();
  if (n == 0 || !std::has_single_bit(n) || std::countr_zero(n) > int(kMerkleMaxLogSize) || n_columns == 0)
    throw Error(ErrorCategory::Usage, "MerkleTree::from_leaf_hashes: " + std::to_string(n) + " leaves of " +
                                          std::to_string(n_columns) + " columns (a power of two in [1, 2^" +
                                          std::to_string(kMerkleMaxLogSize) + "] leaves, >= 1 column)");
  MerkleTree tree;
  const uint32_t max_log_size = static_cast<uint32_t>(std::countr_zero(n));
  tree.column_log_sizes_.assign(n_columns, max_log_size);
  tree.columns_by_log_size_.resize(max_log_size + 1);
  for (size_t c = 0; c < n_columns; ++c) tree.columns_by_log_size_[max_log_size].push_back(c);
  tree.max_log_size_ = tree.stored_max_log_size_ = max_log_size;
  tree.columns_forgotten_ = true;  // there are none: decommit_values or decommit(queries, columns)
  tree.layers_.resize(max_log_size + 1);
  LayerWords& top = tree.layers_[max_log_size];
  top.resize(size_t(8) << max_log_size);
  for (size_t j = 0; j < n; ++j) {
    const auto w = leaves[j].words();
    for (int i = 0; i < 8; ++i) top[layer_word_index(max_log_size, j, i)] = w[i];
  }
  for (int64_t k = int64_t(max_log_size) - 1; k >= 0; --k) {
    const uint32_t log_size = static_cast<uint32_t>(k);
    const LayerWords& child = tree.layers_[log_size + 1];
    LayerWords& out = tree.layers_[log_size];
    out.resize(size_t(8) << log_size);
    uint32_t children[16], digest[8];
    for (size_t j = 0; j < size_t{1} << log_size; ++j) {
      for (int i = 0; i < 8; ++i) {
        children[i] = child[layer_word_index(log_size + 1, 2 * j, i)];
        children[8 + i] = child[layer_word_index(log_size + 1, 2 * j + 1, i)];
      }
      merkle_hash_node_words(children, nullptr, 0, digest);
      for (int i = 0; i < 8; ++i) out[layer_word_index(log_size, j, i)] = digest[i];
    }
  }
  return tree;
}

MerkleTree::Opening MerkleTree::decommit_values(const QueriesPerLogSize& queries,
                                                const std::function<M31(size_t, size_t)>& value_at) const {
  std::vector<size_t> n_columns_per_log_size(columns_by_log_size_.size());
  for (size_t k = 0; k < columns_by_log_size_.size(); ++k) n_columns_per_log_size[k] = columns_by_log_size_[k].size();
  if (auto reason = detail::check_merkle_queries(queries, n_columns_per_log_size))
    throw Error(ErrorCategory::Usage, "MerkleTree::decommit_values: " + *reason);
  if (stored_max_log_size_ != max_log_size_)
    throw Error(ErrorCategory::Usage, "MerkleTree::decommit_values: a tree with unstored layers (use decommit)");
  Opening opening;
  if (column_log_sizes_.empty()) return opening;
  detail::merkle_decommit_walk(
      max_log_size_, queries, columns_by_log_size_,
      [this](uint32_t layer, size_t index) { return node_from(layer, index, {}); },
      [&value_at](size_t column, size_t index) { return value_at(column, index); }, opening.queried_values,
      opening.decommitment.hash_witness, opening.decommitment.column_witness);
  return opening;
}

Blake2sHash MerkleTree::node(uint32_t layer_log_size, size_t index) const {
  if (columns_forgotten_ && layer_log_size > stored_max_log_size_ && layer_log_size <= max_log_size_)
    throw Error(ErrorCategory::Usage, "MerkleTree::node: an unstored layer and the columns were forgotten");
  return node_from(layer_log_size, index, columns_);
}

Blake2sHash MerkleTree::node_from(uint32_t layer_log_size, size_t index,
                                  std::span<const std::span<const M31>> columns) const {
  if (layer_log_size > max_log_size_ || index >> layer_log_size != 0) {
    throw Error(ErrorCategory::Usage, "MerkleTree::node: no node " +
                                          merkle_position_text(layer_log_size, index));
  }
  if (layer_log_size <= stored_max_log_size_) {
    uint32_t words[8];
    for (int i = 0; i < 8; ++i) {
      words[i] = layers_[layer_log_size][layer_word_index(layer_log_size, index, i)];
    }
    return Blake2sHash::from_words(words);
  }
  // Not stored: recompute from the children (recursively) and this layer's column values.
  std::optional<std::pair<Blake2sHash, Blake2sHash>> children;
  if (layer_log_size < max_log_size_) {
    children.emplace(node_from(layer_log_size + 1, 2 * index, columns),
                     node_from(layer_log_size + 1, 2 * index + 1, columns));
  }
  std::vector<M31> values;
  for (size_t c : columns_by_log_size_[layer_log_size]) values.push_back(columns[c][index]);
  return merkle_node_hash(children, values);
}

MerkleTree::Opening MerkleTree::decommit(const QueriesPerLogSize& queries) const {
  if (columns_forgotten_)
    throw Error(ErrorCategory::Usage, "MerkleTree::decommit: the columns were forgotten; give them again");
  return decommit(queries, columns_);
}

MerkleTree::Opening MerkleTree::decommit(const QueriesPerLogSize& queries,
                                         std::span<const std::span<const M31>> columns) const {
  if (columns.size() != column_log_sizes_.size())
    throw Error(ErrorCategory::Usage, "MerkleTree::decommit: " + std::to_string(columns.size()) +
                                          " columns given, " + std::to_string(column_log_sizes_.size()) +
                                          " committed");
  for (size_t c = 0; c < columns.size(); ++c)
    if (columns[c].size() != size_t{1} << column_log_sizes_[c])
      throw Error(ErrorCategory::Usage, "MerkleTree::decommit: column " + std::to_string(c) + " of " +
                                            std::to_string(columns[c].size()) + " values, committed with 2^" +
                                            std::to_string(column_log_sizes_[c]));
  std::vector<size_t> n_columns_per_log_size(columns_by_log_size_.size());
  for (size_t k = 0; k < columns_by_log_size_.size(); ++k) {
    n_columns_per_log_size[k] = columns_by_log_size_[k].size();
  }
  if (auto reason = detail::check_merkle_queries(queries, n_columns_per_log_size)) {
    throw Error(ErrorCategory::Usage, "MerkleTree::decommit: " + *reason);
  }
  Opening opening;
  if (columns.empty()) return opening;
  detail::merkle_decommit_walk(
      max_log_size_, queries, columns_by_log_size_,
      [this, columns](uint32_t layer, size_t index) { return node_from(layer, index, columns); },
      [columns](size_t column, size_t index) { return columns[column][index]; },
      opening.queried_values, opening.decommitment.hash_witness,
      opening.decommitment.column_witness);
  return opening;
}

// ---- MerkleVerifier ------------------------------------------------------------------------

MerkleVerifier::MerkleVerifier(Blake2sHash root, std::vector<uint32_t> column_log_sizes)
    : root_(root), column_log_sizes_(std::move(column_log_sizes)) {}

std::optional<std::string> MerkleVerifier::verify(const QueriesPerLogSize& queries,
                                                  std::span<const M31> queried_values,
                                                  const MerkleDecommitment& decommitment) const {
  // The hash reads the u32 words as they are, so a non-canonical value (>= p, same residue as a
  // canonical one) must be rejected here rather than silently hashed.
  auto check_canonical = [](std::span<const M31> values,
                            const char* what) -> std::optional<std::string> {
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i].v >= M31::P) {
        return std::string("merkle: ") + what + " entry " + std::to_string(i) +
               " is not a canonical M31";
      }
    }
    return std::nullopt;
  };
  if (auto r = check_canonical(queried_values, "queried value")) return r;
  if (auto r = check_canonical(decommitment.column_witness, "column witness")) return r;
  return detail::merkle_verify_walk<Blake2sHash, M31>(
      "merkle", root_, column_log_sizes_, kMerkleMaxLogSize, queries, queried_values,
      decommitment.hash_witness, decommitment.column_witness, merkle_node_hash,
      merkle_node_hash(std::nullopt, {}));
}

}  // namespace ptvm::hash
