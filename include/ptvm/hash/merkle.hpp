// Merkle commitment of mixed-size M31 columns (PROTOCOL.md §9.1 tree shape, §9.3 node hash,
// §9.4 decommitment walk).
//
// Shape: with m the largest column log size, layer k (k = m..0) has 2^k nodes; node j of layer k
// hashes its two children in layer k+1 (if k < m) and the values col[j] of every column of length
// 2^k, in the order the columns were given. The root is layer 0. Rows are in the columns' storage
// order (for the STARK: bit-reversed circle-domain order).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ptvm/field/m31.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/merkle_walk.hpp"  // QueriesPerLogSize, the §9.4 walk

namespace ptvm::hash {

// Largest column log size a tree accepts (the circle group has order 2^31).
inline constexpr uint32_t kMerkleMaxLogSize = 31;

struct MerkleDecommitment {
  std::vector<Blake2sHash> hash_witness;  // child hashes the verifier cannot derive, walk order
  std::vector<M31> column_witness;        // values of non-queried nodes on the walk, walk order
  friend bool operator==(const MerkleDecommitment&, const MerkleDecommitment&) = default;
};

// The hash of one node (PROTOCOL.md §9.3). children: {left, right} or nullopt for a leaf.
Blake2sHash merkle_node_hash(const std::optional<std::pair<Blake2sHash, Blake2sHash>>& children,
                             std::span<const M31> values);

class MerkleTree {
 public:
  // Columns: power-of-two lengths, mixed sizes, any order; non-owning: the caller keeps the
  // columns alive while the tree is used. Throws ptvm::Error (Usage) on a length that is not a
  // power of two or above 2^kMerkleMaxLogSize. Values are canonical by M31's invariant (not
  // re-checked here; the verifier does check every value it receives).
  // Zero columns give the one-node tree whose root is the hash of an empty leaf.
  // Uses up to n_threads host threads (0 = std::thread::hardware_concurrency()); the result does
  // not depend on it.
  static MerkleTree commit(std::vector<std::span<const M31>> columns, unsigned n_threads = 0);

  Blake2sHash root() const { return node(0, 0); }
  // In the order the columns were given to commit().
  const std::vector<uint32_t>& column_log_sizes() const { return column_log_sizes_; }
  // Layers 0..max_log_size (the largest column log size; 0 for an empty tree).
  uint32_t max_log_size() const { return max_log_size_; }
  // Hash of node j of layer k (2^k nodes).
  Blake2sHash node(uint32_t layer_log_size, size_t index) const;

  struct Opening {
    // By log size descending, then position ascending, then column order.
    std::vector<M31> queried_values;
    MerkleDecommitment decommitment;
  };
  // Throws ptvm::Error (Usage) when a position list is not strictly increasing, a position is
  // out of range, or a non-empty list names a log size that has no columns.
  Opening decommit(const QueriesPerLogSize& queries) const;
  // The same opening from the committed columns given again (the same values, in commit()'s
  // order and sizes; Usage error on a count or size that differs): for a caller that released
  // the columns after commit() (forget_columns) and recomputes them to open.
  Opening decommit(const QueriesPerLogSize& queries, std::span<const std::span<const M31>> columns) const;
  // A tree over n_columns columns of one length 2^log_size that the caller never holds whole:
  // leaves[j] is the leaf hash of position j (merkle_node_hash(nullopt, every column's value at
  // j), e.g. accumulated row batch by row batch). Every layer is stored, so decommit_values reads
  // the values of the queried positions only (value_at(column, position)); the same root and
  // openings as commit() of those columns. Usage error for a leaf count that is not a power of
  // two in [1, 2^kMerkleMaxLogSize] or no column.
  static MerkleTree from_leaf_hashes(std::span<const Blake2sHash> leaves, size_t n_columns);
  Opening decommit_values(const QueriesPerLogSize& queries,
                          const std::function<M31(size_t column, size_t position)>& value_at) const;
  // The tree stops reading the columns given to commit() (they may be freed): root() still
  // works; node() of an unstored layer and decommit(queries) are then Usage errors.
  void forget_columns() { columns_forgotten_ = true; }

 private:
  std::vector<std::span<const M31>> columns_;
  bool columns_forgotten_ = false;
  Blake2sHash node_from(uint32_t layer_log_size, size_t index,
                        std::span<const std::span<const M31>> columns) const;
  std::vector<uint32_t> column_log_sizes_;
  // columns_by_log_size_[k]: indices into columns_ of the columns of length 2^k, in given order.
  std::vector<std::vector<size_t>> columns_by_log_size_;
  // Layer words are written before they are read: skip the zero-fill of std::vector.
  template <class T>
  struct UninitializedAllocator : std::allocator<T> {
    template <class U>
    struct rebind {
      using other = UninitializedAllocator<U>;
    };
    UninitializedAllocator() = default;
    template <class U>
    UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
    template <class U>
    void construct(U* p) noexcept {
      ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
  };
  using LayerWords = std::vector<uint32_t, UninitializedAllocator<uint32_t>>;

  // layers_[k] for k <= stored_max_log_size_: 8 words per node. Layers with >= 16 nodes are
  // stored in blocks of 16 nodes, word-major inside a block (word i of node j at
  // (j/16)*128 + i*16 + j%16), which is the 16-lane hasher's register layout; smaller layers are
  // node-major (j*8 + i). The few largest layers of a big tree are hashed in cache-resident
  // subtrees and not stored (they are 7/8 of the tree's memory); node() recomputes them from
  // the columns, which costs a few hashes per opened node.
  std::vector<LayerWords> layers_;
  uint32_t max_log_size_ = 0;
  uint32_t stored_max_log_size_ = 0;
};

class MerkleVerifier {
 public:
  MerkleVerifier(Blake2sHash root, std::vector<uint32_t> column_log_sizes);

  // nullopt = accept, else the reason for rejecting. Never throws on malformed input (queries,
  // values, witnesses); every list must be consumed exactly. Only layers at or below the largest
  // queried log size are walked: the sizes of columns above every query are bound only through
  // the child hashes (as in stwo), so callers fix column_log_sizes from their own statement.
  std::optional<std::string> verify(const QueriesPerLogSize& queries,
                                    std::span<const M31> queried_values,
                                    const MerkleDecommitment& decommitment) const;

 private:
  Blake2sHash root_;
  std::vector<uint32_t> column_log_sizes_;
};

}  // namespace ptvm::hash
