// Larger sizes with the real profiles, opt-in: PTVM_LARGE_TESTS=1.
#include <gtest/gtest.h>

#include <cstdlib>

#include "stark_test_util.hpp"

namespace ptvm::stark {
namespace {

bool large_tests() {
  const char* v = std::getenv("PTVM_LARGE_TESTS");
  return v && std::string(v) == "1";
}

TEST(StarkLarge, WideFibonacci64ColumnsDefaultProfile) {
  if (!large_tests()) GTEST_SKIP() << "set PTVM_LARGE_TESTS=1";
  for (const char* name : {"default", "blowup4", "stwo-cairo"}) {
    SCOPED_TRACE(name);
    const Profile p = profile_by_name(name);
    auto s = testing::wide_fibonacci(14, 64);
    StarkProof proof = testing::prove_cpu(s, p);
    EXPECT_TRUE(verify(s.air, s.public_inputs, proof, p).accepted);
    StarkProof parsed = proof_from_binary(proof_to_binary(proof));
    EXPECT_TRUE(verify(s.air, s.public_inputs, parsed, p).accepted);
  }
}

TEST(StarkLarge, MixedSizesAndLogUpDefaultProfile) {
  if (!large_tests()) GTEST_SKIP() << "set PTVM_LARGE_TESTS=1";
  const Profile p = profile_by_name("default");
  auto s = testing::mixed_sizes(14);
  EXPECT_TRUE(verify(s.air, s.public_inputs, testing::prove_cpu(s, p), p).accepted);
  auto r = testing::range_check(16);
  EXPECT_TRUE(verify(r.air, r.public_inputs, testing::prove_cpu(r, p), p).accepted);
}

}  // namespace
}  // namespace ptvm::stark
