// Prove/verify round trips of the example AIRs on the CPU backend.
#include <gtest/gtest.h>

#include "stark_test_util.hpp"

namespace ptvm::stark {
namespace {

using testing::Statement;

const Profile kFast = profile_by_name("fast-test-insecure");

void expect_round_trip(const Statement& s, const Profile& p) {
  ASSERT_EQ(check_constraints(s.air, s.public_inputs, s.traces), std::nullopt);
  StarkProof proof = testing::prove_cpu(s, p);
  Verdict v = verify(s.air, s.public_inputs, proof, p);
  EXPECT_TRUE(v.accepted) << v.reason;
}

TEST(StarkProveVerify, WideFibonacciSizes) {
  for (uint32_t log : {2u, 3u, 5u, 8u}) {
    SCOPED_TRACE(log);
    expect_round_trip(testing::wide_fibonacci(log, 8), kFast);
  }
}

TEST(StarkProveVerify, WideFibonacciWithoutBoundary) { expect_round_trip(testing::wide_fibonacci(6, 16, false), kFast); }

TEST(StarkProveVerify, WideFibonacciBlowup4) {
  expect_round_trip(testing::wide_fibonacci(6, 8), profile_by_name("blowup4-test-insecure"));
}

TEST(StarkProveVerify, RangeCheckLogUp) {
  for (uint32_t log : {4u, 8u, 10u}) {
    SCOPED_TRACE(log);
    expect_round_trip(testing::range_check(log), kFast);
  }
}

TEST(StarkProveVerify, MixedSizes) { expect_round_trip(testing::mixed_sizes(6), kFast); }

TEST(StarkProveVerify, MixedSizesBlowup4) { expect_round_trip(testing::mixed_sizes(5), profile_by_name("blowup4-test-insecure")); }

TEST(StarkProveVerify, Deterministic) {
  auto s = testing::mixed_sizes(5);
  EXPECT_EQ(proof_to_binary(testing::prove_cpu(s, kFast)), proof_to_binary(testing::prove_cpu(s, kFast)));
}

}  // namespace
}  // namespace ptvm::stark
