// LogUp-GKR lookups over committed columns (see ptvm/sumcheck/committed_lookup.hpp).
#include "ptvm/sumcheck/committed_lookup.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/sumcheck/logup_gkr.hpp"
#include "ptvm/sumcheck/mle.hpp"

namespace ptvm::sumcheck {
namespace {

constexpr uint32_t kMaxBlockVars = 30;
constexpr size_t kMaxInstances = 1024;
constexpr size_t kMaxTupleColumns = 64;

struct Block {
  size_t instance = 0;
  bool table = false;
  uint32_t log_size = 0;
  size_t offset = 0;
};

struct Layout {
  std::vector<Block> blocks;
  uint32_t n_vars = 0;
};

Layout layout_of(std::span<const CommittedLookupStatement> s) {
  Layout l;
  for (size_t i = 0; i < s.size(); ++i) {
    l.blocks.push_back({i, false, s[i].values[0].n_vars, 0});
    l.blocks.push_back({i, true, s[i].multiplicities.n_vars, 0});
  }
  std::stable_sort(l.blocks.begin(), l.blocks.end(),
                   [](const Block& a, const Block& b) { return a.log_size > b.log_size; });
  size_t offset = 0;
  for (Block& b : l.blocks) {
    b.offset = offset; // a multiple of 2^log_size: every earlier block is at least as large
    offset += size_t{1} << b.log_size;
  }
  l.n_vars = fraction_sum_vars(offset);
  return l;
}

std::optional<std::string> check_statements(std::span<const CommittedLookupStatement> s) {
  if (s.empty())
    return std::string("committed lookup: no instance");
  if (s.size() > kMaxInstances)
    return "committed lookup: more than " + std::to_string(kMaxInstances) + " instances";
  for (size_t i = 0; i < s.size(); ++i) {
    const std::string where = "committed lookup instance " + std::to_string(i) + ": ";
    const auto& in = s[i];
    if (in.values.empty() || in.values.size() > kMaxTupleColumns ||
        in.values.size() != in.table.size())
      return where + std::to_string(in.values.size()) + " value columns and " +
             std::to_string(in.table.size()) + " table columns (1.." +
             std::to_string(kMaxTupleColumns) + ", equal)";
    const uint32_t a = in.values[0].n_vars, b = in.multiplicities.n_vars;
    if (a == 0 || a > kMaxBlockVars)
      return where + "value columns of " + std::to_string(a) + " variables";
    for (const auto& v : in.values)
      if (v.n_vars != a)
        return where + "value columns of different sizes";
    if (b == 0 || b > kMaxBlockVars)
      return where + "multiplicities of " + std::to_string(b) + " variables";
    for (const auto& t : in.table)
      if (t.size() != size_t{1} << b)
        return where + "a table column of " + std::to_string(t.size()) + " rows, expected 2^" +
               std::to_string(b);
  }
  return std::nullopt;
}

void mix_statements(Blake2sChannel& channel, std::span<const CommittedLookupStatement> s) {
  const uint32_t n[1] = {uint32_t(s.size())};
  channel.mix_u32s(n);
  for (const auto& in : s) {
    const uint32_t shape[3] = {uint32_t(in.values.size()), in.values[0].n_vars,
                               in.multiplicities.n_vars};
    channel.mix_u32s(shape);
    for (const auto& c : in.values)
      mix_commitment(channel, c);
    mix_commitment(channel, in.multiplicities);
    hash::Blake2s h;
    for (const auto& col : in.table)
      for (M31 x : col) {
        const uint8_t bytes[4] = {uint8_t(x.v), uint8_t(x.v >> 8), uint8_t(x.v >> 16),
                                  uint8_t(x.v >> 24)};
        h.update(bytes);
      }
    channel.mix_root(h.finalize());
  }
}

QM31 combine(std::span<const QM31> values, QM31 alpha) {
  QM31 acc = QM31::zero(), power = QM31::one();
  for (const QM31& v : values) {
    acc += power * v;
    power *= alpha;
  }
  return acc;
}

// eq(c_top, bits(offset >> s)) and c_low for a block.
QM31 block_weight(const Block& b, uint32_t n_vars, std::span<const QM31> point) {
  const uint32_t top = n_vars - b.log_size;
  const size_t prefix = b.offset >> b.log_size;
  QM31 w = QM31::one();
  for (uint32_t i = 0; i < top; ++i)
    w *= (prefix >> (top - 1 - i) & 1) ? point[i] : QM31::one() - point[i];
  return w;
}

std::vector<QM31> block_point(const Block& b, uint32_t n_vars, std::span<const QM31> point) {
  return std::vector<QM31>(point.begin() + (n_vars - b.log_size), point.end());
}

} // namespace

CommittedLookupStatement statement_of(const CommittedLookupWitness& w) {
  CommittedLookupStatement s;
  for (const CommittedMle* c : w.values) {
    if (!c)
      throw Error(ErrorCategory::Usage, "committed lookup: a missing value column");
    s.values.push_back(c->commitment());
  }
  if (!w.multiplicities)
    throw Error(ErrorCategory::Usage, "committed lookup: missing multiplicities");
  s.multiplicities = w.multiplicities->commitment();
  s.table = w.table;
  return s;
}

CommittedLookupProof prove_committed_lookups(std::span<const CommittedLookupWitness> instances,
                                             Blake2sChannel& channel, SumcheckBackend& backend) {
  std::vector<CommittedLookupStatement> statements;
  for (const auto& w : instances)
    statements.push_back(statement_of(w));
  if (auto bad = check_statements(statements))
    throw Error(ErrorCategory::Usage, *bad);
  mix_statements(channel, statements);
  std::vector<std::pair<QM31, QM31>> elements;
  for (size_t i = 0; i < instances.size(); ++i) {
    const auto e = channel.draw_felts(2);
    elements.emplace_back(e[0], e[1]);
  }
  const Layout layout = layout_of(statements);
  FractionColumns fractions;
  fractions.numerators.assign(size_t{1} << layout.n_vars, QM31::zero());
  fractions.denominators.assign(size_t{1} << layout.n_vars, QM31::one());
  for (const Block& b : layout.blocks) {
    const auto& w = instances[b.instance];
    const auto [z, alpha] = elements[b.instance];
    const size_t rows = size_t{1} << b.log_size;
    for (size_t r = 0; r < rows; ++r) {
      QM31 comb = QM31::zero(), power = QM31::one();
      for (size_t j = 0; j < w.values.size(); ++j) {
        const M31 x = b.table ? w.table[j][r] : w.values[j]->table()[r];
        comb += power * x;
        power *= alpha;
      }
      fractions.numerators[b.offset + r] =
          b.table ? -QM31(w.multiplicities->table()[r]) : QM31::one();
      fractions.denominators[b.offset + r] = z - comb;
    }
  }
  FractionSumProverOutput gkr = prove_fraction_sum(std::move(fractions), channel, backend);
  CommittedLookupProof proof;
  proof.gkr = std::move(gkr.proof);
  proof.instances.resize(instances.size());
  std::vector<std::vector<QM31>> value_points(instances.size()), table_points(instances.size());
  for (const Block& b : layout.blocks)
    (b.table ? table_points : value_points)[b.instance] = block_point(b, layout.n_vars, gkr.point);
  std::vector<QM31> mixed;
  for (size_t i = 0; i < instances.size(); ++i) {
    auto& o = proof.instances[i];
    for (const CommittedMle* c : instances[i].values)
      o.value_evaluations.push_back(c->evaluate(value_points[i]));
    o.multiplicity_evaluation = instances[i].multiplicities->evaluate(table_points[i]);
    mixed.insert(mixed.end(), o.value_evaluations.begin(), o.value_evaluations.end());
    mixed.push_back(o.multiplicity_evaluation);
  }
  channel.mix_felts(mixed);
  for (size_t i = 0; i < instances.size(); ++i) {
    auto& o = proof.instances[i];
    for (size_t j = 0; j < instances[i].values.size(); ++j)
      o.value_openings.push_back(
          instances[i].values[j]->open(value_points[i], o.value_evaluations[j], channel, backend));
    o.multiplicity_opening = instances[i].multiplicities->open(
        table_points[i], o.multiplicity_evaluation, channel, backend);
  }
  return proof;
}

CommittedLookupVerdict verify_committed_lookups(std::span<const CommittedLookupStatement> instances,
                                                const CommittedLookupProof& proof,
                                                Blake2sChannel& channel) {
  CommittedLookupVerdict v;
  try {
    if (auto bad = check_statements(instances)) {
      v.reason = *bad;
      return v;
    }
    if (proof.instances.size() != instances.size()) {
      v.reason = "committed lookup: openings for " + std::to_string(proof.instances.size()) +
                 " instances, expected " + std::to_string(instances.size());
      return v;
    }
    for (size_t i = 0; i < instances.size(); ++i) {
      const auto& o = proof.instances[i];
      const std::string where = "committed lookup instance " + std::to_string(i) + ": ";
      if (o.value_evaluations.size() != instances[i].values.size() ||
          o.value_openings.size() != instances[i].values.size()) {
        v.reason = where + std::to_string(o.value_evaluations.size()) + " value evaluations and " +
                   std::to_string(o.value_openings.size()) + " openings, expected " +
                   std::to_string(instances[i].values.size());
        return v;
      }
      if (!all_canonical(o.value_evaluations) ||
          !all_canonical(std::span<const QM31>(&o.multiplicity_evaluation, 1))) {
        v.reason = where + "an evaluation is not canonical";
        return v;
      }
    }
    mix_statements(channel, instances);
    std::vector<std::pair<QM31, QM31>> elements;
    for (size_t i = 0; i < instances.size(); ++i) {
      const auto e = channel.draw_felts(2);
      elements.emplace_back(e[0], e[1]);
    }
    const Layout layout = layout_of(instances);
    FractionSumVerdict f = verify_fraction_sum(layout.n_vars, proof.gkr, channel);
    if (!f.accepted) {
      v.reason = "committed lookup: " + f.reason;
      return v;
    }
    if (!f.sum.is_zero()) {
      v.reason = "committed lookup: unbalanced (the fraction sum is not zero)";
      return v;
    }
    // The input claims from the column evaluations, block by block.
    std::vector<std::vector<QM31>> value_points(instances.size()), table_points(instances.size());
    QM31 p = QM31::zero(), q = QM31::zero(), covered = QM31::zero();
    for (const Block& b : layout.blocks) {
      const auto& in = instances[b.instance];
      const auto& o = proof.instances[b.instance];
      const auto [z, alpha] = elements[b.instance];
      const QM31 w = block_weight(b, layout.n_vars, f.point);
      std::vector<QM31> pt = block_point(b, layout.n_vars, f.point);
      covered += w;
      if (b.table) {
        std::vector<QM31> t;
        for (const auto& col : in.table)
          t.push_back(evaluate_mle<M31>(col, pt));
        p += w * -o.multiplicity_evaluation;
        q += w * (z - combine(t, alpha));
        table_points[b.instance] = std::move(pt);
      } else {
        p += w;
        q += w * (z - combine(o.value_evaluations, alpha));
        value_points[b.instance] = std::move(pt);
      }
    }
    q += QM31::one() - covered; // the padding's denominators are 1
    if (p != f.numerator_claim || q != f.denominator_claim) {
      v.reason = "committed lookup: the column evaluations do not give the GKR's input claims";
      return v;
    }
    std::vector<QM31> mixed;
    for (const auto& o : proof.instances) {
      mixed.insert(mixed.end(), o.value_evaluations.begin(), o.value_evaluations.end());
      mixed.push_back(o.multiplicity_evaluation);
    }
    channel.mix_felts(mixed);
    for (size_t i = 0; i < instances.size(); ++i) {
      const auto& o = proof.instances[i];
      const std::string where = "committed lookup instance " + std::to_string(i) + ": ";
      for (size_t j = 0; j < instances[i].values.size(); ++j)
        if (auto bad = verify_mle_opening(instances[i].values[j], value_points[i],
                                          o.value_evaluations[j], o.value_openings[j], channel)) {
          v.reason = where + "value column " + std::to_string(j) + ": " + *bad;
          return v;
        }
      if (auto bad =
              verify_mle_opening(instances[i].multiplicities, table_points[i],
                                 o.multiplicity_evaluation, o.multiplicity_opening, channel)) {
        v.reason = where + "multiplicities: " + *bad;
        return v;
      }
    }
    v.accepted = true;
  } catch (const std::exception& e) {
    v.accepted = false;
    v.reason = std::string("committed lookup: ") + e.what();
  }
  return v;
}

} // namespace ptvm::sumcheck
