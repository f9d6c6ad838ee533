// The transformer engine against the native interpreter: random programs over every opcode with
// random memories (tests/vm/random_program.hpp), every attention mode and several layer counts; at
// every step the state and the memory access (kind, address, value, previous) must agree, a runtime
// error must happen at the same step with the same message, and the final memories must agree.
// Then every compatibility vector of ../shared/vectors on the transformer engine, in lockstep.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "../shared_vectors.hpp"
#include "../vm/random_program.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/native.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vm/transformer.hpp"

namespace ptvm::vm {
namespace {

int program_count() {
  const char* large = std::getenv("PTVM_LARGE_TESTS");
  return (large != nullptr && std::string(large) == "1") ? 50000 : 3000;
}

struct StepOutcome {
  std::optional<TraceRow> row;
  std::string error; // set when the step threw
  ErrorCategory category = ErrorCategory::Internal;
};

StepOutcome step_once(Engine& engine) {
  StepOutcome out;
  try {
    out.row = engine.step();
  } catch (const Error& e) {
    out.error = e.what();
    out.category = e.category();
  }
  return out;
}

// Returns the number of steps both engines ran (for the coverage counters).
uint64_t compare_engines(const Program& program, AttentionMode mode, int layers, uint64_t max_steps,
                         const std::string& context, bool& errored) {
  TransformerConfig config;
  config.num_layers = layers;
  std::unique_ptr<Engine> transformer = make_transformer_engine(program, mode, config);
  std::unique_ptr<Engine> native = make_native_engine(program, mode);
  EXPECT_EQ(transformer->state(), native->state()) << context;
  errored = false;
  while (transformer->steps_taken() < max_steps && !native->state().halted) {
    const StepOutcome t = step_once(*transformer), n = step_once(*native);
    const std::string where = context + " step " + std::to_string(native->steps_taken() + 1);
    if (!n.row || !t.row) {
      EXPECT_FALSE(n.row.has_value()) << where << ": only the transformer failed: " << t.error;
      EXPECT_FALSE(t.row.has_value()) << where << ": only native failed: " << n.error;
      EXPECT_EQ(t.category, ErrorCategory::Runtime) << where << ": " << t.error;
      EXPECT_EQ(n.category, ErrorCategory::Runtime) << where << ": " << n.error;
      EXPECT_EQ(t.error, n.error) << where;
      EXPECT_EQ(transformer->steps_taken(), native->steps_taken()) << where;
      EXPECT_EQ(transformer->state(), native->state()) << where; // a failed step changes nothing
      errored = true;
      break;
    }
    if (t.row->after != n.row->after || !(t.row->access == n.row->access) ||
        t.row->step != n.row->step || t.row->pc != n.row->pc ||
        !(t.row->instruction == n.row->instruction)) {
      ADD_FAILURE() << where << " " << format_instruction(n.row->instruction)
                    << "\n transformer: " << format_trace_row(*t.row)
                    << "\n native:      " << format_trace_row(*n.row);
      break;
    }
    EXPECT_EQ(transformer->state(), native->state()) << where;
  }
  EXPECT_EQ(transformer->steps_taken(), native->steps_taken()) << context;
  EXPECT_EQ(transformer->memory(), native->memory()) << context;
  return native->steps_taken();
}

TEST(TransformerDifferential, RandomProgramsAgreeWithNativeAtEveryStep) {
  const AttentionMode modes[] = {AttentionMode{}, AttentionMode{AttentionMode::Kind::Softmax, 1.0},
                                 AttentionMode{AttentionMode::Kind::HardSoftmax, 3.5}};
  const int layer_counts[] = {1, 2, 3, 7};
  const int n = program_count();
  size_t halted = 0, errors = 0, steps = 0;
  std::vector<uint64_t> opcode_steps(kNumOpcodes, 0);
  for (int i = 0; i < n; ++i) {
    const uint64_t seed = 7000 + static_cast<uint64_t>(i);
    testing::RandomProgramGenerator generator(seed);
    const Program program = generator.program();
    const AttentionMode mode = modes[i % 3];
    const int layers = layer_counts[(i / 3) % 4];
    const std::string context = "seed " + std::to_string(seed) + " mode " +
                                format_attention_mode(mode) + " layers " + std::to_string(layers);
    bool errored = false;
    steps += compare_engines(program, mode, layers, 300, context, errored);
    if (::testing::Test::HasFailure())
      return;
    errors += errored;
    // Which instructions actually ran (coverage of the comparison, not only of the generator).
    auto native = make_native_engine(program, mode);
    try {
      while (!native->state().halted && native->steps_taken() < 300) {
        const TraceRow row = native->step();
        ++opcode_steps[static_cast<size_t>(row.instruction.op)];
      }
    } catch (const Error&) {
    }
    halted += native->state().halted;
  }
  EXPECT_GT(halted, static_cast<size_t>(n) / 10);
  EXPECT_GT(errors, static_cast<size_t>(n) / 10);
  EXPECT_GT(steps, static_cast<size_t>(n) * 10);
  for (int op = 0; op < kNumOpcodes; ++op)
    EXPECT_GT(opcode_steps[op], 100u) << opcode_info(static_cast<Opcode>(op)).mnemonic;
}

// Long runs (hull caches with many keys, soft histories past the weight horizon): random programs
// with a 5000-step budget, and two fixed loops over 10^5 steps.
TEST(TransformerDifferential, LongRunsAgreeWithNative) {
  const AttentionMode modes[] = {AttentionMode{}, AttentionMode{AttentionMode::Kind::Softmax, 1.0},
                                 AttentionMode{AttentionMode::Kind::HardSoftmax, 0.5}};
  uint64_t long_runs = 0;
  for (int i = 0; i < 300; ++i) {
    const uint64_t seed = 90000 + static_cast<uint64_t>(i);
    testing::RandomProgramOptions options;
    options.halt_rate = 0.0; // favour long runs
    options.out_of_range_address_rate = 0.0;
    options.out_of_program_target_rate = 0.0;
    testing::RandomProgramGenerator generator(seed);
    const Program program = generator.program(options);
    bool errored = false;
    const uint64_t steps = compare_engines(program, modes[i % 3], 1 + i % 4, 5000,
                                           "long seed " + std::to_string(seed), errored);
    if (::testing::Test::HasFailure())
      return;
    long_runs += steps == 5000;
  }
  EXPECT_GT(long_runs, 20u);

  Program loop;
  loop.source_name = "loop";
  loop.instructions = {{Opcode::Load, 0},  {Opcode::AddI, 7}, {Opcode::MulI, 3},  {Opcode::XorM, 1},
                       {Opcode::Store, 0}, {Opcode::Push, 0}, {Opcode::Call, 10}, {Opcode::Pop, 0},
                       {Opcode::CmpM, 2},  {Opcode::Jmp, 0},  {Opcode::Store, 1}, {Opcode::Ret, 0}};
  loop.initial_memory = {1, 0x5A5A, 100, 0, 0, 0};
  for (const AttentionMode mode : modes) {
    bool errored = false;
    EXPECT_EQ(compare_engines(loop, mode, 2, 100000, "loop", errored), 100000u);
    EXPECT_FALSE(errored);
  }
}

// Edge values for every binary instruction against native: all pairs from a set of boundary values.
TEST(TransformerDifferential, BoundaryOperandsOfEveryBinaryInstruction) {
  const int16_t values[] = {0,   1,   -1,  2,   -2,   32767,  -32768, 32766,  -32767,
                            255, 256, 181, 182, -181, 0x5555, 0x2AAA, -21846, 12345};
  const Opcode binary[] = {Opcode::AddI, Opcode::AddM, Opcode::SubI, Opcode::SubM, Opcode::MulI,
                           Opcode::MulM, Opcode::AndI, Opcode::AndM, Opcode::OrI,  Opcode::OrM,
                           Opcode::XorI, Opcode::XorM, Opcode::CmpI, Opcode::CmpM};
  for (const Opcode op : binary) {
    const bool memory_form = opcode_info(op).operand == OperandKind::Address;
    for (const int16_t a : values) {
      for (const int16_t v : values) {
        Program p;
        p.source_name = "boundary";
        p.instructions = {{Opcode::LoadI, a}, {op, memory_form ? 0 : v}, {Opcode::Halt, 0}};
        p.initial_memory = {v};
        bool errored = false;
        compare_engines(p, {}, 1, 10, std::string(opcode_info(op).mnemonic), errored);
        EXPECT_FALSE(errored);
        if (::testing::Test::HasFailure())
          return;
      }
    }
  }
}

const std::filesystem::path kVectors = ptvm::testing::shared_vectors_dir();

TEST(TransformerCompatibility, EveryVectorInLockstepWithNative) {
  PTVM_REQUIRE_SHARED_VECTORS();
  std::ifstream in(kVectors / "expected.json");
  ASSERT_TRUE(in) << "missing " << (kVectors / "expected.json");
  const nlohmann::json expected = nlohmann::json::parse(in);
  size_t checked = 0;
  for (const auto& [name, e] : expected.items()) {
    SCOPED_TRACE(name);
    const Program program = assemble_file((kVectors / name).string());
    RunOptions options;
    options.engine = EngineKind::Transformer;
    options.max_steps = e.at("max_steps").get<uint64_t>();
    options.attention = parse_attention_mode(e.at("attention_mode").get<std::string>());
    for (int layers : {1, 3}) {
      TransformerConfig config;
      config.num_layers = layers;
      options.layers = layers;
      auto transformer = make_transformer_engine(program, options.attention, config);
      auto native = make_native_engine(program, options.attention);
      const RunResult r = run_engine(*transformer, native.get(), program, options);
      const MachineState& s = r.trace.final_state;
      EXPECT_EQ(r.steps, e.at("steps").get<uint64_t>());
      EXPECT_EQ(s.halted, e.at("halted").get<bool>());
      EXPECT_EQ(s.pc, e.at("pc").get<int>());
      EXPECT_EQ(s.sp, e.at("sp").get<int>());
      EXPECT_EQ(s.acc, e.at("acc").get<int>());
      EXPECT_EQ(s.zero_flag, e.at("zero_flag").get<bool>());
      EXPECT_EQ(s.carry_flag, e.at("carry_flag").get<bool>());
      EXPECT_EQ(r.trace.final_memory, e.at("memory").get<std::vector<int16_t>>());
      EXPECT_EQ(transformer->memory(), e.at("memory").get<std::vector<int16_t>>());
    }
    if (e.contains("acc_by_attention_mode")) {
      for (const auto& [mode_text, acc] : e.at("acc_by_attention_mode").items()) {
        SCOPED_TRACE(mode_text);
        const AttentionMode mode = parse_attention_mode(mode_text);
        auto transformer = make_transformer_engine(program, mode, TransformerConfig{});
        while (!transformer->state().halted && transformer->steps_taken() < options.max_steps)
          transformer->step();
        EXPECT_EQ(transformer->state().acc, acc.get<int>());
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 17u);
}

} // namespace
} // namespace ptvm::vm
