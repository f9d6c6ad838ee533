// Device PoW grinding returns the same (smallest) nonce as hash::Blake2sChannel::grind, for window
// sizes below, at and above where the answer lies.
#include <gtest/gtest.h>

#include "gpu_test_util.hpp"
#include "ptvm/gpu/pow.hpp"
#include "ptvm/hash/channel.hpp"

namespace ptvm {
namespace {

TEST(Blake2sGrind, MatchesChannelGrind) {
  PTVM_REQUIRE_DEVICE();
  for (uint32_t seed = 0; seed < 4; ++seed) {
    hash::Blake2sChannel channel;
    channel.mix_u64(seed * 977 + 1);
    for (uint32_t bits : {0u, 1u, 4u, 8u}) {
      const uint64_t expected = channel.grind(bits, 1);
      for (uint64_t window : {uint64_t{1}, uint64_t{37}, uint64_t{1000}, uint64_t{4096}}) {
        if (expected / window > 300) continue;  // keep host-sim launches few
        EXPECT_EQ(gpu::blake2s_grind(channel.digest(), bits, nullptr, window), expected)
            << "seed=" << seed << " bits=" << bits << " window=" << window;
      }
      EXPECT_TRUE(channel.check_pow(expected, bits));
    }
  }
}

TEST(Blake2sGrind, RejectsTooManyBits) {
  PTVM_REQUIRE_DEVICE();
  hash::Blake2sChannel channel;
  EXPECT_THROW(gpu::blake2s_grind(channel.digest(), hash::Blake2sChannel::kMaxGrindBits + 1, nullptr), Error);
  EXPECT_THROW(gpu::blake2s_grind(channel.digest(), 4, nullptr, 0), Error);
}

}  // namespace
}  // namespace ptvm
