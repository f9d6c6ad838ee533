// The transformer block proven with the GPU sumcheck backend (the kernels of kernels/sumcheck/,
// under host-sim in CI): the same proof bytes as with the CPU backend, with the model's table
// resident on the device or not, and the proof verifies.
#include <gtest/gtest.h>

#include "gpu_test_util.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/int8_gemm.hpp"
#include "ptvm/gpu/sumcheck_backend.hpp"
#include "ptvm/zkml/block.hpp"
#include "ptvm/zkml/block_io.hpp"

namespace ptvm {
namespace {

// A block of `shape` with a random model and input (seed), and its Values after a forward pass
// on `gemm` (the direct products when null).
struct BlockCase {
  zkml::TransformerBlock block;
  zkml::Values inputs, values;
  BlockCase(const zkml::BlockShape& shape, uint64_t seed, sumcheck::Int8GemmEngine* gemm = nullptr)
      : block(zkml::transformer_block(shape)) {
    inputs = zkml::random_model(block, seed);
    inputs[block.input] = zkml::random_input(block, seed);
    values = inputs;
    block.graph.forward(values, true, gemm);
  }
};

TEST(ZkmlBlockBackend, GpuSumcheckBackendGivesTheCpuBlockProof) {
  PTVM_REQUIRE_DEVICE();
  using namespace zkml;
  // A power-of-two shape and one zero-padded in every dimension (d_model 6 -> 8, head_dim 6 -> 8,
  // FFN 10 -> 16, seq_len 3 -> 4, 3 query heads).
  for (const BlockShape& shape : {BlockShape{8, 2, 1, 4, 8, 2}, BlockShape{6, 3, 1, 6, 10, 3}}) {
    BlockCase c(shape, 2);
    const TransformerBlock& block = c.block;
    const Values& v = c.values;
    const auto model = commit_weights(block.graph, v);
    auto gpu_backend = gpu::make_gpu_sumcheck_backend();
    const BlockProof on_cpu = prove_block(block, v, model);
    const BlockProof on_gpu = prove_block(block, v, model, gpu_backend.get());
    EXPECT_EQ(block_proofs_to_bytes(std::vector<BlockProof>{on_gpu}), block_proofs_to_bytes(std::vector<BlockProof>{on_cpu}));
    // The weights uploaded once for the model (the restrictions and the opening read them there).
    const auto resident = gpu_backend->upload_matrix(model.table());
    const BlockProof with_resident = prove_block(block, v, model, gpu_backend.get(), resident.get());
    EXPECT_EQ(block_proofs_to_bytes(std::vector<BlockProof>{with_resident}),
              block_proofs_to_bytes(std::vector<BlockProof>{on_cpu}));
    // A table of another size is refused.
    const auto short_table = gpu_backend->upload_matrix(model.table().first(model.table().size() / 2));
    EXPECT_THROW(prove_block(block, v, model, gpu_backend.get(), short_table.get()), Error);
    const auto verdict = verify_block(on_gpu, model.commitment());
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
  }
}

// The whole GPU path of tvm prove-block --backend cuda: the forward pass's products on the GPU
// int8 GEMM engine, the model's and the proof's commitments on the CUDA STARK backend (circle FFT
// and Merkle kernels; the encoding kept in device memory for the openings), the sumchecks on the
// GPU sumcheck backend: the CPU's model root and proof bytes, for a proof and a decode chain.
TEST(ZkmlBlockBackend, CommitmentsAndForwardOnTheDeviceGiveTheCpuProof) {
  PTVM_REQUIRE_DEVICE();
  using namespace zkml;
  for (const BlockShape& shape : {BlockShape{16, 2, 1, 8, 32, 4}, BlockShape{6, 3, 1, 6, 10, 3}}) {
    auto gemm = gpu::make_gpu_int8_gemm();
    const BlockCase on_host(shape, 3), on_device(shape, 3, gemm.get());
    const TransformerBlock& block = on_host.block;
    const Values& cpu_values = on_host.values;
    const Values& gpu_values = on_device.values;
    const Values& base = on_host.inputs;
    ASSERT_EQ(gpu_values, cpu_values);
    const auto cpu_model = commit_weights(block.graph, cpu_values);
    auto stark = gpu::make_cuda_backend();
    const auto gpu_model = commit_weights(block.graph, gpu_values, 0, stark.get());
    ASSERT_EQ(gpu_model.commitment().root, cpu_model.commitment().root);
    auto sumcheck = gpu::make_gpu_sumcheck_backend();
    const auto resident = sumcheck->upload_matrix(gpu_model.table());
    const BlockProof on_cpu = prove_block(block, cpu_values, cpu_model);
    const BlockProof on_gpu = prove_block(block, gpu_values, gpu_model, sumcheck.get(), resident.get(), stark.get());
    EXPECT_EQ(block_proofs_to_bytes(std::vector<BlockProof>{on_gpu}), block_proofs_to_bytes(std::vector<BlockProof>{on_cpu}));
    const auto verdict = verify_block(on_gpu, cpu_model.commitment());
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
    // Two decode steps: the KV-cache commitments on the device too.
    std::vector<std::vector<int64_t>> inputs;
    const std::vector<int64_t> x = unpad_values(block.graph.tensors()[block.input], base[block.input]);
    for (size_t t = 0; t < 2; ++t) inputs.emplace_back(x.begin() + t * shape.d_model, x.begin() + (t + 1) * shape.d_model);
    const DecodeChain cpu_chain = prove_decode(block, cpu_values, cpu_model, inputs);
    const DecodeChain gpu_chain =
        prove_decode(block, gpu_values, gpu_model, inputs, sumcheck.get(), resident.get(), gemm.get(), stark.get());
    EXPECT_EQ(block_proofs_to_bytes(gpu_chain.steps), block_proofs_to_bytes(cpu_chain.steps));
  }
}

}  // namespace
}  // namespace ptvm
