// The compiled FFN blocks: the weights of representative instructions (ISA.md's formulas), widths,
// the dense form against the sparse form, and the layer banks.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/compiler.hpp"

namespace ptvm::vm {
namespace {

using Op = Opcode;

Program one_instruction(Op op, int32_t operand) {
  Program p;
  p.instructions = {{op, operand}};
  p.initial_memory = {0, 0, 0, 0};
  return p;
}

int32_t sample_operand(Op op) {
  switch (opcode_info(op).operand) {
  case OperandKind::None:
    return 0;
  case OperandKind::Immediate:
    return -1234;
  case OperandKind::Address:
    return 3;
  case OperandKind::Target:
    return 77;
  }
  return 0;
}

// The hidden units of a dense block, as (gate inputs, value inputs) with their coefficients.
struct UnitShape {
  int64_t gate_bias, value_bias;
  std::vector<std::pair<int, int64_t>> gate, value;
};
UnitShape shape(const DenseBlock& d, int unit) {
  UnitShape s{d.gate_bias[unit], d.value_bias[unit], {}, {}};
  for (int i = 0; i < kFfnInputs; ++i) {
    if (d.gate(unit, i) != 0)
      s.gate.emplace_back(i, d.gate(unit, i));
    if (d.value(unit, i) != 0)
      s.value.emplace_back(i, d.value(unit, i));
  }
  return s;
}
bool is_linear(const UnitShape& s, int input) {
  return s.gate_bias == 1 && s.gate.empty() && s.value_bias == 0 && s.value.size() == 1 &&
         s.value[0] == std::make_pair(input, int64_t{1});
}
bool is_product(const UnitShape& s, int a, int b) {
  return s.gate_bias == 0 && s.value_bias == 0 && s.gate.size() == 1 && s.value.size() == 1 &&
         s.gate[0] == std::make_pair(a, int64_t{1}) && s.value[0] == std::make_pair(b, int64_t{1});
}

// JZ t: next_pc = p1 + t*zero - zero*p1, i.e. a linear p1 unit (coefficient 1), a linear zero unit
// (coefficient t) and a product zero*p1 (coefficient -1) into output 0, nothing else into it.
TEST(Compiler, JzWeightsFollowTheIsaFormula) {
  const CompiledModel m = compile_program(one_instruction(Op::Jz, 77), TransformerConfig{});
  const DenseBlock d = m.dense_block(0);
  EXPECT_EQ(d.hidden_width, 72);
  EXPECT_EQ(d.output_bias[kOutNextPc], 0);
  int seen_p1 = 0, seen_zero = 0, seen_product = 0;
  for (int j = 0; j < d.hidden_width; ++j) {
    const int64_t w = d.output(kOutNextPc, j);
    if (w == 0)
      continue;
    const UnitShape s = shape(d, j);
    if (is_linear(s, kInNextPc)) {
      EXPECT_EQ(w, 1);
      ++seen_p1;
    } else if (is_linear(s, kInZero)) {
      EXPECT_EQ(w, 77);
      ++seen_zero;
    } else if (is_product(s, kInZero, kInNextPc)) {
      EXPECT_EQ(w, -1);
      ++seen_product;
    } else {
      ADD_FAILURE() << "unexpected unit " << j << " feeding next_pc";
    }
  }
  EXPECT_EQ(seen_p1 + seen_zero + seen_product, 3);
  EXPECT_EQ(seen_p1 * seen_zero * seen_product, 1);
  EXPECT_EQ(m.block(0).hidden_width(), 5); // + acc and sp kept through linear units
  // Its values: zero -> t, not zero -> p1.
  MachineState s;
  s.pc = 10;
  s.zero_flag = true;
  EXPECT_EQ(evaluate_dense(d, make_ffn_input(s, 0))[kOutNextPc], 77);
  s.zero_flag = false;
  EXPECT_EQ(evaluate_dense(d, make_ffn_input(s, 0))[kOutNextPc], 11);
}

TEST(Compiler, BitwiseWidthsAndWeights) {
  const TransformerConfig config;
  for (Op op : {Op::OrI, Op::OrM, Op::XorI, Op::XorM})
    EXPECT_EQ(
        compile_program(one_instruction(op, sample_operand(op)), config).block(0).hidden_width(),
        50)
        << opcode_info(op).mnemonic;
  for (Op op : {Op::AndI, Op::AndM})
    EXPECT_EQ(
        compile_program(one_instruction(op, sample_operand(op)), config).block(0).hidden_width(),
        18);
  // XORM: per bit a + b - 2ab with the bit's signed weight (bit 15 counts -2^15).
  const CompiledModel m = compile_program(one_instruction(Op::XorM, 2), config);
  const DenseBlock d = m.dense_block(0);
  for (int k = 0; k < 16; ++k) {
    const int64_t weight = k == 15 ? -32768 : (int64_t{1} << k);
    int found = 0;
    for (int j = 0; j < d.hidden_width; ++j) {
      const UnitShape s = shape(d, j);
      if (is_linear(s, kInAccBit0 + k) || is_linear(s, kInOperandBit0 + k)) {
        EXPECT_EQ(d.output(kOutRawAcc, j), weight);
        ++found;
      } else if (is_product(s, kInAccBit0 + k, kInOperandBit0 + k)) {
        EXPECT_EQ(d.output(kOutRawAcc, j), -2 * weight);
        ++found;
      }
    }
    EXPECT_EQ(found, 3) << "bit " << k;
  }
  EXPECT_EQ(m.block(0).operand_source, OperandSource::MemoryAtAddress);
  EXPECT_EQ(m.block(0).flag_rule, FlagRule::ClearCarry);
}

TEST(Compiler, EveryInstructionFitsTheDefaultWidth) {
  Program p;
  for (int op = 0; op < kNumOpcodes; ++op)
    p.instructions.push_back({static_cast<Op>(op), sample_operand(static_cast<Op>(op))});
  p.initial_memory = std::vector<int16_t>(8, 0);
  const CompiledModel m = compile_program(p, TransformerConfig{});
  EXPECT_EQ(m.max_hidden_width(), 50);
  for (int pc = 0; pc < kNumOpcodes; ++pc) {
    EXPECT_LE(m.block(pc).hidden_width(), 72);
    EXPECT_GE(m.block(pc).hidden_width(), 2);
    EXPECT_EQ(m.block(pc).pc, pc);
  }
  // Where the operand comes from and how flags follow, per ISA.md's classes.
  EXPECT_EQ(m.block(static_cast<int>(Op::LoadI)).operand_source, OperandSource::Immediate);
  EXPECT_EQ(m.block(static_cast<int>(Op::Pop)).operand_source, OperandSource::MemoryAtSp);
  EXPECT_EQ(m.block(static_cast<int>(Op::Ret)).operand_source, OperandSource::MemoryAtSp);
  EXPECT_EQ(m.block(static_cast<int>(Op::Store)).operand_source, OperandSource::None);
  EXPECT_EQ(m.block(static_cast<int>(Op::CmpM)).flag_rule, FlagRule::SignedLess);
  EXPECT_EQ(m.block(static_cast<int>(Op::MulI)).flag_rule, FlagRule::Overflow);
  EXPECT_EQ(m.block(static_cast<int>(Op::Pop)).flag_rule, FlagRule::ClearCarry);
  EXPECT_EQ(m.block(static_cast<int>(Op::Push)).flag_rule, FlagRule::Keep);
  EXPECT_EQ(m.block(static_cast<int>(Op::Call)).stack_check, StackCheck::Push);
  EXPECT_EQ(m.block(static_cast<int>(Op::Ret)).stack_check, StackCheck::Pop);
  EXPECT_TRUE(m.block(static_cast<int>(Op::Halt)).halts);
  EXPECT_EQ(m.block(static_cast<int>(Op::MulM)).hidden_width(), 3); // p1, acc*operand, sp
}

// The sparse form (what the engine runs) equals the naive dense matrix evaluation on random inputs,
// for every opcode and a spread of operands.
TEST(Compiler, SparseFormEqualsDenseForm) {
  std::mt19937_64 rng(11);
  for (int op = 0; op < kNumOpcodes; ++op) {
    for (int32_t operand : {0, 1, 5, 255, -1, 32767, -32768}) {
      const Op code = static_cast<Op>(op);
      const OperandKind kind = opcode_info(code).operand;
      if (kind == OperandKind::None && operand != 0)
        continue;
      if ((kind == OperandKind::Address || kind == OperandKind::Target) &&
          (operand < 0 || operand > 255))
        continue;
      const CompiledModel m = compile_program(one_instruction(code, operand), TransformerConfig{});
      const DenseBlock d = m.dense_block(0);
      for (int trial = 0; trial < 50; ++trial) {
        const uint64_t r = rng();
        MachineState s;
        s.pc = static_cast<uint8_t>(r);
        s.acc = static_cast<int16_t>(r >> 8);
        s.sp = static_cast<uint8_t>(r >> 24);
        s.zero_flag = (r >> 32) & 1;
        s.carry_flag = (r >> 33) & 1;
        const FfnInputVector x = make_ffn_input(s, static_cast<int16_t>(r >> 40));
        ASSERT_EQ(evaluate_sparse(m.block(0), x), evaluate_dense(d, x))
            << opcode_info(code).mnemonic << " " << operand;
      }
    }
  }
}

// Bitwise blocks compute the exact i16 AND/OR/XOR for every operand pair in a sweep.
TEST(Compiler, BitwiseBlocksAreExact) {
  const TransformerConfig config;
  const CompiledBlock and_block = compile_program(one_instruction(Op::AndM, 0), config).block(0);
  const CompiledBlock or_block = compile_program(one_instruction(Op::OrM, 0), config).block(0);
  const CompiledBlock xor_block = compile_program(one_instruction(Op::XorM, 0), config).block(0);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const auto a = static_cast<int16_t>(rng()), v = static_cast<int16_t>(rng());
    MachineState s;
    s.acc = a;
    const FfnInputVector x = make_ffn_input(s, v);
    ASSERT_EQ(evaluate_sparse(and_block, x)[kOutRawAcc], static_cast<int16_t>(a & v));
    ASSERT_EQ(evaluate_sparse(or_block, x)[kOutRawAcc], static_cast<int16_t>(a | v));
    ASSERT_EQ(evaluate_sparse(xor_block, x)[kOutRawAcc], static_cast<int16_t>(a ^ v));
  }
}

TEST(Compiler, LayerBanksPartitionThePcs) {
  using Banks = std::vector<std::pair<uint32_t, uint32_t>>;
  EXPECT_EQ(layer_banks(10, 1), (Banks{{0, 10}}));
  EXPECT_EQ(layer_banks(10, 3), (Banks{{0, 4}, {4, 7}, {7, 10}}));
  EXPECT_EQ(layer_banks(2, 4), (Banks{{0, 1}, {1, 2}, {2, 2}, {2, 2}}));
  EXPECT_THROW(layer_banks(3, 0), Error);
  Program p;
  for (int i = 0; i < 16; ++i)
    p.instructions.push_back({Op::AddI, i});
  TransformerConfig c;
  c.num_layers = 7;
  const CompiledModel m = compile_program(p, c);
  ASSERT_EQ(m.layers.size(), 7u);
  uint32_t next = 0;
  for (const TransformerLayer& layer : m.layers) {
    EXPECT_EQ(layer.pc_begin, next);
    EXPECT_EQ(layer.blocks.size(), layer.pc_end - layer.pc_begin);
    for (size_t i = 0; i < layer.blocks.size(); ++i) {
      EXPECT_EQ(layer.blocks[i].pc, layer.pc_begin + i);
      EXPECT_EQ(layer.blocks[i].instruction.operand, static_cast<int32_t>(layer.pc_begin + i));
    }
    next = layer.pc_end;
  }
  EXPECT_EQ(next, 16u);
  EXPECT_THROW(m.block(16), Error);
}

} // namespace
} // namespace ptvm::vm
