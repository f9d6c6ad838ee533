// Cheating witnesses over F128, the classes of the circle STARK's tests/vm_air/soundness_test.cpp:
// an honest trace with one wrong row (the claim restated to match) or a claim that differs from the
// run, fed to the real F128 prover, must end in a rejected proof.
#include <gtest/gtest.h>

#include <functional>

#include "ptvm/stark128/stark128.hpp"
#include "ptvm/stark128/vm.hpp"
#include "../vm_air/vm_air_test_util.hpp"

namespace ptvm::stark128 {
namespace {

using vmair::testing::run_source;

bool proves(const vmair::VmStatement& s, const vm::ExecutionTrace& trace) {
  const Options o = profile_by_name("production-v1");
  const Air128 air = build_vm_air(s);
  const auto digest = vmair::testing::test_digest();
  const std::vector<F128> pub = vm_public_inputs(s, digest);
  try {
    const Proof p = prove(air, vm_witness(s, trace), pub, o);
    return verify(air, pub, o, p).accepted;
  } catch (const Error&) {
    return false;  // a prover refusal is a rejection too
  }
}

void set_acc(vm::MachineState& s, int16_t acc) {
  s.acc = acc;
  s.zero_flag = acc == 0;
}

void expect_rejected(const std::string& source, uint64_t max_steps, const std::function<void(vm::ExecutionTrace&)>& mutate) {
  SCOPED_TRACE(source);
  vm::ExecutionTrace trace = run_source(source, max_steps);
  ASSERT_TRUE(proves(vmair::statement_from_trace(trace), trace));
  mutate(trace);
  if (!trace.rows.empty()) trace.final_state = trace.rows.back().after;
  EXPECT_FALSE(proves(vmair::statement_from_trace(trace), trace)) << "a cheating trace was accepted";
}

vm::TraceRow& last(vm::ExecutionTrace& t) { return t.rows.back(); }

TEST(Stark128Cheats, WrongAluFlagsControlAndMemory) {
  expect_rejected("LOADI 7\nADD 5\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 13); });
  expect_rejected("LOADI 32767\nADD 1\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 32767); });
  expect_rejected("LOADI 300\nMUL 300\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 24465); });
  expect_rejected("LOADI -32768\nMUL 32767\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 32767); });
  expect_rejected("LOADI 5\nCMP 10\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 5); });
  expect_rejected("LOADI 12\nAND 10\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 9); });
  expect_rejected("LOADI 12\nXOR 10\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 14); });
  expect_rejected("LOADI 32767\nADD 1\nHALT\n", 2, [](auto& t) { last(t).after.carry_flag = false; });
  expect_rejected("LOADI 1\nADD 1\nHALT\n", 2, [](auto& t) { last(t).after.carry_flag = true; });
  expect_rejected("LOADI 5\nCMP 10\nHALT\n", 2, [](auto& t) { last(t).after.carry_flag = false; });
  expect_rejected("LOADI 0\nJZ 3\nNOP\nHALT\n", 2, [](auto& t) { last(t).after.pc = 2; });
  expect_rejected("LOADI 1\nHALT\n", 2, [](auto& t) { last(t).after.halted = false; });
  expect_rejected(".memory 2\nLOADI 1\nPUSH\nHALT\n", 2, [](auto& t) { last(t).after.sp = 2; });
  expect_rejected("LOADI 1\nADD 2\nADD 3\nHALT\n", 3, [](auto& t) {
    t.rows.erase(t.rows.begin() + 1);
    t.max_steps = 2;
  });
  // Only the ROM lookup catches these.
  expect_rejected("LOADI 7\nADD 5\nHALT\n", 2, [](auto& t) {
    last(t).instruction.operand = 6;
    set_acc(last(t).after, 13);
  });
  expect_rejected("LOADI 7\nADD 5\nHALT\n", 2, [](auto& t) {
    last(t).instruction.op = vm::Opcode::SubI;
    set_acc(last(t).after, 2);
  });
  // Memory: a stale read, a write to the wrong cell, a RET to a pc never pushed.
  expect_rejected(".memory 1\nLOADI 3\nSTORE 0\nLOADI 9\nSTORE 0\nLOAD 0\nHALT\n", 5, [](auto& t) {
    last(t).access.value = 3;
    last(t).access.previous = 3;
    set_acc(last(t).after, 3);
  });
  expect_rejected(".memory 2\nLOADI 5\nSTORE 0\nHALT\n", 2, [](auto& t) {
    last(t).access.address = 1;
    t.final_memory = {0, 5};
  });
  expect_rejected(".memory 2\nCALL 2\nHALT\nRET\n", 2, [](auto& t) {
    last(t).access.value = 0;
    last(t).access.previous = 0;
    last(t).after.pc = 0;
  });
}

TEST(Stark128Cheats, ClaimDiffersFromTrace) {
  const std::string mem = ".memory 2\n.init 0 4\nLOAD 0\nADD 1\nSTORE 1\nHALT\n";
  std::vector<std::function<void(vmair::VmStatement&)>> changes = {
      [](auto& s) { s.program.initial_memory[0] = 5; }, [](auto& s) { s.final_memory[1] = 6; },
      [](auto& s) { set_acc(s.final_state, 6); },      [](auto& s) { s.final_state.pc = 2; },
      [](auto& s) { s.final_state.sp = 1; },           [](auto& s) { s.final_state.carry_flag = true; },
      [](auto& s) { s.steps = 5; },                    [](auto& s) { s.program.instructions[1].operand = 2; },
  };
  const vm::ExecutionTrace trace = run_source(mem, 512);
  for (size_t i = 0; i < changes.size(); ++i) {
    vmair::VmStatement s = vmair::statement_from_trace(trace);
    changes[i](s);
    if (vmair::check_statement(s)) continue;
    EXPECT_FALSE(proves(s, trace)) << "change " << i;
  }
}

}  // namespace
}  // namespace ptvm::stark128
