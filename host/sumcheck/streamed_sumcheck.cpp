// The product sumcheck from a factor function (see ptvm/sumcheck/streamed_sumcheck.hpp).
#include "ptvm/sumcheck/streamed_sumcheck.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/common/parallel.hpp"
#include "ptvm/sumcheck/eq.hpp"

namespace ptvm::sumcheck {
namespace {

constexpr size_t kChunkLog = 12;

// Chunk buffers of n_factors columns of `size` entries, with the pointer array fill() takes.
struct Columns {
  std::vector<std::vector<QM31>> cols;
  std::vector<QM31*> ptrs;
  Columns(uint32_t n, size_t size) : cols(n, std::vector<QM31>(size)), ptrs(n) {
    for (uint32_t j = 0; j < n; ++j) ptrs[j] = cols[j].data();
  }
};

// acc[j][x] (+)= w * f_j(begin + x) for x < size, over the factor function; first: assign.
void accumulate(const FactorFill& fill, size_t begin, size_t size, QM31 w, bool first, Columns& tmp, Columns& acc,
                size_t acc_offset = 0) {
  fill(begin, begin + size, tmp.ptrs.data());
  for (size_t j = 0; j < tmp.cols.size(); ++j) {
    const QM31* src = tmp.cols[j].data();
    QM31* dst = acc.cols[j].data() + acc_offset;
    if (first)
      for (size_t x = 0; x < size; ++x) dst[x] = w * src[x];
    else
      for (size_t x = 0; x < size; ++x) dst[x] += w * src[x];
  }
}

}  // namespace

ProductSumcheckProverOutput prove_product_sumcheck_streamed(const ProductShape& shape, uint32_t n_vars,
                                                            std::span<const QM31> eq_point,
                                                            const FactorFill& fill, uint32_t streamed_rounds,
                                                            Blake2sChannel& channel, SumcheckBackend& backend,
                                                            const QM31* claim_override) {
  const bool with_eq = !eq_point.empty();
  require_valid_shape(shape, with_eq, "prove_product_sumcheck_streamed");
  if (n_vars == 0 || n_vars > 40)
    throw Error(ErrorCategory::Usage, "prove_product_sumcheck_streamed: " + std::to_string(n_vars) +
                                          " variables (1..40)");
  if (with_eq && eq_point.size() != n_vars)
    throw Error(ErrorCategory::Usage, "prove_product_sumcheck_streamed: eq point of " +
                                          std::to_string(eq_point.size()) + " coordinates for " +
                                          std::to_string(n_vars) + " variables");
  const uint32_t k = std::min(streamed_rounds, n_vars - 1);
  const uint32_t n_factors = shape.n_factors;
  const uint32_t degree = shape.degree() + (with_eq ? 1 : 0);
  const unsigned threads = backend.host_threads();
  ProductSumcheckProverOutput out;
  out.point.reserve(n_vars);
  QM31 prefix = QM31::one();  // prod_{j<i} eq(z_j, r_j)
  auto send_round = [&](std::vector<QM31> evals, unsigned round) {
    if (round == 0) {
      out.claim = claim_override ? *claim_override : evals[0] + evals[1];
      channel.mix_felts(std::span<const QM31>(&out.claim, 1));
    }
    RoundPolynomial p{coefficients_from_evaluations(evals)};
    channel.mix_felts(p.coefficients);
    const QM31 r = channel.draw_felt();
    if (with_eq && round < k) prefix *= eq_factor(eq_point[round], r);  // the backend keeps its own after k
    out.point.push_back(r);
    out.proof.sumcheck.rounds.push_back(std::move(p));
    return r;
  };

  // The streamed rounds.
  for (uint32_t i = 0; i < k; ++i) {
    const uint32_t rest = n_vars - i - 1;  // variables of x''
    const size_t R = size_t{1} << rest, C = std::min(R, size_t{1} << kChunkLog);
    const std::vector<QM31> wb = eq_table(out.point);  // eq(r_0..r_{i-1}, b), 2^i entries
    std::vector<QM31> eq_hi, eq_lo;
    const uint32_t hi_vars = rest / 2, lo_vars = rest - hi_vars;
    if (with_eq) {
      eq_hi = eq_table(eq_point.subspan(i + 1, hi_vars));
      eq_lo = eq_table(eq_point.subspan(i + 1 + hi_vars, lo_vars));
    }
    // Chunk runs on the pool, each with its own buffers and sums (evals without an eq factor,
    // q(0..D) with one).
    // A run's partial sums are field elements, added in run order afterwards: the same result for
    // any thread count.
    const size_t n_chunks = R / C, runs = range_count(n_chunks, 1, threads);
    std::vector<std::vector<QM31>> partial(runs, std::vector<QM31>(degree + 1, QM31::zero()));
    for_each_range(n_chunks, runs, [&](size_t task, size_t first, size_t last) {
      Columns tmp(n_factors, C), half0(n_factors, C), half1(n_factors, C);
      QM31 lo[ProductShape::kMaxFactors], hi[ProductShape::kMaxFactors];
      QM31* sums = partial[task].data();
      for (size_t chunk = first; chunk < last; ++chunk) {
        const size_t x0 = chunk * C;
        for (size_t b = 0; b < wb.size(); ++b) {
          const size_t base = (b << (rest + 1)) | x0;
          accumulate(fill, base, C, wb[b], b == 0, tmp, half0);
          accumulate(fill, base | R, C, wb[b], b == 0, tmp, half1);
        }
        for (size_t x = 0; x < C; ++x) {
          for (uint32_t j = 0; j < n_factors; ++j) {
            lo[j] = half0.cols[j][x];
            hi[j] = half1.cols[j][x];
          }
          if (with_eq) {
            const size_t y = x0 + x;
            const QM31 w = eq_hi[y >> lo_vars] * eq_lo[y & ((size_t{1} << lo_vars) - 1)];
            round_accumulate_weighted(shape, degree, lo, hi, w, sums);
          } else {
            round_accumulate(shape, degree, lo, hi, sums);
          }
        }
      }
    });
    std::vector<QM31> sums(degree + 1, QM31::zero());
    for (const auto& p : partial)
      for (uint32_t d = 0; d <= degree; ++d) sums[d] += p[d];
    std::vector<QM31> evals(degree + 1, QM31::zero());
    if (with_eq)
      eq_round_from_quotient(sums.data(), degree - 1, eq_point[i], prefix, evals.data());
    else
      evals = std::move(sums);
    send_round(std::move(evals), i);
  }

  // The tables restricted to (r_0..r_{k-1}), then the backend's rounds.
  const uint32_t rest = n_vars - k;
  const size_t M = size_t{1} << rest, C = std::min(M, size_t{1} << kChunkLog);
  const std::vector<QM31> wb = eq_table(out.point);
  std::vector<std::vector<QM31>> tables;
  {
    Columns acc(n_factors, M);
    // Chunks of the tables are disjoint: runs of them on the pool.
    parallel_for(M / C, 1, [&](size_t first, size_t last) {
      Columns tmp(n_factors, C);
      for (size_t chunk = first; chunk < last; ++chunk) {
        const size_t x0 = chunk * C;
        for (size_t b = 0; b < wb.size(); ++b) {
          const size_t base = (b << rest) | x0;
          if (k == 0) {  // the tables themselves: written in place
            std::vector<QM31*> ptrs(n_factors);
            for (uint32_t j = 0; j < n_factors; ++j) ptrs[j] = acc.cols[j].data() + x0;
            fill(base, base + C, ptrs.data());
          } else {
            accumulate(fill, base, C, wb[b], b == 0, tmp, acc, x0);
          }
        }
      }
    }, threads);
    tables = std::move(acc.cols);
  }
  std::unique_ptr<SumcheckTables> resident =
      backend.load_owned_tables(std::move(tables), with_eq ? eq_point.subspan(k) : std::span<const QM31>{});
  for (uint32_t round = k; round < n_vars; ++round) {
    std::vector<QM31> evals = backend.sumcheck_round(*resident, shape, degree);
    if (with_eq)
      for (QM31& e : evals) e *= prefix;
    const QM31 r = send_round(std::move(evals), round);
    backend.fix_first_variable(*resident, r);
  }
  std::vector<std::vector<QM31>> finals = resident->to_host();
  out.proof.final_values.reserve(n_factors);
  for (uint32_t j = 0; j < n_factors; ++j) out.proof.final_values.push_back(finals[j][0]);
  channel.mix_felts(out.proof.final_values);
  return out;
}

}  // namespace ptvm::sumcheck
