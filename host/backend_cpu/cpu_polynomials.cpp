// Columns and polynomials: row order <-> bit-reversed storage, circle IFFT/FFT (LDE), evaluation at out-of-domain points, column arithmetic.
#include "cpu_backend_impl.hpp"

namespace ptvm::backend_cpu {

std::unique_ptr<ColumnSet> CpuBackend::upload_rows(const std::vector<std::vector<M31>>& rows) {
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

std::vector<M31> CpuBackend::to_host_rows(const ColumnSet& set, size_t column) {
  const auto& col = host(set).cols.at(column);
  const std::vector<uint32_t>& position = row_positions(log2_exact(col.size()));
  std::vector<M31> rows(col.size());
  for (size_t j = 0; j < col.size(); ++j) rows[j] = col[position[j]];
  return rows;
}

std::unique_ptr<ColumnSet> CpuBackend::interpolate(const ColumnSet& evaluations) {
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

std::unique_ptr<ColumnSet> CpuBackend::evaluate(const ColumnSet& coefficients, uint32_t log_extension) {
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

std::vector<QM31> CpuBackend::evaluate_at_points(const ColumnSet& coefficients,
                                     std::span<const PointEvaluationRequest> requests) {
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

void CpuBackend::add_assign(ColumnSet& dst, const ColumnSet& src) {
  auto& d = host(dst);
  const auto& s = host(src);
  if (d.cols.size() != s.cols.size()) throw Error(ErrorCategory::Internal, "add_assign: column count mismatch");
  for (size_t c = 0; c < d.cols.size(); ++c) {
    if (d.cols[c].size() != s.cols[c].size()) throw Error(ErrorCategory::Internal, "add_assign: size mismatch");
    for (size_t i = 0; i < d.cols[c].size(); ++i) d.cols[c][i] += s.cols[c][i];
  }
}

std::unique_ptr<ColumnSet> CpuBackend::slice(const ColumnSet& set, size_t first, size_t count) {
  const auto& s = host(set);
  if (first + count > s.cols.size()) throw Error(ErrorCategory::Internal, "slice out of range");
  return std::make_unique<HostColumns>(std::vector<Column>(s.cols.begin() + first, s.cols.begin() + first + count));
}

std::unique_ptr<ColumnSet> CpuBackend::coefficient_slice(const ColumnSet& coefficients, size_t begin, uint32_t log_size) {
  const auto& s = host(coefficients);
  auto out = std::make_unique<HostColumns>();
  for (const auto& c : s.cols) {
    size_t len = size_t{1} << log_size;
    if (begin + len > c.size()) throw Error(ErrorCategory::Internal, "coefficient_slice out of range");
    out->cols.emplace_back(c.begin() + begin, c.begin() + begin + len);
  }
  return out;
}

}  // namespace ptvm::backend_cpu
