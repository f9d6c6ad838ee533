// Every program of ../shared/vectors on the native engine, every field of expected.json compared,
// including the per-attention-mode accumulators.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/runner.hpp"
#include "vector_check.hpp"

namespace ptvm::vm {
namespace {

using testing::check_vector;
const std::filesystem::path kVectors = testing::vectors_dir();

nlohmann::json load_expected() { return testing::load_expected_vectors(); }

TEST(Compatibility, EveryVectorOnNative) {
  PTVM_REQUIRE_SHARED_VECTORS();
  nlohmann::json expected = load_expected();
  ASSERT_FALSE(expected.is_null()) << "missing " << (kVectors / "expected.json");
  size_t checked = 0;
  for (const auto& [name, e] : expected.items()) {
    RunOptions native;
    native.engine = EngineKind::Native;
    check_vector(name, e, native);
    ++checked;
  }
  // every .tvm file in the folder has an expectation
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kVectors)) {
    if (entry.path().extension() == ".tvm") {
      ++files;
      EXPECT_TRUE(expected.contains(entry.path().filename().string())) << entry.path();
    }
  }
  EXPECT_EQ(checked, files);
  EXPECT_GE(checked, 17u);
}

TEST(Compatibility, KnownResultsTableOfIsa) {
  PTVM_REQUIRE_SHARED_VECTORS();
  // ISA.md "Known results": an independent check of a few rows, by hand.
  auto run_vector = [](const char* name) {
    RunOptions options;
    options.max_steps = 100000;
    return run(assemble_file((kVectors / name).string()), options);
  };
  RunResult fib = run_vector("fibonacci.tvm");
  EXPECT_EQ(fib.steps, 103u);
  EXPECT_EQ(fib.trace.final_state.acc, 21);
  EXPECT_EQ(fib.trace.final_memory, (std::vector<int16_t>{13, 21, 21, 7, 7}));
  RunResult sub = run_vector("subroutine_addition.tvm");
  EXPECT_EQ(sub.trace.final_state.acc, 42);
  EXPECT_EQ(sub.trace.final_memory.at(7), 2);
  RunResult fact = run_vector("factorial_recursive.tvm");
  EXPECT_EQ(fact.steps, 46u);
  EXPECT_EQ(fact.trace.final_state.acc, 120);
}

}  // namespace
}  // namespace ptvm::vm
