// The circle group C(F) = {(x, y) : x^2 + y^2 = 1} over M31 and QM31, written additively as stwo
// does (PROTOCOL.md 2.1-2.2). Header-only, PTVM_HD: CUDA kernels use the same code.
#pragma once
#include <cstdint>
#include <type_traits>

#include "ptvm/common/hd.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::circle {

template <class F>
struct CirclePoint {
  F x, y;

  PTVM_HD static constexpr CirclePoint identity() { return CirclePoint{F::one(), F::zero()}; }

  // (x0, y0) + (x1, y1) = (x0 x1 - y0 y1, x0 y1 + y0 x1): multiplication of x + i y.
  PTVM_HD friend constexpr CirclePoint operator+(CirclePoint a, CirclePoint b) {
    return CirclePoint{a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x};
  }
  // Negation is the conjugate (x, -y).
  PTVM_HD friend constexpr CirclePoint operator-(CirclePoint a) { return CirclePoint{a.x, -a.y}; }
  PTVM_HD friend constexpr CirclePoint operator-(CirclePoint a, CirclePoint b) { return a + (-b); }
  PTVM_HD friend constexpr bool operator==(CirclePoint a, CirclePoint b) {
    return a.x == b.x && a.y == b.y;
  }
  PTVM_HD friend constexpr bool operator!=(CirclePoint a, CirclePoint b) { return !(a == b); }

  // pi(x) = 2x^2 - 1, the x-coordinate of the doubled point.
  PTVM_HD static constexpr F double_x(F x) {
    F sq = x * x;
    return sq + sq - F::one();
  }
  PTVM_HD constexpr CirclePoint doubled() const {
    F xy = x * y;
    return CirclePoint{double_x(x), xy + xy};
  }
  // k * this, by double-and-add.
  PTVM_HD constexpr CirclePoint mul(uint64_t k) const {
    CirclePoint result = identity(), base = *this;
    while (k) {
      if (k & 1) result = result + base;
      base = base.doubled();
      k >>= 1;
    }
    return result;
  }
  // this + (-1, 0) = (-x, -y).
  PTVM_HD constexpr CirclePoint antipode() const { return CirclePoint{-x, -y}; }
  // True when x^2 + y^2 == 1.
  PTVM_HD constexpr bool is_on_circle() const { return x * x + y * y == F::one(); }
};

// G = M31_CIRCLE_GEN, of order 2^31. A function as well as a constant, so device code can use it.
PTVM_HD constexpr CirclePoint<M31> m31_circle_gen() {
  return CirclePoint<M31>{M31::raw(2), M31::raw(1268011823u)};
}
inline constexpr CirclePoint<M31> kM31CircleGen = m31_circle_gen();

// stwo's SECURE_FIELD_CIRCLE_GEN, of order P^4 - 1 (PROTOCOL.md 2.2). Used by tests only.
PTVM_HD constexpr CirclePoint<QM31> qm31_circle_gen() {
  return CirclePoint<QM31>{QM31::from_u32(1, 0, 478637715u, 513582971u),
                           QM31::from_u32(992285211u, 649143431u, 740191619u, 1186584352u)};
}

// log2 of the order of C(M31).
inline constexpr uint32_t kM31CircleLogOrder = 31;

// A point of C(M31) named by its discrete log: index k is k * G, taken mod 2^31.
struct PointIndex {
  static constexpr uint32_t kMask = (1u << kM31CircleLogOrder) - 1;
  uint32_t v = 0;

  PTVM_HD static constexpr PointIndex from(uint64_t k) {
    return PointIndex{static_cast<uint32_t>(k) & kMask};
  }
  PTVM_HD static constexpr PointIndex zero() { return PointIndex{0}; }
  // Index 2^(31 - log_size): the generator of the subgroup of order 2^log_size (log_size <= 31).
  PTVM_HD static constexpr PointIndex subgroup_gen(uint32_t log_size) {
    return PointIndex{static_cast<uint32_t>((uint64_t{1} << (kM31CircleLogOrder - log_size)) & kMask)};
  }

  PTVM_HD friend constexpr PointIndex operator+(PointIndex a, PointIndex b) {
    return PointIndex{(a.v + b.v) & kMask};
  }
  PTVM_HD friend constexpr PointIndex operator-(PointIndex a, PointIndex b) {
    return PointIndex{(a.v - b.v) & kMask};
  }
  PTVM_HD friend constexpr PointIndex operator-(PointIndex a) { return PointIndex{(0u - a.v) & kMask}; }
  PTVM_HD friend constexpr PointIndex operator*(PointIndex a, uint32_t k) {
    return PointIndex{(a.v * k) & kMask};
  }
  PTVM_HD friend constexpr bool operator==(PointIndex a, PointIndex b) { return a.v == b.v; }
  PTVM_HD friend constexpr bool operator!=(PointIndex a, PointIndex b) { return a.v != b.v; }
  // Index v/2 (v must be even), the point Q with 2Q = this and the same "branch" as stwo's half().
  PTVM_HD constexpr PointIndex half() const { return PointIndex{v >> 1}; }

  PTVM_HD constexpr CirclePoint<M31> to_point() const { return m31_circle_gen().mul(v); }
};

PTVM_HD constexpr CirclePoint<QM31> lift(CirclePoint<M31> p) {
  return CirclePoint<QM31>{QM31(p.x), QM31(p.y)};
}

// Embeds a base-field point into CirclePoint<F> (identity for F = M31).
template <class F>
PTVM_HD constexpr CirclePoint<F> into_field(CirclePoint<M31> p) {
  if constexpr (std::is_same_v<F, M31>) {
    return p;
  } else {
    return CirclePoint<F>{F(p.x), F(p.y)};
  }
}

// The rational parametrization ((1 - t^2)/(1 + t^2), 2t/(1 + t^2)); stwo's get_random_point
// applies it to a drawn felt. 1 + t^2 == 0 only for t = +-i (probability 2/|QM31|); there the
// inverse convention 0^-1 = 0 gives (0, 0), which is not on the circle (is_on_circle() is false).
PTVM_HD constexpr CirclePoint<QM31> point_from_t(QM31 t) {
  QM31 t2 = t * t;
  QM31 inv = (QM31::one() + t2).inverse();
  return CirclePoint<QM31>{(QM31::one() - t2) * inv, (t + t) * inv};
}

}  // namespace ptvm::circle
