// Device circle FFT against the CPU transforms of ptvm::circle (themselves checked against naive
// evaluation by the math suite), byte for byte: every log size up to past the inner tile, every
// pass plan through small tilings (one, two and three outer passes), zero-padded evaluation, and
// interpolate(evaluate(c)) == c.
#include <gtest/gtest.h>

#include <cstring>

#include "gpu_test_util.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/gpu/circle_fft.hpp"

namespace ptvm {
namespace {

using gpu::DeviceBuffer;

bool same(const std::vector<M31>& a, const std::vector<M31>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(M31)) == 0;
}

void check_size(uint32_t log, const circle::TwiddleTree& tree, const gpu::DeviceTwiddles& dtw,
                const gpu::CircleFftTiling& tiling, uint64_t seed) {
  const size_t n = size_t{1} << log;
  auto coeffs = test::random_m31(n, seed);
  std::vector<M31> values(n), back(n);
  circle::circle_evaluate_bitrev(coeffs, values, tree);
  auto data = DeviceBuffer<M31>::from_host(coeffs);
  gpu::circle_evaluate_bitrev_inplace(data.ptr(), log, dtw, nullptr, tiling);
  EXPECT_TRUE(same(data.to_host(), values)) << "evaluate log=" << log << " inner=" << tiling.inner_log
                                            << " outer=" << tiling.outer_layers << " width="
                                            << tiling.outer_width;
  auto random_values = test::random_m31(n, seed + 1);
  circle::circle_interpolate_bitrev(random_values, back, tree);
  data.upload(random_values);
  gpu::circle_interpolate_bitrev_inplace(data.ptr(), log, dtw, nullptr, tiling);
  EXPECT_TRUE(same(data.to_host(), back)) << "interpolate log=" << log << " inner="
                                          << tiling.inner_log << " outer=" << tiling.outer_layers
                                          << " width=" << tiling.outer_width;
}

TEST(CircleFft, EveryLogSizeWithProductionTiling) {
  PTVM_REQUIRE_DEVICE();
  const uint32_t max_log = test::large_tests() ? 20 : 15;
  const auto tree = circle::precompute_twiddles_for_log(max_log);
  const auto dtw = gpu::DeviceTwiddles::upload(tree);
  for (uint32_t log = 1; log <= max_log; ++log) check_size(log, tree, dtw, {}, log);
}

TEST(CircleFft, MultiPassPlansWithSmallTiles) {
  PTVM_REQUIRE_DEVICE();
  const auto tree = circle::precompute_twiddles_for_log(12);
  const auto dtw = gpu::DeviceTwiddles::upload(tree);
  const gpu::CircleFftTiling tilings[] = {{3, 1, 1}, {3, 2, 8}, {4, 3, 2}, {5, 3, 8}, {6, 2, 4}};
  for (const auto& tiling : tilings)
    for (uint32_t log = 1; log <= 12; ++log) check_size(log, tree, dtw, tiling, 100 + log);
}

TEST(CircleFft, TwiddlesOfALargerTreeServeSmallerDomains) {
  PTVM_REQUIRE_DEVICE();
  const auto small_tree = circle::precompute_twiddles_for_log(9);
  const auto big = gpu::DeviceTwiddles::upload(circle::precompute_twiddles_for_log(14));
  for (uint32_t log : {1u, 5u, 9u}) check_size(log, small_tree, big, {}, 7 + log);
}

TEST(CircleFft, OutOfPlaceZeroPaddedEvaluateAndRoundTrip) {
  PTVM_REQUIRE_DEVICE();
  const auto tree = circle::precompute_twiddles_for_log(14);
  const auto dtw = gpu::DeviceTwiddles::upload(tree);
  for (uint32_t log : {1u, 4u, 10u, 14u})
    for (size_t n_coeffs : {size_t{1}, (size_t{1} << log) / 2, size_t{1} << log}) {
      if (n_coeffs == 0) continue;
      const size_t n = size_t{1} << log;
      auto coeffs = test::random_m31(n_coeffs, log * 31 + n_coeffs);
      std::vector<M31> values(n);
      circle::circle_evaluate_bitrev(coeffs, values, tree);
      auto dcoeffs = DeviceBuffer<M31>::from_host(coeffs);
      DeviceBuffer<M31> dvalues(n), dback(n);
      gpu::circle_evaluate_bitrev(dcoeffs.cptr(), n_coeffs, dvalues.ptr(), log, dtw, nullptr);
      EXPECT_TRUE(same(dvalues.to_host(), values)) << "log=" << log << " n_coeffs=" << n_coeffs;
      gpu::circle_interpolate_bitrev(dvalues.cptr(), dback.ptr(), log, dtw, nullptr);
      auto back = dback.to_host();
      std::vector<M31> padded = coeffs;
      padded.resize(n, M31::zero());
      EXPECT_TRUE(same(back, padded)) << "round trip log=" << log << " n_coeffs=" << n_coeffs;
    }
}

TEST(CircleFft, RejectsUnservedSizesAndBadTilings) {
  PTVM_REQUIRE_DEVICE();
  const auto dtw = gpu::DeviceTwiddles::upload(circle::precompute_twiddles_for_log(6));
  DeviceBuffer<M31> data(256);
  EXPECT_THROW(gpu::circle_evaluate_bitrev_inplace(data.ptr(), 7, dtw, nullptr), Error);
  EXPECT_THROW(gpu::circle_evaluate_bitrev_inplace(data.ptr(), 0, dtw, nullptr), Error);
  EXPECT_THROW(gpu::circle_evaluate_bitrev_inplace(data.ptr(), 5, dtw, nullptr, {2, 1, 1}), Error);
  EXPECT_THROW(gpu::circle_evaluate_bitrev(data.cptr(), 65, data.ptr(), 6, dtw, nullptr), Error);
}

}  // namespace
}  // namespace ptvm
