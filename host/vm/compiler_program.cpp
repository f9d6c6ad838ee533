// Program -> per-instruction gated bilinear FFN blocks (ISA.md "The compiled transformer").
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/compiler.hpp"

namespace ptvm::vm {
namespace {

// The weight of bit k in the i16 value: the top bit counts -2^15 (two's complement), so a
// bitwise result comes out as the signed value directly.
int64_t signed_bit_weight(int k) { return k == 15 ? -(int64_t{1} << 15) : int64_t{1} << k; }

// Adds hidden units and output contributions to one block. Linear units are shared: the same
// input feeding two outputs (acc into raw acc and write value) uses one unit.
class BlockBuilder {
public:
  explicit BlockBuilder(CompiledBlock& block) : block_(block) { linear_unit_.fill(-1); }

  // y[out] += coefficient * x[input]: a unit with gate 1 and x[input] on the value side.
  void add_linear(FfnOutput out, uint8_t input, int64_t coefficient) {
    if (coefficient == 0)
      return;
    if (linear_unit_[input] < 0) {
      SparseUnit unit;
      unit.gate_bias = 1;
      unit.value_begin = term_count();
      block_.terms.push_back({input, 1});
      unit.value_end = term_count();
      unit.gate_begin = unit.gate_end = unit.value_begin;
      linear_unit_[input] = static_cast<int>(block_.units.size());
      block_.units.push_back(unit);
    }
    block_.outputs.push_back({out, static_cast<uint8_t>(linear_unit_[input]), coefficient});
  }

  // y[out] += coefficient * x[a] * x[b]: x[a] on the gate side, x[b] on the value side.
  void add_product(FfnOutput out, uint8_t a, uint8_t b, int64_t coefficient) {
    if (coefficient == 0)
      return;
    SparseUnit unit;
    unit.gate_begin = term_count();
    block_.terms.push_back({a, 1});
    unit.gate_end = unit.value_begin = term_count();
    block_.terms.push_back({b, 1});
    unit.value_end = term_count();
    const auto index = static_cast<uint8_t>(block_.units.size());
    block_.units.push_back(unit);
    block_.outputs.push_back({out, index, coefficient});
  }

  void add_bias(FfnOutput out, int64_t value) { block_.output_bias[out] += value; }

private:
  uint16_t term_count() const { return static_cast<uint16_t>(block_.terms.size()); }
  CompiledBlock& block_;
  std::array<int, kFfnInputs> linear_unit_{};
};

std::string source_of(const Program& program) {
  return program.source_name.empty() ? std::string("<memory>") : program.source_name;
}

[[noreturn]] void bad_instruction(const Program& program, size_t pc, const std::string& why) {
  const Instruction& ins = program.instructions[pc];
  std::string where = source_of(program) + ": instruction " + std::to_string(pc);
  if (ins.line != 0)
    where += " (line " + std::to_string(ins.line) + ")";
  throw Error(ErrorCategory::Usage, where + ": " + why);
}

void validate_config(const TransformerConfig& config) {
  auto fail = [](const std::string& why) {
    throw Error(ErrorCategory::Usage, "transformer config: " + why);
  };
  if (config.d_model != 36)
    fail("d_model must be 36 (the state token width), got " + std::to_string(config.d_model));
  if (config.num_heads <= 0 || config.d_model % config.num_heads != 0 ||
      config.d_model / config.num_heads != 2)
    fail("num_heads must give heads of dimension 2 (the 2D attention keys), got " +
         std::to_string(config.num_heads));
  if (config.num_layers < 1)
    fail("num_layers must be >= 1, got " + std::to_string(config.num_layers));
  if (config.ff_dim < 1)
    fail("ff_dim must be >= 1, got " + std::to_string(config.ff_dim));
  if (config.vocab_size != 256)
    fail("vocab_size must be 256, got " + std::to_string(config.vocab_size));
  if (config.max_seq_len < 1)
    fail("max_seq_len must be >= 1, got " + std::to_string(config.max_seq_len));
}

void validate_program(const Program& program) {
  if (program.instructions.size() > kMaxInstructions)
    throw Error(ErrorCategory::Usage,
                source_of(program) + ": " + std::to_string(program.instructions.size()) +
                    " instructions, at most " + std::to_string(kMaxInstructions));
  if (program.initial_memory.size() > kMaxMemory)
    throw Error(ErrorCategory::Usage, source_of(program) + ": memory size " +
                                          std::to_string(program.initial_memory.size()) +
                                          " exceeds " + std::to_string(kMaxMemory));
  for (size_t pc = 0; pc < program.instructions.size(); ++pc) {
    const Instruction& ins = program.instructions[pc];
    if (static_cast<int>(ins.op) >= kNumOpcodes)
      bad_instruction(program, pc, "unknown opcode " + std::to_string(static_cast<int>(ins.op)));
    const OpcodeInfo& info = opcode_info(ins.op);
    const std::string name(info.mnemonic);
    switch (info.operand) {
    case OperandKind::None:
      if (ins.operand != 0)
        bad_instruction(program, pc, name + " takes no operand");
      break;
    case OperandKind::Immediate:
      if (ins.operand < -32768 || ins.operand > 32767)
        bad_instruction(program, pc,
                        name + " immediate " + std::to_string(ins.operand) + " outside i16");
      break;
    case OperandKind::Address:
    case OperandKind::Target:
      if (ins.operand < 0 || ins.operand > 255)
        bad_instruction(program, pc,
                        name + " operand " + std::to_string(ins.operand) + " outside 0..255");
      break;
    }
  }
}

CompiledBlock compile_instruction(const Instruction& ins, uint8_t pc) {
  CompiledBlock block;
  block.pc = pc;
  block.instruction = ins;
  BlockBuilder b(block);
  const int64_t operand = ins.operand;

  // Most instructions: pc := p1, acc and sp unchanged.
  auto next_pc_p1 = [&] { b.add_linear(kOutNextPc, kInNextPc, 1); };
  auto keep_acc = [&] { b.add_linear(kOutRawAcc, kInAcc, 1); };
  auto keep_sp = [&] { b.add_linear(kOutNextSp, kInSp, 1); };
  auto set_source = [&](OperandSource immediate_or_memory) {
    block.operand_source = immediate_or_memory;
  };
  const bool memory_form = opcode_info(ins.op).operand == OperandKind::Address;
  auto arithmetic_source = [&] {
    set_source(memory_form ? OperandSource::MemoryAtAddress : OperandSource::Immediate);
  };
  // Bitwise: per bit k, the result bit r_k(a_k, b_k) as multilinear polynomial
  // r = lin_a * a + lin_b * b + prod * a * b, weighted by the bit's signed weight.
  auto bitwise = [&](int64_t lin_a, int64_t lin_b, int64_t prod) {
    next_pc_p1();
    for (int k = 0; k < 16; ++k) {
      const auto a = static_cast<uint8_t>(kInAccBit0 + k);
      const auto v = static_cast<uint8_t>(kInOperandBit0 + k);
      const int64_t w = signed_bit_weight(k);
      b.add_linear(kOutRawAcc, a, lin_a * w);
      b.add_linear(kOutRawAcc, v, lin_b * w);
      b.add_product(kOutRawAcc, a, v, prod * w);
    }
    keep_sp();
    arithmetic_source();
    block.flag_rule = FlagRule::ClearCarry;
    block.uses_bits = true;
  };

  switch (ins.op) {
  case Opcode::Nop:
    next_pc_p1(), keep_acc(), keep_sp();
    break;
  case Opcode::LoadI:
  case Opcode::Load:
    next_pc_p1();
    b.add_linear(kOutRawAcc, kInOperand, 1);
    keep_sp();
    arithmetic_source();
    block.flag_rule = FlagRule::ClearCarry;
    break;
  case Opcode::Store:
    next_pc_p1(), keep_acc(), keep_sp();
    b.add_bias(kOutWriteEnable, 1);
    b.add_bias(kOutWriteAddress, operand);
    b.add_linear(kOutWriteValue, kInAcc, 1);
    break;
  case Opcode::Push:
    next_pc_p1(), keep_acc();
    b.add_linear(kOutNextSp, kInSp, 1);
    b.add_bias(kOutNextSp, -1);
    b.add_bias(kOutWriteEnable, 1);
    b.add_linear(kOutWriteAddress, kInSp, 1);
    b.add_bias(kOutWriteAddress, -1);
    b.add_linear(kOutWriteValue, kInAcc, 1);
    block.stack_check = StackCheck::Push;
    break;
  case Opcode::Pop:
    next_pc_p1();
    b.add_linear(kOutRawAcc, kInOperand, 1);
    b.add_linear(kOutNextSp, kInSp, 1);
    b.add_bias(kOutNextSp, 1);
    block.operand_source = OperandSource::MemoryAtSp;
    block.flag_rule = FlagRule::ClearCarry;
    block.stack_check = StackCheck::Pop;
    break;
  case Opcode::AddI:
  case Opcode::AddM:
    next_pc_p1();
    b.add_linear(kOutRawAcc, kInAcc, 1);
    b.add_linear(kOutRawAcc, kInOperand, 1);
    keep_sp();
    arithmetic_source();
    block.flag_rule = FlagRule::Overflow;
    break;
  case Opcode::SubI:
  case Opcode::SubM:
  case Opcode::CmpI:
  case Opcode::CmpM:
    next_pc_p1();
    b.add_linear(kOutRawAcc, kInAcc, 1);
    b.add_linear(kOutRawAcc, kInOperand, -1);
    keep_sp();
    arithmetic_source();
    block.flag_rule = (ins.op == Opcode::CmpI || ins.op == Opcode::CmpM) ? FlagRule::SignedLess
                                                                         : FlagRule::Overflow;
    break;
  case Opcode::MulI:
  case Opcode::MulM:
    next_pc_p1();
    b.add_product(kOutRawAcc, kInAcc, kInOperand, 1);
    keep_sp();
    arithmetic_source();
    block.flag_rule = FlagRule::Overflow;
    break;
  case Opcode::AndI:
  case Opcode::AndM:
    bitwise(0, 0, 1); // a*b
    break;
  case Opcode::OrI:
  case Opcode::OrM:
    bitwise(1, 1, -1); // a + b - ab
    break;
  case Opcode::XorI:
  case Opcode::XorM:
    bitwise(1, 1, -2); // a + b - 2ab
    break;
  case Opcode::Call:
    b.add_bias(kOutNextPc, operand);
    keep_acc();
    b.add_linear(kOutNextSp, kInSp, 1);
    b.add_bias(kOutNextSp, -1);
    b.add_bias(kOutWriteEnable, 1);
    b.add_linear(kOutWriteAddress, kInSp, 1);
    b.add_bias(kOutWriteAddress, -1);
    b.add_linear(kOutWriteValue, kInNextPc, 1);
    block.stack_check = StackCheck::Push;
    break;
  case Opcode::Ret:
    b.add_linear(kOutNextPc, kInOperand, 1);
    keep_acc();
    b.add_linear(kOutNextSp, kInSp, 1);
    b.add_bias(kOutNextSp, 1);
    block.operand_source = OperandSource::MemoryAtSp;
    block.stack_check = StackCheck::Pop;
    break;
  case Opcode::Jmp:
    b.add_bias(kOutNextPc, operand);
    keep_acc(), keep_sp();
    break;
  case Opcode::Jz: // p1 + t*zero - zero*p1
    b.add_linear(kOutNextPc, kInNextPc, 1);
    b.add_linear(kOutNextPc, kInZero, operand);
    b.add_product(kOutNextPc, kInZero, kInNextPc, -1);
    keep_acc(), keep_sp();
    break;
  case Opcode::Jnz: // t + zero*p1 - t*zero
    b.add_bias(kOutNextPc, operand);
    b.add_product(kOutNextPc, kInZero, kInNextPc, 1);
    b.add_linear(kOutNextPc, kInZero, -operand);
    keep_acc(), keep_sp();
    break;
  case Opcode::Halt:
    b.add_linear(kOutNextPc, kInPc, 1);
    keep_acc(), keep_sp();
    block.halts = true;
    break;
  }
  return block;
}

} // namespace

FfnInputVector make_ffn_input(const MachineState& state, int16_t operand) {
  FfnInputVector x{};
  x[kInOne] = 1;
  x[kInPc] = state.pc;
  x[kInNextPc] = static_cast<uint8_t>(state.pc + 1);
  x[kInAcc] = state.acc;
  x[kInZero] = state.zero_flag;
  x[kInCarry] = state.carry_flag;
  x[kInHalted] = state.halted;
  x[kInSp] = state.sp;
  x[kInOperand] = operand;
  const auto acc_bits = static_cast<uint16_t>(state.acc);
  const auto operand_bits = static_cast<uint16_t>(operand);
  for (int k = 0; k < 16; ++k) {
    x[kInAccBit0 + k] = (acc_bits >> k) & 1;
    x[kInOperandBit0 + k] = (operand_bits >> k) & 1;
  }
  return x;
}

std::vector<std::pair<uint32_t, uint32_t>> layer_banks(size_t num_instructions, int num_layers) {
  if (num_layers < 1)
    throw Error(ErrorCategory::Usage, "num_layers must be >= 1, got " + std::to_string(num_layers));
  std::vector<std::pair<uint32_t, uint32_t>> banks;
  const size_t layers = static_cast<size_t>(num_layers);
  const size_t base = num_instructions / layers, extra = num_instructions % layers;
  uint32_t begin = 0;
  for (size_t l = 0; l < layers; ++l) {
    const auto size = static_cast<uint32_t>(base + (l < extra ? 1 : 0));
    banks.emplace_back(begin, begin + size);
    begin += size;
  }
  return banks;
}

CompiledModel compile_program(const Program& program, const TransformerConfig& config) {
  validate_config(config);
  validate_program(program);
  CompiledModel model;
  model.program = program;
  model.config = config;
  for (const auto& [begin, end] : layer_banks(program.instructions.size(), config.num_layers)) {
    TransformerLayer layer;
    layer.pc_begin = begin;
    layer.pc_end = end;
    for (uint32_t pc = begin; pc < end; ++pc) {
      CompiledBlock block = compile_instruction(program.instructions[pc], static_cast<uint8_t>(pc));
      if (block.hidden_width() > kMaxBlockHiddenUnits)
        throw Error(ErrorCategory::Internal, "compiled block wider than the engine's buffer");
      if (block.hidden_width() > config.ff_dim)
        bad_instruction(program, pc,
                        std::string(opcode_info(block.instruction.op).mnemonic) + " needs " +
                            std::to_string(block.hidden_width()) + " hidden units, ff_dim is " +
                            std::to_string(config.ff_dim));
      layer.blocks.push_back(std::move(block));
    }
    model.layers.push_back(std::move(layer));
  }
  return model;
}

const CompiledBlock& CompiledModel::block(size_t pc) const {
  for (const TransformerLayer& layer : layers)
    if (pc >= layer.pc_begin && pc < layer.pc_end)
      return layer.blocks[pc - layer.pc_begin];
  throw Error(ErrorCategory::Usage, "no compiled block for pc " + std::to_string(pc));
}

DenseBlock CompiledModel::dense_block(size_t pc) const {
  return to_dense(block(pc), config.ff_dim);
}

int CompiledModel::max_hidden_width() const {
  int width = 0;
  for (const TransformerLayer& layer : layers)
    for (const CompiledBlock& block : layer.blocks)
      width = block.hidden_width() > width ? block.hidden_width() : width;
  return width;
}

DenseBlock to_dense(const CompiledBlock& block, int hidden_width) {
  if (hidden_width < block.hidden_width())
    throw Error(ErrorCategory::Usage, "dense width " + std::to_string(hidden_width) +
                                          " below the block's " +
                                          std::to_string(block.hidden_width()) + " units");
  DenseBlock dense;
  const size_t h = static_cast<size_t>(hidden_width);
  dense.hidden_width = hidden_width;
  dense.gate_weights.assign(h * kFfnInputs, 0);
  dense.gate_bias.assign(h, 0);
  dense.value_weights.assign(h * kFfnInputs, 0);
  dense.value_bias.assign(h, 0);
  dense.output_weights.assign(kFfnOutputs * h, 0);
  dense.output_bias = block.output_bias;
  for (size_t j = 0; j < block.units.size(); ++j) {
    const SparseUnit& unit = block.units[j];
    dense.gate_bias[j] = unit.gate_bias;
    dense.value_bias[j] = unit.value_bias;
    for (size_t t = unit.gate_begin; t < unit.gate_end; ++t)
      dense.gate_weights[j * kFfnInputs + block.terms[t].input] += block.terms[t].coefficient;
    for (size_t t = unit.value_begin; t < unit.value_end; ++t)
      dense.value_weights[j * kFfnInputs + block.terms[t].input] += block.terms[t].coefficient;
  }
  for (const OutputTerm& o : block.outputs)
    dense.output_weights[o.output * h + o.unit] += o.coefficient;
  return dense;
}

FfnOutputVector evaluate_sparse(const CompiledBlock& block, const FfnInputVector& x) {
  std::array<int64_t, kMaxBlockHiddenUnits> hidden;
  const SparseTerm* terms = block.terms.data();
  for (size_t j = 0; j < block.units.size(); ++j) {
    const SparseUnit& unit = block.units[j];
    int64_t gate = unit.gate_bias, value = unit.value_bias;
    for (uint16_t t = unit.gate_begin; t < unit.gate_end; ++t)
      gate += terms[t].coefficient * x[terms[t].input];
    for (uint16_t t = unit.value_begin; t < unit.value_end; ++t)
      value += terms[t].coefficient * x[terms[t].input];
    hidden[j] = gate * value;
  }
  FfnOutputVector y = block.output_bias;
  for (const OutputTerm& o : block.outputs)
    y[o.output] += o.coefficient * hidden[o.unit];
  return y;
}

FfnOutputVector evaluate_dense(const DenseBlock& block, const FfnInputVector& x) {
  const size_t h = static_cast<size_t>(block.hidden_width);
  std::vector<int64_t> hidden(h);
  for (size_t j = 0; j < h; ++j) {
    int64_t gate = block.gate_bias[j], value = block.value_bias[j];
    for (size_t i = 0; i < kFfnInputs; ++i) {
      gate += block.gate_weights[j * kFfnInputs + i] * x[i];
      value += block.value_weights[j * kFfnInputs + i] * x[i];
    }
    hidden[j] = gate * value;
  }
  FfnOutputVector y = block.output_bias;
  for (size_t o = 0; o < kFfnOutputs; ++o)
    for (size_t j = 0; j < h; ++j)
      y[o] += block.output_weights[o * h + j] * hidden[j];
  return y;
}

} // namespace ptvm::vm
