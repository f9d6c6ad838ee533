// The transformer engine: every step decodes the state token, reads memory by attention over the
// hull KV cache, runs the current instruction's compiled FFN block, and turns the block's outputs
// into the next token and (maybe) a memory write. No native semantics are consulted: the next pc,
// acc, sp and the write all come out of the weights; only the flag rules, the halt bit and the
// runtime bound checks live outside the FFN (ISA.md "The compiled transformer").
#include <string>
#include <utility>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/native.hpp"
#include "ptvm/vm/transformer.hpp"

namespace ptvm::vm {
namespace {

int16_t wrap16(int64_t raw) { return static_cast<int16_t>(static_cast<uint16_t>(raw & 0xFFFF)); }

class TransformerEngine final : public Engine {
public:
  TransformerEngine(CompiledModel model, AttentionMode attention)
      : model_(std::move(model)), memory_(model_.program.initial_memory, attention),
        token_(encode_state_token(initial_state(model_.program))),
        state_(decode_state_token(token_)) {
    // The bank lookup is done once: block_of_pc_[pc] is the block in the layer holding pc.
    block_of_pc_.assign(model_.num_instructions(), nullptr);
    kernels_.resize(model_.num_instructions());
    for (const TransformerLayer& layer : model_.layers)
      for (uint32_t pc = layer.pc_begin; pc < layer.pc_end; ++pc) {
        block_of_pc_[pc] = &layer.blocks[pc - layer.pc_begin];
        kernels_[pc] = flatten(*block_of_pc_[pc]);
      }
  }

  EngineKind kind() const override { return EngineKind::Transformer; }
  const MachineState& state() const override { return state_; }
  uint64_t steps_taken() const override { return steps_; }
  std::vector<int16_t> memory() const override { return memory_.latest_values(); }

  TraceRow step() override {
    const MachineState current = decode_state_token(token_);
    const uint64_t step_number = steps_ + 1;
    if (current.halted)
      throw Error(ErrorCategory::Internal, source() + ": step() on a halted machine");
    if (current.pc >= block_of_pc_.size())
      fail(current, step_number, nullptr,
           "pc " + std::to_string(current.pc) + " outside the program (" +
               std::to_string(block_of_pc_.size()) + " instructions)");
    const CompiledBlock& block = *block_of_pc_[current.pc];
    const Instruction& ins = block.instruction;
    const size_t memory_size = memory_.size();

    TraceRow row;
    row.step = step_number;
    row.pc = current.pc;
    row.instruction = ins;

    // Stack bounds, then the attention read that feeds the operand input.
    if (block.stack_check == StackCheck::Push && current.sp == 0)
      fail(current, step_number, &ins,
           "stack overflow: " + std::string(opcode_info(ins.op).mnemonic) + " with sp == 0");
    if (block.stack_check == StackCheck::Pop && current.sp >= memory_size)
      fail(current, step_number, &ins,
           "stack underflow: " + std::string(opcode_info(ins.op).mnemonic) + " with sp " +
               std::to_string(current.sp) + " >= memory size " + std::to_string(memory_size));
    int16_t operand = 0;
    switch (block.operand_source) {
    case OperandSource::None:
      break;
    case OperandSource::Immediate:
      operand = static_cast<int16_t>(ins.operand);
      break;
    case OperandSource::MemoryAtAddress:
    case OperandSource::MemoryAtSp: {
      const size_t address = block.operand_source == OperandSource::MemoryAtSp
                                 ? current.sp
                                 : static_cast<size_t>(ins.operand);
      check_address(current, step_number, ins, static_cast<int64_t>(address));
      operand = memory_.read(address);
      row.access = {MemoryAccess::Kind::Read, static_cast<uint8_t>(address), operand, operand};
      break;
    }
    }

    // The FFN: inputs from the decoded token and the operand, outputs from the weights.
    fill_input(current, operand, block.uses_bits);
    evaluate(kernels_[current.pc], block);
    const FfnOutputVector& y = output_;

    MachineState next;
    if (y[kOutNextPc] < 0 || y[kOutNextPc] > 255) {
      if (ins.op == Opcode::Ret)
        fail(current, step_number, &ins,
             "RET to " + std::to_string(y[kOutNextPc]) + ", outside 0..255");
      throw Error(ErrorCategory::Internal,
                  source() + ": compiled block produced pc " + std::to_string(y[kOutNextPc]));
    }
    if (y[kOutNextSp] < 0 || y[kOutNextSp] > 255)
      throw Error(ErrorCategory::Internal,
                  source() + ": compiled block produced sp " + std::to_string(y[kOutNextSp]));
    next.pc = static_cast<uint8_t>(y[kOutNextPc]);
    next.sp = static_cast<uint8_t>(y[kOutNextSp]);
    // The raw acc is an exact integer (int64 weights), so round(y1) is y1 itself.
    const int64_t raw_acc = y[kOutRawAcc];
    next.acc = wrap16(raw_acc);
    apply_flag_rule(block.flag_rule, current, raw_acc, next);
    next.halted = block.halts;

    // Write enable is a threshold at 0.5; y3 is an integer, so that is y3 >= 1.
    if (2 * y[kOutWriteEnable] >= 1) {
      check_address(current, step_number, ins, y[kOutWriteAddress]);
      const auto address = static_cast<size_t>(y[kOutWriteAddress]);
      const int16_t value = wrap16(y[kOutWriteValue]);
      row.access = {MemoryAccess::Kind::Write, static_cast<uint8_t>(address), value,
                    memory_.latest(address)};
      memory_.write(address, step_number, value);
    }

    token_ = encode_state_token(next);
    state_ = next; // for state() only; the next step decodes token_
    steps_ = step_number;
    row.after = next;
    return row;
  }

private:
  // The engine's evaluation form of a block's sparse weights: when every unit has at most one term
  // per side (all the compiler emits), a unit is (gb + gc * x[gi]) * (vb + vc * x[vi]) with no
  // inner loops; a missing term reads x[0] = 1 with coefficient 0. Other blocks use
  // evaluate_sparse.
  struct FlatUnit {
    int64_t gate_bias, gate_coefficient, value_bias, value_coefficient;
    uint8_t gate_input, value_input;
  };
  struct FlatOutput {
    int64_t coefficient;
    uint32_t unit;
  };
  // Output terms grouped by output (output o uses [output_offsets[o], output_offsets[o + 1])), so
  // each output is summed in a register instead of read-modify-writes through memory.
  struct Kernel {
    bool flat = false;
    uint32_t unit_begin = 0, unit_end = 0;
    std::array<uint32_t, kFfnOutputs + 1> output_offsets{};
  };

  Kernel flatten(const CompiledBlock& block) {
    Kernel kernel;
    for (const SparseUnit& u : block.units)
      if (u.gate_end - u.gate_begin > 1 || u.value_end - u.value_begin > 1)
        return kernel;
    kernel.flat = true;
    kernel.unit_begin = static_cast<uint32_t>(flat_units_.size());
    for (const SparseUnit& u : block.units) {
      FlatUnit f{u.gate_bias, 0, u.value_bias, 0, kInOne, kInOne};
      if (u.gate_end > u.gate_begin) {
        f.gate_input = block.terms[u.gate_begin].input;
        f.gate_coefficient = block.terms[u.gate_begin].coefficient;
      }
      if (u.value_end > u.value_begin) {
        f.value_input = block.terms[u.value_begin].input;
        f.value_coefficient = block.terms[u.value_begin].coefficient;
      }
      flat_units_.push_back(f);
    }
    kernel.unit_end = static_cast<uint32_t>(flat_units_.size());
    for (int out = 0; out < kFfnOutputs; ++out) {
      kernel.output_offsets[out] = static_cast<uint32_t>(flat_outputs_.size());
      for (const OutputTerm& o : block.outputs)
        if (o.output == out)
          flat_outputs_.push_back({o.coefficient, o.unit});
    }
    kernel.output_offsets[kFfnOutputs] = static_cast<uint32_t>(flat_outputs_.size());
    return kernel;
  }

  // Writes output_ (read element-wise afterwards: copying the array whole right after the scalar
  // accumulations stalls on store forwarding).
  void evaluate(const Kernel& kernel, const CompiledBlock& block) {
    if (!kernel.flat) {
      output_ = evaluate_sparse(block, input_);
      return;
    }
    int64_t hidden[kMaxBlockHiddenUnits];
    const FlatUnit* units = flat_units_.data() + kernel.unit_begin;
    const uint32_t width = kernel.unit_end - kernel.unit_begin;
    for (uint32_t j = 0; j < width; ++j) {
      const FlatUnit& u = units[j];
      hidden[j] = (u.gate_bias + u.gate_coefficient * input_[u.gate_input]) *
                  (u.value_bias + u.value_coefficient * input_[u.value_input]);
    }
    for (int out = 0; out < kFfnOutputs; ++out) {
      int64_t sum = block.output_bias[out];
      for (uint32_t t = kernel.output_offsets[out]; t < kernel.output_offsets[out + 1]; ++t)
        sum += flat_outputs_[t].coefficient * hidden[flat_outputs_[t].unit];
      output_[out] = sum;
    }
  }

  const std::string& source() const { return model_.program.source_name; }

  [[noreturn]] void fail(const MachineState& current, uint64_t step_number, const Instruction* ins,
                         const std::string& reason) const {
    std::string where = source() + ": runtime error at step " + std::to_string(step_number) +
                        " (pc " + std::to_string(current.pc);
    if (ins != nullptr)
      where += ", " + format_instruction(*ins);
    throw Error(ErrorCategory::Runtime, where + "): " + reason);
  }

  void check_address(const MachineState& current, uint64_t step_number, const Instruction& ins,
                     int64_t address) const {
    if (address < 0 || static_cast<uint64_t>(address) >= memory_.size())
      fail(current, step_number, &ins,
           "memory address " + std::to_string(address) + " >= memory size " +
               std::to_string(memory_.size()));
  }

  void fill_input(const MachineState& s, int16_t operand, bool with_bits) {
    input_[kInOne] = 1;
    input_[kInPc] = s.pc;
    input_[kInNextPc] = static_cast<uint8_t>(s.pc + 1);
    input_[kInAcc] = s.acc;
    input_[kInZero] = s.zero_flag;
    input_[kInCarry] = s.carry_flag;
    input_[kInHalted] = s.halted;
    input_[kInSp] = s.sp;
    input_[kInOperand] = operand;
    // Blocks that read no bit leave the bit inputs stale; none of their weights touch them.
    if (with_bits) {
      const auto acc_bits = static_cast<uint16_t>(s.acc);
      const auto operand_bits = static_cast<uint16_t>(operand);
      for (int k = 0; k < 16; ++k) {
        input_[kInAccBit0 + k] = (acc_bits >> k) & 1;
        input_[kInOperandBit0 + k] = (operand_bits >> k) & 1;
      }
    }
  }

  CompiledModel model_;
  HullKvMemory memory_;
  std::vector<const CompiledBlock*> block_of_pc_;
  std::vector<Kernel> kernels_;
  std::vector<FlatUnit> flat_units_;
  std::vector<FlatOutput> flat_outputs_;
  StateToken token_;
  MachineState state_; // the decoded token, for state(); never read by step()
  uint64_t steps_ = 0;
  FfnInputVector input_{};
  FfnOutputVector output_{};
};

} // namespace

void throw_malformed_token() {
  throw Error(ErrorCategory::Internal, "malformed state token: entries must be +1/-1, pad 0");
}

std::unique_ptr<Engine> make_transformer_engine(CompiledModel model, AttentionMode attention) {
  validate_attention_mode(attention); // the same rules (and messages) as the native engine
  return std::make_unique<TransformerEngine>(std::move(model), attention);
}

std::unique_ptr<Engine> make_transformer_engine(const Program& program, AttentionMode attention,
                                                const TransformerConfig& config) {
  return make_transformer_engine(compile_program(program, config), attention);
}

} // namespace ptvm::vm
