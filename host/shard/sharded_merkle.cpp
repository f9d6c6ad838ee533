// The sharded backend's Merkle commitments (PROTOCOL.md §9): one subtree per rank, joined at the
// top. A node's hash depends only on its children and its values, never on its index, so the
// tree rank r builds over its blocks (column of log k: positions [r 2^(k-s), (r+1) 2^(k-s))) is
// the global subtree under node r of layer s: its root is that node. The S subtree roots are
// all-gathered (32 bytes per rank) and every rank hashes the s top layers itself, with the values
// of the columns too small to split (held whole by every rank), so every rank holds the root.
// Openings run the §9.4 walk twice: once to learn which nodes and values it reads, then, after
// their owners have all-gathered them, to emit the decommitment.
#include <cstring>

#include "sharded_backend_impl.hpp"

namespace ptvm::shard {
namespace {

class WholeTree final : public CommittedTree {
public:
  explicit WholeTree(std::vector<std::span<const M31>> columns)
      : tree_(hash::MerkleTree::commit(std::move(columns), stark::detail::default_thread_count())) {
  }
  hash::Blake2sHash root() const override { return tree_.root(); }
  std::vector<uint32_t> column_log_sizes() const override { return tree_.column_log_sizes(); }
  hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& q) const override {
    return tree_.decommit(q);
  }

private:
  hash::MerkleTree tree_;
};

class ShardedTree final : public CommittedTree {
public:
  // columns: every committed column in order (block, or replicated); all block ones have log >= s.
  ShardedTree(const Geometry& g, std::vector<const ShardColumn*> columns)
      : g_(g), columns_(std::move(columns)) {
    for (const ShardColumn* c : columns_) {
      log_sizes_.push_back(c->log_size);
      max_log_ = std::max(max_log_, c->log_size);
    }
    by_log_.resize(max_log_ + 1);
    for (size_t i = 0; i < columns_.size(); ++i)
      by_log_[columns_[i]->log_size].push_back(i);
    // The local subtree: this rank's block of every column of log >= s, in the given order.
    std::vector<std::span<const M31>> spans;
    for (const ShardColumn* c : columns_) {
      if (c->log_size < g_.s)
        continue;
      const size_t m = size_t{1} << (c->log_size - g_.s);
      const M31* data = c->layout == Layout::Block ? c->local.data()
                                                   : c->local.data() + g_.block_begin(c->log_size);
      spans.emplace_back(data, m);
    }
    local_ = std::make_unique<hash::MerkleTree>(
        hash::MerkleTree::commit(std::move(spans), stark::detail::default_thread_count()));
    const hash::Blake2sHash mine = local_->root();
    std::vector<comm::Bytes> roots =
        g_.comm->all_gather(std::span<const uint8_t>(mine.bytes.data(), mine.bytes.size()));
    // top_[k][j]: node j of layer k < s; layer s is the subtree roots.
    top_.resize(g_.s + 1);
    top_[g_.s].resize(g_.size);
    for (int q = 0; q < g_.size; ++q) {
      if (roots[q].size() != 32)
        throw Error(ErrorCategory::Internal,
                    "sharded commit: bad subtree root from rank " + std::to_string(q));
      std::memcpy(top_[g_.s][q].bytes.data(), roots[q].data(), 32);
    }
    std::vector<M31> values;
    for (int64_t k = int64_t(g_.s) - 1; k >= 0; --k) {
      top_[k].resize(size_t{1} << k);
      for (size_t j = 0; j < top_[k].size(); ++j) {
        values.clear();
        if (size_t(k) < by_log_.size())
          for (size_t c : by_log_[k])
            values.push_back(columns_[c]->local[j]);
        top_[k][j] = hash::merkle_node_hash(
            std::make_pair(top_[k + 1][2 * j], top_[k + 1][2 * j + 1]), values);
      }
    }
  }

  hash::Blake2sHash root() const override { return top_[0][0]; }
  std::vector<uint32_t> column_log_sizes() const override { return log_sizes_; }

  hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& queries) const override {
    std::vector<size_t> counts(by_log_.size());
    for (size_t k = 0; k < by_log_.size(); ++k)
      counts[k] = by_log_[k].size();
    if (auto reason = hash::detail::check_merkle_queries(queries, counts))
      throw Error(ErrorCategory::Usage, "sharded MerkleTree::open: " + *reason);
    // Pass 1: which nodes and values the walk reads, in the order it reads them.
    std::vector<std::pair<uint32_t, size_t>> node_reads, value_reads;
    {
      std::vector<M31> qv, cw;
      std::vector<hash::Blake2sHash> hw;
      hash::detail::merkle_decommit_walk<hash::Blake2sHash, M31>(
          max_log_, queries, by_log_,
          [&](uint32_t layer, size_t index) {
            node_reads.emplace_back(layer, index);
            return hash::Blake2sHash{};
          },
          [&](size_t column, size_t index) {
            value_reads.emplace_back(static_cast<uint32_t>(column), index);
            return M31::zero();
          },
          qv, hw, cw);
    }
    // Each rank sends what it owns, in read order; the top layers and whole columns are local.
    auto node_owner = [&](uint32_t layer, size_t index) {
      return layer <= g_.s ? -1 : static_cast<int>(index >> (layer - g_.s));
    };
    auto value_owner = [&](uint32_t column, size_t index) {
      const ShardColumn& c = *columns_[column];
      return c.layout == Layout::Replicated ? -1 : static_cast<int>(index >> (c.log_size - g_.s));
    };
    comm::Bytes mine;
    for (const auto& [layer, index] : node_reads)
      if (node_owner(layer, index) == g_.rank) {
        const hash::Blake2sHash h =
            local_->node(layer - g_.s, index - (size_t(g_.rank) << (layer - g_.s)));
        mine.insert(mine.end(), h.bytes.begin(), h.bytes.end());
      }
    for (const auto& [column, index] : value_reads)
      if (value_owner(column, index) == g_.rank) {
        const ShardColumn& c = *columns_[column];
        append_values(mine, &c.local[index - g_.block_begin(c.log_size)], 1);
      }
    std::vector<comm::Bytes> parts = g_.comm->all_gather(mine);
    std::vector<size_t> at(g_.size, 0);
    auto take = [&](int q, size_t bytes) {
      if (parts[q].size() < at[q] + bytes)
        throw Error(ErrorCategory::Internal,
                    "sharded open: short block from rank " + std::to_string(q));
      const uint8_t* p = parts[q].data() + at[q];
      at[q] += bytes;
      return p;
    };
    std::vector<hash::Blake2sHash> nodes(node_reads.size());
    for (size_t i = 0; i < node_reads.size(); ++i) {
      const auto [layer, index] = node_reads[i];
      const int q = node_owner(layer, index);
      if (q < 0)
        nodes[i] = top_[layer][index];
      else
        std::memcpy(nodes[i].bytes.data(), take(q, 32), 32);
    }
    std::vector<M31> values(value_reads.size());
    for (size_t i = 0; i < value_reads.size(); ++i) {
      const auto [column, index] = value_reads[i];
      const int q = value_owner(column, index);
      if (q < 0)
        values[i] = columns_[column]->local[index];
      else
        std::memcpy(&values[i], take(q, sizeof(M31)), sizeof(M31));
    }
    // Pass 2: the same walk, now answered.
    hash::MerkleTree::Opening opening;
    size_t next_node = 0, next_value = 0;
    hash::detail::merkle_decommit_walk<hash::Blake2sHash, M31>(
        max_log_, queries, by_log_, [&](uint32_t, size_t) { return nodes.at(next_node++); },
        [&](size_t, size_t) { return values.at(next_value++); }, opening.queried_values,
        opening.decommitment.hash_witness, opening.decommitment.column_witness);
    return opening;
  }

private:
  Geometry g_;
  std::vector<const ShardColumn*> columns_;
  std::vector<uint32_t> log_sizes_;
  uint32_t max_log_ = 0;
  std::vector<std::vector<size_t>> by_log_;
  std::unique_ptr<hash::MerkleTree> local_;
  std::vector<std::vector<hash::Blake2sHash>> top_;
};

} // namespace

std::unique_ptr<CommittedTree> ShardedBackend::commit(const std::vector<const ColumnSet*>& sets) {
  std::vector<const ShardColumn*> refs;
  bool any_block = false, any_cyclic = false;
  for (const ColumnSet* s : sets)
    for (const auto& c : shard(*s).cols) {
      refs.push_back(&c);
      any_block = any_block || c.layout == Layout::Block;
      any_cyclic = any_cyclic || c.layout == Layout::Cyclic;
    }
  if (any_cyclic)
    throw Error(ErrorCategory::Internal, "sharded commit: coefficients cannot be committed");
  if (!committed_ && geometry_.size > 1) {
    // The prover's first tree holds every component's preprocessed columns (its boundary
    // selectors at least) on its evaluation domain: if none can be split, neither can the trace.
    uint32_t largest = 0;
    for (const ShardColumn* c : refs)
      largest = std::max(largest, c->log_size);
    if (!refs.empty() && largest < min_sharded_log_size(geometry_.s))
      throw Error(ErrorCategory::Usage,
                  "--shards " + std::to_string(geometry_.size) +
                      ": the trace's largest column has 2^" + std::to_string(largest) +
                      " values on its evaluation domain, too few to split across " +
                      std::to_string(geometry_.size) + " ranks (at least 2^" +
                      std::to_string(min_sharded_log_size(geometry_.s)) +
                      "); use fewer shards or a longer run");
  }
  committed_ = true;
  if (!any_block || geometry_.size == 1) {
    // Every column whole on every rank (small FRI layers): every rank builds the same tree.
    std::vector<std::span<const M31>> spans;
    for (const ShardColumn* c : refs)
      spans.emplace_back(c->local.data(), c->local.size());
    return std::make_unique<WholeTree>(std::move(spans));
  }
  return std::make_unique<ShardedTree>(geometry_, std::move(refs));
}

} // namespace ptvm::shard
