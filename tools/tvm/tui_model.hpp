// The state and navigation of `tvm tui`, without ncurses: a recorded run (an ExecutionTrace of
// one engine), the step the view shows, breakpoints on pcs, and the text of every panel. The
// terminal code (tui_command.cpp) only draws these lines and maps keys to these calls, so the
// whole behaviour is testable without a terminal.
//
// Steps: the view shows step k in 0..last_step(); step 0 is the initial state, step k the state
// after the k-th executed instruction (trace row k - 1). The highlighted instruction is the one at
// the current pc, the next to execute. Stepping back does not re-execute: the whole run is
// recorded once per engine, and every step is a view of that trace.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ptvm/vm/compiler.hpp"
#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/isa.hpp"
#include "ptvm/vm/trace.hpp"

namespace tvm_cli {

struct TuiSettings {
  uint64_t max_steps = ptvm::vm::kDefaultMaxSteps;
  int layers = 1; // transformer banks (1..256)
};

// One run recorded to its end: halted, max_steps reached, or stopped by a runtime error (then the
// rows are the steps before the failing one and `error` is its message).
struct TuiRun {
  ptvm::vm::EngineKind engine = ptvm::vm::EngineKind::Transformer;
  ptvm::vm::ExecutionTrace trace;
  std::string error;
};

// Runs `program` with ptvm::vm::run (record_trace); a runtime error does not throw but ends the
// recorded run (the steps before it are recorded by a second run that stops short of it).
// Other errors (bad options) throw ptvm::Error.
TuiRun record_tui_run(const ptvm::vm::Program& program, ptvm::vm::EngineKind engine,
                      const TuiSettings& settings);

// A write to a memory cell: the step that wrote it (0 for the initial value) and the value.
struct CellWrite {
  uint64_t step = 0;
  int16_t value = 0;
  friend bool operator==(const CellWrite&, const CellWrite&) = default;
};

struct ListingLine {
  uint8_t pc = 0;
  std::string text; // "*>  12  LOAD 0": '*' breakpoint, '>' current pc
  bool current = false;
  bool breakpoint = false;
};

// Why run_to_breakpoint stopped.
enum class TuiStop { Breakpoint, Halted, MaxSteps, RuntimeError };

class TuiModel {
public:
  TuiModel(ptvm::vm::Program program, std::string program_name, ptvm::vm::EngineKind engine,
           TuiSettings settings);

  // ---- navigation ----
  uint64_t step() const { return step_; }
  uint64_t last_step() const { return run_.trace.rows.size(); }
  bool at_end() const { return step_ == last_step(); }
  // Each returns the number of steps actually moved (stops at 0 and at last_step()).
  uint64_t step_forward(uint64_t count = 1);
  uint64_t step_back(uint64_t count = 1);
  void go_to(uint64_t step); // clamped to last_step()
  // Moves forward at least one step, until the current pc holds a breakpoint or the run ends.
  TuiStop run_to_breakpoint();
  // Why the recorded run ended (at last_step()).
  TuiStop end_reason() const;
  // "halted at step 148", "max steps (512) reached, not halted", or the runtime error's message.
  std::string end_text() const;

  // ---- breakpoints (on pcs of the program) ----
  // Returns whether the pc now holds a breakpoint; a pc outside the program throws
  // ptvm::Error(Usage).
  bool toggle_breakpoint(uint32_t pc);
  bool has_breakpoint(uint32_t pc) const { return breakpoints_.count(pc) != 0; }
  const std::set<uint32_t>& breakpoints() const { return breakpoints_; }

  // ---- engine ----
  ptvm::vm::EngineKind engine() const { return run_.engine; }
  // Records the run again with `engine` and keeps the current step (clamped to the new run).
  void set_engine(ptvm::vm::EngineKind engine);
  void switch_engine(); // native -> transformer, any other engine -> native

  // ---- what the view shows ----
  const ptvm::vm::Program& program() const { return program_; }
  const TuiRun& run() const { return run_; }
  const ptvm::vm::MachineState& state() const;   // after step()
  const ptvm::vm::TraceRow* current_row() const; // the row of step(); null at step 0
  std::vector<int16_t> memory() const;           // every cell at step()
  // The writes of a cell up to step() (the initial value as step 0 first).
  std::vector<CellWrite> write_history(size_t cell) const;
  // The FFN input x of step(): from the state before it and its operand (the immediate, or the
  // value the attention read returned). Empty at step 0.
  std::optional<ptvm::vm::FfnInputVector> ffn_input() const;

  // ---- panel text ----
  std::string title_line() const;
  std::vector<ListingLine> listing_lines() const;
  std::vector<std::string> state_lines() const;     // registers, flags and x
  std::vector<std::string> attention_lines() const; // the memory access of step()
  // One line per cell, at most `width` characters: value and the write history, the oldest writes
  // left out ("...") when it does not fit.
  std::vector<std::string> memory_lines(size_t width) const;
  // format_trace_row of the last `count` steps up to step().
  std::vector<std::string> trace_lines(size_t count) const;

private:
  void index_writes();

  ptvm::vm::Program program_;
  std::string program_name_;
  TuiSettings settings_;
  TuiRun run_;
  uint64_t step_ = 0;
  std::set<uint32_t> breakpoints_;
  std::vector<std::vector<CellWrite>> writes_; // per cell, the whole run's writes in step order
};

} // namespace tvm_cli
