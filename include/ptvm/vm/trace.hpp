// ExecutionTrace: what a run produced, one row per executed step; the prover's witness source.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ptvm/vm/isa.hpp"

namespace ptvm::vm {

// At most one memory access happens per step (no instruction both reads and writes memory).
struct MemoryAccess {
  enum class Kind : uint8_t { None, Read, Write } kind = Kind::None;
  uint8_t address = 0;
  int16_t value = 0;     // the value read, or the value written
  int16_t previous = 0;  // for a write: the cell's value before it (hard attention); for a read: == value
  friend bool operator==(const MemoryAccess&, const MemoryAccess&) = default;
};

struct TraceRow {
  uint64_t step = 0;        // 1-based step number
  uint8_t pc = 0;           // pc of the executed instruction
  Instruction instruction;  // the instruction executed
  MachineState after;       // state after the step
  MemoryAccess access;      // the step's memory access
};

struct ExecutionTrace {
  Program program;
  AttentionMode attention;
  uint64_t max_steps = kDefaultMaxSteps;
  MachineState initial;
  std::vector<TraceRow> rows;
  MachineState final_state;
  std::vector<int16_t> final_memory;
  uint64_t steps() const { return rows.size(); }
};

}  // namespace ptvm::vm
