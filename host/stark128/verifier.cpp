// The F128 STARK verifier. Protocol: ptvm/stark128/stark128.hpp. Never throws on a proof.
#include <algorithm>
#include <map>

#include "protocol.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/hash/blake2b_channel_f128.hpp"
#include "ptvm/ntt/ntt.hpp"

namespace ptvm::stark128 {
namespace {

using Tree = hash::Blake2bMerkleTree<F128>;
using MerkleVerifier = hash::Blake2bMerkleVerifier<F128>;

std::vector<size_t> pair_positions(const std::vector<size_t>& pairs) {
  std::vector<size_t> out;
  for (size_t q : pairs) {
    out.push_back(2 * q);
    out.push_back(2 * q + 1);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Checks one tree opening; on success `rows` maps each position to its row of values.
std::optional<std::string> check_opening(const char* what, const Hash& root, uint32_t n_columns, uint32_t log_size,
                                         const std::vector<size_t>& positions, const TreeOpening& o,
                                         std::map<size_t, const F128*>& rows) {
  if (o.values.size() != positions.size() * n_columns)
    return std::string(what) + ": " + std::to_string(o.values.size()) + " opened values, expected " +
           std::to_string(positions.size() * n_columns);
  hash::QueriesPerLogSize q;
  q[log_size] = positions;
  MerkleVerifier v(root, std::vector<uint32_t>(n_columns, log_size));
  if (auto why = v.verify(q, o.values, o.decommitment)) return std::string(what) + " opening: " + *why;
  for (size_t i = 0; i < positions.size(); ++i) rows[positions[i]] = o.values.data() + i * n_columns;
  return std::nullopt;
}

Verdict reject(std::string why) { return {false, std::move(why)}; }

Verdict verify_impl(const Air128& air, std::span<const F128> pub, const Options& options, const Proof& proof) {
  detail::Layout l;
  if (auto why = detail::make_layout(air, options, l)) return reject("options: " + *why);
  if (pub.size() != air.n_public_inputs) return reject("wrong number of public inputs");
  const size_t n_comp = air.components.size();
  const size_t nb = size_t{1} << l.log_lde;
  if (proof.claimed_sums.size() != n_comp) return reject("claimed_sums: wrong count");
  if (proof.sampled_values.size() != l.samples.size()) return reject("sampled_values: wrong count");
  if (proof.fri_roots.size() != l.n_fri_folds - 1 || proof.fri_layers.size() != l.n_fri_folds - 1)
    return reject("fri: wrong number of layers");

  hash::Blake2bChannel ch;
  detail::mix_header(ch, air, pub, options);

  // Preprocessed columns: recomputed (their LDE values are read at the query positions).
  std::vector<std::vector<F128>> pre_lde;
  for (const auto& comp : air.components)
    for (const auto& col : comp->preprocessed_columns()) {
      std::vector<F128> coeffs(col.size()), values(nb);
      ntt::coset_interpolate_natural(col, coeffs, F128::one());
      ntt::coset_evaluate_natural(coeffs, values, detail::lde_offset());
      std::vector<F128> br(nb);
      for (size_t i = 0; i < nb; ++i) br[detail::bit_reverse(i, l.log_lde)] = values[i];
      pre_lde.push_back(std::move(br));
    }
  {
    std::vector<std::span<const F128>> s;
    for (const auto& c : pre_lde) s.emplace_back(c);
    ch.mix_root(Tree::commit(s).root());
  }
  ch.mix_root(proof.main_root);
  const std::vector<RelationChallenges128> challenges = detail::draw_relation_challenges(ch, air);
  F128 total = F128::zero();
  for (size_t c = 0; c < n_comp; ++c) {
    if (air.components[c]->shape().n_batches == 0 && !proof.claimed_sums[c].is_zero())
      return reject("claimed sum of a component without LogUp fractions");
    total += proof.claimed_sums[c];
  }
  if (!total.is_zero()) return reject("LogUp: the claimed sums do not add up to zero");
  ch.mix_felts(std::span<const F128>(proof.claimed_sums));
  ch.mix_root(proof.interaction_root);
  const F128 lambda = hash::draw_f128_felt(ch);
  const std::vector<F128> coeffs = detail::powers(lambda, l.n_constraints_total);
  ch.mix_root(proof.composition_root);
  const F128 zeta = detail::draw_oods_point(ch, l);
  const std::vector<F128> points = detail::sample_points(zeta, l.log_n);

  // The AIR at zeta against the composition's pieces.
  {
    const size_t base[3] = {0, 2 * size_t{l.tree_columns[0]}, 2 * size_t{l.tree_columns[0] + l.tree_columns[1]}};
    F128 sum = F128::zero();
    for (size_t c = 0; c < n_comp; ++c) {
      const auto& comp = *air.components[c];
      const F128* sv = proof.sampled_values.data();
      const F128 value = comp.eval_point(sv + base[0] + 2 * l.pre_offset[c], sv + base[1] + 2 * l.main_offset[c],
                                         sv + base[2] + 2 * l.inter_offset[c], pub, challenges.data(),
                                         coeffs.data() + l.constraint_offset[c],
                                         sum_per_row(proof.claimed_sums[c], comp.log_rows()));
      F128 zn = zeta;
      for (uint32_t k = 0; k < comp.log_rows(); ++k) zn = zn.square();
      sum += value * (zn - F128::one()).inverse();
    }
    F128 zn = zeta;
    for (uint32_t k = 0; k < l.log_n; ++k) zn = zn.square();
    const size_t h = proof.sampled_values.size() - 2;
    if (sum != proof.sampled_values[h] + zn * proof.sampled_values[h + 1])
      return reject("OODS: the constraints at the out-of-domain point disagree with the composition polynomial");
  }
  ch.mix_felts(std::span<const F128>(proof.sampled_values));
  const F128 gamma = hash::draw_f128_felt(ch);
  const std::vector<F128> gp = detail::powers(gamma, l.samples.size());
  std::vector<F128> betas;
  for (uint32_t i = 0; i < l.n_fri_folds; ++i) {
    if (i > 0) ch.mix_root(proof.fri_roots[i - 1]);
    betas.push_back(hash::draw_f128_felt(ch));
  }
  ch.mix_felts(std::span<const F128>(&proof.fri_last, 1));
  if (!detail::pow_ok(detail::pow_hash(ch.digest(), options.pow_bits, proof.pow_nonce), options.pow_bits))
    return reject("proof of work: the nonce does not reach " + std::to_string(options.pow_bits) + " bits");
  ch.mix_u64(proof.pow_nonce);
  const std::vector<size_t> qs = ch.draw_queries(l.log_lde - 1, options.num_colinearity_checks);
  const std::vector<size_t> positions = pair_positions(qs);

  std::map<size_t, const F128*> rows[3];
  if (auto why = check_opening("main", proof.main_root, l.tree_columns[1], l.log_lde, positions, proof.main, rows[0]))
    return reject(*why);
  if (l.tree_columns[2] == 0) {
    if (!proof.interaction.values.empty() || !proof.interaction.decommitment.hash_witness.empty() ||
        !proof.interaction.decommitment.column_witness.empty())
      return reject("interaction: an opening for an AIR without LogUp columns");
  } else if (auto why = check_opening("interaction", proof.interaction_root, l.tree_columns[2], l.log_lde, positions,
                                      proof.interaction, rows[1])) {
    return reject(*why);
  }
  if (auto why = check_opening("composition", proof.composition_root, 2, l.log_lde, positions, proof.composition,
                               rows[2]))
    return reject(*why);
  std::vector<std::map<size_t, const F128*>> layer_rows(l.n_fri_folds);
  for (uint32_t i = 1; i < l.n_fri_folds; ++i) {
    std::vector<size_t> lp;
    for (size_t q : qs) lp.push_back(q >> i);
    if (auto why = check_opening(("fri layer " + std::to_string(i)).c_str(), proof.fri_roots[i - 1], 1,
                                 l.log_lde - i, pair_positions(lp), proof.fri_layers[i - 1], layer_rows[i]))
      return reject(*why);
  }

  // F0 at a position from the opened rows.
  auto deep_at = [&](size_t pos) {
    const F128 x = detail::domain_point(l.log_lde, 0, pos);
    std::vector<F128> numer(points.size(), F128::zero());
    for (size_t k = 0; k < l.samples.size(); ++k) {
      const auto& s = l.samples[k];
      const F128 value = s.tree == 0 ? pre_lde[s.column][pos] : rows[s.tree - 1][pos][s.column];
      numer[s.point] += gp[k] * (value - proof.sampled_values[k]);
    }
    F128 out = F128::zero();
    for (size_t p = 0; p < points.size(); ++p)
      if (!numer[p].is_zero()) out += numer[p] * (x - points[p]).inverse();
    return out;
  };
  for (size_t q : qs) {
    const F128 x_inv = detail::domain_point(l.log_lde, 0, 2 * q).inverse();
    F128 value = detail::fri_fold(deep_at(2 * q), deep_at(2 * q + 1), x_inv, betas[0]);
    for (uint32_t i = 1; i < l.n_fri_folds; ++i) {
      const size_t j = q >> i;
      const auto& lr = layer_rows[i];
      const F128 a = lr.at(2 * j)[0], b = lr.at(2 * j + 1)[0];
      if ((((q >> (i - 1)) & 1) ? b : a) != value)
        return reject("fri layer " + std::to_string(i) + ": the folded value of query " + std::to_string(q) +
                      " disagrees with the committed layer");
      value = detail::fri_fold(a, b, detail::domain_point(l.log_lde - i, i, 2 * j).inverse(), betas[i]);
    }
    if (value != proof.fri_last)
      return reject("fri: query " + std::to_string(q) + " does not fold to the last layer's constant");
  }
  return {true, ""};
}

}  // namespace

Verdict verify(const Air128& air, std::span<const F128> pub, const Options& options, const Proof& proof) {
  try {
    return verify_impl(air, pub, options, proof);
  } catch (const std::exception& e) {
    return reject(std::string("verifier error: ") + e.what());
  }
}

}  // namespace ptvm::stark128
