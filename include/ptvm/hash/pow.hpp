// Proof of work (grinding) of PROTOCOL.md §14, ptvm variant (no 12-byte pad), written once for
// host and device:
//   prefixed = Blake2s( LE32(0x12345678) ‖ digest ‖ LE32(pow_bits) )          (40 bytes)
//   result   = Blake2s( prefixed ‖ LE64(nonce) )                               (40 bytes)
//   valid iff trailing_zeros(u128 little-endian from result[0..16]) >= pow_bits.
// Both messages fit one block, so each nonce costs one compression.
#pragma once
#include <cstdint>

#include "ptvm/common/hd.hpp"
#include "ptvm/hash/blake2s.hpp"

namespace ptvm::hash {

inline constexpr uint32_t kPowPrefixMagic = 0x12345678u;

// Trailing zero bits of the 128-bit little-endian integer whose u32 limbs are w[0] (lowest)..w[3].
PTVM_HD PTVM_FORCEINLINE uint32_t trailing_zeros_u128(const uint32_t w[4]) {
  for (int i = 0; i < 4; ++i) {
    if (w[i] != 0) {
      uint32_t x = w[i], n = 0;
      while ((x & 1u) == 0) {
        x >>= 1;
        ++n;
      }
      return 32u * i + n;
    }
  }
  return 128;
}

// prefixed (8 words) from the channel digest words.
PTVM_HD inline void pow_prefixed_digest(const uint32_t digest[8], uint32_t pow_bits,
                                        uint32_t prefixed[8]) {
  uint32_t block[16] = {};
  block[0] = kPowPrefixMagic;
  for (int i = 0; i < 8; ++i) block[1 + i] = digest[i];
  block[9] = pow_bits;
  blake2s_init_state(prefixed);
  blake2s_compress(prefixed, block, 40, true);
}

// The message block hashed for one nonce (the caller zero-initializes nothing: all 16 words set).
PTVM_HD PTVM_FORCEINLINE void pow_nonce_block(const uint32_t prefixed[8], uint64_t nonce,
                                              uint32_t block[16]) {
  for (int i = 0; i < 8; ++i) block[i] = prefixed[i];
  block[8] = static_cast<uint32_t>(nonce);
  block[9] = static_cast<uint32_t>(nonce >> 32);
  for (int i = 10; i < 16; ++i) block[i] = 0;
}

PTVM_HD inline bool pow_nonce_is_valid(const uint32_t prefixed[8], uint64_t nonce,
                                       uint32_t pow_bits) {
  uint32_t block[16], h[8];
  pow_nonce_block(prefixed, nonce, block);
  blake2s_init_state(h);
  blake2s_compress(h, block, 40, true);
  return trailing_zeros_u128(h) >= pow_bits;
}

}  // namespace ptvm::hash
