// Columns and polynomials: row order <-> bit-reversed storage, circle IFFT/FFT (LDE), evaluation at out-of-domain points, column arithmetic.
#include "cpu_backend_impl.hpp"

namespace ptvm::backend_cpu {

namespace {

uint32_t reverse_bits(uint32_t x, uint32_t bits) {
  uint32_t r = 0;
  for (uint32_t i = 0; i < bits; ++i) r |= ((x >> i) & 1u) << (bits - 1 - i);
  return r;
}

// Row order -> bit-reversed storage of CanonicCoset(n) (row_positions), in tiles. Row 2i sits at
// circle-domain index i and row 2i+1 at N-1-i (PROTOCOL.md §2.5), so with M = N/2 and rev the
// (n-1)-bit reversal, storage 2 rev(i) holds row 2i and storage 2 rev(i) + 1 holds row
// 2(M-1-i) + 1: a bit reversal of M pairs. Writing it as dst[rev(i)] one i after another touches
// a new cache line per value once a column exceeds the caches; splitting i into (hi, mid, lo) of
// (T, n-1-2T, T) bits, rev(i) = (rev(lo), rev(mid), rev(hi)), and visiting every (hi, lo) of one
// mid keeps the 2^T source runs and 2^T destination runs of the tile in L1.
// ToStorage: rows -> storage; otherwise storage -> rows (the same pairs, copied the other way).
template <bool ToStorage>
void permute_rows_storage(const M31* src, M31* dst, uint32_t n) {
  constexpr uint32_t T = 4;
  const uint32_t m = n - 1;
  const size_t M = size_t{1} << m;
  const uint32_t mid_bits = m - 2 * T;
  uint32_t rev_t[1u << T];
  for (uint32_t x = 0; x < (1u << T); ++x) rev_t[x] = reverse_bits(x, T);
  for (size_t mid = 0; mid < (size_t{1} << mid_bits); ++mid) {
    const size_t rmid = reverse_bits(static_cast<uint32_t>(mid), mid_bits);
    for (uint32_t hi = 0; hi < (1u << T); ++hi) {
      const size_t i_base = (size_t{hi} << (m - T)) | (mid << T);
      const size_t r_base = (rmid << T) | rev_t[hi];
      for (uint32_t lo = 0; lo < (1u << T); ++lo) {
        const size_t i = i_base | lo;
        const size_t r = r_base | (size_t{rev_t[lo]} << (m - T));
        if constexpr (ToStorage) {
          dst[2 * r] = src[2 * i];
          dst[2 * r + 1] = src[2 * (M - 1 - i) + 1];
        } else {
          dst[2 * i] = src[2 * r];
          dst[2 * (M - 1 - i) + 1] = src[2 * r + 1];
        }
      }
    }
  }
}

}  // namespace

Evaluations CpuBackend::upload_rows(const std::vector<std::vector<M31>>& rows) {
  auto out = std::make_unique<HostColumns>();
  out->cols.resize(rows.size());
  parallel_for(rows.size(), 1, [&](size_t b, size_t e) {
    for (size_t c = b; c < e; ++c) {
      const auto& col = rows[c];
      const uint32_t n = log2_exact(col.size());
      Column v(col.size());
      if (n >= 9) {
        permute_rows_storage<true>(col.data(), v.data(), n);
      } else {
        const std::vector<uint32_t>& position = row_positions(n);
        for (size_t j = 0; j < col.size(); ++j) v[position[j]] = col[j];
      }
      out->cols[c] = std::move(v);
    }
  });
  return Evaluations(std::move(out));
}

std::vector<M31> CpuBackend::to_host_rows(const Evaluations& set, size_t column) {
  const auto& col = host(set).cols.at(column);
  const uint32_t n = log2_exact(col.size());
  std::vector<M31> rows(col.size());
  if (n >= 9) {
    permute_rows_storage<false>(col.data(), rows.data(), n);
  } else {
    const std::vector<uint32_t>& position = row_positions(n);
    for (size_t j = 0; j < col.size(); ++j) rows[j] = col[position[j]];
  }
  return rows;
}

Coefficients CpuBackend::interpolate(const Evaluations& evaluations) {
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
  return Coefficients(std::move(out));
}

Evaluations CpuBackend::evaluate(const Coefficients& coefficients, uint32_t log_extension) {
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
  return Evaluations(std::move(out));
}

std::vector<QM31> CpuBackend::evaluate_at_points(const Coefficients& coefficients,
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

void CpuBackend::add_assign(SecureEvaluations& dst, const SecureEvaluations& src) {
  auto& d = host(dst);
  const auto& s = host(src);
  if (d.cols.size() != s.cols.size()) throw Error(ErrorCategory::Internal, "add_assign: column count mismatch");
  for (size_t c = 0; c < d.cols.size(); ++c) {
    if (d.cols[c].size() != s.cols[c].size()) throw Error(ErrorCategory::Internal, "add_assign: size mismatch");
    for (size_t i = 0; i < d.cols[c].size(); ++i) d.cols[c][i] += s.cols[c][i];
  }
}

Coefficients CpuBackend::slice(const Coefficients& set, size_t first, size_t count) {
  const auto& s = host(set);
  if (first + count > s.cols.size()) throw Error(ErrorCategory::Internal, "slice out of range");
  return Coefficients(
      std::make_unique<HostColumns>(std::vector<Column>(s.cols.begin() + first, s.cols.begin() + first + count)));
}

Coefficients CpuBackend::coefficient_slice(const Coefficients& coefficients, size_t begin, uint32_t log_size) {
  const auto& s = host(coefficients);
  auto out = std::make_unique<HostColumns>();
  for (const auto& c : s.cols) {
    size_t len = size_t{1} << log_size;
    if (begin + len > c.size()) throw Error(ErrorCategory::Internal, "coefficient_slice out of range");
    out->cols.emplace_back(c.begin() + begin, c.begin() + begin + len);
  }
  return Coefficients(std::move(out));
}

}  // namespace ptvm::backend_cpu
