// A computation graph over quantized integers, proven in one GKR-style pass from the output to the
// input (the zkML layer of DESIGN.md). Layers (layers.hpp) and the transformer block (block.hpp) are
// built from the primitives here; a zkML stack adds its own layers the same way: new tensors, nodes,
// tables, lookups, zero constraints and an advice step that fills the advice tensors.
//
// Values. Every tensor is a row-major 2^lr x 2^lc matrix of integers (int64 in the forward pass),
// embedded in M31 as x mod p; the forward pass refuses any |x| >= 2^30, so field relations between
// the values are the integer relations. MLE(T) has the row bits first (sumcheck/mle.hpp's order):
// a point is (r_row, r_col).
//
// Tensor kinds: Input (public, the verifier holds its values), Public (a constant the graph fixes:
// masks, rotation tables, row indices), Weight (packed into the model commitment), Advice (values
// the prover supplies: lookup outputs, quotients, remainders, multiplicities; packed into one
// commitment made before any challenge), Derived (the output of a node, never sent: claims on it
// are reduced to claims on the node's operands), CacheIn / CacheOut (a KV cache before and after a
// decode step: CacheIn packed into a commitment the caller holds, the end of the previous step;
// CacheOut packed and committed by the prover with the advice; both opened like the weights).
//
// Nodes (Y of shape R x C; an operand's broadcast names how a smaller tensor is read: Rows = an
// R x 1 column repeated across a row, Cols = a 1 x C row repeated down the columns):
//   Linear   Y = constant + sum_k coeff_k A_k          claim Y(p) -> A_k(p_k), values sent, checked
//   Mul      Y = A ⊙ B                                 sumcheck sum_x eq(p, x) A(x) B(x), degree 3
//   MatMul   Y = A B or A B^T (A: R x K)               sumcheck over K of restrictions, degree 2
//                                                      (K = 1: A and B at their points sent)
//   RowSum   Y(i) = sum_j A(i, j)  (Y: R x 1)          sumcheck over j, degree 1 (one column: sent)
//   PairSwap Y(i, 2k) = -A(i, 2k+1), Y(i, 2k+1) = A(i, 2k)    A at both values of the last bit
// Several claims on one tensor are first joined: sum_k a_k T(p_k) = sum_x (sum_k a_k eq(p_k, x)) T(x)
// (a_k drawn after the claims are mixed; degree 2; the verifier evaluates the eq combination).
//
// Tables: a public table (columns fixed by the graph) or a tensor table (columns are tensors, e.g.
// the entries of each softmax row, so a row maximum can be shown to be one of them). Each table has a
// tag, an M31 from the Blake2s of its name (which names its kind and parameters), and a committed
// multiplicity tensor. A lookup sends tuples of tensors of one shape into a table. With the shared
// relation elements [z, alpha] every value row is 1 / (z - (tag + sum_k alpha^(k+1) v_k)) and every
// table row -m / (z - (tag + sum_k alpha^(k+1) t_k)); one LogUp-GKR fraction sum (logup_gkr.hpp) over
// all blocks must be zero. The tag is inside the combination, so a row of one table can never stand
// in for a row of another, even with equal columns.
//
// Proof, prover and verifier alike (after the caller bound the statement):
//   mix_commitment(model); [mix_commitment(cache in)]; advice commitment (every Advice tensor
//   packed) mix_commitment; [cache-out commitment, mix_commitment];
//   [z, alpha] = draw_felts(2); fraction sum over the blocks (layout below), then
//   mix_felts(per block: its tensor columns at the block's point, the multiplicity last for tables);
//   per zero constraint Z (in order): r = draw_felts(vars(Z)), claim Z(r) = 0;
//   per packed tensor T with an extent (creation order), per pad sub-cube of T (pad_cubes order):
//   r = draw_felts(free variables), claim T(pad_cube_point(r)) = 0 (opened with T's other claims;
//   a non-zero padding entry makes a non-zero multilinear polynomial on its sub-cube, which
//   vanishes at r with probability <= vars / |QM31|);
//   output: r = draw_felts(vars(output)), claim output(r) = MLE of the public output values;
//   per node from the last to the first with claims on its output: join them (if more than one),
//   then the node's step (values sent are mixed before any challenge that depends on them);
//   Input / Public claims: evaluated by the verifier; Weight, CacheIn, Advice, CacheOut claims (in
//   that order, each kind that has claims): mapped into their packed table, joined, opened
//   (mle_commitment.hpp).
// Packing (weights, advice, fraction blocks): blocks by decreasing size (ties: creation order) at
// increasing offsets, so a block of 2^s entries at offset o is the sub-cube with top bits o >> s,
// and MLE(packed)(bits(o >> s), p) = MLE(block)(p).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/sumcheck/gkr.hpp"
#include "ptvm/sumcheck/int8_gemm.hpp"
#include "ptvm/sumcheck/mle_commitment.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"

namespace ptvm {
class Backend;
}  // namespace ptvm

namespace ptvm::zkml {

using hash::Blake2sChannel;
using TensorId = uint32_t;

enum class TensorKind : uint8_t { Input, Public, Weight, Advice, Derived, CacheIn, CacheOut };
enum class Broadcast : uint8_t { None, Rows, Cols };
enum class NodeOp : uint8_t { Linear, Mul, MatMul, RowSum, PairSwap };

struct TensorInfo {
  std::string name;
  uint32_t log_rows = 0, log_cols = 0;
  TensorKind kind = TensorKind::Derived;
  // The extent of the real entries (Graph::set_extent): rows x cols in the top-left corner of the
  // 2^log_rows x 2^log_cols hypercube; the rest is zero padding. 0 = the whole dimension.
  uint32_t rows = 0, cols = 0;
  uint32_t n_vars() const { return log_rows + log_cols; }
  size_t size() const { return size_t{1} << n_vars(); }
  size_t real_rows() const { return rows ? rows : size_t{1} << log_rows; }
  size_t real_cols() const { return cols ? cols : size_t{1} << log_cols; }
  size_t real_size() const { return real_rows() * real_cols(); }
  bool padded() const { return real_rows() != (size_t{1} << log_rows) || real_cols() != (size_t{1} << log_cols); }
};

// The padding of a tensor as aligned sub-cubes: rows [real_rows, 2^lr) and columns [real_cols,
// 2^lc) split into dyadic intervals. A sub-cube fixes the top `fixed_bits` bits of the row (or
// column) index to `prefix`; the other variables are free.
struct PadCube {
  bool columns = false;     // false: a block of rows (all columns), true: a block of columns (all rows)
  uint32_t fixed_bits = 0;  // of the row (column) index, MSB first
  size_t prefix = 0;
};
std::vector<PadCube> pad_cubes(const TensorInfo& t);
// The point of T for a pad sub-cube: the fixed bits as 0/1 and `free` (the free variables, row
// variables before column variables) elsewhere; free.size() == t.n_vars() - c.fixed_bits.
std::vector<QM31> pad_cube_point(const TensorInfo& t, const PadCube& c, std::span<const QM31> free);
// The real entries (real_rows x real_cols, row-major) placed in the padded tensor, zeros elsewhere
// (Usage error naming the tensor for a wrong count), and back.
std::vector<int64_t> pad_values(const TensorInfo& t, std::span<const int64_t> real);
std::vector<int64_t> unpad_values(const TensorInfo& t, std::span<const int64_t> padded);

struct Operand {
  TensorId tensor = 0;
  Broadcast broadcast = Broadcast::None;
  int64_t coeff = 1;  // Linear only
};

struct Node {
  NodeOp op = NodeOp::Linear;
  TensorId output = 0;
  std::vector<Operand> operands;
  int64_t constant = 0;      // Linear only
  bool transpose_b = false;  // MatMul only
};

struct Table {
  std::string name;                                // names the kind and parameters; gives the tag
  uint32_t log_rows = 0, log_cols = 0;             // the block's shape
  std::vector<std::vector<int64_t>> public_columns; // a public table ...
  std::vector<Operand> tensor_columns;             // ... or a tensor table (exactly one non-empty)
  TensorId multiplicities = 0;                     // Advice, the block's shape
  M31 tag() const;
  size_t n_columns() const { return public_columns.empty() ? tensor_columns.size() : public_columns.size(); }
};

struct Lookup {
  uint32_t table = 0;
  uint32_t log_rows = 0, log_cols = 0;  // the shape of the looked-up block
  std::vector<Operand> columns;
};

using Values = std::vector<std::vector<int64_t>>;  // per tensor, row-major
using AdviceFunction = std::function<void(Values&)>;
// The float reference: the same graph over doubles, each layer's advice step replaced by its
// unrounded counterpart (requantize = division by 2^s, tables = the functions they tabulate).
using FloatValues = std::vector<std::vector<double>>;
using FloatFunction = std::function<void(FloatValues&)>;

class Graph {
 public:
  // Building (Usage errors naming the tensor for wrong shapes).
  TensorId add_tensor(std::string name, uint32_t log_rows, uint32_t log_cols, TensorKind kind);
  // float_values: the exact values the integers round (the float reference uses them; default: the
  // integers themselves).
  TensorId add_public(std::string name, uint32_t log_rows, uint32_t log_cols, std::vector<int64_t> values,
                      std::vector<double> float_values = {});
  TensorId linear(std::string name, uint32_t log_rows, uint32_t log_cols, std::vector<Operand> operands,
                  int64_t constant = 0);
  TensorId mul(std::string name, Operand a, Operand b);  // shape: the non-broadcast operand's
  TensorId matmul(std::string name, TensorId a, TensorId b, bool transpose_b = false);
  TensorId row_sum(std::string name, TensorId a);
  TensorId pair_swap(std::string name, TensorId a);
  // A public table (deduplicated by name) or a tensor table; returns its index.
  uint32_t add_table(std::string name, std::vector<std::vector<int64_t>> columns);
  uint32_t add_tensor_table(std::string name, uint32_t log_rows, uint32_t log_cols, std::vector<Operand> columns);
  void lookup(uint32_t table, uint32_t log_rows, uint32_t log_cols, std::vector<Operand> columns);
  void assert_zero(TensorId tensor);  // a Derived tensor that must vanish everywhere
  // Marks the real extent of an Input, Weight, CacheIn or CacheOut tensor (rows <= 2^log_rows,
  // cols <= 2^log_cols, both positive); its padding must be zero: the verifier checks an Input's
  // padding itself, and the proof shows every pad sub-cube of a packed tensor zero (see Proof).
  void set_extent(TensorId tensor, uint32_t rows, uint32_t cols);
  // A step of the forward pass that fills Advice tensors from tensors computed before it.
  void add_advice_step(AdviceFunction step, FloatFunction float_step = {});
  void set_output(TensorId tensor) { output_ = tensor; }

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Table>& tables() const { return tables_; }
  const std::vector<Lookup>& lookups() const { return lookups_; }
  const std::vector<TensorId>& zeros() const { return zeros_; }
  TensorId output() const { return output_; }
  std::vector<TensorId> tensors_of_kind(TensorKind kind) const;
  const std::vector<int64_t>& public_values(TensorId t) const;
  std::optional<TensorId> find(const std::string& name) const;

  // The forward pass: `values` holds the Input and Weight tensors (right sizes, else Usage error);
  // fills Public, Derived and Advice tensors, the multiplicities last. Usage error when a value
  // leaves [-2^30, 2^30) or a looked-up tuple is not in its table (a quantization overflow).
  // strict = false: tuples missing from their tables are not counted and nothing is range-checked
  // (the cheating-witness tests run a forward pass on values a table refuses).
  // gemm: the matrix products through int8 GEMMs on that engine (sumcheck/int8_gemm.hpp; on a
  // GPU build gpu::make_gpu_int8_gemm(), cuBLASLt's int8 tensor cores), each operand split into
  // as many balanced int8 limbs as its largest entry needs: the same values as without it (a
  // product whose operands need more than four limbs, or whose K or columns are not multiples of
  // 4, is computed directly). Without an engine the products run on the library's thread pool.
  void forward(Values& values, bool strict = true, sumcheck::Int8GemmEngine* gemm = nullptr) const;
  // The same, but tuples missing from their table are not counted (the cheating-witness tests
  // recompute multiplicities after tampering with it).
  void recount_multiplicities(Values& values, bool strict) const;
  // The float reference pass: `values` holds the Input, Weight and CacheIn tensors; Usage error
  // when a layer has no float step.
  void forward_float(FloatValues& values) const;

 private:
  struct Step {
    bool is_node = true;
    uint32_t index = 0;
  };
  TensorId add_derived(std::string name, uint32_t lr, uint32_t lc, Node node);
  std::vector<TensorInfo> tensors_;
  std::vector<std::vector<int64_t>> public_values_;  // per tensor (empty unless Public)
  std::vector<Node> nodes_;
  std::vector<Table> tables_;
  std::vector<Lookup> lookups_;
  std::vector<TensorId> zeros_;
  std::vector<AdviceFunction> advice_steps_;
  std::vector<FloatFunction> float_steps_;
  std::vector<std::vector<double>> public_floats_;
  std::vector<Step> steps_;
  TensorId output_ = 0;
};

// The packed table of the tensors of one kind (Weight or Advice) in the packing order above; at
// least 2^10 entries (so the commitment has enough symbols).
struct PackedLayout {
  std::vector<TensorId> tensors;  // in packing order
  std::vector<size_t> offsets;    // per tensor id (SIZE_MAX when not packed)
  uint32_t n_vars = 0;
};
PackedLayout packed_layout(const Graph& graph, TensorKind kind);
std::vector<M31> pack(const Graph& graph, const PackedLayout& layout, const Values& values);

// The weights committed once per model. stark: the row code's encoding and the Merkle tree on that
// STARK backend (CommittedMle::commit_on: the CUDA backend on a GPU; kept in its memory for the
// openings), else on the host (re-encoded batch by batch at each opening); the same commitment.
sumcheck::CommittedMle commit_weights(const Graph& graph, const Values& values, unsigned n_threads = 0,
                                      Backend* stark = nullptr);

struct StepProof {
  std::vector<QM31> values;
  sumcheck::ProductSumcheckProof sumcheck;
};

struct GraphProof {
  sumcheck::MleCommitment advice_commitment;
  sumcheck::MleCommitment cache_out_commitment;  // graphs with CacheOut tensors only
  sumcheck::GkrProof lookup_gkr;
  std::vector<QM31> lookup_values;
  std::vector<StepProof> steps;  // the backward pass, the two packed joins last
  std::vector<sumcheck::MleOpeningProof> openings;  // per packed kind with claims, in order
};

// The packed kinds in transcript order.
inline constexpr TensorKind kPackedKinds[4] = {TensorKind::Weight, TensorKind::CacheIn, TensorKind::Advice,
                                               TensorKind::CacheOut};
// Commits a packed kind's values (CacheIn / CacheOut; commit_weights for the weights).
sumcheck::CommittedMle commit_packed(const Graph& graph, TensorKind kind, const Values& values, unsigned n_threads = 0,
                                     Backend* stark = nullptr);

// Proves the graph on `values` (from forward, possibly tampered with by a test: the prover checks
// nothing). `weights` is the model commitment of the same weights' packing (commit_weights);
// cache_in the commitment of the CacheIn tensors (graphs that have them). backend: where the
// sumchecks, restrictions and openings run (default: the CPU's); every backend gives the same bytes.
// A Weight tensor's values may be released (empty) after forward: the prover then reads them from
// the commitment's packed table (release_weight_values; the proof is the same). resident_weights:
// the backend's upload_matrix(weights.table()), made once per model and kept for its proofs;
// without it the prover uploads the table once per proof (a GPU backend copies it to the device).
// stark: where the proof's own commitments (advice, CacheOut) are encoded and hashed
// (commit_packed's); the same bytes with or without it.
GraphProof prove_graph(const Graph& graph, const Values& values, const sumcheck::CommittedMle& weights,
                       Blake2sChannel& channel, const sumcheck::CommittedMle* cache_in = nullptr,
                       sumcheck::SumcheckBackend* backend = nullptr,
                       const sumcheck::ResidentMatrix* resident_weights = nullptr, Backend* stark = nullptr);

struct GraphVerdict {
  bool accepted = false;
  std::string reason;
};

// inputs: the Input tensors' values (by tensor id; other entries ignored), output: the output
// tensor's values. Never throws on a malformed proof.
// Frees the int64 values of the graph's Weight tensors (8 bytes per padded weight): after forward,
// the prover needs only the commitment's table (prove_graph above).
void release_weight_values(const Graph& graph, Values& values);

GraphVerdict verify_graph(const Graph& graph, const Values& inputs, const std::vector<int64_t>& output,
                          const sumcheck::MleCommitment& weights, const GraphProof& proof,
                          Blake2sChannel& channel, const sumcheck::MleCommitment* cache_in = nullptr);

// x mod p for |x| < 2^30.
inline M31 to_field(int64_t x) { return M31::from_i64(x); }

}  // namespace ptvm::zkml
