// The group prover's device pipeline (ptvm/gpu/runtime.hpp DevicePipeline, group_backend.hpp):
// under host-sim, two groups of one shape proven back to back on one device. The second is the
// steady state: no device allocation (the stream-ordered pool serves it), no pinned allocation (the
// staging slots are reused), no device-wide synchronisation, nothing on the legacy default stream,
// every upload through pinned staging on the copy stream; and every proof is the CPU backend's.
#include <gtest/gtest.h>

#include "../stark/stark_test_util.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/group_backend.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/cost_model.hpp"
#include "ptvm/gpu/hostsim/profile.hpp"
#endif
#include "require_device.hpp"

namespace ptvm {
namespace {

using stark::testing::Statement;

std::vector<uint8_t> cpu_bytes(const Statement& s, const stark::Profile& p) {
  auto cpu = make_cpu_backend();
  return stark::proof_to_binary(stark::prove(s.air, s.public_inputs, s.traces, p, *cpu));
}

// Two statements of one shape (the second's trace differs), jobs alternating between them.
std::vector<Statement> one_shape() {
  std::vector<Statement> s;
  s.push_back(stark::testing::range_check(5));
  s.push_back(stark::testing::range_check(5));
  s.back().traces[0][0][3] = M31::from_u32(17);
  return s;
}

void prove_group(gpu::CudaBackend& device, const std::vector<Statement>& statements, size_t jobs,
                 const stark::Profile& p, const std::vector<std::vector<uint8_t>>& expected) {
  std::vector<std::vector<uint8_t>> out(jobs);
  auto errors = gpu::run_group(device, jobs, [&](size_t j, Backend& backend) {
    const Statement& s = statements[j % statements.size()];
    out[j] = stark::proof_to_binary(stark::prove(s.air, s.public_inputs, s.traces, p, backend));
  });
  for (size_t j = 0; j < jobs; ++j) {
    EXPECT_FALSE(errors[j]) << "job " << j;
    EXPECT_TRUE(out[j] == expected[j % statements.size()]) << "job " << j << ": not the CPU backend's proof";
  }
}

TEST(GroupPipeline, BackToBackGroupsProveTheCpuBytes) {
  PTVM_REQUIRE_DEVICE();
  const stark::Profile p = stark::profile_by_name("fast-test-insecure");
  const std::vector<Statement> statements = one_shape();
  const std::vector<std::vector<uint8_t>> expected{cpu_bytes(statements[0], p), cpu_bytes(statements[1], p)};
  ASSERT_NE(expected[0], expected[1]);
  auto device = gpu::make_cuda_backend();
  prove_group(*device, statements, 6, p, expected);
  prove_group(*device, statements, 6, p, expected);
}

#if defined(PTVM_HOSTSIM)
TEST(GroupPipeline, SteadyStateAllocatesNothingAndNeverSynchronisesTheDevice) {
  const stark::Profile p = stark::profile_by_name("fast-test-insecure");
  const std::vector<Statement> statements = one_shape();
  const std::vector<std::vector<uint8_t>> expected{cpu_bytes(statements[0], p), cpu_bytes(statements[1], p)};
  auto device = gpu::make_cuda_backend();
  gpu::trim_device_pool(0);  // the first group starts from an empty pool
  hostsim::reset_profile();
  hostsim::set_profiling(true);
  prove_group(*device, statements, 8, p, expected);
  const hostsim::RuntimeProfile first = hostsim::runtime_profile();
  hostsim::reset_profile();
  prove_group(*device, statements, 8, p, expected);
  const hostsim::RuntimeProfile second = hostsim::runtime_profile();
  const hostsim::TransferProfile transfers = hostsim::transfer_profile();
  const hostsim::ModeledCost cost = hostsim::model_cost_now();
  hostsim::set_profiling(false);

  // The first group fills the pool and the staging slots (the counters do count).
  EXPECT_GT(first.device_allocations, 0u);
  EXPECT_GE(first.pinned_allocations, 1u);
  EXPECT_LE(first.pinned_allocations, 2u);
  // The second allocates nothing and never waits for the whole device.
  EXPECT_EQ(second.device_allocations, 0u);
  EXPECT_EQ(second.pinned_allocations, 0u);
  EXPECT_EQ(second.device_frees, 0u);
  EXPECT_GT(second.pool_reuses, 100u);
  EXPECT_EQ(second.device_synchronizations, 0u);
  EXPECT_EQ(second.stream("default"), nullptr) << "the legacy default stream is never used";

  const hostsim::StreamProfile* compute = second.stream("compute");
  const hostsim::StreamProfile* copy = second.stream("copy");
  ASSERT_TRUE(compute && copy);
  EXPECT_GT(compute->launches, 0u);
  EXPECT_EQ(copy->launches, 0u);
  // Every upload goes through pinned staging on the copy stream; every download into pinned memory.
  EXPECT_GT(copy->h2d_bytes, 0u);
  EXPECT_EQ(copy->h2d_pinned_bytes, copy->h2d_bytes);
  EXPECT_EQ(transfers.h2d_bytes, copy->h2d_bytes);
  EXPECT_EQ(transfers.d2h_pinned_bytes, transfers.d2h_bytes);
  // The host waits only on events (a download's copy, a staging slot's reuse), never a stream.
  EXPECT_EQ(compute->synchronizations + copy->synchronizations, 0u);
  EXPECT_LE(second.event_synchronizations, transfers.d2h_copies + transfers.h2d_copies);
  // The compute stream waits for the copy stream (events), and the model overlaps those bytes.
  EXPECT_GT(compute->event_waits, 0u);
  EXPECT_EQ(cost.overlapped_bytes, copy->h2d_bytes);
  EXPECT_GT(cost.copy_stream_s, 0.0);
}
#endif

}  // namespace
}  // namespace ptvm
