// The transformer block proven with the GPU sumcheck backend (the kernels of kernels/sumcheck/,
// under host-sim in CI): the same proof bytes as with the CPU backend, with the model's table
// resident on the device or not, and the proof verifies.
#include <gtest/gtest.h>

#include "gpu_test_util.hpp"
#include "ptvm/gpu/sumcheck_backend.hpp"
#include "ptvm/zkml/block.hpp"
#include "ptvm/zkml/block_io.hpp"

namespace ptvm {
namespace {

TEST(ZkmlBlockBackend, GpuSumcheckBackendGivesTheCpuBlockProof) {
  PTVM_REQUIRE_DEVICE();
  using namespace zkml;
  // A power-of-two shape and one zero-padded in every dimension (d_model 6 -> 8, head_dim 6 -> 8,
  // FFN 10 -> 16, seq_len 3 -> 4, 3 query heads).
  for (const BlockShape& shape : {BlockShape{8, 2, 1, 4, 8, 2}, BlockShape{6, 3, 1, 6, 10, 3}}) {
    const TransformerBlock block = transformer_block(shape);
    Values v = random_model(block, 2);
    v[block.input] = random_input(block, 2);
    block.graph.forward(v);
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

}  // namespace
}  // namespace ptvm
