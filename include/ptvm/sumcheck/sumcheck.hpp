// Sumcheck over MLEs (Lund, Fortnow, Karloff, Nisan 1992; Thaler, "Proofs, Arguments, and
// Zero-Knowledge" §4.1), over QM31 with the Blake2s channel.
//
// Statement: sum_{x in {0,1}^n} g(x) = claim, with
//   g(x) = eq(z, x) * sum_t c_t prod_{j in t} f_j(x)    (the eq factor optional: z empty = none)
// and f_j MLEs given by tables (mle.hpp's order: the first variable is the index's top bit).
// Rounds fix x_0 first. Round i's polynomial p_i(X) (degree <= d, d = the shape's degree, +1 with
// the eq factor) is sent as its d + 1 coefficients (p(X) = sum_k c_k X^k).
//
// Transcript, prover and verifier alike:
//   mix_felts([claim]); for each round: mix_felts(coefficients of p_i), r_i = draw_felt();
//   at the end mix_felts(final_values) (f_j(r), j < n_factors, eq not included).
// The verifier checks p_i(0) + p_i(1) = claim_i, sets claim_{i+1} = p_i(r_i), and finally
// claim_n = eq(z, r) * g'(final_values). The final values are claims on the f_j at r that the caller
// must discharge (evaluate a public table, open a commitment, or reduce further as GKR does).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/sumcheck/backend.hpp"
#include "ptvm/sumcheck/round.hpp"

namespace ptvm::sumcheck {

using hash::Blake2sChannel;

struct RoundPolynomial {
  std::vector<QM31> coefficients;  // p(X) = sum_k coefficients[k] X^k
  QM31 evaluate(QM31 x) const;     // Horner
  QM31 sum_over_boolean() const;   // p(0) + p(1)
};

// The coefficients of the polynomial of degree <= d with the given values at 0, 1, ..., d.
std::vector<QM31> coefficients_from_evaluations(std::span<const QM31> evaluations);

struct SumcheckProof {
  std::vector<RoundPolynomial> rounds;
};

// What a verifier says. On acceptance: point = (r_0, ..., r_{n-1}) and claim = the reduced claim
// g(point). On rejection: reason says where and why.
struct SumcheckVerdict {
  bool accepted = false;
  std::string reason;
  std::vector<QM31> point;
  QM31 claim;
};

// The rounds alone: n_vars rounds of degree <= max_degree, from claim. Mixes the round
// polynomials and draws the challenges (not the claim: callers mix it). Never throws on a
// malformed proof.
SumcheckVerdict verify_sumcheck_rounds(uint32_t n_vars, uint32_t max_degree, QM31 claim,
                                       const SumcheckProof& proof, Blake2sChannel& channel);

// A product sumcheck: the rounds plus the claimed final values f_j(r).
struct ProductSumcheckProof {
  SumcheckProof sumcheck;
  std::vector<QM31> final_values;
};

struct ProductSumcheckProverOutput {
  ProductSumcheckProof proof;
  std::vector<QM31> point;
  QM31 claim;  // the honest sum (what the prover mixed first)
};

// Proves sum_x g(x) = sum of the tables' g (computed by the prover; claim_override, when given,
// is used instead: the tamper tests prove false claims with it). tables[j] is f_j, all of
// 2^n_vars entries (n_vars >= 1); eq_point is z (z.size() == n_vars) or empty.
template <class F>
ProductSumcheckProverOutput prove_product_sumcheck(const ProductShape& shape,
                                                   std::span<const QM31> eq_point,
                                                   std::span<const std::vector<F>> tables,
                                                   Blake2sChannel& channel,
                                                   SumcheckBackend& backend = default_sumcheck_backend(),
                                                   const QM31* claim_override = nullptr);

// The same proof from QM31 tables the caller gives up (the backend keeps them instead of a copy).
ProductSumcheckProverOutput prove_product_sumcheck_owned(const ProductShape& shape,
                                                         std::span<const QM31> eq_point,
                                                         std::vector<std::vector<QM31>>&& tables,
                                                         Blake2sChannel& channel,
                                                         SumcheckBackend& backend = default_sumcheck_backend(),
                                                         const QM31* claim_override = nullptr);

struct ProductSumcheckVerdict {
  bool accepted = false;
  std::string reason;
  std::vector<QM31> point;         // r
  std::vector<QM31> final_values;  // claims f_j(r) = final_values[j], to be discharged
};

ProductSumcheckVerdict verify_product_sumcheck(const ProductShape& shape, uint32_t n_vars,
                                               std::span<const QM31> eq_point, QM31 claim,
                                               const ProductSumcheckProof& proof,
                                               Blake2sChannel& channel);

// The plain sum sum_x g(x) (for the prover's claim and the brute-force tests).
template <class F>
QM31 product_sum(const ProductShape& shape, std::span<const QM31> eq_point,
                 std::span<const std::vector<F>> tables);

// Checks a shape against the limits of round.hpp (Usage error naming what is wrong).
void require_valid_shape(const ProductShape& shape, bool with_eq, const char* who);

}  // namespace ptvm::sumcheck
