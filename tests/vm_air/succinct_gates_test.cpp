// The step component's is_real and ts are committed (main) columns pinned by succinct row
// selectors (ptvm/vmair/vm_air.hpp): a witness that changes them is rejected, each cheat by the
// constraint meant to catch it, and nothing of the component's size is committed in tree 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <set>

#include "vm_air_test_util.hpp"

namespace ptvm::vmair::testing {
namespace {

// Every violated AIR constraint index of the step component (over all rows).
std::set<uint32_t> violations(const StepAir& air, const std::vector<std::vector<M31>>& main) {
  const auto pre = air.preprocessed_columns();
  const size_t n = size_t{1} << air.log_rows;
  std::set<uint32_t> out;
  for (size_t r = 0; r < n; ++r) {
    RowCheckEval e{&pre, &main, r, n, &out};
    air.evaluate(e);
  }
  return out;
}

// The five gate constraints are the step component's last AIR constraints.
enum Gate : uint32_t { kTsFirst = 0, kTsStep, kMonotone, kLastReal, kFirstPadding };

struct GateRun {
  VmStatement statement;
  air::Air air;
  std::vector<M31> pub;
  std::vector<std::vector<std::vector<M31>>> witness;
  uint32_t first_gate = 0;
  const StepAir* step = nullptr;
};

GateRun make_run(const std::string& source, uint64_t max_steps = 512) {
  const vm::ExecutionTrace trace = run_source(source, max_steps);
  GateRun r;
  r.statement = statement_from_trace(trace);
  r.air = build_air(r.statement);
  r.pub = public_inputs(r.statement, test_digest());
  r.witness = build_witness(r.statement, trace);
  r.step = &dynamic_cast<const air::ComponentAdapter<StepAir>&>(*r.air.components[0]).air();
  r.first_gate = r.air.components[0]->shape().n_air_constraints - 5;
  return r;
}

// A prover refusal counts as a rejection.
stark::Verdict prove_and_verify(const GateRun& r, const std::vector<std::vector<std::vector<M31>>>& witness) {
  auto backend = make_cpu_backend();
  try {
    stark::StarkProof proof = stark::prove(r.air, r.pub, witness, fast_profile(), *backend);
    return stark::verify(r.air, r.pub, proof, fast_profile());
  } catch (const Error& e) {
    return stark::Verdict{false, std::string("prover refused: ") + e.what()};
  }
}

// Applies `mutate` to the step component's columns; expects `gate` among the violated constraints
// and the proof rejected.
void expect_caught(const std::string& source, uint64_t max_steps, Gate gate,
                   const std::function<void(std::vector<std::vector<M31>>&, size_t steps)>& mutate) {
  SCOPED_TRACE(source + " gate " + std::to_string(gate));
  GateRun r = make_run(source, max_steps);
  ASSERT_TRUE(violations(*r.step, r.witness[0]).empty());
  auto cheat = r.witness;
  mutate(cheat[0], r.statement.steps);
  const auto v = violations(*r.step, cheat[0]);
  EXPECT_TRUE(v.count(r.first_gate + gate)) << "the gate did not catch it";
  stark::Verdict verdict = prove_and_verify(r, cheat);
  EXPECT_FALSE(verdict.accepted) << "a cheating witness was accepted";
  EXPECT_FALSE(verdict.reason.empty());
}

// No memory access: the memory timestamps (prev_ts = ts - 1, no fraction) follow ts, so a
// consistent shift of ts leaves only the gates to catch it.
const char* kNoMemory = "LOADI 7\nADD 5\nSUB 2\nMUL 3\nADD 1\nHALT\n";
void shift_ts(std::vector<std::vector<M31>>& c, size_t from) {
  for (size_t r = from; r < c[kTimestamp].size(); ++r) {
    c[kTimestamp][r] += M31::one();
    c[kMemPrevTs][r] += M31::one();
  }
}

TEST(VmAirSuccinctGates, HonestWitnessesHoldAndVerify) {
  for (auto [source, max_steps] : std::vector<std::pair<std::string, uint64_t>>{
           {kNoMemory, 512}, {".memory 4\nLOADI 7\nSTORE 1\nADDM 1\nPUSH\nPOP\nXOR 5\nHALT\n", 512},
           {"loop:\nADD 1\nJMP loop\n", 8},   // steps = 8 = 2^3: no padding row
           {"loop:\nADD 1\nJMP loop\n", 5}}) {
    SCOPED_TRACE(source);
    GateRun r = make_run(source, max_steps);
    EXPECT_TRUE(violations(*r.step, r.witness[0]).empty());
    stark::Verdict v = prove_and_verify(r, r.witness);
    EXPECT_TRUE(v.accepted) << v.reason;
  }
}

TEST(VmAirSuccinctGates, TimestampsArePinned) {
  expect_caught(kNoMemory, 512, kTsFirst, [](auto& c, size_t) { shift_ts(c, 0); });  // starts at 2
  expect_caught(kNoMemory, 512, kTsStep, [](auto& c, size_t) { shift_ts(c, 3); });   // jumps at row 3
  expect_caught(kNoMemory, 512, kTsStep, [](auto& c, size_t) { shift_ts(c, 7); });   // only the last row
}

TEST(VmAirSuccinctGates, IsRealIsMonotoneAndSwitchesAtSteps) {
  // A real row in the middle turned into padding: is_real 1, 0, 1.
  expect_caught(kNoMemory, 512, kMonotone, [](auto& c, size_t steps) { c[kIsReal][steps - 3] = M31::zero(); });
  // Fewer steps than claimed (the last real row as padding), more steps (the first padding row real).
  expect_caught(kNoMemory, 512, kLastReal, [](auto& c, size_t steps) { c[kIsReal][steps - 1] = M31::zero(); });
  expect_caught(kNoMemory, 512, kFirstPadding, [](auto& c, size_t steps) { c[kIsReal][steps] = M31::one(); });
  // Full trace (steps = 2^n): row 0 must be real, and the last row too.
  expect_caught("loop:\nADD 1\nJMP loop\n", 8, kLastReal, [](auto& c, size_t) { c[kIsReal][7] = M31::zero(); });
  expect_caught("loop:\nADD 1\nJMP loop\n", 8, kFirstPadding, [](auto& c, size_t) {
    for (auto& v : c[kIsReal]) v = M31::zero();  // monotone, but claims no step at all
  });
}

// not_last excuses only the cyclic wrap: a broken continuity into the last row (the transition
// from row n-2) is still a violation, and so is a broken ts step there.
TEST(VmAirSuccinctGates, NotLastExcusesOnlyTheWrap) {
  GateRun r = make_run(kNoMemory);
  const size_t n = r.witness[0][0].size();
  auto cheat = r.witness;
  cheat[0][kPc][n - 1] += M31::one();
  cheat[0][kPcNext][n - 1] += M31::one();  // the padding row itself stays consistent (pc' = pc)
  const auto v = violations(*r.step, cheat[0]);
  EXPECT_FALSE(v.empty());
  EXPECT_FALSE(prove_and_verify(r, cheat).accepted);
  // The honest wrap: ts(last) = n, ts(0) = 1, continuity from the last row's after to row 0's before
  // broken (final state != initial state): excused.
  EXPECT_NE(r.witness[0][kPcNext][n - 1], r.witness[0][kPc][0]);
  EXPECT_TRUE(violations(*r.step, r.witness[0]).empty());
}

// Tree 0 holds ROM, memory and tables only: the same count of committed columns for any step count.
TEST(VmAirSuccinctGates, TreeZeroDoesNotGrowWithSteps) {
  for (uint64_t max_steps : {4u, 64u, 300u}) {
    GateRun r = make_run("loop:\nADD 1\nJMP loop\n", max_steps);
    EXPECT_EQ(r.air.components[0]->shape().n_committed_preprocessed, 0u);
    auto backend = make_cpu_backend();
    stark::StarkProof proof = stark::prove(r.air, r.pub, r.witness, fast_profile(), *backend);
    EXPECT_EQ(proof.sampled_values[stark::kPreprocessedTree].size(), 4u + 4u + 6u) << max_steps;
  }
}

// The composition's inputs read at the next row (what a sharded backend exchanges): the state's
// continuity (pc .. halted), ts and is_real, and the LogUp running sum; no preprocessed column.
TEST(VmAirSuccinctGates, NextRowInputsAreTheContinuityColumnsAndTheRunningSum) {
  GateRun r = make_run("loop:\nADD 1\nJMP loop\n", 64);
  const air::Component& step = *r.air.components[0];
  const air::ComponentShape& shape = step.shape();
  const uint32_t main0 = shape.n_preprocessed_total;
  std::vector<uint32_t> expected;
  for (uint32_t c = 0; c < kStateWidth; ++c) expected.push_back(main0 + kPc + c);
  for (uint32_t c : {kIsReal, kTimestamp}) expected.push_back(main0 + c);
  std::sort(expected.begin(), expected.end());
  const uint32_t running = main0 + step.info().n_main_columns + 4 * (shape.n_logup_batches - 1);
  for (uint32_t k = 0; k < 4; ++k) expected.push_back(running + k);
  EXPECT_EQ(shape.next_row_inputs, expected);
  // air::next_row_inputs picks them out of the inputs in order, and takes all on a count mismatch.
  std::vector<uint32_t> inputs(running + 4);
  std::iota(inputs.begin(), inputs.end(), 0u);
  EXPECT_EQ(air::next_row_inputs(step, inputs), expected);
  inputs.pop_back();
  EXPECT_EQ(air::next_row_inputs(step, inputs), inputs);
}

}  // namespace
}  // namespace ptvm::vmair::testing
