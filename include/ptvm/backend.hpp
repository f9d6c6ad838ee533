// ptvm::Backend: the coarse, column-level interface the circle-STARK prover core is written
// against (DESIGN.md "Backends"). Every call works on whole columns that live wherever the backend
// keeps them (host memory for "cpu", device memory for "cuda"); the prover core only moves handles
// between calls and reads small results (roots, sampled values, openings, the last FRI layer).
//
// Orders (part of the API):
//   * "row order": trace row j is the point CanonicCoset(n).at(j) (PROTOCOL.md §2.5);
//   * "bit-reversed": storage position r holds the value at circle-domain index bitrev_n(r) of
//     CanonicCoset(n).circle_domain() (§2.4); every evaluation held by a backend is stored so;
//   * coefficients: the circle-polynomial basis of §3.1;
//   * line evaluations (FRI): bit-reversed on a LineDomain (§6.3).
// A QM31 column is 4 coordinate M31 columns [a, b, c, d] in one ColumnSet (4 consecutive columns).
//
// Backends are created by explicit factories (make_cpu_backend(); a CUDA backend would add
// make_cuda_backend()), never by static registration.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ptvm/air/component.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/circle/point.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/stark/fri_math.hpp"

namespace ptvm {

// Columns resident on a backend. Each column has its own power-of-two length.
class ColumnSet {
 public:
  virtual ~ColumnSet() = default;
  virtual size_t n_columns() const = 0;
  virtual uint32_t log_size(size_t column) const = 0;
  // A copy of one column in host memory (tests look at any intermediate through this).
  virtual std::vector<M31> to_host(size_t column) const = 0;
  // Values at a few positions of one column (decommitments). The default copies the column.
  virtual std::vector<M31> gather(size_t column, std::span<const size_t> positions) const {
    std::vector<M31> all = to_host(column), out;
    for (size_t p : positions) out.push_back(all.at(p));
    return out;
  }
};

// A Merkle tree (BLAKE2s, PROTOCOL.md §9) over the rows of several columns of mixed sizes.
class CommittedTree {
 public:
  virtual ~CommittedTree() = default;
  virtual hash::Blake2sHash root() const = 0;
  virtual std::vector<uint32_t> column_log_sizes() const = 0;
  virtual hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& queries) const = 0;
};

// One column (by index in a ColumnSet) evaluated at one QM31 point.
struct PointEvaluationRequest {
  size_t column;
  circle::CirclePoint<QM31> point;
};

// Inputs of the constraint evaluation of one component on CanonicCoset(log_rows + ext).
struct CompositionInputs {
  const ColumnSet* preprocessed = nullptr;  // evaluations on the constraint domain (bit-reversed)
  const ColumnSet* main = nullptr;
  const ColumnSet* interaction = nullptr;   // may have 0 columns
  std::span<const M31> public_inputs;
  std::span<const air::RelationChallenges> challenges;
  std::span<const QM31> coefficients;       // alpha^(M-1-j) for this component's constraints
  QM31 claimed_sum;
};

// A column reference inside the DEEP quotient computation.
struct ColumnRef {
  const ColumnSet* set;
  size_t column;
};

// One batch of the DEEP quotient: columns sampled at the same point (PROTOCOL.md §5.4).
struct DeepQuotientBatch {
  std::vector<ColumnRef> columns;  // evaluations on CanonicCoset(log_size), bit-reversed
  stark::DeepBatch coefficients;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // Host columns in row order -> bit-reversed evaluations on CanonicCoset(log2 length).
  virtual std::unique_ptr<ColumnSet> upload_rows(const std::vector<std::vector<M31>>& columns_row_order) = 0;
  // Bit-reversed evaluations back to row order (for tests and debugging).
  virtual std::vector<M31> to_host_rows(const ColumnSet& evaluations, size_t column) = 0;

  // Circle IFFT: bit-reversed evaluations on CanonicCoset(n) -> n-coefficient polynomials.
  virtual std::unique_ptr<ColumnSet> interpolate(const ColumnSet& evaluations) = 0;
  // Circle FFT: coefficients of log n -> bit-reversed evaluations on CanonicCoset(n + log_extension).
  virtual std::unique_ptr<ColumnSet> evaluate(const ColumnSet& coefficients, uint32_t log_extension) = 0;
  // p(point) for each request, p given by coefficients.
  virtual std::vector<QM31> evaluate_at_points(const ColumnSet& coefficients,
                                               std::span<const PointEvaluationRequest> requests) = 0;

  // Merkle commitment over all columns of the given sets, in order.
  virtual std::unique_ptr<CommittedTree> commit(const std::vector<const ColumnSet*>& sets) = 0;

  // LogUp interaction trace of one component from its preprocessed and main evaluations on the
  // trace domain: 4 * n_logup_batches columns (bit-reversed on the trace domain), and the
  // component's claimed sum (sum of all fractions). Throws ptvm::Error if a denominator is zero.
  struct Interaction {
    std::unique_ptr<ColumnSet> columns;
    QM31 claimed_sum;
  };
  virtual Interaction logup_interaction(const air::Component& component, const ColumnSet& preprocessed,
                                        const ColumnSet& main,
                                        std::span<const air::RelationChallenges> challenges) = 0;

  // (sum_j coefficients[j] * C_j) / V_{log_rows} on the constraint domain of the inputs:
  // one QM31 column (4 coordinate columns), bit-reversed.
  virtual std::unique_ptr<ColumnSet> eval_composition(const air::Component& component,
                                                      const CompositionInputs& inputs) = 0;
  // dst += src, both QM31 columns (4 coordinates) of the same size.
  virtual void add_assign(ColumnSet& dst, const ColumnSet& src) = 0;
  // Columns [first, first + count) of a set, as a new set (e.g. one part of the composition).
  virtual std::unique_ptr<ColumnSet> slice(const ColumnSet& set, size_t first, size_t count) = 0;
  // Coefficients [begin, begin + 2^log_size) of each column, as new polynomials.
  virtual std::unique_ptr<ColumnSet> coefficient_slice(const ColumnSet& coefficients, size_t begin,
                                                       uint32_t log_size) = 0;

  // The DEEP quotient column on CanonicCoset(log_size) (QM31, bit-reversed):
  //   acc <- acc * alpha^m_b + N_b(q) / D_b(q)   over the batches in order.
  virtual std::unique_ptr<ColumnSet> deep_quotients(uint32_t log_size,
                                                    const std::vector<DeepQuotientBatch>& batches) = 0;

  // FRI circle -> line fold of a QM31 column on CanonicCoset(n) (bit-reversed) into a line
  // evaluation of size 2^(n-1): dst <- dst * alpha^2 + fold (dst == nullptr: a fresh column of 0).
  virtual std::unique_ptr<ColumnSet> fri_fold_circle(const ColumnSet& column, const QM31& alpha,
                                                     const ColumnSet* accumulate_into) = 0;
  // FRI line fold of a QM31 line evaluation on `domain` (bit-reversed) to domain.doubled().
  virtual std::unique_ptr<ColumnSet> fri_fold_line(const ColumnSet& line_evaluation,
                                                   const circle::LineDomain& domain, const QM31& alpha) = 0;

  // Fused stages (a backend may do each in fewer passes over the data; the defaults call the plain
  // stages, so every backend gives the same columns and roots either way):
  // The low-degree extensions of one tree's coefficient sets and the tree over all of them, as
  // evaluate(*s, log_extension) of each set followed by commit() of the results (the CUDA backend
  // hashes the leaves in the FFT's last pass).
  struct ExtendedTree {
    std::vector<std::unique_ptr<ColumnSet>> extensions;
    std::unique_ptr<CommittedTree> tree;
  };
  virtual ExtendedTree extend_and_commit(const std::vector<const ColumnSet*>& coefficients, uint32_t log_extension) {
    ExtendedTree out;
    std::vector<const ColumnSet*> sets;
    for (const ColumnSet* c : coefficients) {
      out.extensions.push_back(evaluate(*c, log_extension));
      sets.push_back(out.extensions.back().get());
    }
    out.tree = commit(sets);
    return out;
  }
  // A FRI fold whose result is the next committed layer: the fold, then commit({result}) (the CUDA
  // backend hashes the layer's leaves in the fold kernel).
  struct CommittedColumn {
    std::unique_ptr<ColumnSet> column;
    std::unique_ptr<CommittedTree> tree;
  };
  virtual CommittedColumn fri_fold_circle_and_commit(const ColumnSet& column, const QM31& alpha,
                                                     const ColumnSet* accumulate_into) {
    CommittedColumn out;
    out.column = fri_fold_circle(column, alpha, accumulate_into);
    out.tree = commit({out.column.get()});
    return out;
  }
  virtual CommittedColumn fri_fold_line_and_commit(const ColumnSet& line_evaluation, const circle::LineDomain& domain,
                                                   const QM31& alpha) {
    CommittedColumn out;
    out.column = fri_fold_line(line_evaluation, domain, alpha);
    out.tree = commit({out.column.get()});
    return out;
  }

  // Smallest nonce that satisfies the channel's proof-of-work check.
  virtual uint64_t grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) = 0;
};

// The reference backend (host memory, std::thread across columns/rows).
std::unique_ptr<Backend> make_cpu_backend();

}  // namespace ptvm
