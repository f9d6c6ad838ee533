// The compiler: a Program becomes one gated bilinear feed-forward block per instruction (per pc),
// as ISA.md "The compiled transformer" describes.
//
//   inputs  x (41): [1, pc, p1, acc, zero, carry, halted, sp, operand,
//                    acc bits 0..15, operand bits 0..15]          (bits of the u16 view, as 0/1)
//   hidden  h_j = (Wg_j . x + bg_j) * (Wv_j . x + bv_j)
//   outputs y (6) = Wo h + bo: next pc, raw acc, next sp, write enable, write address, write value
//
// A linear term uses one hidden unit with gate 1 (bias) and the input on the value side; a
// product term routes one input through each side. Every weight is a small integer, so blocks are
// evaluated in int64 and every output is exact (no rounding ever happens).
//
// Two forms of the same weights: a sparse form (per hidden unit its few nonzero gate/value terms,
// per output its nonzero hidden contributions) that the engine evaluates, and a dense form
// (matrices of ff_dim hidden units) for inspection and for the prover.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/isa.hpp"

namespace ptvm::vm {

inline constexpr int kFfnInputs = 41;
inline constexpr int kFfnOutputs = 6;
// Evaluation buffers hold this many hidden units; the widest block the compiler emits is OR/XOR:
// 16 x (a_k, b_k, a_k * b_k) + p1 + sp = 50.
inline constexpr int kMaxBlockHiddenUnits = 64;

// Input positions of x.
enum FfnInput : uint8_t {
  kInOne = 0,
  kInPc = 1,
  kInNextPc = 2, // p1 = (pc + 1) mod 256
  kInAcc = 3,
  kInZero = 4,
  kInCarry = 5,
  kInHalted = 6,
  kInSp = 7,
  kInOperand = 8,      // the immediate, or the value read by attention
  kInAccBit0 = 9,      // acc bit k at 9 + k
  kInOperandBit0 = 25, // operand bit k at 25 + k
};

// Output positions of y.
enum FfnOutput : uint8_t {
  kOutNextPc = 0,
  kOutRawAcc = 1,
  kOutNextSp = 2,
  kOutWriteEnable = 3,
  kOutWriteAddress = 4,
  kOutWriteValue = 5,
};

using FfnInputVector = std::array<int64_t, kFfnInputs>;
using FfnOutputVector = std::array<int64_t, kFfnOutputs>;

// Builds x from the registers and the operand value (bits of the u16 two's complement views).
FfnInputVector make_ffn_input(const MachineState& state, int16_t operand);

// What feeds the operand input.
enum class OperandSource : uint8_t {
  None,            // 0
  Immediate,       // the instruction's immediate
  MemoryAtAddress, // attention read of MEM[operand address]
  MemoryAtSp,      // attention read of MEM[sp] (POP, RET)
};

// How the flags follow from the outputs (outside the FFN, ISA.md's instruction classes).
enum class FlagRule : uint8_t {
  Keep,       // NOP, STORE, PUSH, CALL, RET, JMP, JZ, JNZ, HALT: flags unchanged
  ClearCarry, // LOADI, LOAD, POP, AND, OR, XOR: zero = (acc == 0), carry = false
  Overflow,   // ADD, SUB, MUL: carry = raw acc outside i16
  SignedLess, // CMP: carry = (a - v < 0) exactly, i.e. a < v signed
};

// The flags after a block ran, by its rule; next.acc must already hold the wrapped raw acc. Shared
// by every engine that runs the compiled weights (transformer, tensor).
inline void apply_flag_rule(FlagRule rule, const MachineState& current, int64_t raw_acc, MachineState& next) {
  switch (rule) {
    case FlagRule::Keep:
      next.zero_flag = current.zero_flag;
      next.carry_flag = current.carry_flag;
      break;
    case FlagRule::ClearCarry:
      next.zero_flag = next.acc == 0;
      next.carry_flag = false;
      break;
    case FlagRule::Overflow:
      next.zero_flag = next.acc == 0;
      next.carry_flag = raw_acc < -32768 || raw_acc > 32767;
      break;
    case FlagRule::SignedLess:
      next.zero_flag = next.acc == 0;
      next.carry_flag = raw_acc < 0;  // raw acc = a - v exactly
      break;
  }
}

// Stack bound checked before the block runs.
enum class StackCheck : uint8_t {
  None,
  Push, // PUSH, CALL: sp == 0 is a stack overflow
  Pop,  // POP, RET: sp >= memory size is a stack underflow
};

struct SparseTerm {
  uint8_t input = 0; // position in x
  int64_t coefficient = 0;
};

// One hidden unit: (gate_bias + sum gate terms) * (value_bias + sum value terms).
struct SparseUnit {
  int64_t gate_bias = 0;
  int64_t value_bias = 0;
  uint16_t gate_begin = 0, gate_end = 0;   // range in CompiledBlock::terms
  uint16_t value_begin = 0, value_end = 0; // range in CompiledBlock::terms
};

struct OutputTerm {
  uint8_t output = 0; // position in y
  uint8_t unit = 0;   // hidden unit of the block
  int64_t coefficient = 0;
};

// The compiled block of one instruction.
struct CompiledBlock {
  uint8_t pc = 0;
  Instruction instruction;
  OperandSource operand_source = OperandSource::None;
  FlagRule flag_rule = FlagRule::Keep;
  StackCheck stack_check = StackCheck::None;
  bool halts = false;     // HALT sets halted
  bool uses_bits = false; // some unit reads an acc/operand bit (the engine fills them only then)
  std::vector<SparseUnit> units;
  std::vector<SparseTerm> terms;
  std::vector<OutputTerm> outputs;
  FfnOutputVector output_bias{};

  int hidden_width() const { return static_cast<int>(units.size()); }
};

// The dense form of a block: hidden_width rows (ff_dim; units past the block's own are zero).
struct DenseBlock {
  int hidden_width = 0;
  std::vector<int64_t> gate_weights;   // hidden_width x 41, row-major
  std::vector<int64_t> gate_bias;      // hidden_width
  std::vector<int64_t> value_weights;  // hidden_width x 41, row-major
  std::vector<int64_t> value_bias;     // hidden_width
  std::vector<int64_t> output_weights; // 6 x hidden_width, row-major
  FfnOutputVector output_bias{};

  int64_t gate(int unit, int input) const { return gate_weights[unit * kFfnInputs + input]; }
  int64_t value(int unit, int input) const { return value_weights[unit * kFfnInputs + input]; }
  int64_t output(int out, int unit) const { return output_weights[out * hidden_width + unit]; }
};

// A layer holds the blocks of a contiguous bank of pcs [pc_begin, pc_end).
struct TransformerLayer {
  uint32_t pc_begin = 0, pc_end = 0;
  std::vector<CompiledBlock> blocks; // blocks[i] is pc pc_begin + i
};

struct CompiledModel {
  Program program;
  TransformerConfig config;
  std::vector<TransformerLayer> layers; // config.num_layers of them, covering every pc in order

  size_t num_instructions() const { return program.instructions.size(); }
  const CompiledBlock& block(size_t pc) const; // throws ptvm::Error(Usage) when pc is outside
  DenseBlock dense_block(size_t pc) const;     // hidden width config.ff_dim
  int max_hidden_width() const;
};

// Validates the configuration (d_model 36 = the token width, heads of dimension 2, num_layers >= 1,
// vocab 256) and the program (<= 256 instructions, <= 255 memory cells, operands in range), then
// compiles. Throws ptvm::Error(Usage) naming the source and instruction on bad input, including a
// block wider than config.ff_dim.
CompiledModel compile_program(const Program& program, const TransformerConfig& config);

// Evaluates a block from its sparse form (only the block's own units).
FfnOutputVector evaluate_sparse(const CompiledBlock& block, const FfnInputVector& x);
// Evaluates the dense form with every matrix entry (the naive oracle for evaluate_sparse).
FfnOutputVector evaluate_dense(const DenseBlock& block, const FfnInputVector& x);

// The dense form of one block at the given hidden width (>= block.hidden_width()).
DenseBlock to_dense(const CompiledBlock& block, int hidden_width);

// The pc banks of each layer: num_instructions split into num_layers contiguous ranges whose sizes
// differ by at most one (earlier layers take the extra instruction).
std::vector<std::pair<uint32_t, uint32_t>> layer_banks(size_t num_instructions, int num_layers);

} // namespace ptvm::vm
