// The sharded backend's LogUp interaction trace (PROTOCOL.md §12). The running sum goes over
// rows in row order, which bit-reversed storage scatters over every block, so a rank works on a
// range of rows instead: rank r takes rows [r R, (r+1) R), R = 2^(n-s). One all-to-all brings
// each rank its rows of every preprocessed and main column; it computes the batch values and row
// totals of its rows (Component::interaction_rows, as the CPU backend does), the ranks' totals are
// all-gathered for the prefix before each range and the claimed sum, each rank writes the running
// column of its rows, and one all-to-all takes the interaction columns back to storage blocks.
#include <algorithm>

#include "ptvm/air/logup.hpp"
#include "sharded_backend_impl.hpp"

namespace ptvm::shard {
namespace {

// Columns of log n from storage blocks to row ranges (to_rows) or back. One all_to_all. Both
// sides order a sender's values by the receiver's local index, so no index travels.
std::vector<Column> transpose(const Geometry& g, uint32_t n,
                              const std::vector<const Column*>& columns, bool to_rows) {
  const uint32_t part_log = n - g.s;
  const size_t m = size_t{1} << part_log, first = size_t(g.rank) << part_log;
  // For each of my local indices: where it goes (rank, the receiver's local index).
  std::vector<std::vector<std::pair<size_t, size_t>>> out_index(
      g.size); // (receiver index, my index)
  for (size_t i = 0; i < m; ++i) {
    const size_t global = first + i;
    const size_t there = to_rows ? row_of_position(global, n) : position_of_row(global, n);
    out_index[there >> part_log].emplace_back(there & (m - 1), i);
  }
  std::vector<comm::Bytes> send(g.size);
  std::vector<M31> buffer;
  for (int t = 0; t < g.size; ++t) {
    std::sort(out_index[t].begin(), out_index[t].end());
    buffer.resize(out_index[t].size());
    for (const Column* c : columns) {
      for (size_t k = 0; k < buffer.size(); ++k)
        buffer[k] = (*c)[out_index[t][k].second];
      append_values(send[t], buffer.data(), buffer.size());
    }
  }
  std::vector<comm::Bytes> received = g.comm->all_to_all(send);
  // My local index i came from (the owner of its source, the k-th value it sent).
  std::vector<size_t> count(g.size, 0);
  std::vector<std::pair<int, size_t>> slot(m);
  for (size_t i = 0; i < m; ++i) {
    const size_t global = first + i;
    const size_t source = to_rows ? position_of_row(global, n) : row_of_position(global, n);
    const int o = static_cast<int>(source >> part_log);
    slot[i] = {o, count[o]++};
  }
  for (int o = 0; o < g.size; ++o)
    if (received[o].size() != count[o] * columns.size() * sizeof(M31))
      throw Error(ErrorCategory::Internal,
                  "sharded LogUp: bad block from rank " + std::to_string(o));
  std::vector<Column> out(columns.size(), Column(m));
  for (size_t c = 0; c < columns.size(); ++c)
    for (size_t i = 0; i < m; ++i) {
      const auto [o, k] = slot[i];
      std::memcpy(&out[c][i], received[o].data() + (c * count[o] + k) * sizeof(M31), sizeof(M31));
    }
  return out;
}

} // namespace

Backend::Interaction
ShardedBackend::logup_interaction(const air::Component& component, const Evaluations& preprocessed,
                                  const Evaluations& main,
                                  std::span<const air::RelationChallenges> challenges) {
  const Geometry& g = geometry_;
  const auto& shape = component.shape();
  const uint32_t n = component.log_rows();
  const ShardColumns& pre = shard(preprocessed);
  const ShardColumns& mc = shard(main);
  bool split = g.size > 1 && g.evaluation_layout(n) == Layout::Block && shape.n_fractions > 0;
  for (const ShardColumns* set : {&pre, &mc})
    for (const auto& c : set->cols)
      split = split && c.layout == Layout::Block && c.log_size == n;
  if (!split) {
    // Gathered (a component too small to split, or one rank): the CPU backend on whole columns.
    Interaction r = cpu_->logup_interaction(component, whole<column_kind::Evaluation>(full_set(pre)),
                                            whole<column_kind::Evaluation>(full_set(mc)), challenges);
    return {SecureEvaluations(from_full(g, std::move(backend_cpu::host(r.columns)))), r.claimed_sum};
  }
  std::vector<const Column*> inputs;
  for (const auto& c : pre.cols)
    inputs.push_back(&c.local);
  for (const auto& c : mc.cols)
    inputs.push_back(&c.local);
  const std::vector<Column> rows = transpose(g, n, inputs, true);
  std::vector<const M31*> pre_ptr, main_ptr;
  for (size_t c = 0; c < rows.size(); ++c)
    (c < pre.cols.size() ? pre_ptr : main_ptr).push_back(rows[c].data());

  const size_t R = size_t{1} << (n - g.s), row0 = size_t(g.rank) * R;
  const size_t B = shape.n_logup_batches;
  std::vector<Column> cols(4 * B, Column(R));
  std::vector<M31*> col_ptr;
  for (auto& c : cols)
    col_ptr.push_back(c.data());
  std::vector<QM31> row_total(R);
  constexpr size_t kChunk = 2048;
  const size_t chunk = std::min(R, kChunk), n_chunks = R / chunk;
  std::vector<size_t> first_zero(n_chunks, SIZE_MAX);
  ptvm::parallel_for(n_chunks, 1, [&](size_t c0, size_t c1) {
    for (size_t c = c0; c < c1; ++c)
      first_zero[c] =
          component.interaction_rows(pre_ptr, main_ptr, challenges, c * chunk, (c + 1) * chunk,
                                     col_ptr.data(), row_total.data() + c * chunk);
  });
  uint64_t zero_row = UINT64_MAX;
  for (size_t z : first_zero)
    if (z != SIZE_MAX)
      zero_row = std::min<uint64_t>(zero_row, row0 + z);
  QM31 mine;
  for (const QM31& t : row_total)
    mine += t;
  // Every rank's total and first zero-denominator row, on every rank.
  comm::Bytes msg;
  for (int k = 0; k < 4; ++k) {
    const M31 v = mine.coord(k);
    append_values(msg, &v, 1);
  }
  {
    comm::ByteWriter w;
    w.u64(zero_row);
    const comm::Bytes z = w.take();
    msg.insert(msg.end(), z.begin(), z.end());
  }
  const std::vector<comm::Bytes> all = g.comm->all_gather(msg);
  QM31 before, total;
  uint64_t first_zero_row = UINT64_MAX;
  for (int q = 0; q < g.size; ++q) {
    if (all[q].size() != 4 * sizeof(M31) + 8)
      throw Error(ErrorCategory::Internal,
                  "sharded LogUp: bad totals from rank " + std::to_string(q));
    M31 c[4];
    std::memcpy(c, all[q].data(), sizeof c);
    const QM31 t = QM31::from_m31(c[0], c[1], c[2], c[3]);
    if (q < g.rank)
      before += t;
    total += t;
    comm::ByteReader r(std::span<const uint8_t>(all[q]).subspan(4 * sizeof(M31)),
                       "sharded LogUp zero row");
    first_zero_row = std::min(first_zero_row, r.u64());
  }
  if (first_zero_row != UINT64_MAX)
    throw Error(ErrorCategory::Runtime,
                "component '" + component.info().name + "': LogUp denominator is zero at row " +
                    std::to_string(first_zero_row) + " (a tuple equals the challenge)");
  const QM31 per_row = air::logup_sum_per_row(total, n);
  for (size_t i = 0; i < R; ++i) {
    const QM31 v = air::logup_running_value(before, row0 + i, per_row);
    for (int k = 0; k < 4; ++k)
      cols[4 * (B - 1) + k][i] = v.coord(k);
    before += row_total[i];
  }
  std::vector<const Column*> back;
  for (const auto& c : cols)
    back.push_back(&c);
  std::vector<Column> blocks = transpose(g, n, back, false);
  auto out = std::make_unique<ShardColumns>(g);
  for (auto& c : blocks)
    out->cols.push_back({n, Layout::Block, std::move(c)});
  return {SecureEvaluations(std::move(out)), total};
}

} // namespace ptvm::shard
