// The CPU backend's per-size tables and its factory.
#include "cpu_backend_impl.hpp"

namespace ptvm::backend_cpu {

const circle::TwiddleTree& CpuBackend::twiddles(uint32_t max_domain_log) {
  if (!twiddles_ || twiddles_->max_domain_log() < max_domain_log)
    twiddles_ = std::make_unique<circle::TwiddleTree>(circle::precompute_twiddles_for_log(std::max<uint32_t>(max_domain_log, 2)));
  return *twiddles_;
}

// Per-size tables, computed once per backend and kept (a proof folds the same sizes every
// time; stwo keeps its twiddles the same way). Guarded: a backend may be shared by threads.
// 1 / y of the even positions of CanonicCoset(n) (the circle-to-line fold's twiddles).
const std::vector<M31>& CpuBackend::circle_fold_inv_y(uint32_t n) {
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
const std::vector<M31>& CpuBackend::line_fold_inv_x(const circle::LineDomain& domain) {
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
const std::vector<uint32_t>& CpuBackend::row_positions(uint32_t n) {
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
const std::vector<uint32_t>& CpuBackend::next_positions(uint32_t n, uint32_t e) {
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

}  // namespace ptvm::backend_cpu

namespace ptvm {

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<backend_cpu::CpuBackend>(); }

}  // namespace ptvm
