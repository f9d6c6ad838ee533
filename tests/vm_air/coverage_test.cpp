// Every instruction, every wrap and flag case, stack and calls, runs that stop at max_steps, and
// random programs: the honest trace proves and verifies.
#include <gtest/gtest.h>

#include "../vm/random_program.hpp"
#include "vm_air_test_util.hpp"

namespace ptvm::vmair::testing {
namespace {

void expect_proves(const std::string& source, uint64_t max_steps = 512) {
  SCOPED_TRACE(source);
  vm::ExecutionTrace trace = run_source(source, max_steps);
  Outcome o = prove_and_verify(statement_from_trace(trace), trace);
  EXPECT_TRUE(o.constraints_hold) << o.constraint_violation;
  EXPECT_TRUE(o.accepted) << o.reason;
}

TEST(VmAirCoverage, ArithmeticWrapsAndFlags) {
  expect_proves("LOADI 32767\nADD 1\nHALT\n");     // -32768, carry
  expect_proves("LOADI -32768\nADD -1\nHALT\n");   // 32767, carry
  expect_proves("LOADI -32768\nADD -32768\nHALT\n");  // 0, carry, zero
  expect_proves("LOADI 5\nSUB 10\nHALT\n");         // -5, no carry
  expect_proves("LOADI -32768\nSUB 1\nHALT\n");     // 32767, carry
  expect_proves("LOADI 32767\nSUB -32768\nHALT\n"); // -1, carry
  expect_proves("LOADI 300\nMUL 300\nHALT\n");      // 24464, carry
  expect_proves("LOADI -32768\nMUL -32768\nHALT\n");  // 2^30 wraps to 0: the k = 16384 case
  expect_proves("LOADI -32768\nMUL 32767\nHALT\n");   // -32768, carry
  expect_proves("LOADI 32767\nMUL 32767\nHALT\n");
  expect_proves("LOADI -181\nMUL 181\nHALT\n");
  expect_proves("LOADI 0\nMUL -7\nHALT\n");
  expect_proves("LOADI 5\nCMP 10\nHALT\n");   // -5, carry
  expect_proves("LOADI 10\nCMP 5\nHALT\n");   // 5, no carry
  expect_proves("LOADI 7\nCMP 7\nHALT\n");    // 0, zero
  expect_proves("LOADI -32768\nCMP 32767\nHALT\n");  // wraps to 1, carry (a < v)
  expect_proves("LOADI 32767\nCMP -32768\nHALT\n");  // wraps to -1, no carry
  expect_proves("LOADI -1\nAND 255\nOR -256\nXOR 21845\nAND -32768\nXOR -1\nOR 0\nHALT\n");
  expect_proves("LOADI 32767\nADD 1\nLOADI 3\nHALT\n");  // carry cleared by LOADI
  expect_proves("LOADI 32767\nADD 1\nNOP\nJMP 4\nNOP\nHALT\n");  // carry kept
}

TEST(VmAirCoverage, MemoryFormsStackAndCalls) {
  expect_proves(".memory 4\n.init 0 -32768\n.init 1 3\nLOADI 5\nADDM 1\nSUBM 0\nMULM 1\nANDM 1\nORM 0\n"
                "XORM 1\nCMPM 0\nSTORE 2\nLOAD 2\nHALT\n");
  expect_proves(".memory 3\nLOADI 9\nPUSH\nLOADI -2\nPUSH\nPOP\nADD 1\nPOP\nPUSH\nHALT\n");
  expect_proves(".memory 4\nLOADI 1\nCALL 4\nADD 100\nHALT\nADD 2\nCALL 7\nRET\nMUL 3\nRET\n");
  expect_proves("LOADI 0\nJZ 3\nHALT\nJNZ 2\nLOADI 1\nJZ 2\nJNZ 8\nNOP\nHALT\n");
  expect_proves(".memory 0\nLOADI 4\nHALT\n");
  expect_proves(".memory 255\n.init 254 7\nLOAD 254\nPUSH\nHALT\n");
}

TEST(VmAirCoverage, RunsStoppedAtMaxSteps) {
  expect_proves("loop:\nADD 1\nJMP loop\n", 100);      // not halted
  expect_proves("loop:\nADD 1\nJMP loop\n", 64);       // exactly a power of two, no padding
  expect_proves("ADD 1\nHALT\n", 1);                   // stops before HALT
  expect_proves("ADD 1\nHALT\n", 0);                   // no step at all
  expect_proves(".memory 2\nloop:\nMUL 3\nADD 7\nSTORE 1\nXORM 1\nPUSH\nPOP\nJMP loop\n", 200);
}

TEST(VmAirCoverage, RandomPrograms) {
  size_t proven = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    vm::testing::RandomProgramGenerator gen(seed);
    vm::Program program = gen.program();
    vm::ExecutionTrace trace;
    try {
      trace = run_native(program, 300);
    } catch (const Error&) {
      continue;  // a runtime error: nothing to prove
    }
    SCOPED_TRACE("seed " + std::to_string(seed));
    Outcome o = prove_and_verify(statement_from_trace(trace), trace);
    EXPECT_TRUE(o.constraints_hold) << o.constraint_violation;
    EXPECT_TRUE(o.accepted) << o.reason;
    ++proven;
  }
  EXPECT_GE(proven, 20u);
}

}  // namespace
}  // namespace ptvm::vmair::testing
