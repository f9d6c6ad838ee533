// The runtime's device pipeline under host-sim (ptvm/gpu/runtime.hpp: DevicePipeline, the
// stream-ordered pool, pinned staging): values survive staged round trips of any size, the pool
// serves a repeated allocation pattern from its cache, and the profile counts allocations, copies,
// launches and synchronisations per stream.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "ptvm/gpu/column_ops.hpp"
#include "ptvm/gpu/hostsim/cost_model.hpp"
#include "ptvm/gpu/hostsim/profile.hpp"
#include "ptvm/gpu/runtime.hpp"

namespace ptvm {
namespace {

using gpu::DeviceBuffer;

struct Profiling {
  Profiling() {
    hostsim::reset_profile();
    hostsim::set_profiling(true);
  }
  ~Profiling() { hostsim::set_profiling(false); }
};

std::vector<M31> values(size_t n, uint32_t start) {
  std::vector<M31> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = M31::from_u32(static_cast<uint32_t>(i * 7 + start));
  return v;
}

TEST(DevicePipeline, StagedUploadsAndDownloadsOfManySlotsKeepEveryValue) {
  Profiling on;
  gpu::DevicePipeline pipeline(4096);  // small slots: 40 KB pass through both, several times
  gpu::PipelineScope scope(pipeline);
  const std::vector<M31> a = values(10'000, 1), b = values(10'000, 5);
  auto da = DeviceBuffer<M31>::from_host(a);
  auto db = DeviceBuffer<M31>::from_host(b);
  DeviceBuffer<M31> sum(a.size());
  gpu::m31_columns_apply(gpu::ColumnOp::Add, da.cptr(), db.cptr(), sum.ptr(), a.size(), nullptr);
  const std::vector<M31> host = sum.to_host();
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(host[i], a[i] + b[i]) << i;

  const hostsim::RuntimeProfile r = hostsim::runtime_profile();
  const hostsim::StreamProfile* copy = r.stream("copy");
  const hostsim::StreamProfile* compute = r.stream("compute");
  ASSERT_TRUE(copy && compute);
  EXPECT_EQ(r.stream("default"), nullptr) << "nothing on the legacy default stream";
  // 2 x 40,000 bytes in 4096-byte chunks, all from pinned memory, all on the copy stream.
  EXPECT_EQ(copy->h2d_copies, 2 * ((40'000 + 4095) / 4096));
  EXPECT_EQ(copy->h2d_bytes, 80'000u);
  EXPECT_EQ(copy->h2d_pinned_bytes, 80'000u);
  EXPECT_EQ(copy->launches, 0u);
  EXPECT_EQ(compute->launches, 1u);
  EXPECT_EQ(compute->event_waits, 2u);  // the kernel's stream waits for each upload's last chunk
  EXPECT_EQ(copy->event_waits, 2u);     // each upload waits for the allocation on the compute stream
  EXPECT_EQ(compute->d2h_bytes, 40'000u);
  EXPECT_EQ(compute->d2h_pinned_bytes, 40'000u);
  EXPECT_EQ(compute->synchronizations + copy->synchronizations, 0u);
  EXPECT_EQ(r.device_synchronizations, 0u);
  EXPECT_EQ(r.pinned_allocations, 2u);  // the two staging slots, once
  EXPECT_EQ(r.pinned_allocated_bytes, 2u * 4096);
  EXPECT_EQ(r.device_allocations, 3u);
  EXPECT_EQ(compute->pool_allocations, 3u);
}

TEST(DevicePipeline, PoolServesARepeatedPatternFromItsCache) {
  gpu::trim_device_pool(0);  // nothing cached by earlier tests
  Profiling on;
  gpu::DevicePipeline pipeline;
  gpu::PipelineScope scope(pipeline);
  auto round = [] {
    DeviceBuffer<uint32_t> x(1000), y(1000), z(77);
    DeviceBuffer<uint32_t> w(1000);  // a size already live twice: a third block
  };
  round();
  const hostsim::RuntimeProfile first = hostsim::runtime_profile();
  EXPECT_EQ(first.device_allocations, 4u);
  EXPECT_EQ(first.pool_reuses, 0u);
  hostsim::reset_profile();
  round();
  round();
  const hostsim::RuntimeProfile again = hostsim::runtime_profile();
  EXPECT_EQ(again.device_allocations, 0u);
  EXPECT_EQ(again.pool_reuses, 8u);
  EXPECT_EQ(again.device_frees, 0u) << "pooled buffers are never freed with cudaFree";
}

TEST(DevicePipeline, OutsideAScopeBuffersArePlainAndTheDefaultStreamIsLegacy) {
  Profiling on;
  {
    DeviceBuffer<uint32_t> x(100);
    std::vector<uint32_t> h(100, 3);
    x.upload(h);
  }
  const hostsim::RuntimeProfile r = hostsim::runtime_profile();
  EXPECT_EQ(r.device_allocations, 1u);
  EXPECT_EQ(r.device_frees, 1u);
  ASSERT_NE(r.stream("default"), nullptr);
  EXPECT_EQ(r.stream("default")->h2d_copies, 1u);
  EXPECT_EQ(r.stream("default")->h2d_pinned_bytes, 0u);
  EXPECT_EQ(r.stream("default")->synchronizations, 1u);
  EXPECT_EQ(gpu::resolve_stream(nullptr), nullptr);
  gpu::DevicePipeline pipeline;
  {
    gpu::PipelineScope scope(pipeline);
    EXPECT_EQ(gpu::resolve_stream(nullptr), pipeline.compute());
    EXPECT_EQ(gpu::active_pipeline(), &pipeline);
  }
  EXPECT_EQ(gpu::active_pipeline(), nullptr);
}

TEST(GpuCostModel, CopyStreamUploadsOverlapTheComputeStream) {
  std::vector<hostsim::KernelProfile> kernels(1);
  kernels[0].name = "k";
  kernels[0].launches = 5;                  // 20 us of launches
  kernels[0].sectors = 3'350'000 / 32 * 10;  // 10 us of memory
  hostsim::TransferProfile t;
  t.h2d_copies = 2;
  t.h2d_bytes = 2'000'000 + 250'000;        // 40 us pinned on the copy stream + 10 us pageable on compute
  t.h2d_pinned_bytes = 2'000'000;
  t.d2h_copies = 2;
  t.d2h_bytes = 100'000;                     // 2 us pinned
  t.d2h_pinned_bytes = 100'000;
  hostsim::RuntimeProfile r;
  hostsim::StreamProfile copy, compute;
  copy.id = 2;
  copy.name = "copy";
  copy.h2d_copies = 1;
  copy.h2d_bytes = copy.h2d_pinned_bytes = 2'000'000;
  compute.id = 1;
  compute.name = "compute";
  compute.launches = 5;
  compute.h2d_copies = 1;
  compute.h2d_bytes = 250'000;
  r.streams = {compute, copy};
  const hostsim::ModeledCost c = hostsim::model_cost(kernels, t, r);
  EXPECT_EQ(c.overlapped_bytes, 2'000'000u);
  EXPECT_NEAR(c.copy_stream_s, 40e-6, 1e-9);
  EXPECT_NEAR(c.compute_stream_s(), 30e-6, 1e-7);
  EXPECT_NEAR(c.transfer_s, 12e-6, 1e-9);   // the compute-stream upload and the downloads
  EXPECT_NEAR(c.round_trip_s, 20e-6, 1e-12);
  EXPECT_NEAR(c.total_s(), 40e-6 + 20e-6 + 12e-6, 1e-7);  // max(copy 40, compute 30) + round trips + serial
  // Without stream information the same copies are not overlapped.
  const hostsim::ModeledCost serial = hostsim::model_cost(kernels, t);
  EXPECT_EQ(serial.overlapped_bytes, 0u);
  EXPECT_NEAR(serial.total_s(), 30e-6 + 20e-6 + 52e-6, 1e-7);
}

}  // namespace
}  // namespace ptvm
