// The polynomial commitment scheme's protocol pieces, written once for every proof system:
// which positions of each committed tree are opened for the FRI queries, the verification of a
// tree's opening (count, Merkle path, values per column), the DEEP quotient's value at a queried
// point (batches of columns sampled at one point, combined by Horner), and the mixing of the
// sampled values. Generic over a spec (ptvm/fri/circle_spec.hpp, ptvm/fri/coset_spec.hpp) for the
// Merkle verifier and the channel; the DEEP formulas themselves (circle: the conjugate-line
// quotient of PROTOCOL.md §5.3; coset: (f(x) - v) / (x - p)) are the spec user's.
//
// Protocol order a PCS user follows (both STARKs do):
//   commit each tree, mix its root; draw the OODS point; mix every sampled value (the channel's mix_felts);
//   draw the DEEP challenge; FRI (ptvm/fri/fri.hpp) over the DEEP quotients; proof of work;
//   queries; open each tree at tree_queries; the verifier checks each opening (verify_opening),
//   computes the DEEP answers at the queries (deep_combine) and hands them to FRI's first layer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ptvm/fri/fri.hpp"
#include "ptvm/hash/merkle_walk.hpp"

namespace ptvm::pcs {

// The positions of a tree's columns of each log size for queries on the largest domain (log
// top_log): a column of log size L is opened at q >> (top_log - L).
inline hash::QueriesPerLogSize tree_queries(const std::vector<size_t>& sorted_queries,
                                            uint32_t top_log,
                                            std::span<const uint32_t> column_log_sizes) {
  hash::QueriesPerLogSize out;
  for (uint32_t L : column_log_sizes)
    out[L] = fri::folded_positions(sorted_queries, top_log - L);
  return out;
}

// How a proof system words the reasons of a rejected opening ("<where>: <n> <values> values,
// expected <m>" and "<where><merkle><reason>").
struct OpeningWords {
  const char* values = "queried";
  const char* merkle = ": merkle: ";
};

// Checks a tree's opening: `values` in Merkle order (log size descending, position ascending,
// column order) must number exactly the queried cells and pass the Merkle path to `root`. On
// success, columns (if given) receives values[column][k] aligned with queries[log of column][k].
template <class Spec, class Value>
std::optional<std::string>
verify_opening(const typename Spec::Hash& root, const std::vector<uint32_t>& column_log_sizes,
               const hash::QueriesPerLogSize& queries, std::span<const Value> values,
               const typename Spec::MerkleDecommitment& decommitment, const std::string& where,
               std::vector<std::vector<Value>>* columns, const OpeningWords& words = {}) {
  std::map<uint32_t, std::vector<size_t>, std::greater<>> columns_by_log;
  for (size_t c = 0; c < column_log_sizes.size(); ++c)
    columns_by_log[column_log_sizes[c]].push_back(c);
  size_t expected = 0;
  for (const auto& [log, cols] : columns_by_log) {
    auto it = queries.find(log);
    if (it == queries.end())
      return where + ": no queries for log size " + std::to_string(log);
    expected += cols.size() * it->second.size();
  }
  if (values.size() != expected)
    return where + ": " + std::to_string(values.size()) + " " + words.values +
           " values, expected " + std::to_string(expected);
  typename Spec::MerkleVerifier verifier(root, column_log_sizes);
  if (auto why = verifier.verify(queries, values, decommitment))
    return where + words.merkle + *why;
  if (columns) {
    columns->assign(column_log_sizes.size(), {});
    size_t i = 0;
    for (const auto& [log, cols] : columns_by_log)
      for (size_t k = 0; k < queries.at(log).size(); ++k)
        for (size_t c : cols)
          (*columns)[c].push_back(values[i++]);
  }
  return std::nullopt;
}

// A committed FRI layer (one log size, the spec's leaf layout) opened at the pairs of `positions`
// (sorted, distinct) where the verifier knows `values`. Two ways, one per proof system:
//  * siblings: the proof sends only the pair members the verifier cannot compute (`witness`,
//    consumed exactly); the circle STARK;
//  * whole pairs: the proof sends every pair member (`opened`, pair_positions order) and each
//    known value must equal the opened one (`mismatch(position)` words the reason); the F128 STARK.
// Both fill `pairs` (position -> value) and check the Merkle path; the reason on failure.
template <class Spec>
std::optional<std::string>
open_layer_with_siblings(const typename Spec::Hash& root, uint32_t log_size,
                         const std::vector<size_t>& positions,
                         const std::vector<typename Spec::Secure>& values,
                         std::span<const typename Spec::Secure> witness,
                         const typename Spec::MerkleDecommitment& decommitment,
                         const std::string& where, std::map<size_t, typename Spec::Secure>& pairs) {
  using Secure = typename Spec::Secure;
  size_t used = 0;
  if (auto why = fri::pairs_from_witness<Secure>(positions, values, witness, used, pairs, where))
    return why;
  if (used != witness.size())
    return where + ": FRI witness too long";
  const std::vector<size_t> all = fri::pair_positions(positions);
  std::vector<typename Spec::Base> leaves;
  for (size_t p : all)
    Spec::append_leaf_values(pairs[p], leaves);
  hash::QueriesPerLogSize q;
  q[log_size] = all;
  return verify_opening<Spec, typename Spec::Base>(root, Spec::leaf_column_log_sizes(log_size), q,
                                                   std::span<const typename Spec::Base>(leaves),
                                                   decommitment, where, nullptr);
}

template <class Spec, class Mismatch>
std::optional<std::string> open_layer_whole_pairs(
    const typename Spec::Hash& root, uint32_t log_size, const std::vector<size_t>& positions,
    const std::vector<typename Spec::Secure>& values, std::span<const typename Spec::Secure> opened,
    const typename Spec::MerkleDecommitment& decommitment, const std::string& where,
    const OpeningWords& words, std::map<size_t, typename Spec::Secure>& pairs,
    Mismatch&& mismatch) {
  using Secure = typename Spec::Secure;
  const std::vector<size_t> all = fri::pair_positions(positions);
  std::vector<typename Spec::Base> leaves;
  for (const Secure& v : opened)
    Spec::append_leaf_values(v, leaves);
  hash::QueriesPerLogSize q;
  q[log_size] = all;
  if (auto why = verify_opening<Spec, typename Spec::Base>(
          root, Spec::leaf_column_log_sizes(log_size), q,
          std::span<const typename Spec::Base>(leaves), decommitment, where, nullptr, words))
    return why;
  if (auto bad = fri::pairs_from_opening<Secure>(positions, values, opened, pairs))
    return mismatch(*bad);
  return std::nullopt;
}

// The DEEP quotient at one queried point from batches of columns that share a sample point:
//   acc = acc * step(b) + numerator(b) / denominator(b)   over the batches in order,
// step(b) the Horner weight that separates batches (alpha^m in the circle STARK, where each
// batch's coefficients restart; 1 where the coefficients run over all samples). nullopt when a
// denominator vanishes (the query hits a sample point).
template <class Secure, class Batch, class Denominator, class Numerator, class Step>
std::optional<Secure> deep_combine(std::span<const Batch> batches, Denominator&& denominator,
                                   Numerator&& numerator, Step&& step) {
  Secure acc = Secure::zero();
  for (const Batch& b : batches) {
    const auto den = denominator(b);
    if (den.is_zero())
      return std::nullopt;
    acc = acc * step(b) + numerator(b) * den.inverse();
  }
  return acc;
}

} // namespace ptvm::pcs
