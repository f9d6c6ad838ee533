// BLAKE2s-256 (RFC 7693, unkeyed). The compression function is written once (PTVM_HD) for the
// host, the CUDA kernels and the 16-lane host variant (blake2s_x16.hpp): the ten rounds are a
// template over the word type, so a SIMD vector of 16 lanes runs exactly the same code.
#pragma once
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ptvm/common/hd.hpp"

namespace ptvm::hash {

namespace detail {

// Works for uint32_t and for GCC/Clang vector types of uint32_t (shift by a scalar count).
template <class W>
PTVM_HD PTVM_FORCEINLINE W blake2s_rotr(W x, int n) {
  return (x >> n) | (x << (32 - n));
}

// The mixing function G of RFC 7693 §3.1 with BLAKE2s's rotations (16, 12, 8, 7).
template <class W>
PTVM_HD PTVM_FORCEINLINE void blake2s_g(W& a, W& b, W& c, W& d, W x, W y) {
  a = a + b + x;
  d = blake2s_rotr(d ^ a, 16);
  c = c + d;
  b = blake2s_rotr(b ^ c, 12);
  a = a + b + y;
  d = blake2s_rotr(d ^ a, 8);
  c = c + d;
  b = blake2s_rotr(b ^ c, 7);
}

// One round with message schedule s (a row of SIGMA); the indices are literals at every call
// site, so after inlining m[s_k] is a fixed register/array slot (no table lookup, no constant
// memory on the GPU).
template <class W>
PTVM_HD PTVM_FORCEINLINE void blake2s_round(W* v, const W* m, int s0, int s1, int s2, int s3,
                                            int s4, int s5, int s6, int s7, int s8, int s9,
                                            int s10, int s11, int s12, int s13, int s14, int s15) {
  blake2s_g(v[0], v[4], v[8], v[12], m[s0], m[s1]);
  blake2s_g(v[1], v[5], v[9], v[13], m[s2], m[s3]);
  blake2s_g(v[2], v[6], v[10], v[14], m[s4], m[s5]);
  blake2s_g(v[3], v[7], v[11], v[15], m[s6], m[s7]);
  blake2s_g(v[0], v[5], v[10], v[15], m[s8], m[s9]);
  blake2s_g(v[1], v[6], v[11], v[12], m[s10], m[s11]);
  blake2s_g(v[2], v[7], v[8], v[13], m[s12], m[s13]);
  blake2s_g(v[3], v[4], v[9], v[14], m[s14], m[s15]);
}

// The ten rounds of BLAKE2s on the working vector v (RFC 7693 §2.7 SIGMA rows 0..9).
template <class W>
PTVM_HD PTVM_FORCEINLINE void blake2s_rounds(W* v, const W* m) {
  blake2s_round(v, m, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  blake2s_round(v, m, 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3);
  blake2s_round(v, m, 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4);
  blake2s_round(v, m, 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8);
  blake2s_round(v, m, 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13);
  blake2s_round(v, m, 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9);
  blake2s_round(v, m, 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11);
  blake2s_round(v, m, 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10);
  blake2s_round(v, m, 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5);
  blake2s_round(v, m, 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0);
}

}  // namespace detail

// BLAKE2s initialization vector (the SHA-256 IV), RFC 7693 §2.6.
PTVM_HD PTVM_FORCEINLINE constexpr uint32_t blake2s_iv(int i) {
  switch (i) {
    case 0: return 0x6A09E667u;
    case 1: return 0xBB67AE85u;
    case 2: return 0x3C6EF372u;
    case 3: return 0xA54FF53Au;
    case 4: return 0x510E527Fu;
    case 5: return 0x9B05688Cu;
    case 6: return 0x1F83D9ABu;
    default: return 0x5BE0CD19u;
  }
}

// Chaining value of an unkeyed BLAKE2s with a 32-byte digest: IV with the parameter block
// (digest length 32, fanout 1, depth 1) xor-ed into word 0.
PTVM_HD PTVM_FORCEINLINE void blake2s_init_state(uint32_t h[8]) {
  for (int i = 0; i < 8; ++i) h[i] = blake2s_iv(i);
  h[0] ^= 0x01010000u ^ 32u;
}

// The compression function F of RFC 7693 §3.2. h: chaining value (updated in place); m: one
// 64-byte block as 16 little-endian words; t: bytes hashed so far INCLUDING this block; last:
// set on the final block. Always inlined, so each translation unit compiles it with its own
// tuning (see host/hash/blake2.cpp).
PTVM_HD PTVM_FORCEINLINE void blake2s_compress(uint32_t h[8], const uint32_t m[16], uint64_t t, bool last) {
  uint32_t v[16];
  for (int i = 0; i < 8; ++i) {
    v[i] = h[i];
    v[i + 8] = blake2s_iv(i);
  }
  v[12] ^= static_cast<uint32_t>(t);
  v[13] ^= static_cast<uint32_t>(t >> 32);
  if (last) v[14] = ~v[14];
  detail::blake2s_rounds(v, m);
  for (int i = 0; i < 8; ++i) h[i] ^= v[i] ^ v[i + 8];
}

// A 32-byte BLAKE2s digest (also the Merkle node and channel digest type).
struct Blake2sHash {
  std::array<uint8_t, 32> bytes{};

  std::string hex() const;  // lowercase, 64 characters
  // Accepts exactly 64 hex digits (either case); anything else gives nullopt.
  static std::optional<Blake2sHash> from_hex(std::string_view hex);
  // The 8 little-endian words of the digest (the chaining value it came from).
  std::array<uint32_t, 8> words() const;
  static Blake2sHash from_words(const uint32_t words[8]);

  friend bool operator==(const Blake2sHash&, const Blake2sHash&) = default;
  friend auto operator<=>(const Blake2sHash&, const Blake2sHash&) = default;
};

// Streaming BLAKE2s-256. finalize() may be called once; the object is then spent.
class Blake2s {
 public:
  Blake2s();
  // Continues from a chaining value after `bytes_compressed` bytes (a multiple of 64, at least
  // one full block already absorbed), e.g. a precomputed prefix block (Merkle LEAF/NODE states).
  static Blake2s from_state(const std::array<uint32_t, 8>& chaining_value, uint64_t bytes_compressed);

  void update(const void* data, size_t size);
  void update(std::span<const uint8_t> data) { update(data.data(), data.size()); }
  Blake2sHash finalize();

 private:
  uint32_t h_[8];
  uint64_t t_ = 0;          // bytes compressed so far
  uint8_t buffer_[64];      // pending bytes, never compressed before more input (or finalize)
  size_t buffered_ = 0;
  bool finalized_ = false;
  bool resumed_without_input_ = false;  // from_state and nothing added yet
};

Blake2sHash blake2s(std::span<const uint8_t> data);

// Lowercase hex of a byte string, and its inverse (nullopt on odd length or a non-hex digit).
std::string to_hex(std::span<const uint8_t> bytes);
std::optional<std::vector<uint8_t>> bytes_from_hex(std::string_view hex);

}  // namespace ptvm::hash
