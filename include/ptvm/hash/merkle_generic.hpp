// Merkle trees templated on the hasher and the value type, for the F128 proof system
// (statement-v1, BLAKE2b-256) and any field with the ptvm byte encoding (kBytes, to_bytes_le).
// Same shape (PROTOCOL.md §9.1) and decommitment walk (§9.4) as the BLAKE2s/M31 MerkleTree; the
// node hash is the §9.3 construction over the hasher's block size:
//   H( prefix ‖ [left ‖ right] ‖ to_bytes_le(v) for each value ),
//   prefix = "leaf" or "node" padded with zeros to one block (64 bytes BLAKE2s, 128 BLAKE2b).
// With Blake2sMerkleHasher and M31 this is exactly MerkleTree (checked in the tests); that tree
// stays the fast one (16 lanes), this one hashes node by node, with threads over large layers.
// Host only, header-only.
#pragma once
#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/hash/blake2b.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/merkle_hash.hpp"
#include "ptvm/hash/merkle_walk.hpp"

namespace ptvm::hash {

namespace detail {
template <class Hasher, class Value>
typename Hasher::Hash prefixed_node_hash(
    const std::optional<std::pair<typename Hasher::Hash, typename Hasher::Hash>>& children,
    std::span<const Value> values) {
  if (!children && values.empty()) {
    // The message is the prefix alone, which is then the last block: hash it in full.
    uint8_t prefix[Hasher::kBlockBytes] = {'l', 'e', 'a', 'f'};
    typename Hasher::State hasher = Hasher::start();
    hasher.update(prefix, sizeof prefix);
    return Hasher::finish(hasher);
  }
  // The prefix is one whole block and more bytes follow: start from its precomputed state.
  typename Hasher::State hasher = Hasher::start_after_prefix(children.has_value());
  if (children) {
    hasher.update(children->first.bytes.data(), children->first.bytes.size());
    hasher.update(children->second.bytes.data(), children->second.bytes.size());
  }
  for (const Value& v : values) {
    uint8_t bytes[Value::kBytes];
    v.to_bytes_le(bytes);
    hasher.update(bytes, sizeof bytes);
  }
  return Hasher::finish(hasher);
}
}  // namespace detail

struct Blake2sMerkleHasher {
  using Hash = Blake2sHash;
  using State = Blake2s;
  static constexpr size_t kBlockBytes = 64;
  static State start() { return Blake2s(); }
  // After the 64-byte "node"/"leaf" prefix block (merkle_hash.hpp's constants).
  static State start_after_prefix(bool is_node) {
    std::array<uint32_t, 8> state{};
    for (int i = 0; i < 8; ++i) {
      state[i] = is_node ? merkle_node_initial_state(i) : merkle_leaf_initial_state(i);
    }
    return Blake2s::from_state(state, 64);
  }
  static Hash finish(State& s) { return s.finalize(); }
  template <class Value>
  static Hash hash_node(const std::optional<std::pair<Hash, Hash>>& children,
                        std::span<const Value> values) {
    return detail::prefixed_node_hash<Blake2sMerkleHasher, Value>(children, values);
  }
};

struct Blake2bMerkleHasher {
  using Hash = Blake2b256Hash;
  using State = Blake2b;
  static constexpr size_t kBlockBytes = 128;
  static State start() { return Blake2b(32); }
  // After the 128-byte "node"/"leaf" prefix block, computed once.
  static State start_after_prefix(bool is_node) {
    static const std::array<uint64_t, 8> kLeafState = prefix_state("leaf");
    static const std::array<uint64_t, 8> kNodeState = prefix_state("node");
    return Blake2b::from_state(is_node ? kNodeState : kLeafState, 128, 32);
  }
  static std::array<uint64_t, 8> prefix_state(const char* tag) {
    uint8_t block[128] = {};
    for (int i = 0; i < 4; ++i) block[i] = static_cast<uint8_t>(tag[i]);
    return Blake2b::state_after_first_block(block, 32);
  }
  static Hash finish(State& s) {
    Hash out;
    s.finalize(std::span<uint8_t>(out.bytes));
    return out;
  }
  template <class Value>
  static Hash hash_node(const std::optional<std::pair<Hash, Hash>>& children,
                        std::span<const Value> values) {
    return detail::prefixed_node_hash<Blake2bMerkleHasher, Value>(children, values);
  }
};

template <class Hasher, class Value>
struct GenericMerkleDecommitment {
  std::vector<typename Hasher::Hash> hash_witness;
  std::vector<Value> column_witness;
  friend bool operator==(const GenericMerkleDecommitment&, const GenericMerkleDecommitment&) = default;
};

template <class Hasher, class Value>
class GenericMerkleTree {
 public:
  using Hash = typename Hasher::Hash;
  using Decommitment = GenericMerkleDecommitment<Hasher, Value>;
  struct Opening {
    std::vector<Value> queried_values;  // log size descending, position ascending, column order
    Decommitment decommitment;
  };
  static constexpr uint32_t kMaxLogSize = 31;

  // Columns of power-of-two lengths (<= 2^31), mixed sizes; non-owning (the caller keeps them
  // alive). n_threads = 0: hardware concurrency; the result does not depend on it.
  static GenericMerkleTree commit(std::vector<std::span<const Value>> columns, unsigned n_threads = 0) {
    if (n_threads == 0) n_threads = std::max(1u, std::thread::hardware_concurrency());
    GenericMerkleTree tree;
    for (size_t c = 0; c < columns.size(); ++c) {
      const size_t n = columns[c].size();
      if (n == 0 || !std::has_single_bit(n) || std::countr_zero(n) > int(kMaxLogSize)) {
        throw Error(ErrorCategory::Usage, "GenericMerkleTree::commit: column " + std::to_string(c) +
                                              " has length " + std::to_string(n) +
                                              ", not a power of two in [1, 2^31]");
      }
      tree.column_log_sizes_.push_back(static_cast<uint32_t>(std::countr_zero(n)));
      tree.max_log_size_ = std::max(tree.max_log_size_, tree.column_log_sizes_.back());
    }
    tree.columns_ = std::move(columns);
    tree.columns_by_log_size_.resize(tree.max_log_size_ + 1);
    for (size_t c = 0; c < tree.columns_.size(); ++c) {
      tree.columns_by_log_size_[tree.column_log_sizes_[c]].push_back(c);
    }
    tree.layers_.resize(tree.max_log_size_ + 1);
    if (tree.columns_.empty()) {
      tree.layers_[0] = {Hasher::template hash_node<Value>(std::nullopt, {})};
      return tree;
    }
    for (int64_t k = tree.max_log_size_; k >= 0; --k) {
      const uint32_t log_size = static_cast<uint32_t>(k);
      const bool has_children = log_size < tree.max_log_size_;
      std::vector<Hash>& out = tree.layers_[log_size];
      out.resize(size_t(1) << log_size);
      const std::vector<Hash>* below = has_children ? &tree.layers_[log_size + 1] : nullptr;
      const std::vector<size_t>& layer_columns = tree.columns_by_log_size_[log_size];
      parallel_for(out.size(), 1, [&](size_t begin, size_t end) {
        std::vector<Value> values(layer_columns.size());
        for (size_t j = begin; j < end; ++j) {
          for (size_t c = 0; c < layer_columns.size(); ++c) values[c] = tree.columns_[layer_columns[c]][j];
          std::optional<std::pair<Hash, Hash>> children;
          if (below) children.emplace((*below)[2 * j], (*below)[2 * j + 1]);
          out[j] = Hasher::template hash_node<Value>(children, std::span<const Value>(values));
        }
      }, out.size() >= 1024 ? n_threads : 1);
    }
    return tree;
  }

  Hash root() const { return layers_[0][0]; }
  const std::vector<uint32_t>& column_log_sizes() const { return column_log_sizes_; }
  uint32_t max_log_size() const { return max_log_size_; }
  Hash node(uint32_t layer_log_size, size_t index) const {
    if (layer_log_size > max_log_size_ || index >> layer_log_size != 0) {
      throw Error(ErrorCategory::Usage, "GenericMerkleTree::node: no node " +
                                            detail::merkle_position_text(layer_log_size, index));
    }
    return layers_[layer_log_size][index];
  }

  // Throws ptvm::Error (Usage) on malformed queries (see MerkleTree::decommit).
  Opening decommit(const QueriesPerLogSize& queries) const {
    std::vector<size_t> n_columns_per_log_size;
    for (const auto& ids : columns_by_log_size_) n_columns_per_log_size.push_back(ids.size());
    if (auto reason = detail::check_merkle_queries(queries, n_columns_per_log_size)) {
      throw Error(ErrorCategory::Usage, "GenericMerkleTree::decommit: " + *reason);
    }
    Opening opening;
    if (columns_.empty()) return opening;
    detail::merkle_decommit_walk(
        max_log_size_, queries, columns_by_log_size_,
        [this](uint32_t layer, size_t index) { return layers_[layer][index]; },
        [this](size_t column, size_t index) { return columns_[column][index]; },
        opening.queried_values, opening.decommitment.hash_witness,
        opening.decommitment.column_witness);
    return opening;
  }

 private:
  std::vector<std::span<const Value>> columns_;
  std::vector<uint32_t> column_log_sizes_;
  std::vector<std::vector<size_t>> columns_by_log_size_;
  std::vector<std::vector<Hash>> layers_;  // layers_[k][j]: node j of layer k
  uint32_t max_log_size_ = 0;
};

template <class Hasher, class Value>
class GenericMerkleVerifier {
 public:
  using Hash = typename Hasher::Hash;
  GenericMerkleVerifier(Hash root, std::vector<uint32_t> column_log_sizes)
      : root_(root), column_log_sizes_(std::move(column_log_sizes)) {}

  // nullopt = accept, else the reason. Never throws on malformed input. Values are hashed through
  // their canonical byte encoding (to_bytes_le), so an in-memory representation cannot alias.
  std::optional<std::string> verify(const QueriesPerLogSize& queries,
                                    std::span<const Value> queried_values,
                                    const GenericMerkleDecommitment<Hasher, Value>& decommitment) const {
    return detail::merkle_verify_walk<Hash, Value>(
        "merkle", root_, column_log_sizes_, GenericMerkleTree<Hasher, Value>::kMaxLogSize, queries,
        queried_values, decommitment.hash_witness, decommitment.column_witness,
        [](const std::optional<std::pair<Hash, Hash>>& children, std::span<const Value> values) {
          return Hasher::template hash_node<Value>(children, values);
        },
        Hasher::template hash_node<Value>(std::nullopt, {}));
  }

 private:
  Hash root_;
  std::vector<uint32_t> column_log_sizes_;
};

// The F128 proof system's trees (statement-v1): BLAKE2b-256 over any field value type.
template <class Value>
using Blake2bMerkleTree = GenericMerkleTree<Blake2bMerkleHasher, Value>;
template <class Value>
using Blake2bMerkleVerifier = GenericMerkleVerifier<Blake2bMerkleHasher, Value>;

}  // namespace ptvm::hash
