// tvm tui's model: recorded runs, the step in view, breakpoints and the panels' text.
#include "tui_model.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/runner.hpp"

namespace tvm_cli {

namespace vm = ptvm::vm;
using ptvm::Error;
using ptvm::ErrorCategory;

TuiRun record_tui_run(const vm::Program& program, vm::EngineKind engine,
                      const TuiSettings& settings) {
  vm::RunOptions options;
  options.engine = engine;
  options.max_steps = settings.max_steps;
  options.layers = settings.layers;
  options.record_trace = true;
  // Counts the steps that completed, so that a run a runtime error ends can be recorded again up
  // to the step before the failing one (run() keeps nothing of a run that throws).
  uint64_t completed = 0;
  options.on_progress = [&completed](uint64_t steps) { completed = steps; };
  options.progress_interval = 1;
  TuiRun recorded;
  recorded.engine = engine;
  try {
    recorded.trace = vm::run(program, options).trace;
    return recorded;
  } catch (const Error& e) {
    if (e.category() != ErrorCategory::Runtime)
      throw;
    recorded.error = e.what();
  }
  options.max_steps = completed;
  options.on_progress = nullptr;
  recorded.trace = vm::run(program, options).trace;
  recorded.trace.max_steps = settings.max_steps;
  return recorded;
}

namespace {

std::string padded(const std::string& text, size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

const char* flag(bool b) { return b ? "1" : "0"; }

vm::EngineKind other_engine(vm::EngineKind kind) {
  return kind == vm::EngineKind::Native ? vm::EngineKind::Transformer : vm::EngineKind::Native;
}

} // namespace

TuiModel::TuiModel(vm::Program program, std::string program_name, vm::EngineKind engine,
                   TuiSettings settings)
    : program_(std::move(program)), program_name_(std::move(program_name)), settings_(settings) {
  run_ = record_tui_run(program_, engine, settings_);
  index_writes();
}

void TuiModel::index_writes() {
  writes_.assign(program_.initial_memory.size(), {});
  for (size_t cell = 0; cell < writes_.size(); ++cell)
    writes_[cell].push_back({0, program_.initial_memory[cell]});
  for (const vm::TraceRow& row : run_.trace.rows) {
    if (row.access.kind == vm::MemoryAccess::Kind::Write && row.access.address < writes_.size())
      writes_[row.access.address].push_back({row.step, row.access.value});
  }
}

uint64_t TuiModel::step_forward(uint64_t count) {
  const uint64_t moved = std::min(count, last_step() - step_);
  step_ += moved;
  return moved;
}

uint64_t TuiModel::step_back(uint64_t count) {
  const uint64_t moved = std::min(count, step_);
  step_ -= moved;
  return moved;
}

void TuiModel::go_to(uint64_t step) { step_ = std::min(step, last_step()); }

TuiStop TuiModel::run_to_breakpoint() {
  while (step_ < last_step()) {
    ++step_;
    if (has_breakpoint(state().pc) && !state().halted)
      return TuiStop::Breakpoint;
  }
  return end_reason();
}

TuiStop TuiModel::end_reason() const {
  if (!run_.error.empty())
    return TuiStop::RuntimeError;
  return run_.trace.final_state.halted ? TuiStop::Halted : TuiStop::MaxSteps;
}

std::string TuiModel::end_text() const {
  switch (end_reason()) {
  case TuiStop::RuntimeError:
    return run_.error; // "<file>: runtime error at step N (pc P, INSTR): reason"
  case TuiStop::Halted:
    return "halted at step " + std::to_string(last_step());
  case TuiStop::MaxSteps:
  case TuiStop::Breakpoint:
    break;
  }
  return "max steps (" + std::to_string(settings_.max_steps) + ") reached, not halted";
}

bool TuiModel::toggle_breakpoint(uint32_t pc) {
  const size_t count = program_.instructions.size();
  if (pc >= count)
    throw Error(ErrorCategory::Usage,
                "no instruction at pc " + std::to_string(pc) +
                    (count == 0 ? " (the program is empty)"
                                : " (the program has pcs 0.." + std::to_string(count - 1) + ")"));
  if (breakpoints_.erase(pc))
    return false;
  breakpoints_.insert(pc);
  return true;
}

void TuiModel::set_engine(vm::EngineKind engine) {
  if (engine == run_.engine)
    return;
  const uint64_t keep = step_;
  run_ = record_tui_run(program_, engine, settings_);
  index_writes();
  step_ = std::min(keep, last_step());
}

void TuiModel::switch_engine() { set_engine(other_engine(run_.engine)); }

const vm::MachineState& TuiModel::state() const {
  return step_ == 0 ? run_.trace.initial : run_.trace.rows[step_ - 1].after;
}

const vm::TraceRow* TuiModel::current_row() const {
  return step_ == 0 ? nullptr : &run_.trace.rows[step_ - 1];
}

std::vector<int16_t> TuiModel::memory() const {
  std::vector<int16_t> cells(writes_.size());
  for (size_t cell = 0; cell < cells.size(); ++cell)
    cells[cell] = write_history(cell).back().value;
  return cells;
}

std::vector<CellWrite> TuiModel::write_history(size_t cell) const {
  if (cell >= writes_.size())
    return {};
  const std::vector<CellWrite>& all = writes_[cell];
  auto end = std::upper_bound(all.begin(), all.end(), step_,
                              [](uint64_t step, const CellWrite& w) { return step < w.step; });
  return {all.begin(), end};
}

std::optional<vm::FfnInputVector> TuiModel::ffn_input() const {
  const vm::TraceRow* row = current_row();
  if (!row)
    return std::nullopt;
  const vm::MachineState& before =
      step_ == 1 ? run_.trace.initial : run_.trace.rows[step_ - 2].after;
  // The operand input, as the compiled blocks take it: the immediate of the immediate forms, the
  // attention read of LOAD/...M/POP/RET, else 0 (branch targets are in the weights).
  int16_t operand = 0;
  if (row->access.kind == vm::MemoryAccess::Kind::Read) {
    operand = row->access.value;
  } else if (vm::opcode_info(row->instruction.op).operand == vm::OperandKind::Immediate) {
    operand = static_cast<int16_t>(row->instruction.operand);
  }
  return vm::make_ffn_input(before, operand);
}

std::string TuiModel::title_line() const {
  std::string s = "tvm tui  " + program_name_ + "  engine " + vm::engine_name(run_.engine);
  if (run_.engine == vm::EngineKind::Transformer)
    s += "  layers " + std::to_string(settings_.layers);
  s += "  step " + std::to_string(step_) + "/" + std::to_string(last_step());
  if (at_end()) { // the short form; end_text() has the whole message
    switch (end_reason()) {
    case TuiStop::Halted:
      s += "  [halted]";
      break;
    case TuiStop::RuntimeError:
      s += "  [runtime error at step " + std::to_string(last_step() + 1) + "]";
      break;
    case TuiStop::MaxSteps:
    case TuiStop::Breakpoint:
      s += "  [max steps reached]";
      break;
    }
  }
  return s;
}

std::vector<ListingLine> TuiModel::listing_lines() const {
  std::vector<ListingLine> lines;
  const vm::MachineState& s = state();
  for (size_t pc = 0; pc < program_.instructions.size(); ++pc) {
    ListingLine line;
    line.pc = static_cast<uint8_t>(pc);
    line.current = s.pc == pc;
    line.breakpoint = has_breakpoint(static_cast<uint32_t>(pc));
    char head[32];
    std::snprintf(head, sizeof head, "%c%c%4u  ", line.breakpoint ? '*' : ' ',
                  line.current ? '>' : ' ', static_cast<unsigned>(pc));
    line.text = head + vm::format_instruction(program_.instructions[pc]);
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> TuiModel::state_lines() const {
  const vm::MachineState& s = state();
  std::vector<std::string> lines;
  lines.push_back(padded("pc " + std::to_string(s.pc), 10) +
                  padded("acc " + std::to_string(s.acc), 14) + "sp " + std::to_string(s.sp));
  lines.push_back(std::string("zero ") + flag(s.zero_flag) + "   carry " + flag(s.carry_flag) +
                  "   halted " + flag(s.halted));
  const std::optional<vm::FfnInputVector> x = ffn_input();
  if (!x) {
    lines.push_back("FFN input x (41): none yet (no step executed)");
    return lines;
  }
  const vm::TraceRow& row = *current_row();
  lines.push_back("FFN input x (41) of step " + std::to_string(step_) + " (pc " +
                  std::to_string(row.pc) + " " + vm::format_instruction(row.instruction) +
                  "; registers before it):");
  const auto& v = *x;
  lines.push_back(
      "  x[0..4]   one=" + std::to_string(v[vm::kInOne]) + " pc=" + std::to_string(v[vm::kInPc]) +
      " p1=" + std::to_string(v[vm::kInNextPc]) + " acc=" + std::to_string(v[vm::kInAcc]) +
      " zero=" + std::to_string(v[vm::kInZero]));
  lines.push_back("  x[5..8]   carry=" + std::to_string(v[vm::kInCarry]) + " halted=" +
                  std::to_string(v[vm::kInHalted]) + " sp=" + std::to_string(v[vm::kInSp]) +
                  " operand=" + std::to_string(v[vm::kInOperand]));
  std::string acc_bits, operand_bits;
  for (int k = 0; k < 16; ++k) {
    acc_bits += v[vm::kInAccBit0 + k] ? '1' : '0';
    operand_bits += v[vm::kInOperandBit0 + k] ? '1' : '0';
  }
  lines.push_back("  x[9..24]  acc bits 0..15     " + acc_bits);
  lines.push_back("  x[25..40] operand bits 0..15 " + operand_bits);
  return lines;
}

std::vector<std::string> TuiModel::attention_lines() const {
  const vm::TraceRow* row = current_row();
  if (!row)
    return {"no step executed yet"};
  const std::string head = "step " + std::to_string(row->step) + " (pc " + std::to_string(row->pc) +
                           " " + vm::format_instruction(row->instruction) + "): ";
  const vm::MemoryAccess& a = row->access;
  switch (a.kind) {
  case vm::MemoryAccess::Kind::None:
    return {head + "no memory access"};
  case vm::MemoryAccess::Kind::Write:
    return {head + "no read; write mem[" + std::to_string(a.address) +
            "] = " + std::to_string(a.value) + " (was " + std::to_string(a.previous) + ")"};
  case vm::MemoryAccess::Kind::Read:
    break;
  }
  std::vector<std::string> lines{head + "read mem[" + std::to_string(a.address) + "] -> " +
                                 std::to_string(a.value)};
  // The keys the query saw: the cell's writes before this step; hard attention picks the latest.
  if (a.address < writes_.size()) {
    const std::vector<CellWrite>& all = writes_[a.address];
    size_t seen = 0;
    while (seen < all.size() && all[seen].step < row->step)
      ++seen;
    if (seen > 0) {
      const CellWrite& latest = all[seen - 1];
      lines.push_back("  over " + std::to_string(seen) + " key(s) (step, value) of mem[" +
                      std::to_string(a.address) + "]; argmax = latest write: step " +
                      std::to_string(latest.step) + ", value " + std::to_string(latest.value));
    }
  }
  return lines;
}

std::vector<std::string> TuiModel::memory_lines(size_t width) const {
  std::vector<std::string> lines;
  // Labels padded to the widest ("mem[9]  =" above "mem[10] =") so the values line up.
  const size_t label_width =
      writes_.empty() ? 0 : ("mem[" + std::to_string(writes_.size() - 1) + "]").size();
  for (size_t cell = 0; cell < writes_.size(); ++cell) {
    const std::vector<CellWrite> history = write_history(cell);
    char value[16];
    std::snprintf(value, sizeof value, "%6d", static_cast<int>(history.back().value));
    std::string line =
        padded("mem[" + std::to_string(cell) + "]", label_width) + " = " + value + "  writes:";
    std::vector<std::string> items;
    for (const CellWrite& w : history) {
      std::string item(
          " "); // appended piecewise: GCC 12 warns falsely (-Wrestrict) on " " + std::string
      item += std::to_string(w.step);
      item += ':';
      item += std::to_string(w.value);
      items.push_back(std::move(item));
    }
    // Keep the newest writes that fit, after a "... N earlier" marker when some are left out.
    size_t used = 0, first = items.size();
    while (first > 0) {
      const size_t next = used + items[first - 1].size();
      const std::string marker =
          first - 1 > 0 ? " ... " + std::to_string(first - 1) + " earlier" : "";
      if (line.size() + next + marker.size() > width)
        break;
      used = next;
      --first;
    }
    if (first > 0)
      line += " ... " + std::to_string(first) + " earlier";
    for (size_t i = first; i < items.size(); ++i)
      line += items[i];
    if (line.size() > width)
      line.resize(width);
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> TuiModel::trace_lines(size_t count) const {
  std::vector<std::string> lines;
  const uint64_t first = step_ > count ? step_ - count : 0;
  for (uint64_t i = first; i < step_; ++i)
    lines.push_back(vm::format_trace_row(run_.trace.rows[i]));
  return lines;
}

} // namespace tvm_cli
