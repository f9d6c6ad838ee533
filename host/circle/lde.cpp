// Batched circle LDE: interpolate each column on its trace domain, evaluate on the blown-up one.
#include "ptvm/common/thread_pool.hpp"
#include "ptvm/common/threads.hpp"
#include "ptvm/circle/lde.hpp"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "ptvm/common/error.hpp"

namespace ptvm::circle {

std::vector<std::vector<M31>> extend_columns_bitrev(const std::vector<std::vector<M31>>& values_bitrev,
                                                    uint32_t log_blowup, const TwiddleTree& tree,
                                                    unsigned n_threads) {
  const size_t n_columns = values_bitrev.size();
  // Validate every column first, so workers never throw.
  for (size_t c = 0; c < n_columns; ++c) {
    const size_t n = values_bitrev[c].size();
    if (n < 2 || (n & (n - 1)))
      throw Error(ErrorCategory::Usage, "extend_columns_bitrev: column " + std::to_string(c) +
                                            " has " + std::to_string(n) +
                                            " values, expected a power of two >= 2");
    uint32_t log = 0;
    while ((size_t{1} << log) < n) ++log;
    if (log + log_blowup > tree.max_domain_log())
      throw Error(ErrorCategory::Usage,
                  "extend_columns_bitrev: column " + std::to_string(c) + " of log " +
                      std::to_string(log) + " extended by " + std::to_string(log_blowup) +
                      " needs a twiddle tree of max domain log >= " +
                      std::to_string(log + log_blowup) + ", have " +
                      std::to_string(tree.max_domain_log()));
  }
  std::vector<std::vector<M31>> out(n_columns);
  auto extend_one = [&](size_t c) {
    const std::vector<M31>& in = values_bitrev[c];
    std::vector<M31>& dst = out[c];
    dst.assign(in.size() << log_blowup, M31::zero());
    std::span<M31> coeffs(dst.data(), in.size());
    circle_interpolate_bitrev(in, coeffs, tree);
    circle_evaluate_bitrev_inplace(dst, tree);  // coefficients above in.size() are the zeros
  };
  const unsigned threads = n_threads ? n_threads : configured_thread_count();
  parallel_tasks(n_columns, threads, extend_one);
  return out;
}

}  // namespace ptvm::circle
