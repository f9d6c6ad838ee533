// BLAKE2b (RFC 7693, unkeyed) with any digest length 1..64; BLAKE2b-256 identifies programs and
// configurations in claims (ISA.md) and hashes the F128 proof system's Merkle trees.
// The compression function is written once (PTVM_HD) for host and device.
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

PTVM_HD PTVM_FORCEINLINE uint64_t blake2b_rotr(uint64_t x, int n) {
  return (x >> n) | (x << (64 - n));
}

// G of RFC 7693 §3.1 with BLAKE2b's rotations (32, 24, 16, 63).
PTVM_HD PTVM_FORCEINLINE void blake2b_g(uint64_t& a, uint64_t& b, uint64_t& c, uint64_t& d,
                                        uint64_t x, uint64_t y) {
  a = a + b + x;
  d = blake2b_rotr(d ^ a, 32);
  c = c + d;
  b = blake2b_rotr(b ^ c, 24);
  a = a + b + y;
  d = blake2b_rotr(d ^ a, 16);
  c = c + d;
  b = blake2b_rotr(b ^ c, 63);
}

// One round with schedule row s given as literals (see blake2s.hpp for why).
PTVM_HD PTVM_FORCEINLINE void blake2b_round(uint64_t* v, const uint64_t* m, int s0, int s1,
                                            int s2, int s3, int s4, int s5, int s6, int s7,
                                            int s8, int s9, int s10, int s11, int s12, int s13,
                                            int s14, int s15) {
  blake2b_g(v[0], v[4], v[8], v[12], m[s0], m[s1]);
  blake2b_g(v[1], v[5], v[9], v[13], m[s2], m[s3]);
  blake2b_g(v[2], v[6], v[10], v[14], m[s4], m[s5]);
  blake2b_g(v[3], v[7], v[11], v[15], m[s6], m[s7]);
  blake2b_g(v[0], v[5], v[10], v[15], m[s8], m[s9]);
  blake2b_g(v[1], v[6], v[11], v[12], m[s10], m[s11]);
  blake2b_g(v[2], v[7], v[8], v[13], m[s12], m[s13]);
  blake2b_g(v[3], v[4], v[9], v[14], m[s14], m[s15]);
}

}  // namespace detail

// BLAKE2b initialization vector (the SHA-512 IV), RFC 7693 §2.6.
PTVM_HD PTVM_FORCEINLINE constexpr uint64_t blake2b_iv(int i) {
  switch (i) {
    case 0: return 0x6A09E667F3BCC908ull;
    case 1: return 0xBB67AE8584CAA73Bull;
    case 2: return 0x3C6EF372FE94F82Bull;
    case 3: return 0xA54FF53A5F1D36F1ull;
    case 4: return 0x510E527FADE682D1ull;
    case 5: return 0x9B05688C2B3E6C1Full;
    case 6: return 0x1F83D9ABFB41BD6Bull;
    default: return 0x5BE0CD19137E2179ull;
  }
}

// Chaining value of an unkeyed BLAKE2b with a digest of `digest_len` bytes (1..64).
PTVM_HD PTVM_FORCEINLINE void blake2b_init_state(uint64_t h[8], uint32_t digest_len) {
  for (int i = 0; i < 8; ++i) h[i] = blake2b_iv(i);
  h[0] ^= 0x01010000ull ^ digest_len;
}

// The compression function F of RFC 7693 §3.2 (12 rounds). t: bytes hashed so far INCLUDING
// this block (the high 64 bits of the 128-bit counter are always zero here).
PTVM_HD PTVM_FORCEINLINE void blake2b_compress(uint64_t h[8], const uint64_t m[16], uint64_t t, bool last) {
  uint64_t v[16];
  for (int i = 0; i < 8; ++i) {
    v[i] = h[i];
    v[i + 8] = blake2b_iv(i);
  }
  v[12] ^= t;
  if (last) v[14] = ~v[14];
  using detail::blake2b_round;
  blake2b_round(v, m, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  blake2b_round(v, m, 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3);
  blake2b_round(v, m, 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4);
  blake2b_round(v, m, 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8);
  blake2b_round(v, m, 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13);
  blake2b_round(v, m, 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9);
  blake2b_round(v, m, 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11);
  blake2b_round(v, m, 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10);
  blake2b_round(v, m, 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5);
  blake2b_round(v, m, 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0);
  blake2b_round(v, m, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  blake2b_round(v, m, 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3);
  for (int i = 0; i < 8; ++i) h[i] ^= v[i] ^ v[i + 8];
}

// A 32-byte BLAKE2b-256 digest (claim identities, F128 Merkle nodes).
struct Blake2b256Hash {
  std::array<uint8_t, 32> bytes{};

  std::string hex() const;
  static std::optional<Blake2b256Hash> from_hex(std::string_view hex);

  friend bool operator==(const Blake2b256Hash&, const Blake2b256Hash&) = default;
  friend auto operator<=>(const Blake2b256Hash&, const Blake2b256Hash&) = default;
};

// Streaming BLAKE2b with a digest of digest_len bytes (1..64; anything else throws
// ptvm::Error). finalize() may be called once.
class Blake2b {
 public:
  explicit Blake2b(size_t digest_len);
  // Continues from a chaining value after `bytes_compressed` bytes (a positive multiple of 128),
  // e.g. a precomputed prefix block; digest_len must be the one the state was started with.
  static Blake2b from_state(const std::array<uint64_t, 8>& chaining_value, uint64_t bytes_compressed,
                            size_t digest_len);
  // The chaining value after exactly one full 128-byte block that is not the last one (for
  // precomputing prefix states).
  static std::array<uint64_t, 8> state_after_first_block(const uint8_t block[128], size_t digest_len);

  void update(const void* data, size_t size);
  void update(std::span<const uint8_t> data) { update(data.data(), data.size()); }
  std::vector<uint8_t> finalize();              // digest_len bytes
  void finalize(std::span<uint8_t> out);        // out.size() must equal digest_len
  size_t digest_len() const { return digest_len_; }

 private:
  uint64_t h_[8];
  uint64_t t_ = 0;
  uint8_t buffer_[128];
  size_t buffered_ = 0;
  size_t digest_len_;
  bool finalized_ = false;
  bool resumed_without_input_ = false;  // from_state and nothing added yet
};

Blake2b256Hash blake2b_256(std::span<const uint8_t> data);
std::array<uint8_t, 64> blake2b_512(std::span<const uint8_t> data);
inline Blake2b256Hash blake2b_256(std::string_view text) {
  return blake2b_256(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace ptvm::hash
