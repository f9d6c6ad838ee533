// The circle FFT over M31 (Circle STARKs paper, Haböck-Levit-Papini 2024, Sections 3-4;
// PROTOCOL.md 3.1-3.4).
//
// Orders: coefficients are in the basis b_j of PROTOCOL.md 3.1 (bit 0 of j selects y, bit 1
// selects x, bit k >= 2 selects pi^(k-1)(x)); values are on CanonicCoset(n).circle_domain() in
// BIT-REVERSED circle-domain order (storage position r holds domain index bit_reverse_index(r, n)).
//
// The butterflies, the twiddle-slice arithmetic and eval_at_point are PTVM_HD (kernels reuse
// them); the transforms over whole columns are host functions in host/circle/fft.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ptvm/circle/domain.hpp"
#include "ptvm/circle/point.hpp"
#include "ptvm/field/m31.hpp"

namespace ptvm::circle {

// Twiddles in stwo's layout (PROTOCOL.md 3.4). For a root coset R of log size L:
//   twiddles = concat_{k=0..L-1} bitrev([x(p) for p in the first half of 2^k R, coset order]) ++ [1]
// (length 2^L), itwiddles[i] = twiddles[i]^-1. With R = CanonicCoset(m).half_coset() (L = m-1)
// the tree serves every canonic domain of log 1..m.
struct TwiddleTree {
  Coset root_coset;
  std::vector<M31> twiddles, itwiddles;

  // Largest canonic domain this tree serves: root_coset.log_size + 1.
  uint32_t max_domain_log() const { return root_coset.log_size + 1; }
};

TwiddleTree precompute_twiddles(const Coset& root_coset);
// Convenience: the tree for canonic domains up to log `max_domain_log` (>= 1).
TwiddleTree precompute_twiddles_for_log(uint32_t max_domain_log);

// ---- butterflies (PROTOCOL.md 3.2-3.3) --------------------------------------------------------
// Forward: (v0, v1) <- (v0 + t v1, v0 - t v1).
PTVM_HD PTVM_FORCEINLINE void butterfly(M31& v0, M31& v1, M31 twiddle) {
  M31 tv1 = v1 * twiddle;
  v1 = v0 - tv1;
  v0 = v0 + tv1;
}
// Inverse (unnormalized): (v0, v1) <- (v0 + v1, (v0 - v1) t^-1).
PTVM_HD PTVM_FORCEINLINE void ibutterfly(M31& v0, M31& v1, M31 itwiddle) {
  M31 sum = v0 + v1;
  v1 = (v0 - v1) * itwiddle;
  v0 = sum;
}

// ---- twiddle indexing -------------------------------------------------------------------------
// Offset in a tree of root log `root_log` of line layer `layer` (1 <= layer <= domain_log - 1) of
// the canonic domain of log `domain_log` (<= root_log + 1). The slice has 2^(domain_log-1-layer)
// entries; entry h is the twiddle of butterfly block h (pairs h*2^(layer+1) + l, + 2^layer).
PTVM_HD constexpr size_t line_twiddle_offset(uint32_t root_log, uint32_t domain_log, uint32_t layer) {
  return (size_t{1} << root_log) - (size_t{1} << (domain_log - layer));
}
// Circle-layer twiddle h (pair 2h, 2h+1) of a canonic domain of log >= 3, derived from its first
// line layer `line1`: each pair [xa, xb] there gives [xb, -xb, -xa, xa] (a quarter turn by G_4
// maps (x, y) to (y, -x)). Works the same for inverse twiddles.
PTVM_HD PTVM_FORCEINLINE M31 circle_twiddle_from_line(const M31* line1, size_t h) {
  const M31 xa = line1[(h >> 2) * 2], xb = line1[(h >> 2) * 2 + 1];
  switch (h & 3) {
    case 0: return xb;
    case 1: return -xb;
    case 2: return -xa;
    default: return xa;
  }
}
// Direct definition, for any canonic domain (used for log 1 and 2 and by tests): the y of the
// point stored at position 2h, i.e. y(H.at(bitrev_{n-1}(h))).
PTVM_HD constexpr M31 circle_twiddle_direct(uint32_t domain_log, size_t h) {
  const Coset half = CanonicCoset{domain_log}.half_coset();
  return half.at(bit_reverse_index(h, domain_log - 1)).y;
}

// ---- transforms -------------------------------------------------------------------------------
// Coefficients -> values on CanonicCoset(log values.size()).circle_domain(), bit-reversed.
// coeffs.size() <= values.size() (the rest is zero), both powers of two, values.size() >= 2 and
// its log <= tree.max_domain_log(). Throws ptvm::Error(Usage) otherwise.
void circle_evaluate_bitrev(std::span<const M31> coeffs, std::span<M31> values_bitrev,
                            const TwiddleTree& tree);
// Values (bit-reversed, on the canonic domain of log values.size()) -> coefficients; the exact
// inverse of circle_evaluate_bitrev, including the 1/N. coeffs.size() == values.size().
void circle_interpolate_bitrev(std::span<const M31> values_bitrev, std::span<M31> coeffs,
                               const TwiddleTree& tree);
// In-place forms of the same transforms (values.size() a power of two >= 2).
void circle_evaluate_bitrev_inplace(std::span<M31> data, const TwiddleTree& tree);
void circle_interpolate_bitrev_inplace(std::span<M31> data, const TwiddleTree& tree);

// f(p) for f = sum_j coeffs[j] b_j (PROTOCOL.md 3.1), for p over M31 or QM31. The number of
// coefficients must be a power of two (not checked here: this is the device-safe core).
// Uses the folding recursion with a 32-entry stack instead of O(N) scratch.
template <class F>
PTVM_HD constexpr F circle_eval_at_point(const M31* coeffs, uint32_t log_size, CirclePoint<F> p) {
  if (log_size == 0) return F(coeffs[0]);
  // factor[k] multiplies the upper half at fold level k+1: x, pi(x), pi^2(x), ...
  F factor[32] = {};
  factor[0] = p.x;
  for (uint32_t k = 1; k + 1 < log_size; ++k) factor[k] = CirclePoint<F>::double_x(factor[k - 1]);
  F stack[32] = {};
  const size_t pairs = size_t{1} << (log_size - 1);
  for (size_t k = 0; k < pairs; ++k) {
    F acc = F(coeffs[2 * k]) + p.y * coeffs[2 * k + 1];
    uint32_t level = 0;
    // Completed subtrees merge like a binary counter: at each trailing 1 bit, stack[level] is the
    // lower half and acc the upper half of a fold at that level.
    for (size_t idx = k; idx & 1; idx >>= 1, ++level) acc = stack[level] + factor[level] * acc;
    stack[level] = acc;
  }
  return stack[log_size - 1];
}

// Host form: checks that coeffs.size() is a power of two (ptvm::Error Usage otherwise).
template <class F>
F circle_eval_at_point(std::span<const M31> coeffs, CirclePoint<F> p) {
  const size_t n = coeffs.size();
  if (n == 0 || (n & (n - 1)))
    throw Error(ErrorCategory::Usage, "circle_eval_at_point: " + std::to_string(n) +
                                          " coefficients, expected a power of two");
  uint32_t log = 0;
  while ((size_t{1} << log) < n) ++log;
  return circle_eval_at_point<F>(coeffs.data(), log, p);
}

}  // namespace ptvm::circle
