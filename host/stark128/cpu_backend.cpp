// The F128 STARK's reference backend (ptvm/stark128/backend.hpp): host memory, the library's
// threads across columns and positions (results do not depend on the thread count).
#include <algorithm>
#include <utility>

#include "protocol.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/common/parallel.hpp"
#include "ptvm/common/thread_pool.hpp"
#include "ptvm/common/threads.hpp"
#include "ptvm/field/batch_inverse.hpp"
#include "ptvm/ntt/ntt.hpp"
#include "ptvm/stark128/backend.hpp"

namespace ptvm::stark128 {
namespace {

using Tree = hash::Blake2bMerkleTree<F128>;

// Bit-reversal permutations, one table per size.
const std::vector<uint32_t>& bit_reverse_table(size_t n) {
  thread_local std::vector<uint32_t> table;
  if (table.size() != n) {
    uint32_t log_n = 0;
    while ((size_t{1} << log_n) < n) ++log_n;
    table.resize(n);
    for (size_t i = 0; i < n; ++i) table[i] = static_cast<uint32_t>(detail::bit_reverse(i, log_n));
  }
  return table;
}
void bit_reverse_permute(std::vector<F128>& v) {
  const std::vector<uint32_t>& t = bit_reverse_table(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    if (i < t[i]) std::swap(v[i], v[t[i]]);
}

uint32_t log2_exact(size_t n, const char* what) {
  if (n == 0 || (n & (n - 1)))
    throw Error(ErrorCategory::Usage, std::string("stark128 cpu backend: ") + what + ": length " + std::to_string(n) +
                                          " is not a power of two");
  uint32_t k = 0;
  while ((size_t{1} << k) < n) ++k;
  return k;
}

class CpuColumns final : public Columns128 {
 public:
  explicit CpuColumns(std::vector<std::vector<F128>> c) : cols(std::move(c)) {}
  size_t n_columns() const override { return cols.size(); }
  size_t length(size_t column) const override { return cols.at(column).size(); }
  std::vector<F128> to_host(size_t column) const override { return cols.at(column); }
  std::vector<std::vector<F128>> cols;
};

const CpuColumns& cpu(const Columns128& c) {
  auto* p = dynamic_cast<const CpuColumns*>(&c);
  if (!p) throw Error(ErrorCategory::Internal, "stark128 cpu backend: columns of another backend");
  return *p;
}

class CpuTree final : public Tree128 {
 public:
  CpuTree(std::vector<const CpuColumns*> sets, unsigned threads) : sets_(std::move(sets)) {
    std::vector<std::span<const F128>> spans;
    for (const CpuColumns* s : sets_)
      for (const auto& c : s->cols) spans.emplace_back(c);
    log_size_ = spans.empty() ? 0 : log2_exact(spans[0].size(), "commit");
    for (const auto& s : spans)
      if (s.size() != spans[0].size())
        throw Error(ErrorCategory::Usage, "stark128 cpu backend: commit: columns of different lengths");
    tree_ = Tree::commit(std::move(spans), threads);
  }
  Hash root() const override { return tree_.root(); }
  TreeOpening open(const std::vector<size_t>& positions) const override {
    hash::QueriesPerLogSize q;
    q[log_size_] = positions;
    auto o = tree_.decommit(q);
    return {std::move(o.queried_values), std::move(o.decommitment)};
  }

 private:
  std::vector<const CpuColumns*> sets_;  // the caller keeps the columns alive (non-owning tree)
  uint32_t log_size_ = 0;
  Tree tree_;
};

F128 horner(std::span<const F128> coeffs, F128 x) {
  F128 acc = F128::zero();
  for (size_t i = coeffs.size(); i-- > 0;) acc = acc * x + coeffs[i];
  return acc;
}

class CpuBackend128 final : public Backend128 {
 public:
  std::string name() const override { return "cpu"; }

  std::unique_ptr<Columns128> interpolate_rows(const std::vector<const std::vector<F128>*>& rows) override {
    std::vector<std::vector<F128>> out(rows.size());
    for (const auto* r : rows) log2_exact(r->size(), "interpolate_rows");
    parallel_tasks(rows.size(), threads(), [&](size_t i) {
      out[i].resize(rows[i]->size());
      ntt::coset_interpolate_natural(*rows[i], out[i], F128::one());
    });
    return std::make_unique<CpuColumns>(std::move(out));
  }

  std::unique_ptr<Columns128> extend(const Columns128& coefficients, uint32_t log_lde) override {
    const auto& in = cpu(coefficients).cols;
    const size_t nb = size_t{1} << log_lde;
    std::vector<std::vector<F128>> out(in.size());
    for (const auto& c : in)
      if (c.size() > nb) throw Error(ErrorCategory::Usage, "stark128 cpu backend: extend: more coefficients than points");
    parallel_tasks(in.size(), threads(), [&](size_t i) {
      out[i].resize(nb);
      ntt::coset_evaluate_natural(in[i], out[i], detail::lde_offset());
      bit_reverse_permute(out[i]);
    });
    return std::make_unique<CpuColumns>(std::move(out));
  }

  std::vector<F128> evaluate_at_points(const Columns128& coefficients,
                                       std::span<const PointRequest128> requests) override {
    const auto& in = cpu(coefficients).cols;
    std::vector<F128> out;
    for (const auto& r : requests) out.push_back(horner(in.at(r.column), r.point));
    return out;
  }

  std::unique_ptr<Tree128> commit(const std::vector<const Columns128*>& sets) override {
    std::vector<const CpuColumns*> s;
    for (const Columns128* c : sets) s.push_back(&cpu(*c));
    return std::make_unique<CpuTree>(std::move(s), threads());
  }

  std::unique_ptr<Columns128> composition(const Air128& air, const CompositionInputs128& in) override {
    const uint32_t log_lde = in.log_lde;
    const size_t nb = size_t{1} << log_lde;
    const auto& pre = cpu(*in.preprocessed).cols;
    const auto& main = cpu(*in.main).cols;
    const auto& inter = cpu(*in.interaction).cols;
    std::vector<F128> h(nb, F128::zero());
    std::vector<size_t> natural_of(nb), position_of(nb);
    for (size_t p = 0; p < nb; ++p) {
      natural_of[p] = detail::bit_reverse(p, log_lde);
      position_of[natural_of[p]] = p;
    }
    const unsigned t = threads();
    for (size_t c = 0; c < air.components.size(); ++c) {
      const auto& comp = *air.components[c];
      const uint32_t n_c = comp.log_rows();
      std::vector<const F128*> pp, mp, ip;
      for (uint32_t k = 0; k < comp.shape().n_pre_total; ++k) pp.push_back(pre.at(in.pre_offset[c] + k).data());
      for (uint32_t k = 0; k < comp.info().n_main_columns; ++k) mp.push_back(main.at(in.main_offset[c] + k).data());
      for (uint32_t k = 0; k < comp.shape().n_batches; ++k) ip.push_back(inter.at(in.inter_offset[c] + k).data());
      const DomainView128 view{pp.data(), mp.data(), ip.data()};
      const F128 spr = sum_per_row(in.claimed_sums[c], n_c);
      // x^{2^n_c} - 1 depends on natural index mod NB / 2^n_c.
      const size_t period = nb >> n_c;
      const std::vector<F128> van_inv = detail::vanishing_inverses(log_lde, n_c);
      parallel_for(nb, 256, [&](size_t begin, size_t end) {
        for (size_t pos = begin; pos < end; ++pos) {
          const size_t nat = natural_of[pos];
          const size_t next = position_of[(nat + period) & (nb - 1)];
          h[pos] += comp.eval_domain(view, pos, next, in.public_inputs, in.challenges.data(),
                                     in.coefficients.data() + in.constraint_offset[c], spr) *
                    van_inv[nat & (period - 1)];
        }
      }, t);
    }
    std::vector<std::vector<F128>> out;
    out.push_back(std::move(h));
    return std::make_unique<CpuColumns>(std::move(out));
  }

  std::unique_ptr<Columns128> composition_parts(const Columns128& hc, uint32_t log_n) override {
    std::vector<F128> h = cpu(hc).cols.at(0);
    const size_t nb = h.size(), n = size_t{1} << log_n;
    if (2 * n > nb) throw Error(ErrorCategory::Usage, "stark128 cpu backend: composition_parts: domain too small");
    bit_reverse_permute(h);
    std::vector<F128> coeffs(nb);
    ntt::coset_interpolate_natural(h, coeffs, detail::lde_offset());
    std::vector<std::vector<F128>> parts = {std::vector<F128>(coeffs.begin(), coeffs.begin() + n),
                                            std::vector<F128>(coeffs.begin() + n, coeffs.begin() + 2 * n)};
    return std::make_unique<CpuColumns>(std::move(parts));
  }

  std::unique_ptr<Columns128> deep_quotient(uint32_t log_lde, std::span<const F128> points,
                                            std::span<const DeepSample128> samples) override {
    const size_t nb = size_t{1} << log_lde;
    const unsigned t = threads();
    std::vector<F128> xs(nb);
    {
      const F128 w = F128::primitive_root_of_unity(log_lde);
      F128 acc = detail::lde_offset();
      for (size_t i = 0; i < nb; ++i) {
        xs[detail::bit_reverse(i, log_lde)] = acc;
        acc *= w;
      }
    }
    std::vector<F128> f(nb, F128::zero());
    std::vector<uint32_t> used;
    for (const auto& s : samples)
      if (std::find(used.begin(), used.end(), s.point) == used.end()) used.push_back(s.point);
    std::vector<F128> numer(nb), diff(nb), dinv(nb);
    for (uint32_t p : used) {
      // sum_k gamma^k (f_k(x) - v_k) = sum_k gamma^k f_k(x) - sum_k gamma^k v_k, column by column.
      F128 offset = F128::zero();
      std::vector<std::pair<const F128*, F128>> cols;
      for (const auto& s : samples)
        if (s.point == p) {
          offset += s.weight * s.value;
          const auto& col = cpu(*s.set).cols.at(s.column);
          if (col.size() != nb) throw Error(ErrorCategory::Usage, "stark128 cpu backend: deep_quotient: column length");
          cols.emplace_back(col.data(), s.weight);
        }
      const F128 point = points[p];
      parallel_for(nb, 256, [&](size_t begin, size_t end) {
        for (size_t pos = begin; pos < end; ++pos) {
          numer[pos] = -offset;
          diff[pos] = xs[pos] - point;
        }
        for (const auto& [col, gk] : cols)
          for (size_t pos = begin; pos < end; ++pos) numer[pos] += gk * col[pos];
      }, t);
      batch_inverse_raw(diff.data(), dinv.data(), dinv.data(), nb);
      for (size_t pos = 0; pos < nb; ++pos) f[pos] += numer[pos] * dinv[pos];
    }
    std::vector<std::vector<F128>> out;
    out.push_back(std::move(f));
    return std::make_unique<CpuColumns>(std::move(out));
  }

  std::unique_ptr<Columns128> fri_fold(const Columns128& layer, F128 offset, F128 beta) override {
    const std::vector<F128>& current = cpu(layer).cols.at(0);
    const uint32_t log_m = log2_exact(current.size(), "fri_fold");
    if (log_m == 0) throw Error(ErrorCategory::Usage, "stark128 cpu backend: fri_fold: a layer of one value");
    const size_t half = size_t{1} << (log_m - 1);
    const F128 inv_offset = offset.inverse(), w_inv = F128::primitive_root_of_unity(log_m).inverse();
    std::vector<F128> wpow(half);
    F128 acc = F128::one();
    for (size_t j = 0; j < half; ++j) {
      wpow[j] = acc;
      acc *= w_inv;
    }
    std::vector<F128> next(half);
    for (size_t j = 0; j < half; ++j)
      next[j] = detail::fri_fold(current[2 * j], current[2 * j + 1], inv_offset * wpow[detail::bit_reverse(j, log_m - 1)],
                                 beta);
    std::vector<std::vector<F128>> out;
    out.push_back(std::move(next));
    return std::make_unique<CpuColumns>(std::move(out));
  }

  uint64_t grind(const Hash& digest, uint32_t pow_bits) override {
    uint64_t nonce = 0;
    while (!detail::pow_ok(detail::pow_hash(digest, pow_bits, nonce), pow_bits)) ++nonce;
    return nonce;
  }

 private:
  static unsigned threads() { return configured_thread_count(); }
};

}  // namespace

std::unique_ptr<Backend128> make_cpu_backend128() { return std::make_unique<CpuBackend128>(); }

}  // namespace ptvm::stark128
