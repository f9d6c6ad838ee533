// Host-only: 16 independent BLAKE2s compressions at once, one per lane of a 16 x u32 vector
// (one AVX-512 register with -march=native; the compiler splits it into narrower registers or
// scalars elsewhere). Runs the same round code as blake2s_compress (blake2s.hpp), instantiated on
// the vector type. Used for Merkle leaf/node hashing and PoW grinding.
#pragma once
#include <cstdint>
#include <cstring>

#include "ptvm/hash/blake2s.hpp"

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

// Lane-wise BLAKE2s compression: lane l of h[i] / m[i] is word i of message l. Every lane uses the
// same counter t and the same `last` flag (messages of equal length).
PTVM_FORCEINLINE void blake2s_compress_x16(U32x16 h[8], const U32x16 m[16], uint64_t t, bool last) {
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
