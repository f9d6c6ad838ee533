// The tensor engine: the compiled weights run as dense tensor operations, for B machines at once
// (the batch dimension is jax_tvm's vmap), a third engine beside the transformer and the native
// interpreter.
//
// Per step, for the machines still running:
//   X [B x 41]   the state encodings (make_ffn_input), the operand being the attention read of
//                the step over each machine's hull KV cache (hull_cache.hpp, the same 2D hard
//                attention as the transformer engine);
//   G = X Wg^T + bg, V = X Wv^T + bv   (hidden width H of the model, the gate and value sides),
//   Hd = G (.) V                        (the bilinear product),
//   Y = Hd Wo^T + bo  [B x 6]          next pc, raw acc, next sp, write enable, address, value.
// Each machine multiplies by its own instruction's block: machines are grouped by pc (their rows of
// X are gathered group by group) and a TensorFfn computes Y for every group. The CPU TensorFfn
// issues one GEMM per matrix and group (gemm_nt below: plain row-major GEMM); the GPU ones
// (ptvm/gpu/tensor_batch.hpp: the project's FP64 kernel, or cuBLAS) compute all groups of a step
// in a fixed number of launches. Everything else of a step is host code shared by every TensorFfn:
// the attention read, the stack checks, the flag rules, halting and the memory write follow the
// outputs exactly as in the transformer engine (ISA.md "The compiled transformer").
//
// Precision: FP64. Every weight, input and partial sum is an integer; TensorModel bounds each
// block's largest possible |value| (from the input ranges and the weights) and refuses a model
// where any could reach 2^53, so every FP64 operation is exact and rounding never happens.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/compiler.hpp"
#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/hull_cache.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vm/trace.hpp"

namespace ptvm::vm {

// C[m x n] = A[m x k] . B[n x k]^T + bias[n] (bias may be null); row-major, leading dimensions
// equal to the row lengths. The CPU tensor path.
void gemm_nt(size_t m, size_t n, size_t k, const double* a, const double* b, const double* bias, double* c);

// The compiled model as stacked dense matrices, one slice per pc (hidden width padded to H).
struct TensorModel {
  size_t n_blocks = 0;
  int hidden = 0;                   // H: the widest block of the program
  std::vector<double> gate;         // [n_blocks][H][41]
  std::vector<double> gate_bias;    // [n_blocks][H]
  std::vector<double> value;        // [n_blocks][H][41]
  std::vector<double> value_bias;   // [n_blocks][H]
  std::vector<double> output;       // [n_blocks][6][H]
  std::vector<double> output_bias;  // [n_blocks][6]
  std::vector<CompiledBlock> blocks;  // per pc: instruction, operand source, flag rule, checks
  double max_abs_value = 0;           // the bound proven at build time (< 2^53)

  // Throws ptvm::Error(Usage) when a block could leave the exact FP64 range.
  static TensorModel build(const CompiledModel& model);
};

// The rows of one step's X that use one block: machines at pc `block`, rows [first_row,
// first_row + rows) of X (and of Y). A step's groups are in ascending block order, back to back.
struct TensorRowGroup {
  size_t block = 0;
  size_t first_row = 0;
  size_t rows = 0;
};

// How a TensorBatch evaluates one step's FFN: for every row r of group g (block p = g.block),
//   Y[r] = ((X[r] Wg_p^T + bg_p) (.) (X[r] Wv_p^T + bv_p)) Wo_p^T + bo_p.
// x is rows x kFfnInputs and y rows x kFfnOutputs, row-major (rows = the groups' total). Every
// implementation is exact (FP64 on integers below 2^53, TensorModel's bound), so all of them give
// the same Y, bit for bit. Not thread-safe: one TensorFfn per TensorBatch.
class TensorFfn {
 public:
  virtual ~TensorFfn() = default;
  // "cpu", "hostsim: own FP64 kernel", "cuda: cuBLAS", ...
  virtual std::string name() const = 0;
  virtual void evaluate(const TensorModel& model, std::span<const TensorRowGroup> groups,
                        std::span<const double> x, std::span<double> y) = 0;
};

// The CPU TensorFfn: three gemm_nt per group (gate, value, output) and the product in between.
std::unique_ptr<TensorFfn> make_cpu_tensor_ffn();

// B machines of one program (each with its own initial memory) in lockstep.
class TensorBatch {
 public:
  struct Machine {
    MachineState state;
    HullKvMemory memory;
    uint64_t steps = 0;
    uint64_t max_steps = 0;
    std::optional<std::string> error;  // a runtime error stopped it (the message names the step)
    ErrorCategory error_category = ErrorCategory::Runtime;
    std::vector<TraceRow> rows;        // when recording
    bool done() const { return state.halted || error || steps >= max_steps; }
  };

  // ffn: makes the TensorFfn the steps use (given the built TensorModel); empty = the CPU one.
  TensorBatch(const CompiledModel& model, const std::vector<std::vector<int16_t>>& initial_memories,
              uint64_t max_steps, AttentionMode attention, bool record_trace,
              const TensorFfnFactory& ffn = {});
  TensorBatch(const TensorBatch&) = delete;
  TensorBatch& operator=(const TensorBatch&) = delete;

  size_t size() const { return machines_.size(); }
  const Machine& machine(size_t b) const { return machines_[b]; }
  bool all_done() const;
  // One step of every machine that is not done; returns how many stepped. A machine whose step
  // fails records the error (and stops); the others go on.
  size_t step();
  // Steps until every machine is done.
  void run();
  // The last row a machine produced in step() (valid right after step(), for machines that stepped).
  const std::optional<TraceRow>& last_row(size_t b) const { return last_rows_[b]; }

  // The logical GEMMs of the steps so far: 3 per pc group per step, whichever TensorFfn ran them
  // (a GPU TensorFfn reports its own launches).
  uint64_t gemm_calls() const { return gemm_calls_; }
  const TensorModel& tensor() const { return tensor_; }
  TensorFfn& ffn() const { return *ffn_; }

 private:
  TensorModel tensor_;
  std::unique_ptr<TensorFfn> ffn_;
  std::string source_;
  std::vector<Machine> machines_;
  std::vector<std::optional<TraceRow>> last_rows_;
  bool record_ = false;
  uint64_t gemm_calls_ = 0;
  // Scratch, reused across steps (no allocation per step once sizes settle).
  std::vector<double> x_, xg_, y_;
  std::vector<std::vector<size_t>> groups_;
  std::vector<TensorRowGroup> row_groups_;
  std::vector<TraceRow> pending_;
};

// One machine of a TensorBatch behind the Engine interface (for the runner: --engine tensor,
// lockstep with the other engines).
// ffn as in TensorBatch (empty: the CPU TensorFfn).
std::unique_ptr<Engine> make_tensor_engine(const Program& program, AttentionMode attention,
                                           const TransformerConfig& config,
                                           const TensorFfnFactory& ffn = {});

}  // namespace ptvm::vm
