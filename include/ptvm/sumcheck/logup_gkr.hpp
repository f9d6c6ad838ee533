// LogUp-GKR (Papini, Haböck, "Improving logarithmic derivative lookups using GKR", 2023): the
// fractional sum of a LogUp argument, sum_i p_i / q_i, proven by a GKR circuit of fraction
// additions (gkr.hpp's Fraction gate) instead of interaction columns. What is left for the
// verifier is one claim on MLE(p) and one on MLE(q) at a random point.
//
// Fractions are padded to a power of two (at least 2) with 0/1. The root fraction (P, Q) is the
// GKR output; the sum is P / Q (Q = 0 is rejected: a vanishing denominator).
//
// Lookups (prove_lookup / verify_lookup): tuples v (columns of M31) looked up in a table t with
// multiplicities m, relation elements [z, alpha] = draw_felts(2) after binding the columns:
//   sum_i 1 / (z - comb(v_i)) - sum_j m_j / (z - comb(t_j)) = 0,   comb(v) = sum_k alpha^k v_k,
// the input layer being [values: p = 1, q = z - comb(v_i)] ‖ [table: p = -m_j, q = z - comb(t_j)]
// ‖ [padding: p = 0, q = 1]. Usable for any of the VM's or the zkML layer's tables; here every
// column is public and the verifier evaluates the input MLEs itself (committed columns would hand
// the two claims to a PCS).
#pragma once
#include <span>
#include <string>
#include <vector>

#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/sumcheck/gkr.hpp"

namespace ptvm::sumcheck {

struct FractionColumns {
  std::vector<QM31> numerators, denominators;  // same length >= 1
};

struct FractionSumProverOutput {
  GkrProof proof;
  uint32_t n_vars = 0;  // log2 of the padded length
  std::vector<QM31> point;
  QM31 numerator_claim, denominator_claim;  // MLE(p)(point), MLE(q)(point) of the padded columns
};

// The padded length's log2 for n fractions (at least 1 variable).
uint32_t fraction_sum_vars(size_t n_fractions);

FractionSumProverOutput prove_fraction_sum(const FractionColumns& fractions, Blake2sChannel& channel,
                                           SumcheckBackend& backend = default_sumcheck_backend());
// The same proof from the padded columns of 2^n_vars entries given as a function (gkr.hpp's
// GkrInputFill: columns[0] the numerators, columns[1] the denominators, padding included); they
// are generated twice and never held whole beside the layer above them.
FractionSumProverOutput prove_fraction_sum(uint32_t n_vars, const GkrInputFill& fill, Blake2sChannel& channel,
                                           SumcheckBackend& backend = default_sumcheck_backend());
// The same proof from columns the caller gives up (they become the GKR's input layer, no copy).
FractionSumProverOutput prove_fraction_sum(FractionColumns&& fractions, Blake2sChannel& channel,
                                           SumcheckBackend& backend = default_sumcheck_backend());

struct FractionSumVerdict {
  bool accepted = false;
  std::string reason;
  QM31 sum;  // P / Q
  std::vector<QM31> point;
  QM31 numerator_claim, denominator_claim;  // to be discharged by the caller
};

FractionSumVerdict verify_fraction_sum(uint32_t n_vars, const GkrProof& proof, Blake2sChannel& channel);

struct LookupColumns {
  std::vector<std::vector<M31>> values;  // tuple columns of the looked-up values (same length)
  std::vector<std::vector<M31>> table;   // tuple columns of the table, as many as values
  std::vector<M31> multiplicities;       // one per table row
};

struct LookupProof {
  GkrProof gkr;
};

LookupProof prove_lookup(const LookupColumns& columns, Blake2sChannel& channel,
                         SumcheckBackend& backend = default_sumcheck_backend());

struct LookupVerdict {
  bool accepted = false;
  std::string reason;
};

// Checks the GKR proof, that the fraction sum is zero (else "unbalanced"), and the input claims
// against the public columns. Never throws.
LookupVerdict verify_lookup(const LookupColumns& columns, const LookupProof& proof, Blake2sChannel& channel);

// The padded input layer of a lookup for given relation elements (the verifier's evaluation and
// the tests use it).
FractionColumns lookup_fractions(const LookupColumns& columns, QM31 z, QM31 alpha);

}  // namespace ptvm::sumcheck
