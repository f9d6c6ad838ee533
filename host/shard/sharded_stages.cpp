// The sharded backend's constraint evaluation, DEEP quotients and FRI folds.
#include "../backend_cpu/deep_rows.hpp"
#include "sharded_backend_impl.hpp"

namespace ptvm::shard {

SecureEvaluations ShardedBackend::eval_composition(const air::Component& component,
                                                   const CompositionInputs& in) {
  const Geometry& g = geometry_;
  const uint32_t n = component.log_rows();
  std::vector<const ShardColumn*> inputs;
  for (const Evaluations* set : {in.preprocessed, in.main, in.interaction})
    if (set)
      for (const auto& c : shard(*set).cols)
        inputs.push_back(&c);
  if (inputs.empty())
    throw Error(ErrorCategory::Internal, "eval_composition: component without columns");
  const uint32_t e = inputs[0]->log_size;
  bool local = g.size > 1 && g.evaluation_layout(e) == Layout::Block;
  for (const ShardColumn* c : inputs)
    local = local && c->layout == Layout::Block && c->log_size == e;
  if (!local) {
    // Gathered (a component too small to split, or one rank): the CPU backend on whole columns.
    Evaluations pre, main, inter;
    if (in.preprocessed)
      pre = whole<column_kind::Evaluation>(full_set(shard(*in.preprocessed)));
    main = whole<column_kind::Evaluation>(full_set(shard(*in.main)));
    if (in.interaction)
      inter = whole<column_kind::Evaluation>(full_set(shard(*in.interaction)));
    CompositionInputs full = in;
    full.preprocessed = in.preprocessed ? &pre : nullptr;
    full.main = &main;
    full.interaction = in.interaction ? &inter : nullptr;
    auto r = cpu_->eval_composition(component, full);
    return SecureEvaluations(from_full(g, std::move(backend_cpu::host(r))));
  }
  // The constraints read each row and, for a few columns (shape().next_row_inputs), the next one
  // (mask offset 1). In bit-reversed storage the next row of a position lies in another block, so
  // each rank first receives, for each of its positions p, those columns' values at next(p) (one
  // all-to-all): rank r sends the value at its q to the owner of prev(q), in increasing prev(q).
  const size_t m = size_t{1} << (e - g.s), a = g.block_begin(e);
  const uint32_t block_log = e - g.s;
  const std::vector<const ShardColumn*> at_next = air::next_row_inputs(component, inputs);
  std::vector<std::vector<std::pair<size_t, size_t>>> wanted(g.size); // (p, my local q)
  for (size_t i = 0; i < m; ++i) {
    const size_t p = circle::offset_bit_reversed_circle_domain_index(a + i, n, e, -1);
    wanted[p >> block_log].emplace_back(p, i);
  }
  std::vector<comm::Bytes> send(g.size);
  std::vector<M31> buffer;
  for (int t = 0; t < g.size; ++t) {
    std::sort(wanted[t].begin(), wanted[t].end());
    buffer.resize(wanted[t].size());
    for (const ShardColumn* c : at_next) {
      for (size_t k = 0; k < wanted[t].size(); ++k)
        buffer[k] = c->local[wanted[t][k].second];
      append_values(send[t], buffer.data(), buffer.size());
    }
  }
  // (None read: no exchange, on every rank alike.)
  std::vector<comm::Bytes> received = at_next.empty() ? send : g.comm->all_to_all(send);
  // My positions in increasing order: the k-th from owner o is the k-th value o sent.
  std::vector<size_t> count(g.size, 0);
  std::vector<std::pair<int, size_t>> slot(m);
  for (size_t i = 0; i < m; ++i) {
    const size_t q = circle::offset_bit_reversed_circle_domain_index(a + i, n, e, 1);
    const int o = static_cast<int>(q >> block_log);
    slot[i] = {o, count[o]++};
  }
  for (int o = 0; o < g.size; ++o)
    if (received[o].size() != count[o] * at_next.size() * sizeof(M31))
      throw Error(ErrorCategory::Internal,
                  "sharded eval_composition: bad block from rank " + std::to_string(o));
  // Each input read at the next row as [its block | the next row of each position]
  // (next_position[i] = m + i); the others as their block alone (never read past it).
  std::vector<Column> extended(at_next.size());
  std::vector<const M31*> data;
  for (const ShardColumn* c : inputs) data.push_back(c->local.data());
  for (size_t j = 0; j < at_next.size(); ++j) {
    extended[j].resize(2 * m);
    std::copy(at_next[j]->local.begin(), at_next[j]->local.end(), extended[j].begin());
    for (size_t i = 0; i < m; ++i) {
      const auto [o, k] = slot[i];
      std::memcpy(&extended[j][m + i], received[o].data() + (j * count[o] + k) * sizeof(M31),
                  sizeof(M31));
    }
    data[std::find(inputs.begin(), inputs.end(), at_next[j]) - inputs.begin()] = extended[j].data();
  }
  std::vector<uint32_t> next(m);
  for (size_t i = 0; i < m; ++i)
    next[i] = static_cast<uint32_t>(m + i);
  air::DomainColumns cols;
  cols.log_size = e;
  size_t c = 0;
  auto take = [&](const Evaluations* set, std::vector<const M31*>& dst) {
    if (!set)
      return;
    for (size_t k = 0; k < set->n_columns(); ++k)
      dst.push_back(data[c++]);
  };
  take(in.preprocessed, cols.preprocessed);
  take(in.main, cols.main);
  take(in.interaction, cols.interaction);
  cols.next_position = next.data();
  // inv_vanishing is indexed by pos >> n: with local positions, from this block's first entry.
  const std::vector<M31> inv_vanishing = backend_cpu::composition_inv_vanishing(n, e);
  const std::span<const M31> local_inv = std::span<const M31>(inv_vanishing).subspan(a >> n);
  auto out = std::make_unique<ShardColumns>(g);
  out->cols.resize(4);
  for (auto& col : out->cols)
    col = {e, Layout::Block, Column(m)};
  M31* const dst[4] = {out->cols[0].local.data(), out->cols[1].local.data(),
                       out->cols[2].local.data(), out->cols[3].local.data()};
  ptvm::parallel_for(m, 1024, [&](size_t b, size_t end) {
    component.composition_on_domain(cols, in.public_inputs, in.challenges, in.coefficients,
                                    in.claimed_sum, local_inv, b, end, dst);
  });
  return SecureEvaluations(std::move(out));
}

SecureEvaluations
ShardedBackend::deep_quotients(uint32_t log_size, const std::vector<DeepQuotientBatch>& batches) {
  const Geometry& g = geometry_;
  bool local = g.evaluation_layout(log_size) == Layout::Block;
  for (const auto& b : batches)
    for (const auto& ref : b.columns) {
      const ShardColumn& c = shard(ref.set).cols.at(ref.column);
      local = local && c.layout == Layout::Block && c.log_size == log_size;
    }
  if (local) {
    // Pointwise on the domain: each rank its block, with the CPU backend's row code.
    const size_t m = size_t{1} << (log_size - g.s);
    const auto points = block_domain_points(log_size, g.block_begin(log_size), log_size - g.s);
    std::vector<const M31*> column_data;
    for (const auto& b : batches)
      for (const auto& ref : b.columns)
        column_data.push_back(shard(ref.set).cols.at(ref.column).local.data());
    auto out = std::make_unique<ShardColumns>(g);
    out->cols.resize(4);
    for (auto& c : out->cols)
      c = {log_size, Layout::Block, Column(m)};
    M31* const dst[4] = {out->cols[0].local.data(), out->cols[1].local.data(),
                         out->cols[2].local.data(), out->cols[3].local.data()};
    backend_cpu::deep_quotient_rows(
        m, [&](size_t q) { return points[q]; }, batches, column_data, dst);
    return SecureEvaluations(std::move(out));
  }
  // Gathered (columns too small to split).
  std::map<const ColumnSet*, std::unique_ptr<HostColumns>> full;
  std::vector<DeepQuotientBatch> host_batches = batches;
  for (auto& b : host_batches)
    for (auto& ref : b.columns) {
      auto& slot = full[&ref.set.set()];
      if (!slot)
        slot = std::make_unique<HostColumns>(full_set(shard(ref.set)));
      ref.set = EvaluationsRef(*slot);
    }
  auto r = cpu_->deep_quotients(log_size, host_batches);
  return SecureEvaluations(from_full(geometry_, std::move(backend_cpu::host(r))));
}

namespace {

QM31 value_at(const ShardColumns& c, size_t i) {
  return QM31::from_m31(c.cols[0].local[i], c.cols[1].local[i], c.cols[2].local[i],
                        c.cols[3].local[i]);
}

// A QM31 column (4 coordinates) of log `log_size` from this rank's block `part` of it: block when
// it can be split, else gathered whole onto every rank (FRI layers that fit one rank).
std::unique_ptr<ShardColumns> qm31_from_block(const Geometry& g, uint32_t log_size,
                                              std::array<Column, 4>&& part) {
  auto out = std::make_unique<ShardColumns>(g);
  out->cols.resize(4);
  const Layout layout = g.evaluation_layout(log_size);
  for (int k = 0; k < 4; ++k)
    out->cols[k] = {log_size, Layout::Block, std::move(part[k])};
  if (layout == Layout::Block)
    return out;
  std::vector<const ShardColumn*> refs;
  for (const auto& c : out->cols)
    refs.push_back(&c);
  std::vector<Column> full = full_columns(g, refs);
  for (int k = 0; k < 4; ++k)
    out->cols[k] = {log_size, Layout::Replicated, std::move(full[k])};
  return out;
}

bool is_qm31_block(const ShardColumns& c) {
  if (c.cols.size() != 4)
    throw Error(ErrorCategory::Internal, "sharded FRI: not a QM31 column");
  return c.cols[0].layout == Layout::Block;
}

} // namespace

// Folds pair positions (2i, 2i+1), which a block never splits: a rank folds its own block with
// the twiddles of its positions (stark::fold_circle_pair, fold_line_pair: the CPU backend's math).
LineEvaluations ShardedBackend::fri_fold_circle(const SecureEvaluations& column, const QM31& alpha,
                                                const LineEvaluations* accumulate_into) {
  const ShardColumns& in = shard(column);
  const Geometry& g = geometry_;
  if (!is_qm31_block(in)) {
    LineEvaluations acc;
    if (accumulate_into)
      acc = whole<column_kind::LineEvaluation>(full_set(shard(*accumulate_into)));
    const auto column_whole = whole<column_kind::SecureEvaluation>(HostColumns(
        std::vector<Column>{in.cols[0].local, in.cols[1].local, in.cols[2].local, in.cols[3].local}));
    auto r = cpu_->fri_fold_circle(column_whole, alpha, accumulate_into ? &acc : nullptr);
    return LineEvaluations(from_full(g, std::move(backend_cpu::host(r))));
  }
  const uint32_t n = in.cols[0].log_size;
  const size_t m = in.cols[0].local.size(), a = g.block_begin(n);
  const auto points = block_domain_points(n, a, n - g.s);
  std::vector<M31> ys(m / 2);
  for (size_t i = 0; i < m / 2; ++i)
    ys[i] = points[2 * i].y;
  const std::vector<M31> inv_y = batch_inverse<M31>(std::span<const M31>(ys));
  std::array<Column, 4> part;
  for (auto& c : part)
    c.resize(m / 2);
  for (size_t i = 0; i < m / 2; ++i) {
    const QM31 f =
        stark::fold_circle_pair(value_at(in, 2 * i), value_at(in, 2 * i + 1), inv_y[i], alpha);
    for (int k = 0; k < 4; ++k)
      part[k][i] = f.coord(k);
  }
  auto out = qm31_from_block(g, n - 1, std::move(part));
  if (accumulate_into) {
    const ShardColumns& acc = shard(*accumulate_into);
    if (acc.cols.size() != 4 || acc.cols[0].log_size != n - 1 ||
        acc.cols[0].layout != out->cols[0].layout)
      throw Error(ErrorCategory::Internal, "fri_fold_circle: size mismatch");
    const QM31 alpha_sq = alpha * alpha;
    for (size_t i = 0; i < out->cols[0].local.size(); ++i) {
      const QM31 v = value_at(acc, i) * alpha_sq + value_at(*out, i);
      for (int k = 0; k < 4; ++k)
        out->cols[k].local[i] = v.coord(k);
    }
  }
  return LineEvaluations(std::move(out));
}

LineEvaluations ShardedBackend::fri_fold_line(const LineEvaluations& line,
                                              const circle::LineDomain& domain, const QM31& alpha) {
  const ShardColumns& in = shard(line);
  const Geometry& g = geometry_;
  if (!is_qm31_block(in)) {
    const auto line_whole = whole<column_kind::LineEvaluation>(HostColumns(
        std::vector<Column>{in.cols[0].local, in.cols[1].local, in.cols[2].local, in.cols[3].local}));
    auto r = cpu_->fri_fold_line(line_whole, domain, alpha);
    return LineEvaluations(from_full(g, std::move(backend_cpu::host(r))));
  }
  const uint32_t d = in.cols[0].log_size;
  if (d != domain.log_size())
    throw Error(ErrorCategory::Internal, "fri_fold_line: size mismatch");
  const size_t m = in.cols[0].local.size(), a = g.block_begin(d);
  const std::vector<M31> xs = block_line_x(domain, a, d - g.s);
  std::vector<M31> even_x(m / 2);
  for (size_t i = 0; i < m / 2; ++i)
    even_x[i] = xs[2 * i];
  const std::vector<M31> inv_x = batch_inverse<M31>(std::span<const M31>(even_x));
  std::array<Column, 4> part;
  for (auto& c : part)
    c.resize(m / 2);
  for (size_t i = 0; i < m / 2; ++i) {
    const QM31 f =
        stark::fold_line_pair(value_at(in, 2 * i), value_at(in, 2 * i + 1), inv_x[i], alpha);
    for (int k = 0; k < 4; ++k)
      part[k][i] = f.coord(k);
  }
  return LineEvaluations(qm31_from_block(g, d - 1, std::move(part)));
}

} // namespace ptvm::shard
