// The sharded backend's constraint evaluation, DEEP quotients and FRI folds.
#include "../backend_cpu/deep_rows.hpp"
#include "sharded_backend_impl.hpp"

namespace ptvm::shard {

std::unique_ptr<ColumnSet> ShardedBackend::eval_composition(const air::Component& component,
                                                            const CompositionInputs& in) {
  HostColumns pre, main, inter;
  if (in.preprocessed) pre = full_set(shard(*in.preprocessed));
  main = full_set(shard(*in.main));
  if (in.interaction) inter = full_set(shard(*in.interaction));
  CompositionInputs full = in;
  full.preprocessed = in.preprocessed ? &pre : nullptr;
  full.main = &main;
  full.interaction = in.interaction ? &inter : nullptr;
  auto r = cpu_->eval_composition(component, full);
  return from_full(geometry_, std::move(backend_cpu::host(*r)));
}

std::unique_ptr<ColumnSet> ShardedBackend::deep_quotients(uint32_t log_size,
                                                          const std::vector<DeepQuotientBatch>& batches) {
  const Geometry& g = geometry_;
  bool local = g.evaluation_layout(log_size) == Layout::Block;
  for (const auto& b : batches)
    for (const auto& ref : b.columns) {
      const ShardColumn& c = shard(*ref.set).cols.at(ref.column);
      local = local && c.layout == Layout::Block && c.log_size == log_size;
    }
  if (local) {
    // Pointwise on the domain: each rank its block, with the CPU backend's row code.
    const size_t m = size_t{1} << (log_size - g.s);
    const auto points = block_domain_points(log_size, g.block_begin(log_size), log_size - g.s);
    std::vector<const M31*> column_data;
    for (const auto& b : batches)
      for (const auto& ref : b.columns) column_data.push_back(shard(*ref.set).cols.at(ref.column).local.data());
    auto out = std::make_unique<ShardColumns>(g);
    out->cols.resize(4);
    for (auto& c : out->cols) c = {log_size, Layout::Block, Column(m)};
    M31* const dst[4] = {out->cols[0].local.data(), out->cols[1].local.data(), out->cols[2].local.data(),
                         out->cols[3].local.data()};
    backend_cpu::deep_quotient_rows(m, [&](size_t q) { return points[q]; }, batches, column_data, dst);
    return out;
  }
  // Gathered (columns too small to split).
  std::map<const ColumnSet*, std::unique_ptr<HostColumns>> full;
  std::vector<DeepQuotientBatch> host_batches = batches;
  for (auto& b : host_batches)
    for (auto& ref : b.columns) {
      auto& slot = full[ref.set];
      if (!slot) slot = std::make_unique<HostColumns>(full_set(shard(*ref.set)));
      ref.set = slot.get();
    }
  auto r = cpu_->deep_quotients(log_size, host_batches);
  return from_full(geometry_, std::move(backend_cpu::host(*r)));
}

namespace {

QM31 value_at(const ShardColumns& c, size_t i) {
  return QM31::from_m31(c.cols[0].local[i], c.cols[1].local[i], c.cols[2].local[i], c.cols[3].local[i]);
}

// A QM31 column (4 coordinates) of log `log_size` from this rank's block `part` of it: block when
// it can be split, else gathered whole onto every rank (FRI layers that fit one rank).
std::unique_ptr<ShardColumns> qm31_from_block(const Geometry& g, uint32_t log_size, std::array<Column, 4>&& part) {
  auto out = std::make_unique<ShardColumns>(g);
  out->cols.resize(4);
  const Layout layout = g.evaluation_layout(log_size);
  for (int k = 0; k < 4; ++k) out->cols[k] = {log_size, Layout::Block, std::move(part[k])};
  if (layout == Layout::Block) return out;
  std::vector<const ShardColumn*> refs;
  for (const auto& c : out->cols) refs.push_back(&c);
  std::vector<Column> full = full_columns(g, refs);
  for (int k = 0; k < 4; ++k) out->cols[k] = {log_size, Layout::Replicated, std::move(full[k])};
  return out;
}

bool is_qm31_block(const ShardColumns& c) {
  if (c.cols.size() != 4) throw Error(ErrorCategory::Internal, "sharded FRI: not a QM31 column");
  return c.cols[0].layout == Layout::Block;
}

}  // namespace

// Folds pair positions (2i, 2i+1), which a block never splits: a rank folds its own block with
// the twiddles of its positions (stark::fold_circle_pair, fold_line_pair: the CPU backend's math).
std::unique_ptr<ColumnSet> ShardedBackend::fri_fold_circle(const ColumnSet& column, const QM31& alpha,
                                                           const ColumnSet* accumulate_into) {
  const ShardColumns& in = shard(column);
  const Geometry& g = geometry_;
  if (!is_qm31_block(in)) {
    HostColumns acc;
    if (accumulate_into) acc = full_set(shard(*accumulate_into));
    HostColumns whole(std::vector<Column>{in.cols[0].local, in.cols[1].local, in.cols[2].local, in.cols[3].local});
    auto r = cpu_->fri_fold_circle(whole, alpha, accumulate_into ? &acc : nullptr);
    return from_full(g, std::move(backend_cpu::host(*r)));
  }
  const uint32_t n = in.cols[0].log_size;
  const size_t m = in.cols[0].local.size(), a = g.block_begin(n);
  const auto points = block_domain_points(n, a, n - g.s);
  std::vector<M31> ys(m / 2);
  for (size_t i = 0; i < m / 2; ++i) ys[i] = points[2 * i].y;
  const std::vector<M31> inv_y = batch_inverse<M31>(std::span<const M31>(ys));
  std::array<Column, 4> part;
  for (auto& c : part) c.resize(m / 2);
  for (size_t i = 0; i < m / 2; ++i) {
    const QM31 f = stark::fold_circle_pair(value_at(in, 2 * i), value_at(in, 2 * i + 1), inv_y[i], alpha);
    for (int k = 0; k < 4; ++k) part[k][i] = f.coord(k);
  }
  auto out = qm31_from_block(g, n - 1, std::move(part));
  if (accumulate_into) {
    const ShardColumns& acc = shard(*accumulate_into);
    if (acc.cols.size() != 4 || acc.cols[0].log_size != n - 1 || acc.cols[0].layout != out->cols[0].layout)
      throw Error(ErrorCategory::Internal, "fri_fold_circle: size mismatch");
    const QM31 alpha_sq = alpha * alpha;
    for (size_t i = 0; i < out->cols[0].local.size(); ++i) {
      const QM31 v = value_at(acc, i) * alpha_sq + value_at(*out, i);
      for (int k = 0; k < 4; ++k) out->cols[k].local[i] = v.coord(k);
    }
  }
  return out;
}

std::unique_ptr<ColumnSet> ShardedBackend::fri_fold_line(const ColumnSet& line, const circle::LineDomain& domain,
                                                         const QM31& alpha) {
  const ShardColumns& in = shard(line);
  const Geometry& g = geometry_;
  if (!is_qm31_block(in)) {
    HostColumns whole(std::vector<Column>{in.cols[0].local, in.cols[1].local, in.cols[2].local, in.cols[3].local});
    auto r = cpu_->fri_fold_line(whole, domain, alpha);
    return from_full(g, std::move(backend_cpu::host(*r)));
  }
  const uint32_t d = in.cols[0].log_size;
  if (d != domain.log_size()) throw Error(ErrorCategory::Internal, "fri_fold_line: size mismatch");
  const size_t m = in.cols[0].local.size(), a = g.block_begin(d);
  const std::vector<M31> xs = block_line_x(domain, a, d - g.s);
  std::vector<M31> even_x(m / 2);
  for (size_t i = 0; i < m / 2; ++i) even_x[i] = xs[2 * i];
  const std::vector<M31> inv_x = batch_inverse<M31>(std::span<const M31>(even_x));
  std::array<Column, 4> part;
  for (auto& c : part) c.resize(m / 2);
  for (size_t i = 0; i < m / 2; ++i) {
    const QM31 f = stark::fold_line_pair(value_at(in, 2 * i), value_at(in, 2 * i + 1), inv_x[i], alpha);
    for (int k = 0; k < 4; ++k) part[k][i] = f.coord(k);
  }
  return qm31_from_block(g, d - 1, std::move(part));
}

}  // namespace ptvm::shard
