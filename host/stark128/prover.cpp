// The F128 STARK prover (CPU reference). Protocol: ptvm/stark128/stark128.hpp.
#include <algorithm>
#include <chrono>
#include <utility>

#include "protocol.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/field/batch_inverse.hpp"
#include "ptvm/hash/blake2b_channel_f128.hpp"
#include "ptvm/ntt/ntt.hpp"
#include "ptvm/common/thread_pool.hpp"
#include "ptvm/common/threads.hpp"

namespace ptvm::stark128 {
namespace {

using Tree = hash::Blake2bMerkleTree<F128>;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Bit-reversal permutations, one table per size (built once per proof).
const std::vector<uint32_t>& bit_reverse_table(size_t n) {
  thread_local std::vector<uint32_t> table;
  if (table.size() != n) {
    uint32_t log_n = 0;
    while ((size_t{1} << log_n) < n) ++log_n;
    table.resize(n);
    for (size_t i = 0; i < n; ++i) table[i] = static_cast<uint32_t>(detail::bit_reverse(i, log_n));
  }
  return table;
}
void bit_reverse_permute(std::vector<F128>& v) {
  const std::vector<uint32_t>& t = bit_reverse_table(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    if (i < t[i]) std::swap(v[i], v[t[i]]);
}

// A column given on its rows (natural order on <w_n>): its coefficients and its values on D
// (bit-reversed).
struct Extended {
  std::vector<F128> coeffs;
  std::vector<F128> lde;
};
Extended extend(const std::vector<F128>& rows, size_t lde_size) {
  Extended e;
  e.coeffs.resize(rows.size());
  ntt::coset_interpolate_natural(rows, e.coeffs, F128::one());
  e.lde.resize(lde_size);
  ntt::coset_evaluate_natural(e.coeffs, e.lde, detail::lde_offset());
  bit_reverse_permute(e.lde);
  return e;
}

F128 horner(std::span<const F128> coeffs, F128 x) {
  F128 acc = F128::zero();
  for (size_t i = coeffs.size(); i-- > 0;) acc = acc * x + coeffs[i];
  return acc;
}

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

TreeOpening open(const Tree& tree, uint32_t log_size, const std::vector<size_t>& positions) {
  hash::QueriesPerLogSize q;
  q[log_size] = positions;
  auto o = tree.decommit(q);
  return {std::move(o.queried_values), std::move(o.decommitment)};
}

// Columns extended on the library's threads (each column one task: the results do not depend on
// the thread count).
std::vector<Extended> extend_all(const std::vector<const std::vector<F128>*>& rows, size_t lde_size, unsigned threads) {
  std::vector<Extended> out(rows.size());
  parallel_tasks(rows.size(), threads, [&](size_t i) { out[i] = extend(*rows[i], lde_size); });
  return out;
}

// [begin, end) split into chunks for the threads.
template <class Body>
void parallel_range(size_t n, unsigned threads, Body&& body) {
  const size_t chunks = std::min<size_t>(threads, std::max<size_t>(1, n / 256));
  parallel_tasks(chunks, static_cast<unsigned>(chunks), [&](size_t c) { body(n * c / chunks, n * (c + 1) / chunks); });
}

std::vector<std::span<const F128>> spans(const std::vector<Extended>& cols) {
  std::vector<std::span<const F128>> s;
  for (const auto& c : cols) s.emplace_back(c.lde);
  return s;
}

}  // namespace

Proof prove(const Air128& air, const Witness& witness, std::span<const F128> pub, const Options& options,
            Timings* timings) {
  const auto t_start = Clock::now();
  detail::Layout l;
  if (auto why = detail::make_layout(air, options, l)) throw Error(ErrorCategory::Usage, "stark128::prove: " + *why);
  if (witness.size() != air.components.size())
    throw Error(ErrorCategory::Usage, "stark128::prove: witness has " + std::to_string(witness.size()) +
                                          " components, the AIR " + std::to_string(air.components.size()));
  if (pub.size() != air.n_public_inputs) throw Error(ErrorCategory::Usage, "stark128::prove: wrong number of public inputs");
  const size_t nb = size_t{1} << l.log_lde;
  const size_t n_comp = air.components.size();
  for (size_t c = 0; c < n_comp; ++c) {
    const auto& comp = *air.components[c];
    if (witness[c].size() != comp.info().n_main_columns)
      throw Error(ErrorCategory::Usage, "stark128::prove: component '" + comp.info().name + "': wrong number of main columns");
    for (const auto& col : witness[c])
      if (col.size() != (size_t{1} << comp.log_rows()))
        throw Error(ErrorCategory::Usage, "stark128::prove: component '" + comp.info().name + "': column of wrong length");
  }

  Proof proof;
  hash::Blake2bChannel ch;
  detail::mix_header(ch, air, pub, options);

  // 1. Preprocessed and main columns.
  auto t = Clock::now();
  std::vector<std::vector<std::vector<F128>>> pre_rows(n_comp);
  const unsigned threads = configured_thread_count();
  std::vector<Extended> inter, comp_cols;
  std::vector<const std::vector<F128>*> pre_ptrs, main_ptrs;
  for (size_t c = 0; c < n_comp; ++c) {
    pre_rows[c] = air.components[c]->preprocessed_columns();
    for (const auto& col : pre_rows[c]) pre_ptrs.push_back(&col);
    for (const auto& col : witness[c]) main_ptrs.push_back(&col);
  }
  const std::vector<Extended> pre = extend_all(pre_ptrs, nb, threads);
  const std::vector<Extended> main = extend_all(main_ptrs, nb, threads);
  const Tree pre_tree = Tree::commit(spans(pre), threads);
  ch.mix_root(pre_tree.root());
  const Tree main_tree = Tree::commit(spans(main), threads);
  proof.main_root = main_tree.root();
  ch.mix_root(proof.main_root);
  if (timings) timings->commit_ms = ms_since(t);

  // 2. LogUp interaction.
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
  {
    std::vector<const std::vector<F128>*> ptrs;
    for (const auto& col : inter_rows) ptrs.push_back(&col);
    inter = extend_all(ptrs, nb, threads);
  }
  ch.mix_felts(std::span<const F128>(proof.claimed_sums));
  const Tree inter_tree = Tree::commit(spans(inter), threads);
  proof.interaction_root = inter_tree.root();
  ch.mix_root(proof.interaction_root);
  if (timings) timings->interaction_ms = ms_since(t);

  // 3. Composition.
  t = Clock::now();
  const F128 lambda = hash::draw_f128_felt(ch);
  const std::vector<F128> coeffs = detail::powers(lambda, l.n_constraints_total);
  std::vector<F128> h(nb, F128::zero());
  std::vector<size_t> natural_of(nb), position_of(nb);
  for (size_t p = 0; p < nb; ++p) {
    natural_of[p] = detail::bit_reverse(p, l.log_lde);
    position_of[natural_of[p]] = p;
  }
  for (size_t c = 0; c < n_comp; ++c) {
    const auto& comp = *air.components[c];
    const uint32_t n_c = comp.log_rows();
    std::vector<const F128*> pp, mp, ip;
    for (uint32_t k = 0; k < comp.shape().n_pre_total; ++k) pp.push_back(pre[l.pre_offset[c] + k].lde.data());
    for (uint32_t k = 0; k < comp.info().n_main_columns; ++k) mp.push_back(main[l.main_offset[c] + k].lde.data());
    for (uint32_t k = 0; k < comp.shape().n_batches; ++k) ip.push_back(inter[l.inter_offset[c] + k].lde.data());
    const DomainView128 view{pp.data(), mp.data(), ip.data()};
    const F128 spr = sum_per_row(proof.claimed_sums[c], n_c);
    // x^{2^n_c} - 1 depends on natural index mod NB / 2^n_c.
    const size_t period = nb >> n_c;
    std::vector<F128> van(period), van_inv(period);
    const F128 g_n = detail::lde_offset().pow(uint64_t{1} << n_c);
    const F128 w = F128::primitive_root_of_unity(l.log_lde - n_c);
    F128 acc = g_n;
    for (size_t i = 0; i < period; ++i) {
      van[i] = acc - F128::one();
      acc *= w;
    }
    batch_inverse_raw(van.data(), van_inv.data(), van_inv.data(), period);
    const std::span<const F128> pub_span(pub);
    parallel_range(nb, threads, [&](size_t begin, size_t end) {
      for (size_t pos = begin; pos < end; ++pos) {
        const size_t nat = natural_of[pos];
        const size_t next = position_of[(nat + period) & (nb - 1)];
        h[pos] += comp.eval_domain(view, pos, next, pub_span, challenges.data(), coeffs.data() + l.constraint_offset[c],
                                   spr) *
                  van_inv[nat & (period - 1)];
      }
    });
  }
  bit_reverse_permute(h);
  std::vector<F128> h_coeffs(nb);
  ntt::coset_interpolate_natural(h, h_coeffs, detail::lde_offset());
  const size_t n = size_t{1} << l.log_n;
  std::vector<F128> h_parts[2] = {std::vector<F128>(h_coeffs.begin(), h_coeffs.begin() + n),
                                  std::vector<F128>(h_coeffs.begin() + n, h_coeffs.begin() + 2 * n)};
  for (auto& part : h_parts) {
    Extended e;
    e.coeffs = part;
    e.lde.resize(nb);
    ntt::coset_evaluate_natural(e.coeffs, e.lde, detail::lde_offset());
    bit_reverse_permute(e.lde);
    comp_cols.push_back(std::move(e));
  }
  const Tree comp_tree = Tree::commit(spans(comp_cols), threads);
  proof.composition_root = comp_tree.root();
  ch.mix_root(proof.composition_root);

  // 4. OODS.
  const F128 zeta = detail::draw_oods_point(ch, l);
  const std::vector<F128> points = detail::sample_points(zeta, l.log_n);
  const std::vector<Extended>* trees[4] = {&pre, &main, &inter, &comp_cols};
  for (const auto& s : l.samples)
    proof.sampled_values.push_back(horner((*trees[s.tree])[s.column].coeffs, points[s.point]));
  ch.mix_felts(std::span<const F128>(proof.sampled_values));
  if (timings) timings->composition_ms = ms_since(t);

  // 5. DEEP quotient.
  t = Clock::now();
  const F128 gamma = hash::draw_f128_felt(ch);
  const std::vector<F128> gp = detail::powers(gamma, l.samples.size());
  std::vector<F128> xs(nb);
  {
    const F128 w = F128::primitive_root_of_unity(l.log_lde);
    F128 acc = detail::lde_offset();
    for (size_t i = 0; i < nb; ++i) {
      xs[position_of[i]] = acc;
      acc *= w;
    }
  }
  std::vector<F128> f(nb, F128::zero());
  {
    std::vector<uint32_t> used;
    for (const auto& s : l.samples)
      if (std::find(used.begin(), used.end(), s.point) == used.end()) used.push_back(s.point);
    std::vector<F128> numer(nb), diff(nb), dinv(nb);
    for (uint32_t p : used) {
      std::vector<size_t> ks;
      for (size_t k = 0; k < l.samples.size(); ++k)
        if (l.samples[k].point == p) ks.push_back(k);
      // sum_k gamma^k (f_k(x) - v_k) = sum_k gamma^k f_k(x) - sum_k gamma^k v_k, column by column.
      F128 offset = F128::zero();
      for (size_t k : ks) offset += gp[k] * proof.sampled_values[k];
      parallel_range(nb, threads, [&](size_t begin, size_t end) {
        for (size_t pos = begin; pos < end; ++pos) {
          numer[pos] = -offset;
          diff[pos] = xs[pos] - points[p];
        }
        for (size_t k : ks) {
          const auto& s = l.samples[k];
          const F128* col = (*trees[s.tree])[s.column].lde.data();
          const F128 gk = gp[k];
          for (size_t pos = begin; pos < end; ++pos) numer[pos] += gk * col[pos];
        }
      });
      batch_inverse_raw(diff.data(), dinv.data(), dinv.data(), nb);
      for (size_t pos = 0; pos < nb; ++pos) f[pos] += numer[pos] * dinv[pos];
    }
  }

  // 6. FRI.
  std::vector<Tree> fri_trees;
  std::vector<std::vector<F128>> layers;  // layers[i - 1] = F_i, i = 1 .. r - 1
  std::vector<F128> current = std::move(f);
  for (uint32_t i = 0; i < l.n_fri_folds; ++i) {
    if (i > 0) {
      layers.push_back(current);
      fri_trees.push_back(Tree::commit({std::span<const F128>(layers.back())}, threads));
      proof.fri_roots.push_back(fri_trees.back().root());
      ch.mix_root(proof.fri_roots.back());
    }
    const F128 beta = hash::draw_f128_felt(ch);
    const uint32_t log_m = l.log_lde - i;
    const size_t half = size_t{1} << (log_m - 1);
    F128 offset = detail::lde_offset();
    for (uint32_t k = 0; k < i; ++k) offset = offset.square();
    const F128 inv_offset = offset.inverse(), w_inv = F128::primitive_root_of_unity(log_m).inverse();
    std::vector<F128> wpow(half);
    F128 acc = F128::one();
    for (size_t j = 0; j < half; ++j) {
      wpow[j] = acc;
      acc *= w_inv;
    }
    std::vector<F128> next(half);
    for (size_t j = 0; j < half; ++j)
      next[j] = detail::fri_fold(current[2 * j], current[2 * j + 1],
                                 inv_offset * wpow[detail::bit_reverse(j, log_m - 1)], beta);
    current = std::move(next);
  }
  proof.fri_last = current[0];
  ch.mix_felts(std::span<const F128>(&proof.fri_last, 1));

  // 7. Proof of work.
  const hash::Blake2b256Hash digest = ch.digest();
  uint64_t nonce = 0;
  while (!detail::pow_ok(detail::pow_hash(digest, options.pow_bits, nonce), options.pow_bits)) ++nonce;
  proof.pow_nonce = nonce;
  ch.mix_u64(nonce);

  // 8. Queries and openings.
  const std::vector<size_t> qs = ch.draw_queries(l.log_lde - 1, options.num_colinearity_checks);
  const std::vector<size_t> positions = pair_positions(qs);
  proof.main = open(main_tree, l.log_lde, positions);
  if (l.tree_columns[2] > 0) proof.interaction = open(inter_tree, l.log_lde, positions);  // none: no LogUp
  proof.composition = open(comp_tree, l.log_lde, positions);
  for (uint32_t i = 1; i < l.n_fri_folds; ++i) {
    std::vector<size_t> layer_pairs;
    for (size_t q : qs) layer_pairs.push_back(q >> i);
    proof.fri_layers.push_back(open(fri_trees[i - 1], l.log_lde - i, pair_positions(layer_pairs)));
  }
  if (timings) {
    timings->fri_ms = ms_since(t);
    timings->total_ms = ms_since(t_start);
  }
  return proof;
}

}  // namespace ptvm::stark128
