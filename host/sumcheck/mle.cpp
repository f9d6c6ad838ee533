// evaluate_mle_by_rows (see ptvm/sumcheck/mle.hpp).
#include "ptvm/sumcheck/mle.hpp"

#include <string>
#include <vector>

#include "ptvm/common/parallel.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/lazy_dot.hpp"

namespace ptvm::sumcheck {

QM31 evaluate_mle_by_rows(std::span<const M31> table, std::span<const QM31> point, unsigned threads) {
  const unsigned n = log2_table_size(table.size(), "evaluate_mle_by_rows");
  if (n < 12) return evaluate_mle<M31>(table, point);
  if (point.size() != n)
    throw Error(ErrorCategory::Usage, "evaluate_mle_by_rows: point has " + std::to_string(point.size()) +
                                          " coordinates for a table of " + std::to_string(n) + " variables");
  const unsigned h = n / 2;
  const std::vector<QM31> eq_hi = eq_table(point.first(h)), eq_lo = eq_table(point.subspan(h));
  const size_t rows = eq_hi.size(), cols = eq_lo.size();
  const size_t ranges = range_count(rows, 1, threads != 0 ? threads : configured_thread_count());
  std::vector<QM31> partial(ranges, QM31::zero());
  for_each_range(rows, ranges, [&](size_t r, size_t begin, size_t end) {
    QM31 sum = QM31::zero();
    for (size_t i = begin; i < end; ++i) {
      const M31* row = table.data() + i * cols;
      uint64_t acc[4] = {0, 0, 0, 0};  // cols <= 2^20 lazy terms: far below kLazyDotMaxTerms
      for (size_t j = 0; j < cols; ++j) lazy_accumulate(acc, eq_lo[j], row[j]);
      sum += eq_hi[i] * lazy_finish(acc);
    }
    partial[r] = sum;
  });
  QM31 value = QM31::zero();
  for (const QM31& p : partial) value += p;
  return value;
}

}  // namespace ptvm::sumcheck
