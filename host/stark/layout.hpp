// Internal: the shape of one proof, derived from the Air and the profile alone, and the pieces of
// the protocol that prover and verifier must compute identically (mask points, DEEP batches,
// composition recombination, channel mixing of the statement).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/air/component.hpp"
#include "ptvm/circle/point.hpp"
#include "ptvm/fri/fri.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/stark/fri_math.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/stark/proof.hpp"

namespace ptvm::stark::detail {

inline constexpr size_t kCompositionComponent = SIZE_MAX;

struct ColumnLocation {
  size_t component;   // kCompositionComponent for the composition parts
  uint32_t log_rows;  // polynomial log size (commitment domain: + log_blowup)
};

struct StarkLayout {
  Profile profile;
  std::array<std::vector<ColumnLocation>, kNumTrees> tree_columns;
  std::vector<uint32_t> constraint_offset;  // per component: global index of its first constraint
  uint32_t n_constraints = 0;
  uint32_t max_log_rows = 0;
  uint32_t log_composition = 0;  // C: log size of the whole composition polynomial
  uint32_t log_split = 0;        // s: the composition is cut into 2^s parts of log C - s
  uint32_t first_layer_log = 0;  // L_0: largest commitment domain
  uint32_t n_inner_layers = 0;
  std::vector<uint32_t> quotient_log_sizes;  // distinct commitment log sizes, decreasing

  size_t n_samples(size_t tree) const { return tree == kCompositionTree ? 1 : 2; }
  std::vector<uint32_t> commitment_log_sizes(size_t tree) const {
    std::vector<uint32_t> out;
    for (const auto& c : tree_columns[tree]) out.push_back(c.log_rows + profile.log_blowup);
    return out;
  }
};

// Validates the Air against the profile and the public-input count; throws ptvm::Error(Usage).
StarkLayout make_layout(const air::Air& air, const Profile& profile, size_t n_public_inputs);

// Channel steps both sides take identically.
void mix_profile(hash::Blake2sChannel& channel, const Profile& profile);
void mix_statement(hash::Blake2sChannel& channel, const air::Air& air, std::span<const M31> public_inputs);
std::vector<air::RelationChallenges> draw_relation_challenges(hash::Blake2sChannel& channel, const air::Air& air);
std::vector<QM31> constraint_coefficients(const QM31& alpha, uint32_t n_constraints);  // alpha^(M-1-j)
// The queries on the first-layer domain (log L_0): n_queries positions in distinct first-layer
// FRI pairs (q >> 1), so that the conjectured security counts n_queries FRI tests. A domain with
// fewer pairs than n_queries (tiny test AIRs) has one query in every pair: the FRI test is then
// exhaustive, and the formula understates it.
inline std::vector<size_t> draw_query_positions(hash::Blake2sChannel& channel, const StarkLayout& layout) {
  const size_t pairs = size_t{1} << (layout.first_layer_log - 1);
  return channel.draw_distinct_queries(layout.first_layer_log, std::min<size_t>(layout.profile.n_queries, pairs), 1);
}

// The point column `column` of `tree` is sampled at, for sample index 0 (P) or 1 (P + step).
circle::CirclePoint<QM31> sample_point(const StarkLayout& layout, size_t tree, size_t column, size_t sample,
                                       const circle::CirclePoint<QM31>& oods_point);

// DEEP batches of one commitment log size: distinct points (ordered by their coordinates
// [x.a, x.b, x.c, x.d, y.a, ...]), each with its columns in flattened (tree, column) order.
struct DeepColumn {
  size_t tree;
  size_t column;
};
struct DeepBatchLayout {
  circle::CirclePoint<QM31> point;
  std::vector<DeepColumn> columns;
  DeepBatch coefficients;
};
std::vector<DeepBatchLayout> deep_batches(const StarkLayout& layout, uint32_t commitment_log_size,
                                          const circle::CirclePoint<QM31>& oods_point,
                                          const std::array<std::vector<std::vector<QM31>>, kNumTrees>& sampled,
                                          const QM31& alpha);

// Q(P) from the sampled composition parts: sum_t Q_t(P) * prod_{bit i of t} pi^{C-s+i-1}(P.x).
QM31 composition_from_parts(const StarkLayout& layout, std::span<const std::vector<QM31>> part_samples,
                            const circle::CirclePoint<QM31>& oods_point);

// Storage position r of CanonicCoset(log_size) in bit-reversed order -> the point.
circle::CirclePoint<M31> bitrev_domain_point(uint32_t log_size, size_t position);

// Query positions of a column smaller by `shift` in log size: q >> shift, deduplicated (input
// sorted); both members of every FRI pair touched by sorted, unique positions. Both are FRI's
// (ptvm/fri/fri.hpp).
inline std::vector<size_t> shifted_positions(const std::vector<size_t>& queries, uint32_t shift) {
  return fri::folded_positions(queries, shift);
}
inline std::vector<size_t> pair_positions(const std::vector<size_t>& positions) { return fri::pair_positions(positions); }

}  // namespace ptvm::stark::detail
