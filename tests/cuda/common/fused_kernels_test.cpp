// The fused kernels against the unfused pairs they replace, word for word: the LDE's last pass
// with the Merkle leaves (circle_evaluate_leaves_many = circle_transform_many + the largest layer of
// blake2s_merkle_layer) and the FRI folds with the folded layer's leaves (fri_fold_*_many with
// leaves = the fold + blake2s_merkle_layer over its 4 coordinate columns). Edge sizes: log 1 and 2
// (the circle layer from arguments), a single pass, two and three passes (small tilings), 1, 15,
// 16, 17 and 33 columns per tree (partial and exact BLAKE2s blocks), trees of different widths in
// one launch, fewer coefficients than values (zero padding).
#include <gtest/gtest.h>

#include <cstring>

#include "gpu_test_util.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/gpu/circle_fft.hpp"
#include "ptvm/gpu/merkle.hpp"
#include "ptvm/gpu/stark_kernels.hpp"
#include "ptvm/hash/merkle.hpp"

namespace ptvm {
namespace {

using gpu::DeviceBuffer;

// The leaf layer (8 words per node, word-major) blake2s_merkle_layer hashes from `columns`.
std::vector<uint32_t> reference_leaves(const std::vector<const DeviceBuffer<M31>*>& columns, size_t n) {
  std::vector<gpu::DeviceColumnRef> refs;
  for (const auto* c : columns) refs.push_back({c->data(), c->size()});
  auto table = DeviceBuffer<gpu::DeviceColumnRef>::from_host(refs);
  DeviceBuffer<uint32_t> out(8 * n);
  gpu::blake2s_merkle_layer({}, table.cptr(), static_cast<uint32_t>(refs.size()), out.ptr(), n, nullptr);
  return out.to_host();
}

void check_lde_leaves(uint32_t log, const std::vector<uint32_t>& widths, const gpu::CircleFftTiling& tiling, uint64_t seed) {
  const size_t n = size_t{1} << log;
  const size_t n_coeffs = n > 1 ? n / 2 : 1;  // a blowup of 2 (zero padding)
  const auto tree = circle::precompute_twiddles_for_log(std::max<uint32_t>(log, 2));
  const auto tw = gpu::DeviceTwiddles::upload(tree);
  std::vector<DeviceBuffer<M31>> coeffs, fused, plain;
  std::vector<DeviceBuffer<uint32_t>> leaves;
  std::vector<gpu::FftColumnIo> fused_io, plain_io;
  std::vector<gpu::LdeLeafTree> trees;
  for (size_t t = 0; t < widths.size(); ++t) {
    leaves.emplace_back(8 * n);
    trees.push_back({static_cast<uint32_t>(coeffs.size()), widths[t], leaves.back().data()});
    for (uint32_t c = 0; c < widths[t]; ++c) {
      coeffs.push_back(DeviceBuffer<M31>::from_host(test::random_m31(n_coeffs, seed++)));
      fused.emplace_back(n);
      plain.emplace_back(n);
    }
  }
  for (size_t c = 0; c < coeffs.size(); ++c) {
    fused_io.push_back({coeffs[c].data(), n_coeffs, fused[c].data()});
    plain_io.push_back({coeffs[c].data(), n_coeffs, plain[c].data()});
  }
  gpu::circle_evaluate_leaves_many(fused_io, trees, log, tw, nullptr, tiling);
  auto plain_table = DeviceBuffer<gpu::FftColumnIo>::from_host(plain_io);
  gpu::circle_transform_many(plain_table.cptr(), static_cast<uint32_t>(plain_io.size()), log, false, tw, nullptr, tiling);
  size_t first = 0;
  for (size_t t = 0; t < widths.size(); ++t) {
    std::vector<const DeviceBuffer<M31>*> cols;
    for (uint32_t c = 0; c < widths[t]; ++c) {
      EXPECT_EQ(fused[first + c].to_host(), plain[first + c].to_host()) << "log " << log << " tree " << t << " column " << c;
      cols.push_back(&plain[first + c]);
    }
    EXPECT_EQ(leaves[t].to_host(), reference_leaves(cols, n)) << "log " << log << " tree " << t << " of width " << widths[t]
                                                              << " inner " << tiling.inner_log;
    first += widths[t];
  }
}

TEST(FusedKernels, LdeLeavesEqualTheTransformAndTheLeafLayer) {
  PTVM_REQUIRE_DEVICE();
  for (uint32_t log : {1u, 2u, 3u, 6u, 11u})
    check_lde_leaves(log, {1, 17}, {}, 10 * log);
  check_lde_leaves(5, {15, 16, 33, 1}, {}, 500);
  // Two and three passes before the fused one: small tiles.
  check_lde_leaves(9, {3, 16}, {4, 3, 8}, 900);
  check_lde_leaves(10, {2}, {3, 2, 4}, 1000);
  // The production tiling past the fused tile (2^11 rows): one outer pass, then the fused pass.
  check_lde_leaves(12, {2}, {}, 1200);
}

TEST(FusedKernels, LdeLeavesRejectABadTreeTable) {
  PTVM_REQUIRE_DEVICE();
  const auto tw = gpu::DeviceTwiddles::upload(circle::precompute_twiddles_for_log(4));
  DeviceBuffer<M31> col(16);
  DeviceBuffer<uint32_t> leaves(8 * 16);
  std::vector<gpu::FftColumnIo> io{{col.data(), 16, col.data()}};
  std::vector<gpu::LdeLeafTree> empty{{0, 0, leaves.data()}}, past{{0, 2, leaves.data()}};
  EXPECT_THROW(gpu::circle_evaluate_leaves_many(io, empty, 4, tw, nullptr), Error);
  EXPECT_THROW(gpu::circle_evaluate_leaves_many(io, past, 4, tw, nullptr), Error);
}

// The 4 coordinate columns of a random QM31 column of 2^log values.
std::vector<DeviceBuffer<M31>> random_secure(uint32_t log, uint64_t seed) {
  std::vector<DeviceBuffer<M31>> c;
  for (int k = 0; k < 4; ++k) c.push_back(DeviceBuffer<M31>::from_host(test::random_m31(size_t{1} << log, seed + k)));
  return c;
}
gpu::SecureColumnConstView cview(const std::vector<DeviceBuffer<M31>>& c) {
  return {{c[0].cptr(), c[1].cptr(), c[2].cptr(), c[3].cptr()}};
}
gpu::SecureColumnView view(std::vector<DeviceBuffer<M31>>& c) { return {{c[0].ptr(), c[1].ptr(), c[2].ptr(), c[3].ptr()}}; }

TEST(FusedKernels, FriFoldLeavesEqualTheFoldAndTheLeafLayer) {
  PTVM_REQUIRE_DEVICE();
  for (bool circle_fold : {true, false})
    for (uint32_t log : {1u, 2u, 5u, 9u}) {
      const size_t half = size_t{1} << (log - 1);
      const QM31 alpha = test::random_qm31(1, log)[0];
      auto in = random_secure(log, 40 * log);
      auto acc = random_secure(log - 1, 40 * log + 7);
      std::vector<DeviceBuffer<M31>> fused, plain;
      for (int k = 0; k < 4; ++k) {
        fused.emplace_back(half);
        plain.emplace_back(half);
      }
      DeviceBuffer<uint32_t> leaves(8 * half);
      gpu::FriFoldJob job{};
      job.in = cview(in);
      job.acc = cview(acc);
      job.accumulate = circle_fold ? 1 : 0;
      job.alpha = alpha;
      job.domain = circle::LineDomain{circle::CanonicCoset{log + 1}.half_coset()};
      std::vector<gpu::FriFoldJob> jobs{job, job};
      jobs[0].out = view(fused);
      jobs[0].leaf_words = leaves.data();
      jobs[1].out = view(plain);
      auto fused_table = DeviceBuffer<gpu::FriFoldJob>::from_host(std::vector<gpu::FriFoldJob>{jobs[0]});
      auto plain_table = DeviceBuffer<gpu::FriFoldJob>::from_host(std::vector<gpu::FriFoldJob>{jobs[1]});
      if (circle_fold) {
        gpu::fri_fold_circle_many(fused_table.cptr(), 1, log, nullptr, true);
        gpu::fri_fold_circle_many(plain_table.cptr(), 1, log, nullptr, false);
      } else {
        gpu::fri_fold_line_many(fused_table.cptr(), 1, log, nullptr, true);
        gpu::fri_fold_line_many(plain_table.cptr(), 1, log, nullptr, false);
      }
      for (int k = 0; k < 4; ++k) EXPECT_EQ(fused[k].to_host(), plain[k].to_host()) << "log " << log << " coordinate " << k;
      EXPECT_EQ(leaves.to_host(), reference_leaves({&plain[0], &plain[1], &plain[2], &plain[3]}, half))
          << (circle_fold ? "circle" : "line") << " fold of log " << log;
    }
}

TEST(FusedKernels, TreesFromGivenLeavesEqualTreesHashedWhole) {
  PTVM_REQUIRE_DEVICE();
  // Mixed sizes: the given leaf layer covers the largest columns; the smaller ones enter above.
  std::vector<DeviceBuffer<M31>> cols;
  for (uint32_t log : {6u, 6u, 4u, 6u, 2u}) cols.push_back(DeviceBuffer<M31>::from_host(test::random_m31(size_t{1} << log, log * 3 + cols.size())));
  std::vector<gpu::DeviceColumnRef> refs;
  for (const auto& c : cols) refs.push_back({c.data(), c.size()});
  const gpu::DeviceMerkleTree whole = gpu::DeviceMerkleTree::commit(refs, nullptr);
  std::vector<DeviceBuffer<uint32_t>> leaves;
  leaves.push_back(DeviceBuffer<uint32_t>::from_host(reference_leaves({&cols[0], &cols[1], &cols[3]}, 64)));
  std::vector<std::vector<gpu::DeviceColumnRef>> trees{refs};
  auto given = gpu::DeviceMerkleTree::commit_many(trees, std::move(leaves), nullptr);
  ASSERT_EQ(given.size(), 1u);
  EXPECT_EQ(given[0].root(), whole.root());
  for (uint32_t l = 0; l <= 6; ++l) EXPECT_EQ(given[0].layer_words(l).to_host(), whole.layer_words(l).to_host()) << "layer " << l;
  // A leaf layer of the wrong size is refused.
  std::vector<DeviceBuffer<uint32_t>> wrong;
  wrong.emplace_back(8 * 32);
  EXPECT_THROW(gpu::DeviceMerkleTree::commit_many(trees, std::move(wrong), nullptr), Error);
}

}  // namespace
}  // namespace ptvm
