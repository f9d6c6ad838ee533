// Soundness: a cheating witness (an honest trace with one wrong row, or a claim that differs from
// the run) fed to the real prover must end in a rejected proof or a prover refusal.
//
// Most cheats change the LAST executed step (runs bounded by max_steps) and restate the claim's
// final state to match, so the wrong row is the only thing wrong.
#include <gtest/gtest.h>

#include <functional>

#include "vm_air_test_util.hpp"

namespace ptvm::vmair::testing {
namespace {

using Mutation = std::function<void(vm::ExecutionTrace&)>;

void set_acc(vm::MachineState& s, int16_t acc) {
  s.acc = acc;
  s.zero_flag = acc == 0;
}

// Runs the program, applies the mutation to the trace, restates the claim from the mutated trace
// (final state = the last row's state) and expects rejection. `row_check_fails`: the wrong row
// must also break one of the step component's own constraints (else a LogUp balance catches it).
void expect_rejected(const std::string& source, uint64_t max_steps, const Mutation& mutate,
                     bool row_check_fails) {
  SCOPED_TRACE(source);
  vm::ExecutionTrace trace = run_source(source, max_steps);
  {
    Outcome honest = prove_and_verify(statement_from_trace(trace), trace);
    ASSERT_TRUE(honest.accepted) << honest.reason;
  }
  mutate(trace);
  if (!trace.rows.empty()) trace.final_state = trace.rows.back().after;
  Outcome o = prove_and_verify(statement_from_trace(trace), trace);
  EXPECT_FALSE(o.accepted) << "a cheating trace was accepted";
  EXPECT_EQ(!o.constraints_hold, row_check_fails) << o.constraint_violation;
  if (!o.accepted) {
    EXPECT_FALSE(o.reason.empty());
  }
}

vm::TraceRow& last(vm::ExecutionTrace& t) { return t.rows.back(); }

TEST(VmAirSoundness, WrongAluResults) {
  expect_rejected("LOADI 7\nADD 5\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 13); }, true);
  // acc' = 32767 for 32767 + 1 needs k = 1/65536 = 2^15 in M31: only the range check of k catches it.
  expect_rejected("LOADI 32767\nADD 1\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 32767); }, false);
  expect_rejected("LOADI 300\nMUL 300\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 24465); }, true);
  // The one false solution of a * v = acc' + 65536 k mod p inside the k range.
  expect_rejected("LOADI -32768\nMUL 32767\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 32767); }, true);
  expect_rejected("LOADI 5\nCMP 10\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 5); }, true);
  expect_rejected("LOADI 12\nAND 10\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 9); }, false);  // bitwise table
  expect_rejected("LOADI 12\nXOR 10\nHALT\n", 2, [](auto& t) { set_acc(last(t).after, 14); }, false);
  expect_rejected("LOADI 9\nHALT\n", 1, [](auto& t) { set_acc(last(t).after, 8); }, true);
}

TEST(VmAirSoundness, WrongFlags) {
  expect_rejected("LOADI 32767\nADD 1\nHALT\n", 2, [](auto& t) { last(t).after.carry_flag = false; }, true);
  expect_rejected("LOADI 1\nADD 1\nHALT\n", 2, [](auto& t) { last(t).after.carry_flag = true; }, true);
  expect_rejected("LOADI 300\nMUL 300\nHALT\n", 2, [](auto& t) { last(t).after.carry_flag = false; }, true);
  expect_rejected("LOADI 5\nCMP 10\nHALT\n", 2, [](auto& t) { last(t).after.carry_flag = false; }, true);
  expect_rejected("LOADI 10\nCMP 5\nHALT\n", 2, [](auto& t) { last(t).after.carry_flag = true; }, true);
  expect_rejected("LOADI 32767\nADD 1\nLOADI 2\nHALT\n", 3, [](auto& t) { last(t).after.carry_flag = true; }, true);
  // A wrong zero flag that sends a JZ the other way (the claim's final state is consistent).
  expect_rejected("LOADI 3\nSUB 3\nJZ 5\nLOADI 7\nHALT\nHALT\n", 4, [](auto& t) {
    t.rows[1].after.zero_flag = false;
    t.rows[2].after.zero_flag = false;
    t.rows[2].after.pc = 3;
    t.rows[3].pc = 3;
    t.rows[3].instruction = {vm::Opcode::LoadI, 7, 0};
    t.rows[3].after = t.rows[2].after;
    set_acc(t.rows[3].after, 7);
    t.rows[3].after.pc = 4;
  }, true);
  expect_rejected("LOADI 3\nSUB 2\nJZ 5\nLOADI 7\nHALT\nLOADI 0\nHALT\n", 4, [](auto& t) {
    t.rows[1].after.zero_flag = true;
    t.rows[2].after.zero_flag = true;
    t.rows[2].after.pc = 5;
    t.rows[3].pc = 5;
    t.rows[3].instruction = {vm::Opcode::LoadI, 0, 0};
    t.rows[3].after = t.rows[2].after;
    set_acc(t.rows[3].after, 0);
    t.rows[3].after.pc = 6;
  }, true);
}

TEST(VmAirSoundness, WrongControlFlow) {
  expect_rejected("LOADI 0\nJZ 3\nNOP\nHALT\n", 2, [](auto& t) { last(t).after.pc = 2; }, true);
  expect_rejected("LOADI 1\nNOP\nNOP\nHALT\n", 2, [](auto& t) { last(t).after.pc = 3; }, true);
  expect_rejected("LOADI 1\nHALT\n", 2, [](auto& t) { last(t).after.halted = false; }, true);
  expect_rejected(".memory 2\nLOADI 1\nPUSH\nHALT\n", 2, [](auto& t) { last(t).after.sp = 2; }, true);
  // A skipped instruction: the step is removed from the trace.
  expect_rejected("LOADI 1\nADD 2\nADD 3\nHALT\n", 3, [](auto& t) {
    t.rows.erase(t.rows.begin() + 1);
    t.max_steps = 2;
  }, true);
  // An instruction that is not in the program (consistent result): only the ROM lookup catches it.
  expect_rejected("LOADI 7\nADD 5\nHALT\n", 2, [](auto& t) {
    last(t).instruction.operand = 6;
    set_acc(last(t).after, 13);
  }, false);
  expect_rejected("LOADI 7\nADD 5\nHALT\n", 2, [](auto& t) {
    last(t).instruction.op = vm::Opcode::SubI;
    set_acc(last(t).after, 2);
  }, false);
}

TEST(VmAirSoundness, WrongMemory) {
  // A stale read: the last LOAD returns the first write instead of the second.
  expect_rejected(".memory 1\nLOADI 3\nSTORE 0\nLOADI 9\nSTORE 0\nLOAD 0\nHALT\n", 5, [](auto& t) {
    last(t).access.value = 3;
    last(t).access.previous = 3;
    set_acc(last(t).after, 3);
  }, false);
  // A read of the initial value after it was overwritten.
  expect_rejected(".memory 1\n.init 0 4\nLOADI 9\nSTORE 0\nADDM 0\nHALT\n", 3, [](auto& t) {
    last(t).access.value = 4;
    last(t).access.previous = 4;
    set_acc(last(t).after, 13);
  }, false);
  // A write to the wrong cell (final memory restated to match).
  expect_rejected(".memory 2\nLOADI 5\nSTORE 0\nHALT\n", 2, [](auto& t) {
    last(t).access.address = 1;
    t.final_memory = {0, 5};
  }, true);
  // A write of the wrong value.
  expect_rejected(".memory 2\nLOADI 5\nSTORE 0\nHALT\n", 2, [](auto& t) {
    last(t).access.value = 6;
    t.final_memory = {6, 0};
  }, true);
  // A RET to a pc that was never pushed.
  expect_rejected(".memory 2\nCALL 2\nHALT\nRET\n", 2, [](auto& t) {
    last(t).access.value = 0;
    last(t).access.previous = 0;
    last(t).after.pc = 0;
  }, false);
}

// Claims that differ from the (honest) trace.
void expect_claim_rejected(const std::string& source, uint64_t max_steps,
                           const std::function<void(VmStatement&)>& change) {
  SCOPED_TRACE(source);
  vm::ExecutionTrace trace = run_source(source, max_steps);
  VmStatement s = statement_from_trace(trace);
  change(s);
  if (check_statement(s)) return;  // rejected before proving: fine too
  Outcome o = prove_and_verify(s, trace);
  EXPECT_FALSE(o.accepted) << "a claim that differs from the run was accepted";
}

TEST(VmAirSoundness, ClaimDiffersFromTrace) {
  const std::string mem = ".memory 2\n.init 0 4\nLOAD 0\nADD 1\nSTORE 1\nHALT\n";
  expect_claim_rejected(mem, 512, [](auto& s) { s.program.initial_memory[0] = 5; });
  expect_claim_rejected(mem, 512, [](auto& s) { s.program.initial_memory[1] = 1; });
  expect_claim_rejected(mem, 512, [](auto& s) { s.final_memory[1] = 6; });
  expect_claim_rejected(mem, 512, [](auto& s) { s.final_memory[0] = 0; });
  expect_claim_rejected(mem, 512, [](auto& s) { set_acc(s.final_state, 6); });
  expect_claim_rejected(mem, 512, [](auto& s) { s.final_state.pc = 2; });
  expect_claim_rejected(mem, 512, [](auto& s) { s.final_state.sp = 1; });
  expect_claim_rejected(mem, 512, [](auto& s) { s.final_state.carry_flag = true; });
  expect_claim_rejected(mem, 512, [](auto& s) { s.steps = 3; s.max_steps = 3; s.final_state.halted = false; });
  expect_claim_rejected(mem, 512, [](auto& s) { s.steps = 5; });
  expect_claim_rejected(mem, 512, [](auto& s) { s.program.instructions[1].operand = 2; });
  expect_claim_rejected("loop:\nADD 1\nJMP loop\n", 10, [](auto& s) { s.final_state.halted = true; });
}

}  // namespace
}  // namespace ptvm::vmair::testing

namespace ptvm::vmair::testing {
namespace {

// stark::check_constraints on the VM AIR, whose step component has LogUp pairs interleaved with its
// own constraints and boundary constraints after them: an honest trace has no violation (before
// the constraint kinds were recorded, completed LogUp pairs were checked as boundary constraints),
// and a wrong boundary value is reported as one.
TEST(VmAirCheckConstraints, LogupPairsAndBoundariesAreToldApart) {
  const vm::ExecutionTrace trace =
      run_source(".memory 4\nLOADI 7\nSTORE 1\nADDM 1\nPUSH\nPOP\nXOR 5\nCMP 3\nHALT\n");
  const VmStatement statement = statement_from_trace(trace);
  const air::Air a = build_air(statement);
  const auto pub = public_inputs(statement, test_digest());
  auto witness = build_witness(statement, trace);
  const auto& step = *a.components[0];
  ASSERT_FALSE(step.info().boundary_constraints.empty());
  ASSERT_GE(step.shape().n_fractions, 2u);
  const auto honest = stark::check_constraints(a, pub, witness);
  EXPECT_FALSE(honest.has_value()) << *honest;

  std::vector<M31> wrong_pub(pub.begin(), pub.end());
  const auto& b = step.info().boundary_constraints.back();
  wrong_pub[b.public_input] += M31::one();
  const auto violation = stark::check_constraints(a, wrong_pub, witness);
  ASSERT_TRUE(violation.has_value());
  EXPECT_NE(violation->find("(boundary)"), std::string::npos) << *violation;
}

}  // namespace
}  // namespace ptvm::vmair::testing
