#include "ptvm/vm/native.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/runner.hpp"
#include "test_util.hpp"

namespace ptvm::vm {
namespace {

RunResult run_source(const std::string& source, AttentionMode mode = {}, uint64_t max_steps = 1000) {
  RunOptions options;
  options.attention = mode;
  options.max_steps = max_steps;
  return run(assemble_source(source, "t.tvm"), options);
}

struct FlagCase {
  const char* source;
  int16_t acc;
  bool carry;
};

TEST(NativeEngine, IsaFlagExamples) {
  const FlagCase cases[] = {
      {"LOADI 32767\nADD 1\nHALT", -32768, true},
      {"LOADI 5\nCMP 10\nHALT", -5, true},
      {"LOADI 5\nSUB 10\nHALT", -5, false},
      {"LOADI 300\nMUL 300\nHALT", 24464, true},
      // more edges of the same rules
      {"LOADI -32768\nSUB 1\nHALT", 32767, true},
      {"LOADI -32768\nCMP 1\nHALT", 32767, true},   // signed less-than, not overflow
      {"LOADI 10\nCMP 5\nHALT", 5, false},
      {"LOADI 5\nCMP 5\nHALT", 0, false},
      {"LOADI 32767\nCMP -1\nHALT", -32768, false},  // wraps, but 32767 < -1 is false
      {"LOADI -32768\nMUL -1\nHALT", -32768, true},
      {"LOADI 181\nMUL 181\nHALT", 32761, false},
      {"LOADI 182\nMUL 182\nHALT", -32412, true},
      {"LOADI -1\nAND 255\nHALT", 255, false},
      {"LOADI 12\nOR 3\nHALT", 15, false},
      {"LOADI -1\nXOR 32767\nHALT", -32768, false},
      {"LOADI 32767\nADD 1\nADD 0\nHALT", -32768, false},  // carry recomputed, not sticky
  };
  for (const FlagCase& c : cases) {
    SCOPED_TRACE(c.source);
    RunResult r = run_source(c.source);
    EXPECT_EQ(r.trace.final_state.acc, c.acc);
    EXPECT_EQ(r.trace.final_state.carry_flag, c.carry);
    EXPECT_EQ(r.trace.final_state.zero_flag, c.acc == 0);
    EXPECT_TRUE(r.trace.final_state.halted);
  }
}

TEST(NativeEngine, StepByStepStateAndAccesses) {
  RunResult r = run_source(
      ".memory 4\n.init 0 7\n"
      "LOAD 0\n"      // 1: read mem[0]=7
      "PUSH\n"        // 2: write mem[3]=7, sp 3
      "LOADI 0\n"     // 3: zero
      "JZ skip\n"     // 4: taken
      "NOP\n"
      "skip: CALL sub\n"  // 5: write mem[2]=6 (p1), sp 2, pc 7 (sub)
      "HALT\n"
      "sub: POP\n"    // 6: read mem[2] = 6 -> acc 6, sp 3
      "RET\n",       // 7: reads mem[3] = 7 (the PUSHed value) -> pc 7
      {}, 7);
  const auto& rows = r.trace.rows;
  ASSERT_GE(rows.size(), 7u);
  EXPECT_EQ(rows[0].access, (MemoryAccess{MemoryAccess::Kind::Read, 0, 7, 7}));
  EXPECT_EQ(rows[0].after.acc, 7);
  EXPECT_EQ(rows[1].access, (MemoryAccess{MemoryAccess::Kind::Write, 3, 7, 0}));
  EXPECT_EQ(rows[1].after.sp, 3);
  EXPECT_TRUE(rows[2].after.zero_flag);
  EXPECT_EQ(rows[3].after.pc, 5);
  EXPECT_EQ(rows[3].access.kind, MemoryAccess::Kind::None);
  EXPECT_EQ(rows[4].instruction.op, Opcode::Call);
  EXPECT_EQ(rows[4].access, (MemoryAccess{MemoryAccess::Kind::Write, 2, 6, 0}));
  EXPECT_EQ(rows[4].after.pc, 7);
  EXPECT_EQ(rows[4].after.sp, 2);
  EXPECT_EQ(rows[5].instruction.op, Opcode::Pop);
  EXPECT_EQ(rows[5].access, (MemoryAccess{MemoryAccess::Kind::Read, 2, 6, 6}));
  EXPECT_EQ(rows[5].after.acc, 6);
  EXPECT_EQ(rows[5].after.sp, 3);
  EXPECT_EQ(rows[6].instruction.op, Opcode::Ret);
  EXPECT_EQ(rows[6].access, (MemoryAccess{MemoryAccess::Kind::Read, 3, 7, 7}));
  EXPECT_EQ(rows[6].after.pc, 7);
  EXPECT_EQ(rows[6].after.sp, 4);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].step, i + 1);
    EXPECT_EQ(rows[i].after.zero_flag, rows[i].after.acc == 0);
  }
}

TEST(NativeEngine, HaltCountsAsStepAndKeepsPc) {
  RunResult r = run_source("NOP\nHALT\nNOP");
  EXPECT_EQ(r.steps, 2u);
  EXPECT_EQ(r.trace.final_state.pc, 1);
  EXPECT_TRUE(r.trace.final_state.halted);
  EXPECT_EQ(r.trace.final_state.sp, 16);
}

TEST(NativeEngine, MaxStepsIsNotAnError) {
  RunResult r = run_source("loop: ADD 1\nJMP loop", {}, 11);
  EXPECT_EQ(r.steps, 11u);
  EXPECT_FALSE(r.trace.final_state.halted);
  EXPECT_EQ(r.trace.final_state.acc, 6);
  EXPECT_EQ(r.trace.final_state.pc, 1);
  RunResult zero = run_source("HALT", {}, 0);
  EXPECT_EQ(zero.steps, 0u);
  EXPECT_FALSE(zero.trace.final_state.halted);
}

TEST(NativeEngine, PcWrapsModulo256) {
  std::string source;
  for (int i = 0; i < 255; ++i) source += "NOP\n";
  source += "JZ 0\n";  // at pc 255: zero is true -> pc 0
  RunResult r = run_source(source, {}, 257);
  EXPECT_EQ(r.trace.final_state.pc, 1);
  // JNZ not taken at pc 255: pc becomes (255 + 1) mod 256 = 0
  std::string source2;
  for (int i = 0; i < 255; ++i) source2 += "NOP\n";
  source2 += "JNZ 3\n";
  RunResult r2 = run_source(source2, {}, 256);
  EXPECT_EQ(r2.trace.final_state.pc, 0);
  // CALL at pc 255 pushes the return address 0
  std::string source3 = "JMP 255\n";
  for (int i = 1; i < 255; ++i) source3 += "HALT\n";
  source3 += "CALL 1\n";
  RunResult r3 = run_source(source3, {}, 3);
  EXPECT_EQ(r3.trace.rows[1].access.value, 0);
  EXPECT_EQ(r3.trace.final_state.pc, 1);
  EXPECT_TRUE(r3.trace.final_state.halted);
}

struct RuntimeErrorCase {
  const char* source;
  const char* message;
};

TEST(NativeEngine, RuntimeErrorsNameTheStep) {
  const RuntimeErrorCase cases[] = {
      {"NOP", "t.tvm: runtime error at step 2 (pc 1): pc 1 outside the program (1 instructions)"},
      {"JMP 200", "runtime error at step 2 (pc 200): pc 200 outside the program"},
      {"", "runtime error at step 1 (pc 0): pc 0 outside the program (0 instructions)"},
      {".memory 4\nLOAD 4", "runtime error at step 1 (pc 0, LOAD 4): memory address 4 >= memory size 4"},
      {".memory 4\nNOP\nSTORE 200", "step 2 (pc 1, STORE 200): memory address 200 >= memory size 4"},
      {".memory 4\nADDM 9", "memory address 9 >= memory size 4"},
      {".memory 0\nPUSH", "runtime error at step 1 (pc 0, PUSH): stack overflow: PUSH with sp == 0"},
      {".memory 1\nPUSH\nPUSH", "step 2 (pc 1, PUSH): stack overflow"},
      {".memory 1\nCALL 0", "step 2 (pc 0, CALL 0): stack overflow: CALL with sp == 0"},
      {".memory 3\nPOP", "step 1 (pc 0, POP): stack underflow: POP with sp 3 >= memory size 3"},
      {".memory 3\nRET", "step 1 (pc 0, RET): stack underflow: RET with sp 3 >= memory size 3"},
      {".memory 2\nLOADI 256\nPUSH\nRET", "step 3 (pc 2, RET): RET to 256, outside 0..255"},
      {".memory 2\nLOADI -1\nPUSH\nRET", "RET to -1, outside 0..255"},
  };
  for (const RuntimeErrorCase& c : cases) {
    SCOPED_TRACE(c.source);
    EXPECT_PTVM_ERROR(run_source(c.source), ErrorCategory::Runtime, c.message);
  }
}

TEST(NativeEngine, RetToValidAddressOutsideProgramFailsNextStep) {
  EXPECT_PTVM_ERROR(run_source(".memory 2\nLOADI 77\nPUSH\nRET"), ErrorCategory::Runtime,
                    "step 4 (pc 77): pc 77 outside the program");
}

TEST(NativeEngine, SoftAttentionExampleFromIsa) {
  const char* source = ".memory 1\nLOADI 0\nSTORE 0\nLOADI 10\nSTORE 0\nLOAD 0\nHALT";
  EXPECT_EQ(run_source(source).trace.final_state.acc, 10);
  EXPECT_EQ(run_source(source, parse_attention_mode("softmax")).trace.final_state.acc, 9);
  EXPECT_EQ(run_source(source, parse_attention_mode("hard-softmax:10")).trace.final_state.acc, 4);
  // the final memory is the latest write in every mode
  EXPECT_EQ(run_source(source, parse_attention_mode("softmax")).trace.final_memory,
            std::vector<int16_t>{10});
  // a write records the hard previous value; the read row records the soft value
  RunResult soft = run_source(source, parse_attention_mode("hard-softmax:10"));
  EXPECT_EQ(soft.trace.rows[3].access, (MemoryAccess{MemoryAccess::Kind::Write, 0, 10, 0}));
  EXPECT_EQ(soft.trace.rows[4].access, (MemoryAccess{MemoryAccess::Kind::Read, 0, 4, 4}));
}

TEST(NativeEngine, SoftAttentionMeanRoundsHalfAwayFromZero) {
  // equal steps would not occur in a run, but the mean is defined for any keys
  const uint64_t steps[] = {5, 5};
  const int16_t up[] = {0, 1};
  const int16_t down[] = {0, -1};
  EXPECT_EQ(soft_attention_mean(steps, up, 1.0), 1);     // 0.5 -> 1
  EXPECT_EQ(soft_attention_mean(steps, down, 1.0), -1);  // -0.5 -> -1
  const uint64_t far[] = {0, 100000};
  const int16_t values[] = {-32768, 32767};
  EXPECT_EQ(soft_attention_mean(far, values, 1.0), 32767);  // old key's weight underflows to 0
  // nearly equal weights: (-32768 e^-1e-4 + 32767) / (1 + e^-1e-4) = 1.138...
  EXPECT_EQ(soft_attention_mean(far, values, 1e9), 1);
}

TEST(NativeEngine, SoftModeLongRunSkipsOnlyZeroWeights) {
  // Many writes to one cell; the read must equal the naive mean over the whole history.
  for (const char* mode : {"softmax", "hard-softmax:0.5", "hard-softmax:300"}) {
    SCOPED_TRACE(mode);
    AttentionMode m = parse_attention_mode(mode);
    NativeEngine engine(assemble_source(".memory 1\nloop: ADD 1\nSTORE 0\nJMP loop"), m);
    std::vector<uint64_t> steps{0};
    std::vector<int16_t> values{0};
    for (int i = 0; i < 3000; ++i) {
      TraceRow row = engine.step();
      if (row.access.kind == MemoryAccess::Kind::Write) {
        steps.push_back(row.step);
        values.push_back(row.access.value);
        // naive mean over the full history, no skipping
        double num = 0, den = 0;
        for (size_t k = 0; k < steps.size(); ++k) {
          double w = std::exp(-static_cast<double>(steps.back() - steps[k]) / m.temperature);
          num += w * values[k];
          den += w;
        }
        ASSERT_EQ(engine.attention_memory().read(0), static_cast<int16_t>(std::round(num / den)))
            << "step " << row.step;
      }
    }
  }
}

TEST(NativeEngine, ValidatesProgramsBuiltInCode) {
  Program p;
  p.source_name = "code";
  p.instructions = {Instruction{Opcode::LoadI, 40000, 0}};
  EXPECT_PTVM_ERROR(NativeEngine(p, {}), ErrorCategory::Usage, "immediate 40000 outside i16");
  p.instructions = {Instruction{Opcode::Load, 256, 0}};
  EXPECT_PTVM_ERROR(NativeEngine(p, {}), ErrorCategory::Usage, "outside 0..255");
  p.instructions = {Instruction{static_cast<Opcode>(26), 0, 0}};
  EXPECT_PTVM_ERROR(NativeEngine(p, {}), ErrorCategory::Usage, "invalid opcode 26");
  p.instructions = {};
  p.initial_memory.assign(256, 0);
  EXPECT_PTVM_ERROR(NativeEngine(p, {}), ErrorCategory::Usage, "memory of 256 cells");
  p.initial_memory.clear();
  AttentionMode bad{AttentionMode::Kind::HardSoftmax, -1.0};
  EXPECT_PTVM_ERROR(NativeEngine(p, bad), ErrorCategory::Usage, "T > 0");
}

TEST(NativeEngine, StepOnHaltedMachineIsInternalError) {
  NativeEngine engine(assemble_source("HALT"), {});
  engine.step();
  EXPECT_PTVM_ERROR(engine.step(), ErrorCategory::Internal, "halted");
}

}  // namespace
}  // namespace ptvm::vm
