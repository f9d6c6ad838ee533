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
#include "vector_check.hpp"

namespace ptvm::vm {
namespace {

using testing::check_vector;
const std::filesystem::path kVectors = testing::vectors_dir();

TEST(TransformerCompatibility, EveryVectorOnTransformerAndInLockstep) {
  PTVM_REQUIRE_SHARED_VECTORS();
  const nlohmann::json expected = testing::load_expected_vectors();
  ASSERT_FALSE(expected.is_null()) << "missing " << (kVectors / "expected.json");
  for (const auto& [name, e] : expected.items()) {
    for (bool verify : {false, true}) {
      for (int layers : {1, 3}) {
        RunOptions options;
        options.engine = EngineKind::Transformer;
        options.verify_native = verify;
        options.layers = layers;
        check_vector(name, e, options);
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
