// The sharded backend's Merkle commitments (PROTOCOL.md §9): one subtree per rank, joined at the
// top. A node's hash depends only on its children and its values, never on its index, so the
// tree rank r builds over its blocks (column of log k: positions [r 2^(k-s), (r+1) 2^(k-s))) is
// the global subtree under node r of layer s: its root is that node. The S subtree roots are
// all-gathered (32 bytes per rank) and every rank hashes the s top layers itself, with the values
// of the columns too small to split (held whole by every rank), so every rank holds the root.
// Openings run the §9.4 walk twice: once to learn which nodes and values it reads, then, after
// their owners have all-gathered them, to emit the decommitment.
#include <cstring>

#include "ptvm/common/threads.hpp"

#include "sharded_backend_impl.hpp"
#include "sharded_tree.hpp"

namespace ptvm::shard {
namespace {

class WholeTree final : public CommittedTree {
public:
  explicit WholeTree(std::vector<std::span<const M31>> columns)
      : tree_(hash::MerkleTree::commit(std::move(columns), configured_thread_count())) {
  }
  hash::Blake2sHash root() const override { return tree_.root(); }
  std::vector<uint32_t> column_log_sizes() const override { return tree_.column_log_sizes(); }
  hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& q) const override {
    return tree_.decommit(q);
  }

private:
  hash::MerkleTree tree_;
};

} // namespace

ShardedTree::ShardedTree(const Geometry& g, std::vector<uint32_t> log_sizes, std::vector<Layout> layouts,
                         std::unique_ptr<LocalSubtree> local)
    : g_(g), log_sizes_(std::move(log_sizes)), layouts_(std::move(layouts)), local_(std::move(local)) {
  for (uint32_t l : log_sizes_)
    max_log_ = std::max(max_log_, l);
  by_log_.resize(max_log_ + 1);
  for (size_t i = 0; i < log_sizes_.size(); ++i)
    by_log_[log_sizes_[i]].push_back(i);
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
          values.push_back(local_->replicated_value(c, j));
      top_[k][j] = hash::merkle_node_hash(
          std::make_pair(top_[k + 1][2 * j], top_[k + 1][2 * j + 1]), values);
    }
  }
}

hash::MerkleTree::Opening ShardedTree::open(const hash::QueriesPerLogSize& queries) const {
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
    return layouts_[column] == Layout::Replicated
               ? -1
               : static_cast<int>(index >> (log_sizes_[column] - g_.s));
  };
  std::vector<std::pair<uint32_t, size_t>> my_nodes, my_values;
  for (const auto& [layer, index] : node_reads)
    if (node_owner(layer, index) == g_.rank)
      my_nodes.emplace_back(layer - g_.s, index - (size_t(g_.rank) << (layer - g_.s)));
  for (const auto& [column, index] : value_reads)
    if (value_owner(column, index) == g_.rank)
      my_values.emplace_back(column, index - g_.block_begin(log_sizes_[column]));
  comm::Bytes mine;
  for (const hash::Blake2sHash& h : local_->nodes(my_nodes))
    mine.insert(mine.end(), h.bytes.begin(), h.bytes.end());
  const std::vector<M31> own_values = local_->values(my_values);
  append_values(mine, own_values.data(), own_values.size());
  std::vector<comm::Bytes> parts = g_.comm->all_gather(mine);
  // Rank q's block: its nodes, then its values (each count known to every rank).
  std::vector<size_t> node_count(g_.size, 0), at(g_.size, 0);
  for (const auto& [layer, index] : node_reads)
    if (const int q = node_owner(layer, index); q >= 0)
      ++node_count[q];
  std::vector<size_t> value_at(g_.size);
  for (int q = 0; q < g_.size; ++q)
    value_at[q] = 32 * node_count[q];
  auto take = [&](int q, size_t& cursor, size_t bytes) {
    if (parts[q].size() < cursor + bytes)
      throw Error(ErrorCategory::Internal,
                  "sharded open: short block from rank " + std::to_string(q));
    const uint8_t* p = parts[q].data() + cursor;
    cursor += bytes;
    return p;
  };
  std::vector<hash::Blake2sHash> nodes(node_reads.size());
  for (size_t i = 0; i < node_reads.size(); ++i) {
    const auto [layer, index] = node_reads[i];
    const int q = node_owner(layer, index);
    if (q < 0)
      nodes[i] = top_[layer][index];
    else
      std::memcpy(nodes[i].bytes.data(), take(q, at[q], 32), 32);
  }
  std::vector<M31> values(value_reads.size());
  for (size_t i = 0; i < value_reads.size(); ++i) {
    const auto [column, index] = value_reads[i];
    const int q = value_owner(column, index);
    if (q < 0)
      values[i] = local_->replicated_value(column, index);
    else
      std::memcpy(&values[i], take(q, value_at[q], sizeof(M31)), sizeof(M31));
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

namespace {

// The CPU subtree: hash::MerkleTree over this rank's blocks.
class HostSubtree final : public LocalSubtree {
public:
  HostSubtree(const Geometry& g, std::vector<const ShardColumn*> columns) : columns_(std::move(columns)) {
    std::vector<std::span<const M31>> spans;
    for (const ShardColumn* c : columns_) {
      if (c->log_size < g.s)
        continue;
      const size_t m = size_t{1} << (c->log_size - g.s);
      const M31* data = c->layout == Layout::Block ? c->local.data()
                                                   : c->local.data() + g.block_begin(c->log_size);
      spans.emplace_back(data, m);
    }
    tree_ = std::make_unique<hash::MerkleTree>(
        hash::MerkleTree::commit(std::move(spans), configured_thread_count()));
  }
  hash::Blake2sHash root() const override { return tree_->root(); }
  std::vector<hash::Blake2sHash>
  nodes(const std::vector<std::pair<uint32_t, size_t>>& reads) const override {
    std::vector<hash::Blake2sHash> out;
    for (const auto& [layer, index] : reads)
      out.push_back(tree_->node(layer, index));
    return out;
  }
  std::vector<M31> values(const std::vector<std::pair<uint32_t, size_t>>& reads) const override {
    std::vector<M31> out;
    for (const auto& [column, index] : reads)
      out.push_back(columns_[column]->local[index]);
    return out;
  }
  M31 replicated_value(size_t column, size_t index) const override {
    return columns_[column]->local[index];
  }

private:
  std::vector<const ShardColumn*> columns_;
  std::unique_ptr<hash::MerkleTree> tree_;
};

} // namespace

std::unique_ptr<CommittedTree> ShardedBackend::commit(const std::vector<EvaluationsRef>& sets) {
  std::vector<const ShardColumn*> refs;
  bool any_block = false, any_cyclic = false;
  for (const EvaluationsRef& s : sets)
    for (const auto& c : shard(s).cols) {
      refs.push_back(&c);
      any_block = any_block || c.layout == Layout::Block;
      any_cyclic = any_cyclic || c.layout == Layout::Cyclic;
    }
  if (any_cyclic)
    throw Error(ErrorCategory::Internal, "sharded commit: coefficients cannot be committed");
  if (!committed_) {
    uint32_t largest = 0;
    for (const ShardColumn* c : refs)
      largest = std::max(largest, c->log_size);
    check_first_commit(geometry_, !refs.empty(), largest);
  }
  committed_ = true;
  if (!any_block || geometry_.size == 1) {
    // Every column whole on every rank (small FRI layers): every rank builds the same tree.
    std::vector<std::span<const M31>> spans;
    for (const ShardColumn* c : refs)
      spans.emplace_back(c->local.data(), c->local.size());
    return std::make_unique<WholeTree>(std::move(spans));
  }
  std::vector<uint32_t> logs;
  std::vector<Layout> layouts;
  for (const ShardColumn* c : refs) {
    logs.push_back(c->log_size);
    layouts.push_back(c->layout);
  }
  auto local = std::make_unique<HostSubtree>(geometry_, refs);
  return std::make_unique<ShardedTree>(geometry_, std::move(logs), std::move(layouts),
                                       std::move(local));
}

void check_first_commit(const Geometry& g, bool any_columns, uint32_t largest_log) {
  // The prover's first tree holds every component's preprocessed columns (its boundary
  // selectors at least) on its evaluation domain: if none can be split, neither can the trace.
  if (g.size > 1 && any_columns && largest_log < min_sharded_log_size(g.s))
    throw Error(ErrorCategory::Usage,
                "--shards " + std::to_string(g.size) + ": the trace's largest column has 2^" +
                    std::to_string(largest_log) +
                    " values on its evaluation domain, too few to split across " +
                    std::to_string(g.size) + " ranks (at least 2^" +
                    std::to_string(min_sharded_log_size(g.s)) +
                    "); use fewer shards or a longer run");
}

} // namespace ptvm::shard
