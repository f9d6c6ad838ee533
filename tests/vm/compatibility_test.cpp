// Every program of ../shared/vectors on the native engine, every field of expected.json compared,
// including the per-attention-mode accumulators.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/runner.hpp"

namespace ptvm::vm {
namespace {

const std::filesystem::path kVectors = std::filesystem::path(PTVM_SHARED_DIR) / "vectors";

nlohmann::json load_expected() {
  std::ifstream in(kVectors / "expected.json");
  if (!in) return nullptr;
  return nlohmann::json::parse(in);
}

void check_vector(const std::string& name, const nlohmann::json& e, EngineKind engine) {
  SCOPED_TRACE(name);
  Program program = assemble_file((kVectors / name).string());
  RunOptions options;
  options.engine = engine;
  options.max_steps = e.at("max_steps").get<uint64_t>();
  options.attention = parse_attention_mode(e.at("attention_mode").get<std::string>());
  RunResult r = run(program, options);
  const MachineState& s = r.trace.final_state;
  EXPECT_EQ(r.steps, e.at("steps").get<uint64_t>());
  EXPECT_EQ(r.trace.rows.size(), r.steps);
  EXPECT_EQ(s.halted, e.at("halted").get<bool>());
  EXPECT_EQ(s.pc, e.at("pc").get<int>());
  EXPECT_EQ(s.sp, e.at("sp").get<int>());
  EXPECT_EQ(s.acc, e.at("acc").get<int>());
  EXPECT_EQ(s.zero_flag, e.at("zero_flag").get<bool>());
  EXPECT_EQ(s.carry_flag, e.at("carry_flag").get<bool>());
  EXPECT_EQ(r.trace.final_memory, e.at("memory").get<std::vector<int16_t>>());
  if (e.contains("acc_by_attention_mode")) {
    for (const auto& [mode, acc] : e.at("acc_by_attention_mode").items()) {
      SCOPED_TRACE(mode);
      RunOptions soft = options;
      soft.attention = parse_attention_mode(mode);
      EXPECT_EQ(run(program, soft).trace.final_state.acc, acc.get<int>());
    }
  }
}

TEST(Compatibility, EveryVectorOnNative) {
  nlohmann::json expected = load_expected();
  ASSERT_FALSE(expected.is_null()) << "missing " << (kVectors / "expected.json");
  size_t checked = 0;
  for (const auto& [name, e] : expected.items()) {
    check_vector(name, e, EngineKind::Native);
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
