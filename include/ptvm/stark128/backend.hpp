// Backend128: the column-level operations the F128 STARK prover (ptvm/stark128/stark128.hpp) is
// written against, the F128 twin of ptvm::Backend. Columns live wherever the backend keeps them
// (host memory for "cpu", device memory for the CUDA backend, ptvm/gpu/stark128_backend.hpp); the
// prover only moves handles between calls and reads small results (roots, sampled values,
// openings, the last FRI layer, the nonce). Every backend gives the same values bit for bit, so
// proofs are byte-identical whichever backend made them.
//
// Orders (part of the API):
//   * rows: natural order on the subgroup <w_n> (row j = w_n^j);
//   * coefficients: the monomial basis;
//   * LDE evaluations: BIT-REVERSED on a coset offset * <w_m> (position i holds
//     f(offset * w_m^bitrev(i))), offset = g (detail::lde_offset) for the trace domain D and
//     g^(2^i) for FRI layer i.
// The LogUp interaction columns are built on the host from the rows (shared prover code) and
// handed to interpolate_rows like the witness.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ptvm/field/f128.hpp"
#include "ptvm/stark128/air128.hpp"
#include "ptvm/stark128/stark128.hpp"

namespace ptvm::stark128 {

// F128 columns resident on a backend, each of its own power-of-two length.
class Columns128 {
 public:
  virtual ~Columns128() = default;
  virtual size_t n_columns() const = 0;
  virtual size_t length(size_t column) const = 0;
  // A copy of one column in host memory (tests and the dual backend look through this).
  virtual std::vector<F128> to_host(size_t column) const = 0;
};

// A BLAKE2b-256 Merkle tree over the rows of columns of one length (ptvm/hash/merkle_generic.hpp).
class Tree128 {
 public:
  virtual ~Tree128() = default;
  virtual Hash root() const = 0;
  // The rows at `positions` (ascending, distinct, < the column length) and their decommitment:
  // what GenericMerkleTree::decommit gives for these positions.
  virtual TreeOpening open(const std::vector<size_t>& positions) const = 0;
};

// One polynomial (by column of a coefficient set) at one point.
struct PointRequest128 {
  size_t column;
  F128 point;
};

// The composition H(x) = sum_c sum_j coefficients[offset_c + j] C_{c,j}(x) / (x^{2^n_c} - 1) on
// the LDE domain D of 2^log_lde points (bit-reversed). Column sets hold every component's columns
// (component c's first column at pre/main/inter_offset[c]), evaluated on D.
struct CompositionInputs128 {
  const Columns128* preprocessed = nullptr;
  const Columns128* main = nullptr;
  const Columns128* interaction = nullptr;  // may have no columns
  std::span<const uint32_t> pre_offset, main_offset, inter_offset, constraint_offset;
  std::span<const F128> public_inputs;
  std::span<const RelationChallenges128> challenges;
  std::span<const F128> coefficients;  // lambda^j over all constraints
  std::span<const F128> claimed_sums;  // per component
  uint32_t log_lde = 0;
};

// One (column, point) pair of the DEEP quotient: column `column` of set `set`, its value
// `value` at points[point], weight gamma^k.
struct DeepSample128 {
  const Columns128* set;
  size_t column;
  uint32_t point;
  F128 weight;
  F128 value;
};

class Backend128 {
 public:
  virtual ~Backend128() = default;
  virtual std::string name() const = 0;

  // Host columns in row order (each a power of two >= 1 long) -> their coefficients (as many).
  virtual std::unique_ptr<Columns128> interpolate_rows(const std::vector<const std::vector<F128>*>& rows) = 0;
  // Coefficients -> bit-reversed evaluations on D = g <w_{2^log_lde}> (2^log_lde values each).
  virtual std::unique_ptr<Columns128> extend(const Columns128& coefficients, uint32_t log_lde) = 0;
  // p(point) for each request, p given by its coefficients.
  virtual std::vector<F128> evaluate_at_points(const Columns128& coefficients,
                                               std::span<const PointRequest128> requests) = 0;
  // Merkle commitment over all columns of the sets, in order (one length for all).
  virtual std::unique_ptr<Tree128> commit(const std::vector<const Columns128*>& sets) = 0;

  // H on D (one column, bit-reversed). Throws ptvm::Error (Usage) for a component this backend
  // cannot evaluate.
  virtual std::unique_ptr<Columns128> composition(const Air128& air, const CompositionInputs128& inputs) = 0;
  // H given on D (bit-reversed, 2^log_lde values, degree < 2^(log_n + 1)) -> the coefficients of
  // H0 and H1, H = H0 + x^(2^log_n) H1 (two columns of 2^log_n).
  virtual std::unique_ptr<Columns128> composition_parts(const Columns128& h, uint32_t log_n) = 0;

  // F0(x) = sum_k weight_k (f_k(x) - value_k) / (x - points[point_k]) on D (one column).
  virtual std::unique_ptr<Columns128> deep_quotient(uint32_t log_lde, std::span<const F128> points,
                                                    std::span<const DeepSample128> samples) = 0;
  // One FRI fold of a layer (one column of 2^m values, bit-reversed on offset <w_{2^m}>) into
  // 2^(m-1) values on offset^2 <w_{2^(m-1)}>: F'(x^2) = (F(x) + F(-x))/2 + beta (F(x) - F(-x))/(2x).
  virtual std::unique_ptr<Columns128> fri_fold(const Columns128& layer, F128 offset, F128 beta) = 0;

  // The smallest nonce with detail::pow_ok(detail::pow_hash(digest, pow_bits, nonce), pow_bits).
  virtual uint64_t grind(const Hash& digest, uint32_t pow_bits) = 0;
};

// The reference backend (host memory, the library's threads across columns and positions).
std::unique_ptr<Backend128> make_cpu_backend128();
// Runs every operation on `reference` and `candidate` and compares the results in full (every
// column, value, root, opening and nonce); the first difference throws ptvm::Error (Internal)
// naming the operation, column and position. Results are the candidate's. Name "dual(<ref>,<cand>)".
std::unique_ptr<Backend128> make_dual_backend128(std::unique_ptr<Backend128> reference,
                                                 std::unique_ptr<Backend128> candidate);

}  // namespace ptvm::stark128
