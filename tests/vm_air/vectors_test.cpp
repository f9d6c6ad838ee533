// Every compatibility vector and a set of instruction-coverage programs prove and verify.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../shared_vectors.hpp"
#include "vm_air_test_util.hpp"

namespace ptvm::vmair::testing {
namespace {

TEST(VmAirVectors, EveryVectorProvesAndVerifies) {
  PTVM_REQUIRE_SHARED_VECTORS();
  const std::filesystem::path dir = ptvm::testing::shared_vectors_dir();
  std::ifstream in(dir / "expected.json");
  ASSERT_TRUE(in) << dir;
  nlohmann::json expected = nlohmann::json::parse(in);
  size_t proven = 0;
  for (const auto& [name, e] : expected.items()) {
    SCOPED_TRACE(name);
    vm::Program program = vm::assemble_file((dir / name).string());
    vm::ExecutionTrace trace = run_native(program, e.at("max_steps").get<uint64_t>());
    ASSERT_EQ(trace.steps(), e.at("steps").get<uint64_t>());
    Outcome o = prove_and_verify(statement_from_trace(trace), trace);
    EXPECT_TRUE(o.constraints_hold) << o.constraint_violation;
    EXPECT_TRUE(o.accepted) << o.reason;
    ++proven;
  }
  EXPECT_GE(proven, 16u);
}

// programs/*.tvm, with the max_steps of their "; expect:" line; the long ones (> 2^15 steps) only
// with PTVM_LARGE_TESTS=1.
TEST(VmAirVectors, EveryProgramProvesAndVerifies) {
  const bool large = std::getenv("PTVM_LARGE_TESTS") != nullptr;
  const std::filesystem::path dir = std::filesystem::path(PTVM_SOURCE_DIR) / "programs";
  size_t proven = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".tvm") continue;
    SCOPED_TRACE(entry.path().filename().string());
    std::ifstream in(entry.path());
    std::string line;
    uint64_t max_steps = 512, steps = 0;
    while (std::getline(in, line)) {
      auto at = line.find("expect: max_steps=");
      if (at == std::string::npos) continue;
      max_steps = std::stoull(line.substr(at + 18));
      steps = std::stoull(line.substr(line.find("steps=", at + 18) + 6));
    }
    if (steps > (1u << 15) && !large) continue;
    vm::ExecutionTrace trace = run_native(vm::assemble_file(entry.path().string()), max_steps);
    if (steps) {
      EXPECT_EQ(trace.steps(), steps);
    }
    Outcome o = prove_and_verify(statement_from_trace(trace), trace);
    EXPECT_TRUE(o.constraints_hold) << o.constraint_violation;
    EXPECT_TRUE(o.accepted) << o.reason;
    ++proven;
  }
  EXPECT_GE(proven, 10u);
}

}  // namespace
}  // namespace ptvm::vmair::testing
