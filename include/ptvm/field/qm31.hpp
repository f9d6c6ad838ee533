// QM31 = CM31[u] / (u^2 - (2 + i)), stwo's secure field (~2^124 elements).
// (x0, x1) means x0 + x1*u; canonical flat order [a, b, c, d] = (a + b i) + (c + d i) u.
#pragma once
#include "ptvm/field/cm31.hpp"

namespace ptvm {

struct QM31 {
  CM31 x0, x1;

  constexpr QM31() = default;
  PTVM_HD constexpr QM31(CM31 a, CM31 b) : x0(a), x1(b) {}
  PTVM_HD constexpr explicit QM31(M31 a) : x0(CM31(a)), x1() {}
  PTVM_HD static constexpr QM31 from_m31(M31 a, M31 b, M31 c, M31 d) {
    return QM31(CM31(a, b), CM31(c, d));
  }
  PTVM_HD static constexpr QM31 from_u32(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    return QM31(CM31::from_u32(a, b), CM31::from_u32(c, d));
  }
  // Canonical 16-byte encoding (PROTOCOL.md 1.3): words a, b, c, d, each 4-byte LE. Reading a
  // word >= p throws.
  static constexpr size_t kBytes = 16;
  PTVM_HD constexpr void to_bytes_le(uint8_t* out) const {
    x0.to_bytes_le(out);
    x1.to_bytes_le(out + 8);
  }
  static QM31 from_bytes_le(const uint8_t* in, const char* what = "QM31 bytes") {
    return QM31(CM31::from_bytes_le(in, what), CM31::from_bytes_le(in + 8, what));
  }
  PTVM_HD static constexpr QM31 zero() { return QM31(); }
  PTVM_HD static constexpr QM31 one() { return QM31(M31::one()); }
  // R = 2 + i, the non-square that defines the extension.
  PTVM_HD static constexpr CM31 R() { return CM31(M31::raw(2), M31::raw(1)); }

  PTVM_HD constexpr M31 coord(int k) const {
    return k == 0 ? x0.a : k == 1 ? x0.b : k == 2 ? x1.a : x1.b;
  }
  PTVM_HD constexpr bool is_zero() const { return x0.is_zero() && x1.is_zero(); }

  PTVM_HD friend constexpr QM31 operator+(QM31 x, QM31 y) { return QM31(x.x0 + y.x0, x.x1 + y.x1); }
  PTVM_HD friend constexpr QM31 operator-(QM31 x, QM31 y) { return QM31(x.x0 - y.x0, x.x1 - y.x1); }
  PTVM_HD friend constexpr QM31 operator-(QM31 x) { return QM31(-x.x0, -x.x1); }
  // (x0 + x1 u)(y0 + y1 u) = x0 y0 + R x1 y1 + (x0 y1 + x1 y0) u with R = 2 + i. Written out per
  // coordinate, x = (a + b i) + (c + d i) u and y = (e + f i) + (g + h i) u give
  //   out0 = ae - bf + 2(cg - dh) - (ch + dg) = ae + b(-f) + c(2g - h) + d(-2h - g)
  //   out1 = af + be + (cg - dh) + 2(ch + dg) = af + be + c(g + 2h)  + d(2g - h)
  //   out2 = ag - bh + ce - df                = ag + b(-h) + ce + d(-f)
  //   out3 = ah + bg + cf + de.
  // Each is four products of canonical values (< p^2 < 2^62 each), so the u64 sum cannot
  // overflow and is reduced once (M31::reduce64): 16 multiplications and 4 reductions instead of
  // the composed form's 16 reduced multiplications and 20 reduced additions. The composed form is
  // kept as mul_reference, the oracle of the field tests.
  PTVM_HD friend constexpr PTVM_FORCEINLINE QM31 operator*(QM31 x, QM31 y) {
    const uint64_t a = x.x0.a.v, b = x.x0.b.v, c = x.x1.a.v, d = x.x1.b.v;
    const M31 e = y.x0.a, f = y.x0.b, g = y.x1.a, h = y.x1.b;
    const uint64_t nf = (-f).v, nh = (-h).v;
    const uint64_t g2mh = (g + g - h).v, nh2mg = (-(h + h + g)).v, gp2h = (g + h + h).v;
    const uint64_t o0 = a * e.v + b * nf + c * g2mh + d * nh2mg;
    const uint64_t o1 = a * f.v + b * e.v + c * gp2h + d * g2mh;
    const uint64_t o2 = a * g.v + b * nh + c * e.v + d * nf;
    const uint64_t o3 = a * h.v + b * g.v + c * f.v + d * e.v;
    return QM31(CM31(M31::raw(M31::reduce64(o0)), M31::raw(M31::reduce64(o1))),
                CM31(M31::raw(M31::reduce64(o2)), M31::raw(M31::reduce64(o3))));
  }
  // The product as composed CM31 operations (the definition); the oracle for operator*.
  PTVM_HD static constexpr QM31 mul_reference(QM31 x, QM31 y) {
    return QM31(x.x0 * y.x0 + R() * (x.x1 * y.x1), x.x0 * y.x1 + x.x1 * y.x0);
  }
  PTVM_HD friend constexpr QM31 operator*(QM31 x, M31 s) { return QM31(x.x0 * s, x.x1 * s); }
  PTVM_HD friend constexpr QM31 operator*(M31 s, QM31 x) { return x * s; }
  PTVM_HD friend constexpr QM31 operator*(QM31 x, CM31 s) { return QM31(x.x0 * s, x.x1 * s); }
  PTVM_HD friend constexpr QM31 operator+(QM31 x, M31 s) { return QM31(x.x0 + s, x.x1); }
  PTVM_HD friend constexpr QM31 operator-(QM31 x, M31 s) { return QM31(x.x0 - s, x.x1); }
  PTVM_HD constexpr QM31& operator+=(QM31 y) { return *this = *this + y; }
  PTVM_HD constexpr QM31& operator-=(QM31 y) { return *this = *this - y; }
  PTVM_HD constexpr QM31& operator*=(QM31 y) { return *this = *this * y; }
  PTVM_HD constexpr QM31& operator*=(M31 y) { return *this = *this * y; }
  PTVM_HD friend constexpr bool operator==(QM31 x, QM31 y) { return x.x0 == y.x0 && x.x1 == y.x1; }
  PTVM_HD friend constexpr bool operator!=(QM31 x, QM31 y) { return !(x == y); }

  PTVM_HD constexpr QM31 square() const { return *this * *this; }
  PTVM_HD constexpr QM31 pow(uint64_t e) const {
    QM31 r = one(), b = *this;
    while (e) {
      if (e & 1) r *= b;
      b *= b;
      e >>= 1;
    }
    return r;
  }
  // sigma: u -> -u (stwo's complex_conjugate on QM31), used by the DEEP quotients.
  PTVM_HD constexpr QM31 conj_u() const { return QM31(x0, -x1); }
  // (x0 - x1 u) / (x0^2 - R x1^2); inverse(0) == 0.
  PTVM_HD constexpr QM31 inverse() const {
    CM31 den = x0.square() - R() * x1.square();
    CM31 inv = den.inverse();
    return QM31(x0 * inv, -(x1 * inv));
  }
};

}  // namespace ptvm
