// The FRI/PCS spec of the F128 STARK (statement-v1, ptvm/stark128/): layer values in F128 over
// multiplicative cosets g^(2^i) <w_{2^n}> (g = 3) stored bit-reversed, the BLAKE2b channel and
// BLAKE2b Merkle trees with one F128 per leaf column. The fold map is x -> x^2 and the fold is
// normalized: (f(x) + f(-x)) / 2 + alpha (f(x) - f(-x)) / (2x).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/circle/domain.hpp"
#include "ptvm/field/f128.hpp"
#include "ptvm/fri/fold.hpp"
#include "ptvm/hash/blake2b.hpp"
#include "ptvm/hash/blake2b_channel.hpp"
#include "ptvm/hash/blake2b_channel_f128.hpp"
#include "ptvm/hash/merkle_generic.hpp"

namespace ptvm::fri {

struct CosetSpec {
  using Base = F128;
  using Secure = F128;
  using Channel = hash::Blake2bChannel;
  using Hash = hash::Blake2b256Hash;
  using MerkleVerifier = hash::Blake2bMerkleVerifier<F128>;
  using MerkleDecommitment = hash::GenericMerkleDecommitment<hash::Blake2bMerkleHasher, F128>;
  static constexpr const char* kName = "coset/F128/BLAKE2b";

  static size_t bit_reverse(size_t i, uint32_t log_n) { return circle::bit_reverse_index(i, log_n); }
  // The coset offset of the first layer (the LDE domain's).
  static F128 offset() { return F128::generator(); }

  // g^(2^fold) <w_{2^log_size}>: the first layer's coset folded `fold` times.
  struct Domain {
    uint32_t log_size_ = 0;
    uint32_t fold = 0;
    uint32_t log_size() const { return log_size_; }
    Domain folded() const { return Domain{log_size_ - 1, fold + 1}; }
    F128 offset() const {
      F128 o = CosetSpec::offset();
      for (uint32_t k = 0; k < fold; ++k)
        o = o.square();
      return o;
    }
    // The point at bit-reversed storage position `position`.
    F128 point_at(size_t position) const {
      return offset() *
             F128::primitive_root_of_unity(log_size_).pow(bit_reverse(position, log_size_));
    }
    F128 fold_inverse(size_t even_position) const { return point_at(even_position).inverse(); }
  };

  static void mix_root(Channel& channel, const Hash& root) { channel.mix_root(root); }
  static Secure draw_challenge(Channel& channel) { return hash::draw_f128_felt(channel); }
  static void mix_last_layer(Channel& channel, std::span<const Secure> values) {
    channel.mix_felts(values);
  }
  static Secure fold_pair(const Secure& f_x, const Secure& f_neg_x, const F128& x_inverse,
                          const Secure& alpha) {
    static const F128 half = F128::from_u64(2).inverse();
    return fold_coset_pair(f_x, f_neg_x, x_inverse, alpha, half);
  }

  // Layer commitments hold one F128 column.
  static void append_leaf_values(const Secure& v, std::vector<F128>& out) { out.push_back(v); }
  static std::vector<uint32_t> leaf_column_log_sizes(uint32_t log_size) { return {log_size}; }
};

} // namespace ptvm::fri
