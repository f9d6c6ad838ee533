// Cosets, canonic cosets, circle domains and line domains of C(M31), bit reversal, the index maps
// between coset order, circle-domain order and bit-reversed storage, and the vanishing functions
// (PROTOCOL.md 2.3-2.5 and 4.1). Header-only and PTVM_HD except the span helpers at the end.
//
// Orders used below (named, because mixing them is the classic bug):
//  * coset order:          Coset::at(i) = initial + i * step.
//  * circle-domain order:  CircleDomain::at(i) = H.at(i) for i < N/2, -H.at(i - N/2) after.
//  * bit-reversed storage: position r holds circle-domain index bit_reverse_index(r, log N).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "ptvm/circle/point.hpp"
#include "ptvm/common/error.hpp"

namespace ptvm::circle {

// Reverses the low `log_size` bits of i (log_size <= 64); bit_reverse_index(i, 0) == i.
PTVM_HD constexpr size_t bit_reverse_index(size_t i, uint32_t log_size) {
  if (log_size == 0) return i;
  uint64_t x = i;
  x = ((x >> 1) & 0x5555555555555555ull) | ((x & 0x5555555555555555ull) << 1);
  x = ((x >> 2) & 0x3333333333333333ull) | ((x & 0x3333333333333333ull) << 2);
  x = ((x >> 4) & 0x0f0f0f0f0f0f0f0full) | ((x & 0x0f0f0f0f0f0f0f0full) << 4);
  x = ((x >> 8) & 0x00ff00ff00ff00ffull) | ((x & 0x00ff00ff00ff00ffull) << 8);
  x = ((x >> 16) & 0x0000ffff0000ffffull) | ((x & 0x0000ffff0000ffffull) << 16);
  x = (x >> 32) | (x << 32);
  return static_cast<size_t>(x >> (64 - log_size));
}

// Coset order -> circle-domain order for a canonic domain of log size `log_size`: coset index j
// goes to j/2 when j is even and to N - (j+1)/2 when j is odd.
PTVM_HD constexpr size_t coset_index_to_circle_domain_index(size_t j, uint32_t log_size) {
  const size_t n = size_t{1} << log_size;
  return (j % 2 == 0) ? j / 2 : n - (j + 1) / 2;
}
// The inverse map: circle-domain index -> coset index.
PTVM_HD constexpr size_t circle_domain_index_to_coset_index(size_t i, uint32_t log_size) {
  const size_t n = size_t{1} << log_size;
  return (i < n / 2) ? 2 * i : 2 * (n - i) - 1;
}

// A canonic domain of log `domain_log` (the trace) is evaluated on the canonic domain of log
// `eval_log` >= domain_log, stored bit-reversed. Returns the storage position of the point
// offset * G_{2^domain_log} away from the point at storage position r, i.e. "row + offset"
// (PROTOCOL.md 2.5). Works in coset order of CanonicCoset(eval_log), where the offset is
// offset * 2^(eval_log - domain_log) steps; this equals stwo's formula for eval_log > domain_log
// and also covers eval_log == domain_log.
PTVM_HD constexpr size_t offset_bit_reversed_circle_domain_index(size_t r, uint32_t domain_log,
                                                                  uint32_t eval_log,
                                                                  int64_t offset) {
  const size_t n = size_t{1} << eval_log;
  const size_t domain_index = bit_reverse_index(r, eval_log);
  const size_t coset_index = circle_domain_index_to_coset_index(domain_index, eval_log);
  // offset * 2^(eval_log - domain_log) mod n, computed without signed overflow.
  const uint64_t mask = n - 1;
  const uint64_t shift = static_cast<uint64_t>(offset) << (eval_log - domain_log);
  const size_t moved = static_cast<size_t>((coset_index + shift) & mask);
  return bit_reverse_index(coset_index_to_circle_domain_index(moved, eval_log), eval_log);
}

// Coset(initial, log_size): points initial + i * step, step = G_{2^log_size}, i < 2^log_size.
struct Coset {
  PointIndex initial_index;
  PointIndex step_index;
  uint32_t log_size = 0;

  PTVM_HD static constexpr Coset make(PointIndex initial, uint32_t log_size) {
    return Coset{initial, PointIndex::subgroup_gen(log_size), log_size};
  }
  // The subgroup of order 2^log_size.
  PTVM_HD static constexpr Coset subgroup(uint32_t log_size) { return make(PointIndex::zero(), log_size); }
  // G_{2^(log+1)} + <G_{2^log}>: the odd multiples of G_{2^(log+1)} (= CanonicCoset(log)).
  PTVM_HD static constexpr Coset odds(uint32_t log_size) {
    return make(PointIndex::subgroup_gen(log_size + 1), log_size);
  }
  // G_{2^(log+2)} + <G_{2^log}>: half of the odds of log+1 (the half coset of CanonicCoset(log+1)).
  PTVM_HD static constexpr Coset half_odds(uint32_t log_size) {
    return make(PointIndex::subgroup_gen(log_size + 2), log_size);
  }

  PTVM_HD constexpr size_t size() const { return size_t{1} << log_size; }
  PTVM_HD constexpr PointIndex index_at(size_t i) const {
    return initial_index + step_index * static_cast<uint32_t>(i);
  }
  PTVM_HD constexpr CirclePoint<M31> at(size_t i) const { return index_at(i).to_point(); }
  PTVM_HD constexpr CirclePoint<M31> initial() const { return initial_index.to_point(); }
  PTVM_HD constexpr CirclePoint<M31> step() const { return step_index.to_point(); }
  // 2 * coset, of half the size (requires log_size >= 1).
  PTVM_HD constexpr Coset doubled() const {
    return Coset{initial_index * 2, step_index * 2, log_size - 1};
  }
  PTVM_HD constexpr Coset repeated_double(uint32_t times) const {
    Coset c = *this;
    for (uint32_t k = 0; k < times; ++k) c = c.doubled();
    return c;
  }
  // The conjugate coset -initial + <-step>.
  PTVM_HD constexpr Coset conjugate() const { return Coset{-initial_index, -step_index, log_size}; }
  PTVM_HD constexpr Coset shift(PointIndex by) const {
    return Coset{initial_index + by, step_index, log_size};
  }
  PTVM_HD friend constexpr bool operator==(const Coset& a, const Coset& b) {
    return a.initial_index == b.initial_index && a.step_index == b.step_index &&
           a.log_size == b.log_size;
  }
  PTVM_HD friend constexpr bool operator!=(const Coset& a, const Coset& b) { return !(a == b); }
};

// A circle domain (twin coset) H u -H with H = half_coset; natural order: H then -H.
struct CircleDomain {
  Coset half_coset;

  PTVM_HD constexpr uint32_t log_size() const { return half_coset.log_size + 1; }
  PTVM_HD constexpr size_t size() const { return size_t{1} << log_size(); }
  PTVM_HD constexpr PointIndex index_at(size_t i) const {
    const size_t half = half_coset.size();
    return i < half ? half_coset.index_at(i) : -half_coset.index_at(i - half);
  }
  PTVM_HD constexpr CirclePoint<M31> at(size_t i) const { return index_at(i).to_point(); }
  // Canonic iff 4 * initial == step of the half coset.
  PTVM_HD constexpr bool is_canonic() const {
    return half_coset.initial_index * 4 == half_coset.step_index;
  }
  PTVM_HD friend constexpr bool operator==(const CircleDomain& a, const CircleDomain& b) {
    return a.half_coset == b.half_coset;
  }
};

// The canonic (standard-position) coset of log size >= 1: G_{2N} + <G_N>, coset order = trace row
// order.
struct CanonicCoset {
  uint32_t log_size = 1;

  PTVM_HD constexpr size_t size() const { return size_t{1} << log_size; }
  PTVM_HD constexpr Coset coset() const { return Coset::odds(log_size); }
  PTVM_HD constexpr Coset half_coset() const { return Coset::half_odds(log_size - 1); }
  PTVM_HD constexpr CircleDomain circle_domain() const { return CircleDomain{half_coset()}; }
  PTVM_HD constexpr PointIndex index_at(size_t i) const { return coset().index_at(i); }
  // Coset order: at(i) is trace row i.
  PTVM_HD constexpr CirclePoint<M31> at(size_t i) const { return coset().at(i); }
  PTVM_HD constexpr PointIndex initial_index() const { return coset().initial_index; }
  PTVM_HD constexpr PointIndex step_index() const { return PointIndex::subgroup_gen(log_size); }
  PTVM_HD constexpr CirclePoint<M31> step() const { return step_index().to_point(); }
};

// x-coordinates of a coset, the domain of line polynomials (FRI). at(i) = x of coset.at(i).
struct LineDomain {
  Coset coset;

  PTVM_HD constexpr uint32_t log_size() const { return coset.log_size; }
  PTVM_HD constexpr size_t size() const { return coset.size(); }
  PTVM_HD constexpr M31 at(size_t i) const { return coset.at(i).x; }
  // x -> pi(x): the domain of the folded line polynomial.
  PTVM_HD constexpr LineDomain doubled() const { return LineDomain{coset.doubled()}; }
};

// ---- vanishing functions (PROTOCOL.md 4.1); F is M31 or QM31 --------------------------------

// pi^(log_size - 1)(x): zero exactly on CanonicCoset(log_size) (log_size >= 1).
template <class F>
PTVM_HD constexpr F canonic_vanishing(uint32_t log_size, CirclePoint<F> p) {
  F x = p.x;
  for (uint32_t k = 1; k < log_size; ++k) x = CirclePoint<F>::double_x(x);
  return x;
}

// Vanishes on the coset c + <G_{2^m}>: shift p into standard position (p - c + G_{2^(m+1)}), then
// pi^(m-1) of x.
template <class F>
PTVM_HD constexpr F coset_vanishing(const Coset& coset, CirclePoint<F> p) {
  CirclePoint<F> shifted = p - into_field<F>(coset.initial()) +
                           into_field<F>(coset.step_index.half().to_point());
  F x = shifted.x;
  for (uint32_t k = 1; k < coset.log_size; ++k) x = CirclePoint<F>::double_x(x);
  return x;
}

// The line through e0 and e1: (e0.y - e1.y) p.x + (e1.x - e0.x) p.y + (e0.x e1.y - e0.y e1.x).
template <class F>
PTVM_HD constexpr F pair_vanishing(CirclePoint<F> e0, CirclePoint<F> e1, CirclePoint<F> p) {
  return (e0.y - e1.y) * p.x + (e1.x - e0.x) * p.y + (e0.x * e1.y - e0.y * e1.x);
}

// (p - e).x - 1: a double zero at e.
template <class F>
PTVM_HD constexpr F point_excluder(CirclePoint<F> e, CirclePoint<F> p) {
  return (p - e).x - F::one();
}

// h.y / (1 + h.x) with h = p - v: a simple zero at v, a pole at the antipode of v.
template <class F>
PTVM_HD constexpr F point_vanishing(CirclePoint<F> v, CirclePoint<F> p) {
  CirclePoint<F> h = p - v;
  return h.y * (F::one() + h.x).inverse();
}

// ---- host helpers on spans ------------------------------------------------------------------

// Permutes v into bit-reversed order; its size must be a power of two (else ptvm::Error Usage).
template <class T>
void bit_reverse(std::span<T> v) {
  const size_t n = v.size();
  if (n & (n - 1))
    throw Error(ErrorCategory::Usage,
                "bit_reverse: size " + std::to_string(n) + " is not a power of two");
  if (n <= 2) return;
  uint32_t log = 0;
  while ((size_t{1} << log) < n) ++log;
  for (size_t i = 0; i < n; ++i) {
    size_t j = bit_reverse_index(i, log);
    if (i < j) std::swap(v[i], v[j]);
  }
}

}  // namespace ptvm::circle
