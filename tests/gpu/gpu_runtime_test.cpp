// The CUDA runtime wrapper on a real device (skipped when none is visible).
#include <gtest/gtest.h>

#include "../cuda/common/gpu_test_util.hpp"
#include "ptvm/gpu/runtime.hpp"

namespace ptvm {
namespace {

TEST(GpuRuntime, ReportsWhetherADeviceIsVisible) {
  EXPECT_STREQ(gpu::runtime_name(), "cuda");
  EXPECT_FALSE(gpu::device_description().empty());
}

TEST(GpuRuntime, BuffersStreamsEvents) {
  PTVM_REQUIRE_DEVICE();
  gpu::Stream stream;
  gpu::Event start, stop;
  start.record(stream.get());
  gpu::DeviceBuffer<uint32_t> buf(10);
  buf.memset(0, stream.get());
  std::vector<uint32_t> part = {1, 2, 3};
  buf.upload(part, stream.get(), 7);
  stop.record(stream.get());
  stop.synchronize();
  EXPECT_GE(gpu::Event::elapsed_ms(start, stop), 0.0f);
  EXPECT_EQ(buf.to_host(stream.get()), (std::vector<uint32_t>{0, 0, 0, 0, 0, 0, 0, 1, 2, 3}));
  EXPECT_THROW(buf.upload(part, stream.get(), 8), Error);
}

}  // namespace
}  // namespace ptvm
