// 16 M31 values in one SIMD register (GCC/Clang vector extensions: AVX-512 with -march=native,
// several SSE/AVX2 registers otherwise). Host only: the CPU backend evaluates an AIR's constraints
// on 16 consecutive domain positions at once by instantiating the AIR's evaluate() with
// F = PackedM31 (stwo's SIMD backend does the same). Every lane is kept canonical in [0, P).
#pragma once
#include <cstdint>
#include <cstring>

#include "ptvm/common/error.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::air {

struct PackedM31 {
  static constexpr size_t kLanes = 16;
  typedef uint32_t U32x16 __attribute__((vector_size(64)));
  typedef uint32_t U32x8 __attribute__((vector_size(32)));
  typedef uint64_t U64x8 __attribute__((vector_size(64)));

  U32x16 v;

  PackedM31() : v(U32x16{} ) {}
  explicit PackedM31(M31 x) : v(U32x16{} + x.v) {}
  static PackedM31 raw(U32x16 x) {
    PackedM31 p;
    p.v = x;
    return p;
  }
  static PackedM31 load(const M31* src) {
    PackedM31 p;
    std::memcpy(&p.v, src, sizeof(p.v));
    return p;
  }
  void store(M31* dst) const { std::memcpy(static_cast<void*>(dst), &v, sizeof(v)); }
  M31 lane(size_t i) const { return M31::raw(v[i]); }

  static U32x16 min_u32(U32x16 a, U32x16 b) { return a < b ? a : b; }
  static U32x16 P() { return U32x16{} + M31::P; }

  friend PackedM31 operator+(PackedM31 a, PackedM31 b) {
    U32x16 s = a.v + b.v;  // < 2P < 2^32
    return raw(min_u32(s, s - P()));
  }
  friend PackedM31 operator-(PackedM31 a, PackedM31 b) {
    U32x16 d = a.v - b.v;  // wraps when a < b; then d + P is the answer and is smaller
    return raw(min_u32(d, d + P()));
  }
  friend PackedM31 operator-(PackedM31 a) {
    U32x16 r = P() - a.v;
    return raw(min_u32(r, r - P()));
  }
  friend PackedM31 operator*(PackedM31 a, PackedM31 b) {
    U32x8 alo = __builtin_shufflevector(a.v, a.v, 0, 1, 2, 3, 4, 5, 6, 7);
    U32x8 ahi = __builtin_shufflevector(a.v, a.v, 8, 9, 10, 11, 12, 13, 14, 15);
    U32x8 blo = __builtin_shufflevector(b.v, b.v, 0, 1, 2, 3, 4, 5, 6, 7);
    U32x8 bhi = __builtin_shufflevector(b.v, b.v, 8, 9, 10, 11, 12, 13, 14, 15);
    U64x8 plo = __builtin_convertvector(alo, U64x8) * __builtin_convertvector(blo, U64x8);
    U64x8 phi = __builtin_convertvector(ahi, U64x8) * __builtin_convertvector(bhi, U64x8);
    // p < P^2: (p & P) + (p >> 31) < 2^32, then one conditional subtraction.
    U32x8 rlo = __builtin_convertvector((plo & M31::P) + (plo >> 31), U32x8);
    U32x8 rhi = __builtin_convertvector((phi & M31::P) + (phi >> 31), U32x8);
    U32x16 r = __builtin_shufflevector(rlo, rhi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return raw(min_u32(r, r - P()));
  }
  friend PackedM31 operator*(PackedM31 a, M31 b) { return a * PackedM31(b); }
  PackedM31& operator+=(PackedM31 b) { return *this = *this + b; }
  PackedM31& operator-=(PackedM31 b) { return *this = *this - b; }
  PackedM31& operator*=(PackedM31 b) { return *this = *this * b; }
  PackedM31 square() const { return *this * *this; }
};

// A QM31 per lane as 4 packed coordinates [a, b, c, d] (only what accumulation needs).
struct PackedQM31 {
  PackedM31 c[4];
  // this += s * x for a scalar QM31 s and packed base values x (4 packed products).
  void add_product(const QM31& s, PackedM31 x) {
    c[0] += x * s.x0.a;
    c[1] += x * s.x0.b;
    c[2] += x * s.x1.a;
    c[3] += x * s.x1.b;
  }
  QM31 lane(size_t i) const { return QM31::from_m31(c[0].lane(i), c[1].lane(i), c[2].lane(i), c[3].lane(i)); }
};

}  // namespace ptvm::air

namespace ptvm::air {

// DomainEval on 16 consecutive storage positions at once, for components without LogUp
// fractions (their constraints only need base-field arithmetic per lane).
struct PackedDomainEval {
  using F = PackedM31;
  using EF = QM31;
  struct NoLogup {
    template <class E>
    void finalize(E&) {}
  };
  const M31* const* preprocessed_columns;
  const M31* const* main_columns;
  const QM31* coefficients;
  const uint32_t* next_position;  // the whole domain's table
  size_t position;                // first of the 16 positions
  PackedQM31 accumulator;
  uint32_t next_constraint = 0;
  NoLogup logup;

  PackedM31 read(const M31* column, int offset) const {
    if (offset == 0) return PackedM31::load(column + position);
    PackedM31 p;
    for (size_t i = 0; i < PackedM31::kLanes; ++i) p.v[i] = column[next_position[position + i]].v;
    return p;
  }
  PackedM31 main(uint32_t column, int offset) const { return read(main_columns[column], offset); }
  PackedM31 preprocessed(uint32_t column, int offset) const { return read(preprocessed_columns[column], offset); }
  void add_constraint(const PackedM31& c) { accumulator.add_product(coefficients[next_constraint++], c); }
  template <class X>
  void add_constraint(const X&) {
    throw Error(ErrorCategory::Internal, "PackedDomainEval: extension-field constraint in a component without fractions");
  }
  template <class Mult, size_t K>
  void add_fraction(uint32_t, const Mult&, const F (&)[K]) {
    throw Error(ErrorCategory::Internal, "PackedDomainEval: LogUp fraction in a component declared without fractions");
  }
};

}  // namespace ptvm::air
