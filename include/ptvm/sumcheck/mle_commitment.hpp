// A multilinear polynomial commitment over M31 with QM31 openings: the tensor-code scheme of
// Ligero / Brakedown (Ames, Hazay, Ishai, Venkitasubramaniam 2017; Golovnev, Lee, Setty, Thaler,
// Wahby 2023, "Brakedown" §4) with the circle code of the circle STARK as the row code and the
// Blake2s Merkle tree of hash/merkle.hpp. Committed operands (weights) are opened with it.
//
// The table of f (2^n M31, mle.hpp's order) is a 2^a x 2^b matrix M (a = log_rows: the first a
// variables pick the row). Each row is encoded as the bit-reversed values of a circle polynomial
// on CanonicCoset(b) extended to CanonicCoset(b + log_blowup) (circle/lde.hpp: a linear MDS code
// of rate 2^-log_blowup); the Merkle leaf j holds column j of the encoded matrix (every row's
// j-th symbol). For z = (z_row, z_col), f(z) = eq(z_row)^T M eq(z_col).
//
// Opening (prover and verifier, after the caller bound the commitment with mix_commitment):
//   mix_felts(z); mix_felts([v]); rho = draw_felts(a);
//   prover sends u_prox = eq(rho)^T M and u_eval = eq(z_row)^T M (QM31 rows of 2^b);
//   mix_felts(u_prox); mix_felts(u_eval);
//   positions = draw_distinct_queries(b + log_blowup, n_queries); the prover opens those columns;
//   gamma = draw_felt().
// The verifier checks v = <u_eval, eq(z_col)>, the Merkle paths, and at every opened column j
// that Enc(u)[j] = <w, column j> for (u, w) = (u_prox, eq(rho)) and (u_eval, eq(z_row)), both at
// once: Enc(u_prox + gamma u_eval)[j] = <eq(rho) + gamma eq(z_row), column j> (a failing pair
// passes with probability 2^-124: gamma comes after the rows and the opened columns are fixed).
// The tensor-structured proximity combination eq(rho) is the one Diamond and Posen prove sound
// ("Proximity testing with logarithmic randomness", 2023).
//
// Soundness (unique-decoding regime): a column test passes a matrix 3/8-far from the code of rate
// 1/4 with probability <= 5/8, so 148 queries give ~100 bits (148 log2(8/5) = 100.3), plus the
// proximity-combination and Schwartz-Zippel terms (~2^-100 for n <= 40 over QM31's 2^124).
// Not zero-knowledge. Prover: two restrictions of M (one pass each) and the column openings;
// verifier: O(2^b log 2^b + n_queries 2^a) field operations.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ptvm/circle/fft.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/sumcheck/backend.hpp"

namespace ptvm {
class Backend;
class ColumnSet;
class CommittedTree;
}  // namespace ptvm

namespace ptvm::sumcheck {

struct MleCommitmentParams {
  uint32_t log_blowup = 2;   // code rate 1/4
  uint32_t n_queries = 148;  // ~100 bits at rate 1/4 (see above)
};

// The public part: what a verifier needs (and the caller binds into the channel).
struct MleCommitment {
  hash::Blake2sHash root;
  uint32_t n_vars = 0;
  uint32_t log_rows = 0;
  uint32_t log_blowup = 0;
  uint32_t n_queries = 0;
  uint32_t log_cols() const { return n_vars - log_rows; }
};

// mix_u32s([n_vars, log_rows, log_blowup, n_queries]) then mix_root(root).
void mix_commitment(hash::Blake2sChannel& channel, const MleCommitment& commitment);

// The default split: a = n/2 - 2 (shorter columns, cheaper verifier), kept in [0, n - 1].
uint32_t default_log_rows(uint32_t n_vars);

struct MleOpeningProof {
  std::vector<QM31> proximity_row;   // eq(rho)^T M
  std::vector<QM31> evaluation_row;  // eq(z_row)^T M
  std::vector<M31> queried_values;   // per opened column (ascending), its 2^a symbols
  hash::MerkleDecommitment decommitment;
};

// Whether a CommittedMle keeps its encoded matrix (2^log_blowup x the table, in M31) after the
// commitment or recomputes it from the table when it opens (less memory, one more encoding).
// Recomputed never holds the encoding whole: the rows are encoded a batch at a time, the Merkle
// leaves hashed incrementally across the batches (hash::MerkleTree::from_leaf_hashes), and the
// opening re-encodes the batches keeping only the opened columns; the same root and openings.
enum class MleEncodingStorage : uint8_t { Kept, Recomputed };

class CommittedMle {
 public:
  // table: 2^n_vars M31 (n_vars in 1..40), copied. log_rows < n_vars. Usage errors otherwise
  // (also for b + log_blowup above 30 or fewer symbols than queries). n_threads for the encoding
  // and the Merkle tree (0 = all cores).
  static CommittedMle commit(std::vector<M31> table, uint32_t log_rows, const MleCommitmentParams& params = {},
                             unsigned n_threads = 0, MleEncodingStorage storage = MleEncodingStorage::Kept);
  // The same commitment with the row code's encoding and the Merkle tree on a STARK backend
  // (ptvm/backend.hpp: the CUDA backend's circle FFT and Merkle kernels on a GPU, the same kernels
  // under host-sim, or the CPU backend): the rows uploaded as evaluations, interpolated, evaluated
  // on the blowup domain and committed there, the encoding and the tree kept on the backend for
  // the openings (device memory: 2^log_blowup x the table). The same root and opening bytes as
  // commit(); `stark` must outlive the result.
  static CommittedMle commit_on(Backend& stark, std::vector<M31> table, uint32_t log_rows,
                                const MleCommitmentParams& params = {});

  CommittedMle();
  ~CommittedMle();
  CommittedMle(CommittedMle&&) noexcept;
  CommittedMle& operator=(CommittedMle&&) noexcept;

  const MleCommitment& commitment() const { return commitment_; }
  std::span<const M31> table() const { return table_; }
  // f(point), computed from the table.
  QM31 evaluate(std::span<const QM31> point) const;
  // The opening proof of f(point) = value (value is the prover's claim, usually evaluate(point);
  // a wrong value gives a proof that fails). evaluation_row, when given, is eq(z_row)^T M already
  // computed by the caller (the matmul prover has it: the restriction of a left operand).
  // table_on_backend: backend.upload_matrix(table()) made once for many openings (a model's
  // weights); without it the opening uploads the table once for its two restrictions.
  MleOpeningProof open(std::span<const QM31> point, QM31 value, hash::Blake2sChannel& channel,
                       SumcheckBackend& backend = default_sumcheck_backend(),
                       const std::vector<QM31>* evaluation_row = nullptr,
                       const ResidentMatrix* table_on_backend = nullptr) const;

 private:
  // The checked public parameters and the table (moved in); no encoding yet (Usage errors naming who).
  static CommittedMle with_parameters(std::vector<M31> table, uint32_t log_rows, const MleCommitmentParams& params,
                                      const char* who);
  std::vector<M31> table_;
  std::vector<std::vector<M31>> encode_rows() const;
  // Rows [first, first + batch.size()) encoded, batch by batch (Recomputed).
  void for_each_encoded_batch(const std::function<void(size_t first, const std::vector<std::vector<M31>>& batch)>& f) const;

  MleCommitment commitment_;
  unsigned n_threads_ = 0;
  std::vector<std::vector<M31>> encoded_rows_;  // empty with MleEncodingStorage::Recomputed
  std::unique_ptr<hash::MerkleTree> tree_;
  // commit_on: the encoded rows and their tree on the backend (tree_ and encoded_rows_ empty).
  std::shared_ptr<ColumnSet> backend_encoding_;
  std::unique_ptr<CommittedTree> backend_tree_;
};

// nullopt = accepted, else the reason. Never throws.
std::optional<std::string> verify_mle_opening(const MleCommitment& commitment, std::span<const QM31> point,
                                              QM31 value, const MleOpeningProof& proof,
                                              hash::Blake2sChannel& channel);

}  // namespace ptvm::sumcheck
