// Random programs over all opcodes and random memories: NativeEngine against the independent
// reference interpreter (tests/vm/reference_interpreter.hpp), every step's state and memory access,
// the step of a runtime error, and the final memory, in every attention mode.
#include <gtest/gtest.h>

#include <cstdlib>

#include "ptvm/vm/format.hpp"
#include "ptvm/vm/native.hpp"
#include "random_program.hpp"
#include "reference_interpreter.hpp"

namespace ptvm::vm {
namespace {

int program_count() {
  const char* large = std::getenv("PTVM_LARGE_TESTS");
  return (large != nullptr && std::string(large) == "1") ? 50000 : 3000;
}

void compare_with_reference(const Program& program, AttentionMode mode, uint64_t max_steps,
                            uint64_t seed) {
  testing::ReferenceResult expected = testing::reference_run(program, mode, max_steps);
  NativeEngine engine(program, mode);
  uint64_t step = 0;
  std::string context = "seed " + std::to_string(seed) + " mode " + format_attention_mode(mode);
  while (step < max_steps && !engine.state().halted) {
    ++step;
    TraceRow row;
    try {
      row = engine.step();
    } catch (const Error& e) {
      ASSERT_EQ(e.category(), ErrorCategory::Runtime) << context << ": " << e.what();
      ASSERT_TRUE(expected.error_step.has_value()) << context << ": native failed: " << e.what();
      ASSERT_EQ(*expected.error_step, step) << context << ": " << e.what();
      ASSERT_NE(std::string(e.what()).find("step " + std::to_string(step)), std::string::npos);
      return;
    }
    ASSERT_LE(step, expected.states.size()) << context << ": reference failed at step " << step;
    const size_t i = step - 1;
    ASSERT_EQ(row.after, expected.states[i]) << context << " step " << step << " "
                                             << format_instruction(row.instruction) << ": "
                                             << format_state(row.after) << " vs "
                                             << format_state(expected.states[i]);
    ASSERT_EQ(static_cast<int>(row.access.kind), expected.access_kind[i]) << context << " step " << step;
    if (row.access.kind != MemoryAccess::Kind::None) {
      ASSERT_EQ(row.access.address, expected.access_address[i]) << context << " step " << step;
      ASSERT_EQ(row.access.value, expected.access_value[i]) << context << " step " << step;
    }
  }
  ASSERT_FALSE(expected.error_step.has_value()) << context;
  ASSERT_EQ(engine.steps_taken(), expected.states.size()) << context;
  std::vector<int16_t> memory = engine.memory();
  ASSERT_EQ(std::vector<int>(memory.begin(), memory.end()), expected.final_memory) << context;
}

TEST(RandomDifferential, NativeMatchesReferenceInterpreter) {
  const AttentionMode modes[] = {AttentionMode{},
                                 AttentionMode{AttentionMode::Kind::Softmax, 1.0},
                                 AttentionMode{AttentionMode::Kind::HardSoftmax, 3.5}};
  const int n = program_count();
  size_t halted = 0, errors = 0, steps = 0;
  for (int i = 0; i < n; ++i) {
    const uint64_t seed = 1000 + static_cast<uint64_t>(i);
    testing::RandomProgramGenerator generator(seed);
    Program program = generator.program();
    const AttentionMode mode = modes[i % 3];
    compare_with_reference(program, mode, 300, seed);
    if (::testing::Test::HasFatalFailure()) return;
    testing::ReferenceResult r = testing::reference_run(program, mode, 300);
    halted += !r.states.empty() && r.states.back().halted;
    errors += r.error_step.has_value();
    steps += r.states.size();
  }
  // the generator must produce a useful mix: halting runs, errors, and long runs
  EXPECT_GT(halted, static_cast<size_t>(n) / 10);
  EXPECT_GT(errors, static_cast<size_t>(n) / 10);
  EXPECT_GT(steps, static_cast<size_t>(n) * 10);
}

TEST(RandomDifferential, GeneratorIsDeterministicAndCoversEveryOpcode) {
  testing::RandomProgramGenerator a(42), b(42);
  std::vector<bool> seen(kNumOpcodes, false);
  for (int i = 0; i < 50; ++i) {
    Program pa = a.program(), pb = b.program();
    ASSERT_EQ(pa.instructions, pb.instructions);
    ASSERT_EQ(pa.initial_memory, pb.initial_memory);
    for (const Instruction& ins : pa.instructions) seen[static_cast<size_t>(ins.op)] = true;
    EXPECT_NO_THROW(validate_program(pa));
  }
  for (int op = 0; op < kNumOpcodes; ++op) EXPECT_TRUE(seen[op]) << "opcode " << op;
}

}  // namespace
}  // namespace ptvm::vm
