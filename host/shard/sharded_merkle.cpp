// The sharded backend's Merkle commitments.
#include "sharded_backend_impl.hpp"

namespace ptvm::shard {
namespace {

class WholeTree final : public CommittedTree {
 public:
  explicit WholeTree(std::vector<Column> columns) : columns_(std::move(columns)) {
    std::vector<std::span<const M31>> spans(columns_.begin(), columns_.end());
    tree_ = std::make_unique<hash::MerkleTree>(hash::MerkleTree::commit(std::move(spans)));
  }
  hash::Blake2sHash root() const override { return tree_->root(); }
  std::vector<uint32_t> column_log_sizes() const override { return tree_->column_log_sizes(); }
  hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& q) const override { return tree_->decommit(q); }

 private:
  std::vector<Column> columns_;
  std::unique_ptr<hash::MerkleTree> tree_;
};

}  // namespace

std::unique_ptr<CommittedTree> ShardedBackend::commit(const std::vector<const ColumnSet*>& sets) {
  std::vector<const ShardColumn*> refs;
  for (const ColumnSet* s : sets)
    for (const auto& c : shard(*s).cols) refs.push_back(&c);
  return std::make_unique<WholeTree>(full_columns(geometry_, refs));
}

}  // namespace ptvm::shard
