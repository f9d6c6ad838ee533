// The reference backend: every column in host memory, std::thread across columns or rows.
#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <mutex>

#include "../stark/parallel.hpp"
#include "column_allocator.hpp"
#include "ptvm/air/packed.hpp"
#include "ptvm/backend.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/field/batch_inverse.hpp"

namespace ptvm {
namespace {

using stark::detail::parallel_for;

uint32_t log2_exact(size_t n) {
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

const HostColumns& host(const ColumnSet& s) {
  auto* h = dynamic_cast<const HostColumns*>(&s);
  if (!h) throw Error(ErrorCategory::Internal, "cpu backend: column set from another backend");
  return *h;
}
HostColumns& host(ColumnSet& s) {
  auto* h = dynamic_cast<HostColumns*>(&s);
  if (!h) throw Error(ErrorCategory::Internal, "cpu backend: column set from another backend");
  return *h;
}

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
backend_cpu::ColumnVector<M31> line_domain_bitrev_x(const circle::LineDomain& d) {
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

inline uint32_t reduce_product_partial(uint64_t p) { return static_cast<uint32_t>((p & M31::P) + (p >> 31)); }

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }

  std::unique_ptr<ColumnSet> upload_rows(const std::vector<std::vector<M31>>& rows) override {
    auto out = std::make_unique<HostColumns>();
    out->cols.resize(rows.size());
    parallel_for(rows.size(), 1, [&](size_t b, size_t e) {
      for (size_t c = b; c < e; ++c) {
        const auto& col = rows[c];
        const std::vector<uint32_t>& position = row_positions(log2_exact(col.size()));
        Column v(col.size());
        for (size_t j = 0; j < col.size(); ++j) v[position[j]] = col[j];
        out->cols[c] = std::move(v);
      }
    });
    return out;
  }

  std::vector<M31> to_host_rows(const ColumnSet& set, size_t column) override {
    const auto& col = host(set).cols.at(column);
    const std::vector<uint32_t>& position = row_positions(log2_exact(col.size()));
    std::vector<M31> rows(col.size());
    for (size_t j = 0; j < col.size(); ++j) rows[j] = col[position[j]];
    return rows;
  }

  std::unique_ptr<ColumnSet> interpolate(const ColumnSet& evaluations) override {
    const auto& in = host(evaluations);
    auto out = std::make_unique<HostColumns>();
    out->cols.resize(in.cols.size());
    uint32_t max_log = 1;
    for (const auto& c : in.cols) max_log = std::max(max_log, log2_exact(c.size()));
    const circle::TwiddleTree& tw = twiddles(max_log);
    parallel_for(in.cols.size(), 1, [&](size_t b, size_t e) {
      for (size_t c = b; c < e; ++c) {
        out->cols[c].resize(in.cols[c].size());
        circle::circle_interpolate_bitrev(in.cols[c], out->cols[c], tw);
      }
    });
    return out;
  }

  std::unique_ptr<ColumnSet> evaluate(const ColumnSet& coefficients, uint32_t log_extension) override {
    const auto& in = host(coefficients);
    auto out = std::make_unique<HostColumns>();
    out->cols.resize(in.cols.size());
    uint32_t max_log = 1;
    for (const auto& c : in.cols) max_log = std::max(max_log, log2_exact(c.size()) + log_extension);
    const circle::TwiddleTree& tw = twiddles(max_log);
    parallel_for(in.cols.size(), 1, [&](size_t b, size_t e) {
      for (size_t c = b; c < e; ++c) {
        out->cols[c].resize(in.cols[c].size() << log_extension);
        circle::circle_evaluate_bitrev(in.cols[c], out->cols[c], tw);
      }
    });
    return out;
  }

  std::vector<QM31> evaluate_at_points(const ColumnSet& coefficients,
                                       std::span<const PointEvaluationRequest> requests) override {
    const auto& in = host(coefficients);
    // Requests sharing a point and a size share the basis weights b_j(point).
    std::map<std::pair<std::array<uint32_t, 8>, uint32_t>, std::vector<size_t>> groups;
    for (size_t i = 0; i < requests.size(); ++i) {
      const auto& p = requests[i].point;
      std::array<uint32_t, 8> key = {p.x.x0.a.v, p.x.x0.b.v, p.x.x1.a.v, p.x.x1.b.v,
                                     p.y.x0.a.v, p.y.x0.b.v, p.y.x1.a.v, p.y.x1.b.v};
      groups[{key, log2_exact(in.cols.at(requests[i].column).size())}].push_back(i);
    }
    std::vector<QM31> out(requests.size());
    for (const auto& group : groups) {
      // Not a structured binding: clang 14 cannot capture one in the lambda below.
      const uint32_t log = group.first.second;
      const std::vector<size_t>& members = group.second;
      const auto& point = requests[members[0]].point;
      // w_j = prod of factors [y, x, pi(x), ...] selected by the bits of j (PROTOCOL.md §3.1).
      const size_t n = size_t{1} << log;
      backend_cpu::ColumnVector<uint32_t> w[4];
      for (auto& v : w) v.assign(n, 0);
      {
        backend_cpu::ColumnVector<QM31> weights(n);
        weights[0] = QM31::one();
        std::vector<QM31> factors;
        factors.push_back(point.y);
        QM31 x = point.x;
        for (uint32_t k = 1; k < log; ++k) {
          factors.push_back(x);
          x = x * x + x * x - QM31::one();
        }
        for (uint32_t k = 0; k < log; ++k) {
          size_t half = size_t{1} << k;
          for (size_t j = 0; j < half; ++j) weights[half + j] = weights[j] * factors[k];
        }
        for (size_t j = 0; j < n; ++j)
          for (int k = 0; k < 4; ++k) w[k][j] = weights[j].coord(k).v;
      }
      parallel_for(members.size(), 1, [&](size_t b, size_t e) {
        for (size_t m = b; m < e; ++m) {
          const auto& col = in.cols[requests[members[m]].column];
          uint64_t acc[4] = {0, 0, 0, 0};
          size_t j = 0;
          if (n >= air::PackedM31::kLanes) {
            // 16 lanes at a time in unreduced 64-bit lanes (one fold per product, one reduction
            // per column); lane sums are added up at the end.
            air::PackedWide lanes[4] = {};
            for (; j + air::PackedM31::kLanes <= n; j += air::PackedM31::kLanes) {
              air::PackedM31 c = air::PackedM31::load(col.data() + j);
              for (int k = 0; k < 4; ++k)
                lanes[k].add_folded_product(c, air::PackedM31::load(reinterpret_cast<const M31*>(w[k].data() + j)));
            }
            for (int k = 0; k < 4; ++k) {
              const air::PackedM31 r = lanes[k].reduce();
              for (size_t l = 0; l < air::PackedM31::kLanes; ++l) acc[k] += r.v[l];
            }
          }
          for (; j < n; ++j) {
            uint64_t c = col[j].v;
            for (int k = 0; k < 4; ++k) acc[k] += reduce_product_partial(c * w[k][j]);
          }
          out[members[m]] = QM31::from_m31(M31::from_u64(acc[0]), M31::from_u64(acc[1]), M31::from_u64(acc[2]),
                                           M31::from_u64(acc[3]));
        }
      });
    }
    return out;
  }

  std::unique_ptr<CommittedTree> commit(const std::vector<const ColumnSet*>& sets) override {
    std::vector<std::span<const M31>> spans;
    for (const ColumnSet* s : sets)
      for (const auto& c : host(*s).cols) spans.emplace_back(c);
    return std::make_unique<HostTree>(hash::MerkleTree::commit(std::move(spans), stark::detail::default_thread_count()));
  }

  Interaction logup_interaction(const air::Component& component, const ColumnSet& preprocessed,
                                const ColumnSet& main,
                                std::span<const air::RelationChallenges> challenges) override {
    const auto& shape = component.shape();
    const uint32_t n = component.log_rows();
    const size_t N = size_t{1} << n;
    Interaction result{std::make_unique<HostColumns>(), QM31::zero()};
    if (shape.n_fractions == 0) return result;
    std::vector<std::vector<M31>> pre_rows(preprocessed.n_columns()), main_rows(main.n_columns());
    parallel_for(pre_rows.size() + main_rows.size(), 1, [&](size_t b, size_t e) {
      for (size_t c = b; c < e; ++c) {
        if (c < pre_rows.size())
          pre_rows[c] = to_host_rows(preprocessed, c);
        else
          main_rows[c - pre_rows.size()] = to_host_rows(main, c - pre_rows.size());
      }
    });
    std::vector<const M31*> pre_ptr, main_ptr;
    for (auto& c : pre_rows) pre_ptr.push_back(c.data());
    for (auto& c : main_rows) main_ptr.push_back(c.data());
    // Chunks of rows, each on one thread: the row's fractions paired into batches
    // (Component::trace_batches), the batch denominators inverted together (Montgomery's trick,
    // exact, so the chunking cannot change a value), the batch values and row totals. Then the
    // running column of the last batch from the prefix of the chunk totals.
    const size_t B = shape.n_logup_batches;
    constexpr size_t kChunk = 2048;
    const size_t chunk = std::min(N, kChunk);
    const size_t n_chunks = N / chunk;
    std::vector<std::vector<M31>> cols(4 * B, std::vector<M31>(N));
    std::vector<QM31> row_total(N), chunk_total(n_chunks);
    std::vector<size_t> first_zero(n_chunks, SIZE_MAX);
    auto put = [&](size_t batch, size_t r, const QM31& v) {
      cols[4 * batch][r] = v.x0.a;
      cols[4 * batch + 1][r] = v.x0.b;
      cols[4 * batch + 2][r] = v.x1.a;
      cols[4 * batch + 3][r] = v.x1.b;
    };
    parallel_for(n_chunks, 1, [&](size_t c0, size_t c1) {
      std::vector<QM31> bnum(chunk * B), bden(chunk * B), inv(chunk * B);
      for (size_t c = c0; c < c1; ++c) {
        const size_t r0 = c * chunk;
        component.trace_batches(pre_ptr, main_ptr, challenges, r0, r0 + chunk, bnum.data(), bden.data());
        for (size_t i = 0; i < chunk * B; ++i)
          if (bden[i].is_zero()) {
            first_zero[c] = r0 + i / B;
            break;
          }
        batch_inverse_raw(bden.data(), inv.data(), inv.data(), chunk * B);
        QM31 ct;
        for (size_t i = 0; i < chunk; ++i) {
          QM31 t;
          for (size_t j = 0; j < B; ++j) {
            const QM31 v = bnum[i * B + j] * inv[i * B + j];
            if (j + 1 < B) put(j, r0 + i, v);
            t += v;
          }
          row_total[r0 + i] = t;
          ct += t;
        }
        chunk_total[c] = ct;
      }
    });
    for (size_t c = 0; c < n_chunks; ++c)
      if (first_zero[c] != SIZE_MAX)
        throw Error(ErrorCategory::Runtime, "component '" + component.info().name + "': LogUp denominator is zero at row " +
                                                std::to_string(first_zero[c]) + " (a tuple equals the challenge)");
    std::vector<QM31> chunk_prefix(n_chunks);
    QM31 total;
    for (size_t c = 0; c < n_chunks; ++c) {
      chunk_prefix[c] = total;
      total += chunk_total[c];
    }
    const QM31 per_row = air::logup_sum_per_row(total, n);
    parallel_for(n_chunks, 1, [&](size_t c0, size_t c1) {
      for (size_t c = c0; c < c1; ++c) {
        QM31 before = chunk_prefix[c];
        for (size_t r = c * chunk; r < (c + 1) * chunk; ++r) {
          put(B - 1, r, air::logup_running_value(before, r, per_row));
          before += row_total[r];
        }
      }
    });
    result.columns = upload_rows(cols);
    result.claimed_sum = total;
    return result;
  }

  std::unique_ptr<ColumnSet> eval_composition(const air::Component& component, const CompositionInputs& in) override {
    const auto& main = host(*in.main);
    const uint32_t n = component.log_rows();
    if (main.cols.empty()) throw Error(ErrorCategory::Internal, "eval_composition: component without main columns");
    const uint32_t e = log2_exact(main.cols[0].size());
    const size_t size = size_t{1} << e;
    air::DomainColumns cols;
    cols.log_size = e;
    auto gather = [&](const ColumnSet* s, std::vector<const M31*>& dst) {
      if (!s) return;
      for (const auto& c : host(*s).cols) {
        if (c.size() != size) throw Error(ErrorCategory::Internal, "eval_composition: columns on different domains");
        dst.push_back(c.data());
      }
    };
    gather(in.preprocessed, cols.preprocessed);
    gather(in.main, cols.main);
    gather(in.interaction, cols.interaction);
    cols.next_position = next_positions(n, e).data();
    // 1 / V_n depends only on pos >> n (PROTOCOL.md §4.3 step 4).
    const uint32_t k = e - n;
    std::vector<M31> inv_vanishing(size_t{1} << k);
    {
      circle::CircleDomain dom = circle::CanonicCoset{e}.circle_domain();
      std::vector<M31> v(size_t{1} << k);
      for (size_t i = 0; i < v.size(); ++i) v[i] = circle::canonic_vanishing(n, dom.at(i));
      std::vector<M31> inv = batch_inverse<M31>(std::span<const M31>(v));
      for (size_t i = 0; i < v.size(); ++i) inv_vanishing[circle::bit_reverse_index(i, k)] = inv[i];
    }
    auto out = std::make_unique<HostColumns>();
    out->cols.assign(4, Column(size));
    M31* const dst[4] = {out->cols[0].data(), out->cols[1].data(), out->cols[2].data(), out->cols[3].data()};
    parallel_for(size, 1024, [&](size_t b, size_t end) {
      component.composition_on_domain(cols, in.public_inputs, in.challenges, in.coefficients, in.claimed_sum,
                                      inv_vanishing, b, end, dst);
    });
    return out;
  }

  void add_assign(ColumnSet& dst, const ColumnSet& src) override {
    auto& d = host(dst);
    const auto& s = host(src);
    if (d.cols.size() != s.cols.size()) throw Error(ErrorCategory::Internal, "add_assign: column count mismatch");
    for (size_t c = 0; c < d.cols.size(); ++c) {
      if (d.cols[c].size() != s.cols[c].size()) throw Error(ErrorCategory::Internal, "add_assign: size mismatch");
      for (size_t i = 0; i < d.cols[c].size(); ++i) d.cols[c][i] += s.cols[c][i];
    }
  }

  std::unique_ptr<ColumnSet> slice(const ColumnSet& set, size_t first, size_t count) override {
    const auto& s = host(set);
    if (first + count > s.cols.size()) throw Error(ErrorCategory::Internal, "slice out of range");
    return std::make_unique<HostColumns>(std::vector<Column>(s.cols.begin() + first, s.cols.begin() + first + count));
  }

  std::unique_ptr<ColumnSet> coefficient_slice(const ColumnSet& coefficients, size_t begin, uint32_t log_size) override {
    const auto& s = host(coefficients);
    auto out = std::make_unique<HostColumns>();
    for (const auto& c : s.cols) {
      size_t len = size_t{1} << log_size;
      if (begin + len > c.size()) throw Error(ErrorCategory::Internal, "coefficient_slice out of range");
      out->cols.emplace_back(c.begin() + begin, c.begin() + begin + len);
    }
    return out;
  }

  std::unique_ptr<ColumnSet> deep_quotients(uint32_t log_size, const std::vector<DeepQuotientBatch>& batches) override {
    const size_t size = size_t{1} << log_size;
    DomainPoints points(log_size);
    auto out = std::make_unique<HostColumns>();
    out->cols.assign(4, Column(size));
    std::vector<const M31*> column_data;
    for (const auto& batch : batches)
      for (const auto& ref : batch.columns) column_data.push_back(host(*ref.set).cols.at(ref.column).data());
    // Sub-blocks of at most 1024 positions: per batch, the denominators D(q) of the sub-block are
    // inverted together (Montgomery's trick). Then each 16 positions are one packed step: per
    // batch, the column sum sum_k coef_k f_k(q) is accumulated in four registers of unreduced
    // 64-bit lanes (one fold per product, one reduction per batch), the numerator completed
    // (stark::DeepBatch::numerator, packed), multiplied by 1/D and combined by Horner.
    constexpr size_t kLanes = air::PackedM31::kLanes;
    constexpr size_t kSubBlock = 1024;
    if (size < kLanes) {
      for (size_t q = 0; q < size; ++q) {
        auto pt = points.at_position(q);
        QM31 acc;
        size_t column_index = 0;
        bool first = true;
        for (const auto& batch : batches) {
          const auto& co = batch.coefficients;
          const size_t base = column_index;
          QM31 num = co.numerator(pt.y, [&](size_t k) { return column_data[base + k][q]; });
          column_index += batch.columns.size();
          QM31 term = num * co.denominator(pt.x, pt.y).inverse();
          acc = first ? term : acc * co.alpha_pow_m + term;
          first = false;
        }
        for (int k = 0; k < 4; ++k) out->cols[k][q] = acc.coord(k);
      }
      return out;
    }
    parallel_for(size / kLanes, 64, [&](size_t b0, size_t b1) {
      const size_t cap = std::min(kSubBlock, (b1 - b0) * kLanes);
      std::vector<CM31> den(cap), den_inv(cap);
      std::vector<M31> qx(cap), qy(cap);
      std::vector<std::vector<M31>> inv_re(batches.size(), std::vector<M31>(cap)),
          inv_im(batches.size(), std::vector<M31>(cap));
      for (size_t begin = b0 * kLanes; begin < b1 * kLanes; begin += cap) {
        const size_t len = std::min(cap, b1 * kLanes - begin);
        for (size_t i = 0; i < len; ++i) {
          auto q = points.at_position(begin + i);
          qx[i] = q.x;
          qy[i] = q.y;
        }
        for (size_t bi = 0; bi < batches.size(); ++bi) {
          const auto& co = batches[bi].coefficients;
          for (size_t i = 0; i < len; ++i) den[i] = co.denominator(qx[i], qy[i]);
          batch_inverse_raw(den.data(), den_inv.data(), den_inv.data(), len);
          for (size_t i = 0; i < len; ++i) {
            inv_re[bi][i] = den_inv[i].a;
            inv_im[bi][i] = den_inv[i].b;
          }
        }
        for (size_t i = 0; i < len; i += kLanes) {
          const air::PackedM31 y = air::PackedM31::load(qy.data() + i);
          air::PackedQM31 acc;
          size_t column_index = 0;
          for (size_t bi = 0; bi < batches.size(); ++bi) {
            const auto& batch = batches[bi];
            const auto& co = batch.coefficients;
            air::PackedWide sum[4] = {};
            for (size_t c = 0; c < batch.columns.size(); ++c, ++column_index) {
              const air::PackedM31 v = air::PackedM31::load(column_data[column_index] + begin + i);
              const QM31& coef = co.column_coefficients[c];
              for (int k = 0; k < 4; ++k) sum[k].add_folded_product(v, air::PackedM31(coef.coord(k)));
            }
            air::PackedQM31 num(-co.b_sum);
            num.add_product(-co.a_sum, y);
            for (int k = 0; k < 4; ++k) num.c[k] += sum[k].reduce();
            const air::PackedQM31 term = air::PackedQM31::mul_cm31(num, air::PackedM31::load(inv_re[bi].data() + i),
                                                                   air::PackedM31::load(inv_im[bi].data() + i));
            acc = bi == 0 ? term : acc * co.alpha_pow_m + term;
          }
          for (int k = 0; k < 4; ++k) acc.c[k].store(out->cols[k].data() + begin + i);
        }
      }
    });
    return out;
  }

  std::unique_ptr<ColumnSet> fri_fold_circle(const ColumnSet& column, const QM31& alpha,
                                             const ColumnSet* accumulate_into) override {
    const auto& in = host(column);
    const uint32_t n = log2_exact(in.cols.at(0).size());
    const size_t half = size_t{1} << (n - 1);
    const std::vector<M31>& inv_y = circle_fold_inv_y(n);
    auto out = std::make_unique<HostColumns>();
    out->cols.assign(4, Column(half));
    const QM31 alpha_sq = alpha * alpha;
    const HostColumns* acc = accumulate_into ? &host(*accumulate_into) : nullptr;
    if (acc && acc->cols.at(0).size() != half) throw Error(ErrorCategory::Internal, "fri_fold_circle: size mismatch");
    parallel_for(half, 4096, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        QM31 g = stark::fold_circle_pair(value(in, 2 * i), value(in, 2 * i + 1), inv_y[i], alpha);
        put(*out, i, acc ? value(*acc, i) * alpha_sq + g : g);
      }
    });
    return out;
  }

  std::unique_ptr<ColumnSet> fri_fold_line(const ColumnSet& line, const circle::LineDomain& domain,
                                           const QM31& alpha) override {
    const auto& in = host(line);
    const size_t size = in.cols.at(0).size();
    if (size != domain.size()) throw Error(ErrorCategory::Internal, "fri_fold_line: size mismatch");
    const std::vector<M31>& inv_x = line_fold_inv_x(domain);
    auto out = std::make_unique<HostColumns>();
    out->cols.assign(4, Column(size / 2));
    parallel_for(size / 2, 4096, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i)
        put(*out, i, stark::fold_line_pair(value(in, 2 * i), value(in, 2 * i + 1), inv_x[i], alpha));
    });
    return out;
  }

  uint64_t grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) override {
    return channel.grind(pow_bits, stark::detail::default_thread_count());
  }

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
  const circle::TwiddleTree& twiddles(uint32_t max_domain_log) {
    if (!twiddles_ || twiddles_->max_domain_log() < max_domain_log)
      twiddles_ = std::make_unique<circle::TwiddleTree>(circle::precompute_twiddles_for_log(std::max<uint32_t>(max_domain_log, 2)));
    return *twiddles_;
  }
  std::unique_ptr<circle::TwiddleTree> twiddles_;

  // Per-size tables, computed once per backend and kept (a proof folds the same sizes every
  // time; stwo keeps its twiddles the same way). Guarded: a backend may be shared by threads.
  // 1 / y of the even positions of CanonicCoset(n) (the circle-to-line fold's twiddles).
  const std::vector<M31>& circle_fold_inv_y(uint32_t n) {
    std::lock_guard<std::mutex> lock(tables_mutex_);
    auto& slot = circle_fold_inv_y_[n];
    if (!slot) {
      DomainPoints points(n);
      const size_t half = size_t{1} << (n - 1);
      std::vector<M31> ys(half);
      for (size_t i = 0; i < half; ++i) ys[i] = points.at_position(2 * i).y;
      slot = std::make_unique<std::vector<M31>>(batch_inverse<M31>(std::span<const M31>(ys)));
    }
    return *slot;
  }
  // 1 / x of the even bit-reversed positions of a line domain (the line fold's twiddles).
  const std::vector<M31>& line_fold_inv_x(const circle::LineDomain& domain) {
    std::lock_guard<std::mutex> lock(tables_mutex_);
    auto& slot = line_fold_inv_x_[{domain.coset.initial_index.v, domain.coset.step_index.v, domain.log_size()}];
    if (!slot) {
      auto xs = line_domain_bitrev_x(domain);
      std::vector<M31> even_x(domain.size() / 2);
      for (size_t i = 0; i < even_x.size(); ++i) even_x[i] = xs[2 * i];
      slot = std::make_unique<std::vector<M31>>(batch_inverse<M31>(std::span<const M31>(even_x)));
    }
    return *slot;
  }
  // Storage position (bit-reversed circle-domain order) of row j of CanonicCoset(n).
  const std::vector<uint32_t>& row_positions(uint32_t n) {
    std::lock_guard<std::mutex> lock(tables_mutex_);
    auto& slot = row_positions_[n];
    if (!slot) {
      slot = std::make_unique<std::vector<uint32_t>>(size_t{1} << n);
      for (size_t j = 0; j < slot->size(); ++j)
        (*slot)[j] = static_cast<uint32_t>(circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, n), n));
    }
    return *slot;
  }
  // next[pos]: the storage position of the next trace row, on CanonicCoset(e) for a trace of
  // 2^n rows (the mask offset 1 of the constraint evaluators).
  const std::vector<uint32_t>& next_positions(uint32_t n, uint32_t e) {
    {
      std::lock_guard<std::mutex> lock(tables_mutex_);
      auto it = next_positions_.find({n, e});
      if (it != next_positions_.end()) return *it->second;
    }
    // Built outside the lock (the pool's workers may need it meanwhile); a racing builder's
    // identical table is dropped.
    auto table = std::make_unique<std::vector<uint32_t>>(size_t{1} << e);
    auto& next = *table;
    parallel_for(next.size(), 4096, [&](size_t b, size_t end) {
      for (size_t r = b; r < end; ++r)
        next[r] = static_cast<uint32_t>(circle::offset_bit_reversed_circle_domain_index(r, n, e, 1));
    });
    std::lock_guard<std::mutex> lock(tables_mutex_);
    auto& slot = next_positions_[{n, e}];
    if (!slot) slot = std::move(table);
    return *slot;
  }
  std::map<uint32_t, std::unique_ptr<std::vector<uint32_t>>> row_positions_;
  std::map<std::array<uint32_t, 2>, std::unique_ptr<std::vector<uint32_t>>> next_positions_;
  std::mutex tables_mutex_;
  std::map<uint32_t, std::unique_ptr<std::vector<M31>>> circle_fold_inv_y_;
  std::map<std::array<uint32_t, 3>, std::unique_ptr<std::vector<M31>>> line_fold_inv_x_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace ptvm
