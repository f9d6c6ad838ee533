// Internal: the sharded backend's columns (layouts in ptvm/shard/sharded_backend.hpp) and the
// collectives that move whole columns (used where a stage is not sharded, and by tests).
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "../backend_cpu/cpu_backend_impl.hpp"
#include "ptvm/comm/communicator.hpp"
#include "ptvm/shard/sharded_backend.hpp"

namespace ptvm::shard {

using backend_cpu::Column;
using backend_cpu::HostColumns;

enum class Layout : uint8_t { Block, Cyclic, Replicated };

struct ShardColumn {
  uint32_t log_size = 0;
  Layout layout = Layout::Block;
  Column local;
};

// Where the ranks are: S = 2^s, this rank r.
struct Geometry {
  comm::Communicator* comm = nullptr;
  int rank = 0, size = 1;
  uint32_t s = 0;
  explicit Geometry(comm::Communicator& c)
      : comm(&c), rank(c.rank()), size(c.size()), s(shard_log(c.size(), "sharded backend")) {}
  size_t local_size(uint32_t log_size, Layout layout) const {
    return layout == Layout::Replicated ? size_t{1} << log_size : size_t{1} << (log_size - s);
  }
  // The layout a fresh evaluation of this size gets: block when it can be split.
  Layout evaluation_layout(uint32_t log_size) const {
    return s == 0 || log_size >= min_sharded_log_size(s) ? Layout::Block : Layout::Replicated;
  }
  // Owner of storage position p of a block column.
  int block_owner(uint32_t log_size, size_t p) const {
    return static_cast<int>(p >> (log_size - s));
  }
  size_t block_begin(uint32_t log_size) const { return size_t(rank) << (log_size - s); }
};

class ShardColumns final : public ColumnSet {
public:
  explicit ShardColumns(const Geometry& g) : geometry(g) {}
  Geometry geometry;
  std::vector<ShardColumn> cols;

  size_t n_columns() const override { return cols.size(); }
  uint32_t log_size(size_t c) const override { return cols.at(c).log_size; }
  // Collective: every rank calls it for the same column.
  std::vector<M31> to_host(size_t c) const override;
  // Collective: values at `positions` (storage order), gathered from their owners.
  std::vector<M31> gather(size_t c, std::span<const size_t> positions) const override;
};

const ShardColumns& shard(const ColumnSet& s);
ShardColumns& shard(ColumnSet& s);
template <class Kind>
const ShardColumns& shard(const Columns<Kind>& c) {
  return shard(c.set());
}
template <class Kind>
ShardColumns& shard(Columns<Kind>& c) {
  return shard(c.set());
}
inline const ShardColumns& shard(const EvaluationsRef& r) { return shard(r.set()); }

// Whole columns as a handle of `Kind`, for the CPU backend's stages on whole columns.
template <class Kind>
Columns<Kind> whole(HostColumns&& columns) {
  return Columns<Kind>(std::make_shared<HostColumns>(std::move(columns)));
}

// Whole columns on every rank (one all_gather for all of them); replicated ones are copied.
std::vector<Column> full_columns(const Geometry& g, const std::vector<const ShardColumn*>& columns);
HostColumns full_set(const ShardColumns& set);
// This rank's part of a whole column, in `layout`.
Column local_part(const Geometry& g, const Column& full, Layout layout);
// A set of whole (block-order) columns, each split as evaluation_layout says.
std::unique_ptr<ShardColumns> from_full(const Geometry& g, HostColumns&& full);

// Points of CanonicCoset(n).circle_domain() at storage positions [a, a + 2^t) (a a multiple of
// 2^t, t >= 1), in position order: the same points as backend_cpu::DomainPoints::at_position, in
// O(2^t) additions. Position a + lo holds domain index bitrev_t(lo) 2^(n-t) + c (c from a's high
// bits): the first half of the k = bitrev_t(lo) walk H, the second half its negation.
std::vector<circle::CirclePoint<M31>> block_domain_points(uint32_t n, size_t a, uint32_t t);
// x of the line domain at bit-reversed positions [a, a + 2^t) (a a multiple of 2^t).
std::vector<M31> block_line_x(const circle::LineDomain& domain, size_t a, uint32_t t);

// Row j of CanonicCoset(n) is stored at position_of_row(j); row_of_position is its inverse.
inline size_t position_of_row(size_t j, uint32_t n) {
  return circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, n), n);
}
inline size_t row_of_position(size_t p, uint32_t n) {
  const size_t d = circle::bit_reverse_index(p, n), N = size_t{1} << n;
  return d < N / 2 ? 2 * d : 2 * (N - d) - 1;
}

inline void append_values(comm::Bytes& out, const M31* values, size_t count) {
  const size_t at = out.size();
  out.resize(at + count * sizeof(M31));
  if (count)
    std::memcpy(out.data() + at, values, count * sizeof(M31));
}

} // namespace ptvm::shard
