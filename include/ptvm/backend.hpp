// ptvm::Backend: the coarse, column-level interface the circle-STARK prover core is written
// against (DESIGN.md "Backends"). Every call works on whole columns that live wherever the backend
// keeps them (host memory for "cpu", device memory for "cuda"); the prover core only moves handles
// between calls and reads small results (roots, sampled values, openings, the last FRI layer).
//
// Kinds (part of the API; each is its own handle type, so passing one where another is expected
// does not compile):
//   * Evaluations: M31 columns, column i bit-reversed on CanonicCoset(log_size(i)): storage
//     position r holds the value at circle-domain index bitrev_n(r) of
//     CanonicCoset(n).circle_domain() (PROTOCOL.md §2.4). upload_rows takes "row order": trace row
//     j is the point CanonicCoset(n).at(j) (§2.5);
//   * Coefficients: circle-polynomial coefficients in the basis of §3.1;
//   * SecureEvaluations: QM31 columns, each 4 consecutive coordinate M31 columns [a, b, c, d],
//     bit-reversed evaluations as above (LogUp interaction, composition, DEEP quotient, the FRI
//     circle layer);
//   * LineEvaluations: QM31 columns (4 coordinates each), bit-reversed on a LineDomain (the FRI
//     line layers, §6.3).
// The conversions are explicit and share the storage: SecureEvaluations::coordinates() are its 4
// coordinate columns each as M31 Evaluations (to interpolate them, or to read one coordinate), and
// from_coordinates() (SecureEvaluations, LineEvaluations) claims the converse.
//
// Backends are created by explicit factories (make_cpu_backend(); a CUDA backend would add
// make_cuda_backend()), never by static registration.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "ptvm/air/component.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/circle/point.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/stark/fri_math.hpp"

namespace ptvm {

// Columns resident on a backend, the storage behind every handle below: each backend derives its
// own (host vectors, device buffers). Each column has its own power-of-two length.
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

// The kinds of column handles ("Kinds" above): evaluation kinds may be committed and read by the
// DEEP quotient, secure kinds hold QM31 columns as 4 coordinate columns each.
namespace column_kind {
struct Evaluation {
  static constexpr bool evaluation = true, secure = false;
};
struct Coefficient {
  static constexpr bool evaluation = false, secure = false;
};
struct SecureEvaluation {
  static constexpr bool evaluation = true, secure = true;
};
struct LineEvaluation {
  static constexpr bool evaluation = true, secure = true;
};
}  // namespace column_kind

// An owning handle to a backend's columns of one kind. Move-only; the storage is shared only by
// the explicit conversions below and by a backend that wraps another's columns (dual, group,
// sharded device), which hands its inner storage on in a handle of the same kind.
template <class Kind>
class Columns {
 public:
  Columns() = default;
  explicit Columns(std::shared_ptr<ColumnSet> set) : set_(std::move(set)) {}
  Columns(Columns&&) noexcept = default;
  Columns& operator=(Columns&&) noexcept = default;
  Columns(const Columns&) = delete;
  Columns& operator=(const Columns&) = delete;

  explicit operator bool() const { return set_ != nullptr; }
  const ColumnSet& set() const { return *set_; }
  ColumnSet& set() { return *set_; }
  const std::shared_ptr<ColumnSet>& storage() const { return set_; }

  size_t n_columns() const { return set_->n_columns(); }
  uint32_t log_size(size_t column) const { return set_->log_size(column); }
  std::vector<M31> to_host(size_t column) const { return set_->to_host(column); }
  std::vector<M31> gather(size_t column, std::span<const size_t> positions) const {
    return set_->gather(column, positions);
  }

  // The 4 coordinate columns of each QM31 column, as M31 evaluations on the same domain.
  Columns<column_kind::Evaluation> coordinates() const
    requires std::is_same_v<Kind, column_kind::SecureEvaluation>
  {
    return Columns<column_kind::Evaluation>(set_);
  }
  // Coordinate columns (a multiple of 4, in QM31 order) read as this secure kind.
  static Columns from_coordinates(const Columns<column_kind::Evaluation>& coordinates)
    requires Kind::secure
  {
    if (coordinates.n_columns() % 4 != 0)
      throw Error(ErrorCategory::Internal, std::to_string(coordinates.n_columns()) +
                                               " coordinate columns are not whole QM31 columns");
    return Columns(coordinates.storage());
  }

 private:
  std::shared_ptr<ColumnSet> set_;
};

using Evaluations = Columns<column_kind::Evaluation>;
using Coefficients = Columns<column_kind::Coefficient>;
using SecureEvaluations = Columns<column_kind::SecureEvaluation>;
using LineEvaluations = Columns<column_kind::LineEvaluation>;

// A non-owning reference to the columns of a handle of any evaluation kind, never coefficients:
// what commit() hashes and what a DEEP quotient reads. A backend that wraps another makes one of
// its inner storage explicitly.
class EvaluationsRef {
 public:
  template <class Kind>
    requires Kind::evaluation
  EvaluationsRef(const Columns<Kind>& columns) : set_(&columns.set()) {}  // implicit: commit({a, b})
  explicit EvaluationsRef(const ColumnSet& set) : set_(&set) {}
  const ColumnSet& set() const { return *set_; }

 private:
  const ColumnSet* set_;
};

// A Merkle tree (BLAKE2s, PROTOCOL.md §9) over the rows of several columns of mixed sizes.
class CommittedTree {
 public:
  virtual ~CommittedTree() = default;
  virtual hash::Blake2sHash root() const = 0;
  virtual std::vector<uint32_t> column_log_sizes() const = 0;
  virtual hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& queries) const = 0;
};

// One column (by index in a Coefficients handle) evaluated at one QM31 point.
struct PointEvaluationRequest {
  size_t column;
  circle::CirclePoint<QM31> point;
};

// Inputs of the constraint evaluation of one component on CanonicCoset(log_rows + ext): all
// evaluations on that constraint domain (bit-reversed).
struct CompositionInputs {
  const Evaluations* preprocessed = nullptr;
  const Evaluations* main = nullptr;
  const Evaluations* interaction = nullptr;  // coordinate columns (4 per QM31 column); may have 0 columns
  std::span<const M31> public_inputs;
  std::span<const air::RelationChallenges> challenges;
  std::span<const QM31> coefficients;       // alpha^(M-1-j) for this component's constraints
  QM31 claimed_sum;
};

// A column reference inside the DEEP quotient computation.
struct ColumnRef {
  EvaluationsRef set;
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
  virtual Evaluations upload_rows(const std::vector<std::vector<M31>>& columns_row_order) = 0;
  // Bit-reversed evaluations back to row order (for tests and debugging).
  virtual std::vector<M31> to_host_rows(const Evaluations& evaluations, size_t column) = 0;

  // Circle IFFT: bit-reversed evaluations on CanonicCoset(n) -> n-coefficient polynomials (a
  // secure column's through its coordinates()).
  virtual Coefficients interpolate(const Evaluations& evaluations) = 0;
  // Circle FFT: coefficients of log n -> bit-reversed evaluations on CanonicCoset(n + log_extension).
  virtual Evaluations evaluate(const Coefficients& coefficients, uint32_t log_extension) = 0;
  // p(point) for each request, p given by coefficients.
  virtual std::vector<QM31> evaluate_at_points(const Coefficients& coefficients,
                                               std::span<const PointEvaluationRequest> requests) = 0;

  // Merkle commitment over all columns of the given sets, in order.
  virtual std::unique_ptr<CommittedTree> commit(const std::vector<EvaluationsRef>& sets) = 0;

  // LogUp interaction trace of one component from its preprocessed and main evaluations on the
  // trace domain: n_logup_batches QM31 columns (bit-reversed on the trace domain), and the
  // component's claimed sum (sum of all fractions). Throws ptvm::Error if a denominator is zero.
  struct Interaction {
    SecureEvaluations columns;
    QM31 claimed_sum;
  };
  virtual Interaction logup_interaction(const air::Component& component, const Evaluations& preprocessed,
                                        const Evaluations& main,
                                        std::span<const air::RelationChallenges> challenges) = 0;

  // (sum_j coefficients[j] * C_j) / V_{log_rows} on the constraint domain of the inputs:
  // one QM31 column, bit-reversed.
  virtual SecureEvaluations eval_composition(const air::Component& component, const CompositionInputs& inputs) = 0;
  // dst += src, of the same sizes.
  virtual void add_assign(SecureEvaluations& dst, const SecureEvaluations& src) = 0;
  // Columns [first, first + count) of a set, as new polynomials (e.g. the committed part of a
  // component's preprocessed columns).
  virtual Coefficients slice(const Coefficients& set, size_t first, size_t count) = 0;
  // Coefficients [begin, begin + 2^log_size) of each column, as new polynomials.
  virtual Coefficients coefficient_slice(const Coefficients& coefficients, size_t begin, uint32_t log_size) = 0;

  // The DEEP quotient column on CanonicCoset(log_size) (QM31, bit-reversed):
  //   acc <- acc * alpha^m_b + N_b(q) / D_b(q)   over the batches in order.
  virtual SecureEvaluations deep_quotients(uint32_t log_size, const std::vector<DeepQuotientBatch>& batches) = 0;

  // FRI circle -> line fold of a QM31 column on CanonicCoset(n) (bit-reversed) into a line
  // evaluation of size 2^(n-1): dst <- dst * alpha^2 + fold (dst == nullptr: a fresh column of 0).
  virtual LineEvaluations fri_fold_circle(const SecureEvaluations& column, const QM31& alpha,
                                          const LineEvaluations* accumulate_into) = 0;
  // FRI line fold of a QM31 line evaluation on `domain` (bit-reversed) to domain.doubled().
  virtual LineEvaluations fri_fold_line(const LineEvaluations& line_evaluation, const circle::LineDomain& domain,
                                        const QM31& alpha) = 0;

  // Fused stages (a backend may do each in fewer passes over the data; the defaults call the plain
  // stages, so every backend gives the same columns and roots either way):
  // The low-degree extensions of one tree's coefficient sets and the tree over all of them, as
  // evaluate(*s, log_extension) of each set followed by commit() of the results (the CUDA backend
  // hashes the leaves in the FFT's last pass).
  struct ExtendedTree {
    std::vector<Evaluations> extensions;
    std::unique_ptr<CommittedTree> tree;
  };
  virtual ExtendedTree extend_and_commit(const std::vector<const Coefficients*>& coefficients, uint32_t log_extension) {
    ExtendedTree out;
    for (const Coefficients* c : coefficients) out.extensions.push_back(evaluate(*c, log_extension));
    out.tree = commit(std::vector<EvaluationsRef>(out.extensions.begin(), out.extensions.end()));
    return out;
  }
  // A FRI fold whose result is the next committed layer: the fold, then commit({result}) (the CUDA
  // backend hashes the layer's leaves in the fold kernel).
  struct CommittedColumn {
    LineEvaluations column;
    std::unique_ptr<CommittedTree> tree;
  };
  virtual CommittedColumn fri_fold_circle_and_commit(const SecureEvaluations& column, const QM31& alpha,
                                                     const LineEvaluations* accumulate_into) {
    CommittedColumn out;
    out.column = fri_fold_circle(column, alpha, accumulate_into);
    out.tree = commit({out.column});
    return out;
  }
  virtual CommittedColumn fri_fold_line_and_commit(const LineEvaluations& line_evaluation,
                                                   const circle::LineDomain& domain, const QM31& alpha) {
    CommittedColumn out;
    out.column = fri_fold_line(line_evaluation, domain, alpha);
    out.tree = commit({out.column});
    return out;
  }

// Smallest nonce that satisfies the channel's proof-of-work check.
  virtual uint64_t grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) = 0;
};

// The reference backend (host memory, std::thread across columns/rows).
std::unique_ptr<Backend> make_cpu_backend();

}  // namespace ptvm
