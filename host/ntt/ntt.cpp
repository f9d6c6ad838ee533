// Iterative radix-2 NTT over F128: bit-reversal permutation, then Cooley-Tukey layers with
// contiguous per-layer twiddle tables (layer of half-size m uses w_{2m}^0..w_{2m}^{m-1}, which is
// the slice [m, 2m) of one table of n entries).
#include "ptvm/ntt/ntt.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ptvm/common/error.hpp"

namespace ptvm::ntt {
namespace {

uint32_t checked_log(size_t n, const char* fn, const char* what) {
  if (n == 0 || (n & (n - 1)))
    throw Error(ErrorCategory::Usage, std::string(fn) + ": " + what + " has " + std::to_string(n) +
                                          " elements, expected a power of two");
  uint32_t log = 0;
  while ((size_t{1} << log) < n) ++log;
  if (log > F128::TWO_ADICITY)
    throw Error(ErrorCategory::Usage, std::string(fn) + ": size 2^" + std::to_string(log) +
                                          " exceeds the 2-adic subgroup of F128");
  return log;
}

// table[m + j] = w_{2m}^j for every power of two m < n and j < m (table[0] unused).
std::vector<F128> layer_twiddles(uint32_t log_n, bool inverse) {
  const size_t n = size_t{1} << log_n;
  std::vector<F128> table(std::max<size_t>(n, 2));
  for (uint32_t k = 0; k < log_n; ++k) {
    const size_t m = size_t{1} << k;
    F128 w = F128::primitive_root_of_unity(k + 1);
    if (inverse) w = w.inverse();
    F128 acc = F128::one();
    for (size_t j = 0; j < m; ++j) {
      table[m + j] = acc;
      acc *= w;
    }
  }
  return table;
}

// The tables for sizes up to 2^20, computed once per (size, direction) and shared (the F128
// STARK extends many columns of the same size; recomputing them was a sixth of its prover time).
const std::vector<F128>& cached_layer_twiddles(uint32_t log_n, bool inverse) {
  constexpr uint32_t kMaxCachedLog = 20;
  static std::mutex mutex;
  static std::unique_ptr<const std::vector<F128>> cache[2][kMaxCachedLog + 1];
  thread_local std::vector<F128> uncached;
  if (log_n > kMaxCachedLog) {
    uncached = layer_twiddles(log_n, inverse);
    return uncached;
  }
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[inverse ? 1 : 0][log_n];
  if (!slot) slot = std::make_unique<const std::vector<F128>>(layer_twiddles(log_n, inverse));
  return *slot;
}

void bit_reverse_permute(std::span<F128> a, uint32_t log_n) {
  const size_t n = a.size();
  for (size_t i = 0, j = 0; i < n; ++i) {
    if (i < j) std::swap(a[i], a[j]);
    // j = bitrev(i + 1): increment j in reversed bit order.
    size_t bit = n >> 1;
    while (bit && (j & bit)) {
      j ^= bit;
      bit >>= 1;
    }
    j |= bit;
  }
  (void)log_n;
}

// In place: a (natural) -> DFT_w(a) (natural).
void dft_natural(std::span<F128> a, uint32_t log_n, const std::vector<F128>& table) {
  const size_t n = a.size();
  bit_reverse_permute(a, log_n);
  for (size_t m = 1; m < n; m <<= 1) {
    const F128* w = table.data() + m;
    for (size_t k = 0; k < n; k += 2 * m)
      for (size_t j = 0; j < m; ++j) ct_butterfly(a[k + j], a[k + j + m], w[j]);
  }
}

}  // namespace

void coset_evaluate_natural(std::span<const F128> coeffs, std::span<F128> values, F128 offset) {
  const char* fn = "coset_evaluate_natural";
  const uint32_t log_n = checked_log(values.size(), fn, "values");
  if (coeffs.size() > values.size())
    throw Error(ErrorCategory::Usage, std::string(fn) + ": " + std::to_string(coeffs.size()) +
                                          " coefficients do not fit " + std::to_string(values.size()) +
                                          " values");
  // f(offset x) has coefficients c_i offset^i.
  F128 power = F128::one();
  for (size_t i = 0; i < coeffs.size(); ++i) {
    values[i] = coeffs[i] * power;
    power *= offset;
  }
  std::fill(values.begin() + coeffs.size(), values.end(), F128::zero());
  dft_natural(values, log_n, cached_layer_twiddles(log_n, false));
}

void coset_interpolate_natural(std::span<const F128> values, std::span<F128> coeffs, F128 offset) {
  const char* fn = "coset_interpolate_natural";
  const uint32_t log_n = checked_log(values.size(), fn, "values");
  if (coeffs.size() != values.size())
    throw Error(ErrorCategory::Usage, std::string(fn) + ": " + std::to_string(values.size()) +
                                          " values but " + std::to_string(coeffs.size()) +
                                          " coefficient slots");
  if (offset.is_zero()) throw Error(ErrorCategory::Usage, std::string(fn) + ": coset offset is zero");
  if (coeffs.data() != values.data()) std::copy(values.begin(), values.end(), coeffs.begin());
  dft_natural(coeffs, log_n, cached_layer_twiddles(log_n, true));
  // Divide by n and undo the offset: c_i = (1/n) offset^-i * DFT^-1 ...
  const F128 inv_offset = offset.inverse();
  F128 scale = F128::from_u64(values.size()).inverse();
  for (auto& c : coeffs) {
    c *= scale;
    scale *= inv_offset;
  }
}

std::vector<std::vector<F128>> extend_columns_coset_natural(
    const std::vector<std::vector<F128>>& values, uint32_t log_blowup, F128 trace_offset,
    F128 lde_offset, unsigned n_threads) {
  const char* fn = "extend_columns_coset_natural";
  for (size_t c = 0; c < values.size(); ++c) {
    const uint32_t log = checked_log(values[c].size(), fn, ("column " + std::to_string(c)).c_str());
    if (log + log_blowup > F128::TWO_ADICITY)
      throw Error(ErrorCategory::Usage, std::string(fn) + ": column " + std::to_string(c) +
                                            " extended past the 2-adic subgroup");
  }
  if (trace_offset.is_zero() || lde_offset.is_zero())
    throw Error(ErrorCategory::Usage, std::string(fn) + ": coset offset is zero");
  std::vector<std::vector<F128>> out(values.size());
  auto extend_one = [&](size_t c) {
    std::vector<F128> coeffs(values[c].size());
    coset_interpolate_natural(values[c], coeffs, trace_offset);
    out[c].resize(values[c].size() << log_blowup);
    coset_evaluate_natural(coeffs, out[c], lde_offset);
  };
  unsigned threads = n_threads ? n_threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, values.size()));
  if (threads <= 1) {
    for (size_t c = 0; c < values.size(); ++c) extend_one(c);
    return out;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (size_t c = next.fetch_add(1); c < values.size(); c = next.fetch_add(1)) extend_one(c);
    });
  for (auto& w : workers) w.join();
  return out;
}

}  // namespace ptvm::ntt
