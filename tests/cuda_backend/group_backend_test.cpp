// Lockstep group proving (ptvm/gpu/group_backend.hpp) under host-sim / on a GPU: every job's proof
// is the CPU backend's proof of that job alone, a failing job fails alone, and the kernel launches
// of a group do not grow with the number of jobs in it.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "../stark/stark_test_util.hpp"
#include "ptvm/common/error.hpp"
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

// Proves statements[shape_of[j]] for every job j in one group; returns the proof bytes per job.
std::vector<std::vector<uint8_t>> prove_group(const std::vector<Statement>& statements, const std::vector<size_t>& shape_of,
                                              const stark::Profile& p, gpu::GroupStats* stats = nullptr) {
  auto device = gpu::make_cuda_backend();
  std::vector<std::vector<uint8_t>> out(shape_of.size());
  auto errors = gpu::run_group(*device, shape_of.size(), [&](size_t j, Backend& backend) {
    const Statement& s = statements[shape_of[j]];
    out[j] = stark::proof_to_binary(stark::prove(s.air, s.public_inputs, s.traces, p, backend));
  }, stats);
  for (size_t j = 0; j < errors.size(); ++j) {
    if (!errors[j]) continue;
    try {
      std::rethrow_exception(errors[j]);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "job " << j << ": " << e.what();
    }
  }
  return out;
}

TEST(GroupBackend, MixedShapesEveryProofEqualsCpuProofAlone) {
  PTVM_REQUIRE_DEVICE();
  const stark::Profile p = stark::profile_by_name("fast-test-insecure");
  std::vector<Statement> statements;
  statements.push_back(stark::testing::wide_fibonacci(4, 8));
  statements.push_back(stark::testing::wide_fibonacci(5, 5));
  statements.push_back(stark::testing::range_check(5));
  statements.push_back(stark::testing::mixed_sizes(4));
  // A different trace of the first shape: same shape, different proof.
  statements.push_back(stark::testing::wide_fibonacci(4, 8));
  statements.back().traces[0][0][0] = M31::from_u32(3);
  statements.back().public_inputs[0] = M31::from_u32(3);
  std::vector<std::vector<uint8_t>> expected;
  for (const auto& s : statements) expected.push_back(cpu_bytes(s, p));
  ASSERT_NE(expected[0], expected[4]);
  std::vector<size_t> shape_of;
  for (size_t j = 0; j < 66; ++j) shape_of.push_back((j * 7 + j / 5) % statements.size());
  gpu::GroupStats stats;
  const auto proofs = prove_group(statements, shape_of, p, &stats);
  for (size_t j = 0; j < shape_of.size(); ++j) EXPECT_TRUE(proofs[j] == expected[shape_of[j]]) << "job " << j;
  EXPECT_GT(stats.rounds, 0u);
}

TEST(GroupBackend, FailingJobFailsAloneWithItsError) {
  PTVM_REQUIRE_DEVICE();
  const stark::Profile p = stark::profile_by_name("fast-test-insecure");
  Statement good = stark::testing::wide_fibonacci(4, 6);
  const std::vector<uint8_t> expected = cpu_bytes(good, p);
  auto device = gpu::make_cuda_backend();
  std::vector<std::vector<uint8_t>> out(3);
  auto errors = gpu::run_group(*device, 3, [&](size_t j, Backend& backend) {
    Statement s = stark::testing::wide_fibonacci(4, 6);
    if (j == 1) s.traces[0].pop_back();  // a malformed trace: the prover refuses it
    out[j] = stark::proof_to_binary(stark::prove(s.air, s.public_inputs, s.traces, p, backend));
  });
  EXPECT_FALSE(errors[0]);
  EXPECT_FALSE(errors[2]);
  ASSERT_TRUE(errors[1]);
  try {
    std::rethrow_exception(errors[1]);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("main columns"), std::string::npos) << e.what();
  }
  EXPECT_EQ(out[0], expected);
  EXPECT_EQ(out[2], expected);
}

#if defined(PTVM_HOSTSIM)
struct Launches {
  uint64_t total = 0;
  std::map<std::string, uint64_t> per_kernel;
  hostsim::ModeledCost cost;
};
Launches count_launches(const Statement& s, size_t jobs, const stark::Profile& p) {
  hostsim::reset_profile();
  hostsim::set_profiling(true);
  std::vector<Statement> statements{s};
  prove_group(statements, std::vector<size_t>(jobs, 0), p);
  Launches l;
  l.cost = hostsim::model_cost_now();
  hostsim::set_profiling(false);
  for (const auto& k : hostsim::kernel_profiles()) {
    l.total += k.launches;
    l.per_kernel[k.name] = k.launches;
  }
  return l;
}

TEST(GroupBackend, LaunchesPerGroupDoNotGrowWithJobs) {
  const stark::Profile p = stark::profile_by_name("fast-test-insecure");
  for (const Statement& s : {stark::testing::range_check(4)}) {  // two components, LogUp, boundary-free
    Launches one = count_launches(s, 1, p);
    Launches many = count_launches(s, 64, p);
    EXPECT_GT(one.total, 0u);
    EXPECT_EQ(one.per_kernel, many.per_kernel);
    EXPECT_EQ(one.total, many.total);
    // Host round trips (downloads) do not grow either; the bytes do, and batching pays.
    EXPECT_EQ(one.cost.round_trips, many.cost.round_trips);
    EXPECT_EQ(one.cost.h2d_copies, many.cost.h2d_copies);
    EXPECT_GT(many.cost.kernel_bytes, 32 * one.cost.kernel_bytes);
    EXPECT_LT(many.cost.total_s(), 8 * one.cost.total_s());
  }
}
TEST(GpuCostModel, KernelsPayMemoryOrComputeAndEveryLaunchRoundTripAndCopy) {
  std::vector<hostsim::KernelProfile> kernels(2);
  kernels[0].name = "memory_bound";
  kernels[0].launches = 2;
  kernels[0].sectors = 3'350'000 / 32 * 10;  // 33.5 MB: 10 us at 3.35 TB/s
  kernels[1].name = "hash";
  kernels[1].launches = 1;
  kernels[1].sectors = 1;
  kernels[1].ops = 167'000'000;  // 10 us at 16.7 T ops/s
  hostsim::TransferProfile t;
  t.d2h_copies = 3;
  t.d2h_bytes = 250'000;  // 10 us at 25 GB/s
  t.h2d_copies = 1;
  const hostsim::ModeledCost c = hostsim::model_cost(kernels, t);
  EXPECT_EQ(c.launches, 3u);
  EXPECT_EQ(c.round_trips, 3u);
  EXPECT_NEAR(c.kernels[0].seconds, 10e-6, 1e-7);
  EXPECT_FALSE(c.kernels[0].compute_bound);
  EXPECT_NEAR(c.kernels[1].seconds, 10e-6, 1e-9);
  EXPECT_TRUE(c.kernels[1].compute_bound);
  EXPECT_NEAR(c.launch_s, 12e-6, 1e-12);
  EXPECT_NEAR(c.round_trip_s, 30e-6, 1e-12);
  EXPECT_NEAR(c.transfer_s, 10e-6, 1e-12);
  EXPECT_NEAR(c.total_s(), 72e-6, 2e-7);
}
#endif

}  // namespace
}  // namespace ptvm
