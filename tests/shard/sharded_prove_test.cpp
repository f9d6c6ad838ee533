// Sharded proofs (S ranks over threads, each with its ShardedBackend) are byte-identical to the
// CPU backend's single-rank proof: example AIRs of several sizes, mixed column sizes, and the VM
// AIR; and they verify (or, for a cheating witness, are rejected just the same).
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>

#include "../stark/stark_test_util.hpp"
#include "ptvm/comm/communicator.hpp"
#include "ptvm/shard/sharded_backend.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vmair/profiles.hpp"
#include "ptvm/vmair/prove.hpp"

namespace {

using namespace ptvm;
using stark::testing::Statement;

const stark::Profile kFast = stark::profile_by_name("fast-test-insecure");

std::vector<uint8_t> prove_sharded(const Statement& s, int shards) {
  std::vector<uint8_t> bytes;
  std::mutex m;
  comm::run_ranks(shards, [&](comm::Communicator& comm) {
    auto backend = shard::make_sharded_backend(comm);
    std::vector<uint8_t> mine =
        stark::proof_to_binary(stark::prove(s.air, s.public_inputs, s.traces, kFast, *backend));
    std::lock_guard<std::mutex> lock(m);
    if (comm.rank() == 0) {
      bytes = std::move(mine);
    } else if (!bytes.empty() && bytes != mine) {
      throw Error(ErrorCategory::Internal,
                  "rank " + std::to_string(comm.rank()) + " holds another proof");
    }
  });
  return bytes;
}

void expect_identical(const Statement& s, const std::string& what) {
  const stark::StarkProof one = stark::testing::prove_cpu(s, kFast);
  const std::vector<uint8_t> one_bytes = stark::proof_to_binary(one);
  for (int shards : {2, 4}) {
    const std::vector<uint8_t> sharded = prove_sharded(s, shards);
    EXPECT_EQ(sharded, one_bytes) << what << ": " << shards << " shards";
  }
  EXPECT_TRUE(stark::verify(s.air, s.public_inputs, one, kFast).accepted) << what;
}

TEST(ShardedProve, WideFibonacciOfSeveralSizes) {
  for (uint32_t log_rows : {5u, 6u, 8u})
    expect_identical(stark::testing::wide_fibonacci(log_rows, 6),
                     "wide fibonacci 2^" + std::to_string(log_rows));
}

TEST(ShardedProve, MixedColumnSizesAndLogUp) {
  expect_identical(stark::testing::mixed_sizes(7), "mixed sizes 2^7");
  expect_identical(stark::testing::range_check(9), "range check 2^9");
}

TEST(ShardedProve, CheatingWitnessGivesTheSameRejectedProof) {
  Statement s = stark::testing::wide_fibonacci(6, 6);
  s.traces[0][3][17] += M31::one();
  const std::vector<uint8_t> one = stark::proof_to_binary(stark::testing::prove_cpu(s, kFast));
  const std::vector<uint8_t> sharded = prove_sharded(s, 4);
  EXPECT_EQ(sharded, one);
  const stark::Verdict v =
      stark::verify(s.air, s.public_inputs, stark::proof_from_binary(sharded), kFast);
  EXPECT_FALSE(v.accepted);
}

TEST(ShardedProve, ProofOfWorkIsTheSmallestNonceOnEveryRank) {
  hash::Blake2sChannel channel;
  channel.mix_u64(77);
  for (uint32_t bits : {1u, 8u, 15u}) {
    const uint64_t want = channel.grind(bits, 1);
    comm::run_ranks(4, [&](comm::Communicator& comm) {
      auto backend = shard::make_sharded_backend(comm);
      const uint64_t got = backend->grind(channel, bits);
      if (got != want)
        throw Error(ErrorCategory::Internal,
                    "rank " + std::to_string(comm.rank()) + " found another nonce");
    });
    EXPECT_TRUE(channel.check_pow(want, bits));
    EXPECT_FALSE(channel.grind_range(bits, 0, want / 16 * 16).has_value())
        << "grind_range found a smaller nonce";
  }
}

TEST(ShardedProve, VmAirProofsMatchOneRank) {
  for (const auto& [program, steps] :
       std::vector<std::pair<std::string, uint64_t>>{{"fibonacci", 512}, {"counter_100k", 300}}) {
    const vm::Program p =
        vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/" + program + ".tvm");
    vmair::ProveOptions options;
    options.profile = kFast;
    options.max_steps = steps;
    options.lockstep = false;
    const std::vector<uint8_t> one = stark::proof_to_binary(vmair::prove_program(p, options).proof);
    for (int shards : {2, 4}) {
      std::vector<uint8_t> bytes;
      comm::run_ranks(shards, [&](comm::Communicator& comm) {
        auto backend = shard::make_sharded_backend(comm);
        vmair::ProveOptions o = options;
        o.backend = backend.get();
        auto run = vmair::prove_program(p, o);
        if (comm.rank() == 0)
          bytes = stark::proof_to_binary(run.proof);
      });
      EXPECT_EQ(bytes, one) << program << " on " << shards << " shards";
    }
  }
}

// Opt-in (PTVM_LARGE_TESTS=1): a 2^15-step VM proof of the default profile on 8 shards.
TEST(ShardedProve, LargeVmProofOnEightShards) {
  if (!std::getenv("PTVM_LARGE_TESTS"))
    GTEST_SKIP() << "set PTVM_LARGE_TESTS=1 to run";
  const vm::Program p =
      vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/counter_100k.tvm");
  vmair::ProveOptions options;
  options.profile = stark::profile_by_name("default");
  options.max_steps = (1 << 15) - 1;
  options.lockstep = false;
  const std::vector<uint8_t> one = stark::proof_to_binary(vmair::prove_program(p, options).proof);
  std::vector<uint8_t> bytes;
  comm::run_ranks(8, [&](comm::Communicator& comm) {
    auto backend = shard::make_sharded_backend(comm);
    vmair::ProveOptions o = options;
    o.backend = backend.get();
    auto run = vmair::prove_program(p, o);
    if (comm.rank() == 0)
      bytes = stark::proof_to_binary(run.proof);
  });
  EXPECT_EQ(bytes, one);
}

} // namespace
