// The transformer block: built, run, proven and verified at a tiny shape; the statement's soundness.
#include <gtest/gtest.h>

#include "ptvm/zkml/block.hpp"
#include "ptvm/zkml/block_io.hpp"
#include "ptvm/zkml/layers.hpp"

namespace ptvm::zkml {
namespace {

struct Fixture {
  TransformerBlock block;
  Values values;
  sumcheck::CommittedMle model;
};

Fixture make(FfnKind kind = FfnKind::SwiGLU, uint64_t seed = 1) {
  TransformerBlock block = transformer_block(16, 2, 1, 8, 32, 4, kind);
  Values v = random_model(block, seed);
  v[block.input] = random_input(block, seed);
  block.graph.forward(v);
  auto model = commit_weights(block.graph, v);
  return {std::move(block), std::move(v), std::move(model)};
}

TEST(ZkmlBlock, ShapeParsesAndRefusesBadShapes) {
  const BlockShape s = BlockShape::parse("d_model=256,q_heads=4,kv_heads=2,head_dim=64,ffn=1024,seq_len=16");
  EXPECT_EQ(s.d_model, 256u);
  EXPECT_EQ(s.seq_len, 16u);
  EXPECT_EQ(BlockShape::parse(s.to_string()), s);
  EXPECT_THROW(BlockShape::parse("d_model=256,q_heads=4"), Error);
  EXPECT_THROW(BlockShape::parse("d_model=256,q_heads=4,kv_heads=2,head_dim=64,ffn=1024,seq_len=x"), Error);
  EXPECT_THROW(BlockShape::parse("d_model=256,d_model=4,kv_heads=2,head_dim=64,ffn=1024,seq_len=1"), Error);
  EXPECT_THROW(transformer_block(16, 2, 1, 7, 32, 4), Error) << "an odd head_dim (RoPE pairs)";
  EXPECT_THROW(transformer_block(16, 2, 4, 8, 32, 4), Error) << "q_heads not a multiple of kv_heads";
  EXPECT_THROW(transformer_block(16, 2, 1, 8, 32, 1u << 12), Error) << "a verifier's graph stays small";
}

TEST(ZkmlBlock, SwiGluAndGeluBlocksProveAndVerify) {
  for (FfnKind kind : {FfnKind::SwiGLU, FfnKind::GELU}) {
    Fixture f = make(kind);
    const BlockProof proof = prove_block(f.block, f.values, f.model);
    const auto verdict = verify_block(proof, f.model.commitment());
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
    // Outputs are int8 and not all equal (the block computes something).
    const auto& out = f.values[f.block.output];
    EXPECT_NE(*std::min_element(out.begin(), out.end()), *std::max_element(out.begin(), out.end()));
  }
}

TEST(ZkmlBlock, StatementSoundness) {
  Fixture f = make();
  const BlockProof honest = prove_block(f.block, f.values, f.model);
  ASSERT_TRUE(verify_block(honest, f.model.commitment()).accepted);

  // A changed input or output (digests recomputed so that only the proof can tell).
  BlockProof p = honest;
  p.input[3] += 1;
  p.claim.input_digest = tensor_digest(p.input);
  EXPECT_FALSE(verify_block(p, f.model.commitment()).accepted) << "changed input";
  p = honest;
  p.output[5] = p.output[5] == 127 ? 126 : p.output[5] + 1;
  p.claim.output_digest = tensor_digest(p.output);
  EXPECT_FALSE(verify_block(p, f.model.commitment()).accepted) << "changed output";
  p = honest;
  p.output[5] += 1;
  EXPECT_FALSE(verify_block(p, f.model.commitment()).accepted) << "output digest mismatch";

  // Another model: relabelling the claim, or verifying against it, is rejected.
  Fixture other = make(FfnKind::SwiGLU, 2);
  p = honest;
  p.claim.model = other.model.commitment();
  EXPECT_FALSE(verify_block(p, other.model.commitment()).accepted) << "relabelled to another model";
  EXPECT_FALSE(verify_block(honest, other.model.commitment()).accepted) << "verifier holds another model";

  // A changed weight: the prover runs with one weight entry changed but the model commitment.
  Values changed = f.values;
  const TensorId w = *f.block.graph.find("ffn.up");
  changed[w][11] += 1;
  f.block.graph.forward(changed);
  const BlockProof cheat = prove_block(f.block, changed, f.model);
  EXPECT_FALSE(verify_block(cheat, f.model.commitment()).accepted) << "changed weight";

  // A cheating softmax normaliser (the half-sum of one row) in the full block.
  Values bad = f.values;
  bad[*f.block.graph.find("att.1.softmax.half")][2] += 1;
  f.block.graph.recount_multiplicities(bad, false);
  EXPECT_FALSE(verify_block(prove_block(f.block, bad, f.model), f.model.commitment()).accepted) << "normaliser";

  // Unknown statement or quantization names.
  p = honest;
  p.claim.quantization = "int4";
  EXPECT_FALSE(verify_block(p, f.model.commitment()).accepted);
}

}  // namespace
}  // namespace ptvm::zkml

namespace ptvm::zkml {
namespace {

TEST(ZkmlBlock, DecodeStepsMatchThePrefillAndChainByCacheCommitments) {
  const TransformerBlock prefill = transformer_block(16, 2, 1, 8, 32, 4);
  Values v = random_model(prefill, 3);
  v[prefill.input] = random_input(prefill, 3);
  prefill.graph.forward(v);
  const auto model = commit_weights(prefill.graph, v);
  const size_t D = 16;
  std::vector<std::vector<int64_t>> inputs;
  for (size_t t = 0; t < 3; ++t)
    inputs.emplace_back(v[prefill.input].begin() + t * D, v[prefill.input].begin() + (t + 1) * D);
  const DecodeChain chain = prove_decode(prefill, v, model, inputs);
  ASSERT_EQ(chain.steps.size(), 3u);
  for (size_t t = 0; t < 3; ++t) {
    const std::vector<int64_t> row(v[prefill.output].begin() + t * D, v[prefill.output].begin() + (t + 1) * D);
    EXPECT_EQ(chain.steps[t].output, row) << "decode step " << t << " = prefill row " << t;
  }
  const auto ok = verify_decode(chain, model.commitment());
  EXPECT_TRUE(ok.accepted) << ok.reason;

  DecodeChain broken = chain;
  std::swap(broken.steps[1], broken.steps[2]);
  EXPECT_FALSE(verify_decode(broken, model.commitment()).accepted) << "steps out of order";
  broken = chain;
  broken.steps.erase(broken.steps.begin());
  EXPECT_FALSE(verify_decode(broken, model.commitment()).accepted) << "does not start from the empty cache";
  broken = chain;
  broken.steps[2].claim.cache_in = broken.steps[0].claim.cache_out;
  EXPECT_FALSE(verify_decode(broken, model.commitment()).accepted) << "a broken KV-cache link";
  broken = chain;
  broken.steps[1].claim.cache_out = broken.steps[0].claim.cache_out;
  EXPECT_FALSE(verify_decode(broken, model.commitment()).accepted) << "cache_out relabelled";

  // A step proven from a tampered cache: its cache_in commitment is not the previous cache_out.
  const TransformerBlock step1 = transformer_block_decode(prefill.shape, 1);
  Values s1 = transfer_weights(prefill, v, step1);
  s1[step1.input] = inputs[1];
  for (TensorId c : step1.graph.tensors_of_kind(TensorKind::CacheIn)) s1[c].assign(step1.graph.tensors()[c].size(), 0);
  step1.graph.forward(s1);  // the cache as if step 0 had never run
  const auto cache_in = commit_packed(step1.graph, TensorKind::CacheIn, s1);
  BlockProof forged = chain.steps[1];
  forged.output = s1[step1.output];
  forged.claim.output_digest = tensor_digest(forged.output);
  forged.claim.cache_in = cache_in.commitment();
  forged.claim.cache_out = commit_packed(step1.graph, TensorKind::CacheOut, s1).commitment();
  Blake2sChannel ch;
  mix_claim(ch, forged.claim);
  forged.proof = prove_graph(step1.graph, s1, model, ch, &cache_in);
  EXPECT_TRUE(verify_block(forged, model.commitment()).accepted) << "a valid step on its own";
  broken = chain;
  broken.steps[1] = forged;
  EXPECT_FALSE(verify_decode(broken, model.commitment()).accepted) << "the link to step 0 is broken";
}

}  // namespace
}  // namespace ptvm::zkml

namespace ptvm::zkml {
namespace {

TEST(ZkmlBlock, FloatReferenceIsCloseToTheQuantizedBlock) {
  const TransformerBlock block = transformer_block(16, 2, 1, 8, 32, 4);
  Values v = random_model(block, 4);
  v[block.input] = random_input(block, 4);
  block.graph.forward(v);
  const QuantizationError e = quantization_error(block, v);
  ASSERT_EQ(e.reference.size(), v[block.output].size());
  EXPECT_GT(e.max_abs, 0.0) << "rounding leaves some error";
  EXPECT_LT(e.relative_rms, 0.25) << "rms " << e.rms << " max " << e.max_abs;
  // The float reference of a single requantize is the division it rounds.
  Graph g;
  const TensorId x = g.add_tensor("x", 1, 1, TensorKind::Input);
  g.set_output(requantize(g, x, 2, "q"));
  FloatValues f(g.tensors().size());
  f[x] = {5, -6, 7, 100};
  g.forward_float(f);
  EXPECT_EQ(f[g.output()], (std::vector<double>{1.25, -1.5, 1.75, 25}));
}

}  // namespace
}  // namespace ptvm::zkml

namespace ptvm::zkml {
namespace {

TEST(ZkmlBlock, AWeightOutsideInt8IsRejected) {
  TransformerBlock block = transformer_block(16, 2, 1, 8, 32, 4);
  Values v = random_model(block, 6);
  v[block.input] = random_input(block, 6);
  Values bad = v;
  bad[*block.graph.find("wq.0")][0] = 300;
  EXPECT_THROW(block.graph.forward(bad), Error) << "the forward pass refuses a weight outside int8";
  // A prover that commits it anyway, every value computed from it (products stay exact; only the
  // range lookup can tell).
  block.graph.forward(bad, false);
  const auto model = commit_weights(block.graph, bad);
  const auto verdict = verify_block(prove_block(block, bad, model), model.commitment());
  EXPECT_FALSE(verdict.accepted);
  EXPECT_NE(verdict.reason.find("lookups"), std::string::npos) << verdict.reason;
}

}  // namespace
}  // namespace ptvm::zkml

namespace ptvm::zkml {
namespace {

TEST(ZkmlBlock, SeqLenOneProves) {
  // Softmax rows of one entry (a row sum of one column) and P V with an inner dimension of 1.
  const TransformerBlock block = transformer_block(16, 2, 1, 8, 32, 1);
  Values v = random_model(block, 8);
  v[block.input] = random_input(block, 8);
  block.graph.forward(v);
  const auto model = commit_weights(block.graph, v);
  const BlockProof proof = prove_block(block, v, model);
  const auto verdict = verify_block(proof, model.commitment());
  EXPECT_TRUE(verdict.accepted) << verdict.reason;
  BlockProof bad = proof;
  bad.output[0] = bad.output[0] == 127 ? 126 : bad.output[0] + 1;
  bad.claim.output_digest = tensor_digest(bad.output);
  EXPECT_FALSE(verify_block(bad, model.commitment()).accepted);
}

// The weights' int64 Values released after forward (release_weight_values, as prove-block does):
// the prover reads the committed table, and the proof is the same byte for byte.
TEST(ZkmlBlock, ReleasedWeightValuesGiveTheSameProof) {
  const TransformerBlock block = transformer_block(24, 3, 1, 6, 40, 3);  // zero-padded dimensions
  Values v = random_model(block, 9);
  v[block.input] = random_input(block, 9);
  block.graph.forward(v);
  const auto model = commit_weights(block.graph, v);
  const BlockProof kept = prove_block(block, v, model);
  const QuantizationError before = quantization_error(block, v);
  release_weight_values(block.graph, v);
  for (TensorId w : block.weights) EXPECT_TRUE(v[w].empty());
  const QuantizationError after = quantization_error(block, v, model);  // weights read from the table
  EXPECT_EQ(before.reference, after.reference);
  EXPECT_EQ(before.rms, after.rms);
  const BlockProof released = prove_block(block, v, model);
  const BlockProof proofs[2] = {kept, released};
  EXPECT_EQ(block_proofs_to_bytes(std::span<const BlockProof>(proofs, 1)),
            block_proofs_to_bytes(std::span<const BlockProof>(proofs + 1, 1)));
  EXPECT_TRUE(verify_block(released, model.commitment()).accepted);
  // Released weights with another model's table are refused, not read out of bounds.
  const TransformerBlock other = transformer_block(16, 2, 1, 8, 32, 1);
  Values ov = random_model(other, 3);
  const auto small_model = commit_weights(other.graph, ov);
  EXPECT_THROW(prove_block(block, v, small_model), Error);
}

}  // namespace
}  // namespace ptvm::zkml
