#include "ptvm/vm/runner.hpp"

#include <gtest/gtest.h>

#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/native.hpp"
#include "test_util.hpp"

namespace ptvm::vm {
namespace {

const char* kFib =
    ".memory 5\n.init 1 1\n.init 4 7\nloop: LOAD 3\nSUBM 4\nJZ done\nLOAD 0\nADDM 1\nSTORE 2\n"
    "LOAD 1\nSTORE 0\nLOAD 2\nSTORE 1\nLOAD 3\nADD 1\nSTORE 3\nJMP loop\ndone: LOAD 1\nHALT\n";

// An engine that wraps a native one and corrupts one field at one step, to prove that lockstep
// verification notices every kind of divergence.
class FaultyEngine final : public Engine {
 public:
  enum class Fault { Acc, Pc, Sp, Zero, Carry, Halted, AccessKind, AccessAddress, AccessValue,
                     AccessPrevious, RaiseError, FinalMemory };
  FaultyEngine(const Program& p, uint64_t at_step, Fault fault)
      : inner_(p, {}), at_step_(at_step), fault_(fault) {}
  EngineKind kind() const override { return EngineKind::Transformer; }
  TraceRow step() override {
    if (fault_ == Fault::RaiseError && inner_.steps_taken() + 1 == at_step_) {
      throw Error(ErrorCategory::Runtime, "injected");
    }
    TraceRow row = inner_.step();
    state_ = inner_.state();
    if (row.step == at_step_) {
      switch (fault_) {
        case Fault::Acc: row.after.acc ^= 4; break;
        case Fault::Pc: row.after.pc ^= 1; break;
        case Fault::Sp: row.after.sp ^= 1; break;
        case Fault::Zero: row.after.zero_flag = !row.after.zero_flag; break;
        case Fault::Carry: row.after.carry_flag = !row.after.carry_flag; break;
        case Fault::Halted: row.after.halted = !row.after.halted; break;
        case Fault::AccessKind: row.access.kind = MemoryAccess::Kind::None; break;
        case Fault::AccessAddress: row.access.address ^= 1; break;
        case Fault::AccessValue: row.access.value ^= 1; break;
        case Fault::AccessPrevious: row.access.previous ^= 1; break;
        default: break;
      }
    }
    return row;
  }
  const MachineState& state() const override { return state_; }
  uint64_t steps_taken() const override { return inner_.steps_taken(); }
  std::vector<int16_t> memory() const override {
    std::vector<int16_t> m = inner_.memory();
    if (fault_ == Fault::FinalMemory) m[2] ^= 1;
    return m;
  }

 private:
  NativeEngine inner_;
  MachineState state_;
  uint64_t at_step_;
  Fault fault_;
};

TEST(Runner, LockstepNativeAgainstNativePasses) {
  Program p = assemble_source(kFib, "fib.tvm");
  RunOptions options;
  options.verify_native = true;
  RunResult r = run(p, options);
  EXPECT_EQ(r.steps, 103u);
  EXPECT_EQ(r.trace.final_state.acc, 21);
}

TEST(Runner, LockstepReportsEveryDivergingField) {
  Program p = assemble_source(kFib, "fib.tvm");
  struct Case {
    FaultyEngine::Fault fault;
    uint64_t step;
    const char* message;
  };
  // step 5 is ADDM 1 (a read), step 6 STORE 2 (a write)
  const Case cases[] = {
      {FaultyEngine::Fault::Acc, 5, "divergence at step 5 (pc 4, ADDM 1): field acc: transformer"},
      {FaultyEngine::Fault::Pc, 7, "divergence at step 7 (pc 6, LOAD 1): field pc"},
      {FaultyEngine::Fault::Sp, 2, "step 2 (pc 1, SUBM 4): field sp"},
      {FaultyEngine::Fault::Zero, 3, "field zero_flag"},
      {FaultyEngine::Fault::Carry, 3, "field carry_flag"},
      {FaultyEngine::Fault::Halted, 1, "field halted"},
      {FaultyEngine::Fault::AccessKind, 6, "step 6 (pc 5, STORE 2): field memory access kind"},
      {FaultyEngine::Fault::AccessAddress, 5, "field memory access address"},
      {FaultyEngine::Fault::AccessValue, 6, "field memory access value"},
      {FaultyEngine::Fault::AccessPrevious, 6, "field memory access previous"},
      {FaultyEngine::Fault::RaiseError, 9, "divergence at step 9 (pc 8, LOAD 2): field outcome: transformer failed"},
      {FaultyEngine::Fault::FinalMemory, 0, "final field memory[2] differs"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    FaultyEngine faulty(p, c.step, c.fault);
    NativeEngine reference(p, {});
    RunOptions options;
    EXPECT_PTVM_ERROR(run_engine(faulty, &reference, p, options), ErrorCategory::Divergence,
                      c.message);
  }
}

TEST(Runner, LockstepSameRuntimeErrorIsARuntimeError) {
  Program p = assemble_source(".memory 1\nPUSH\nPUSH", "e.tvm");
  RunOptions options;
  options.verify_native = true;
  EXPECT_PTVM_ERROR(run(p, options), ErrorCategory::Runtime, "step 2");
}

TEST(Runner, TraceRecordingCanBeTurnedOff) {
  Program p = assemble_source(kFib);
  RunOptions options;
  options.record_trace = false;
  RunResult r = run(p, options);
  EXPECT_TRUE(r.trace.rows.empty());
  EXPECT_EQ(r.steps, 103u);
  EXPECT_EQ(r.trace.final_state.acc, 21);
  EXPECT_EQ(r.trace.final_memory, (std::vector<int16_t>{13, 21, 21, 7, 7}));
  options.record_trace = true;
  RunResult full = run(p, options);
  EXPECT_EQ(full.trace.rows.size(), 103u);
  EXPECT_EQ(full.trace.rows.back().after, r.trace.final_state);
  EXPECT_EQ(full.trace.initial, initial_state(p));
  EXPECT_EQ(full.trace.program.instructions, p.instructions);
  EXPECT_GE(full.elapsed_seconds, 0.0);
}

TEST(Runner, OptionsAreValidated) {
  Program p = assemble_source("HALT");
  RunOptions options;
  options.layers = 0;
  EXPECT_PTVM_ERROR(run(p, options), ErrorCategory::Usage, "layers must be in 1..256 (got 0)");
  options.layers = 257;
  EXPECT_PTVM_ERROR(run(p, options), ErrorCategory::Usage, "layers must be in 1..256 (got 257)");
  options.layers = 256;
  options.engine = EngineKind::Transformer;
  EXPECT_EQ(run(p, options).steps, 1u);
  options.engine = EngineKind::Native;
  options.layers = 1;
  options.attention = {AttentionMode::Kind::HardSoftmax, 0.0};
  EXPECT_PTVM_ERROR(run(p, options), ErrorCategory::Usage, "T > 0");
  EXPECT_EQ(parse_engine_kind("native"), EngineKind::Native);
  EXPECT_EQ(parse_engine_kind("transformer"), EngineKind::Transformer);
  EXPECT_PTVM_ERROR(parse_engine_kind("gpu"), ErrorCategory::Usage, "unknown engine 'gpu'");
}

}  // namespace
}  // namespace ptvm::vm
