#include "ptvm/stark/prover.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>

#include "layout.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/fri/circle_spec.hpp"
#include "ptvm/fri/fri.hpp"
#include "ptvm/pcs/pcs.hpp"
#include "ptvm/stark/line_poly.hpp"

namespace ptvm::stark {
namespace {

using detail::pair_positions;
using detail::shifted_positions;

using detail::StarkLayout;

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// The timings of one proof and its progress callback: a stage's start is reported with the
// fraction of the pipeline (its place among the stages, in order) done so far.
struct Clocks {
  StageTimings& t;
  const ProgressFn* progress;
  double done = 0;
  void started(Stage s) {
    if (!progress || !*progress || s == Stage::Total) return;
    done = std::max(done, static_cast<double>(s) / static_cast<double>(Stage::Total));
    (*progress)(s, done);
  }
};

class StageClock {
 public:
  StageClock(Clocks& c, Stage s)
      : t_(c.t), s_(static_cast<size_t>(s)), wall_(std::chrono::steady_clock::now()), cpu_(process_cpu_ms()) {
    c.started(s);
  }
  ~StageClock() {
    t_.wall_ms[s_] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_).count();
    t_.cpu_ms[s_] += process_cpu_ms() - cpu_;
  }

 private:
  StageTimings& t_;
  size_t s_;
  std::chrono::steady_clock::time_point wall_;
  double cpu_;
};

// One PCS tree: per component (or per composition part) the evaluations on the trace domain, the
// coefficients, and the low-degree extension that is committed.
struct TreeData {
  std::vector<Coefficients> coefficients;
  std::vector<Evaluations> extensions;
  std::unique_ptr<CommittedTree> tree;
  // global column index -> (set, column in set)
  std::vector<ColumnRef> column_refs() const {
    std::vector<ColumnRef> out;
    for (const auto& s : extensions)
      for (size_t c = 0; c < s.n_columns(); ++c) out.push_back({s, c});
    return out;
  }
};

// Siblings not among `positions`, in position order (PROTOCOL.md §6.8), read from a QM31 column.
template <class Kind>
  requires Kind::secure
void append_witness(const std::vector<size_t>& positions, const Columns<Kind>& column, std::vector<QM31>& witness) {
  const std::vector<size_t> siblings = fri::sibling_positions(positions);
  std::vector<M31> coords[4];
  for (size_t k = 0; k < 4; ++k) coords[k] = column.gather(k, siblings);
  for (size_t i = 0; i < siblings.size(); ++i)
    witness.push_back(QM31::from_m31(coords[0][i], coords[1][i], coords[2][i], coords[3][i]));
}

std::vector<std::vector<M31>> host_coords(const LineEvaluations& s) {
  std::vector<std::vector<M31>> out;
  for (size_t k = 0; k < 4; ++k) out.push_back(s.to_host(k));
  return out;
}

QM31 secure_value(const std::vector<std::vector<M31>>& coords, size_t i) {
  return QM31::from_m31(coords[0][i], coords[1][i], coords[2][i], coords[3][i]);
}

void check_traces(const air::Air& air, const std::vector<std::vector<std::vector<M31>>>& main_traces) {
  if (main_traces.size() != air.components.size())
    throw Error(ErrorCategory::Usage, "prove: " + std::to_string(main_traces.size()) + " traces for " +
                                          std::to_string(air.components.size()) + " components");
  for (size_t c = 0; c < main_traces.size(); ++c) {
    const auto& info = air.components[c]->info();
    if (main_traces[c].size() != info.n_main_columns)
      throw Error(ErrorCategory::Usage, "prove: component '" + info.name + "' has " + std::to_string(info.n_main_columns) +
                                            " main columns, trace has " + std::to_string(main_traces[c].size()));
    for (size_t k = 0; k < main_traces[c].size(); ++k) {
      const auto& col = main_traces[c][k];
      if (col.size() != (size_t{1} << info.log_rows))
        throw Error(ErrorCategory::Usage, "prove: component '" + info.name + "' column " + std::to_string(k) + " has " +
                                              std::to_string(col.size()) + " rows, expected 2^" + std::to_string(info.log_rows));
      for (size_t r = 0; r < col.size(); ++r)
        if (col[r].v >= M31::P)
          throw Error(ErrorCategory::Usage, "prove: component '" + info.name + "' column " + std::to_string(k) + " row " +
                                                std::to_string(r) + ": non-canonical M31 value");
    }
  }
}

}  // namespace

StarkProof prove(const air::Air& air, std::span<const M31> public_inputs,
                 const std::vector<std::vector<std::vector<M31>>>& main_traces, const Profile& profile,
                 Backend& backend, StageTimings* timings, const ProgressFn* progress) {
  StageTimings local;
  StageTimings& t = timings ? *timings : local;
  t = StageTimings{};
  Clocks clocks{t, progress};
  std::optional<StageClock> total_clock(std::in_place, clocks, Stage::Total);
  const StarkLayout layout = detail::make_layout(air, profile, public_inputs.size());
  check_traces(air, main_traces);
  for (M31 v : public_inputs)
    if (v.v >= M31::P) throw Error(ErrorCategory::Usage, "prove: non-canonical public input");
  const uint32_t b = profile.log_blowup;
  const size_t n_comp = air.components.size();

  StarkProof proof;
  proof.profile = profile;
  hash::Blake2sChannel channel;
  detail::mix_profile(channel, profile);

  std::array<TreeData, kNumTrees> trees;
  std::vector<Evaluations> pre_trace(n_comp), main_trace(n_comp);

  auto extend_and_commit = [&](size_t tree_index) {
    TreeData& td = trees[tree_index];
    // One call (a backend may hash the leaves in the extension's last pass); its time is Commit's.
    StageClock c(clocks, Stage::Commit);
    std::vector<const Coefficients*> coefficient_sets;
    for (const auto& coeffs : td.coefficients) coefficient_sets.push_back(&coeffs);
    Backend::ExtendedTree extended = backend.extend_and_commit(coefficient_sets, b);
    td.extensions = std::move(extended.extensions);
    td.tree = std::move(extended.tree);
    proof.commitments[tree_index] = td.tree->root();
    channel.mix_root(proof.commitments[tree_index]);
  };

  // Tree 0: the committed preprocessed columns. A component with succinct ones (row selectors the
  // verifier evaluates itself, ptvm/air/succinct.hpp) keeps the coefficients of all its columns
  // apart for the composition; tree 0 holds only the committed prefix.
  std::vector<Coefficients> pre_all_coefficients(n_comp);
  {
    StageClock c(clocks, Stage::Lde);
    for (size_t k = 0; k < n_comp; ++k) {
      const air::Component& comp = *air.components[k];
      pre_trace[k] = backend.upload_rows(comp.all_preprocessed_columns());
      if (comp.shape().succinct.empty()) {
        trees[kPreprocessedTree].coefficients.push_back(backend.interpolate(pre_trace[k]));
      } else {
        pre_all_coefficients[k] = backend.interpolate(pre_trace[k]);
        // The committed columns are the first ones: their coefficients are a slice, not a second
        // interpolation.
        const size_t committed = comp.shape().n_committed_preprocessed;
        trees[kPreprocessedTree].coefficients.push_back(
            committed ? backend.slice(pre_all_coefficients[k], 0, committed)
                      : backend.interpolate(backend.upload_rows({})));
      }
    }
  }
  extend_and_commit(kPreprocessedTree);
  detail::mix_statement(channel, air, public_inputs);

  // Tree 1: main trace.
  {
    StageClock c(clocks, Stage::Lde);
    for (size_t k = 0; k < n_comp; ++k) {
      main_trace[k] = backend.upload_rows(main_traces[k]);
      trees[kMainTree].coefficients.push_back(backend.interpolate(main_trace[k]));
    }
  }
  extend_and_commit(kMainTree);

  // Tree 2: LogUp interaction trace.
  const std::vector<air::RelationChallenges> challenges = detail::draw_relation_challenges(channel, air);
  {
    std::vector<SecureEvaluations> inter(n_comp);
    {
      StageClock c(clocks, Stage::Interaction);
      for (size_t k = 0; k < n_comp; ++k) {
        auto r = backend.logup_interaction(*air.components[k], pre_trace[k], main_trace[k], challenges);
        proof.claimed_sums.push_back(r.claimed_sum);
        inter[k] = std::move(r.columns);
      }
    }
    StageClock c(clocks, Stage::Lde);
    for (size_t k = 0; k < n_comp; ++k)
      trees[kInteractionTree].coefficients.push_back(backend.interpolate(inter[k].coordinates()));
  }
  pre_trace.clear();
  main_trace.clear();
  channel.mix_felts(proof.claimed_sums);
  extend_and_commit(kInteractionTree);

  // Composition polynomial.
  const QM31 alpha_c = channel.draw_felt();
  {
    StageClock c(clocks, Stage::Composition);
    const std::vector<QM31> coefficients = detail::constraint_coefficients(alpha_c, layout.n_constraints);
    std::map<uint32_t, SecureEvaluations> by_size;
    for (size_t k = 0; k < n_comp; ++k) {
      const air::Component& comp = *air.components[k];
      const uint32_t ext = comp.shape().log_constraint_extension;
      Evaluations own[3];
      const Evaluations* sets[3];
      const size_t tree_ids[3] = {kPreprocessedTree, kMainTree, kInteractionTree};
      for (int i = 0; i < 3; ++i) {
        if (i == 0 && pre_all_coefficients[k]) {
          own[i] = backend.evaluate(pre_all_coefficients[k], ext);
          sets[i] = &own[i];
        } else if (ext == b) {
          sets[i] = &trees[tree_ids[i]].extensions[k];
        } else {
          own[i] = backend.evaluate(trees[tree_ids[i]].coefficients[k], ext);
          sets[i] = &own[i];
        }
      }
      CompositionInputs in;
      in.preprocessed = sets[0];
      in.main = sets[1];
      in.interaction = sets[2];
      in.public_inputs = public_inputs;
      in.challenges = challenges;
      in.coefficients = std::span<const QM31>(coefficients).subspan(layout.constraint_offset[k], comp.shape().n_constraints());
      in.claimed_sum = proof.claimed_sums[k];
      auto col = backend.eval_composition(comp, in);
      const uint32_t e = comp.log_rows() + ext;
      if (auto it = by_size.find(e); it != by_size.end()) {
        backend.add_assign(it->second, col);
      } else {
        by_size[e] = std::move(col);
      }
    }
    // Lift the partial sums from the smallest domain to the largest (PROTOCOL.md §4.3 step 5).
    SecureEvaluations running;
    uint32_t running_log = 0;
    for (auto& [e, col] : by_size) {
      if (running) {
        auto coeffs = backend.interpolate(running.coordinates());
        auto lifted = backend.evaluate(coeffs, e - running_log);
        backend.add_assign(col, SecureEvaluations::from_coordinates(lifted));
      }
      running = std::move(col);
      running_log = e;
    }
    auto composition_coeffs = backend.interpolate(running.coordinates());
    const uint32_t part_log = layout.log_composition - layout.log_split;
    for (uint32_t part = 0; part < (1u << layout.log_split); ++part)
      trees[kCompositionTree].coefficients.push_back(
          backend.coefficient_slice(composition_coeffs, size_t{part} << part_log, part_log));
  }
  pre_all_coefficients.clear();
  extend_and_commit(kCompositionTree);

  // Out-of-domain sampling.
  const circle::CirclePoint<QM31> oods_point = circle::point_from_t(channel.draw_felt());
  {
    StageClock c(clocks, Stage::Oods);
    std::vector<QM31> flat;
    for (size_t tr = 0; tr < kNumTrees; ++tr) {
      size_t global = 0;
      for (const auto& coeffs : trees[tr].coefficients) {
        std::vector<PointEvaluationRequest> requests;
        for (size_t col = 0; col < coeffs.n_columns(); ++col)
          for (size_t s = 0; s < layout.n_samples(tr); ++s)
            requests.push_back({col, detail::sample_point(layout, tr, global + col, s, oods_point)});
        std::vector<QM31> values = backend.evaluate_at_points(coeffs, requests);
        for (size_t col = 0; col < coeffs.n_columns(); ++col) {
          const size_t ns = layout.n_samples(tr);
          proof.sampled_values[tr].emplace_back(values.begin() + col * ns, values.begin() + (col + 1) * ns);
        }
        global += coeffs.n_columns();
      }
      for (const auto& col : proof.sampled_values[tr]) flat.insert(flat.end(), col.begin(), col.end());
    }
    channel.mix_felts(flat);
  }
  for (auto& td : trees) td.coefficients.clear();

  // DEEP quotients, one column per commitment size (decreasing).
  const QM31 alpha_q = channel.draw_felt();
  std::vector<SecureEvaluations> quotients;
  {
    StageClock c(clocks, Stage::Deep);
    std::array<std::vector<ColumnRef>, kNumTrees> refs;
    for (size_t tr = 0; tr < kNumTrees; ++tr) refs[tr] = trees[tr].column_refs();
    for (uint32_t L : layout.quotient_log_sizes) {
      std::vector<DeepQuotientBatch> batches;
      for (auto& bl : detail::deep_batches(layout, L, oods_point, proof.sampled_values, alpha_q)) {
        DeepQuotientBatch qb;
        for (const auto& dc : bl.columns) qb.columns.push_back(refs[dc.tree][dc.column]);
        qb.coefficients = std::move(bl.coefficients);
        batches.push_back(std::move(qb));
      }
      quotients.push_back(backend.deep_quotients(L, batches));
    }
  }

  // FRI commit phase (ptvm/fri/fri.hpp owns the order): fold 0 is the circle fold of the largest
  // quotient, fold i >= 1 the line fold of inner layer i - 1; smaller quotients enter where their
  // folded size is reached. Every fold whose result is committed (the input of an inner layer) is
  // one fused backend call, so commit(i) hands over the tree the previous fold made.
  struct CircleLayers {
    Backend& backend;
    const StarkLayout& layout;
    StarkProof& proof;
    std::vector<SecureEvaluations>& quotients;
    std::unique_ptr<CommittedTree> first_layer_tree{};
    struct LineLayer {
      LineEvaluations evaluations;
      std::unique_ptr<CommittedTree> tree;
    };
    std::vector<LineLayer> layers{};  // inner layer i
    LineEvaluations cur{};
    std::unique_ptr<CommittedTree> cur_tree{};
    circle::LineDomain domain{circle::CanonicCoset{layout.first_layer_log}.half_coset()};
    size_t next_quotient = 1;

    hash::Blake2sHash commit(uint32_t i) {
      if (i == 0) {
        first_layer_tree = backend.commit(std::vector<EvaluationsRef>(quotients.begin(), quotients.end()));
        proof.fri.first_layer.commitment = first_layer_tree->root();
        return proof.fri.first_layer.commitment;
      }
      FriLayerProof lp;
      lp.commitment = cur_tree->root();
      proof.fri.inner_layers.push_back(std::move(lp));
      layers.push_back({LineEvaluations{}, std::move(cur_tree)});
      return proof.fri.inner_layers.back().commitment;
    }
    void fold(uint32_t i, const QM31& alpha) {
      if (i == 0) {
        if (layout.n_inner_layers > 0) {
          auto folded = backend.fri_fold_circle_and_commit(quotients[0], alpha, nullptr);
          cur = std::move(folded.column);
          cur_tree = std::move(folded.tree);
        } else {
          cur = backend.fri_fold_circle(quotients[0], alpha, nullptr);
        }
        return;
      }
      const bool commit_next = i < layout.n_inner_layers;
      const bool circle_next = next_quotient < quotients.size() &&
                               layout.quotient_log_sizes[next_quotient] - 1 == domain.log_size() - 1;
      LineEvaluations folded;
      if (commit_next && !circle_next) {
        auto f = backend.fri_fold_line_and_commit(cur, domain, alpha);
        folded = std::move(f.column);
        cur_tree = std::move(f.tree);
      } else {
        folded = backend.fri_fold_line(cur, domain, alpha);
      }
      layers.back().evaluations = std::move(cur);
      cur = std::move(folded);
      domain = domain.doubled();
      if (circle_next) {
        if (commit_next) {
          auto f = backend.fri_fold_circle_and_commit(quotients[next_quotient], alpha, &cur);
          cur = std::move(f.column);
          cur_tree = std::move(f.tree);
        } else {
          cur = backend.fri_fold_circle(quotients[next_quotient], alpha, &cur);
        }
        ++next_quotient;
      }
    }
    std::vector<QM31> last_layer() {
      if (next_quotient != quotients.size())
        throw Error(ErrorCategory::Internal, "FRI: a quotient column was not folded in");
      auto coords = host_coords(cur);
      std::vector<QM31> values(coords[0].size());
      for (size_t i = 0; i < values.size(); ++i) values[i] = secure_value(coords, i);
      std::vector<QM31> coeffs = line_interpolate_bitrev(values, domain);
      const size_t bound = size_t{1} << layout.profile.log_last_layer_degree_bound;
      for (size_t i = bound; i < coeffs.size(); ++i)
        if (!coeffs[i].is_zero())
          throw Error(ErrorCategory::Internal, "FRI: last layer above its degree bound (the quotients are not low degree)");
      coeffs.resize(bound);
      proof.fri.last_layer_poly = coeffs;
      return coeffs;
    }
    // Only the siblings the verifier cannot compute: for the first layer from the trace openings
    // (every quotient size in one tree), for inner layer i - 1 from the previous fold.
    void decommit(uint32_t i, const std::vector<size_t>& positions) {
      if (i == 0) {
        hash::QueriesPerLogSize q;
        for (size_t k = 0; k < quotients.size(); ++k) {
          const uint32_t L = layout.quotient_log_sizes[k];
          auto shifted = shifted_positions(positions, layout.first_layer_log - L);
          append_witness(shifted, quotients[k], proof.fri.first_layer.fri_witness);
          q[L] = pair_positions(shifted);
        }
        proof.fri.first_layer.decommitment = first_layer_tree->open(q).decommitment;
        return;
      }
      const uint32_t m = layout.first_layer_log - i;
      append_witness(positions, layers[i - 1].evaluations, proof.fri.inner_layers[i - 1].fri_witness);
      hash::QueriesPerLogSize q;
      q[m] = pair_positions(positions);
      proof.fri.inner_layers[i - 1].decommitment = layers[i - 1].tree->open(q).decommitment;
    }
  } fri_layers{backend, layout, proof, quotients};
  {
    StageClock c(clocks, Stage::Fri);
    fri::commit_phase<fri::CircleSpec>(channel, 1 + layout.n_inner_layers, true, fri_layers);
  }

  {
    StageClock c(clocks, Stage::Pow);
    proof.proof_of_work = backend.grind(channel, profile.pow_bits);
    channel.mix_u64(proof.proof_of_work);
  }

  // Queries and decommitments.
  {
    StageClock c(clocks, Stage::Queries);
    const std::vector<size_t> queries = detail::draw_query_positions(channel, layout);
    for (size_t tr = 0; tr < kNumTrees; ++tr) {
      auto opening = trees[tr].tree->open(pcs::tree_queries(queries, layout.first_layer_log, layout.commitment_log_sizes(tr)));
      proof.queried_values[tr] = std::move(opening.queried_values);
      proof.decommitments[tr] = std::move(opening.decommitment);
    }
    fri::decommit_phase(queries, 1 + layout.n_inner_layers, fri_layers);
  }
  total_clock.reset();
  if (progress && *progress) (*progress)(Stage::Total, 1.0);
  return proof;
}

std::optional<std::string> check_constraints(const air::Air& air, std::span<const M31> public_inputs,
                                             const std::vector<std::vector<std::vector<M31>>>& main_traces) {
  check_traces(air, main_traces);
  // Evaluate each constraint at each row over QM31 with PointEval-style samples; LogUp constraints
  // depend on challenges and are skipped (only AIR and boundary constraints are checked).
  for (size_t k = 0; k < air.components.size(); ++k) {
    const air::Component& comp = *air.components[k];
    const auto& shape = comp.shape();
    const size_t N = size_t{1} << comp.log_rows();
    auto pre = comp.all_preprocessed_columns();
    const auto& kinds = shape.constraint_kinds;
    const auto checked = [&](uint32_t j) { return kinds[j] != air::ConstraintKind::Logup; };
    // Coefficient vectors with a single 1 isolate one constraint; evaluating all at once with
    // random-free unit vectors would cost n_constraints passes, so use powers of a fixed element
    // and report the row, then find the constraint by unit vectors on that row only.
    std::vector<QM31> coeffs(shape.n_constraints());
    for (uint32_t j = 0; j < shape.n_constraints(); ++j) coeffs[j] = checked(j) ? QM31::from_u32(j + 1, 7, 3, 1) : QM31::zero();
    std::vector<air::RelationChallenges> challenges(air.relations.size(), air::RelationChallenges::from(QM31::from_u32(1, 2, 3, 4), QM31::from_u32(5, 6, 7, 8)));
    for (size_t r = 0; r < N; ++r) {
      air::PointSamples s;
      for (const auto& col : pre) {
        s.preprocessed.push_back(QM31(col[r]));
        s.preprocessed.push_back(QM31(col[(r + 1) % N]));
      }
      for (const auto& col : main_traces[k]) {
        s.main.push_back(QM31(col[r]));
        s.main.push_back(QM31(col[(r + 1) % N]));
      }
      s.interaction.assign(8 * shape.n_logup_batches, QM31::zero());
      QM31 v = comp.composition_at_point(s, public_inputs, challenges, coeffs, QM31::zero());
      if (v.is_zero()) continue;
      for (uint32_t j = 0; j < shape.n_constraints(); ++j) {
        if (!checked(j)) continue;
        std::vector<QM31> unit(shape.n_constraints());
        unit[j] = QM31::one();
        if (!comp.composition_at_point(s, public_inputs, challenges, unit, QM31::zero()).is_zero())
          return "component '" + comp.info().name + "' row " + std::to_string(r) + ": constraint " + std::to_string(j) +
                 (kinds[j] == air::ConstraintKind::Boundary ? " (boundary)" : "") + " does not hold";
      }
    }
  }
  return std::nullopt;
}

}  // namespace ptvm::stark
