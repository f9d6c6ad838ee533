// Host-only: 16 independent BLAKE2s compressions at once, one per lane of a 16 x u32 vector
// (one AVX-512 register with -march=native; the compiler splits it into narrower registers or
// scalars elsewhere). Runs the same round code as blake2s_compress (blake2s.hpp), instantiated on
// the vector type. Used for Merkle leaf/node hashing and PoW grinding.
#pragma once
#include <cstdint>
#include <cstring>

#include "ptvm/hash/blake2s.hpp"

#if defined(__AVX2__) && !defined(__AVX512F__)
#include <immintrin.h>
#define PTVM_BLAKE2S_AVX2 1
#endif

namespace ptvm::hash {

// GCC/Clang vector extension: element-wise +, ^, <<, >> by a scalar count.
typedef uint32_t U32x16 __attribute__((vector_size(64)));

PTVM_FORCEINLINE U32x16 u32x16_splat(uint32_t x) { return U32x16{} + x; }
PTVM_FORCEINLINE U32x16 u32x16_load(const uint32_t* p) {
  U32x16 v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}
PTVM_FORCEINLINE void u32x16_store(uint32_t* p, U32x16 v) { std::memcpy(p, &v, sizeof v); }

#if defined(PTVM_BLAKE2S_AVX2)
namespace detail {
// One AVX2 register of 8 lanes as a BLAKE2s word. On AVX2 the 16-lane vector code keeps the
// 16-word working vector in 32 registers of 16 (spilling every round) and rotates by three
// instructions; 8 lanes at a time fit the registers, and the byte-aligned rotations (16, 8) are
// one vpshufb. Found by blake2s_g through argument-dependent lookup.
struct Avx2Word {
  __m256i v;
};
PTVM_FORCEINLINE Avx2Word operator+(Avx2Word a, Avx2Word b) { return {_mm256_add_epi32(a.v, b.v)}; }
PTVM_FORCEINLINE Avx2Word operator^(Avx2Word a, Avx2Word b) { return {_mm256_xor_si256(a.v, b.v)}; }
PTVM_FORCEINLINE Avx2Word blake2s_rotr(Avx2Word x, int n) {
  if (n == 16) {
    const __m256i r16 = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6, 7,
                                         4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    return {_mm256_shuffle_epi8(x.v, r16)};
  }
  if (n == 8) {
    const __m256i r8 = _mm256_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12, 1, 2, 3, 0, 5, 6,
                                        7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
    return {_mm256_shuffle_epi8(x.v, r8)};
  }
  return {_mm256_or_si256(_mm256_srli_epi32(x.v, n), _mm256_slli_epi32(x.v, 32 - n))};
}
}  // namespace detail
#endif

// Lane-wise BLAKE2s compression: lane l of h[i] / m[i] is word i of message l. Every lane uses the
// same counter t and the same `last` flag (messages of equal length).
PTVM_FORCEINLINE void blake2s_compress_x16(U32x16 h[8], const U32x16 m[16], uint64_t t, bool last) {
#if defined(PTVM_BLAKE2S_AVX2)
  // Two halves of 8 lanes, each the same rounds on AVX2 words.
  for (int half = 0; half < 2; ++half) {
    detail::Avx2Word v[16], mw[16], hw[8];
    for (int i = 0; i < 8; ++i) hw[i].v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&h[i]) + half);
    for (int i = 0; i < 16; ++i) mw[i].v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&m[i]) + half);
    for (int i = 0; i < 8; ++i) {
      v[i] = hw[i];
      v[i + 8].v = _mm256_set1_epi32(static_cast<int>(blake2s_iv(i)));
    }
    v[12].v = _mm256_xor_si256(v[12].v, _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(t))));
    v[13].v = _mm256_xor_si256(v[13].v, _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(t >> 32))));
    if (last) v[14].v = _mm256_xor_si256(v[14].v, _mm256_set1_epi32(-1));
    detail::blake2s_rounds(v, mw);
    for (int i = 0; i < 8; ++i)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(&h[i]) + half, (hw[i] ^ v[i] ^ v[i + 8]).v);
  }
#else
  U32x16 v[16];
  for (int i = 0; i < 8; ++i) {
    v[i] = h[i];
    v[i + 8] = u32x16_splat(blake2s_iv(i));
  }
  v[12] ^= static_cast<uint32_t>(t);
  v[13] ^= static_cast<uint32_t>(t >> 32);
  if (last) v[14] = ~v[14];
  detail::blake2s_rounds(v, m);
  for (int i = 0; i < 8; ++i) h[i] ^= v[i] ^ v[i + 8];
#endif
}

// The same over plain arrays: h[i][l], m[i][l] = word i of lane l.
inline void blake2s_compress_x16(uint32_t h[8][16], const uint32_t m[16][16], uint64_t t, bool last) {
  U32x16 hv[8], mv[16];
  for (int i = 0; i < 8; ++i) hv[i] = u32x16_load(h[i]);
  for (int i = 0; i < 16; ++i) mv[i] = u32x16_load(m[i]);
  blake2s_compress_x16(hv, mv, t, last);
  for (int i = 0; i < 8; ++i) u32x16_store(h[i], hv[i]);
}

}  // namespace ptvm::hash
