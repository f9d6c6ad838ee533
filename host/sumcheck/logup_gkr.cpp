// LogUp-GKR (see ptvm/sumcheck/logup_gkr.hpp).
#include "ptvm/sumcheck/logup_gkr.hpp"

#include <exception>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/sumcheck/mle.hpp"

namespace ptvm::sumcheck {
namespace {

GkrCircuit fraction_circuit(uint32_t n_vars) {
  GkrCircuit c;
  c.gates.assign(n_vars, GkrGate::Fraction);
  c.n_output_vars = 0;
  return c;
}

void require_columns(const LookupColumns& c) {
  if (c.values.empty() || c.values.size() != c.table.size())
    throw Error(ErrorCategory::Usage, "lookup: values and table need the same number (>= 1) of tuple columns");
  for (const auto& col : c.values)
    if (col.size() != c.values[0].size()) throw Error(ErrorCategory::Usage, "lookup: value columns of different lengths");
  for (const auto& col : c.table)
    if (col.size() != c.table[0].size()) throw Error(ErrorCategory::Usage, "lookup: table columns of different lengths");
  if (c.multiplicities.size() != c.table[0].size())
    throw Error(ErrorCategory::Usage, "lookup: one multiplicity per table row is needed");
  if (c.values[0].size() + c.table[0].size() == 0) throw Error(ErrorCategory::Usage, "lookup: nothing to look up");
}

// Binds the public columns: shape words, then one Blake2s digest of all values.
void mix_lookup_columns(Blake2sChannel& channel, const LookupColumns& c) {
  const uint32_t shape[3] = {uint32_t(c.values.size()), uint32_t(c.values[0].size()), uint32_t(c.table[0].size())};
  channel.mix_u32s(shape);
  std::vector<uint8_t> bytes;
  auto append = [&](const std::vector<M31>& col) {
    for (M31 x : col)
      for (int k = 0; k < 4; ++k) bytes.push_back(uint8_t(x.v >> (8 * k)));
  };
  for (const auto& col : c.values) append(col);
  for (const auto& col : c.table) append(col);
  append(c.multiplicities);
  channel.mix_root(hash::blake2s(bytes));
}

}  // namespace

uint32_t fraction_sum_vars(size_t n) {
  uint32_t log = 1;
  while ((size_t{1} << log) < n) ++log;
  return log;
}

FractionSumProverOutput prove_fraction_sum(const FractionColumns& fractions, Blake2sChannel& channel,
                                           SumcheckBackend& backend) {
  return prove_fraction_sum(FractionColumns(fractions), channel, backend);
}

FractionSumProverOutput prove_fraction_sum(FractionColumns&& fractions, Blake2sChannel& channel,
                                           SumcheckBackend& backend) {
  const size_t n = fractions.numerators.size();
  if (n == 0 || fractions.denominators.size() != n)
    throw Error(ErrorCategory::Usage, "prove_fraction_sum: numerators and denominators of one length >= 1");
  FractionSumProverOutput out;
  out.n_vars = fraction_sum_vars(n);
  const size_t size = size_t{1} << out.n_vars;
  std::vector<std::vector<QM31>> input(2);
  input[0] = std::move(fractions.numerators);
  input[1] = std::move(fractions.denominators);
  input[0].resize(size, QM31::zero());
  input[1].resize(size, QM31::one());
  auto g = prove_gkr(fraction_circuit(out.n_vars), std::move(input), channel, backend);
  out.proof = std::move(g.proof);
  out.point = std::move(g.input_point);
  out.numerator_claim = g.input_claims[0];
  out.denominator_claim = g.input_claims[1];
  return out;
}

FractionSumProverOutput prove_fraction_sum(uint32_t n_vars, const GkrInputFill& fill, Blake2sChannel& channel,
                                           SumcheckBackend& backend) {
  if (n_vars == 0 || n_vars > 40)
    throw Error(ErrorCategory::Usage, "prove_fraction_sum: " + std::to_string(n_vars) + " variables (1..40)");
  FractionSumProverOutput out;
  out.n_vars = n_vars;
  auto g = prove_gkr(fraction_circuit(n_vars), fill, channel, backend);
  out.proof = std::move(g.proof);
  out.point = std::move(g.input_point);
  out.numerator_claim = g.input_claims[0];
  out.denominator_claim = g.input_claims[1];
  return out;
}

FractionSumVerdict verify_fraction_sum(uint32_t n_vars, const GkrProof& proof, Blake2sChannel& channel) {
  FractionSumVerdict v;
  if (n_vars == 0 || n_vars > 40) {
    v.reason = "logup-gkr: " + std::to_string(n_vars) + " variables (1..40 allowed)";
    return v;
  }
  GkrVerdict g = verify_gkr(fraction_circuit(n_vars), proof, channel);
  if (!g.accepted) {
    v.reason = "logup-gkr: " + g.reason;
    return v;
  }
  const QM31 p = g.output[0][0], q = g.output[1][0];
  if (q.is_zero()) {
    v.reason = "logup-gkr: the root denominator is zero (a vanishing denominator)";
    return v;
  }
  v.sum = p * q.inverse();
  v.point = std::move(g.input_point);
  v.numerator_claim = g.input_claims[0];
  v.denominator_claim = g.input_claims[1];
  v.accepted = true;
  return v;
}

FractionColumns lookup_fractions(const LookupColumns& c, QM31 z, QM31 alpha) {
  require_columns(c);
  FractionColumns f;
  auto comb = [&](const std::vector<std::vector<M31>>& cols, size_t i) {
    QM31 acc = QM31::zero(), power = QM31::one();
    for (const auto& col : cols) {
      acc += power * col[i];
      power *= alpha;
    }
    return acc;
  };
  for (size_t i = 0; i < c.values[0].size(); ++i) {
    f.numerators.push_back(QM31::one());
    f.denominators.push_back(z - comb(c.values, i));
  }
  for (size_t j = 0; j < c.table[0].size(); ++j) {
    f.numerators.push_back(-QM31(c.multiplicities[j]));
    f.denominators.push_back(z - comb(c.table, j));
  }
  const size_t size = size_t{1} << fraction_sum_vars(f.numerators.size());
  f.numerators.resize(size, QM31::zero());
  f.denominators.resize(size, QM31::one());
  return f;
}

LookupProof prove_lookup(const LookupColumns& columns, Blake2sChannel& channel, SumcheckBackend& backend) {
  require_columns(columns);
  mix_lookup_columns(channel, columns);
  const auto elements = channel.draw_felts(2);
  LookupProof proof;
  proof.gkr = prove_fraction_sum(lookup_fractions(columns, elements[0], elements[1]), channel, backend).proof;
  return proof;
}

LookupVerdict verify_lookup(const LookupColumns& columns, const LookupProof& proof, Blake2sChannel& channel) {
  LookupVerdict v;
  try {
    require_columns(columns);
    mix_lookup_columns(channel, columns);
    const auto elements = channel.draw_felts(2);
    const uint32_t n_vars = fraction_sum_vars(columns.values[0].size() + columns.table[0].size());
    FractionSumVerdict f = verify_fraction_sum(n_vars, proof.gkr, channel);
    if (!f.accepted) {
      v.reason = f.reason;
      return v;
    }
    if (!f.sum.is_zero()) {
      v.reason = "lookup: unbalanced (the fraction sum is not zero)";
      return v;
    }
    const FractionColumns input = lookup_fractions(columns, elements[0], elements[1]);
    if (evaluate_mle<QM31>(input.numerators, f.point) != f.numerator_claim ||
        evaluate_mle<QM31>(input.denominators, f.point) != f.denominator_claim) {
      v.reason = "lookup: the input-layer claims differ from the public columns";
      return v;
    }
    v.accepted = true;
  } catch (const std::exception& e) {
    v.accepted = false;
    v.reason = std::string("lookup: ") + e.what();
  }
  return v;
}

}  // namespace ptvm::sumcheck
