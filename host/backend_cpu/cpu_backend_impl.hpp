// The CPU reference backend (private to host/backend_cpu): every column in host memory, the
// library thread pool across columns or rows. The class is declared here and defined by
// operation family, one file each (as stwo splits its backends): cpu_polynomials.cpp,
// cpu_merkle.cpp, cpu_logup.cpp, cpu_composition.cpp, cpu_quotients.cpp, cpu_fri.cpp,
// cpu_grind.cpp; cpu_backend.cpp holds the per-size tables and make_cpu_backend().
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <mutex>

#include "column_allocator.hpp"
#include "ptvm/air/packed.hpp"
#include "ptvm/backend.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/common/parallel.hpp"
#include "ptvm/field/batch_inverse.hpp"

namespace ptvm::backend_cpu {

inline uint32_t log2_exact(size_t n) {
  if (n == 0 || (n & (n - 1))) throw Error(ErrorCategory::Internal, "cpu backend: column length " + std::to_string(n) + " is not a power of two");
  return static_cast<uint32_t>(std::countr_zero(n));
}

using Column = backend_cpu::ColumnVector<M31>;

class HostColumns final : public ColumnSet {
 public:
  std::vector<Column> cols;
  HostColumns() = default;
  explicit HostColumns(std::vector<Column> c) : cols(std::move(c)) {}
  size_t n_columns() const override { return cols.size(); }
  uint32_t log_size(size_t c) const override { return log2_exact(cols.at(c).size()); }
  std::vector<M31> to_host(size_t c) const override { return std::vector<M31>(cols.at(c).begin(), cols.at(c).end()); }
  std::vector<M31> gather(size_t c, std::span<const size_t> positions) const override {
    std::vector<M31> out;
    for (size_t p : positions) out.push_back(cols.at(c).at(p));
    return out;
  }
};

inline const HostColumns& host(const ColumnSet& s) {
  auto* h = dynamic_cast<const HostColumns*>(&s);
  if (!h) throw Error(ErrorCategory::Internal, "cpu backend: column set from another backend");
  return *h;
}
inline HostColumns& host(ColumnSet& s) {
  auto* h = dynamic_cast<HostColumns*>(&s);
  if (!h) throw Error(ErrorCategory::Internal, "cpu backend: column set from another backend");
  return *h;
}
template <class Kind>
const HostColumns& host(const Columns<Kind>& c) {
  return host(c.set());
}
template <class Kind>
HostColumns& host(Columns<Kind>& c) {
  return host(c.set());
}
inline const HostColumns& host(const EvaluationsRef& r) { return host(r.set()); }

class HostTree final : public CommittedTree {
 public:
  explicit HostTree(hash::MerkleTree t) : tree_(std::move(t)) {}
  hash::Blake2sHash root() const override { return tree_.root(); }
  std::vector<uint32_t> column_log_sizes() const override { return tree_.column_log_sizes(); }
  hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& q) const override { return tree_.decommit(q); }

 private:
  hash::MerkleTree tree_;
};

// Points of CanonicCoset(log).circle_domain() by bit-reversed storage position.
struct DomainPoints {
  uint32_t log_size;
  backend_cpu::ColumnVector<M31> half_x, half_y;  // half coset, natural order
  explicit DomainPoints(uint32_t log) : log_size(log) {
    circle::Coset h = circle::CanonicCoset{log}.half_coset();
    size_t n = h.size();
    half_x.resize(n);
    half_y.resize(n);
    circle::CirclePoint<M31> p = h.initial(), step = h.step();
    for (size_t i = 0; i < n; ++i) {
      half_x[i] = p.x;
      half_y[i] = p.y;
      p = p + step;
    }
  }
  circle::CirclePoint<M31> at_position(size_t r) const {
    size_t i = circle::bit_reverse_index(r, log_size);
    size_t half = half_x.size();
    if (i < half) return {half_x[i], half_y[i]};
    return {half_x[i - half], -half_y[i - half]};
  }
};

// x-coordinates of a line domain by bit-reversed position.
inline backend_cpu::ColumnVector<M31> line_domain_bitrev_x(const circle::LineDomain& d) {
  const size_t n = d.size();
  backend_cpu::ColumnVector<M31> natural(n), out(n);
  circle::CirclePoint<M31> p = d.coset.initial(), step = d.coset.step();
  for (size_t i = 0; i < n; ++i) {
    natural[i] = p.x;
    p = p + step;
  }
  for (size_t r = 0; r < n; ++r) out[r] = natural[circle::bit_reverse_index(r, d.log_size())];
  return out;
}

// 1 / V_n on CanonicCoset(e) by pos >> n: it depends only on those bits (PROTOCOL.md §4.3 step 4).
inline std::vector<M31> composition_inv_vanishing(uint32_t n, uint32_t e) {
  const uint32_t k = e - n;
  std::vector<M31> inv_vanishing(size_t{1} << k);
  circle::CircleDomain dom = circle::CanonicCoset{e}.circle_domain();
  std::vector<M31> v(size_t{1} << k);
  for (size_t i = 0; i < v.size(); ++i) v[i] = circle::canonic_vanishing(n, dom.at(i));
  std::vector<M31> inv = batch_inverse<M31>(std::span<const M31>(v));
  for (size_t i = 0; i < v.size(); ++i) inv_vanishing[circle::bit_reverse_index(i, k)] = inv[i];
  return inv_vanishing;
}

inline uint32_t reduce_product_partial(uint64_t p) { return static_cast<uint32_t>((p & M31::P) + (p >> 31)); }

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }

  Evaluations upload_rows(const std::vector<std::vector<M31>>& rows) override;

  std::vector<M31> to_host_rows(const Evaluations& set, size_t column) override;

  Coefficients interpolate(const Evaluations& evaluations) override;

  Evaluations evaluate(const Coefficients& coefficients, uint32_t log_extension) override;

  std::vector<QM31> evaluate_at_points(const Coefficients& coefficients,
                                       std::span<const PointEvaluationRequest> requests) override;

  std::unique_ptr<CommittedTree> commit(const std::vector<EvaluationsRef>& sets) override;

  Interaction logup_interaction(const air::Component& component, const Evaluations& preprocessed,
                                const Evaluations& main,
                                std::span<const air::RelationChallenges> challenges) override;

  SecureEvaluations eval_composition(const air::Component& component, const CompositionInputs& in) override;

  void add_assign(SecureEvaluations& dst, const SecureEvaluations& src) override;

  Coefficients slice(const Coefficients& set, size_t first, size_t count) override;

  Coefficients coefficient_slice(const Coefficients& coefficients, size_t begin, uint32_t log_size) override;

  SecureEvaluations deep_quotients(uint32_t log_size, const std::vector<DeepQuotientBatch>& batches) override;

  LineEvaluations fri_fold_circle(const SecureEvaluations& column, const QM31& alpha,
                                  const LineEvaluations* accumulate_into) override;

  LineEvaluations fri_fold_line(const LineEvaluations& line, const circle::LineDomain& domain,
                                const QM31& alpha) override;

  uint64_t grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) override;

 private:
  static QM31 value(const HostColumns& c, size_t i) {
    return QM31::from_m31(c.cols[0][i], c.cols[1][i], c.cols[2][i], c.cols[3][i]);
  }
  static void put(HostColumns& c, size_t i, const QM31& v) {
    c.cols[0][i] = v.x0.a;
    c.cols[1][i] = v.x0.b;
    c.cols[2][i] = v.x1.a;
    c.cols[3][i] = v.x1.b;
  }
  const circle::TwiddleTree& twiddles(uint32_t max_domain_log);
  std::unique_ptr<circle::TwiddleTree> twiddles_;

  // Per-size tables, computed once per backend and kept (a proof folds the same sizes every
  // time; stwo keeps its twiddles the same way). Guarded: a backend may be shared by threads.
  // 1 / y of the even positions of CanonicCoset(n) (the circle-to-line fold's twiddles).
  const std::vector<M31>& circle_fold_inv_y(uint32_t n);
  // 1 / x of the even bit-reversed positions of a line domain (the line fold's twiddles).
  const std::vector<M31>& line_fold_inv_x(const circle::LineDomain& domain);
  // Storage position (bit-reversed circle-domain order) of row j of CanonicCoset(n).
  const std::vector<uint32_t>& row_positions(uint32_t n);
  // next[pos]: the storage position of the next trace row, on CanonicCoset(e) for a trace of
  // 2^n rows (the mask offset 1 of the constraint evaluators).
  const std::vector<uint32_t>& next_positions(uint32_t n, uint32_t e);
  std::map<uint32_t, std::unique_ptr<std::vector<uint32_t>>> row_positions_;
  std::map<std::array<uint32_t, 2>, std::unique_ptr<std::vector<uint32_t>>> next_positions_;
  std::mutex tables_mutex_;
  std::map<uint32_t, std::unique_ptr<std::vector<M31>>> circle_fold_inv_y_;
  std::map<std::array<uint32_t, 3>, std::unique_ptr<std::vector<M31>>> line_fold_inv_x_;
};

}  // namespace ptvm::backend_cpu
