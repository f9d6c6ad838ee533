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
#include "ptvm/air/eval.hpp"
#include "ptvm/air/relation.hpp"

#if defined(__AVX2__) && !defined(__AVX512F__)
#include <immintrin.h>
#define PTVM_PACKED_AVX2 1
#endif

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
  static PTVM_FORCEINLINE PackedM31 load(const M31* src) {
    PackedM31 p;
    std::memcpy(&p.v, src, sizeof(p.v));
    return p;
  }
  PTVM_FORCEINLINE void store(M31* dst) const { std::memcpy(static_cast<void*>(dst), &v, sizeof(v)); }
  M31 lane(size_t i) const { return M31::raw(v[i]); }

  static U32x16 min_u32(U32x16 a, U32x16 b) { return a < b ? a : b; }
  static U32x16 P() { return U32x16{} + M31::P; }

  friend PTVM_FORCEINLINE PackedM31 operator+(PackedM31 a, PackedM31 b) {
    U32x16 s = a.v + b.v;  // < 2P < 2^32
    return raw(min_u32(s, s - P()));
  }
  friend PTVM_FORCEINLINE PackedM31 operator-(PackedM31 a, PackedM31 b) {
    U32x16 d = a.v - b.v;  // wraps when a < b; then d + P is the answer and is smaller
    return raw(min_u32(d, d + P()));
  }
  friend PTVM_FORCEINLINE PackedM31 operator-(PackedM31 a) {
    U32x16 r = P() - a.v;
    return raw(min_u32(r, r - P()));
  }
  // Defined after PackedWide: the wide product, reduced.
  friend PTVM_FORCEINLINE PackedM31 operator*(PackedM31 a, PackedM31 b);
  friend PTVM_FORCEINLINE PackedM31 operator*(PackedM31 a, M31 b) { return a * PackedM31(b); }
  PTVM_FORCEINLINE PackedM31& operator+=(PackedM31 b) { return *this = *this + b; }
  PTVM_FORCEINLINE PackedM31& operator-=(PackedM31 b) { return *this = *this - b; }
  PTVM_FORCEINLINE PackedM31& operator*=(PackedM31 b) { return *this = *this * b; }
  PackedM31 square() const { return *this * *this; }
};

// Products of packed M31 values kept unreduced in 64-bit lanes (each < p^2 < 2^62, so four of them
// add up without overflow), reduced once: the packed twin of M31::reduce64.
//
// Which input lane a 64-bit lane holds is private to this type (only whole products, sums, folds
// and the reductions back to PackedM31 are visible). With AVX-512 (or a plain build) lo holds
// lanes 0-7 and hi lanes 8-15 in order, and the compiler's widening multiply and narrowing are
// single instructions. AVX2 has neither a 64-bit multiply nor a 64 -> 32 narrowing, and GCC 12
// lowers the generic code there to three vpmuludq per four lanes and moves every lane through the
// stack (~200 instructions per 16-lane product); the AVX2 variant multiplies each 8-lane half as
// its even and its odd lanes (one vpmuludq each), keeps them in that order, and interleaves them
// back with a shift and a blend (~25 instructions).
#if defined(PTVM_PACKED_AVX2)
struct PackedWide {
  // w[0], w[1]: products of lanes 0, 2, 4, 6 and 1, 3, 5, 7; w[2], w[3]: the same for lanes 8-15.
  __m256i w[4];

  static PTVM_FORCEINLINE PackedWide product(PackedM31 a, PackedM31 b) {
    const __m256i* av = reinterpret_cast<const __m256i*>(&a.v);
    const __m256i* bv = reinterpret_cast<const __m256i*>(&b.v);
    PackedWide r;
    for (int h = 0; h < 2; ++h) {
      const __m256i x = _mm256_loadu_si256(av + h), y = _mm256_loadu_si256(bv + h);
      r.w[2 * h] = _mm256_mul_epu32(x, y);
      r.w[2 * h + 1] = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(y, 32));
    }
    return r;
  }
  friend PTVM_FORCEINLINE PackedWide operator+(PackedWide x, const PackedWide& y) {
    for (int i = 0; i < 4; ++i) x.w[i] = _mm256_add_epi64(x.w[i], y.w[i]);
    return x;
  }
  PTVM_FORCEINLINE void add_folded_product(PackedM31 a, PackedM31 b) {
    const PackedWide p = product(a, b);
    for (int i = 0; i < 4; ++i) w[i] = _mm256_add_epi64(w[i], fold(p.w[i]));
  }
  PTVM_FORCEINLINE PackedM31 reduce() const {
    __m256i f[4];
    for (int i = 0; i < 4; ++i) f[i] = fold(fold(w[i]));
    return narrow(f);
  }
  PTVM_FORCEINLINE PackedM31 reduce_product() const {
    __m256i f[4];
    for (int i = 0; i < 4; ++i) f[i] = fold(w[i]);
    return narrow(f);
  }

 private:
  static PTVM_FORCEINLINE __m256i fold(__m256i x) {
    return _mm256_add_epi64(_mm256_and_si256(x, _mm256_set1_epi64x(M31::P)), _mm256_srli_epi64(x, 31));
  }
  // Lanes below 2^32 and 2p: even products back into the low dwords, odd ones into the high
  // dwords, then one conditional subtraction.
  static PTVM_FORCEINLINE PackedM31 narrow(const __m256i f[4]) {
    const __m256i p = _mm256_set1_epi32(static_cast<int>(M31::P));
    PackedM31 r;
    __m256i* out = reinterpret_cast<__m256i*>(&r.v);
    for (int h = 0; h < 2; ++h) {
      const __m256i v = _mm256_blend_epi32(f[2 * h], _mm256_slli_epi64(f[2 * h + 1], 32), 0xAA);
      _mm256_storeu_si256(out + h, _mm256_min_epu32(v, _mm256_sub_epi32(v, p)));
    }
    return r;
  }
};
#else
struct PackedWide {
  PackedM31::U64x8 lo, hi;

  static PTVM_FORCEINLINE PackedWide product(PackedM31 a, PackedM31 b) {
    using U32x8 = PackedM31::U32x8;
    using U64x8 = PackedM31::U64x8;
    U32x8 alo = __builtin_shufflevector(a.v, a.v, 0, 1, 2, 3, 4, 5, 6, 7);
    U32x8 ahi = __builtin_shufflevector(a.v, a.v, 8, 9, 10, 11, 12, 13, 14, 15);
    U32x8 blo = __builtin_shufflevector(b.v, b.v, 0, 1, 2, 3, 4, 5, 6, 7);
    U32x8 bhi = __builtin_shufflevector(b.v, b.v, 8, 9, 10, 11, 12, 13, 14, 15);
    return {__builtin_convertvector(alo, U64x8) * __builtin_convertvector(blo, U64x8),
            __builtin_convertvector(ahi, U64x8) * __builtin_convertvector(bhi, U64x8)};
  }
  friend PTVM_FORCEINLINE PackedWide operator+(PackedWide x, PackedWide y) { return {x.lo + y.lo, x.hi + y.hi}; }
  // this += a * b folded once to < 2^32 per lane, so 2^32 such terms add up without overflow (the
  // long sums of DEEP quotients and point evaluations, reduced once at the end).
  PTVM_FORCEINLINE void add_folded_product(PackedM31 a, PackedM31 b) {
    PackedWide p = product(a, b);
    lo += fold(p.lo);
    hi += fold(p.hi);
  }
  // Any u64 lanes, two folds (sums of folded products).
  PTVM_FORCEINLINE PackedM31 reduce() const { return narrow(fold(fold(lo)), fold(fold(hi))); }
  // One product per lane (< p^2 < 2^62): a single fold leaves < 2^32.
  PTVM_FORCEINLINE PackedM31 reduce_product() const { return narrow(fold(lo), fold(hi)); }

 private:
  static PTVM_FORCEINLINE PackedM31::U64x8 fold(PackedM31::U64x8 x) { return (x & M31::P) + (x >> 31); }
  // Lanes below 2^32 and below 2p after the folds: to u32, then one conditional subtraction.
  static PTVM_FORCEINLINE PackedM31 narrow(PackedM31::U64x8 lo, PackedM31::U64x8 hi) {
    using U32x8 = PackedM31::U32x8;
    U32x8 rlo = __builtin_convertvector(lo, U32x8), rhi = __builtin_convertvector(hi, U32x8);
    PackedM31::U32x16 r = __builtin_shufflevector(rlo, rhi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return PackedM31::raw(PackedM31::min_u32(r, r - PackedM31::P()));
  }
};

#endif  // PTVM_PACKED_AVX2

PTVM_FORCEINLINE PackedM31 operator*(PackedM31 a, PackedM31 b) { return PackedWide::product(a, b).reduce_product(); }

// A QM31 per lane as 4 packed coordinates [a, b, c, d] = (a + b i) + (c + d i) u.
struct PackedQM31 {
  PackedM31 c[4];

  PackedQM31() = default;
  explicit PackedQM31(PackedM31 base) : c{base, PackedM31(), PackedM31(), PackedM31()} {}
  explicit PackedQM31(const QM31& s)
      : c{PackedM31(s.x0.a), PackedM31(s.x0.b), PackedM31(s.x1.a), PackedM31(s.x1.b)} {}

  static PackedQM31 load(const M31* const coords[4], size_t position) {
    PackedQM31 r;
    for (int k = 0; k < 4; ++k) r.c[k] = PackedM31::load(coords[k] + position);
    return r;
  }
  QM31 lane(size_t i) const { return QM31::from_m31(c[0].lane(i), c[1].lane(i), c[2].lane(i), c[3].lane(i)); }

  friend PTVM_FORCEINLINE PackedQM31 operator+(PackedQM31 x, const PackedQM31& y) {
    for (int k = 0; k < 4; ++k) x.c[k] += y.c[k];
    return x;
  }
  friend PTVM_FORCEINLINE PackedQM31 operator-(PackedQM31 x, const PackedQM31& y) {
    for (int k = 0; k < 4; ++k) x.c[k] -= y.c[k];
    return x;
  }
  friend PTVM_FORCEINLINE PackedQM31 operator+(PackedQM31 x, const QM31& s) {
    for (int k = 0; k < 4; ++k) x.c[k] += PackedM31(s.coord(k));
    return x;
  }
  PTVM_FORCEINLINE PackedQM31& operator+=(const PackedQM31& y) { return *this = *this + y; }
  // The product of QM31's operator* (ptvm/field/qm31.hpp), per lane: 16 wide products, 4 reductions.
  friend PTVM_FORCEINLINE PackedQM31 operator*(const PackedQM31& x, const PackedQM31& y) {
    const PackedM31 &a = x.c[0], &b = x.c[1], &cc = x.c[2], &d = x.c[3];
    const PackedM31 &e = y.c[0], &f = y.c[1], &g = y.c[2], &h = y.c[3];
    const PackedM31 nf = -f, nh = -h, g2mh = g + g - h, nh2mg = -(h + h + g), gp2h = g + h + h;
    using W = PackedWide;
    PackedQM31 r;
    r.c[0] = (W::product(a, e) + W::product(b, nf) + W::product(cc, g2mh) + W::product(d, nh2mg)).reduce();
    r.c[1] = (W::product(a, f) + W::product(b, e) + W::product(cc, gp2h) + W::product(d, g2mh)).reduce();
    r.c[2] = (W::product(a, g) + W::product(b, nh) + W::product(cc, e) + W::product(d, nf)).reduce();
    r.c[3] = (W::product(a, h) + W::product(b, g) + W::product(cc, f) + W::product(d, e)).reduce();
    return r;
  }
  friend PTVM_FORCEINLINE PackedQM31 operator*(const PackedQM31& x, const QM31& s) { return x * PackedQM31(s); }
  // x * s for a CM31 s per lane (re, im): each half of x times s, (a + b i)(s0 + s1 i).
  static PTVM_FORCEINLINE PackedQM31 mul_cm31(const PackedQM31& x, PackedM31 s0, PackedM31 s1) {
    const PackedM31 ns1 = -s1;
    using W = PackedWide;
    PackedQM31 r;
    for (int h = 0; h < 4; h += 2) {
      r.c[h] = (W::product(x.c[h], s0) + W::product(x.c[h + 1], ns1)).reduce();
      r.c[h + 1] = (W::product(x.c[h], s1) + W::product(x.c[h + 1], s0)).reduce();
    }
    return r;
  }
  // this += s * x for a scalar QM31 s and packed base values x (4 packed products).
  PTVM_FORCEINLINE void add_product(const QM31& s, PackedM31 x) {
    c[0] += x * s.x0.a;
    c[1] += x * s.x0.b;
    c[2] += x * s.x1.a;
    c[3] += x * s.x1.b;
  }
};

// RelationChallenges::combine on 16 rows: d = sum_i alpha^i v_i - z.
template <size_t K>
inline PackedQM31 combine_packed(const RelationChallenges& ch, const PackedM31 (&values)[K]) {
  static_assert(K >= 1 && K <= kMaxRelationTupleSize, "relation tuple too long");
  PackedQM31 acc(-ch.z);
  for (size_t i = 0; i < K; ++i) acc.add_product(ch.alpha_powers[i], values[i]);
  return acc;
}

}  // namespace ptvm::air

namespace ptvm::air {

// DomainEval on 16 consecutive storage positions at once (stwo's SIMD backend does the same):
// F = PackedM31, EF = PackedQM31, LogUp batches through the same LogupBatcher as every other
// evaluator.
struct PackedDomainEval {
  using F = PackedM31;
  using EF = PackedQM31;
  const M31* const* preprocessed_columns;
  const M31* const* main_columns;
  const M31* const* interaction_columns;  // 4 per LogUp batch (coordinates)
  const RelationChallenges* challenges;
  const QM31* coefficients;
  QM31 claimed_sum_over_rows;
  uint32_t logup_batches;
  const uint32_t* next_position;  // the whole domain's table
  size_t position;                // first of the 16 positions
  PackedQM31 accumulator;
  uint32_t next_constraint = 0;
  LogupBatcher<PackedDomainEval> logup;

  PTVM_FORCEINLINE PackedM31 read(const M31* column, int offset) const {
    if (offset == 0) return PackedM31::load(column + position);
    PackedM31 p;
    for (size_t i = 0; i < PackedM31::kLanes; ++i) p.v[i] = column[next_position[position + i]].v;
    return p;
  }
  PTVM_FORCEINLINE PackedM31 main(uint32_t column, int offset) const { return read(main_columns[column], offset); }
  PTVM_FORCEINLINE PackedM31 preprocessed(uint32_t column, int offset) const {
    return read(preprocessed_columns[column], offset);
  }
  PTVM_FORCEINLINE PackedQM31 interaction(uint32_t batch, int offset) const {
    const M31* const* c = interaction_columns + 4 * batch;
    PackedQM31 r;
    for (int k = 0; k < 4; ++k) r.c[k] = read(c[k], offset);
    return r;
  }
  uint32_t n_logup_batches() const { return logup_batches; }
  QM31 claimed_sum_per_row() const { return claimed_sum_over_rows; }
  PTVM_FORCEINLINE void add_constraint(const PackedM31& c) { accumulator.add_product(coefficients[next_constraint++], c); }
  PTVM_FORCEINLINE void add_constraint(const PackedQM31& c) { accumulator += c * coefficients[next_constraint++]; }
  template <class Mult, size_t K>
  PTVM_FORCEINLINE void add_fraction(uint32_t relation, const Mult& multiplicity, const F (&values)[K]) {
    logup.add(*this, PackedQM31(multiplicity), combine_packed(challenges[relation], values));
  }
};

// The trace rows [row, row + 16), row order: the LogUp batches of 16 rows at once (the packed
// twin of TraceFractionEval). Next-row reads wrap at the end of the trace.
struct PackedTraceEval {
  using F = PackedM31;
  using EF = PackedQM31;
  const M31* const* preprocessed_columns;  // each n_rows values in row order
  const M31* const* main_columns;
  const RelationChallenges* challenges;
  size_t n_rows;
  size_t row;               // first of the 16 rows
  PackedQM31* numerators;   // n_logup_batches slots
  PackedQM31* denominators;
  FractionPairer<PackedQM31> pairer;
  static constexpr bool kEvaluatesConstraints = false;

  PTVM_FORCEINLINE PackedM31 read(const M31* column, int offset) const {
    if (offset == 0) return PackedM31::load(column + row);
    if (row + PackedM31::kLanes < n_rows) return PackedM31::load(column + row + 1);
    PackedM31 p;
    for (size_t i = 0; i < PackedM31::kLanes; ++i) p.v[i] = column[(row + 1 + i) & (n_rows - 1)].v;
    return p;
  }
  PTVM_FORCEINLINE PackedM31 main(uint32_t column, int offset) const { return read(main_columns[column], offset); }
  PTVM_FORCEINLINE PackedM31 preprocessed(uint32_t column, int offset) const {
    return read(preprocessed_columns[column], offset);
  }
  template <class X>
  void add_constraint(const X&) {}
  template <class Mult, size_t K>
  PTVM_FORCEINLINE void add_fraction(uint32_t relation, const Mult& multiplicity, const F (&values)[K]) {
    pairer.add(PackedQM31(multiplicity), combine_packed(challenges[relation], values),
               [&](uint32_t b, const PackedQM31& n, const PackedQM31& d) {
                 numerators[b] = n;
                 denominators[b] = d;
               });
  }
  void finish() {
    pairer.finish([&](uint32_t b, const PackedQM31& n, const PackedQM31& d) {
      numerators[b] = n;
      denominators[b] = d;
    });
  }
};

}  // namespace ptvm::air
