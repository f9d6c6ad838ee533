// The native interpreter: the reference semantics of ISA.md, executed directly.
// make_native_engine (engine.hpp) returns a NativeEngine; the concrete class is public so that
// hot loops (runner, benchmarks) can call step() without a virtual dispatch.
#pragma once
#include <cstdint>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/attention_memory.hpp"
#include "ptvm/vm/engine.hpp"

namespace ptvm::vm {

class NativeEngine final : public Engine {
 public:
  NativeEngine(const Program& program, AttentionMode attention);

  EngineKind kind() const override { return EngineKind::Native; }
  TraceRow step() override;
  const MachineState& state() const override { return state_; }
  uint64_t steps_taken() const override { return steps_; }
  std::vector<int16_t> memory() const override { return memory_.latest_values(); }

  const AttentionMemory& attention_memory() const { return memory_; }
  const Program& program() const { return program_; }

 private:
  [[noreturn]] void fail(const Instruction* instruction, const std::string& reason) const;

  Program program_;
  MachineState state_;
  uint64_t steps_ = 0;
  AttentionMemory memory_;
};

}  // namespace ptvm::vm

namespace ptvm::vm {

// Checks what the assembler guarantees for programs built in code: at most 256 instructions and
// 255 memory cells, valid opcodes, immediates in i16, addresses and targets in 0..255.
// Throws ptvm::Error(ErrorCategory::Usage) naming the instruction index.
void validate_program(const Program& program);

// Softmax needs T == 1, HardSoftmax a finite T > 0; Usage error otherwise.
void validate_attention_mode(const AttentionMode& mode);

}  // namespace ptvm::vm
