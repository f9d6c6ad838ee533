// The four-step circle FFT across ranks against the plain CPU transform, over rank counts and
// sizes at and above the smallest each rank count allows.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>

#include "ptvm/circle/fft.hpp"
#include "ptvm/comm/communicator.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/shard/sharded_backend.hpp"

namespace {

using ptvm::M31;

std::vector<M31> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<M31> v(n);
  for (auto& x : v)
    x = M31::from_u32(rng() % M31::P);
  return v;
}

// Runs the sharded transforms on S ranks for columns of the given logs; compares every rank's
// part with the plain transform's values at that rank's positions.
void check(int S, const std::vector<uint32_t>& logs, uint32_t extension, uint32_t seed) {
  const uint32_t s = ptvm::shard::shard_log(S, "test");
  uint32_t max_log = 2;
  for (uint32_t n : logs)
    max_log = std::max(max_log, n + extension);
  const auto tree = ptvm::circle::precompute_twiddles_for_log(max_log);
  std::vector<std::vector<M31>> values, coeffs, lde;
  for (size_t c = 0; c < logs.size(); ++c) {
    values.push_back(random_values(size_t{1} << logs[c], seed + uint32_t(c)));
    coeffs.emplace_back(values.back().size());
    ptvm::circle::circle_interpolate_bitrev(values.back(), coeffs.back(), tree);
    lde.emplace_back(values.back().size() << extension);
    ptvm::circle::circle_evaluate_bitrev(coeffs.back(), lde.back(), tree);
  }
  // Mismatches are counted, not asserted inside a rank: a rank returning early would leave its
  // peers waiting in the next collective.
  std::atomic<size_t> mismatches{0};
  std::string first;
  std::mutex first_mutex;
  auto expect_equal = [&](M31 got, M31 want, const std::string& where) {
    if (got == want)
      return;
    if (mismatches++ == 0) {
      std::lock_guard<std::mutex> lock(first_mutex);
      first = where;
    }
  };
  ptvm::comm::run_ranks(S, [&](ptvm::comm::Communicator& comm) {
    const int r = comm.rank();
    std::vector<std::span<const M31>> block;
    for (size_t c = 0; c < logs.size(); ++c) {
      const size_t m = values[c].size() >> s;
      block.emplace_back(values[c].data() + r * m, m);
    }
    auto cyclic = ptvm::shard::interpolate_block_to_cyclic(comm, block, logs, tree);
    std::vector<std::span<const M31>> cyclic_spans;
    for (size_t c = 0; c < logs.size(); ++c) {
      if (cyclic[c].size() != coeffs[c].size() >> s)
        throw std::runtime_error("cyclic part of the wrong size");
      for (size_t j = 0; j < cyclic[c].size(); ++j)
        expect_equal(cyclic[c][j], coeffs[c][j * S + r],
                     "coefficient j=" + std::to_string(j) + " log " + std::to_string(logs[c]) +
                         " rank " + std::to_string(r));
      cyclic_spans.emplace_back(cyclic[c]);
    }
    auto out = ptvm::shard::evaluate_cyclic_to_block(comm, cyclic_spans, logs, extension, tree);
    for (size_t c = 0; c < logs.size(); ++c) {
      const size_t M = lde[c].size() >> s;
      if (out[c].size() != M)
        throw std::runtime_error("block of the wrong size");
      for (size_t i = 0; i < M; ++i)
        expect_equal(out[c][i], lde[c][r * M + i],
                     "value i=" + std::to_string(i) + " log " + std::to_string(logs[c]) + "+" +
                         std::to_string(extension) + " rank " + std::to_string(r));
    }
  });
  EXPECT_EQ(mismatches.load(), 0u) << "S=" << S << " seed " << seed << ", first: " << first;
}

TEST(FourStepFft, MatchesPlainTransformAcrossRankCountsAndSizes) {
  for (int S : {1, 2, 4, 8}) {
    const uint32_t lo =
        std::max<uint32_t>(ptvm::shard::min_sharded_log_size(ptvm::shard::shard_log(S, "t")), 3);
    for (uint32_t n = lo; n <= lo + 4; ++n)
      for (uint32_t ext : {0u, 1u, 2u})
        check(S, {n}, ext, 1000 * S + 10 * n + ext);
  }
  // Above the CPU FFT's cache block (2^12) and its radix-4 pairs.
  check(2, {14}, 1, 7);
  check(4, {13}, 2, 8);
}

TEST(FourStepFft, ColumnsOfDifferentSizesInOneCall) { check(4, {5, 9, 6, 11}, 1, 42); }

TEST(FourStepFft, RefusesColumnsTooSmallForTheRankCount) {
  const auto tree = ptvm::circle::precompute_twiddles_for_log(8);
  ptvm::comm::run_ranks(4, [&](ptvm::comm::Communicator& comm) {
    std::vector<M31> part(4); // 2^4 values over 4 ranks: below min_sharded_log_size(2) = 5
    std::vector<std::span<const M31>> cols = {part};
    try {
      ptvm::shard::interpolate_block_to_cyclic(comm, cols, {4}, tree);
      FAIL() << "accepted a column of 2^4 values on 4 ranks";
    } catch (const ptvm::Error& e) {
      EXPECT_EQ(e.category(), ptvm::ErrorCategory::Usage);
      EXPECT_NE(std::string(e.what()).find("cannot be split across 4 ranks"), std::string::npos)
          << e.what();
    }
  });
}

TEST(FourStepFft, ShardCountMustBeAPowerOfTwo) {
  for (int bad : {0, 3, 6, 128, -2})
    EXPECT_THROW(ptvm::shard::shard_log(bad, "--shards"), ptvm::Error) << bad;
  EXPECT_EQ(ptvm::shard::shard_log(8, "--shards"), 3u);
  EXPECT_EQ(ptvm::shard::min_sharded_log_size(1), 4u);
  EXPECT_EQ(ptvm::shard::min_sharded_log_size(3), 6u);
  EXPECT_EQ(ptvm::shard::min_sharded_log_size(4), 8u);
}

} // namespace
