// Per-layer kernels of the CPU circle FFT (private to host/circle). Values are canonical M31 words
// (uint32_t in [0, p)); twiddle slices are in stwo's layout (ptvm/circle/fft.hpp).
//
// The loops are written over arrays of u32 with the branch-free reductions min(s, s - p) so the
// compiler vectorizes them (AVX-512 with -march=native); the strides below 16 and the circle layer,
// whose twiddles change inside one vector, are handled by explicit AVX-512 code when available.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "ptvm/circle/fft.hpp"
#include "ptvm/field/m31.hpp"

#if defined(__AVX512F__)
// GCC 12 reports a false -Wmaybe-uninitialized inside its own AVX-512 intrinsics (their
// "undefined" pass-through operands) once they are inlined; silence it for the files using these
// kernels (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#endif

namespace ptvm::circle::kernels {

// Layers whose butterflies stay within 2^kBlockLog values run block by block (16 KiB of u32).
inline constexpr uint32_t kBlockLog = 12;
inline constexpr uint32_t kP = M31::P;

// s < 2p -> s mod p. If s < p, s - p wraps above s, so min picks s.
PTVM_FORCEINLINE uint32_t reduce_once(uint32_t s) { return std::min(s, s - kP); }
PTVM_FORCEINLINE uint32_t add_mod(uint32_t a, uint32_t b) { return reduce_once(a + b); }
PTVM_FORCEINLINE uint32_t sub_mod(uint32_t a, uint32_t b) { return reduce_once(a + kP - b); }
PTVM_FORCEINLINE uint32_t mul_mod(uint32_t a, uint32_t b) {
  const uint64_t prod = static_cast<uint64_t>(a) * b;  // < p^2 < 2^62
  return reduce_once(static_cast<uint32_t>(prod & kP) + static_cast<uint32_t>(prod >> 31));
}
PTVM_FORCEINLINE uint32_t neg_mod(uint32_t a) { return reduce_once(kP - a); }

// ---- portable building blocks ----------------------------------------------------------------
// Forward butterflies over two runs of `len` values with one twiddle.
PTVM_FORCEINLINE void butterfly_run(uint32_t* __restrict a, uint32_t* __restrict b, size_t len,
                                    uint32_t t) {
  for (size_t l = 0; l < len; ++l) {
    const uint32_t tb = mul_mod(b[l], t);
    const uint32_t x = a[l];
    b[l] = sub_mod(x, tb);
    a[l] = add_mod(x, tb);
  }
}
PTVM_FORCEINLINE void ibutterfly_run(uint32_t* __restrict a, uint32_t* __restrict b, size_t len,
                                     uint32_t it) {
  for (size_t l = 0; l < len; ++l) {
    const uint32_t x = a[l], y = b[l];
    a[l] = add_mod(x, y);
    b[l] = mul_mod(sub_mod(x, y), it);
  }
}

// One line layer (1 <= layer) over positions [begin, end), a multiple of 2^(layer+1) apart.
inline void line_layer_forward(uint32_t* v, size_t begin, size_t end, uint32_t layer,
                               const uint32_t* tw) {
  const size_t stride = size_t{1} << layer;
  for (size_t base = begin; base < end; base += 2 * stride)
    butterfly_run(v + base, v + base + stride, stride, tw[base >> (layer + 1)]);
}
inline void line_layer_inverse(uint32_t* v, size_t begin, size_t end, uint32_t layer,
                               const uint32_t* itw) {
  const size_t stride = size_t{1} << layer;
  for (size_t base = begin; base < end; base += 2 * stride)
    ibutterfly_run(v + base, v + base + stride, stride, itw[base >> (layer + 1)]);
}

// Layers hi and hi-1 in one pass over v[0, size) (hi - 1 >= 1).
inline void line_layers_forward_radix4(uint32_t* v, size_t size, uint32_t hi, const uint32_t* tw_hi,
                                       const uint32_t* tw_lo) {
  const size_t s = size_t{1} << (hi - 1);
  for (size_t base = 0; base < size; base += 4 * s) {
    const uint32_t t_hi = tw_hi[base >> (hi + 1)];
    const uint32_t t_lo0 = tw_lo[base >> hi], t_lo1 = tw_lo[(base >> hi) + 1];
    uint32_t* __restrict a0 = v + base;
    uint32_t* __restrict a1 = a0 + s;
    uint32_t* __restrict a2 = a1 + s;
    uint32_t* __restrict a3 = a2 + s;
    for (size_t l = 0; l < s; ++l) {
      uint32_t x0 = a0[l], x1 = a1[l], x2 = a2[l], x3 = a3[l];
      const uint32_t t2 = mul_mod(x2, t_hi), t3 = mul_mod(x3, t_hi);
      x2 = sub_mod(x0, t2);
      x0 = add_mod(x0, t2);
      x3 = sub_mod(x1, t3);
      x1 = add_mod(x1, t3);
      const uint32_t u1 = mul_mod(x1, t_lo0), u3 = mul_mod(x3, t_lo1);
      a0[l] = add_mod(x0, u1);
      a1[l] = sub_mod(x0, u1);
      a2[l] = add_mod(x2, u3);
      a3[l] = sub_mod(x2, u3);
    }
  }
}
// Inverse layers lo and lo+1 in one pass, then multiply by `scale` (1 means none).
inline void line_layers_inverse_radix4(uint32_t* v, size_t size, uint32_t lo,
                                       const uint32_t* itw_lo, const uint32_t* itw_hi,
                                       uint32_t scale) {
  const size_t s = size_t{1} << lo;
  for (size_t base = 0; base < size; base += 4 * s) {
    const uint32_t it_lo0 = itw_lo[base >> (lo + 1)], it_lo1 = itw_lo[(base >> (lo + 1)) + 1];
    const uint32_t it_hi = itw_hi[base >> (lo + 2)];
    // Folding the scale into the high twiddle saves a pass; the sums still need it explicitly.
    const uint32_t it_hi_scaled = mul_mod(it_hi, scale);
    uint32_t* __restrict a0 = v + base;
    uint32_t* __restrict a1 = a0 + s;
    uint32_t* __restrict a2 = a1 + s;
    uint32_t* __restrict a3 = a2 + s;
    for (size_t l = 0; l < s; ++l) {
      const uint32_t x0 = a0[l], x1 = a1[l], x2 = a2[l], x3 = a3[l];
      const uint32_t y0 = add_mod(x0, x1), y1 = mul_mod(sub_mod(x0, x1), it_lo0);
      const uint32_t y2 = add_mod(x2, x3), y3 = mul_mod(sub_mod(x2, x3), it_lo1);
      a0[l] = mul_mod(add_mod(y0, y2), scale);
      a2[l] = mul_mod(sub_mod(y0, y2), it_hi_scaled);
      a1[l] = mul_mod(add_mod(y1, y3), scale);
      a3[l] = mul_mod(sub_mod(y1, y3), it_hi_scaled);
    }
  }
}

// Circle layer (pairs 2h, 2h+1) for a domain of log >= 3 over [begin, end) (multiple of 8),
// twiddles derived from the first line layer: [xa, xb] -> [xb, -xb, -xa, xa].
inline void circle_layer_forward(uint32_t* v, size_t begin, size_t end, const uint32_t* line1) {
  for (size_t base = begin; base < end; base += 8) {
    const uint32_t xa = line1[base >> 2], xb = line1[(base >> 2) + 1];
    const uint32_t t[4] = {xb, neg_mod(xb), neg_mod(xa), xa};
    for (int q = 0; q < 4; ++q) {
      uint32_t* p = v + base + 2 * q;
      const uint32_t tb = mul_mod(p[1], t[q]);
      const uint32_t x = p[0];
      p[1] = sub_mod(x, tb);
      p[0] = add_mod(x, tb);
    }
  }
}
inline void circle_layer_inverse(uint32_t* v, size_t begin, size_t end, const uint32_t* iline1) {
  for (size_t base = begin; base < end; base += 8) {
    const uint32_t xa = iline1[base >> 2], xb = iline1[(base >> 2) + 1];
    const uint32_t t[4] = {xb, neg_mod(xb), neg_mod(xa), xa};
    for (int q = 0; q < 4; ++q) {
      uint32_t* p = v + base + 2 * q;
      const uint32_t x = p[0], y = p[1];
      p[0] = add_mod(x, y);
      p[1] = mul_mod(sub_mod(x, y), t[q]);
    }
  }
}
// Circle layer of domains of log 1 and 2, with explicit twiddles.
inline void circle_layer_forward_small(uint32_t* v, size_t size, const uint32_t* tw) {
  for (size_t h = 0; h < size / 2; ++h) {
    const uint32_t tb = mul_mod(v[2 * h + 1], tw[h]);
    const uint32_t x = v[2 * h];
    v[2 * h + 1] = sub_mod(x, tb);
    v[2 * h] = add_mod(x, tb);
  }
}
inline void circle_layer_inverse_small(uint32_t* v, size_t size, const uint32_t* itw) {
  for (size_t h = 0; h < size / 2; ++h) {
    const uint32_t x = v[2 * h], y = v[2 * h + 1];
    v[2 * h] = add_mod(x, y);
    v[2 * h + 1] = mul_mod(sub_mod(x, y), itw[h]);
  }
}

inline void scale(uint32_t* v, size_t size, uint32_t factor) {
  for (size_t i = 0; i < size; ++i) v[i] = mul_mod(v[i], factor);
}

// ---- AVX-512 -------------------------------------------------------------------------------
#if defined(__AVX512F__)
namespace simd {

PTVM_FORCEINLINE __m512i load(const uint32_t* p) { return _mm512_loadu_si512(p); }
PTVM_FORCEINLINE void store(uint32_t* p, __m512i v) { _mm512_storeu_si512(p, v); }
PTVM_FORCEINLINE __m512i modulus() { return _mm512_set1_epi32(static_cast<int>(kP)); }

// a + b with a, b < p: min(s, s - p) as unsigned.
PTVM_FORCEINLINE __m512i add(__m512i a, __m512i b) {
  const __m512i s = _mm512_add_epi32(a, b);
  return _mm512_min_epu32(s, _mm512_sub_epi32(s, modulus()));
}
// a - b: d = a - b wraps above p when a < b, where d + p is the answer; min picks it.
PTVM_FORCEINLINE __m512i sub(__m512i a, __m512i b) {
  const __m512i d = _mm512_sub_epi32(a, b);
  return _mm512_min_epu32(d, _mm512_add_epi32(d, modulus()));
}
// a * b with b_odd = b >> 32 (per 64-bit lane) precomputed by the caller (hoisted for twiddles).
// Each 64-bit product v < 2^62 reduces as (v & p) + (v >> 31) < 2^32, then one conditional -p.
PTVM_FORCEINLINE __m512i mul(__m512i a, __m512i b, __m512i b_odd) {
  const __m512i prod_even = _mm512_mul_epu32(a, b);
  const __m512i prod_odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), b_odd);
  // Even 32-bit lanes: low word of prod_even and (prod_even >> 31); odd lanes: the same words of
  // prod_odd shifted up by 32 (low word) and by 1 (whose high word is prod_odd >> 31).
  const __m512i lo = _mm512_mask_blend_epi32(0xAAAA, prod_even, _mm512_slli_epi64(prod_odd, 32));
  const __m512i hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(prod_even, 31),
                                             _mm512_slli_epi64(prod_odd, 1));
  const __m512i r = _mm512_add_epi32(_mm512_and_si512(lo, modulus()), hi);
  return _mm512_min_epu32(r, _mm512_sub_epi32(r, modulus()));
}
PTVM_FORCEINLINE __m512i mul(__m512i a, __m512i b) { return mul(a, b, _mm512_srli_epi64(b, 32)); }

PTVM_FORCEINLINE void butterfly(__m512i& x, __m512i& y, __m512i t, __m512i t_odd) {
  const __m512i ty = mul(y, t, t_odd);
  y = sub(x, ty);
  x = add(x, ty);
}
PTVM_FORCEINLINE void ibutterfly(__m512i& x, __m512i& y, __m512i it, __m512i it_odd) {
  const __m512i s = add(x, y);
  y = mul(sub(x, y), it, it_odd);
  x = s;
}

// Representations of a 32-value chunk (positions p = 0..31) as two vectors (X, Y): in rep l,
// X lane k holds the position whose bit l is 0 and whose other 4 bits are k (in order), Y the
// partner with bit l set. Rep 4 is the natural (v[0..16), v[16..32)). A butterfly layer l is then
// one vector butterfly in rep l, and moving between reps is two two-source permutes.
constexpr uint32_t position_in_rep(uint32_t rep, uint32_t half, uint32_t k) {
  const uint32_t low = k & ((1u << rep) - 1);
  return low | (half << rep) | ((k >> rep) << (rep + 1));
}
struct RepIndex {
  alignas(64) uint32_t idx[16];
};
// Permute indices (for _mm512_permutex2var_epi32(X, idx, Y)) taking rep `from` to half `half` of
// rep `to`.
constexpr RepIndex rep_transition(uint32_t from, uint32_t to, uint32_t half) {
  RepIndex r{};
  for (uint32_t k = 0; k < 16; ++k) {
    const uint32_t p = position_in_rep(to, half, k);
    const uint32_t src_half = (p >> from) & 1;
    const uint32_t src_k = (p & ((1u << from) - 1)) | ((p >> (from + 1)) << from);
    r.idx[k] = src_half * 16 + src_k;
  }
  return r;
}
// Lane k of rep l uses twiddle number k >> l of the chunk's slice.
constexpr RepIndex twiddle_spread(uint32_t rep) {
  RepIndex r{};
  for (uint32_t k = 0; k < 16; ++k) r.idx[k] = k >> rep;
  return r;
}
// Circle-layer twiddles of 16 pairs from 8 first-line-layer twiddles [xa, xb, ...]:
// lane k takes xb for k%4 in {0, 1} and xa for {2, 3}, negated for k%4 in {1, 2}.
constexpr RepIndex circle_spread() {
  RepIndex r{};
  for (uint32_t k = 0; k < 16; ++k) r.idx[k] = 2 * (k >> 2) + ((k & 3) < 2 ? 1 : 0);
  return r;
}
inline constexpr __mmask16 kCircleNegLanes = 0x6666;

template <uint32_t From, uint32_t To>
PTVM_FORCEINLINE void change_rep(__m512i& x, __m512i& y) {
  static constexpr RepIndex lo = rep_transition(From, To, 0), hi = rep_transition(From, To, 1);
  const __m512i nx = _mm512_permutex2var_epi32(x, _mm512_load_si512(lo.idx), y);
  const __m512i ny = _mm512_permutex2var_epi32(x, _mm512_load_si512(hi.idx), y);
  x = nx;
  y = ny;
}

// Twiddle vector of line layer Layer (1..3) for the chunk at `base`.
template <uint32_t Layer>
PTVM_FORCEINLINE __m512i chunk_twiddles(const uint32_t* tw, size_t base) {
  static constexpr RepIndex spread = twiddle_spread(Layer);
  const uint32_t* t = tw + (base >> (Layer + 1));
  __m512i raw;
  if constexpr (Layer == 1) {
    raw = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t)));
  } else if constexpr (Layer == 2) {
    raw = _mm512_zextsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
  } else {
    raw = _mm512_zextsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(t)));
  }
  return _mm512_permutexvar_epi32(_mm512_load_si512(spread.idx), raw);
}
PTVM_FORCEINLINE __m512i chunk_circle_twiddles(const uint32_t* line1, size_t base) {
  static constexpr RepIndex spread = circle_spread();
  const __m512i raw = _mm512_zextsi256_si512(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(line1 + (base >> 2))));
  const __m512i t = _mm512_permutexvar_epi32(_mm512_load_si512(spread.idx), raw);
  return _mm512_mask_sub_epi32(t, kCircleNegLanes, modulus(), t);
}

// Layers 4, 3, 2, 1 and the circle layer 0 on each 32-value chunk of [begin, end).
inline void low_layers_forward(uint32_t* v, size_t begin, size_t end, const uint32_t* const* line) {
  for (size_t base = begin; base < end; base += 32) {
    __m512i x = load(v + base), y = load(v + base + 16);
    const __m512i t4 = _mm512_set1_epi32(static_cast<int>(line[4][base >> 5]));
    butterfly(x, y, t4, _mm512_srli_epi64(t4, 32));
    change_rep<4, 3>(x, y);
    __m512i t = chunk_twiddles<3>(line[3], base);
    butterfly(x, y, t, _mm512_srli_epi64(t, 32));
    change_rep<3, 2>(x, y);
    t = chunk_twiddles<2>(line[2], base);
    butterfly(x, y, t, _mm512_srli_epi64(t, 32));
    change_rep<2, 1>(x, y);
    t = chunk_twiddles<1>(line[1], base);
    butterfly(x, y, t, _mm512_srli_epi64(t, 32));
    change_rep<1, 0>(x, y);
    t = chunk_circle_twiddles(line[1], base);
    butterfly(x, y, t, _mm512_srli_epi64(t, 32));
    change_rep<0, 4>(x, y);
    store(v + base, x);
    store(v + base + 16, y);
  }
}
inline void low_layers_inverse(uint32_t* v, size_t begin, size_t end, const uint32_t* const* iline,
                               uint32_t scale_by) {
  const __m512i scale = _mm512_set1_epi32(static_cast<int>(scale_by));
  const __m512i scale_odd = _mm512_srli_epi64(scale, 32);
  for (size_t base = begin; base < end; base += 32) {
    __m512i x = load(v + base), y = load(v + base + 16);
    change_rep<4, 0>(x, y);
    __m512i t = chunk_circle_twiddles(iline[1], base);
    ibutterfly(x, y, t, _mm512_srli_epi64(t, 32));
    change_rep<0, 1>(x, y);
    t = chunk_twiddles<1>(iline[1], base);
    ibutterfly(x, y, t, _mm512_srli_epi64(t, 32));
    change_rep<1, 2>(x, y);
    t = chunk_twiddles<2>(iline[2], base);
    ibutterfly(x, y, t, _mm512_srli_epi64(t, 32));
    change_rep<2, 3>(x, y);
    t = chunk_twiddles<3>(iline[3], base);
    ibutterfly(x, y, t, _mm512_srli_epi64(t, 32));
    change_rep<3, 4>(x, y);
    const __m512i t4 = _mm512_set1_epi32(static_cast<int>(iline[4][base >> 5]));
    ibutterfly(x, y, t4, _mm512_srli_epi64(t4, 32));
    if (scale_by != 1) {
      x = mul(x, scale, scale_odd);
      y = mul(y, scale, scale_odd);
    }
    store(v + base, x);
    store(v + base + 16, y);
  }
}

// Line layer with stride >= 16 over [begin, end).
inline void line_layer_forward(uint32_t* v, size_t begin, size_t end, uint32_t layer, const uint32_t* tw) {
  const size_t stride = size_t{1} << layer;
  for (size_t base = begin; base < end; base += 2 * stride) {
    const __m512i t = _mm512_set1_epi32(static_cast<int>(tw[base >> (layer + 1)]));
    const __m512i t_odd = _mm512_srli_epi64(t, 32);
    uint32_t* a = v + base;
    uint32_t* b = a + stride;
    for (size_t l = 0; l < stride; l += 16) {
      __m512i x = load(a + l), y = load(b + l);
      butterfly(x, y, t, t_odd);
      store(a + l, x);
      store(b + l, y);
    }
  }
}
inline void line_layer_inverse(uint32_t* v, size_t begin, size_t end, uint32_t layer, const uint32_t* itw) {
  const size_t stride = size_t{1} << layer;
  for (size_t base = begin; base < end; base += 2 * stride) {
    const __m512i t = _mm512_set1_epi32(static_cast<int>(itw[base >> (layer + 1)]));
    const __m512i t_odd = _mm512_srli_epi64(t, 32);
    uint32_t* a = v + base;
    uint32_t* b = a + stride;
    for (size_t l = 0; l < stride; l += 16) {
      __m512i x = load(a + l), y = load(b + l);
      ibutterfly(x, y, t, t_odd);
      store(a + l, x);
      store(b + l, y);
    }
  }
}
// Layers hi and hi-1 (stride of hi-1 >= 16) over [begin, end).
inline void line_layers_forward_radix4(uint32_t* v, size_t begin, size_t end, uint32_t hi,
                                       const uint32_t* tw_hi, const uint32_t* tw_lo) {
  const size_t s = size_t{1} << (hi - 1);
  for (size_t base = begin; base < end; base += 4 * s) {
    const __m512i th = _mm512_set1_epi32(static_cast<int>(tw_hi[base >> (hi + 1)]));
    const __m512i t0 = _mm512_set1_epi32(static_cast<int>(tw_lo[base >> hi]));
    const __m512i t1 = _mm512_set1_epi32(static_cast<int>(tw_lo[(base >> hi) + 1]));
    const __m512i th_odd = _mm512_srli_epi64(th, 32), t0_odd = _mm512_srli_epi64(t0, 32),
                  t1_odd = _mm512_srli_epi64(t1, 32);
    uint32_t* a0 = v + base;
    uint32_t* a1 = a0 + s;
    uint32_t* a2 = a1 + s;
    uint32_t* a3 = a2 + s;
    for (size_t l = 0; l < s; l += 16) {
      __m512i x0 = load(a0 + l), x1 = load(a1 + l), x2 = load(a2 + l), x3 = load(a3 + l);
      butterfly(x0, x2, th, th_odd);
      butterfly(x1, x3, th, th_odd);
      butterfly(x0, x1, t0, t0_odd);
      butterfly(x2, x3, t1, t1_odd);
      store(a0 + l, x0);
      store(a1 + l, x1);
      store(a2 + l, x2);
      store(a3 + l, x3);
    }
  }
}
// Inverse layers lo and lo+1 (stride of lo >= 16) over [begin, end), then times scale_by.
inline void line_layers_inverse_radix4(uint32_t* v, size_t begin, size_t end, uint32_t lo,
                                       const uint32_t* itw_lo, const uint32_t* itw_hi,
                                       uint32_t scale_by) {
  const size_t s = size_t{1} << lo;
  const __m512i scale = _mm512_set1_epi32(static_cast<int>(scale_by));
  const __m512i scale_odd = _mm512_srli_epi64(scale, 32);
  for (size_t base = begin; base < end; base += 4 * s) {
    const __m512i t0 = _mm512_set1_epi32(static_cast<int>(itw_lo[base >> (lo + 1)]));
    const __m512i t1 = _mm512_set1_epi32(static_cast<int>(itw_lo[(base >> (lo + 1)) + 1]));
    // The scale folds into the high twiddle; the sum outputs need it explicitly.
    const __m512i th = _mm512_set1_epi32(
        static_cast<int>(mul_mod(itw_hi[base >> (lo + 2)], scale_by)));
    const __m512i th_odd = _mm512_srli_epi64(th, 32), t0_odd = _mm512_srli_epi64(t0, 32),
                  t1_odd = _mm512_srli_epi64(t1, 32);
    uint32_t* a0 = v + base;
    uint32_t* a1 = a0 + s;
    uint32_t* a2 = a1 + s;
    uint32_t* a3 = a2 + s;
    for (size_t l = 0; l < s; l += 16) {
      __m512i x0 = load(a0 + l), x1 = load(a1 + l), x2 = load(a2 + l), x3 = load(a3 + l);
      ibutterfly(x0, x1, t0, t0_odd);
      ibutterfly(x2, x3, t1, t1_odd);
      ibutterfly(x0, x2, th, th_odd);
      ibutterfly(x1, x3, th, th_odd);
      if (scale_by != 1) {
        x0 = mul(x0, scale, scale_odd);
        x1 = mul(x1, scale, scale_odd);
      }
      store(a0 + l, x0);
      store(a1 + l, x1);
      store(a2 + l, x2);
      store(a3 + l, x3);
    }
  }
}

}  // namespace simd
#endif  // __AVX512F__

}  // namespace ptvm::circle::kernels

#if defined(__AVX2__) && !defined(__AVX512F__)
#include "fft_kernels_avx2.hpp"
#endif

namespace ptvm::circle::kernels {

// ---- dispatch: vector code where the stride allows it -----------------------------------------
// True when the low-layer chunk kernels exist (they need a domain of log >= 5).
inline constexpr bool kHaveSimd =
#if defined(__AVX512F__)
    true;
#else
    false;
#endif

inline void layer_forward(uint32_t* v, size_t begin, size_t end, uint32_t layer, const uint32_t* tw) {
#if defined(__AVX512F__)
  if (layer >= 4) return simd::line_layer_forward(v, begin, end, layer, tw);
#elif defined(__AVX2__)
  if (layer >= 3) return avx2::line_layer_forward(v, begin, end, layer, tw);
#endif
  line_layer_forward(v, begin, end, layer, tw);
}
inline void layer_inverse(uint32_t* v, size_t begin, size_t end, uint32_t layer, const uint32_t* itw) {
#if defined(__AVX512F__)
  if (layer >= 4) return simd::line_layer_inverse(v, begin, end, layer, itw);
#elif defined(__AVX2__)
  if (layer >= 3) return avx2::line_layer_inverse(v, begin, end, layer, itw);
#endif
  line_layer_inverse(v, begin, end, layer, itw);
}
inline void layers_forward_radix4(uint32_t* v, size_t begin, size_t end, uint32_t hi,
                                  const uint32_t* tw_hi, const uint32_t* tw_lo) {
#if defined(__AVX512F__)
  if (hi - 1 >= 4) return simd::line_layers_forward_radix4(v, begin, end, hi, tw_hi, tw_lo);
#elif defined(__AVX2__)
  if (hi - 1 >= 3) return avx2::line_layers_forward_radix4(v, begin, end, hi, tw_hi, tw_lo);
#endif
  line_layers_forward_radix4(v + begin, end - begin, hi, tw_hi + (begin >> (hi + 1)),
                             tw_lo + (begin >> hi));
}
inline void layers_inverse_radix4(uint32_t* v, size_t begin, size_t end, uint32_t lo,
                                  const uint32_t* itw_lo, const uint32_t* itw_hi, uint32_t scale_by) {
#if defined(__AVX512F__)
  if (lo >= 4) return simd::line_layers_inverse_radix4(v, begin, end, lo, itw_lo, itw_hi, scale_by);
#elif defined(__AVX2__)
  if (lo >= 3) return avx2::line_layers_inverse_radix4(v, begin, end, lo, itw_lo, itw_hi, scale_by);
#endif
  line_layers_inverse_radix4(v + begin, end - begin, lo, itw_lo + (begin >> (lo + 1)),
                             itw_hi + (begin >> (lo + 2)), scale_by);
}
// Layers 4..1 and the circle layer on [begin, end) (domain log >= 5; line[l] = slice of layer l).
inline void low_layers_forward(uint32_t* v, size_t begin, size_t end, const uint32_t* const* line) {
#if defined(__AVX512F__)
  return simd::low_layers_forward(v, begin, end, line);
#elif defined(__AVX2__)
  return avx2::low_layers_forward(v, begin, end, line);
#else
  for (uint32_t l = 4; l >= 1; --l) line_layer_forward(v, begin, end, l, line[l]);
  circle_layer_forward(v, begin, end, line[1]);
#endif
}
inline void low_layers_inverse(uint32_t* v, size_t begin, size_t end, const uint32_t* const* iline,
                               uint32_t scale_by) {
#if defined(__AVX512F__)
  return simd::low_layers_inverse(v, begin, end, iline, scale_by);
#elif defined(__AVX2__)
  return avx2::low_layers_inverse(v, begin, end, iline, scale_by);
#else
  circle_layer_inverse(v, begin, end, iline[1]);
  for (uint32_t l = 1; l <= 4; ++l) line_layer_inverse(v, begin, end, l, iline[l]);
  if (scale_by != 1) scale(v + begin, end - begin, scale_by);
#endif
}

}  // namespace ptvm::circle::kernels
