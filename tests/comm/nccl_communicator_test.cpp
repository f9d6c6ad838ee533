// The NCCL communicator on a real GPU (skipped without one): a single-rank group (any machine
// with a GPU), and one rank per visible device over thread ranks; device-buffer collectives
// against the expected bytes. Host collectives go to the bootstrap group.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <vector>

#include "ptvm/comm/nccl_communicator.hpp"
#include "ptvm/gpu/cuda_check.hpp"

namespace {

using ptvm::comm::Bytes;
using ptvm::comm::Communicator;

int visible_devices() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

void check_collectives(Communicator& bootstrap, int device) {
  ASSERT_TRUE(ptvm::comm::nccl_communicator_built());
  std::unique_ptr<Communicator> comm = ptvm::comm::make_nccl_communicator(bootstrap, device);
  EXPECT_EQ(comm->kind(), "nccl");
  EXPECT_TRUE(comm->device_buffers());
  const int n = comm->size(), me = comm->rank();
  const size_t block = 1000; // not a multiple of anything NCCL likes
  std::vector<uint8_t> send(block * n), expect_gather(block * n), expect_a2a(block * n);
  for (int to = 0; to < n; ++to)
    for (size_t i = 0; i < block; ++i) {
      send[to * block + i] = static_cast<uint8_t>(me * 37 + to * 11 + i);
      expect_a2a[to * block + i] = static_cast<uint8_t>(to * 37 + me * 11 + i); // from rank `to`
      expect_gather[to * block + i] = static_cast<uint8_t>(to * 37 + 0 * 11 + i);
    }
  PTVM_CUDA_CHECK(cudaSetDevice(device));
  void *d_send = nullptr, *d_recv = nullptr;
  PTVM_CUDA_CHECK(cudaMalloc(&d_send, send.size()));
  PTVM_CUDA_CHECK(cudaMalloc(&d_recv, send.size()));
  cudaStream_t stream;
  PTVM_CUDA_CHECK(cudaStreamCreate(&stream));
  PTVM_CUDA_CHECK(cudaMemcpy(d_send, send.data(), send.size(), cudaMemcpyHostToDevice));
  std::vector<uint8_t> got(send.size());

  comm->all_to_all_device(d_send, d_recv, block, stream);
  PTVM_CUDA_CHECK(cudaStreamSynchronize(stream));
  PTVM_CUDA_CHECK(cudaMemcpy(got.data(), d_recv, got.size(), cudaMemcpyDeviceToHost));
  EXPECT_TRUE(got == expect_a2a) << "all_to_all_device on rank " << me;

  comm->all_gather_device(d_send, d_recv, block, stream); // each rank's block 0
  PTVM_CUDA_CHECK(cudaStreamSynchronize(stream));
  PTVM_CUDA_CHECK(cudaMemcpy(got.data(), d_recv, got.size(), cudaMemcpyDeviceToHost));
  EXPECT_TRUE(got == expect_gather) << "all_gather_device on rank " << me;

  comm->broadcast_device(d_send, block, 0, stream);
  PTVM_CUDA_CHECK(cudaStreamSynchronize(stream));
  PTVM_CUDA_CHECK(cudaMemcpy(got.data(), d_send, block, cudaMemcpyDeviceToHost));
  EXPECT_TRUE(std::equal(got.begin(), got.begin() + block, expect_gather.begin()))
      << "broadcast_device";

  // Variable blocks: rank a sends (a + b) % 3 * 100 + 1 bytes to rank b, at offsets `block` apart.
  {
    std::vector<size_t> send_at(n), send_bytes(n), recv_at(n), recv_bytes(n);
    for (int r = 0; r < n; ++r) {
      send_at[r] = recv_at[r] = r * block;
      send_bytes[r] = (me + r) % 3 * 100 + 1;
      recv_bytes[r] = (r + me) % 3 * 100 + 1;
    }
    PTVM_CUDA_CHECK(cudaMemcpy(d_send, send.data(), send.size(), cudaMemcpyHostToDevice));
    PTVM_CUDA_CHECK(cudaMemset(d_recv, 0, send.size()));
    comm->all_to_all_v_device(d_send, send_at, send_bytes, d_recv, recv_at, recv_bytes, stream);
    PTVM_CUDA_CHECK(cudaStreamSynchronize(stream));
    PTVM_CUDA_CHECK(cudaMemcpy(got.data(), d_recv, got.size(), cudaMemcpyDeviceToHost));
    for (int r = 0; r < n; ++r)
      EXPECT_TRUE(std::equal(got.begin() + r * block, got.begin() + r * block + recv_bytes[r],
                             expect_a2a.begin() + r * block))
          << "all_to_all_v_device from rank " << r << " on rank " << me;
  }

  const std::vector<Bytes> host = comm->all_gather(Bytes{static_cast<uint8_t>(me)});
  for (int r = 0; r < n; ++r)
    EXPECT_EQ(host[r], Bytes{static_cast<uint8_t>(r)});
  PTVM_CUDA_CHECK(cudaStreamDestroy(stream));
  PTVM_CUDA_CHECK(cudaFree(d_send));
  PTVM_CUDA_CHECK(cudaFree(d_recv));
}

TEST(NcclCommunicator, SingleRank) {
  if (visible_devices() == 0)
    GTEST_SKIP() << "no CUDA device visible";
  ptvm::comm::run_ranks(1, [](Communicator& bootstrap) { check_collectives(bootstrap, 0); });
}

TEST(NcclCommunicator, OneRankPerDevice) {
  const int n = visible_devices();
  if (n < 2)
    GTEST_SKIP() << n << " CUDA devices visible, 2 needed";
  ptvm::comm::run_ranks(
      n, [](Communicator& bootstrap) { check_collectives(bootstrap, bootstrap.rank()); });
}

TEST(NcclCommunicator, BadDeviceIsAnError) {
  if (visible_devices() == 0)
    GTEST_SKIP() << "no CUDA device visible";
  ptvm::comm::run_ranks(1, [](Communicator& bootstrap) {
    EXPECT_THROW(ptvm::comm::make_nccl_communicator(bootstrap, visible_devices()), ptvm::Error);
  });
}

} // namespace
