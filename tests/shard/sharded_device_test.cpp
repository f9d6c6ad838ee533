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
#include "ptvm/gpu/pow.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/shard_exchange.hpp"
#include "ptvm/gpu/sharded_device_backend.hpp"
#include "ptvm/hash/channel.hpp"
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
      auto c = backend->interpolate(evals);
      auto e = backend->evaluate(c, 2);
      if (c.to_host(0) != coeffs) throw Error(ErrorCategory::Internal, "four-step interpolation differs");
      if (e.to_host(0) != extended) throw Error(ErrorCategory::Internal, "four-step evaluation differs");
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
  // layers whole on every rank).
  const std::vector<uint8_t> proof = prove_sharded(stark::testing::range_check(8), 2, &stats);
  hostsim::set_profiling(false);
  std::set<std::string> launched;
  for (const auto& k : hostsim::kernel_profiles())
    if (k.launches > 0) launched.insert(k.name);
  for (const char* want : {"circle_fft_pass_many_kernel", "m31_strided_copy_many_kernel", "blake2s_merkle_layer",
                           "composition_kernel", "deep_quotients_block_kernel", "fri_fold_circle_block_kernel",
                           "fri_fold_line_block_kernel", "evaluate_columns_at_point_kernel", "fractions_kernel",
                           "logup_running_block_kernel", "gather_words", "m31_placed_gather_kernel",
                           "interleaved_to_planar_kernel", "planar_to_interleaved_kernel", "exchange_flags_kernel",
                           "exchange_places_kernel"}) {
    bool found = false;
    for (const auto& name : launched) found = found || name.find(want) != std::string::npos;
    EXPECT_TRUE(found) << want << " never launched";
  }
  EXPECT_EQ(stats.host_stage_calls, 0u) << "a stage ran on the host";
  EXPECT_GT(stats.all_to_all_calls, 0u);
  EXPECT_GT(stats.device_bytes_sent, 0u);
  EXPECT_FALSE(proof.empty());
}

// ---- the sharded data movement kernels (ptvm/gpu/shard_exchange.hpp) against naive host loops --

TEST(ShardExchangeKernels, TransposesMatchTheNaiveCopy) {
  // Ranks 2..64; columns from a fraction of a tile to several tiles, two sizes in one launch.
  for (uint32_t log_ranks : {1u, 2u, 3u, 4u, 6u}) {
    const uint64_t S = uint64_t{1} << log_ranks;
    for (const auto& parts : std::vector<std::vector<uint64_t>>{{1, 4}, {2, 64}, {uint64_t{512} >> log_ranks, 1024}, {4096, 8}}) {
      uint64_t P = 0, most = 0;
      std::vector<uint64_t> offset;
      for (uint64_t part : parts) {
        offset.push_back(P);
        P += part;
        most = std::max(most, part * S);
      }
      std::vector<std::vector<M31>> interleaved;
      std::vector<gpu::DeviceBuffer<M31>> columns;
      gpu::DeviceBuffer<M31> planar(P * S), back_planar(P * S);
      planar.memset(0);
      std::vector<gpu::ShardTransposeJob> to_planar;
      for (size_t c = 0; c < parts.size(); ++c) {
        std::vector<M31> v(parts[c] * S);
        for (size_t i = 0; i < v.size(); ++i) v[i] = M31::from_u64(i * 2654435761u + c * 97 + log_ranks);
        columns.push_back(gpu::DeviceBuffer<M31>::from_host(v));
        interleaved.push_back(std::move(v));
        to_planar.push_back({columns.back().data(), planar.data() + offset[c], parts[c]});
      }
      auto table = gpu::DeviceBuffer<gpu::ShardTransposeJob>::from_host(to_planar);
      gpu::shard_interleaved_to_planar(table.cptr(), static_cast<uint32_t>(to_planar.size()), log_ranks, P, most, nullptr);
      const std::vector<M31> got = planar.to_host();
      for (size_t c = 0; c < parts.size(); ++c)
        for (uint64_t t = 0; t < S; ++t)
          for (uint64_t k = 0; k < parts[c]; ++k)
            ASSERT_EQ(got[t * P + offset[c] + k], interleaved[c][k * S + t])
                << "to planar: S " << S << " part " << parts[c] << " t " << t << " k " << k;
      // And back, into fresh columns.
      std::vector<gpu::DeviceBuffer<M31>> again;
      std::vector<gpu::ShardTransposeJob> to_interleaved;
      for (size_t c = 0; c < parts.size(); ++c) {
        again.emplace_back(parts[c] * S);
        to_interleaved.push_back({again.back().data(), planar.data() + offset[c], parts[c]});
      }
      auto back = gpu::DeviceBuffer<gpu::ShardTransposeJob>::from_host(to_interleaved);
      gpu::shard_planar_to_interleaved(back.cptr(), static_cast<uint32_t>(to_interleaved.size()), log_ranks, P, most,
                                       nullptr);
      for (size_t c = 0; c < parts.size(); ++c)
        ASSERT_EQ(again[c].to_host(), interleaved[c]) << "to interleaved: S " << S << " part " << parts[c];
    }
  }
}

TEST(ShardExchangeKernels, PlaceTablesFollowTheirContract) {
  using gpu::ShardPermutation;
  for (uint32_t log_ranks : {1u, 2u, 3u}) {
    const uint32_t S = 1u << log_ranks;
    for (uint32_t block_log : {3u, 5u}) {
      const uint32_t n = block_log + log_ranks;
      const size_t m = size_t{1} << block_log;
      for (const ShardPermutation source :
           {ShardPermutation{ShardPermutation::PositionOfRow, n, n, 0}, ShardPermutation{ShardPermutation::RowOfPosition, n, n, 0},
            ShardPermutation{ShardPermutation::RowOffset, n - 1, n, 1}, ShardPermutation{ShardPermutation::RowOffset, n, n, 1},
            ShardPermutation{ShardPermutation::RowOffset, n - 2, n, -1}}) {
        for (uint32_t owner = 0; owner < S; ++owner)
          for (uint32_t target = 0; target < S; ++target)
            for (gpu::PlaceOrder order : {gpu::PlaceOrder::ByTarget, gpu::PlaceOrder::BySlot}) {
              gpu::ExchangePlaceArgs a;
              a.source = source;
              a.block_log = block_log;
              a.target_first = size_t{target} << block_log;
              a.owner = owner;
              a.order = order;
              a.entry_at = 3;
              a.base = 100 + owner;
              gpu::DeviceBuffer<M31> scratch(m);
              gpu::DeviceBuffer<gpu::GatherPlace> src(m + 3), dst(m + 3);
              src.memset(0xff);
              dst.memset(0xff);
              gpu::shard_exchange_scan(a, scratch.ptr(), nullptr);
              const size_t count = scratch.to_host().back().v;
              gpu::shard_exchange_places(a, count, scratch.cptr(), src.ptr(), dst.ptr(), nullptr);
              const std::vector<gpu::GatherPlace> hs = src.to_host(), hd = dst.to_host();
              size_t slot = 0;
              const std::string what = "S " + std::to_string(S) + " block 2^" + std::to_string(block_log) + " kind " +
                                       std::to_string(source.kind) + " owner " + std::to_string(owner) + " target " +
                                       std::to_string(target);
              std::vector<bool> written(m + 3, false);
              for (size_t k = 0; k < m; ++k) {
                const size_t q = source(a.target_first + k);
                ASSERT_LT(q, size_t{1} << n) << what;
                if ((q >> block_log) != owner) continue;
                if (order == gpu::PlaceOrder::ByTarget) {
                  EXPECT_EQ(hs[k].at, a.base + slot) << what << " k " << k;
                  written[k] = true;
                  EXPECT_EQ(hd[k].at, k) << what;
                  EXPECT_EQ(hd[k].column_stride, 0u) << what;
                } else {
                  const size_t e = a.entry_at + slot;
                  written[e] = true;
                  EXPECT_EQ(hs[e].at, q - (size_t{owner} << block_log)) << what << " k " << k;
                  EXPECT_EQ(hs[e].column_stride, 0u) << what;
                  EXPECT_EQ(hd[e].at, a.base + slot) << what;
                }
                ++slot;
              }
              EXPECT_EQ(count, slot) << what;
              for (size_t i = 0; i < m + 3; ++i) {
                if (!written[i]) {
                  EXPECT_EQ(hs[i].at, ~uint64_t{0}) << what << ": entry " << i << " written";
                  continue;
                }
                EXPECT_EQ((order == gpu::PlaceOrder::ByTarget ? hs[i] : hd[i]).column_stride, count) << what;
              }
            }
      }
    }
  }
}

TEST(ShardedDevice, ProofOfWorkOnTheDevicesFindsTheSmallestNonce) {
  hash::Blake2sChannel channel;
  channel.mix_u64(0x1234abcd);
  for (uint32_t bits : {1u, 9u, 14u}) {
    const uint64_t want = channel.grind(bits);
    EXPECT_EQ(gpu::blake2s_grind_window(channel.digest(), bits, 0, want + 1, nullptr), want) << bits;
    if (want > 0) {
      EXPECT_EQ(gpu::blake2s_grind_window(channel.digest(), bits, 0, want, nullptr), UINT64_MAX) << bits;
    }
    for (int shards : {2, 4}) {
      std::mutex m;
      std::vector<uint64_t> got;
      comm::run_ranks(shards, [&](comm::Communicator& comm) {
        auto backend = gpu::make_sharded_device_backend(comm);
        const uint64_t nonce = backend->grind(channel, bits);
        std::lock_guard<std::mutex> lock(m);
        got.push_back(nonce);
      });
      for (uint64_t g : got) EXPECT_EQ(g, want) << bits << " bits, " << shards << " device shards";
    }
  }
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
