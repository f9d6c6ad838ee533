// CM31 = M31[i] / (i^2 + 1). (a, b) means a + b*i.
#pragma once
#include "ptvm/field/m31.hpp"

namespace ptvm {

struct CM31 {
  M31 a, b;

  constexpr CM31() = default;
  PTVM_HD constexpr CM31(M31 a_, M31 b_) : a(a_), b(b_) {}
  PTVM_HD constexpr explicit CM31(M31 a_) : a(a_), b(M31::zero()) {}
  PTVM_HD static constexpr CM31 from_u32(uint32_t x, uint32_t y) {
    return CM31(M31::from_u32(x), M31::from_u32(y));
  }
  // Canonical 8-byte encoding: a then b, each 4-byte LE. Reading a word >= p throws.
  static constexpr size_t kBytes = 8;
  PTVM_HD constexpr void to_bytes_le(uint8_t* out) const {
    a.to_bytes_le(out);
    b.to_bytes_le(out + 4);
  }
  static CM31 from_bytes_le(const uint8_t* in, const char* what = "CM31 bytes") {
    return CM31(M31::from_bytes_le(in, what), M31::from_bytes_le(in + 4, what));
  }
  PTVM_HD static constexpr CM31 zero() { return CM31(); }
  PTVM_HD static constexpr CM31 one() { return CM31(M31::one(), M31::zero()); }

  PTVM_HD constexpr bool is_zero() const { return a.is_zero() && b.is_zero(); }
  PTVM_HD friend constexpr CM31 operator+(CM31 x, CM31 y) { return CM31(x.a + y.a, x.b + y.b); }
  PTVM_HD friend constexpr CM31 operator-(CM31 x, CM31 y) { return CM31(x.a - y.a, x.b - y.b); }
  PTVM_HD friend constexpr CM31 operator-(CM31 x) { return CM31(-x.a, -x.b); }
  PTVM_HD friend constexpr CM31 operator*(CM31 x, CM31 y) {
    return CM31(x.a * y.a - x.b * y.b, x.a * y.b + x.b * y.a);
  }
  PTVM_HD friend constexpr CM31 operator*(CM31 x, M31 s) { return CM31(x.a * s, x.b * s); }
  PTVM_HD friend constexpr CM31 operator+(CM31 x, M31 s) { return CM31(x.a + s, x.b); }
  PTVM_HD friend constexpr CM31 operator-(CM31 x, M31 s) { return CM31(x.a - s, x.b); }
  PTVM_HD constexpr CM31& operator+=(CM31 y) { return *this = *this + y; }
  PTVM_HD constexpr CM31& operator-=(CM31 y) { return *this = *this - y; }
  PTVM_HD constexpr CM31& operator*=(CM31 y) { return *this = *this * y; }
  PTVM_HD friend constexpr bool operator==(CM31 x, CM31 y) { return x.a == y.a && x.b == y.b; }
  PTVM_HD friend constexpr bool operator!=(CM31 x, CM31 y) { return !(x == y); }

  PTVM_HD constexpr CM31 conj() const { return CM31(a, -b); }
  PTVM_HD constexpr M31 norm() const { return a * a + b * b; }
  PTVM_HD constexpr CM31 square() const { return *this * *this; }
  PTVM_HD constexpr CM31 pow(uint64_t e) const {
    CM31 r = one(), base = *this;
    while (e) {
      if (e & 1) r *= base;
      base *= base;
      e >>= 1;
    }
    return r;
  }
  // (a - b i) / (a^2 + b^2); inverse(0) == 0.
  PTVM_HD constexpr CM31 inverse() const { return conj() * norm().inverse(); }
};

}  // namespace ptvm
