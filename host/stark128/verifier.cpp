// The F128 STARK verifier. Protocol: ptvm/stark128/stark128.hpp. Never throws on a proof.
#include <algorithm>
#include <map>

#include "protocol.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/fri/coset_spec.hpp"
#include "ptvm/fri/fri.hpp"
#include "ptvm/pcs/pcs.hpp"
#include "ptvm/hash/blake2b_channel_f128.hpp"
#include "ptvm/ntt/ntt.hpp"

namespace ptvm::stark128 {
namespace {

using Tree = hash::Blake2bMerkleTree<F128>;

// Checks one tree opening (ptvm/pcs/pcs.hpp); on success `columns` holds each column's values at
// the positions.
std::optional<std::string> check_opening(const std::string& what, const Hash& root, uint32_t n_columns, uint32_t log_size,
                                         const std::vector<size_t>& positions, const TreeOpening& o,
                                         std::vector<std::vector<F128>>* columns) {
  hash::QueriesPerLogSize q;
  q[log_size] = positions;
  return pcs::verify_opening<fri::CosetSpec, F128>(root, std::vector<uint32_t>(n_columns, log_size), q, o.values,
                                                    o.decommitment, what, columns, pcs::OpeningWords{"opened", " opening: "});
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
  const std::vector<F128> betas = fri::replay_commit_phase<fri::CosetSpec>(
      ch, std::span<const Hash>(proof.fri_roots), false, std::span<const F128>(&proof.fri_last, 1));
  if (!detail::pow_ok(detail::pow_hash(ch.digest(), options.pow_bits, proof.pow_nonce), options.pow_bits))
    return reject("proof of work: the nonce does not reach " + std::to_string(options.pow_bits) + " bits");
  ch.mix_u64(proof.pow_nonce);
  const std::vector<size_t> qs = ch.draw_queries(l.log_lde - 1, options.num_colinearity_checks);
  const std::vector<size_t> positions = detail::query_pair_positions(qs);

  // The trace trees at both members of each queried F0 pair; columns[tree - 1][column][index of
  // the position in `positions`].
  std::vector<std::vector<F128>> columns[3];
  if (auto why = check_opening("main", proof.main_root, l.tree_columns[1], l.log_lde, positions, proof.main, &columns[0]))
    return reject(*why);
  if (l.tree_columns[2] == 0) {
    if (!proof.interaction.values.empty() || !proof.interaction.decommitment.hash_witness.empty() ||
        !proof.interaction.decommitment.column_witness.empty())
      return reject("interaction: an opening for an AIR without LogUp columns");
  } else if (auto why = check_opening("interaction", proof.interaction_root, l.tree_columns[2], l.log_lde, positions,
                                      proof.interaction, &columns[1])) {
    return reject(*why);
  }
  if (auto why = check_opening("composition", proof.composition_root, 2, l.log_lde, positions, proof.composition,
                               &columns[2]))
    return reject(*why);

  // F0 at the queried pairs, the DEEP quotient from the opened rows: one batch per sample point,
  // its numerator sum_k gamma^k (f_k(x) - v_k) over the point's samples.
  struct PointBatch {
    size_t point;
    std::vector<size_t> samples;
  };
  std::vector<PointBatch> batches;
  {
    std::vector<std::vector<size_t>> by_point(points.size());
    for (size_t k = 0; k < l.samples.size(); ++k) by_point[l.samples[k].point].push_back(k);
    for (size_t p = 0; p < points.size(); ++p)
      if (!by_point[p].empty()) batches.push_back({p, std::move(by_point[p])});
  }
  std::vector<F128> f0;
  for (size_t pi = 0; pi < positions.size(); ++pi) {
    const size_t pos = positions[pi];
    const F128 x = detail::domain_point(l.log_lde, 0, pos);
    const std::optional<F128> value = pcs::deep_combine<F128>(
        std::span<const PointBatch>(batches), [&](const PointBatch& b) { return x - points[b.point]; },
        [&](const PointBatch& b) {
          F128 numer = F128::zero();
          for (size_t k : b.samples) {
            const auto& s = l.samples[k];
            const F128 v = s.tree == 0 ? pre_lde[s.column][pos] : columns[s.tree - 1][s.column][pi];
            numer += gp[k] * (v - proof.sampled_values[k]);
          }
          return numer;
        },
        [](const PointBatch&) { return F128::one(); });
    if (!value) return reject("DEEP: a query position is a sample point");
    f0.push_back(*value);
  }

  // FRI's query phase (ptvm/fri/fri.hpp): F0's pairs are the DEEP values above; layer i >= 1 is
  // opened in whole pairs, each queried value checked against the opened one.
  struct CosetLayers {
    const Proof& proof;
    const std::vector<size_t>& qs;
    std::optional<std::string> open(size_t i, const fri::CosetSpec::Domain& domain, const std::vector<size_t>& positions,
                                    const std::vector<F128>& values, std::map<size_t, F128>& pairs) {
      if (i == 0) {
        for (size_t j = 0; j < positions.size(); ++j) pairs[positions[j]] = values[j];
        return std::nullopt;
      }
      const std::string what = "fri layer " + std::to_string(i);
      const TreeOpening& o = proof.fri_layers[i - 1];
      return pcs::open_layer_whole_pairs<fri::CosetSpec>(
          proof.fri_roots[i - 1], domain.log_size(), positions, values, o.values, o.decommitment, what,
          pcs::OpeningWords{"opened", " opening: "}, pairs, [&](size_t bad) {
            size_t query = 0;
            for (size_t q : qs)
              if ((q >> (i - 1)) == bad) {
                query = q;
                break;
              }
            return what + ": the folded value of query " + std::to_string(query) + " disagrees with the committed layer";
          });
    }
    const std::map<size_t, F128>* entering(size_t, const fri::CosetSpec::Domain&, fri::CosetSpec::Domain&) {
      return nullptr;
    }
    std::optional<std::string> check_last_layer(const fri::CosetSpec::Domain&, const std::vector<size_t>& positions,
                                                const std::vector<F128>& values) {
      for (size_t j = 0; j < positions.size(); ++j)
        if (values[j] != proof.fri_last) {
          size_t query = 0;
          for (size_t q : qs)
            if ((q >> (l_folds - 1)) == positions[j]) {
              query = q;
              break;
            }
          return "fri: query " + std::to_string(query) + " does not fold to the last layer's constant";
        }
      return std::nullopt;
    }
    uint32_t l_folds;
  } layers{proof, qs, l.n_fri_folds};
  if (auto why = fri::verify_query_phase<fri::CosetSpec>(fri::CosetSpec::Domain{l.log_lde, 0}, positions, f0,
                                                         std::span<const F128>(betas), layers))
    return reject(*why);
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
