// Device BLAKE2s Merkle trees against ptvm::hash::MerkleTree (the CPU reference): every node of
// every layer, for column counts around the 16-value block and the 64-column staging chunk, mixed
// sizes, and the empty tree.
#include <gtest/gtest.h>

#include "gpu_test_util.hpp"
#include "ptvm/gpu/merkle.hpp"
#include "ptvm/hash/merkle.hpp"

namespace ptvm {
namespace {

using gpu::DeviceBuffer;
using gpu::DeviceColumnRef;

// Uploads columns of the given log sizes, commits on CPU and GPU, compares every node.
void check_tree(const std::vector<uint32_t>& log_sizes, uint64_t seed) {
  std::vector<std::vector<M31>> host;
  std::vector<DeviceBuffer<M31>> device;
  std::vector<DeviceColumnRef> refs;
  for (size_t c = 0; c < log_sizes.size(); ++c) {
    host.push_back(test::random_m31(size_t{1} << log_sizes[c], seed * 1000 + c));
    device.push_back(DeviceBuffer<M31>::from_host(host.back()));
    refs.push_back(DeviceColumnRef{device.back().data(), host.back().size()});
  }
  std::vector<std::span<const M31>> spans(host.begin(), host.end());
  const hash::MerkleTree cpu = hash::MerkleTree::commit(spans, 1);
  const gpu::DeviceMerkleTree gpu_tree = gpu::DeviceMerkleTree::commit(refs, nullptr);
  ASSERT_EQ(gpu_tree.max_log_size(), cpu.max_log_size());
  EXPECT_EQ(gpu_tree.root().hex(), cpu.root().hex()) << "seed=" << seed;
  for (uint32_t k = 0; k <= cpu.max_log_size(); ++k) {
    const auto words = gpu_tree.layer_words(k).to_host();
    const size_t n = size_t{1} << k;
    for (size_t j = 0; j < n; ++j) {
      uint32_t w[8];
      for (int i = 0; i < 8; ++i) w[i] = words[i * n + j];
      ASSERT_EQ(hash::Blake2sHash::from_words(w), cpu.node(k, j))
          << "layer " << k << " node " << j << " seed=" << seed;
    }
  }
}

TEST(Blake2sMerkle, ColumnCountsAroundBlockAndChunkBoundaries) {
  PTVM_REQUIRE_DEVICE();
  for (size_t n_columns : {1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 80, 129})
    check_tree(std::vector<uint32_t>(n_columns, 5), n_columns);
}

TEST(Blake2sMerkle, SizesAroundTheBlockOfThreads) {
  PTVM_REQUIRE_DEVICE();
  for (uint32_t log : {0u, 1u, 2u, 5u, 7u, 8u, 9u, 10u}) check_tree({log, log, log}, 100 + log);
}

TEST(Blake2sMerkle, MixedSizesInAnyOrder) {
  PTVM_REQUIRE_DEVICE();
  check_tree({3, 6, 3, 1, 6, 0, 4}, 7);
  check_tree({9, 2, 2, 2, 9, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0}, 8);
  std::vector<uint32_t> many(70, 4);
  many.push_back(7);
  many.push_back(2);
  check_tree(many, 9);
}

TEST(Blake2sMerkle, EmptyTreeIsTheEmptyLeafHash) {
  PTVM_REQUIRE_DEVICE();
  check_tree({}, 1);
}

TEST(Blake2sMerkle, LargeTreeOptIn) {
  PTVM_REQUIRE_DEVICE();
  if (!test::large_tests()) GTEST_SKIP() << "set PTVM_LARGE_TESTS=1";
  check_tree({16, 16, 16, 16, 16, 16, 16, 16, 15}, 3);
}

TEST(Blake2sMerkle, RejectsBadColumnLengths) {
  PTVM_REQUIRE_DEVICE();
  DeviceBuffer<M31> col(12);
  std::vector<DeviceColumnRef> refs = {{col.data(), 12}};
  EXPECT_THROW(gpu::DeviceMerkleTree::commit(refs, nullptr), Error);
  refs = {{col.data(), 0}};
  EXPECT_THROW(gpu::DeviceMerkleTree::commit(refs, nullptr), Error);
}

}  // namespace
}  // namespace ptvm
