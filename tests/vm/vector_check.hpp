// Shared by the compatibility tests: one ../shared/vectors program run with the given options,
// every field of its expected.json entry compared (incl. the per-attention-mode accumulators).
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/runner.hpp"
#include "../shared_vectors.hpp"

namespace ptvm::vm::testing {

inline const std::filesystem::path& vectors_dir() {
  static const std::filesystem::path dir = ::ptvm::testing::shared_vectors_dir();
  return dir;
}

inline nlohmann::json load_expected_vectors() {
  std::ifstream in(vectors_dir() / "expected.json");
  if (!in) return nullptr;
  return nlohmann::json::parse(in);
}

// options.max_steps and options.attention are taken from the entry; engine, verify_native and
// layers from `options`.
inline void check_vector(const std::string& name, const nlohmann::json& e, RunOptions options) {
  SCOPED_TRACE(name);
  Program program = assemble_file((vectors_dir() / name).string());
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

}  // namespace ptvm::vm::testing
