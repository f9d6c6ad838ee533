// tvm tui's model (tools/tvm/tui_model.hpp) without a terminal: stepping forward and back agrees
// with the recorded trace, breakpoints stop the run where the pc hits them, write histories list
// every write up to the step in view, an engine switch keeps the step, and the attention panel
// names the read of LOAD / POP steps.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/compiler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/runner.hpp"
#include "tui_model.hpp"

namespace {

namespace vm = ptvm::vm;
using tvm_cli::CellWrite;
using tvm_cli::TuiModel;
using tvm_cli::TuiSettings;
using tvm_cli::TuiStop;

const std::string kFibonacci = std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm";

TuiModel fibonacci(vm::EngineKind engine = vm::EngineKind::Transformer, uint64_t max_steps = 512) {
  TuiSettings settings;
  settings.max_steps = max_steps;
  return TuiModel(vm::assemble_file(kFibonacci), "fibonacci.tvm", engine, settings);
}

bool contains(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

TEST(TuiModel, StartsAtTheInitialState) {
  TuiModel m = fibonacci();
  EXPECT_EQ(m.step(), 0u);
  EXPECT_EQ(m.last_step(), 148u); // the program's `; expect:` header
  EXPECT_EQ(m.state(), vm::initial_state(m.program()));
  EXPECT_EQ(m.current_row(), nullptr);
  EXPECT_FALSE(m.ffn_input().has_value());
  EXPECT_EQ(m.memory(), m.program().initial_memory);
  EXPECT_EQ(m.end_reason(), TuiStop::Halted);
  EXPECT_EQ(m.end_text(), "halted at step 148");
}

TEST(TuiModel, ForwardAndBackFollowTheTrace) {
  TuiModel m = fibonacci();
  vm::RunOptions native;
  native.engine = vm::EngineKind::Native;
  const vm::RunResult reference = vm::run(m.program(), native);
  ASSERT_EQ(reference.trace.rows.size(), m.last_step());
  for (uint64_t k = 1; k <= m.last_step(); ++k) {
    ASSERT_EQ(m.step_forward(), 1u);
    ASSERT_EQ(m.step(), k);
    ASSERT_EQ(m.state(), reference.trace.rows[k - 1].after) << "step " << k;
    ASSERT_EQ(m.current_row()->step, k);
  }
  EXPECT_EQ(m.step_forward(), 0u); // at the end it stays
  EXPECT_TRUE(m.at_end());
  EXPECT_EQ(m.state().acc, 144);
  EXPECT_TRUE(m.state().halted);
  EXPECT_EQ(m.memory(), (std::vector<int16_t>{144, 233, 0, 233}));
  EXPECT_EQ(m.memory(), reference.trace.final_memory);
  for (uint64_t k = m.last_step(); k-- > 0;) {
    ASSERT_EQ(m.step_back(), 1u);
    ASSERT_EQ(m.step(), k);
    const vm::MachineState expected =
        k == 0 ? reference.trace.initial : reference.trace.rows[k - 1].after;
    ASSERT_EQ(m.state(), expected) << "step " << k;
  }
  EXPECT_EQ(m.step_back(), 0u);
  EXPECT_EQ(m.step_forward(10), 10u);
  EXPECT_EQ(m.step_back(3), 3u);
  EXPECT_EQ(m.step(), 7u);
  EXPECT_EQ(m.step_forward(1000), 141u); // clamped at the end
  m.go_to(12);
  EXPECT_EQ(m.state(), reference.trace.rows[11].after);
  m.go_to(100000);
  EXPECT_EQ(m.step(), 148u);
}

TEST(TuiModel, TheTraceAndListingPanelsFollowTheStep) {
  TuiModel m = fibonacci();
  EXPECT_TRUE(m.trace_lines(5).empty());
  m.go_to(3);
  const std::vector<std::string> trace = m.trace_lines(2);
  ASSERT_EQ(trace.size(), 2u);
  EXPECT_EQ(trace[0], vm::format_trace_row(m.run().trace.rows[1]));
  EXPECT_EQ(trace[1], vm::format_trace_row(m.run().trace.rows[2]));
  const auto listing = m.listing_lines();
  ASSERT_EQ(listing.size(), 14u);
  for (const auto& line : listing)
    EXPECT_EQ(line.current, line.pc == m.state().pc);
  EXPECT_EQ(listing[3].text, " >   3  STORE 2");
  EXPECT_EQ(listing[1].text, "     1  JZ 12");
  EXPECT_NE(m.title_line().find("step 3/148"), std::string::npos);
  EXPECT_NE(m.title_line().find("engine transformer"), std::string::npos);
}

TEST(TuiModel, BreakpointsStopWhereThePcHitsThem) {
  TuiModel m = fibonacci();
  EXPECT_TRUE(m.toggle_breakpoint(5));  // ADDM 1, once per loop iteration
  EXPECT_TRUE(m.toggle_breakpoint(12)); // LOAD 0 after the loop
  EXPECT_TRUE(m.has_breakpoint(5));
  EXPECT_EQ(m.listing_lines()[5].text.substr(0, 2), "* ");
  EXPECT_TRUE(m.listing_lines()[5].breakpoint);
  EXPECT_EQ(m.run_to_breakpoint(), TuiStop::Breakpoint);
  EXPECT_EQ(m.step(), 5u);
  EXPECT_EQ(m.state().pc, 5);
  EXPECT_EQ(m.listing_lines()[5].text.substr(0, 2), "*>");
  // From a breakpoint the run moves on to the next hit: one loop iteration is 12 steps.
  EXPECT_EQ(m.run_to_breakpoint(), TuiStop::Breakpoint);
  EXPECT_EQ(m.step(), 17u);
  EXPECT_FALSE(m.toggle_breakpoint(5)); // cleared
  EXPECT_EQ(m.run_to_breakpoint(), TuiStop::Breakpoint);
  EXPECT_EQ(m.step(), 146u); // 12 iterations of 12 steps, LOAD 2, JZ 12
  EXPECT_EQ(m.state().pc, 12);
  EXPECT_EQ(m.state().acc, 0);
  EXPECT_EQ(m.run_to_breakpoint(), TuiStop::Halted);
  EXPECT_EQ(m.step(), 148u);
  EXPECT_EQ(m.state().acc, 144);
  EXPECT_EQ(m.run_to_breakpoint(), TuiStop::Halted); // at the end it stays
  EXPECT_EQ(m.step(), 148u);
  EXPECT_THROW(m.toggle_breakpoint(14), ptvm::Error); // no instruction there
  EXPECT_EQ(m.breakpoints(), (std::set<uint32_t>{12}));
}

TEST(TuiModel, RunWithoutBreakpointsStopsAtMaxSteps) {
  TuiModel m = fibonacci(vm::EngineKind::Native, 20);
  EXPECT_EQ(m.last_step(), 20u);
  EXPECT_EQ(m.run_to_breakpoint(), TuiStop::MaxSteps);
  EXPECT_EQ(m.step(), 20u);
  EXPECT_FALSE(m.state().halted);
  EXPECT_NE(m.title_line().find("step 20/20  [max steps reached]"), std::string::npos)
      << m.title_line();
  EXPECT_EQ(m.end_text(), "max steps (20) reached, not halted");
}

TEST(TuiModel, WriteHistoriesListEveryWriteUpToTheStep) {
  TuiModel m = fibonacci();
  EXPECT_EQ(m.write_history(2), (std::vector<CellWrite>{{0, 12}}));
  m.go_to(3); // LOAD 2, JZ, SUB 1: the STORE 2 of step 4 is not there yet
  EXPECT_EQ(m.write_history(2), (std::vector<CellWrite>{{0, 12}}));
  m.go_to(4);
  EXPECT_EQ(m.write_history(2), (std::vector<CellWrite>{{0, 12}, {4, 11}}));
  m.go_to(m.last_step());
  // The whole run: compare every cell's history with the trace's writes.
  for (size_t cell = 0; cell < m.program().initial_memory.size(); ++cell) {
    std::vector<CellWrite> expected{{0, m.program().initial_memory[cell]}};
    for (const vm::TraceRow& row : m.run().trace.rows)
      if (row.access.kind == vm::MemoryAccess::Kind::Write && row.access.address == cell)
        expected.push_back({row.step, row.access.value});
    EXPECT_EQ(m.write_history(cell), expected) << "cell " << cell;
    EXPECT_EQ(m.memory()[cell], expected.back().value);
  }
  EXPECT_EQ(m.write_history(2).size(), 13u); // the initial 12 and one write per iteration
  EXPECT_TRUE(m.write_history(99).empty());
  // The panel: value first, the newest writes kept when the line is short.
  const std::vector<std::string> wide = m.memory_lines(400);
  ASSERT_EQ(wide.size(), 4u);
  EXPECT_EQ(wide[2].rfind("mem[2] =      0  writes: 0:12 4:11 16:10", 0), 0u) << wide[2];
  const std::vector<std::string> narrow = m.memory_lines(60);
  for (const std::string& line : narrow)
    EXPECT_LE(line.size(), 60u);
  EXPECT_NE(narrow[2].find("earlier"), std::string::npos) << narrow[2];
  EXPECT_NE(narrow[2].find(" 136:0"), std::string::npos) << narrow[2]; // the last write of mem[2]
}

TEST(TuiModel, MemoryLinesLineUpTheValues) {
  const vm::Program p =
      vm::assemble_source(".memory 12\n.init 9 -5\nLOADI 300\nSTORE 10\nHALT\n", "wide.tvm");
  TuiModel m(p, "wide.tvm", vm::EngineKind::Native, {});
  m.go_to(m.last_step());
  const std::vector<std::string> lines = m.memory_lines(80);
  ASSERT_EQ(lines.size(), 12u);
  EXPECT_EQ(lines[9], "mem[9]  =     -5  writes: 0:-5");
  EXPECT_EQ(lines[10], "mem[10] =    300  writes: 0:0 2:300");
}

TEST(TuiModel, EngineSwitchRecomputesAndKeepsTheStep) {
  TuiModel m = fibonacci(vm::EngineKind::Transformer);
  m.toggle_breakpoint(12);
  m.go_to(57);
  const vm::MachineState on_transformer = m.state();
  const std::vector<int16_t> memory = m.memory();
  m.switch_engine();
  EXPECT_EQ(m.engine(), vm::EngineKind::Native);
  EXPECT_EQ(m.step(), 57u);
  EXPECT_EQ(m.state(), on_transformer); // the engines agree step for step
  EXPECT_EQ(m.memory(), memory);
  EXPECT_TRUE(m.has_breakpoint(12)); // breakpoints survive the switch
  EXPECT_NE(m.title_line().find("engine native"), std::string::npos);
  m.set_engine(vm::EngineKind::Native); // already: nothing changes
  EXPECT_EQ(m.step(), 57u);
  m.switch_engine();
  EXPECT_EQ(m.engine(), vm::EngineKind::Transformer);
  EXPECT_EQ(m.step(), 57u);
  EXPECT_EQ(m.state(), on_transformer);
}

TEST(TuiModel, AttentionPanelShowsTheReadOfLoadAndPop) {
  TuiModel m = fibonacci();
  EXPECT_EQ(m.attention_lines(), std::vector<std::string>{"no step executed yet"});
  m.go_to(1); // LOAD 2 reads the initial 12
  ASSERT_EQ(m.current_row()->access.kind, vm::MemoryAccess::Kind::Read);
  std::vector<std::string> lines = m.attention_lines();
  EXPECT_EQ(lines[0], "step 1 (pc 0 LOAD 2): read mem[2] -> 12");
  EXPECT_TRUE(contains(lines, "latest write: step 0, value 12"));
  m.go_to(2); // JZ 12: no access
  EXPECT_EQ(m.attention_lines()[0], "step 2 (pc 1 JZ 12): no memory access");
  m.go_to(4); // STORE 2
  EXPECT_EQ(m.attention_lines()[0], "step 4 (pc 3 STORE 2): no read; write mem[2] = 11 (was 12)");
  m.go_to(13); // the second LOAD 2 reads the write of step 4
  lines = m.attention_lines();
  EXPECT_EQ(lines[0], "step 13 (pc 0 LOAD 2): read mem[2] -> 11");
  EXPECT_TRUE(contains(lines, "over 2 key(s)"));
  EXPECT_TRUE(contains(lines, "latest write: step 4, value 11"));

  // POP reads MEM[sp] through attention too.
  const vm::Program stack = vm::assemble_source("LOADI 7\nPUSH\nLOADI 0\nPOP\nHALT\n", "stack.tvm");
  TuiModel s(stack, "stack.tvm", vm::EngineKind::Transformer, {});
  s.go_to(4);
  ASSERT_EQ(s.current_row()->instruction.op, vm::Opcode::Pop);
  lines = s.attention_lines();
  EXPECT_EQ(lines[0], "step 4 (pc 3 POP): read mem[15] -> 7");
  EXPECT_TRUE(contains(lines, "latest write: step 2, value 7"));
  EXPECT_EQ(s.state().acc, 7);
}

TEST(TuiModel, FfnInputIsTheStepsInput) {
  TuiModel m = fibonacci();
  m.go_to(3); // SUB 1 with acc 12 (after LOAD 2, JZ)
  const auto x = m.ffn_input();
  ASSERT_TRUE(x.has_value());
  const vm::MachineState before = m.run().trace.rows[1].after;
  EXPECT_EQ(*x, vm::make_ffn_input(before, 1));
  EXPECT_EQ((*x)[vm::kInPc], 2);
  EXPECT_EQ((*x)[vm::kInAcc], 12);
  EXPECT_EQ((*x)[vm::kInOperand], 1);
  m.go_to(6); // ADDM 1: the operand is the value attention read from mem[1]
  EXPECT_EQ((*m.ffn_input())[vm::kInOperand], m.current_row()->access.value);
  m.go_to(12); // JMP 0: the target is in the weights, the operand input is 0
  EXPECT_EQ((*m.ffn_input())[vm::kInOperand], 0);
  m.go_to(3);
  const std::vector<std::string> lines = m.state_lines();
  EXPECT_TRUE(contains(lines, "pc 3"));
  EXPECT_TRUE(contains(lines, "acc 11"));
  EXPECT_TRUE(contains(lines, "x[0..4]   one=1 pc=2 p1=3 acc=12 zero=0"));
  EXPECT_TRUE(contains(lines, "x[5..8]   carry=0 halted=0 sp=4 operand=1"));
  EXPECT_TRUE(contains(lines, "acc bits 0..15     0011000000000000"));
  EXPECT_TRUE(contains(lines, "operand bits 0..15 1000000000000000"));
}

TEST(TuiModel, ARuntimeErrorEndsTheRecordedRun) {
  // POP on an empty stack at step 2: the first step is kept, the error is the end.
  const vm::Program bad = vm::assemble_source("LOADI 1\nPOP\nHALT\n", "bad.tvm");
  for (vm::EngineKind engine : {vm::EngineKind::Native, vm::EngineKind::Transformer}) {
    TuiModel m(bad, "bad.tvm", engine, {});
    EXPECT_EQ(m.last_step(), 1u);
    EXPECT_EQ(m.end_reason(), TuiStop::RuntimeError);
    EXPECT_NE(m.end_text().find("stack underflow"), std::string::npos) << m.end_text();
    EXPECT_EQ(m.run_to_breakpoint(), TuiStop::RuntimeError);
    EXPECT_EQ(m.state().acc, 1);
    EXPECT_NE(m.title_line().find("step 1/1  [runtime error at step 2]"), std::string::npos)
        << m.title_line();
  }
}

TEST(TuiModel, AnEmptyProgramFailsAtItsFirstStep) {
  TuiModel m(vm::assemble_source("", "empty.tvm"), "empty.tvm", vm::EngineKind::Transformer, {});
  EXPECT_EQ(m.last_step(), 0u);
  EXPECT_EQ(m.end_reason(), TuiStop::RuntimeError);
  EXPECT_TRUE(m.listing_lines().empty());
  try {
    m.toggle_breakpoint(0);
    ADD_FAILURE() << "no throw";
  } catch (const ptvm::Error& e) {
    EXPECT_EQ(std::string(e.what()), "no instruction at pc 0 (the program is empty)");
  }
}

TEST(TuiModel, BadOptionsAreErrors) {
  TuiSettings settings;
  settings.layers = 0;
  EXPECT_THROW(TuiModel(vm::assemble_file(kFibonacci), "f", vm::EngineKind::Transformer, settings),
               ptvm::Error);
}

} // namespace
