// Sumcheck prover and verifier for sums of products of MLEs (see ptvm/sumcheck/sumcheck.hpp).
#include "ptvm/sumcheck/sumcheck.hpp"

#include <exception>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/mle.hpp"

namespace ptvm::sumcheck {

QM31 RoundPolynomial::evaluate(QM31 x) const {
  QM31 acc = QM31::zero();
  for (size_t k = coefficients.size(); k-- > 0;) acc = acc * x + coefficients[k];
  return acc;
}

QM31 RoundPolynomial::sum_over_boolean() const {
  if (coefficients.empty()) return QM31::zero();
  QM31 sum = coefficients[0];  // p(0)
  for (const QM31& c : coefficients) sum += c;  // + p(1)
  return sum;
}

std::vector<QM31> coefficients_from_evaluations(std::span<const QM31> evaluations) {
  // Newton's forward form on the nodes 0..d: p(X) = sum_k (Delta^k p(0) / k!) X ... (X-k+1).
  const size_t n = evaluations.size();
  std::vector<QM31> diff(evaluations.begin(), evaluations.end());
  std::vector<QM31> coefficients(n, QM31::zero());
  std::vector<QM31> basis(n + 1, QM31::zero());  // X ... (X-k+1), monomial coefficients
  basis[0] = QM31::one();
  M31 factorial = M31::one();
  for (size_t k = 0; k < n; ++k) {
    if (k > 0) {
      for (size_t i = n - 1; i >= k; --i) diff[i] = diff[i] - diff[i - 1];
      factorial *= M31::from_u32(static_cast<uint32_t>(k));
      // basis *= (X - (k - 1))
      const QM31 node(M31::from_u32(static_cast<uint32_t>(k - 1)));
      for (size_t i = k; i > 0; --i) basis[i] = basis[i - 1] - node * basis[i];
      basis[0] = -(node * basis[0]);
    }
    const QM31 scale = diff[k] * factorial.inverse();
    for (size_t i = 0; i <= k; ++i) coefficients[i] += scale * basis[i];
  }
  return coefficients;
}

void require_valid_shape(const ProductShape& shape, bool with_eq, const char* who) {
  const uint32_t max_factors = ProductShape::kMaxFactors - (with_eq ? 1 : 0);
  if (shape.n_factors == 0 || shape.n_factors > max_factors)
    throw Error(ErrorCategory::Usage, std::string(who) + ": " + std::to_string(shape.n_factors) +
                                          " factors (1.." + std::to_string(max_factors) + " allowed)");
  if (shape.n_terms == 0 || shape.n_terms > ProductShape::kMaxTerms)
    throw Error(ErrorCategory::Usage, std::string(who) + ": " + std::to_string(shape.n_terms) + " terms");
  for (uint32_t t = 0; t < shape.n_terms; ++t)
    if (shape.term_masks[t] >> shape.n_factors != 0)
      throw Error(ErrorCategory::Usage, std::string(who) + ": term " + std::to_string(t) +
                                            " names a factor that does not exist");
  if (shape.degree() + (with_eq ? 1 : 0) > ProductShape::kMaxDegree)
    throw Error(ErrorCategory::Usage, std::string(who) + ": degree above " +
                                          std::to_string(ProductShape::kMaxDegree));
}

SumcheckVerdict verify_sumcheck_rounds(uint32_t n_vars, uint32_t max_degree, QM31 claim,
                                       const SumcheckProof& proof, Blake2sChannel& channel) {
  SumcheckVerdict v;
  if (proof.rounds.size() != n_vars) {
    v.reason = "sumcheck: " + std::to_string(proof.rounds.size()) + " round polynomials, expected " +
               std::to_string(n_vars);
    return v;
  }
  v.point.reserve(n_vars);
  for (uint32_t i = 0; i < n_vars; ++i) {
    const RoundPolynomial& p = proof.rounds[i];
    if (p.coefficients.size() != size_t{max_degree} + 1) {
      v.reason = "sumcheck round " + std::to_string(i) + ": " + std::to_string(p.coefficients.size()) +
                 " coefficients, expected " + std::to_string(max_degree + 1);
      return v;
    }
    if (!all_canonical(p.coefficients)) {
      v.reason = "sumcheck round " + std::to_string(i) + ": a coefficient is not canonical";
      return v;
    }
    if (p.sum_over_boolean() != claim) {
      v.reason = "sumcheck round " + std::to_string(i) + ": p(0) + p(1) differs from the claim";
      return v;
    }
    channel.mix_felts(p.coefficients);
    const QM31 r = channel.draw_felt();
    v.point.push_back(r);
    claim = p.evaluate(r);
  }
  v.accepted = true;
  v.claim = claim;
  return v;
}

template <class F>
QM31 product_sum(const ProductShape& shape, std::span<const QM31> eq_point,
                 std::span<const std::vector<F>> tables) {
  require_valid_shape(shape, !eq_point.empty(), "product_sum");
  if (tables.size() != shape.n_factors)
    throw Error(ErrorCategory::Usage, "product_sum: tables and factors differ in number");
  const size_t size = tables[0].size();
  for (const auto& t : tables)
    if (t.size() != size) throw Error(ErrorCategory::Usage, "product_sum: tables of different sizes");
  std::vector<QM31> eq;
  if (!eq_point.empty()) {
    if (size_t{1} << eq_point.size() != size)
      throw Error(ErrorCategory::Usage, "product_sum: eq point of the wrong length");
    eq = eq_table(eq_point);
  }
  QM31 sum = QM31::zero();
  QM31 values[ProductShape::kMaxFactors];
  for (size_t x = 0; x < size; ++x) {
    for (uint32_t j = 0; j < shape.n_factors; ++j) values[j] = to_qm31(tables[j][x]);
    const QM31 g = shape.evaluate(values);
    sum += eq.empty() ? g : eq[x] * g;
  }
  return sum;
}

namespace {

template <class F>
void check_product_tables(const ProductShape& shape, std::span<const QM31> eq_point,
                          std::span<const std::vector<F>> tables) {
  const bool with_eq = !eq_point.empty();
  require_valid_shape(shape, with_eq, "prove_product_sumcheck");
  if (tables.size() != shape.n_factors)
    throw Error(ErrorCategory::Usage, "prove_product_sumcheck: " + std::to_string(tables.size()) +
                                          " tables for " + std::to_string(shape.n_factors) + " factors");
  const unsigned n_vars = log2_table_size(tables[0].size(), "prove_product_sumcheck");
  if (n_vars == 0) throw Error(ErrorCategory::Usage, "prove_product_sumcheck: no variable to sum over");
  for (const auto& t : tables)
    if (t.size() != tables[0].size())
      throw Error(ErrorCategory::Usage, "prove_product_sumcheck: tables of different sizes");
  if (with_eq && eq_point.size() != n_vars)
    throw Error(ErrorCategory::Usage, "prove_product_sumcheck: eq point of " +
                                          std::to_string(eq_point.size()) + " coordinates for " +
                                          std::to_string(n_vars) + " variables");
}

ProductSumcheckProverOutput run_product_sumcheck(const ProductShape& shape, bool with_eq,
                                                 std::unique_ptr<SumcheckTables> resident,
                                                 Blake2sChannel& channel, SumcheckBackend& backend,
                                                 const QM31* claim_override) {
  const unsigned n_vars = resident->n_vars();
  ProductSumcheckProverOutput out;
  const uint32_t degree = shape.degree() + (with_eq ? 1 : 0);

  // The claim: computed from the first round (p(0) + p(1) is the whole sum), so no extra pass.
  std::vector<QM31> evals = backend.sumcheck_round(*resident, shape, degree);
  out.claim = claim_override ? *claim_override : evals[0] + evals[1];
  channel.mix_felts(std::span<const QM31>(&out.claim, 1));
  out.point.reserve(n_vars);
  for (unsigned round = 0; round < n_vars; ++round) {
    if (round > 0) evals = backend.sumcheck_round(*resident, shape, degree);
    RoundPolynomial p{coefficients_from_evaluations(evals)};
    channel.mix_felts(p.coefficients);
    const QM31 r = channel.draw_felt();
    out.point.push_back(r);
    backend.fix_first_variable(*resident, r);
    out.proof.sumcheck.rounds.push_back(std::move(p));
  }
  std::vector<std::vector<QM31>> finals = resident->to_host();
  out.proof.final_values.reserve(shape.n_factors);
  for (uint32_t j = 0; j < shape.n_factors; ++j) out.proof.final_values.push_back(finals[j][0]);
  channel.mix_felts(out.proof.final_values);
  return out;
}

}  // namespace

template <class F>
ProductSumcheckProverOutput prove_product_sumcheck(const ProductShape& shape,
                                                   std::span<const QM31> eq_point,
                                                   std::span<const std::vector<F>> tables,
                                                   Blake2sChannel& channel, SumcheckBackend& backend,
                                                   const QM31* claim_override) {
  check_product_tables(shape, eq_point, tables);
  // The eq factor stays out of the tables: the backend takes eq(z_i, X) out of each round.
  return run_product_sumcheck(shape, !eq_point.empty(), backend.load_tables(tables, eq_point), channel,
                              backend, claim_override);
}

ProductSumcheckProverOutput prove_product_sumcheck_owned(const ProductShape& shape,
                                                         std::span<const QM31> eq_point,
                                                         std::vector<std::vector<QM31>>&& tables,
                                                         Blake2sChannel& channel, SumcheckBackend& backend,
                                                         const QM31* claim_override) {
  check_product_tables(shape, eq_point, std::span<const std::vector<QM31>>(tables));
  return run_product_sumcheck(shape, !eq_point.empty(), backend.load_owned_tables(std::move(tables), eq_point),
                              channel, backend, claim_override);
}

ProductSumcheckVerdict verify_product_sumcheck(const ProductShape& shape, uint32_t n_vars,
                                               std::span<const QM31> eq_point, QM31 claim,
                                               const ProductSumcheckProof& proof,
                                               Blake2sChannel& channel) {
  ProductSumcheckVerdict v;
  try {
    const bool with_eq = !eq_point.empty();
    require_valid_shape(shape, with_eq, "verify_product_sumcheck");
    if (with_eq && eq_point.size() != n_vars) {
      v.reason = "sumcheck: eq point has " + std::to_string(eq_point.size()) + " coordinates, expected " +
                 std::to_string(n_vars);
      return v;
    }
    if (n_vars == 0) {
      v.reason = "sumcheck: no variable to sum over";
      return v;
    }
    channel.mix_felts(std::span<const QM31>(&claim, 1));
    const uint32_t degree = shape.degree() + (with_eq ? 1 : 0);
    SumcheckVerdict rounds = verify_sumcheck_rounds(n_vars, degree, claim, proof.sumcheck, channel);
    if (!rounds.accepted) {
      v.reason = rounds.reason;
      return v;
    }
    if (proof.final_values.size() != shape.n_factors) {
      v.reason = "sumcheck: " + std::to_string(proof.final_values.size()) + " final values, expected " +
                 std::to_string(shape.n_factors);
      return v;
    }
    if (!all_canonical(proof.final_values)) {
      v.reason = "sumcheck: a final value is not canonical";
      return v;
    }
    QM31 expected = shape.evaluate(proof.final_values.data());
    if (with_eq) expected *= eq_eval(eq_point, rounds.point);
    if (expected != rounds.claim) {
      v.reason = "sumcheck: the final values do not give the reduced claim g(r)";
      return v;
    }
    channel.mix_felts(proof.final_values);
    v.accepted = true;
    v.point = std::move(rounds.point);
    v.final_values = proof.final_values;
  } catch (const std::exception& e) {
    v.accepted = false;
    v.reason = std::string("sumcheck: ") + e.what();
  }
  return v;
}

template QM31 product_sum<M31>(const ProductShape&, std::span<const QM31>, std::span<const std::vector<M31>>);
template QM31 product_sum<QM31>(const ProductShape&, std::span<const QM31>, std::span<const std::vector<QM31>>);
template ProductSumcheckProverOutput prove_product_sumcheck<M31>(const ProductShape&, std::span<const QM31>,
                                                                 std::span<const std::vector<M31>>,
                                                                 Blake2sChannel&, SumcheckBackend&, const QM31*);
template ProductSumcheckProverOutput prove_product_sumcheck<QM31>(const ProductShape&, std::span<const QM31>,
                                                                  std::span<const std::vector<QM31>>,
                                                                  Blake2sChannel&, SumcheckBackend&, const QM31*);

}  // namespace ptvm::sumcheck
