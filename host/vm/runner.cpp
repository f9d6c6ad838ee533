// run(): builds the requested engine (and a native reference for lockstep verification), steps it
// until it halts or max_steps have run, and packages the ExecutionTrace.
#include "ptvm/vm/runner.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/native.hpp"
#include "ptvm/vm/tensor_engine.hpp"

namespace ptvm::vm {

const char* engine_name(EngineKind kind) {
  switch (kind) {
    case EngineKind::Native: return "native";
    case EngineKind::Transformer: return "transformer";
    case EngineKind::Tensor: return "tensor";
  }
  return "unknown";
}

EngineKind parse_engine_kind(std::string_view text) {
  if (text == "native") return EngineKind::Native;
  if (text == "transformer") return EngineKind::Transformer;
  if (text == "tensor") return EngineKind::Tensor;
  throw Error(ErrorCategory::Usage,
              "unknown engine '" + std::string(text) + "' (expected transformer, native or tensor)");
}

namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<Engine> make_transformer_for_runner(const Program& program,
                                                    const RunOptions& options) {
  TransformerConfig config;
  config.num_layers = options.layers;
  return make_transformer_engine(program, options.attention, config);
}

void validate_options(const RunOptions& options) {
  validate_attention_mode(options.attention);
  // A layer is a bank of contiguous instructions, so more banks than the 256 possible
  // instructions only add empty layers (and a huge count would exhaust memory).
  if (options.layers < 1 || options.layers > static_cast<int>(kMaxInstructions)) {
    throw Error(ErrorCategory::Usage, "layers must be in 1.." + std::to_string(kMaxInstructions) +
                                          " (got " + std::to_string(options.layers) + ")");
  }
  if (options.on_progress && options.progress_interval == 0)
    throw Error(ErrorCategory::Usage, "progress_interval must be at least 1");
}

ExecutionTrace start_trace(const Program& program, const RunOptions& options) {
  ExecutionTrace trace;
  trace.program = program;
  trace.attention = options.attention;
  trace.max_steps = options.max_steps;
  trace.initial = initial_state(program);
  if (options.record_trace) {
    constexpr uint64_t kInitialReserve = 4096;
    trace.rows.reserve(static_cast<size_t>(std::min(options.max_steps, kInitialReserve)));
  }
  return trace;
}

// The plain loop, instantiated on the concrete NativeEngine (no virtual call per step) and on
// Engine. Without a trace nothing is allocated per step: TraceRow is a plain value.
template <class EngineT>
uint64_t step_until_done(EngineT& engine, const RunOptions& options, ExecutionTrace& trace) {
  uint64_t steps = 0;
  while (steps < options.max_steps && !engine.state().halted) {
    TraceRow row = engine.step();
    ++steps;
    if (options.record_trace) trace.rows.push_back(row);
    if (options.on_progress && steps % options.progress_interval == 0) options.on_progress(steps);
  }
  return steps;
}

template <class T>
void compare_field(const TraceRow& row, const char* field, const T& primary, const T& reference,
                   const Engine& engine, const Engine& ref) {
  if (primary == reference) return;
  throw Error(ErrorCategory::Divergence,
              "divergence at step " + std::to_string(row.step) + " (pc " + std::to_string(row.pc) +
                  ", " + format_instruction(row.instruction) + "): field " + field + ": " +
                  engine_name(engine.kind()) + " " + std::to_string(primary) + ", " +
                  engine_name(ref.kind()) + " " + std::to_string(reference));
}

void compare_rows(const TraceRow& a, const TraceRow& b, const Engine& engine, const Engine& ref) {
  compare_field(a, "step", a.step, b.step, engine, ref);
  compare_field(a, "executed pc", int{a.pc}, int{b.pc}, engine, ref);
  compare_field(a, "opcode", static_cast<int>(a.instruction.op),
                static_cast<int>(b.instruction.op), engine, ref);
  compare_field(a, "operand", a.instruction.operand, b.instruction.operand, engine, ref);
  compare_field(a, "pc", int{a.after.pc}, int{b.after.pc}, engine, ref);
  compare_field(a, "acc", int{a.after.acc}, int{b.after.acc}, engine, ref);
  compare_field(a, "sp", int{a.after.sp}, int{b.after.sp}, engine, ref);
  compare_field(a, "zero_flag", int{a.after.zero_flag}, int{b.after.zero_flag}, engine, ref);
  compare_field(a, "carry_flag", int{a.after.carry_flag}, int{b.after.carry_flag}, engine, ref);
  compare_field(a, "halted", int{a.after.halted}, int{b.after.halted}, engine, ref);
  compare_field(a, "memory access kind", static_cast<int>(a.access.kind),
                static_cast<int>(b.access.kind), engine, ref);
  compare_field(a, "memory access address", int{a.access.address}, int{b.access.address}, engine,
                ref);
  compare_field(a, "memory access value", int{a.access.value}, int{b.access.value}, engine, ref);
  compare_field(a, "memory access previous", int{a.access.previous}, int{b.access.previous},
                engine, ref);
}

// Lockstep: both engines execute the same step; their rows (state after, memory access) and their
// outcome (a runtime error or not) must agree.
uint64_t step_in_lockstep(Engine& engine, const std::vector<Engine*>& references, const RunOptions& options,
                          ExecutionTrace& trace) {
  uint64_t steps = 0;
  while (steps < options.max_steps && !engine.state().halted) {
    const uint64_t step_number = engine.steps_taken() + 1;
    std::optional<TraceRow> row;
    std::optional<Error> error;
    try {
      row = engine.step();
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::Runtime) throw;
      error = e;
    }
    // Every reference steps too; the first disagreement (outcome or any field) is reported.
    std::optional<Error> first_ref_error;
    for (Engine* reference : references) {
      std::optional<TraceRow> ref_row;
      std::optional<Error> ref_error;
      try {
        ref_row = reference->step();
      } catch (const Error& e) {
        if (e.category() != ErrorCategory::Runtime) throw;
        ref_error = e;
      }
      if (error && ref_error) {
        if (!first_ref_error) first_ref_error = ref_error;
        continue;
      }
      if (error || ref_error) {
        const Engine& failed = error ? engine : *reference;
        const Engine& ok = error ? *reference : engine;
        const TraceRow& done = error ? *ref_row : *row;
        throw Error(ErrorCategory::Divergence,
                    "divergence at step " + std::to_string(step_number) + " (pc " +
                        std::to_string(done.pc) + ", " + format_instruction(done.instruction) +
                        "): field outcome: " + engine_name(failed.kind()) + " failed (" +
                        (error ? error->what() : ref_error->what()) + "), " +
                        engine_name(ok.kind()) + " did not");
      }
      compare_rows(*row, *ref_row, engine, *reference);
    }
    // All stopped at the same step: the first reference's message (the native one when it is there).
    if (error) throw first_ref_error ? *first_ref_error : *error;
    ++steps;
    if (options.record_trace) trace.rows.push_back(*row);
    if (options.on_progress && steps % options.progress_interval == 0) options.on_progress(steps);
  }
  const std::vector<int16_t> memory = engine.memory();
  for (Engine* reference : references) {
    const std::vector<int16_t> ref_memory = reference->memory();
    if (memory == ref_memory) continue;
    std::string where = "memory size";
    if (memory.size() == ref_memory.size()) {
      for (size_t i = 0; i < memory.size(); ++i) {
        if (memory[i] != ref_memory[i]) {
          where = "memory[" + std::to_string(i) + "]";
          break;
        }
      }
    }
    throw Error(ErrorCategory::Divergence,
                "divergence after step " + std::to_string(engine.steps_taken()) +
                    ": final field " + where + " differs between " + engine_name(engine.kind()) +
                    " and " + engine_name(reference->kind()));
  }
  return steps;
}

}  // namespace


RunResult run_engine(Engine& engine, Engine* reference, const Program& program,
                     const RunOptions& options) {
  std::vector<Engine*> references;
  if (reference != nullptr) references.push_back(reference);
  return run_engine(engine, references, program, options);
}

RunResult run_engine(Engine& engine, const std::vector<Engine*>& references, const Program& program,
                     const RunOptions& options) {
  validate_options(options);
  const auto start = Clock::now();
  RunResult result;
  result.trace = start_trace(program, options);
  if (!references.empty()) {
    result.steps = step_in_lockstep(engine, references, options, result.trace);
  } else if (auto* native = dynamic_cast<NativeEngine*>(&engine)) {
    result.steps = step_until_done(*native, options, result.trace);
  } else {
    result.steps = step_until_done(engine, options, result.trace);
  }
  result.trace.final_state = engine.state();
  result.trace.final_memory = engine.memory();
  result.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

RunResult run(const Program& program, const RunOptions& options) {
  validate_options(options);
  const auto start = Clock::now();
  auto make = [&](EngineKind kind) -> std::unique_ptr<Engine> {
    switch (kind) {
      case EngineKind::Native: return make_native_engine(program, options.attention);
      case EngineKind::Tensor: {
        TransformerConfig config;
        config.num_layers = options.layers;
        return make_tensor_engine(program, options.attention, config, options.tensor_ffn);
      }
      default: return make_transformer_for_runner(program, options);
    }
  };
  std::unique_ptr<Engine> engine = make(options.engine);
  std::vector<std::unique_ptr<Engine>> owned;
  if (options.verify_native && options.engine != EngineKind::Native) owned.push_back(make(EngineKind::Native));
  if (options.verify_tensor && options.engine != EngineKind::Tensor) owned.push_back(make(EngineKind::Tensor));
  std::vector<Engine*> references;
  for (auto& e : owned) references.push_back(e.get());
  RunResult result = run_engine(*engine, references, program, options);
  result.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace ptvm::vm
