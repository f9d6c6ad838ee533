// The sharded backend's column moves: whole columns from their shards and back, and gathering a
// few positions from their owners (decommitments).
#include "shard_columns.hpp"

namespace ptvm::shard {

const ShardColumns& shard(const ColumnSet& s) {
  auto* h = dynamic_cast<const ShardColumns*>(&s);
  if (!h)
    throw Error(ErrorCategory::Internal, "sharded backend: column set from another backend");
  return *h;
}
ShardColumns& shard(ColumnSet& s) {
  auto* h = dynamic_cast<ShardColumns*>(&s);
  if (!h)
    throw Error(ErrorCategory::Internal, "sharded backend: column set from another backend");
  return *h;
}

std::vector<Column> full_columns(const Geometry& g,
                                 const std::vector<const ShardColumn*>& columns) {
  std::vector<Column> out(columns.size());
  comm::Bytes mine;
  bool any_split = false;
  for (const ShardColumn* c : columns) {
    if (c->layout == Layout::Replicated)
      continue;
    any_split = true;
    append_values(mine, c->local.data(), c->local.size());
  }
  std::vector<comm::Bytes> parts;
  if (any_split && g.size > 1)
    parts = g.comm->all_gather(mine);
  std::vector<size_t> offset(g.size, 0);
  for (size_t i = 0; i < columns.size(); ++i) {
    const ShardColumn& c = *columns[i];
    const size_t n = size_t{1} << c.log_size;
    if (c.layout == Layout::Replicated || g.size == 1) {
      out[i] = c.local;
      continue;
    }
    const size_t part = n >> g.s;
    out[i].resize(n);
    for (int q = 0; q < g.size; ++q) {
      if (parts[q].size() < (offset[q] + part) * sizeof(M31))
        throw Error(ErrorCategory::Internal,
                    "sharded backend: short column block from rank " + std::to_string(q));
      const uint8_t* src = parts[q].data() + offset[q] * sizeof(M31);
      if (c.layout == Layout::Block) {
        std::memcpy(out[i].data() + q * part, src, part * sizeof(M31));
      } else {
        for (size_t j = 0; j < part; ++j)
          std::memcpy(&out[i][j * g.size + q], src + j * sizeof(M31), sizeof(M31));
      }
      offset[q] += part;
    }
  }
  return out;
}

HostColumns full_set(const ShardColumns& set) {
  std::vector<const ShardColumn*> refs;
  for (const auto& c : set.cols)
    refs.push_back(&c);
  return HostColumns(full_columns(set.geometry, refs));
}

Column local_part(const Geometry& g, const Column& full, Layout layout) {
  if (layout == Layout::Replicated || g.size == 1)
    return full;
  const size_t part = full.size() >> g.s;
  Column out(part);
  if (layout == Layout::Block) {
    std::copy(full.begin() + g.rank * part, full.begin() + (g.rank + 1) * part, out.begin());
  } else {
    for (size_t j = 0; j < part; ++j)
      out[j] = full[j * g.size + g.rank];
  }
  return out;
}

std::unique_ptr<ShardColumns> from_full(const Geometry& g, HostColumns&& full) {
  auto out = std::make_unique<ShardColumns>(g);
  out->cols.resize(full.cols.size());
  for (size_t c = 0; c < full.cols.size(); ++c) {
    ShardColumn& sc = out->cols[c];
    sc.log_size = backend_cpu::log2_exact(full.cols[c].size());
    sc.layout = g.evaluation_layout(sc.log_size);
    sc.local = sc.layout == Layout::Replicated ? std::move(full.cols[c])
                                               : local_part(g, full.cols[c], sc.layout);
  }
  return out;
}

std::vector<M31> ShardColumns::to_host(size_t c) const {
  std::vector<Column> full = full_columns(geometry, {&cols.at(c)});
  return std::vector<M31>(full[0].begin(), full[0].end());
}

std::vector<M31> ShardColumns::gather(size_t c, std::span<const size_t> positions) const {
  const ShardColumn& col = cols.at(c);
  const size_t n = size_t{1} << col.log_size;
  for (size_t p : positions)
    if (p >= n)
      throw Error(ErrorCategory::Internal,
                  "sharded gather: position " + std::to_string(p) + " out of range");
  std::vector<M31> out(positions.size());
  if (col.layout == Layout::Replicated || geometry.size == 1) {
    for (size_t i = 0; i < positions.size(); ++i)
      out[i] = col.local[positions[i]];
    return out;
  }
  auto owner = [&](size_t p) {
    return col.layout == Layout::Block ? geometry.block_owner(col.log_size, p)
                                       : static_cast<int>(p % geometry.size);
  };
  auto local_index = [&](size_t p) {
    return col.layout == Layout::Block ? p - geometry.block_begin(col.log_size) : p >> geometry.s;
  };
  // Each rank sends the values it owns, in the order of `positions`.
  std::vector<M31> mine;
  for (size_t p : positions)
    if (owner(p) == geometry.rank)
      mine.push_back(col.local[local_index(p)]);
  comm::Bytes bytes;
  append_values(bytes, mine.data(), mine.size());
  std::vector<comm::Bytes> parts = geometry.comm->all_gather(bytes);
  std::vector<size_t> next(geometry.size, 0);
  for (size_t i = 0; i < positions.size(); ++i) {
    const int q = owner(positions[i]);
    if (parts[q].size() < (next[q] + 1) * sizeof(M31))
      throw Error(ErrorCategory::Internal,
                  "sharded gather: short block from rank " + std::to_string(q));
    std::memcpy(&out[i], parts[q].data() + next[q]++ * sizeof(M31), sizeof(M31));
  }
  return out;
}

std::vector<circle::CirclePoint<M31>> block_domain_points(uint32_t n, size_t a, uint32_t t) {
  if (t < 1 || t > n || (a & ((size_t{1} << t) - 1)))
    throw Error(ErrorCategory::Internal, "block_domain_points: bad block");
  const size_t len = size_t{1} << t, half = len / 2;
  const size_t c = circle::bit_reverse_index(a >> t, n - t);
  const circle::Coset h = circle::CanonicCoset{n}.half_coset();
  // Walk k = 0 .. half-1: H.at(c + k 2^(n-t)).
  std::vector<circle::CirclePoint<M31>> walk(half);
  circle::CirclePoint<M31> p = h.at(c);
  const circle::CirclePoint<M31> step =
      (h.step_index * static_cast<uint32_t>(size_t{1} << (n - t))).to_point();
  for (size_t k = 0; k < half; ++k) {
    walk[k] = p;
    p = p + step;
  }
  std::vector<circle::CirclePoint<M31>> out(len);
  for (size_t lo = 0; lo < len; ++lo) {
    const size_t k = circle::bit_reverse_index(lo, t);
    out[lo] = k < half ? walk[k] : -walk[k - half];
  }
  return out;
}

std::vector<M31> block_line_x(const circle::LineDomain& domain, size_t a, uint32_t t) {
  const uint32_t d = domain.log_size();
  if (t > d || (a & ((size_t{1} << t) - 1)))
    throw Error(ErrorCategory::Internal, "block_line_x: bad block");
  const size_t len = size_t{1} << t;
  const size_t c = circle::bit_reverse_index(a >> t, d - t);
  std::vector<M31> walk(len), out(len);
  circle::CirclePoint<M31> p = domain.coset.at(c);
  const circle::CirclePoint<M31> step =
      (domain.coset.step_index * static_cast<uint32_t>(size_t{1} << (d - t))).to_point();
  for (size_t k = 0; k < len; ++k) {
    walk[k] = p.x;
    p = p + step;
  }
  for (size_t lo = 0; lo < len; ++lo)
    out[lo] = walk[circle::bit_reverse_index(lo, t)];
  return out;
}

} // namespace ptvm::shard
