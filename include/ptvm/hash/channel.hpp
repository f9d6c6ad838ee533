// Fiat-Shamir channel over BLAKE2s, ptvm's frozen byte-level variant (PROTOCOL.md §8 and §14,
// "newer upstream" stwo):
//   state: digest (32 bytes, initially zero) and a draw counter n_draws (reset by every mix)
//   mix_u32s(ws)  : digest = Blake2s(digest ‖ LE32(w) for each w)
//   mix_felts(fs) : mix_u32s of the QM31 coordinates [a, b, c, d] of each f
//   mix_u64(x)    : mix_u32s([lo32(x), hi32(x)])
//   mix_root(r)   : digest = Blake2s(digest ‖ r)
//   mix_bytes(b)  : digest = Blake2s(digest ‖ b)
//   draw_u32s()   : 8 LE words of Blake2s(digest ‖ LE32(n_draws) ‖ 0x00); n_draws += 1
//   draw_felts(n) : draw_u32s() until all 8 words are < 2P (exactly uniform: 2 preimages per
//                   residue), reduce mod P; each accepted draw yields 2 QM31 (a, b, c, d order)
//   draw_queries(log, n): n words of successive draw_u32s(), each masked with 2^log - 1,
//                   then sorted and deduplicated (stwo's rule; may return fewer than n)
//   draw_distinct_queries(log, n, s): the same words read until n positions with distinct
//                   q >> s appeared, sorted (the STARK uses s = 1: n queries are n FRI tests)
//   PoW: see pow.hpp; the verifier calls check_pow BEFORE mix_u64(nonce).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/blake2s.hpp"

namespace ptvm::hash {

class Blake2sChannel {
 public:
  Blake2sChannel() = default;

  Blake2sHash digest() const { return digest_; }
  uint32_t n_draws() const { return n_draws_; }

  void mix_root(const Blake2sHash& root);
  void mix_felts(std::span<const QM31> felts);
  void mix_u32s(std::span<const uint32_t> words);
  void mix_u64(uint64_t value);
  void mix_bytes(std::span<const uint8_t> bytes);

  std::array<uint32_t, 8> draw_u32s();
  QM31 draw_felt();                        // one accepted draw; its second QM31 is discarded
  std::vector<QM31> draw_felts(size_t n);  // ceil(n/2) accepted draws
  // Sorted, deduplicated positions in [0, 2^log_domain_size); log_domain_size <= 32 (else
  // ptvm::Error Usage). n_queries = 0 draws nothing and returns an empty list.
  std::vector<size_t> draw_queries(uint32_t log_domain_size, size_t n_queries);
  // Exactly n_queries sorted positions in [0, 2^log_domain_size), no two with the same
  // q >> distinct_shift: a word whose class was already drawn is skipped. More classes asked than
  // the domain has (n_queries > 2^(log_domain_size - distinct_shift)) throws ptvm::Error (Usage).
  std::vector<size_t> draw_distinct_queries(uint32_t log_domain_size, size_t n_queries, uint32_t distinct_shift = 0);

  // Smallest nonce with check_pow(nonce, pow_bits); the search is split over up to n_threads
  // threads (0 = hardware concurrency) and the answer does not depend on it. pow_bits above
  // kMaxGrindBits throws ptvm::Error (Usage): such a search would not end.
  static constexpr uint32_t kMaxGrindBits = 48;
  uint64_t grind(uint32_t pow_bits) const { return grind(pow_bits, 0); }
  uint64_t grind(uint32_t pow_bits, unsigned n_threads) const;
  bool check_pow(uint64_t nonce, uint32_t pow_bits) const;
  // The smallest nonce in [begin, end) with check_pow(nonce, pow_bits), on this thread (begin a
  // multiple of 16); nullopt when there is none. Callers splitting the search (ranks) use it.
  std::optional<uint64_t> grind_range(uint32_t pow_bits, uint64_t begin, uint64_t end) const;

 private:
  void mix_message(std::span<const uint8_t> bytes);

  Blake2sHash digest_{};
  uint32_t n_draws_ = 0;
};

}  // namespace ptvm::hash
