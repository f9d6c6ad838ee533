// Fiat-Shamir channel over BLAKE2b-256 for the F128 proof system (statement-v1). ptvm's own
// byte-level variant, frozen by vectors from the independent model tests/hash/gen_vectors.py; it
// mirrors Blake2sChannel (channel.hpp):
//   state: digest (32 bytes, initially zero) and a draw counter n_draws (reset by every mix)
//   mix_bytes(b)  : digest = Blake2b-256(digest ‖ b)
//   mix_root(r)   : mix_bytes(r.bytes)
//   mix_u32s(ws)  : mix_bytes(LE32(w) for each w);  mix_u64(x): mix_bytes(LE64(x))
//   mix_felts(fs) : mix_bytes(f.to_bytes_le() for each f)   (any ptvm field: M31, QM31, F128)
//   draw_bytes()  : Blake2b-256(digest ‖ LE32(n_draws) ‖ 0x00); n_draws += 1
//   draw_u32s()   : draw_bytes() as 8 LE u32 words
//   draw_f128_values(n): each draw gives two 128-bit LE candidates (bytes 0..15, 16..31); a
//                   candidate is kept iff it is < p = 407 * 2^119 + 1 (exact rejection sampling:
//                   uniform on [0, p), ~20% rejected since 2^128 < 2p); draws continue until n are
//                   kept, leftovers of the last draw are discarded
//   draw_queries(log, n): as Blake2sChannel: n words of successive draw_u32s(), each masked with
//                   2^log - 1, then sorted and deduplicated
//   draw_distinct_queries(log, n, s): as Blake2sChannel: read until n distinct classes q >> s
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/hash/blake2b.hpp"

namespace ptvm::hash {

// A canonical F128 value as an integer in [0, p): little-endian 64-bit words. (F128 itself keeps
// Montgomery form; its from_canonical_words turns this into a field element.)
struct F128Integer {
  uint64_t lo = 0, hi = 0;
  friend bool operator==(const F128Integer&, const F128Integer&) = default;
};

// p = 407 * 2^119 + 1 as (lo, hi).
inline constexpr uint64_t kF128ModulusLo = 1;
inline constexpr uint64_t kF128ModulusHi = 0xcb80000000000000ull;  // 407 << 55

class Blake2bChannel {
 public:
  Blake2bChannel() = default;

  Blake2b256Hash digest() const { return digest_; }
  uint32_t n_draws() const { return n_draws_; }

  void mix_bytes(std::span<const uint8_t> bytes);
  void mix_root(const Blake2b256Hash& root) { mix_bytes(root.bytes); }
  void mix_u32s(std::span<const uint32_t> words);
  void mix_u64(uint64_t value);
  template <class Field>
  void mix_felts(std::span<const Field> felts) {
    std::vector<uint8_t> bytes(felts.size() * Field::kBytes);
    for (size_t i = 0; i < felts.size(); ++i) felts[i].to_bytes_le(bytes.data() + i * Field::kBytes);
    mix_bytes(bytes);
  }

  std::array<uint8_t, 32> draw_bytes();
  std::array<uint32_t, 8> draw_u32s();
  std::vector<F128Integer> draw_f128_values(size_t n);
  F128Integer draw_f128_value() { return draw_f128_values(1)[0]; }
  // Sorted, deduplicated positions in [0, 2^log_domain_size); log_domain_size <= 32 (else
  // ptvm::Error Usage). n_queries = 0 draws nothing.
  std::vector<size_t> draw_queries(uint32_t log_domain_size, size_t n_queries);
  // Exactly n_queries sorted positions (see Blake2sChannel::draw_distinct_queries).
  std::vector<size_t> draw_distinct_queries(uint32_t log_domain_size, size_t n_queries, uint32_t distinct_shift = 0);

 private:
  Blake2b256Hash digest_{};
  uint32_t n_draws_ = 0;
};

}  // namespace ptvm::hash
