// Running a program to completion on one engine, optionally checked step by step against the
// native interpreter (lockstep verification).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/isa.hpp"
#include "ptvm/vm/trace.hpp"

namespace ptvm::vm {

struct TensorModel;  // ptvm/vm/tensor_engine.hpp
class TensorFfn;
// Makes the TensorFfn (CPU GEMMs, or a GPU's: ptvm/gpu/tensor_batch.hpp) for a tensor engine.
using TensorFfnFactory = std::function<std::unique_ptr<TensorFfn>(const TensorModel&)>;

struct RunOptions {
  EngineKind engine = EngineKind::Native;
  uint64_t max_steps = kDefaultMaxSteps;  // the run stops (not an error) after this many steps
  AttentionMode attention;
  int layers = 1;               // transformer banks (TransformerConfig::num_layers); >= 1
  bool verify_native = false;   // step a native engine in lockstep and compare every step
  bool verify_tensor = false;   // step the tensor engine in lockstep too (with verify_native: both)
  bool record_trace = true;     // false: no rows are kept and nothing is allocated per step
  // Where the tensor engine's GEMMs run (the engine and its lockstep copy): empty = the CPU.
  // run_batch groups tensor jobs into one TensorBatch on the first job's factory (give all the
  // same one). tensor_device names it in reports ("cpu", "hostsim", "gpu", "gpu-own").
  TensorFfnFactory tensor_ffn;
  std::string tensor_device = "cpu";
  // Optional: called with the steps done so far every progress_interval steps (long runs).
  std::function<void(uint64_t steps)> on_progress;
  uint64_t progress_interval = uint64_t{1} << 16;
};

struct RunResult {
  ExecutionTrace trace;        // rows empty when !record_trace; final state and memory always set
  uint64_t steps = 0;          // steps executed (== trace.rows.size() when recorded)
  double elapsed_seconds = 0;  // engine construction (incl. compilation) plus the step loop
};

// Runs `program` from its initial state until it halts or max_steps steps have run.
// Throws ptvm::Error: Runtime (VM runtime error, message names the step), Divergence (lockstep
// mismatch, names the step, the instruction and the field), Usage (bad options).
RunResult run(const Program& program, const RunOptions& options);

// Runs an engine built by the caller (used by tests and by run()). When `reference` is non-null it
// is stepped in lockstep with `engine`: after every step the state, the step's memory access and
// the outcome (error or not) must agree; at the end the memories must agree.
RunResult run_engine(Engine& engine, Engine* reference, const Program& program,
                     const RunOptions& options);
// The same with any number of references, each compared with `engine` after every step.
RunResult run_engine(Engine& engine, const std::vector<Engine*>& references, const Program& program,
                     const RunOptions& options);

const char* engine_name(EngineKind kind);  // "native" / "transformer" / "tensor"
EngineKind parse_engine_kind(std::string_view text);  // Usage error on anything else

}  // namespace ptvm::vm
