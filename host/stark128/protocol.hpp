// What the F128 STARK's prover and verifier share (ptvm/stark128/stark128.hpp gives the
// protocol): the layout of a proof for an AIR and options, the transcript's first messages, the
// DEEP sample list, LDE points, the FRI fold and the proof of work.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ptvm/field/batch_inverse.hpp"
#include "ptvm/field/f128.hpp"
#include "ptvm/fri/coset_spec.hpp"
#include "ptvm/fri/fri.hpp"
#include "ptvm/hash/blake2b_channel.hpp"
#include "ptvm/hash/blake2b_channel_f128.hpp"
#include "ptvm/stark128/stark128.hpp"

namespace ptvm::stark128::detail {

// The domain and fold of FRI over the coset are the FRI spec's (ptvm/fri/coset_spec.hpp).
inline size_t bit_reverse(size_t i, uint32_t log_n) { return fri::CosetSpec::bit_reverse(i, log_n); }

// Both members of the first layer's pairs of the queried pair indices (any order, repeats
// allowed), ascending: the positions the prover opens and the verifier checks.
inline std::vector<size_t> query_pair_positions(const std::vector<size_t>& pairs) {
  std::vector<size_t> out;
  for (size_t q : pairs) out.push_back(2 * q);
  std::sort(out.begin(), out.end());
  return fri::pair_positions(fri::folded_positions(out, 0));
}

// One (column, point) pair of the DEEP quotient.
struct Sample {
  uint32_t tree;    // 0 preprocessed, 1 main, 2 interaction, 3 composition
  uint32_t column;  // index in that tree's row
  uint32_t point;   // 0 = zeta, 1 + k = w_{2^k} zeta (k = component log size)
};

struct Layout {
  uint32_t log_n = 0;        // largest component
  uint32_t log_blowup = 0;
  uint32_t log_lde = 0;      // log_n + log_blowup
  uint32_t n_fri_folds = 0;  // log_n
  std::vector<uint32_t> tree_columns = {0, 0, 0, 2};  // per tree
  std::vector<uint32_t> pre_offset, main_offset, inter_offset;  // per component, first column
  std::vector<Sample> samples;  // in proof.sampled_values order
  uint32_t n_constraints_total = 0;
  std::vector<uint32_t> constraint_offset;  // per component
};

// Checks sizes; nullopt and the layout, or the reason.
inline std::optional<std::string> make_layout(const Air128& air, const Options& options, Layout& out) {
  if (auto why = validate_options(options)) return *why;
  if (air.components.empty()) return "the AIR has no components";
  Layout l;
  uint32_t log_b = 0;
  while ((1u << log_b) < options.expansion_factor) ++log_b;
  l.log_blowup = log_b;
  for (const auto& c : air.components) l.log_n = std::max(l.log_n, c->log_rows());
  if (l.log_n < 2) return "components must have at least 4 rows";
  l.log_lde = l.log_n + log_b;
  if (l.log_lde > 28) return "LDE domain larger than 2^28";
  l.n_fri_folds = l.log_n;
  for (const auto& c : air.components) {
    l.pre_offset.push_back(l.tree_columns[0]);
    l.main_offset.push_back(l.tree_columns[1]);
    l.inter_offset.push_back(l.tree_columns[2]);
    l.tree_columns[0] += c->shape().n_pre_total;
    l.tree_columns[1] += c->info().n_main_columns;
    l.tree_columns[2] += c->shape().n_batches;
    l.constraint_offset.push_back(l.n_constraints_total);
    l.n_constraints_total += c->shape().n_constraints();
  }
  for (uint32_t tree = 0; tree < 3; ++tree) {
    for (size_t ci = 0; ci < air.components.size(); ++ci) {
      const auto& c = *air.components[ci];
      const uint32_t first = tree == 0 ? l.pre_offset[ci] : tree == 1 ? l.main_offset[ci] : l.inter_offset[ci];
      const uint32_t count = tree == 0 ? c.shape().n_pre_total : tree == 1 ? c.info().n_main_columns : c.shape().n_batches;
      for (uint32_t k = 0; k < count; ++k) {
        l.samples.push_back({tree, first + k, 0});
        l.samples.push_back({tree, first + k, 1 + c.log_rows()});
      }
    }
  }
  l.samples.push_back({3, 0, 0});
  l.samples.push_back({3, 1, 0});
  out = std::move(l);
  return std::nullopt;
}

inline F128 lde_offset() { return fri::CosetSpec::offset(); }

// The point at storage position pos of g^(2^fold) <w_{2^log_size}> (bit-reversed).
inline F128 domain_point(uint32_t log_size, uint32_t fold, size_t pos) {
  return fri::CosetSpec::Domain{log_size, fold}.point_at(pos);
}

// 1 / (x^{2^log_rows} - 1) on D = g <w_{2^log_lde}>: it depends on x's natural index i only
// through i mod 2^(log_lde - log_rows); entry i of the result.
inline std::vector<F128> vanishing_inverses(uint32_t log_lde, uint32_t log_rows) {
  const size_t period = size_t{1} << (log_lde - log_rows);
  std::vector<F128> van(period), inv(period);
  const F128 g_n = lde_offset().pow(uint64_t{1} << log_rows);
  const F128 w = F128::primitive_root_of_unity(log_lde - log_rows);
  F128 acc = g_n;
  for (size_t i = 0; i < period; ++i) {
    van[i] = acc - F128::one();
    acc *= w;
  }
  batch_inverse_raw(van.data(), inv.data(), inv.data(), period);
  return inv;
}

inline void mix_header(hash::Blake2bChannel& ch, const Air128& air, std::span<const F128> pub, const Options& o) {
  ch.mix_bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kProtocolTag.data()), kProtocolTag.size()));
  std::vector<uint32_t> words = {o.expansion_factor, o.num_colinearity_checks, o.security_level, o.pow_bits,
                                 static_cast<uint32_t>(air.components.size())};
  for (const auto& c : air.components) words.push_back(c->log_rows());
  ch.mix_u32s(words);
  ch.mix_felts(pub);
}

inline std::vector<RelationChallenges128> draw_relation_challenges(hash::Blake2bChannel& ch, const Air128& air) {
  std::vector<RelationChallenges128> r;
  for (size_t i = 0; i < air.relation_tuple_sizes.size(); ++i) {
    const std::vector<F128> zs = hash::draw_f128_felts(ch, 2);
    r.push_back(RelationChallenges128::from(zs[0], zs[1]));
  }
  return r;
}

inline std::vector<F128> powers(F128 x, size_t n) {
  std::vector<F128> p(n);
  F128 acc = F128::one();
  for (size_t i = 0; i < n; ++i) {
    p[i] = acc;
    acc *= x;
  }
  return p;
}

// The OODS point: drawn until it is outside D and every trace subgroup (x^N != 1 and
// (x / g)^(NB) != 1).
inline F128 draw_oods_point(hash::Blake2bChannel& ch, const Layout& l) {
  for (;;) {
    const F128 z = hash::draw_f128_felt(ch);
    F128 zn = z;
    for (uint32_t k = 0; k < l.log_n; ++k) zn = zn.square();
    F128 w = z * lde_offset().inverse();
    for (uint32_t k = 0; k < l.log_lde; ++k) w = w.square();
    if (zn != F128::one() && w != F128::one() && !z.is_zero()) return z;
  }
}

// The sample points: [0] = zeta, [1 + k] = w_{2^k} zeta for k <= log_n.
inline std::vector<F128> sample_points(F128 z, uint32_t log_n) {
  std::vector<F128> p = {z};
  for (uint32_t k = 0; k <= log_n; ++k) p.push_back(z * F128::primitive_root_of_unity(k));
  return p;
}

// One FRI fold of the pair (a at x, b at -x).
inline F128 fri_fold(F128 a, F128 b, F128 x_inverse, F128 beta) { return fri::CosetSpec::fold_pair(a, b, x_inverse, beta); }

inline hash::Blake2b256Hash pow_hash(const hash::Blake2b256Hash& digest, uint32_t pow_bits, uint64_t nonce) {
  uint8_t msg[4 + 32 + 4 + 8];
  const uint32_t magic = 0x12345678u;
  for (int i = 0; i < 4; ++i) msg[i] = static_cast<uint8_t>(magic >> (8 * i));
  for (int i = 0; i < 32; ++i) msg[4 + i] = digest.bytes[i];
  for (int i = 0; i < 4; ++i) msg[36 + i] = static_cast<uint8_t>(pow_bits >> (8 * i));
  for (int i = 0; i < 8; ++i) msg[40 + i] = static_cast<uint8_t>(nonce >> (8 * i));
  hash::Blake2b h(32);
  h.update(msg, sizeof msg);
  hash::Blake2b256Hash out;
  h.finalize(std::span<uint8_t>(out.bytes));
  return out;
}
inline bool pow_ok(const hash::Blake2b256Hash& h, uint32_t pow_bits) {
  uint32_t zeros = 0;
  for (int i = 0; i < 16 && zeros < pow_bits; ++i) {
    const uint8_t b = h.bytes[i];
    if (b == 0) {
      zeros += 8;
      continue;
    }
    uint32_t t = 0;
    while (((b >> t) & 1) == 0) ++t;
    zeros += t;
    break;
  }
  return zeros >= pow_bits;
}

}  // namespace ptvm::stark128::detail
