// The LogUp interaction trace (PROTOCOL.md §12, ptvm/air/logup.hpp).
#include "cpu_backend_impl.hpp"

namespace ptvm::backend_cpu {

Backend::Interaction CpuBackend::logup_interaction(const air::Component& component, const Evaluations& preprocessed,
                              const Evaluations& main,
                              std::span<const air::RelationChallenges> challenges) {
  const auto& shape = component.shape();
  const uint32_t n = component.log_rows();
  const size_t N = size_t{1} << n;
  Interaction result{SecureEvaluations(std::make_unique<HostColumns>()), QM31::zero()};
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
  // Chunks of rows, each on one thread: the row's fractions paired into batches, the batch
  // denominators inverted together (Montgomery's trick, exact, so the chunking cannot change a
  // value), the batch values and row totals (Component::interaction_rows: 16 rows at a time on
  // packed lanes). Then the running column of the last batch from the prefix of the chunk totals.
  const size_t B = shape.n_logup_batches;
  constexpr size_t kChunk = 2048;
  const size_t chunk = std::min(N, kChunk);
  const size_t n_chunks = N / chunk;
  std::vector<std::vector<M31>> cols(4 * B, std::vector<M31>(N));
  std::vector<M31*> col_ptr;
  for (auto& c : cols) col_ptr.push_back(c.data());
  std::vector<QM31> row_total(N), chunk_total(n_chunks);
  std::vector<size_t> first_zero(n_chunks, SIZE_MAX);
  auto put = [&](size_t batch, size_t r, const QM31& v) {
    for (int k = 0; k < 4; ++k) cols[4 * batch + k][r] = v.coord(k);
  };
  parallel_for(n_chunks, 1, [&](size_t c0, size_t c1) {
    for (size_t c = c0; c < c1; ++c) {
      const size_t r0 = c * chunk;
      first_zero[c] = component.interaction_rows(pre_ptr, main_ptr, challenges, r0, r0 + chunk, col_ptr.data(),
                                                 row_total.data() + r0);
      QM31 ct;
      for (size_t i = 0; i < chunk; ++i) ct += row_total[r0 + i];
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
  result.columns = SecureEvaluations::from_coordinates(upload_rows(cols));
  result.claimed_sum = total;
  return result;
}

}  // namespace ptvm::backend_cpu
