// LogUp-GKR lookups over committed witness columns and public tables, several instances in one
// proof (logup_gkr.hpp's argument, with its input claims reduced to evaluation claims on the
// committed columns and opened with the multilinear commitment of mle_commitment.hpp).
//
// Instance i: tuple columns v_{i,0..k-1} (committed, 2^{a_i} rows each, a_i >= 1; every row is
// looked up, so pad them with a row of the table and count it), a public table
// t_{i,0..k-1} (2^{b_i} rows; pad it by repeating a row with multiplicity 0) and its committed
// multiplicities m_i (2^{b_i} entries). With the instance's relation elements [z_i, alpha_i]
// (logup_gkr.hpp's convention, comb(v) = sum_j alpha^j v_j):
//   value block: p = 1,    q = z_i - comb(v_i)     (2^{a_i} rows)
//   table block: p = -m_i, q = z_i - comb(t_i)     (2^{b_i} rows).
// Every instance draws its own elements, so one fraction sum over all blocks is zero only if
// every instance balances (except with probability ~ (total rows) / |QM31|).
//
// Layout of the one input layer (n variables, 2^n >= the total rows, n >= 1): blocks by
// decreasing size (ties: instance order, value block first), each at the next offset (always a
// multiple of its size), the rest padding p = 0, q = 1. A block of 2^s rows at offset o fixes
// the top n - s index bits to o >> s, so at the GKR's point c, with w = eq(c_top, bits(o >> s))
// and the block's point c_low = the last s coordinates,
//   MLE(p)(c) = sum_blocks w P_block(c_low),
//   MLE(q)(c) = sum_blocks w Q_block(c_low) + (1 - sum_blocks w),
// and P, Q are affine in the columns' MLEs at c_low: V_j(c_low) and M(c_low) are the prover's
// claims (opened), T_j(c_low) the verifier evaluates.
//
// Transcript: mix_u32s([instances]); per instance mix_u32s([k, a_i, b_i]), mix_commitment of each
// value column then of the multiplicities, mix_root(Blake2s of the table's values, LE u32);
// per instance [z_i, alpha_i] = draw_felts(2); the fraction-sum GKR (logup_gkr.hpp);
// mix_felts(per instance: V_0..V_{k-1}(c_low), M(c_low)); the openings in that order.
#pragma once
#include <string>
#include <vector>

#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/sumcheck/gkr.hpp"
#include "ptvm/sumcheck/mle_commitment.hpp"

namespace ptvm::sumcheck {

// The prover's instance (the committed columns are borrowed, not copied).
struct CommittedLookupWitness {
  std::vector<const CommittedMle*> values; // the looked-up tuple columns
  const CommittedMle* multiplicities = nullptr;
  std::vector<std::vector<M31>> table; // public tuple columns, as many as values
};

// The verifier's instance.
struct CommittedLookupStatement {
  std::vector<MleCommitment> values;
  MleCommitment multiplicities;
  std::vector<std::vector<M31>> table;
};

CommittedLookupStatement statement_of(const CommittedLookupWitness& witness);

struct CommittedLookupOpenings {
  std::vector<QM31> value_evaluations; // V_j(c_low of the value block)
  QM31 multiplicity_evaluation;        // M(c_low of the table block)
  std::vector<MleOpeningProof> value_openings;
  MleOpeningProof multiplicity_opening;
};

struct CommittedLookupProof {
  GkrProof gkr; // the fraction sum of every block
  std::vector<CommittedLookupOpenings> instances;
};

// Usage error when the instances are malformed (shapes, a missing commitment, a table size that
// is not 2^{multiplicities' variables}). A lookup that does not balance gives a proof that fails.
CommittedLookupProof prove_committed_lookups(std::span<const CommittedLookupWitness> instances,
                                             Blake2sChannel& channel,
                                             SumcheckBackend& backend = default_sumcheck_backend());

struct CommittedLookupVerdict {
  bool accepted = false;
  std::string reason;
};

// Never throws.
CommittedLookupVerdict verify_committed_lookups(std::span<const CommittedLookupStatement> instances,
                                                const CommittedLookupProof& proof,
                                                Blake2sChannel& channel);

} // namespace ptvm::sumcheck
