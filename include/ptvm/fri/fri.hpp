// FRI written once for every proof system (Ben-Sasson, Bentov, Horesh, Riabzev 2018; circle
// variant: Haböck, Levit, Papini 2024 §5): the commit phase (commit a layer, mix its root, draw
// its challenge, fold), the last layer, the decommitment of each layer and the verifier's query
// phase (open a layer's pairs, check its Merkle path, fold, compare the result with the last
// layer). The protocol ORDER lives here; what is folded, committed and opened is the caller's.
//
// Generic over a spec type (ptvm/fri/circle_spec.hpp: circle STARK over M31/QM31 with BLAKE2s;
// ptvm/fri/coset_spec.hpp: multiplicative coset over F128 with BLAKE2b) that supplies
//   Secure                      the field FRI folds over (challenges and layer values)
//   Channel, Hash               the Fiat-Shamir channel and the Merkle root type
//   Domain                      one layer's evaluation domain: log_size(), folded() (the next
//                               layer's domain under the fold map: circle y-fold then
//                               x -> 2x^2 - 1; coset x -> x^2), fold_inverse(even_position)
//                               (1 / the coordinate the pair at even_position, +1 differs by sign)
//   mix_root(ch, root), draw_challenge(ch), mix_last_layer(ch, span<const Secure>)
//   fold_pair(f_x, f_neg_x, inverse, alpha)   the pair fold formula
// Positions are storage positions of bit-reversed layers: the pair of a point and its negation is
// (2g, 2g + 1), and folding maps it to position g of the next layer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ptvm::fri {

// ---- positions ---------------------------------------------------------------------------------

// sorted positions >> shift, deduplicated (the positions of a layer `shift` folds later).
inline std::vector<size_t> folded_positions(const std::vector<size_t>& sorted_positions,
                                            uint32_t shift) {
  std::vector<size_t> out;
  for (size_t q : sorted_positions) {
    const size_t f = q >> shift;
    if (out.empty() || out.back() != f)
      out.push_back(f);
  }
  return out;
}

// Both members of every pair touched by sorted, distinct positions.
inline std::vector<size_t> pair_positions(const std::vector<size_t>& sorted_positions) {
  std::vector<size_t> out;
  for (size_t p : sorted_positions) {
    const size_t a = p & ~size_t{1};
    if (out.empty() || out.back() != a + 1) {
      out.push_back(a);
      out.push_back(a + 1);
    }
  }
  return out;
}

// The pair members not among sorted, distinct positions, ascending: what a layer's decommitment
// sends when the verifier knows the values at `positions` (PROTOCOL.md §6.8).
inline std::vector<size_t> sibling_positions(const std::vector<size_t>& sorted_positions) {
  std::vector<size_t> out;
  size_t qi = 0;
  for (size_t p : pair_positions(sorted_positions)) {
    if (qi < sorted_positions.size() && sorted_positions[qi] == p) {
      ++qi;
      continue;
    }
    out.push_back(p);
  }
  return out;
}

// ---- the two ways a layer's pairs are opened
// -----------------------------------------------------

// Siblings sent as a witness: the known values at `positions` and the next witness entries fill
// every pair; `witness_used` advances. Returns the reason on a short witness.
template <class Secure>
std::optional<std::string>
pairs_from_witness(const std::vector<size_t>& positions, std::span<const Secure> known,
                   std::span<const Secure> witness, size_t& witness_used,
                   std::map<size_t, Secure>& pairs, const std::string& where) {
  size_t qi = 0;
  for (size_t p : pair_positions(positions)) {
    if (qi < positions.size() && positions[qi] == p) {
      pairs[p] = known[qi++];
    } else {
      if (witness_used >= witness.size())
        return where + ": FRI witness too short";
      pairs[p] = witness[witness_used++];
    }
  }
  return std::nullopt;
}

// Whole pairs sent (values at pair_positions(positions), in that order): each known value must
// equal the opened one. Returns the first position whose value disagrees.
template <class Secure>
std::optional<size_t>
pairs_from_opening(const std::vector<size_t>& positions, std::span<const Secure> known,
                   std::span<const Secure> opened, std::map<size_t, Secure>& pairs) {
  const std::vector<size_t> all = pair_positions(positions);
  for (size_t i = 0; i < all.size() && i < opened.size(); ++i)
    pairs[all[i]] = opened[i];
  for (size_t i = 0; i < positions.size(); ++i) {
    auto it = pairs.find(positions[i]);
    if (it == pairs.end() || it->second != known[i])
      return positions[i];
  }
  return std::nullopt;
}

// ---- prover
// --------------------------------------------------------------------------------------

// The commit phase: for fold i = 0 .. n_folds - 1, commit layer i (all but the first when
// !commit_first: a first layer the verifier computes itself) and mix its root, draw alpha_i, fold
// layer i into layer i + 1; then the last layer is sent and mixed. Returns the challenges.
//   layers.commit(i) -> Hash        commit layer i (or hand over the tree a fused fold made)
//   layers.fold(i, alpha)           fold layer i with alpha
//   layers.last_layer() -> vector<Secure>   what is sent for the last layer
template <class Spec, class Layers>
std::vector<typename Spec::Secure> commit_phase(typename Spec::Channel& channel, uint32_t n_folds,
                                                bool commit_first, Layers& layers) {
  std::vector<typename Spec::Secure> alphas;
  for (uint32_t i = 0; i < n_folds; ++i) {
    if (i > 0 || commit_first)
      Spec::mix_root(channel, layers.commit(i));
    alphas.push_back(Spec::draw_challenge(channel));
    layers.fold(i, alphas.back());
  }
  const auto last = layers.last_layer();
  Spec::mix_last_layer(channel, std::span<const typename Spec::Secure>(last));
  return alphas;
}

// The decommitment of every fold's input layer: layer i at positions folded i times from the
// first layer's (sorted, distinct) positions. layers.decommit(i, positions).
template <class Layers>
void decommit_phase(const std::vector<size_t>& first_layer_positions, uint32_t n_folds,
                    Layers& layers) {
  for (uint32_t i = 0; i < n_folds; ++i)
    layers.decommit(i, folded_positions(first_layer_positions, i));
}

// ---- verifier
// ------------------------------------------------------------------------------------

// The verifier's replay of commit_phase from the roots in the proof (roots.size() = n_folds when
// commit_first, else n_folds - 1) and the last layer; returns alpha_0 .. alpha_{n_folds - 1}.
template <class Spec>
std::vector<typename Spec::Secure>
replay_commit_phase(typename Spec::Channel& channel, std::span<const typename Spec::Hash> roots,
                    bool commit_first, std::span<const typename Spec::Secure> last_layer) {
  std::vector<typename Spec::Secure> alphas;
  const size_t n_folds = roots.size() + (commit_first ? 0 : 1);
  for (size_t i = 0; i < n_folds; ++i) {
    if (i > 0 || commit_first)
      Spec::mix_root(channel, roots[commit_first ? i : i - 1]);
    alphas.push_back(Spec::draw_challenge(channel));
  }
  Spec::mix_last_layer(channel, last_layer);
  return alphas;
}

// The query phase. `positions` (sorted, distinct) on `domain` are the first layer's queried
// positions with their `values`; for each fold i:
//   layers.open(i, domain, positions, values, pairs) -> optional<string>   fill every pair member
//       (from a witness or an opening) after checking layer i's Merkle path; the reason on failure
//   fold each pair with alpha_i into the next layer's positions;
//   layers.entering(i, next_domain) -> pointer to the pairs (position -> value) of a column that
//       enters at the next layer, with its own domain (nullptr: none); it is folded with alpha_i
//       and added as next = next * alpha_i^2 + fold(column) (stwo's folding of smaller columns)
// and last, layers.check_last_layer(domain, positions, values) -> optional<string>.
// Returns nullopt when every check passes, else the first reason.
template <class Spec, class Layers>
std::optional<std::string>
verify_query_phase(typename Spec::Domain domain, std::vector<size_t> positions,
                   std::vector<typename Spec::Secure> values,
                   std::span<const typename Spec::Secure> alphas, Layers& layers) {
  using Secure = typename Spec::Secure;
  for (size_t i = 0; i < alphas.size(); ++i) {
    std::map<size_t, Secure> pairs;
    if (auto why = layers.open(i, domain, positions, values, pairs))
      return why;
    std::vector<size_t> next_positions = folded_positions(positions, 1);
    std::vector<Secure> next_values;
    for (size_t g : next_positions) {
      auto a = pairs.find(2 * g), b = pairs.find(2 * g + 1);
      if (a == pairs.end() || b == pairs.end())
        return std::string("fri: missing pair at layer ") + std::to_string(i);
      next_values.push_back(
          Spec::fold_pair(a->second, b->second, domain.fold_inverse(2 * g), alphas[i]));
    }
    domain = domain.folded();
    typename Spec::Domain entering_domain = domain;
    if (const std::map<size_t, Secure>* column = layers.entering(i, domain, entering_domain)) {
      const Secure alpha_sq = alphas[i] * alphas[i];
      for (size_t j = 0; j < next_positions.size(); ++j) {
        const size_t g = next_positions[j];
        auto a = column->find(2 * g), b = column->find(2 * g + 1);
        if (a == column->end() || b == column->end())
          return std::string("fri: missing first-layer pair");
        next_values[j] =
            next_values[j] * alpha_sq +
            Spec::fold_pair(a->second, b->second, entering_domain.fold_inverse(2 * g), alphas[i]);
      }
    }
    positions = std::move(next_positions);
    values = std::move(next_values);
  }
  return layers.check_last_layer(domain, positions, values);
}

} // namespace ptvm::fri
