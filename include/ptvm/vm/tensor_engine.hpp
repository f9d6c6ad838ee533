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
// Each machine multiplies by its own instruction's block: machines are grouped by pc and every
// group is one GEMM per matrix (gemm_nt below: plain row-major GEMM, the CPU path). The flag rules,
// stack checks, halting and the memory write follow the outputs exactly as in the transformer
// engine (ISA.md "The compiled transformer").
//
// Precision: FP64. Every weight, input and partial sum is an integer; TensorModel bounds each
// block's largest possible |value| (from the input ranges and the weights) and refuses a model
// where any could reach 2^53, so every FP64 operation is exact and rounding never happens.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/compiler.hpp"
#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/hull_cache.hpp"
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

  TensorBatch(const CompiledModel& model, const std::vector<std::vector<int16_t>>& initial_memories,
              uint64_t max_steps, AttentionMode attention, bool record_trace);

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

  uint64_t gemm_calls() const { return gemm_calls_; }  // GEMMs issued (3 per pc group per step)

 private:
  const TensorModel& tensor() const { return tensor_; }
  TensorModel tensor_;
  std::string source_;
  std::vector<Machine> machines_;
  std::vector<std::optional<TraceRow>> last_rows_;
  bool record_ = false;
  uint64_t gemm_calls_ = 0;
  // Scratch, reused across steps (no allocation per step once sizes settle).
  std::vector<double> x_, xg_, g_, v_, y_;
  std::vector<std::vector<size_t>> groups_;
  std::vector<TraceRow> pending_;
};

// One machine of a TensorBatch behind the Engine interface (for the runner: --engine tensor,
// lockstep with the other engines).
std::unique_ptr<Engine> make_tensor_engine(const Program& program, AttentionMode attention,
                                           const TransformerConfig& config);

}  // namespace ptvm::vm
