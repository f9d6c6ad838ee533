// The F128 STARK prover, written against Backend128 (ptvm/stark128/backend.hpp; the CPU reference
// when none is given). Protocol: ptvm/stark128/stark128.hpp.
#include <algorithm>
#include <chrono>
#include <utility>

#include "protocol.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/fri/coset_spec.hpp"
#include "ptvm/fri/fri.hpp"
#include "ptvm/field/batch_inverse.hpp"
#include "ptvm/hash/blake2b_channel_f128.hpp"
#include "ptvm/stark128/backend.hpp"

namespace ptvm::stark128 {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

Proof prove(const Air128& air, const Witness& witness, std::span<const F128> pub, const Options& options,
            Timings* timings, Backend128* backend) {
  const auto t_start = Clock::now();
  detail::Layout l;
  if (auto why = detail::make_layout(air, options, l)) throw Error(ErrorCategory::Usage, "stark128::prove: " + *why);
  if (witness.size() != air.components.size())
    throw Error(ErrorCategory::Usage, "stark128::prove: witness has " + std::to_string(witness.size()) +
                                          " components, the AIR " + std::to_string(air.components.size()));
  if (pub.size() != air.n_public_inputs) throw Error(ErrorCategory::Usage, "stark128::prove: wrong number of public inputs");
  const size_t n_comp = air.components.size();
  for (size_t c = 0; c < n_comp; ++c) {
    const auto& comp = *air.components[c];
    if (witness[c].size() != comp.info().n_main_columns)
      throw Error(ErrorCategory::Usage, "stark128::prove: component '" + comp.info().name + "': wrong number of main columns");
    for (const auto& col : witness[c])
      if (col.size() != (size_t{1} << comp.log_rows()))
        throw Error(ErrorCategory::Usage, "stark128::prove: component '" + comp.info().name + "': column of wrong length");
  }

  std::unique_ptr<Backend128> own_backend;
  if (!backend) {
    own_backend = make_cpu_backend128();
    backend = own_backend.get();
  }
  Backend128& be = *backend;

  Proof proof;
  hash::Blake2bChannel ch;
  detail::mix_header(ch, air, pub, options);

  // 1. Preprocessed and main columns.
  auto t = Clock::now();
  std::vector<std::vector<std::vector<F128>>> pre_rows(n_comp);
  std::vector<const std::vector<F128>*> pre_ptrs, main_ptrs;
  for (size_t c = 0; c < n_comp; ++c) {
    pre_rows[c] = air.components[c]->preprocessed_columns();
    for (const auto& col : pre_rows[c]) pre_ptrs.push_back(&col);
    for (const auto& col : witness[c]) main_ptrs.push_back(&col);
  }
  const std::unique_ptr<Columns128> pre_coeffs = be.interpolate_rows(pre_ptrs);
  const std::unique_ptr<Columns128> pre = be.extend(*pre_coeffs, l.log_lde);
  const std::unique_ptr<Columns128> main_coeffs = be.interpolate_rows(main_ptrs);
  const std::unique_ptr<Columns128> main = be.extend(*main_coeffs, l.log_lde);
  const std::unique_ptr<Tree128> pre_tree = be.commit({pre.get()});
  ch.mix_root(pre_tree->root());
  const std::unique_ptr<Tree128> main_tree = be.commit({main.get()});
  proof.main_root = main_tree->root();
  ch.mix_root(proof.main_root);
  if (timings) timings->commit_ms = ms_since(t);

  // 2. LogUp interaction (on the host, from the rows).
  t = Clock::now();
  const std::vector<RelationChallenges128> challenges = detail::draw_relation_challenges(ch, air);
  std::vector<std::vector<F128>> inter_rows;
  for (size_t c = 0; c < n_comp; ++c) {
    const auto& comp = *air.components[c];
    const uint32_t nbatch = comp.shape().n_batches;
    const size_t rows = size_t{1} << comp.log_rows();
    if (nbatch == 0) {
      proof.claimed_sums.push_back(F128::zero());
      continue;
    }
    std::vector<const F128*> pre_ptr, main_ptr;
    for (const auto& col : pre_rows[c]) pre_ptr.push_back(col.data());
    for (const auto& col : witness[c]) main_ptr.push_back(col.data());
    std::vector<F128> num(rows * nbatch), den(rows * nbatch), inv(rows * nbatch);
    for (size_t r = 0; r < rows; ++r)
      comp.row_batches(pre_ptr.data(), main_ptr.data(), challenges.data(), r, num.data() + r * nbatch,
                       den.data() + r * nbatch);
    for (size_t i = 0; i < den.size(); ++i)
      if (den[i].is_zero())
        throw Error(ErrorCategory::Internal, "stark128::prove: component '" + comp.info().name +
                                                 "': a LogUp denominator is zero at row " + std::to_string(i / nbatch));
    batch_inverse_raw(den.data(), inv.data(), inv.data(), den.size());
    std::vector<std::vector<F128>> cols(nbatch, std::vector<F128>(rows));
    std::vector<F128> totals(rows);
    F128 sum = F128::zero();
    for (size_t r = 0; r < rows; ++r) {
      F128 total = F128::zero();
      for (uint32_t j = 0; j < nbatch; ++j) {
        const F128 v = num[r * nbatch + j] * inv[r * nbatch + j];
        if (j + 1 < nbatch) cols[j][r] = v;
        total += v;
      }
      totals[r] = total;
      sum += total;
    }
    const F128 spr = sum_per_row(sum, comp.log_rows());
    F128 running = F128::zero();
    for (size_t r = 0; r < rows; ++r) {
      cols[nbatch - 1][r] = running;
      running = running + totals[r] - spr;
    }
    proof.claimed_sums.push_back(sum);
    for (auto& col : cols) inter_rows.push_back(std::move(col));
  }
  std::unique_ptr<Columns128> inter_coeffs, inter;
  {
    std::vector<const std::vector<F128>*> ptrs;
    for (const auto& col : inter_rows) ptrs.push_back(&col);
    inter_coeffs = be.interpolate_rows(ptrs);
    inter = be.extend(*inter_coeffs, l.log_lde);
  }
  ch.mix_felts(std::span<const F128>(proof.claimed_sums));
  const std::unique_ptr<Tree128> inter_tree = be.commit({inter.get()});
  proof.interaction_root = inter_tree->root();
  ch.mix_root(proof.interaction_root);
  if (timings) timings->interaction_ms = ms_since(t);

  // 3. Composition.
  t = Clock::now();
  const F128 lambda = hash::draw_f128_felt(ch);
  const std::vector<F128> coeffs = detail::powers(lambda, l.n_constraints_total);
  CompositionInputs128 ci;
  ci.preprocessed = pre.get();
  ci.main = main.get();
  ci.interaction = inter.get();
  ci.pre_offset = l.pre_offset;
  ci.main_offset = l.main_offset;
  ci.inter_offset = l.inter_offset;
  ci.constraint_offset = l.constraint_offset;
  ci.public_inputs = pub;
  ci.challenges = challenges;
  ci.coefficients = coeffs;
  ci.claimed_sums = proof.claimed_sums;
  ci.log_lde = l.log_lde;
  const std::unique_ptr<Columns128> comp_coeffs = be.composition_parts(*be.composition(air, ci), l.log_n);
  const std::unique_ptr<Columns128> comp_cols = be.extend(*comp_coeffs, l.log_lde);
  const std::unique_ptr<Tree128> comp_tree = be.commit({comp_cols.get()});
  proof.composition_root = comp_tree->root();
  ch.mix_root(proof.composition_root);

  // 4. OODS.
  const F128 zeta = detail::draw_oods_point(ch, l);
  const std::vector<F128> points = detail::sample_points(zeta, l.log_n);
  const Columns128* coeff_sets[4] = {pre_coeffs.get(), main_coeffs.get(), inter_coeffs.get(), comp_coeffs.get()};
  const Columns128* lde_sets[4] = {pre.get(), main.get(), inter.get(), comp_cols.get()};
  {
    // One request list per tree, answered in sample order.
    std::vector<PointRequest128> requests[4];
    std::vector<size_t> where[4];
    for (size_t k = 0; k < l.samples.size(); ++k) {
      const auto& s = l.samples[k];
      requests[s.tree].push_back({s.column, points[s.point]});
      where[s.tree].push_back(k);
    }
    proof.sampled_values.assign(l.samples.size(), F128::zero());
    for (uint32_t tree = 0; tree < 4; ++tree) {
      if (requests[tree].empty()) continue;
      const std::vector<F128> v = be.evaluate_at_points(*coeff_sets[tree], requests[tree]);
      for (size_t i = 0; i < v.size(); ++i) proof.sampled_values[where[tree][i]] = v[i];
    }
  }
  ch.mix_felts(std::span<const F128>(proof.sampled_values));
  if (timings) timings->composition_ms = ms_since(t);

  // 5. DEEP quotient.
  t = Clock::now();
  const F128 gamma = hash::draw_f128_felt(ch);
  const std::vector<F128> gp = detail::powers(gamma, l.samples.size());
  std::vector<DeepSample128> deep;
  for (size_t k = 0; k < l.samples.size(); ++k) {
    const auto& s = l.samples[k];
    deep.push_back({lde_sets[s.tree], s.column, s.point, gp[k], proof.sampled_values[k]});
  }

  // 6. FRI (ptvm/fri/fri.hpp owns the order): F0 is not committed (the verifier computes it from
  // the trace openings); F_i, i >= 1, is committed before its fold.
  struct CosetLayers {
    Backend128& be;
    Proof& proof;
    std::unique_ptr<Columns128> current;
    std::vector<std::unique_ptr<Columns128>> layers;  // layers[i - 1] = F_i, i = 1 .. r - 1
    std::vector<std::unique_ptr<Tree128>> trees;
    Hash commit(uint32_t) {
      trees.push_back(be.commit({current.get()}));
      proof.fri_roots.push_back(trees.back()->root());
      return proof.fri_roots.back();
    }
    void fold(uint32_t i, const F128& beta) {
      std::unique_ptr<Columns128> next = be.fri_fold(*current, fri::CosetSpec::Domain{0, i}.offset(), beta);
      if (i > 0) layers.push_back(std::move(current));  // its tree reads it
      current = std::move(next);
    }
    std::vector<F128> last_layer() {
      proof.fri_last = current->to_host(0).at(0);
      return {proof.fri_last};
    }
    // F_i at the pairs of its queried positions, whole pairs (the verifier checks its folded value
    // against the opened one).
    void decommit(uint32_t i, const std::vector<size_t>& positions) {
      if (i > 0) proof.fri_layers.push_back(trees[i - 1]->open(fri::pair_positions(positions)));
    }
  } fri_layers{be, proof, be.deep_quotient(l.log_lde, points, deep), {}, {}};
  fri::commit_phase<fri::CosetSpec>(ch, l.n_fri_folds, false, fri_layers);

  // 7. Proof of work.
  proof.pow_nonce = be.grind(ch.digest(), options.pow_bits);
  ch.mix_u64(proof.pow_nonce);

  // 8. Queries and openings: the trace trees at both members of each queried pair of F0.
  const std::vector<size_t> qs = ch.draw_queries(l.log_lde - 1, options.num_colinearity_checks);
  const std::vector<size_t> positions = detail::query_pair_positions(qs);
  proof.main = main_tree->open(positions);
  if (l.tree_columns[2] > 0) proof.interaction = inter_tree->open(positions);  // none: no LogUp
  proof.composition = comp_tree->open(positions);
  fri::decommit_phase(positions, l.n_fri_folds, fri_layers);
  if (timings) {
    timings->fri_ms = ms_since(t);
    timings->total_ms = ms_since(t_start);
  }
  return proof;
}

}  // namespace ptvm::stark128
