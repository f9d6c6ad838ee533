// AVX2 kernels of the CPU circle FFT (private to host/circle; included by fft_kernels.hpp on
// AVX2 machines without AVX-512). The portable loops vectorize poorly there: GCC's 64-bit lanes
// cost three vpmuludq per four products, and strides 8, 4, 2, 1 and the circle layer, whose
// twiddles change inside one 8-lane vector, run one value at a time. This is the AVX-512 chunk scheme (fft_kernels.hpp) on 8 lanes:
// a 16-value chunk is two vectors (X, Y); in "rep l" lane k of X holds the position whose bit l
// is 0 and whose other 3 bits are k (in order), Y its partner with bit l set. Rep 3 is the natural
// (v[0..8), v[8..16)). A layer l is one vector butterfly in rep l; moving between reps is one
// lane permutation of each input and a blend per output (AVX2 has no two-source permute).
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace ptvm::circle::kernels::avx2 {

PTVM_FORCEINLINE __m256i load(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
PTVM_FORCEINLINE void store(uint32_t* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
PTVM_FORCEINLINE __m256i modulus() { return _mm256_set1_epi32(static_cast<int>(kP)); }

PTVM_FORCEINLINE __m256i add(__m256i a, __m256i b) {
  const __m256i s = _mm256_add_epi32(a, b);
  return _mm256_min_epu32(s, _mm256_sub_epi32(s, modulus()));
}
PTVM_FORCEINLINE __m256i sub(__m256i a, __m256i b) {
  const __m256i d = _mm256_sub_epi32(a, b);
  return _mm256_min_epu32(d, _mm256_add_epi32(d, modulus()));
}
// a * b with b_odd = b >> 32 per 64-bit lane, as the AVX-512 mul: each product v < 2^62 is
// (v & p) + (v >> 31) < 2^32, then one conditional -p.
PTVM_FORCEINLINE __m256i mul(__m256i a, __m256i b, __m256i b_odd) {
  const __m256i prod_even = _mm256_mul_epu32(a, b);
  const __m256i prod_odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), b_odd);
  const __m256i lo = _mm256_blend_epi32(prod_even, _mm256_slli_epi64(prod_odd, 32), 0xAA);
  const __m256i hi = _mm256_blend_epi32(_mm256_srli_epi64(prod_even, 31), _mm256_slli_epi64(prod_odd, 1), 0xAA);
  const __m256i r = _mm256_add_epi32(_mm256_and_si256(lo, modulus()), hi);
  return _mm256_min_epu32(r, _mm256_sub_epi32(r, modulus()));
}
PTVM_FORCEINLINE __m256i odd(__m256i t) { return _mm256_srli_epi64(t, 32); }

PTVM_FORCEINLINE void butterfly(__m256i& x, __m256i& y, __m256i t) {
  const __m256i ty = mul(y, t, odd(t));
  y = sub(x, ty);
  x = add(x, ty);
}
PTVM_FORCEINLINE void ibutterfly(__m256i& x, __m256i& y, __m256i it) {
  const __m256i s = add(x, y);
  y = mul(sub(x, y), it, odd(it));
  x = s;
}

// Position (0..15) of lane k of half `half` in rep `rep`.
constexpr uint32_t position_in_rep(uint32_t rep, uint32_t half, uint32_t k) {
  const uint32_t low = k & ((1u << rep) - 1);
  return low | (half << rep) | ((k >> rep) << (rep + 1));
}
struct Lanes8 {
  alignas(32) uint32_t idx[8];
};
// For half `half` of rep `to`: which lane of rep `from` each lane reads (the same lane index in
// X and in Y; the blend mask below picks the half).
constexpr Lanes8 rep_source_lanes(uint32_t from, uint32_t to, uint32_t half) {
  Lanes8 r{};
  for (uint32_t k = 0; k < 8; ++k) {
    const uint32_t p = position_in_rep(to, half, k);
    r.idx[k] = (p & ((1u << from) - 1)) | ((p >> (from + 1)) << from);
  }
  return r;
}
// Bit k set when lane k of half `half` of rep `to` comes from Y of rep `from`.
constexpr int rep_source_mask(uint32_t from, uint32_t to, uint32_t half) {
  int m = 0;
  for (uint32_t k = 0; k < 8; ++k)
    if ((position_in_rep(to, half, k) >> from) & 1) m |= 1 << k;
  return m;
}

template <uint32_t From, uint32_t To>
PTVM_FORCEINLINE void change_rep(__m256i& x, __m256i& y) {
  static constexpr Lanes8 lo = rep_source_lanes(From, To, 0), hi = rep_source_lanes(From, To, 1);
  constexpr int lo_mask = rep_source_mask(From, To, 0), hi_mask = rep_source_mask(From, To, 1);
  const __m256i lo_idx = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo.idx));
  const __m256i hi_idx = _mm256_load_si256(reinterpret_cast<const __m256i*>(hi.idx));
  const __m256i nx = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(x, lo_idx), _mm256_permutevar8x32_epi32(y, lo_idx), lo_mask);
  const __m256i ny = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(x, hi_idx), _mm256_permutevar8x32_epi32(y, hi_idx), hi_mask);
  x = nx;
  y = ny;
}

// Lane k of rep l uses twiddle k >> l of the chunk's slice (8 >> l twiddles).
constexpr Lanes8 twiddle_spread(uint32_t rep) {
  Lanes8 r{};
  for (uint32_t k = 0; k < 8; ++k) r.idx[k] = k >> rep;
  return r;
}
// Layer Layer's (1 or 2) twiddles of the 16-value chunk at `base`, loading exactly the ones used.
template <uint32_t Layer>
PTVM_FORCEINLINE __m256i chunk_twiddles(const uint32_t* tw, size_t base) {
  static constexpr Lanes8 spread = twiddle_spread(Layer);
  const uint32_t* t = tw + (base >> (Layer + 1));
  __m128i raw;
  if constexpr (Layer == 1) {
    raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t));
  } else {
    static_assert(Layer == 2);
    raw = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(t));
  }
  return _mm256_permutevar8x32_epi32(_mm256_zextsi128_si256(raw),
                                     _mm256_load_si256(reinterpret_cast<const __m256i*>(spread.idx)));
}
// Circle-layer twiddles of the 8 pairs of a chunk from its 4 first-line-layer twiddles
// [xa, xb, ...]: pair k takes xb for k % 4 in {0, 1} and xa for {2, 3}, negated for {1, 2}.
constexpr Lanes8 circle_spread() {
  Lanes8 r{};
  for (uint32_t k = 0; k < 8; ++k) r.idx[k] = 2 * (k >> 2) + ((k & 3) < 2 ? 1 : 0);
  return r;
}
PTVM_FORCEINLINE __m256i chunk_circle_twiddles(const uint32_t* line1, size_t base) {
  static constexpr Lanes8 spread = circle_spread();
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(line1 + (base >> 2)));
  const __m256i t = _mm256_permutevar8x32_epi32(_mm256_zextsi128_si256(raw),
                                                _mm256_load_si256(reinterpret_cast<const __m256i*>(spread.idx)));
  return _mm256_blend_epi32(t, _mm256_sub_epi32(modulus(), t), 0x66);
}

// Layers 3, 2, 1 and the circle layer on the 16 values at base (x = v[base, +8), y = the next 8).
PTVM_FORCEINLINE void chunk_forward(__m256i& x, __m256i& y, const uint32_t* const* line, size_t base) {
  butterfly(x, y, _mm256_set1_epi32(static_cast<int>(line[3][base >> 4])));
  change_rep<3, 2>(x, y);
  butterfly(x, y, chunk_twiddles<2>(line[2], base));
  change_rep<2, 1>(x, y);
  butterfly(x, y, chunk_twiddles<1>(line[1], base));
  change_rep<1, 0>(x, y);
  butterfly(x, y, chunk_circle_twiddles(line[1], base));
  change_rep<0, 3>(x, y);
}
PTVM_FORCEINLINE void chunk_inverse(__m256i& x, __m256i& y, const uint32_t* const* iline, size_t base) {
  change_rep<3, 0>(x, y);
  ibutterfly(x, y, chunk_circle_twiddles(iline[1], base));
  change_rep<0, 1>(x, y);
  ibutterfly(x, y, chunk_twiddles<1>(iline[1], base));
  change_rep<1, 2>(x, y);
  ibutterfly(x, y, chunk_twiddles<2>(iline[2], base));
  change_rep<2, 3>(x, y);
  ibutterfly(x, y, _mm256_set1_epi32(static_cast<int>(iline[3][base >> 4])));
}

// Layers 4, 3, 2, 1 and the circle layer on each 32-value chunk of [begin, end).
inline void low_layers_forward(uint32_t* v, size_t begin, size_t end, const uint32_t* const* line) {
  for (size_t base = begin; base < end; base += 32) {
    __m256i a0 = load(v + base), a1 = load(v + base + 8), b0 = load(v + base + 16), b1 = load(v + base + 24);
    const __m256i t4 = _mm256_set1_epi32(static_cast<int>(line[4][base >> 5]));
    butterfly(a0, b0, t4);
    butterfly(a1, b1, t4);
    chunk_forward(a0, a1, line, base);
    chunk_forward(b0, b1, line, base + 16);
    store(v + base, a0);
    store(v + base + 8, a1);
    store(v + base + 16, b0);
    store(v + base + 24, b1);
  }
}
inline void low_layers_inverse(uint32_t* v, size_t begin, size_t end, const uint32_t* const* iline,
                               uint32_t scale_by) {
  const __m256i scale = _mm256_set1_epi32(static_cast<int>(scale_by));
  for (size_t base = begin; base < end; base += 32) {
    __m256i a0 = load(v + base), a1 = load(v + base + 8), b0 = load(v + base + 16), b1 = load(v + base + 24);
    chunk_inverse(a0, a1, iline, base);
    chunk_inverse(b0, b1, iline, base + 16);
    const __m256i t4 = _mm256_set1_epi32(static_cast<int>(iline[4][base >> 5]));
    ibutterfly(a0, b0, t4);
    ibutterfly(a1, b1, t4);
    if (scale_by != 1) {
      a0 = mul(a0, scale, odd(scale));
      a1 = mul(a1, scale, odd(scale));
      b0 = mul(b0, scale, odd(scale));
      b1 = mul(b1, scale, odd(scale));
    }
    store(v + base, a0);
    store(v + base + 8, a1);
    store(v + base + 16, b0);
    store(v + base + 24, b1);
  }
}

// Line layer with stride >= 8 over [begin, end).
inline void line_layer_forward(uint32_t* v, size_t begin, size_t end, uint32_t layer, const uint32_t* tw) {
  const size_t stride = size_t{1} << layer;
  for (size_t base = begin; base < end; base += 2 * stride) {
    const __m256i t = _mm256_set1_epi32(static_cast<int>(tw[base >> (layer + 1)]));
    uint32_t* a = v + base;
    uint32_t* b = a + stride;
    for (size_t l = 0; l < stride; l += 8) {
      __m256i x = load(a + l), y = load(b + l);
      butterfly(x, y, t);
      store(a + l, x);
      store(b + l, y);
    }
  }
}
inline void line_layer_inverse(uint32_t* v, size_t begin, size_t end, uint32_t layer, const uint32_t* itw) {
  const size_t stride = size_t{1} << layer;
  for (size_t base = begin; base < end; base += 2 * stride) {
    const __m256i t = _mm256_set1_epi32(static_cast<int>(itw[base >> (layer + 1)]));
    uint32_t* a = v + base;
    uint32_t* b = a + stride;
    for (size_t l = 0; l < stride; l += 8) {
      __m256i x = load(a + l), y = load(b + l);
      ibutterfly(x, y, t);
      store(a + l, x);
      store(b + l, y);
    }
  }
}
// Layers hi and hi-1 (stride of hi-1 >= 8) over [begin, end).
inline void line_layers_forward_radix4(uint32_t* v, size_t begin, size_t end, uint32_t hi,
                                       const uint32_t* tw_hi, const uint32_t* tw_lo) {
  const size_t s = size_t{1} << (hi - 1);
  for (size_t base = begin; base < end; base += 4 * s) {
    const __m256i th = _mm256_set1_epi32(static_cast<int>(tw_hi[base >> (hi + 1)]));
    const __m256i t0 = _mm256_set1_epi32(static_cast<int>(tw_lo[base >> hi]));
    const __m256i t1 = _mm256_set1_epi32(static_cast<int>(tw_lo[(base >> hi) + 1]));
    uint32_t* a0 = v + base;
    uint32_t* a1 = a0 + s;
    uint32_t* a2 = a1 + s;
    uint32_t* a3 = a2 + s;
    for (size_t l = 0; l < s; l += 8) {
      __m256i x0 = load(a0 + l), x1 = load(a1 + l), x2 = load(a2 + l), x3 = load(a3 + l);
      butterfly(x0, x2, th);
      butterfly(x1, x3, th);
      butterfly(x0, x1, t0);
      butterfly(x2, x3, t1);
      store(a0 + l, x0);
      store(a1 + l, x1);
      store(a2 + l, x2);
      store(a3 + l, x3);
    }
  }
}
// Inverse layers lo and lo+1 (stride of lo >= 8) over [begin, end), then times scale_by.
inline void line_layers_inverse_radix4(uint32_t* v, size_t begin, size_t end, uint32_t lo,
                                       const uint32_t* itw_lo, const uint32_t* itw_hi, uint32_t scale_by) {
  const size_t s = size_t{1} << lo;
  const __m256i scale = _mm256_set1_epi32(static_cast<int>(scale_by));
  for (size_t base = begin; base < end; base += 4 * s) {
    const __m256i t0 = _mm256_set1_epi32(static_cast<int>(itw_lo[base >> (lo + 1)]));
    const __m256i t1 = _mm256_set1_epi32(static_cast<int>(itw_lo[(base >> (lo + 1)) + 1]));
    // The scale folds into the high twiddle; the sum outputs need it explicitly.
    const __m256i th = _mm256_set1_epi32(static_cast<int>(mul_mod(itw_hi[base >> (lo + 2)], scale_by)));
    uint32_t* a0 = v + base;
    uint32_t* a1 = a0 + s;
    uint32_t* a2 = a1 + s;
    uint32_t* a3 = a2 + s;
    for (size_t l = 0; l < s; l += 8) {
      __m256i x0 = load(a0 + l), x1 = load(a1 + l), x2 = load(a2 + l), x3 = load(a3 + l);
      ibutterfly(x0, x1, t0);
      ibutterfly(x2, x3, t1);
      ibutterfly(x0, x2, th);
      ibutterfly(x1, x3, th);
      if (scale_by != 1) {
        x0 = mul(x0, scale, odd(scale));
        x1 = mul(x1, scale, odd(scale));
      }
      store(a0 + l, x0);
      store(a1 + l, x1);
      store(a2 + l, x2);
      store(a3 + l, x3);
    }
  }
}

}  // namespace ptvm::circle::kernels::avx2
