// Matrix products C = A B over M31 proven by one sumcheck over the inner dimension
// (Thaler, "Time-optimal interactive proofs for circuit evaluation", CRYPTO 2013, §5):
//   MLE(C)(r_row, r_col) = sum_{k in {0,1}^log K} MLE(A)(r_row, k) * MLE(B)(k, r_col).
// The prover restricts A by eq(r_row, .) and B by eq(., r_col) in one pass over each matrix
// (SumcheckBackend::restrict_rows / restrict_columns: O(m k + k n), no O(m k n) work), then proves
// the degree-2 sum; the verifier is left with one claim on MLE(A) and one on MLE(B) at points it
// chose, discharged by evaluating a public operand or opening a committed one (weights).
//
// Matrices are row-major with power-of-two dimensions; MLE(M) has the row bits first, then the
// column bits (index i * cols + j, mle.hpp's order).
//
// Batches: products C_t = A_t B_t with one inner dimension K share a sumcheck:
//   sum_t lambda^t MLE(C_t)(r_row(A_t), r_col(B_t)) = sum_k sum_t lambda^t A_t~(k) B_t~(k).
// Products naming the same left operand share its row point (so A~ is computed once and one claim
// on A comes out), and likewise for a shared right operand (e.g. Q, K, V = X W_q, X W_k, X W_v
// give one claim on X).
//
// Transcript (prover and verifier): mix_u32s(dimensions of every operand, then each product's
// operand indices); for each product t in order: draw the row point of its left operand if not yet
// drawn (draw_felts(log rows)), then the column point of its right operand if not yet drawn;
// mix_felts(claimed values of MLE(C_t)); lambda = draw_felt(); the product sumcheck of
// sumcheck.hpp (degree 2, no eq factor; factors: distinct left operands in order of first use,
// then distinct right operands) with claim sum_t lambda^t v_t.
// Public inputs (matrices, commitment roots) must be mixed by the caller BEFORE prove/verify
// (mix_public_matrix), so the points are drawn after the statement is fixed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/sumcheck/backend.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"

namespace ptvm::sumcheck {

struct MatrixShape {
  size_t rows = 0, cols = 0;  // powers of two
};

struct MatrixView {
  std::span<const M31> values;  // row-major, rows * cols
  size_t rows = 0, cols = 0;
  MatrixShape shape() const { return {rows, cols}; }
};

// A claim MLE(M)(point) = value on one matrix (operand index into the batch, or a product's C).
struct MleClaim {
  std::vector<QM31> point;
  QM31 value;
};

struct MatmulProductIndices {
  uint32_t left = 0, right = 0;  // C_t = operands[left] * operands[right]
};

struct MatmulStatement {
  std::vector<MatrixShape> operands;
  std::vector<MatmulProductIndices> products;
};

struct MatmulProof {
  std::vector<QM31> product_claims;  // v_t = MLE(C_t)(r_row, r_col)
  ProductSumcheckProof sumcheck;
};

// What the verifier (and the prover) is left with.
struct MatmulClaims {
  std::vector<MleClaim> products;        // one per product: the claim on MLE(C_t)
  std::vector<MleClaim> left_operands;   // per operand index: its claim as a left operand (or empty
                                         // point and zero when it is never a left operand)
  std::vector<MleClaim> right_operands;  // the same as a right operand
  std::vector<bool> is_left, is_right;
};

struct MatmulProverOutput {
  MatmulProof proof;
  MatmulClaims claims;
};

// Proves the products of `statement` from the operands and the products' values C_t (outputs[t],
// row-major). A wrong C_t gives a proof that fails (the prover does not check). Usage errors for
// shapes that do not match, dimensions that are not powers of two, K < 2, or more distinct
// operands or products than the sumcheck shape holds (ProductShape::kMaxFactors/kMaxTerms).
MatmulProverOutput prove_matmul(const MatmulStatement& statement, std::span<const MatrixView> operands,
                                std::span<const MatrixView> outputs, Blake2sChannel& channel,
                                SumcheckBackend& backend = default_sumcheck_backend());

struct MatmulVerdict {
  bool accepted = false;
  std::string reason;
  MatmulClaims claims;  // on acceptance: what must still be discharged
};

// The reduction alone: checks the sumcheck and returns the claims on the C_t and on the operands.
// Never throws on a malformed proof or statement.
MatmulVerdict verify_matmul(const MatmulStatement& statement, const MatmulProof& proof,
                            Blake2sChannel& channel);

// Discharges a claim on a public matrix by evaluating its MLE (O(rows * cols)); a reason when the
// value or the point's length is wrong, empty when it holds.
std::string check_public_claim(const MleClaim& claim, const MatrixView& matrix, const char* what);

// MLE(M)(row_point, col_point) through one restriction: O(rows * cols).
QM31 evaluate_matrix_mle(const MatrixView& matrix, std::span<const QM31> row_point,
                         std::span<const QM31> col_point,
                         SumcheckBackend& backend = default_sumcheck_backend());

// Binds a public matrix into the channel: mix_u32s([rows lo, rows hi, cols lo, cols hi]) then
// mix_root(d), d the root of the MerkleTree (hash/merkle.hpp) whose columns are the values cut
// into min(256, n) contiguous chunks (n = rows * cols a power of two), else the Blake2s of the
// values as LE u32 words.
void mix_public_matrix(Blake2sChannel& channel, const MatrixView& matrix);

// C = A B over M31 (the CPU reference for tests and witnesses; exact, lazy reduction).
std::vector<M31> multiply_m31(const MatrixView& a, const MatrixView& b);

}  // namespace ptvm::sumcheck
