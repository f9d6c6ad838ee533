// Internal: the Merkle tree of sharded columns (PROTOCOL.md §9), shared by the CPU sharded backend
// (host/shard/sharded_merkle.cpp) and the sharded device backend (cuda/backend/): each rank builds
// the subtree over its blocks (LocalSubtree: a hash::MerkleTree on the host, a DeviceMerkleTree on a
// device), ShardedTree all-gathers the subtree roots, hashes the s top layers on every rank and
// answers openings (the §9.4 walk twice: once to learn what it reads, then, after the owners have
// all-gathered their nodes and values, to emit the decommitment).
#pragma once
#include <memory>
#include <utility>
#include <vector>

#include "ptvm/backend.hpp"
#include "ptvm/hash/merkle.hpp"
#include "shard_columns.hpp"

namespace ptvm::shard {

// One rank's part of a sharded tree. Columns are indexed as committed (every column, split or
// replicated); indices of split columns are local (position - block begin).
class LocalSubtree {
public:
  virtual ~LocalSubtree() = default;
  virtual hash::Blake2sHash root() const = 0;
  // Nodes (layer of the local subtree, index in it), in the order asked.
  virtual std::vector<hash::Blake2sHash>
  nodes(const std::vector<std::pair<uint32_t, size_t>>& reads) const = 0;
  // Values of split columns (column, local index), in the order asked.
  virtual std::vector<M31> values(const std::vector<std::pair<uint32_t, size_t>>& reads) const = 0;
  // A value of a replicated column (every rank holds it whole).
  virtual M31 replicated_value(size_t column, size_t index) const = 0;
};

class ShardedTree final : public CommittedTree {
public:
  // Collective (one all_gather of the subtree roots). log_sizes/layouts: every committed column.
  ShardedTree(const Geometry& g, std::vector<uint32_t> log_sizes, std::vector<Layout> layouts,
              std::unique_ptr<LocalSubtree> local);
  hash::Blake2sHash root() const override { return top_[0][0]; }
  std::vector<uint32_t> column_log_sizes() const override { return log_sizes_; }
  // Collective (one all_gather).
  hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& queries) const override;

private:
  Geometry g_;
  std::vector<uint32_t> log_sizes_;
  std::vector<Layout> layouts_;
  std::unique_ptr<LocalSubtree> local_;
  uint32_t max_log_ = 0;
  std::vector<std::vector<size_t>> by_log_;
  std::vector<std::vector<hash::Blake2sHash>> top_;
};

// The Usage error of a first commitment (the preprocessed tree) whose largest column cannot be
// split across g.size ranks.
void check_first_commit(const Geometry& g, bool any_columns, uint32_t largest_log);

} // namespace ptvm::shard
