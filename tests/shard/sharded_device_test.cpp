// The sharded device backend under host-sim (each rank a simulated device): its proofs are
// byte-identical to the CPU backend's single-rank proof (example AIRs with and without LogUp,
// mixed column sizes, the VM AIR), a cheating witness gives the same rejected proof, its
// four-step FFT equals the plain transform, and the stages ran as device kernels.
#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include "../stark/stark_test_util.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/comm/communicator.hpp"
#include "ptvm/gpu/hostsim/profile.hpp"
#include "ptvm/gpu/sharded_device_backend.hpp"
#include "ptvm/gpu/vmair_device.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vmair/profiles.hpp"
#include "ptvm/vmair/prove.hpp"

namespace {

using namespace ptvm;
using stark::testing::Statement;

const stark::Profile kFast = stark::profile_by_name("fast-test-insecure");

// Rank 0's proof; every rank must hold the same one.
std::vector<uint8_t> prove_sharded(const Statement& s, int shards, gpu::ShardTrafficStats* stats = nullptr) {
  std::vector<uint8_t> bytes;
  std::mutex m;
  comm::run_ranks(shards, [&](comm::Communicator& comm) {
    auto backend = gpu::make_sharded_device_backend(comm);
    std::vector<uint8_t> mine = stark::proof_to_binary(stark::prove(s.air, s.public_inputs, s.traces, kFast, *backend));
    std::lock_guard<std::mutex> lock(m);
    if (comm.rank() == 0) {
      bytes = std::move(mine);
      if (stats) *stats = backend->traffic();
    } else if (!bytes.empty() && bytes != mine) {
      throw Error(ErrorCategory::Internal, "rank " + std::to_string(comm.rank()) + " holds another proof");
    }
  });
  return bytes;
}

void expect_identical(const Statement& s, const std::string& what) {
  const std::vector<uint8_t> one = stark::proof_to_binary(stark::testing::prove_cpu(s, kFast));
  for (int shards : {1, 2, 4}) EXPECT_EQ(prove_sharded(s, shards), one) << what << ": " << shards << " device shards";
}

TEST(ShardedDevice, FourStepTransformsEqualThePlainOnes) {
  // interpolate then evaluate (extension 2) through the backend, against the host transforms.
  for (int shards : {2, 4}) {
    const uint32_t n = 8;
    std::vector<M31> values(size_t{1} << n);
    for (size_t i = 0; i < values.size(); ++i) values[i] = M31::from_u64(i * 7919 + 13);
    const circle::TwiddleTree tree = circle::precompute_twiddles_for_log(n + 2);
    std::vector<M31> coeffs(values.size()), extended(values.size() << 2);
    circle::circle_interpolate_bitrev(values, coeffs, tree);
    circle::circle_evaluate_bitrev(coeffs, extended, tree);
    comm::run_ranks(shards, [&](comm::Communicator& comm) {
      auto backend = gpu::make_sharded_device_backend(comm);
      // Rows whose bit-reversed storage is `values`.
      std::vector<M31> rows(values.size());
      for (size_t j = 0; j < rows.size(); ++j)
        rows[j] = values[circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, n), n)];
      auto evals = backend->upload_rows({rows});
      auto c = backend->interpolate(*evals);
      auto e = backend->evaluate(*c, 2);
      if (c->to_host(0) != coeffs) throw Error(ErrorCategory::Internal, "four-step interpolation differs");
      if (e->to_host(0) != extended) throw Error(ErrorCategory::Internal, "four-step evaluation differs");
    });
  }
}

TEST(ShardedDevice, ExampleAirsMatchOneRank) {
  expect_identical(stark::testing::wide_fibonacci(6, 6), "wide fibonacci 2^6");
  expect_identical(stark::testing::mixed_sizes(7), "mixed sizes 2^7");
}

TEST(ShardedDevice, LogUpAirMatchesOneRank) { expect_identical(stark::testing::range_check(8), "range check 2^8"); }

TEST(ShardedDevice, CheatingWitnessGivesTheSameRejectedProof) {
  Statement s = stark::testing::wide_fibonacci(6, 6);
  s.traces[0][3][17] += M31::one();
  const std::vector<uint8_t> one = stark::proof_to_binary(stark::testing::prove_cpu(s, kFast));
  const std::vector<uint8_t> sharded = prove_sharded(s, 4);
  EXPECT_EQ(sharded, one);
  EXPECT_FALSE(stark::verify(s.air, s.public_inputs, stark::proof_from_binary(sharded), kFast).accepted);
}

TEST(ShardedDevice, StagesRunAsDeviceKernelsAndMoveDeviceBuffers) {
  hostsim::reset_profile();
  hostsim::set_profiling(true);
  gpu::ShardTrafficStats stats;
  // A LogUp AIR of one component large enough to split: every stage on the device (the last FRI
  // layers whole on every rank), only proof of work on the host.
  const std::vector<uint8_t> proof = prove_sharded(stark::testing::range_check(8), 2, &stats);
  hostsim::set_profiling(false);
  std::set<std::string> launched;
  for (const auto& k : hostsim::kernel_profiles())
    if (k.launches > 0) launched.insert(k.name);
  for (const char* want : {"circle_fft_pass_kernel", "m31_strided_copy_many_kernel", "blake2s_merkle_layer",
                           "composition_kernel", "deep_quotients_block_kernel", "fri_fold_circle_block_kernel",
                           "fri_fold_line_block_kernel", "evaluate_columns_at_point_kernel", "fractions_kernel",
                           "logup_running_block_kernel", "gather_words", "m31_placed_gather_kernel"}) {
    bool found = false;
    for (const auto& name : launched) found = found || name.find(want) != std::string::npos;
    EXPECT_TRUE(found) << want << " never launched";
  }
  EXPECT_EQ(stats.host_stage_calls, 0u) << "a stage ran on the host";
  EXPECT_GT(stats.all_to_all_calls, 0u);
  EXPECT_GT(stats.device_bytes_sent, 0u);
  EXPECT_FALSE(proof.empty());
}

TEST(ShardedDevice, VmAirProofMatchesOneRank) {
  const vm::Program p = vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm");
  vmair::ProveOptions options;
  options.profile = kFast;
  options.max_steps = 512;
  options.lockstep = false;
  const std::vector<uint8_t> one = stark::proof_to_binary(vmair::prove_program(p, options).proof);
  for (int shards : {2, 4}) {
    std::vector<uint8_t> bytes;
    uint64_t host_stages = 0;
    comm::run_ranks(shards, [&](comm::Communicator& comm) {
      auto backend = gpu::make_sharded_device_backend(comm);
      vmair::register_device_airs(backend->air_registry());
      vmair::ProveOptions o = options;
      o.backend = backend.get();
      auto run = vmair::prove_program(p, o);
      if (comm.rank() == 0) {
        bytes = stark::proof_to_binary(run.proof);
        host_stages = backend->traffic().host_stage_calls;
      }
    });
    EXPECT_EQ(bytes, one) << "fibonacci on " << shards << " device shards";
    // Small components (the program table) are whole on every rank: their stages run on the
    // device too, none on the host.
    EXPECT_EQ(host_stages, 0u) << shards << " device shards";
  }
}

}  // namespace
