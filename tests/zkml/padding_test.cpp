// Shapes that are not powers of two: zero padding inside the MLEs, the padding's zero claims, and
// the block at odd shapes proven, verified and tampered with.
#include <gtest/gtest.h>

#include <algorithm>

#include "ptvm/sumcheck/mle.hpp"
#include "ptvm/zkml/block.hpp"

namespace ptvm::zkml {
namespace {

std::vector<QM31> random_point(size_t n, uint32_t seed) {
  std::vector<QM31> p;
  for (size_t i = 0; i < n; ++i)
    p.push_back(QM31::from_m31(M31::from_u32(seed * 7919 + uint32_t(i) * 104729 + 1), M31::from_u32(seed + 3 * uint32_t(i) + 2),
                               M31::from_u32(11 * uint32_t(i) + 5), M31::from_u32(seed ^ 0x55u)));
  return p;
}

std::vector<M31> as_field(const std::vector<int64_t>& v) {
  std::vector<M31> f;
  for (int64_t x : v) f.push_back(to_field(x));
  return f;
}

TEST(ZkmlPadding, PadCubesCoverExactlyThePadding) {
  TensorInfo t{"t", 3, 2, TensorKind::Weight, 5, 3};  // 5 x 3 real entries in 8 x 4
  ASSERT_TRUE(t.padded());
  EXPECT_EQ(t.real_size(), 15u);
  const auto cubes = pad_cubes(t);
  // rows [5, 8) = {5} + [6, 8); columns [3, 4) = {3}.
  ASSERT_EQ(cubes.size(), 3u);
  EXPECT_EQ(cubes[0].fixed_bits, 3u);
  EXPECT_EQ(cubes[0].prefix, 5u);
  EXPECT_EQ(cubes[1].fixed_bits, 2u);
  EXPECT_EQ(cubes[1].prefix, 3u);
  EXPECT_TRUE(cubes[2].columns);
  EXPECT_EQ(cubes[2].prefix, 3u);
  std::vector<int64_t> real(15);
  for (size_t i = 0; i < real.size(); ++i) real[i] = int64_t(i) - 7;
  const std::vector<int64_t> padded = pad_values(t, real);
  EXPECT_EQ(unpad_values(t, padded), real);
  EXPECT_EQ(padded[1 * 4 + 3], 0);
  EXPECT_EQ(padded[1 * 4 + 2], -7 + 5);
  // A zero padding vanishes at every pad cube's points; one non-zero padding entry (anywhere in
  // the padding) makes some cube's polynomial non-zero.
  for (size_t k = 0; k < cubes.size(); ++k) {
    const auto pt = pad_cube_point(t, cubes[k], random_point(t.n_vars() - cubes[k].fixed_bits, uint32_t(k)));
    EXPECT_TRUE(sumcheck::evaluate_mle<M31>(as_field(padded), pt).is_zero()) << "cube " << k;
  }
  for (size_t pos : {size_t(1 * 4 + 3), size_t(5 * 4 + 0), size_t(7 * 4 + 3), size_t(6 * 4 + 1)}) {
    std::vector<int64_t> bad = padded;
    bad[pos] = 9;
    bool caught = false;
    for (size_t k = 0; k < cubes.size(); ++k) {
      const auto pt = pad_cube_point(t, cubes[k], random_point(t.n_vars() - cubes[k].fixed_bits, uint32_t(k + 10)));
      caught |= !sumcheck::evaluate_mle<M31>(as_field(bad), pt).is_zero();
    }
    EXPECT_TRUE(caught) << "padding entry " << pos;
  }
  EXPECT_THROW(pad_values(t, std::vector<int64_t>(16)), Error) << "a wrong count names the tensor";
}

struct Odd {
  TransformerBlock block;
  Values values;
  sumcheck::CommittedMle model;
};

// d_model 12, 3 query heads over 1 KV head, head_dim 6, FFN 20, seq_len 3: every padded kind.
Odd make_odd(uint64_t seed = 1, FfnKind kind = FfnKind::SwiGLU) {
  TransformerBlock block = transformer_block(12, 3, 1, 6, 20, 3, kind);
  Values v = random_model(block, seed);
  v[block.input] = random_input(block, seed);
  block.graph.forward(v);
  auto model = commit_weights(block.graph, v);
  return {std::move(block), std::move(v), std::move(model)};
}

TEST(ZkmlPadding, OddShapesProveAndVerify) {
  for (FfnKind kind : {FfnKind::SwiGLU, FfnKind::GELU}) {
    Odd f = make_odd(1, kind);
    const TensorInfo& wq = f.block.graph.tensors()[*f.block.graph.find("wq.0")];
    EXPECT_EQ(wq.log_rows, 4u);
    EXPECT_EQ(wq.log_cols, 3u);
    EXPECT_EQ(wq.real_size(), 12u * 6u);
    const BlockProof proof = prove_block(f.block, f.values, f.model);
    EXPECT_EQ(proof.input.size(), 3u * 12u);
    ASSERT_EQ(proof.output.size(), 3u * 12u);
    const auto verdict = verify_block(proof, f.model.commitment());
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
    EXPECT_NE(*std::min_element(proof.output.begin(), proof.output.end()),
              *std::max_element(proof.output.begin(), proof.output.end()));
    // The padded output (rows and columns) is zero: the verifier's zero padding is the prover's.
    const auto& out = f.values[f.block.output];
    for (size_t i = 0; i < 4; ++i)
      for (size_t j = 0; j < 16; ++j)
        if (i >= 3 || j >= 12) {
          ASSERT_EQ(out[i * 16 + j], 0) << i << "," << j;
        }
    EXPECT_LT(quantization_error(f.block, f.values).relative_rms, 0.3);
  }
}

TEST(ZkmlPadding, TheIssuesOddShapeProves) {
  // d_model 80, 3 query heads, FFN 272 (head_dim 20, seq_len 5): padded to 128, 32, 512, 8.
  const TransformerBlock block = transformer_block(80, 3, 1, 20, 272, 5);
  Values v = random_model(block, 2);
  v[block.input] = random_input(block, 2);
  block.graph.forward(v);
  const auto model = commit_weights(block.graph, v);
  const BlockProof proof = prove_block(block, v, model);
  const auto verdict = verify_block(proof, model.commitment());
  EXPECT_TRUE(verdict.accepted) << verdict.reason;
  BlockProof bad = proof;
  bad.output[7] = bad.output[7] == 127 ? 126 : bad.output[7] + 1;
  bad.claim.output_digest = tensor_digest(bad.output);
  EXPECT_FALSE(verify_block(bad, model.commitment()).accepted) << "changed output";
}

TEST(ZkmlPadding, ANonZeroPaddingEntryIsRejected) {
  const Odd f = make_odd();
  ASSERT_TRUE(verify_block(prove_block(f.block, f.values, f.model), f.model.commitment()).accepted);
  // A model committed with one non-zero entry in a padding region, the block run on it: the
  // padded row of wo.1 is multiplied by the zero padding of att.1.out (the output is unchanged),
  // the padded column of wk.0 adds to every score; the padded column of ffn.down would show in
  // the output. Each is rejected by the padding claims.
  struct Case {
    const char* tensor;
    size_t row, col;
  };
  for (const Case c : {Case{"wo.1", 7, 3}, Case{"wk.0", 2, 6}, Case{"ffn.down", 4, 13}, Case{"ffn.gate", 12, 0},
                       Case{"norm2.gamma", 0, 15}}) {
    Values bad = f.values;
    const TensorId w = *f.block.graph.find(c.tensor);
    const TensorInfo& info = f.block.graph.tensors()[w];
    bad[w][(c.row << info.log_cols) + c.col] = 5;
    f.block.graph.forward(bad, false);
    const auto model = commit_weights(f.block.graph, bad);
    const auto verdict = verify_block(prove_block(f.block, bad, model), model.commitment());
    EXPECT_FALSE(verdict.accepted) << c.tensor;
    if (std::string(c.tensor) == "wo.1") {
      EXPECT_EQ(unpad_values(output_extent(f.block), bad[f.block.output]),
                unpad_values(output_extent(f.block), f.values[f.block.output]))
          << "only the padding claims can tell";
    }
  }
}

TEST(ZkmlPadding, InputPaddingAndCountsAreTheVerifiers) {
  const Odd f = make_odd();
  const BlockProof proof = prove_block(f.block, f.values, f.model);
  // verify_graph refuses an input whose padding is not zero.
  Values inputs(f.block.graph.tensors().size());
  inputs[f.block.input] = f.values[f.block.input];
  inputs[f.block.input][13] = 4;  // row 0, column 13 >= d_model 12
  Blake2sChannel ch;
  mix_claim(ch, proof.claim);
  const auto verdict = verify_graph(f.block.graph, inputs, pad_values(output_extent(f.block), proof.output),
                                    f.model.commitment(), proof.proof, ch);
  EXPECT_FALSE(verdict.accepted);
  EXPECT_NE(verdict.reason.find("padding"), std::string::npos) << verdict.reason;
  // A proof file whose input or output has the padded count (or another) is refused.
  BlockProof bad = proof;
  bad.input = f.values[f.block.input];
  bad.claim.input_digest = tensor_digest(bad.input);
  EXPECT_FALSE(verify_block(bad, f.model.commitment()).accepted);
  bad = proof;
  bad.output.push_back(0);
  bad.claim.output_digest = tensor_digest(bad.output);
  EXPECT_FALSE(verify_block(bad, f.model.commitment()).accepted);
}

TEST(ZkmlPadding, DecodeAtAnOddShapeChains) {
  const Odd f = make_odd(3);
  std::vector<std::vector<int64_t>> inputs;
  const auto real_x = unpad_values(f.block.graph.tensors()[f.block.input], f.values[f.block.input]);
  for (size_t t = 0; t < 3; ++t) inputs.emplace_back(real_x.begin() + t * 12, real_x.begin() + (t + 1) * 12);
  const DecodeChain chain = prove_decode(f.block, f.values, f.model, inputs);
  const auto real_y = unpad_values(output_extent(f.block), f.values[f.block.output]);
  for (size_t t = 0; t < 3; ++t)
    EXPECT_EQ(chain.steps[t].output, std::vector<int64_t>(real_y.begin() + t * 12, real_y.begin() + (t + 1) * 12))
        << "decode step " << t << " = prefill row " << t;
  const auto ok = verify_decode(chain, f.model.commitment());
  EXPECT_TRUE(ok.accepted) << ok.reason;
}

TEST(ZkmlPadding, ACacheWithANonZeroPaddingEntryIsRejected) {
  // A decode step from a KV cache whose padded row (row 3 of a 3-row cache padded to 4) holds a
  // value: the attention masks that row, so only the cache's padding claims can tell.
  const Odd f = make_odd(4);
  const TransformerBlock step = transformer_block_decode(f.block.shape, 1);
  Values v = transfer_weights(f.block, f.values, step);
  const auto real_x = unpad_values(f.block.graph.tensors()[f.block.input], f.values[f.block.input]);
  v[step.input] = pad_values(step.graph.tensors()[step.input], std::vector<int64_t>(real_x.begin() + 12, real_x.begin() + 24));
  for (TensorId c : step.graph.tensors_of_kind(TensorKind::CacheIn)) v[c].assign(step.graph.tensors()[c].size(), 0);
  auto prove_with = [&](Values x) {
    step.graph.forward(x);
    const auto cache_in = commit_packed(step.graph, TensorKind::CacheIn, x);
    BlockProof p;
    p.claim.shape = f.block.shape;
    p.claim.model = f.model.commitment();
    p.input = unpad_values(step.graph.tensors()[step.input], x[step.input]);
    p.output = unpad_values(output_extent(step), x[step.output]);
    p.claim.input_digest = tensor_digest(p.input);
    p.claim.output_digest = tensor_digest(p.output);
    p.claim.decode = true;
    p.claim.position = 1;
    p.claim.cache_in = cache_in.commitment();
    p.claim.cache_out = commit_packed(step.graph, TensorKind::CacheOut, x).commitment();
    Blake2sChannel ch;
    mix_claim(ch, p.claim);
    p.proof = prove_graph(step.graph, x, f.model, ch, &cache_in);
    return std::make_pair(p, x[step.output]);
  };
  const auto [honest, honest_out] = prove_with(v);
  const auto ok = verify_block(honest, f.model.commitment());
  ASSERT_TRUE(ok.accepted) << ok.reason;
  Values bad = v;
  const TensorId k0 = *step.graph.find("cache.in.k.0");
  bad[k0][(3 << step.graph.tensors()[k0].log_cols) + 2] = 7;
  const auto [cheat, cheat_out] = prove_with(bad);
  EXPECT_EQ(cheat_out, honest_out) << "the masked row does not change the output";
  EXPECT_FALSE(verify_block(cheat, f.model.commitment()).accepted) << "the cache's padding claims reject it";
}

TEST(ZkmlPadding, Qwen3BlockShapeBuilds) {
  const TransformerBlock block = transformer_block(5120, 40, 8, 128, 17408, 1);
  size_t real = 0, padded = 0;
  for (TensorId w : block.weights) {
    real += block.graph.tensors()[w].real_size();
    padded += block.graph.tensors()[w].size();
  }
  EXPECT_EQ(real, size_t{5120} * 128 * (2 * 40 + 2 * 8) + size_t{3} * 5120 * 17408 + 2 * 5120);
  EXPECT_GT(padded, real);
  const TensorInfo& wq = block.graph.tensors()[*block.graph.find("wq.39")];
  EXPECT_EQ(pad_cubes(wq).size(), 2u) << "rows [5120, 8192) = [5120, 6144) + [6144, 8192)";
  // The memory model (estimated_prover_memory): the int64 Values (8 B per padded weight) beside
  // the packed M31 table (2^30 entries) at the commitment, or the table beside the float
  // reference's doubles, is the peak (the encoding is streamed; the reference and the proof run
  // with the weights' Values released, LogUp-GKR's layers bounded); under 16 GiB (the budget on
  // this 24 GiB machine).
  const ProverMemoryEstimate e = estimated_prover_memory(block);
  EXPECT_GT(e.values, uint64_t{8} * padded);
  EXPECT_GT(std::min(e.commit, e.reference), e.lookups);
  EXPECT_GT(e.lookups, e.opening);
  EXPECT_GT(e.peak(), uint64_t{10} << 30);
  EXPECT_LT(e.peak(), uint64_t{16} << 30);
  const ProverMemoryEstimate small = estimated_prover_memory(transformer_block(256, 4, 2, 64, 1024, 16));
  EXPECT_LT(small.peak(), uint64_t{1} << 30);
  EXPECT_LT(small.peak(), e.peak() / 40);
}

}  // namespace
}  // namespace ptvm::zkml
