#include "layout.hpp"

#include <algorithm>
#include <map>

#include "ptvm/circle/domain.hpp"
#include "ptvm/common/error.hpp"

namespace ptvm::stark::detail {
namespace {
[[noreturn]] void usage(const std::string& why) { throw Error(ErrorCategory::Usage, "stark: " + why); }
}  // namespace

StarkLayout make_layout(const air::Air& air, const Profile& profile, size_t n_public_inputs) {
  if (auto why = validate_profile(profile)) usage("profile '" + profile.name + "': " + *why);
  if (air.components.empty()) usage("the AIR has no components");
  if (n_public_inputs != air.n_public_inputs)
    usage("the AIR expects " + std::to_string(air.n_public_inputs) + " public inputs, got " +
          std::to_string(n_public_inputs));
  for (const auto& r : air.relations)
    if (r.tuple_size < 1 || r.tuple_size > air::kMaxRelationTupleSize)
      usage("relation '" + r.name + "': tuple size outside [1, 16]");
  StarkLayout L;
  L.profile = profile;
  uint32_t max_constraint_log = 0;
  for (size_t c = 0; c < air.components.size(); ++c) {
    const air::Component& comp = *air.components[c];
    const auto& info = comp.info();
    const auto& shape = comp.shape();
    if (shape.n_relations_referenced > air.relations.size())
      usage("component '" + info.name + "' uses relation " + std::to_string(shape.n_relations_referenced - 1) +
            " but the AIR declares " + std::to_string(air.relations.size()));
    for (const auto& b : info.boundary_constraints)
      if (b.public_input >= n_public_inputs)
        usage("component '" + info.name + "': boundary constraint reads public input " +
              std::to_string(b.public_input) + " of " + std::to_string(n_public_inputs));
    if (info.log_rows < profile.log_last_layer_degree_bound + 1)
      usage("component '" + info.name + "' is smaller than the FRI last layer allows");
    const uint32_t e = info.log_rows + shape.log_constraint_extension;
    if (std::max(e, info.log_rows + profile.log_blowup) > 28)
      usage("component '" + info.name + "': evaluation domain above 2^28");
    // Tree 0 commits only the non-succinct preprocessed columns (ptvm/air/succinct.hpp).
    for (uint32_t i = 0; i < shape.n_committed_preprocessed; ++i) L.tree_columns[kPreprocessedTree].push_back({c, info.log_rows});
    for (uint32_t i = 0; i < info.n_main_columns; ++i) L.tree_columns[kMainTree].push_back({c, info.log_rows});
    for (uint32_t i = 0; i < shape.n_interaction_columns(); ++i)
      L.tree_columns[kInteractionTree].push_back({c, info.log_rows});
    L.constraint_offset.push_back(L.n_constraints);
    L.n_constraints += shape.n_constraints();
    L.max_log_rows = std::max(L.max_log_rows, info.log_rows);
    max_constraint_log = std::max(max_constraint_log, e);
  }
  if (L.n_constraints == 0) usage("the AIR has no constraints");
  L.log_composition = max_constraint_log;
  L.log_split = L.log_composition - L.max_log_rows;
  for (uint32_t i = 0; i < (4u << L.log_split); ++i)
    L.tree_columns[kCompositionTree].push_back({kCompositionComponent, L.max_log_rows});
  L.first_layer_log = L.max_log_rows + profile.log_blowup;
  L.n_inner_layers = L.max_log_rows - 1 - profile.log_last_layer_degree_bound;
  std::vector<uint32_t> sizes;
  for (const auto& cols : L.tree_columns)
    for (const auto& c : cols) sizes.push_back(c.log_rows + profile.log_blowup);
  std::sort(sizes.begin(), sizes.end(), std::greater<>());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  L.quotient_log_sizes = sizes;
  return L;
}

void mix_profile(hash::Blake2sChannel& channel, const Profile& p) {
  const uint32_t words[] = {kProofFormatVersion, p.log_blowup, p.n_queries, p.pow_bits, p.log_last_layer_degree_bound};
  channel.mix_u32s(words);
}

void mix_statement(hash::Blake2sChannel& channel, const air::Air& air, std::span<const M31> public_inputs) {
  std::vector<uint32_t> words;
  words.push_back(static_cast<uint32_t>(air.components.size()));
  for (const auto& c : air.components) words.push_back(c->log_rows());
  // The rows of every succinct column (the AIR's and the boundary selectors): tree 0 no longer
  // commits them, so the statement binds them here.
  for (const auto& c : air.components) {
    const auto& succinct = c->shape().succinct;
    words.push_back(static_cast<uint32_t>(succinct.size()));
    for (const air::SuccinctColumn& col : succinct) {
      words.push_back(col.row);
      words.push_back(col.complement ? 1u : 0u);
    }
  }
  words.push_back(static_cast<uint32_t>(air.relations.size()));
  words.push_back(static_cast<uint32_t>(public_inputs.size()));
  for (M31 v : public_inputs) words.push_back(v.v);
  channel.mix_u32s(words);
}

std::vector<air::RelationChallenges> draw_relation_challenges(hash::Blake2sChannel& channel, const air::Air& air) {
  std::vector<air::RelationChallenges> out;
  for (size_t i = 0; i < air.relations.size(); ++i) {
    std::vector<QM31> za = channel.draw_felts(2);
    out.push_back(air::RelationChallenges::from(za[0], za[1]));
  }
  return out;
}

std::vector<QM31> constraint_coefficients(const QM31& alpha, uint32_t n_constraints) {
  std::vector<QM31> out(n_constraints);
  QM31 p = QM31::one();
  for (uint32_t j = n_constraints; j-- > 0;) {
    out[j] = p;
    p = p * alpha;
  }
  return out;
}

circle::CirclePoint<QM31> sample_point(const StarkLayout& layout, size_t tree, size_t column, size_t sample,
                                       const circle::CirclePoint<QM31>& oods_point) {
  if (sample == 0) return oods_point;
  uint32_t log_rows = layout.tree_columns[tree][column].log_rows;
  return oods_point + circle::lift(circle::CanonicCoset{log_rows}.step());
}

namespace {
std::array<uint32_t, 8> point_key(const circle::CirclePoint<QM31>& p) {
  return {p.x.x0.a.v, p.x.x0.b.v, p.x.x1.a.v, p.x.x1.b.v, p.y.x0.a.v, p.y.x0.b.v, p.y.x1.a.v, p.y.x1.b.v};
}
}  // namespace

std::vector<DeepBatchLayout> deep_batches(const StarkLayout& layout, uint32_t commitment_log_size,
                                          const circle::CirclePoint<QM31>& oods_point,
                                          const std::array<std::vector<std::vector<QM31>>, kNumTrees>& sampled,
                                          const QM31& alpha) {
  std::map<std::array<uint32_t, 8>, std::pair<circle::CirclePoint<QM31>, std::vector<std::pair<DeepColumn, QM31>>>> by_point;
  for (size_t t = 0; t < kNumTrees; ++t) {
    for (size_t c = 0; c < layout.tree_columns[t].size(); ++c) {
      if (layout.tree_columns[t][c].log_rows + layout.profile.log_blowup != commitment_log_size) continue;
      for (size_t s = 0; s < layout.n_samples(t); ++s) {
        auto p = sample_point(layout, t, c, s, oods_point);
        auto& entry = by_point[point_key(p)];
        entry.first = p;
        entry.second.push_back({DeepColumn{t, c}, sampled[t][c][s]});
      }
    }
  }
  std::vector<DeepBatchLayout> out;
  for (auto& [key, entry] : by_point) {
    DeepBatchLayout b;
    b.point = entry.first;
    std::vector<QM31> values;
    for (auto& [col, v] : entry.second) {
      b.columns.push_back(col);
      values.push_back(v);
    }
    b.coefficients = DeepBatch::make(b.point, values, alpha);
    out.push_back(std::move(b));
  }
  return out;
}

QM31 composition_from_parts(const StarkLayout& layout, std::span<const std::vector<QM31>> part_samples,
                            const circle::CirclePoint<QM31>& oods_point) {
  const uint32_t C = layout.log_composition, s = layout.log_split;
  // pis[j] = pi^j(P.x)
  std::vector<QM31> pis(C + 1);
  pis[0] = oods_point.x;
  for (uint32_t j = 1; j <= C; ++j) pis[j] = pis[j - 1] * pis[j - 1] + pis[j - 1] * pis[j - 1] - QM31::one();
  QM31 total;
  for (uint32_t t = 0; t < (1u << s); ++t) {
    const auto& q = part_samples;
    QM31 value = air::combine_coordinates(q[4 * t][0], q[4 * t + 1][0], q[4 * t + 2][0], q[4 * t + 3][0]);
    for (uint32_t i = 0; i < s; ++i)
      if ((t >> i) & 1) value = value * pis[C - s + i - 1];
    total += value;
  }
  return total;
}

circle::CirclePoint<M31> bitrev_domain_point(uint32_t log_size, size_t position) {
  return circle::CanonicCoset{log_size}.circle_domain().at(circle::bit_reverse_index(position, log_size));
}

}  // namespace ptvm::stark::detail
