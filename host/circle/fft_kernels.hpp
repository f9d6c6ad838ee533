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

}  // namespace ptvm::circle::kernels
