#include "ptvm/vm/assembler.hpp"

#include <gtest/gtest.h>

#include "ptvm/vm/format.hpp"
#include "test_util.hpp"

namespace ptvm::vm {
namespace {

Instruction ins(Opcode op, int32_t operand = 0) { return Instruction{op, operand, 0}; }

TEST(Assembler, EveryMnemonicAssemblesCaseInsensitively) {
  std::string source;
  std::vector<Instruction> expected;
  for (const OpcodeInfo& info : kOpcodeTable) {
    std::string mnemonic(info.mnemonic);
    // alternate upper / lower / mixed case
    if (expected.size() % 3 == 1) {
      for (char& c : mnemonic) c = static_cast<char>(std::tolower(c));
    } else if (expected.size() % 3 == 2) {
      mnemonic[0] = static_cast<char>(std::tolower(mnemonic[0]));
    }
    int32_t operand = info.operand == OperandKind::None ? 0
                      : info.operand == OperandKind::Immediate ? -7
                                                               : 3;
    source += mnemonic;
    if (info.operand != OperandKind::None) source += " " + std::to_string(operand);
    source += "\n";
    expected.push_back(ins(info.op, operand));
  }
  Program p = assemble_source(source, "all.tvm");
  ASSERT_EQ(p.instructions.size(), size_t{kNumOpcodes});
  EXPECT_EQ(p.instructions, expected);
  EXPECT_EQ(p.initial_memory, std::vector<int16_t>(16, 0));
  EXPECT_EQ(p.source_name, "all.tvm");
  for (size_t i = 0; i < p.instructions.size(); ++i) EXPECT_EQ(p.instructions[i].line, i + 1);
}

TEST(Assembler, LabelsCommentsAndWhitespace) {
  Program p = assemble_source(
      "; leading comment\r\n"
      "\r\n"
      "  start:   LOADI 5 ; trailing\r\n"
      "Loop: ADD 1, # hash comment\n"
      "loop:\n"
      "\tJNZ Loop\n"
      "JMP loop\n"
      "JZ start\n"
      "end-1_x: HALT\n"
      "CALL end-1_x");
  ASSERT_EQ(p.instructions.size(), 7u);
  EXPECT_EQ(p.instructions[0], ins(Opcode::LoadI, 5));
  EXPECT_EQ(p.instructions[1], ins(Opcode::AddI, 1));
  EXPECT_EQ(p.instructions[2], ins(Opcode::Jnz, 1));  // Loop (case-sensitive) = 1
  EXPECT_EQ(p.instructions[3], ins(Opcode::Jmp, 2));  // loop = 2
  EXPECT_EQ(p.instructions[4], ins(Opcode::Jz, 0));
  EXPECT_EQ(p.instructions[5], ins(Opcode::Halt));
  EXPECT_EQ(p.instructions[6], ins(Opcode::Call, 5));
  EXPECT_EQ(p.instructions[1].line, 4u);
}

TEST(Assembler, LabelAtEndAndNumericTargets) {
  Program p = assemble_source("JMP end\nJMP 7\nJMP +255\nend:");
  EXPECT_EQ(p.instructions[0].operand, 3);
  EXPECT_EQ(p.instructions[1].operand, 7);
  EXPECT_EQ(p.instructions[2].operand, 255);
}

TEST(Assembler, NumbersAndSigns) {
  Program p = assemble_source(
      "LOADI -32768\nLOADI 32767\nLOADI +12\nLOADI -0\nLOAD +3\nLOADI 007\nSTORE 255\n");
  EXPECT_EQ(p.instructions[0].operand, -32768);
  EXPECT_EQ(p.instructions[1].operand, 32767);
  EXPECT_EQ(p.instructions[2].operand, 12);
  EXPECT_EQ(p.instructions[3].operand, 0);
  EXPECT_EQ(p.instructions[4].operand, 3);
  EXPECT_EQ(p.instructions[5].operand, 7);
  EXPECT_EQ(p.instructions[6].operand, 255);
}

TEST(Assembler, MemoryDirectives) {
  Program a = assemble_source(".init 3 -9\n.init 15 7\nHALT");
  std::vector<int16_t> expected(16, 0);
  expected[3] = -9;
  expected[15] = 7;
  EXPECT_EQ(a.initial_memory, expected);

  Program b = assemble_source(".init 1 5\n.memory 4\n.init 2 6\n.INIT 0, 1,\nHALT");
  EXPECT_EQ(b.initial_memory, (std::vector<int16_t>{1, 0, 6, 0}));  // .memory discards .init 1 5

  EXPECT_EQ(assemble_source(".memory 255").initial_memory.size(), 255u);
  EXPECT_EQ(assemble_source(".memory 0").initial_memory.size(), 0u);
  EXPECT_EQ(assemble_source(".Memory +3").initial_memory.size(), 3u);
  EXPECT_TRUE(assemble_source("").instructions.empty());
}

TEST(Assembler, Exactly256InstructionsAccepted) {
  std::string source;
  for (int i = 0; i < 255; ++i) source += "NOP\n";
  source += "last: HALT\n";
  Program p = assemble_source(source);
  EXPECT_EQ(p.instructions.size(), 256u);
  EXPECT_PTVM_ERROR(assemble_source(source + "NOP\n", "big.tvm"), ErrorCategory::Parse,
                    "big.tvm:257: too many instructions");
  EXPECT_PTVM_ERROR(assemble_source(source + "after:\nJMP after\n", "big.tvm"),
                    ErrorCategory::Parse, "too many instructions");
}

TEST(Assembler, LabelBeyondPcRangeRejected) {
  std::string source = "JMP after\n";
  for (int i = 0; i < 255; ++i) source += "NOP\n";
  source += "after:\n";
  EXPECT_PTVM_ERROR(assemble_source(source, "wrap.tvm"), ErrorCategory::Parse,
                    "wrap.tvm:1: label 'after' resolves to 256");
}

struct ParseErrorCase {
  const char* source;
  const char* message;
};

TEST(Assembler, ParseErrorsNameFileLineAndReason) {
  const ParseErrorCase cases[] = {
      {"NOP\nFROB 1", "f.tvm:2: unknown instruction 'FROB'"},
      {"LOADI", "f.tvm:1: wrong operand count: LOADI expects 1 operand, got 0"},
      {"HALT 1", "f.tvm:1: wrong operand count: HALT expects 0 operands, got 1"},
      {"ADD 1 2", "wrong operand count: ADD expects 1 operand, got 2"},
      {"LOADI 32768", "f.tvm:1: bad immediate '32768'"},
      {"LOADI -32769", "bad immediate '-32769'"},
      {"LOADI 1x", "bad immediate '1x'"},
      {"LOADI --1", "bad immediate '--1'"},
      {"LOADI 99999999999999999999999", "bad immediate"},
      {"LOADI 5,,", "bad immediate '5,'"},
      {"LOADI ,", "bad immediate ''"},
      {"LOAD 256", "bad address '256'"},
      {"LOAD -1", "bad address '-1'"},
      {"JMP nowhere", "f.tvm:1: unknown label 'nowhere'"},
      {"\n\nJZ Start\nstart: HALT", "f.tvm:3: unknown label 'Start'"},
      {"JMP 256", "bad branch target '256'"},
      {"a: NOP\nb: NOP\na: HALT", "f.tvm:3: duplicate label 'a' (first defined on line 1)"},
      {"bad label: NOP", "invalid label name 'bad label'"},
      {": NOP", "invalid label name ''"},
      {".memory 4\n.init 4 1", "f.tvm:2: .init out of bounds: address 4 >= memory size 4"},
      {".init 16 1", ".init out of bounds"},
      {".init 1 40000", "bad immediate '40000' in .init"},
      {".init -1 0", "bad .init address '-1'"},
      {".init 1", "wrong operand count: .init expects 2 operands, got 1"},
      {".memory 256", "f.tvm:1: memory too large: 256 cells (at most 255)"},
      {".memory 100000000000000000000", "memory too large"},
      {".memory -1", "bad memory size '-1'"},
      {".memory", "wrong operand count: .memory expects 1 operand, got 0"},
      {".stack 3", "unknown directive '.stack'"},
      {"LOADI \x01\xff", "bad immediate '\\x01\\xff'"},
  };
  for (const ParseErrorCase& c : cases) {
    SCOPED_TRACE(c.source);
    EXPECT_PTVM_ERROR(assemble_source(c.source, "f.tvm"), ErrorCategory::Parse, c.message);
  }
}

TEST(Assembler, MissingFileIsIoError) {
  EXPECT_PTVM_ERROR(assemble_file("/nonexistent/x.tvm"), ErrorCategory::Io,
                    "/nonexistent/x.tvm: cannot open file");
  EXPECT_PTVM_ERROR(assemble_file("/"), ErrorCategory::Io, "is a directory");
}

TEST(Format, InstructionsAndAttentionModes) {
  EXPECT_EQ(format_instruction(ins(Opcode::LoadI, -5)), "LOADI -5");
  EXPECT_EQ(format_instruction(ins(Opcode::Halt)), "HALT");
  EXPECT_EQ(format_instruction(ins(Opcode::XorM, 3)), "XORM 3");
  EXPECT_EQ(format_attention_mode(parse_attention_mode("average-hard")), "average-hard");
  EXPECT_EQ(format_attention_mode(parse_attention_mode("softmax")), "softmax");
  AttentionMode m = parse_attention_mode("hard-softmax:10");
  EXPECT_EQ(m.kind, AttentionMode::Kind::HardSoftmax);
  EXPECT_EQ(m.temperature, 10.0);
  EXPECT_EQ(format_attention_mode(m), "hard-softmax:10");
  EXPECT_EQ(parse_attention_mode("hard-softmax:0.25").temperature, 0.25);
  for (const char* bad : {"hard-softmax:0", "hard-softmax:-1", "hard-softmax:", "hard-softmax",
                          "hard-softmax:inf", "hard-softmax:nan", "hard-softmax:1x", "Softmax",
                          "hard", ""}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(parse_attention_mode(bad), Error);
  }
  EXPECT_PTVM_ERROR(parse_attention_mode("hard-softmax:0"), ErrorCategory::Usage, "T > 0");
  EXPECT_EQ(format_memory(std::vector<int16_t>{1, -2, 3}), "[1, -2, 3]");
  EXPECT_EQ(format_memory(std::vector<int16_t>{}), "[]");
}

}  // namespace
}  // namespace ptvm::vm
