// The shared vectors on the transformer engine, alone and verified in lockstep against native,
// including the per-attention-mode accumulators; and the layer count never changes a result.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/runner.hpp"
#include "random_program.hpp"

namespace ptvm::vm {
namespace {

const std::filesystem::path kVectors = std::filesystem::path(PTVM_SHARED_DIR) / "vectors";

TEST(TransformerCompatibility, EveryVectorOnTransformerAndInLockstep) {
  std::ifstream in(kVectors / "expected.json");
  ASSERT_TRUE(in.good());
  nlohmann::json expected = nlohmann::json::parse(in);
  for (const auto& [name, e] : expected.items()) {
    SCOPED_TRACE(name);
    Program program = assemble_file((kVectors / name).string());
    for (bool verify : {false, true}) {
      for (int layers : {1, 3}) {
        RunOptions options;
        options.engine = EngineKind::Transformer;
        options.verify_native = verify;
        options.layers = layers;
        options.max_steps = e.at("max_steps").get<uint64_t>();
        options.attention = parse_attention_mode(e.at("attention_mode").get<std::string>());
        RunResult r = run(program, options);
        const MachineState& s = r.trace.final_state;
        EXPECT_EQ(r.steps, e.at("steps").get<uint64_t>());
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
    }
  }
}

TEST(TransformerCompatibility, RandomProgramsRunInLockstepThroughTheRunner) {
  // The runner-level check (errors at the same step, every field); vm-transformer's own
  // differential test goes deeper into the engine.
  for (uint64_t seed = 0; seed < 300; ++seed) {
    testing::RandomProgramGenerator generator(seed);
    Program program = generator.program();
    RunOptions options;
    options.engine = EngineKind::Transformer;
    options.verify_native = true;
    options.max_steps = 200;
    options.attention = seed % 3 == 0   ? AttentionMode{}
                        : seed % 3 == 1 ? parse_attention_mode("softmax")
                                        : parse_attention_mode("hard-softmax:2");
    try {
      run(program, options);
    } catch (const Error& e) {
      ASSERT_EQ(e.category(), ErrorCategory::Runtime) << "seed " << seed << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace ptvm::vm
