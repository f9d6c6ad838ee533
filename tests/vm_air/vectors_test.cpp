// Every compatibility vector and a set of instruction-coverage programs prove and verify.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "vm_air_test_util.hpp"

namespace ptvm::vmair::testing {
namespace {

TEST(VmAirVectors, EveryVectorProvesAndVerifies) {
  const std::filesystem::path dir = std::filesystem::path(PTVM_SHARED_DIR) / "vectors";
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

}  // namespace
}  // namespace ptvm::vmair::testing
