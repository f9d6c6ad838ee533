#include "ptvm/stark/verifier.hpp"

#include <algorithm>
#include <map>

#include "layout.hpp"
#include "ptvm/backend.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/stark/fri_math.hpp"
#include "ptvm/stark/line_poly.hpp"
#include "ptvm/fri/circle_spec.hpp"
#include "ptvm/fri/fri.hpp"
#include "ptvm/pcs/pcs.hpp"

namespace ptvm::stark {
namespace {

using detail::pair_positions;
using detail::shifted_positions;

using detail::StarkLayout;

struct Rejection {
  std::string reason;
};
[[noreturn]] void reject(std::string why) { throw Rejection{std::move(why)}; }

const char* tree_name(size_t t) {
  switch (t) {
    case kPreprocessedTree: return "preprocessed";
    case kMainTree: return "main";
    case kInteractionTree: return "interaction";
    default: return "composition";
  }
}

Verdict verify_impl(const air::Air& air, std::span<const M31> public_inputs, const StarkProof& proof,
                    const Profile& expected, std::optional<hash::Blake2sHash> preprocessed_root) {
  if (!(proof.profile == expected))
    reject("profile mismatch: proof uses '" + proof.profile.name + "', verifier requires '" + expected.name + "'");
  StarkLayout layout;
  try {
    layout = detail::make_layout(air, expected, public_inputs.size());
  } catch (const Error& e) {
    reject(std::string("invalid statement: ") + e.what());
  }
  for (M31 v : public_inputs)
    if (v.v >= M31::P) reject("non-canonical public input");
  const size_t n_comp = air.components.size();
  // ---- shape
  if (proof.claimed_sums.size() != n_comp)
    reject("claimed_sums: " + std::to_string(proof.claimed_sums.size()) + " values for " + std::to_string(n_comp) + " components");
  for (size_t t = 0; t < kNumTrees; ++t) {
    if (proof.sampled_values[t].size() != layout.tree_columns[t].size())
      reject(std::string("sampled_values[") + tree_name(t) + "]: " + std::to_string(proof.sampled_values[t].size()) +
             " columns, expected " + std::to_string(layout.tree_columns[t].size()));
    for (const auto& col : proof.sampled_values[t])
      if (col.size() != layout.n_samples(t))
        reject(std::string("sampled_values[") + tree_name(t) + "]: wrong number of samples");
  }
  if (proof.fri.inner_layers.size() != layout.n_inner_layers)
    reject("fri: " + std::to_string(proof.fri.inner_layers.size()) + " inner layers, expected " + std::to_string(layout.n_inner_layers));
  if (proof.fri.last_layer_poly.size() != (size_t{1} << expected.log_last_layer_degree_bound))
    reject("fri: last layer has " + std::to_string(proof.fri.last_layer_poly.size()) + " coefficients, expected " +
           std::to_string(size_t{1} << expected.log_last_layer_degree_bound));

  // ---- LogUp sums
  QM31 logup_total;
  for (size_t c = 0; c < n_comp; ++c) {
    if (air.components[c]->shape().n_fractions == 0 && !proof.claimed_sums[c].is_zero())
      reject("LogUp: component '" + air.components[c]->info().name + "' has no fractions but a non-zero claimed sum");
    logup_total += proof.claimed_sums[c];
  }

  // ---- channel replay
  hash::Blake2sChannel channel;
  detail::mix_profile(channel, expected);
  // The preprocessed root is taken from the proof here and checked against the AIR last: its
  // recomputation (an LDE and Merkle commit of every preprocessed column) is the one verifier
  // cost that grows with the claimed trace size, so a forged proof must first pass every cheap
  // check (transcript, PoW, Merkle paths, DEEP, FRI) before it can make the verifier pay for it.
  channel.mix_root(proof.commitments[kPreprocessedTree]);
  detail::mix_statement(channel, air, public_inputs);
  channel.mix_root(proof.commitments[kMainTree]);
  const std::vector<air::RelationChallenges> challenges = detail::draw_relation_challenges(channel, air);
  if (air.public_logup_sum) logup_total += air.public_logup_sum(challenges, public_inputs);
  if (!logup_total.is_zero()) reject("LogUp: the claimed sums and public terms do not sum to zero");
  channel.mix_felts(proof.claimed_sums);
  channel.mix_root(proof.commitments[kInteractionTree]);
  const QM31 alpha_c = channel.draw_felt();
  channel.mix_root(proof.commitments[kCompositionTree]);
  const circle::CirclePoint<QM31> P = circle::point_from_t(channel.draw_felt());
  if (!P.is_on_circle() || P.y.x1.is_zero()) reject("degenerate OODS point");

  // ---- composition at the OODS point (DEEP-ALI)
  {
    const std::vector<QM31> coefficients = detail::constraint_coefficients(alpha_c, layout.n_constraints);
    QM31 expected_value;
    size_t pre_at = 0, main_at = 0, inter_at = 0;
    for (size_t c = 0; c < n_comp; ++c) {
      const air::Component& comp = *air.components[c];
      const auto& shape = comp.shape();
      air::PointSamples s;
      auto take = [&](size_t tree, size_t& at, size_t count, std::vector<QM31>& dst) {
        for (size_t k = 0; k < count; ++k, ++at)
          for (const QM31& v : proof.sampled_values[tree][at]) dst.push_back(v);
      };
      take(kPreprocessedTree, pre_at, shape.n_committed_preprocessed, s.preprocessed);
      // The succinct columns (row selectors), evaluated here at P and P + step.
      const circle::CirclePoint<QM31> P_next = P + circle::lift(circle::CanonicCoset{comp.log_rows()}.step());
      for (const air::SuccinctColumn& sc : shape.succinct) {
        s.preprocessed.push_back(air::succinct_column_at(comp.log_rows(), sc, P));
        s.preprocessed.push_back(air::succinct_column_at(comp.log_rows(), sc, P_next));
      }
      take(kMainTree, main_at, comp.info().n_main_columns, s.main);
      take(kInteractionTree, inter_at, shape.n_interaction_columns(), s.interaction);
      QM31 v = comp.composition_at_point(
          s, public_inputs, challenges,
          std::span<const QM31>(coefficients).subspan(layout.constraint_offset[c], shape.n_constraints()),
          proof.claimed_sums[c]);
      QM31 vanishing = circle::canonic_vanishing(comp.log_rows(), P);
      if (vanishing.is_zero()) reject("degenerate OODS point (vanishing polynomial is zero)");
      expected_value += v * vanishing.inverse();
    }
    QM31 claimed = detail::composition_from_parts(layout, proof.sampled_values[kCompositionTree], P);
    if (claimed != expected_value)
      reject("OODS: the composition polynomial does not match the constraints at the OODS point");
  }
  {
    std::vector<QM31> flat;
    for (size_t t = 0; t < kNumTrees; ++t)
      for (const auto& col : proof.sampled_values[t]) flat.insert(flat.end(), col.begin(), col.end());
    channel.mix_felts(flat);
  }
  const QM31 alpha_q = channel.draw_felt();

  // ---- FRI commitments and challenges
  std::vector<hash::Blake2sHash> fri_roots = {proof.fri.first_layer.commitment};
  for (const auto& l : proof.fri.inner_layers) fri_roots.push_back(l.commitment);
  const std::vector<QM31> fri_alphas = fri::replay_commit_phase<fri::CircleSpec>(
      channel, std::span<const hash::Blake2sHash>(fri_roots), true, std::span<const QM31>(proof.fri.last_layer_poly));
  if (!channel.check_pow(proof.proof_of_work, expected.pow_bits)) reject("proof of work does not have enough zero bits");
  channel.mix_u64(proof.proof_of_work);
  const std::vector<size_t> queries = detail::draw_query_positions(channel, layout);

  // ---- PCS openings
  std::array<std::vector<std::vector<M31>>, kNumTrees> opened;  // [tree][column][k]
  for (size_t t = 0; t < kNumTrees; ++t) {
    const auto logs = layout.commitment_log_sizes(t);
    const hash::QueriesPerLogSize tree_queries = pcs::tree_queries(queries, layout.first_layer_log, logs);
    if (auto why = pcs::verify_opening<fri::CircleSpec, M31>(proof.commitments[t], logs, tree_queries,
                                                              proof.queried_values[t], proof.decommitments[t],
                                                              std::string("tree ") + tree_name(t), &opened[t]))
      reject(*why);
  }

  // ---- DEEP answers and the first FRI layer
  const size_t n_quot = layout.quotient_log_sizes.size();
  std::vector<std::map<size_t, QM31>> quotient_pairs(n_quot);
  {
    std::vector<M31> merkle_values;
    size_t witness_used = 0;
    const std::span<const QM31> witness(proof.fri.first_layer.fri_witness);
    for (size_t k = 0; k < n_quot; ++k) {
      const uint32_t L = layout.quotient_log_sizes[k];
      const auto positions = shifted_positions(queries, layout.first_layer_log - L);
      const auto batches = detail::deep_batches(layout, L, P, proof.sampled_values, alpha_q);
      std::vector<QM31> answers;
      for (size_t pi = 0; pi < positions.size(); ++pi) {
        const auto q = detail::bitrev_domain_point(L, positions[pi]);
        const std::optional<QM31> answer = pcs::deep_combine<QM31>(
            std::span<const detail::DeepBatchLayout>(batches),
            [&](const detail::DeepBatchLayout& b) { return b.coefficients.denominator(q.x, q.y); },
            [&](const detail::DeepBatchLayout& b) {
              return b.coefficients.numerator(q.y, [&](size_t i) {
                const auto& dc = b.columns[i];
                // The column's log size equals L here, so its k-th opened value is at position index pi.
                return opened[dc.tree][dc.column][pi];
              });
            },
            [](const detail::DeepBatchLayout& b) { return b.coefficients.alpha_pow_m; });
        if (!answer) reject("DEEP: a query hits the OODS line");
        answers.push_back(*answer);
      }
      if (auto why = fri::pairs_from_witness<QM31>(positions, answers, witness, witness_used, quotient_pairs[k],
                                                   "fri first layer"))
        reject(*why);
      for (size_t p : fri::pair_positions(positions)) fri::CircleSpec::append_leaf_values(quotient_pairs[k][p], merkle_values);
    }
    if (witness_used != proof.fri.first_layer.fri_witness.size()) reject("fri first layer: FRI witness too long");
    hash::QueriesPerLogSize q;
    std::vector<uint32_t> logs;
    for (size_t k = 0; k < n_quot; ++k) {
      const uint32_t L = layout.quotient_log_sizes[k];
      q[L] = pair_positions(shifted_positions(queries, layout.first_layer_log - L));
      for (uint32_t log : fri::CircleSpec::leaf_column_log_sizes(L)) logs.push_back(log);
    }
    if (auto why = pcs::verify_opening<fri::CircleSpec, M31>(proof.fri.first_layer.commitment, logs, q, merkle_values,
                                                              proof.fri.first_layer.decommitment, "fri first layer",
                                                              nullptr))
      reject(*why);
  }

  // ---- FRI query phase: the first layer's pairs are the DEEP answers above; inner layer i is
  // opened from the folded values and its witness; smaller quotients enter where their folded
  // size is reached; the last layer is the polynomial in the proof.
  struct CircleLayers {
    const StarkProof& proof;
    const StarkLayout& layout;
    std::vector<std::map<size_t, QM31>>& quotient_pairs;
    size_t next_quotient = 1;
    std::optional<std::string> open(size_t i, const fri::CircleSpec::Domain& domain, const std::vector<size_t>& positions,
                                    const std::vector<QM31>& values, std::map<size_t, QM31>& pairs) {
      if (i == 0) {
        for (size_t p : pair_positions(positions))
          if (!quotient_pairs[0].count(p)) return std::string("fri: missing first-layer pair");
        pairs = quotient_pairs[0];
        return std::nullopt;
      }
      const auto& layer = proof.fri.inner_layers[i - 1];
      return pcs::open_layer_with_siblings<fri::CircleSpec>(
          layer.commitment, domain.log_size(), positions, values, layer.fri_witness, layer.decommitment,
          "fri layer " + std::to_string(i - 1), pairs);
    }
    const std::map<size_t, QM31>* entering(size_t i, const fri::CircleSpec::Domain& next_domain,
                                           fri::CircleSpec::Domain& column_domain) {
      if (i == 0 || next_quotient >= quotient_pairs.size()) return nullptr;
      const uint32_t L = layout.quotient_log_sizes[next_quotient];
      if (L - 1 != next_domain.log_size()) return nullptr;
      column_domain = fri::CircleSpec::Domain::circle_domain(L);
      return &quotient_pairs[next_quotient++];
    }
    std::optional<std::string> check_last_layer(const fri::CircleSpec::Domain& domain, const std::vector<size_t>& positions,
                                                const std::vector<QM31>& values) {
      if (next_quotient != quotient_pairs.size()) return std::string("fri: a quotient column was never folded in");
      for (size_t j = 0; j < positions.size(); ++j)
        if (line_evaluate(proof.fri.last_layer_poly, QM31(domain.x_at(positions[j]))) != values[j])
          return "fri last layer: folded value at query " + std::to_string(j) +
                 " does not match the last-layer polynomial";
      return std::nullopt;
    }
  } layers{proof, layout, quotient_pairs};
  {
    std::vector<QM31> first_values;
    for (size_t p : queries) first_values.push_back(quotient_pairs[0].at(p));
    if (auto why = fri::verify_query_phase<fri::CircleSpec>(fri::CircleSpec::Domain::circle_domain(layout.first_layer_log),
                                                            queries, first_values, std::span<const QM31>(fri_alphas), layers))
      reject(*why);
  }

  // ---- the preprocessed columns, last (see above)
  const hash::Blake2sHash pre_root = preprocessed_root ? *preprocessed_root : preprocessed_commitment(air, expected);
  if (proof.commitments[kPreprocessedTree] != pre_root) reject("preprocessed commitment does not match the AIR");
  std::vector<size_t> first_pairs = shifted_positions(queries, 1);
  return Verdict{true, "", static_cast<uint32_t>(first_pairs.size())};
}

}  // namespace

hash::Blake2sHash preprocessed_commitment(const air::Air& air, const Profile& profile) {
  auto backend = make_cpu_backend();
  std::vector<Evaluations> ext;
  for (const auto& comp : air.components)
    ext.push_back(backend->evaluate(backend->interpolate(backend->upload_rows(comp->committed_preprocessed_columns())),
                                    profile.log_blowup));
  return backend->commit(std::vector<EvaluationsRef>(ext.begin(), ext.end()))->root();
}

Verdict verify(const air::Air& air, std::span<const M31> public_inputs, const StarkProof& proof, const Profile& expected,
               std::optional<hash::Blake2sHash> preprocessed_root) {
  try {
    return verify_impl(air, public_inputs, proof, expected, preprocessed_root);
  } catch (const Rejection& r) {
    return Verdict{false, r.reason};
  } catch (const std::exception& e) {
    return Verdict{false, std::string("rejected: ") + e.what()};
  } catch (...) {
    return Verdict{false, "rejected: unknown error"};
  }
}

}  // namespace ptvm::stark
