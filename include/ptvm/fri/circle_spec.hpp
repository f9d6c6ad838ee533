// The FRI/PCS spec of the circle STARK (ptvm/stark/): layer values in QM31 over M31 domains, the
// BLAKE2s channel and BLAKE2s Merkle trees whose leaves hold a layer value's four M31 coordinates
// (PROTOCOL.md §6). Domains: the first layer is a canonic circle domain, folded by y (the pair of a
// point and its conjugate) onto its half coset's line domain; every later layer is a line domain,
// folded by x with x -> 2x^2 - 1. The fold is unnormalized (no 1/2): (f + f') + alpha (f - f') / t.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ptvm/circle/domain.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/stark/fri_math.hpp"

namespace ptvm::fri {

struct CircleSpec {
  using Base = M31;
  using Secure = QM31;
  using Channel = hash::Blake2sChannel;
  using Hash = hash::Blake2sHash;
  using MerkleVerifier = hash::MerkleVerifier;
  using MerkleDecommitment = hash::MerkleDecommitment;
  static constexpr const char* kName = "circle/M31/BLAKE2s";

  // A layer domain: CanonicCoset(log_size)'s circle domain (the first layer) or a line domain.
  struct Domain {
    bool is_circle = false;
    circle::LineDomain line{circle::Coset{}};
    uint32_t circle_log_size = 0;

    static Domain circle_domain(uint32_t log_size) {
      Domain d;
      d.is_circle = true;
      d.circle_log_size = log_size;
      d.line = circle::LineDomain{circle::CanonicCoset{log_size}.half_coset()};
      return d;
    }
    static Domain line_domain(circle::LineDomain line) {
      Domain d;
      d.line = line;
      return d;
    }
    uint32_t log_size() const { return is_circle ? circle_log_size : line.log_size(); }
    // The first fold maps the circle domain onto its half coset's x coordinates; then x -> 2x^2
    // - 1.
    Domain folded() const { return is_circle ? line_domain(line) : line_domain(line.doubled()); }
    // The point at bit-reversed storage position `position`.
    M31 x_at(size_t position) const {
      return line.at(circle::bit_reverse_index(position, line.log_size()));
    }
    circle::CirclePoint<M31> point_at(size_t position) const {
      return circle::CanonicCoset{circle_log_size}.circle_domain().at(
          circle::bit_reverse_index(position, circle_log_size));
    }
    // 1 / y (circle fold) or 1 / x (line fold) of the pair at even_position.
    M31 fold_inverse(size_t even_position) const {
      return is_circle ? point_at(even_position).y.inverse() : x_at(even_position).inverse();
    }
  };

  static void mix_root(Channel& channel, const Hash& root) { channel.mix_root(root); }
  static Secure draw_challenge(Channel& channel) { return channel.draw_felt(); }
  static void mix_last_layer(Channel& channel, std::span<const Secure> coefficients) {
    channel.mix_felts(coefficients);
  }
  // fold_circle_pair and fold_line_pair are the same formula (ptvm/stark/fri_math.hpp).
  static Secure fold_pair(const Secure& f_x, const Secure& f_neg_x, M31 inverse,
                          const Secure& alpha) {
    return stark::fold_line_pair(f_x, f_neg_x, inverse, alpha);
  }

  // Layer commitments hold a QM31 value as four M31 columns of one log size.
  static void append_leaf_values(const Secure& v, std::vector<M31>& out) {
    out.push_back(v.x0.a);
    out.push_back(v.x0.b);
    out.push_back(v.x1.a);
    out.push_back(v.x1.b);
  }
  static std::vector<uint32_t> leaf_column_log_sizes(uint32_t log_size) {
    return {log_size, log_size, log_size, log_size};
  }
};

} // namespace ptvm::fri
