// Device-wide scans and reductions (CUB on CUDA) against host loops.
#include <gtest/gtest.h>

#include <cstring>

#include "gpu_test_util.hpp"
#include "ptvm/gpu/device_wide.hpp"

namespace ptvm {
namespace {

using gpu::DeviceBuffer;

template <class F>
std::vector<F> random_column(size_t n, uint64_t seed);
template <>
std::vector<M31> random_column<M31>(size_t n, uint64_t seed) { return test::random_m31(n, seed); }
template <>
std::vector<QM31> random_column<QM31>(size_t n, uint64_t seed) { return test::random_qm31(n, seed); }

template <class F>
class DeviceWide : public ::testing::Test {};
using Fields = ::testing::Types<M31, QM31>;
TYPED_TEST_SUITE(DeviceWide, Fields);

TYPED_TEST(DeviceWide, InclusiveScanAndReduceMatchHostLoops) {
  PTVM_REQUIRE_DEVICE();
  using F = TypeParam;
  for (size_t n : {1, 2, 31, 32, 33, 1000, 4097, 70001}) {
    auto in = random_column<F>(n, n);
    std::vector<F> prefix(n);
    F sum = F::zero();
    for (size_t i = 0; i < n; ++i) prefix[i] = sum += in[i];
    auto din = DeviceBuffer<F>::from_host(in);
    DeviceBuffer<F> dout(n), dsum(1);
    gpu::inclusive_scan_add(din.cptr(), dout.ptr(), n, nullptr);
    gpu::reduce_add(din.cptr(), dsum.ptr(), n, nullptr);
    auto got = dout.to_host();
    EXPECT_EQ(std::memcmp(got.data(), prefix.data(), n * sizeof(F)), 0) << "n=" << n;
    EXPECT_TRUE(dsum.to_host()[0] == sum) << "n=" << n;
    gpu::inclusive_scan_add(din.cptr(), din.ptr(), n, nullptr);  // in place
    got = din.to_host();
    EXPECT_EQ(std::memcmp(got.data(), prefix.data(), n * sizeof(F)), 0) << "in place, n=" << n;
  }
}

TYPED_TEST(DeviceWide, ReduceOfNothingIsZero) {
  PTVM_REQUIRE_DEVICE();
  using F = TypeParam;
  DeviceBuffer<F> din(1), dsum(1);
  dsum.memset(0x11);
  gpu::reduce_add(din.cptr(), dsum.ptr(), 0, nullptr);
  EXPECT_TRUE(dsum.to_host()[0] == F::zero());
}

}  // namespace
}  // namespace ptvm
