// Device BLAKE2b Merkle trees against hash::GenericMerkleTree<Blake2bMerkleHasher, V> (the CPU
// reference, itself checked against hashlib vectors), node by node, for 4-byte (M31) and 16-byte
// (QM31) values, across the 128-byte block boundaries and the column staging chunk.
#include <gtest/gtest.h>

#include "gpu_test_util.hpp"
#include "ptvm/gpu/merkle_blake2b.hpp"
#include "ptvm/hash/merkle_generic.hpp"

namespace ptvm {
namespace {

using gpu::DeviceBuffer;
using gpu::DeviceValueColumnRef;

template <class V>
std::vector<V> random_values(size_t n, uint64_t seed);
template <>
std::vector<M31> random_values<M31>(size_t n, uint64_t seed) { return test::random_m31(n, seed); }
template <>
std::vector<QM31> random_values<QM31>(size_t n, uint64_t seed) { return test::random_qm31(n, seed); }

template <class V>
void check_tree(const std::vector<uint32_t>& log_sizes, uint64_t seed) {
  std::vector<std::vector<V>> host;
  std::vector<DeviceBuffer<V>> device;
  std::vector<DeviceValueColumnRef> refs;
  for (size_t c = 0; c < log_sizes.size(); ++c) {
    host.push_back(random_values<V>(size_t{1} << log_sizes[c], seed * 1000 + c));
    device.push_back(DeviceBuffer<V>::from_host(host.back()));
    refs.push_back({reinterpret_cast<const uint32_t*>(device.back().data()), host.back().size()});
  }
  std::vector<std::span<const V>> spans(host.begin(), host.end());
  using Tree = hash::GenericMerkleTree<hash::Blake2bMerkleHasher, V>;
  const Tree cpu = Tree::commit(spans, 1);
  const auto gpu_tree = gpu::DeviceBlake2bMerkleTree::commit(refs, sizeof(V) / 4, nullptr);
  ASSERT_EQ(gpu_tree.max_log_size(), cpu.max_log_size());
  EXPECT_TRUE(gpu_tree.root() == cpu.root()) << "seed=" << seed;
  for (uint32_t k = 0; k <= cpu.max_log_size(); ++k) {
    const auto words = gpu_tree.layer_words(k).to_host();
    const size_t n = size_t{1} << k;
    for (size_t j = 0; j < n; ++j) {
      hash::Blake2b256Hash h;
      for (int i = 0; i < 8; ++i)
        for (int b = 0; b < 4; ++b) h.bytes[4 * i + b] = static_cast<uint8_t>(words[i * n + j] >> (8 * b));
      ASSERT_TRUE(h == cpu.node(k, j)) << "layer " << k << " node " << j << " seed=" << seed;
    }
  }
}

TEST(Blake2bMerkle, M31ColumnCountsAcrossBlocks) {
  PTVM_REQUIRE_DEVICE();
  // 128-byte blocks: 32 M31 values per block; with children, 16 values fill the first block.
  for (size_t n_columns : {1, 15, 16, 17, 31, 32, 33, 48, 64, 65, 97})
    check_tree<M31>(std::vector<uint32_t>(n_columns, 4), n_columns);
  check_tree<M31>({6, 3, 6, 0, 2, 2, 5}, 3);
}

TEST(Blake2bMerkle, QM31ColumnsAndMixedSizes) {
  PTVM_REQUIRE_DEVICE();
  for (size_t n_columns : {1, 3, 4, 7, 8, 9, 65}) check_tree<QM31>(std::vector<uint32_t>(n_columns, 3), n_columns);
  check_tree<QM31>({7, 1, 7, 4, 0}, 11);
  for (uint32_t log : {0u, 1u, 7u, 8u, 9u}) check_tree<QM31>({log, log}, 20 + log);
}

TEST(Blake2bMerkle, EmptyTree) {
  PTVM_REQUIRE_DEVICE();
  check_tree<M31>({}, 1);
}

TEST(Blake2bMerkle, RejectsBadShapes) {
  PTVM_REQUIRE_DEVICE();
  DeviceBuffer<uint32_t> col(6);
  std::vector<DeviceValueColumnRef> refs = {{col.data(), 6}};
  EXPECT_THROW(gpu::DeviceBlake2bMerkleTree::commit(refs, 1, nullptr), Error);
  refs = {{col.data(), 4}};
  EXPECT_THROW(gpu::DeviceBlake2bMerkleTree::commit(refs, 2, nullptr), Error);
}

}  // namespace
}  // namespace ptvm
