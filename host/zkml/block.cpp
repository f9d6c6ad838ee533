// The transformer block (block.hpp).
#include "ptvm/zkml/block.hpp"

#include <bit>
#include <sstream>

#include "ptvm/common/error.hpp"
#include "ptvm/zkml/layers.hpp"

namespace ptvm::zkml {
namespace {

Error usage(const std::string& what) { return Error(ErrorCategory::Usage, "transformer block: " + what); }

uint32_t log2_exact(uint32_t v, const char* field) {
  if (v == 0 || (v & (v - 1)) != 0)
    throw usage(std::string(field) + " = " + std::to_string(v) + " is not a power of two");
  return uint32_t(std::countr_zero(v));
}

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr const char* kShapeKeys[6] = {"d_model", "q_heads", "kv_heads", "head_dim", "ffn", "seq_len"};

}  // namespace

std::string BlockShape::to_string() const {
  std::string s = "d_model=" + std::to_string(d_model) + ",q_heads=" + std::to_string(q_heads) +
                  ",kv_heads=" + std::to_string(kv_heads) + ",head_dim=" + std::to_string(head_dim) +
                  ",ffn=" + std::to_string(ffn) + ",seq_len=" + std::to_string(seq_len);
  if (ffn_kind == FfnKind::GELU) s += ",ffn_kind=gelu";
  return s;
}

BlockShape BlockShape::parse(const std::string& text) {
  BlockShape s;
  bool seen[6] = {};
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) throw usage("shape item '" + item + "' is not key=value");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "ffn_kind") {
      if (value == "swiglu") s.ffn_kind = FfnKind::SwiGLU;
      else if (value == "gelu") s.ffn_kind = FfnKind::GELU;
      else throw usage("shape: ffn_kind '" + value + "' (swiglu or gelu)");
      continue;
    }
    uint32_t* fields[6] = {&s.d_model, &s.q_heads, &s.kv_heads, &s.head_dim, &s.ffn, &s.seq_len};
    int k = 0;
    while (k < 6 && key != kShapeKeys[k]) ++k;
    if (k == 6) throw usage("shape: unknown key '" + key + "'");
    if (seen[k]) throw usage("shape: " + key + " given twice");
    if (value.empty() || value.size() > 9 || value.find_first_not_of("0123456789") != std::string::npos)
      throw usage("shape: " + key + " = '" + value + "' is not a positive integer");
    *fields[k] = uint32_t(std::stoul(value));
    if (*fields[k] == 0) throw usage("shape: " + key + " is zero");
    seen[k] = true;
  }
  for (int k = 0; k < 6; ++k)
    if (!seen[k]) throw usage(std::string("shape: ") + kShapeKeys[k] + " is missing");
  return s;
}

TransformerBlock transformer_block(const BlockShape& shape) {
  TransformerBlock b;
  b.shape = shape;
  const uint32_t ld = log2_exact(shape.d_model, "d_model"), lh = log2_exact(shape.q_heads, "q_heads");
  log2_exact(shape.kv_heads, "kv_heads");
  const uint32_t le = log2_exact(shape.head_dim, "head_dim"), lf = log2_exact(shape.ffn, "ffn");
  const uint32_t ls = log2_exact(shape.seq_len, "seq_len");
  if (shape.q_heads % shape.kv_heads != 0) throw usage("q_heads is not a multiple of kv_heads");
  if (ls > 15) throw usage("seq_len above 2^15");
  if (le == 0 || ld == 0 || lf == 0) throw usage("d_model, head_dim and ffn must be at least 2");
  Graph& g = b.graph;
  auto weight = [&](const std::string& name, uint32_t lr, uint32_t lc) {
    const TensorId t = g.add_tensor(name, lr, lc, TensorKind::Weight);
    b.weights.push_back(t);
    return t;
  };
  b.input = g.add_tensor("x", ls, ld, TensorKind::Input);
  const TensorId g1 = weight("norm1.gamma", 0, ld);
  const TensorId n1 = rmsnorm(g, b.input, g1, "norm1");
  std::vector<TensorId> keys, vals;
  for (uint32_t k = 0; k < shape.kv_heads; ++k) {
    const std::string s = std::to_string(k);
    const TensorId wk = weight("wk." + s, ld, le), wv = weight("wv." + s, ld, le);
    keys.push_back(rope(g, linear_layer(g, n1, wk, "k." + s + ".proj"), 0, "k." + s));
    vals.push_back(linear_layer(g, n1, wv, "v." + s));
  }
  const uint32_t group = shape.q_heads / shape.kv_heads;
  std::vector<Operand> heads;
  for (uint32_t h = 0; h < shape.q_heads; ++h) {
    const std::string s = std::to_string(h);
    const TensorId wq = weight("wq." + s, ld, le), wo = weight("wo." + s, le, ld);
    const TensorId q = rope(g, linear_layer(g, n1, wq, "q." + s + ".proj"), 0, "q." + s);
    const TensorId scores = requantize(g, g.matmul("att." + s + ".qk", q, keys[h / group], true), matmul_shift(le),
                                       "att." + s + ".scores");
    const TensorId p = softmax(g, causal_mask(g, scores, 0, "att." + s + ".masked"), "att." + s + ".softmax");
    const TensorId o = requantize(g, g.matmul("att." + s + ".pv", p, vals[h / group]), 7, "att." + s + ".out");
    heads.push_back({g.matmul("att." + s + ".oproj", o, wo)});
  }
  const TensorId attn_acc = g.linear("attn.acc", ls, ld, heads);
  const TensorId attn = requantize(g, attn_acc, matmul_shift(le + lh), "attn");
  const TensorId h1 = add(g, b.input, attn, "resid1");
  const TensorId g2 = weight("norm2.gamma", 0, ld);
  const TensorId n2 = rmsnorm(g, h1, g2, "norm2");
  TensorId f;
  if (shape.ffn_kind == FfnKind::SwiGLU) {
    const TensorId wg = weight("ffn.gate", ld, lf), wu = weight("ffn.up", ld, lf), wd = weight("ffn.down", lf, ld);
    const TensorId gate = activation(g, linear_layer(g, n2, wg, "ffn.gate.proj"), Activation::SiLU, "ffn.silu");
    const TensorId up = linear_layer(g, n2, wu, "ffn.up.proj");
    f = linear_layer(g, multiply(g, gate, up, 4, "ffn.glu"), wd, "ffn.down.proj");
  } else {
    const TensorId wu = weight("ffn.up", ld, lf), wd = weight("ffn.down", lf, ld);
    f = linear_layer(g, activation(g, linear_layer(g, n2, wu, "ffn.up.proj"), Activation::GELU, "ffn.gelu"), wd,
                     "ffn.down.proj");
  }
  b.output = add(g, h1, f, "resid2");
  g.set_output(b.output);
  return b;
}

TransformerBlock transformer_block(uint32_t d_model, uint32_t q_heads, uint32_t kv_heads, uint32_t head_dim,
                                   uint32_t ffn, uint32_t seq_len, FfnKind ffn_kind) {
  return transformer_block(BlockShape{d_model, q_heads, kv_heads, head_dim, ffn, seq_len, ffn_kind});
}

Values random_model(const TransformerBlock& block, uint64_t seed) {
  Values v(block.graph.tensors().size());
  uint64_t s = seed ^ 0x6d6f64656cull;
  for (TensorId t : block.weights) {
    const TensorInfo& info = block.graph.tensors()[t];
    const bool gamma = info.log_rows == 0;
    v[t].resize(info.size());
    for (auto& x : v[t]) x = gamma ? 48 + int64_t(splitmix(s) % 33) : int64_t(splitmix(s) % 129) - 64;
  }
  return v;
}

std::vector<int64_t> random_input(const TransformerBlock& block, uint64_t seed) {
  std::vector<int64_t> x(block.graph.tensors()[block.input].size());
  uint64_t s = seed ^ 0x696e707574ull;
  for (auto& e : x) e = int64_t(splitmix(s) % 129) - 64;
  return x;
}

hash::Blake2sHash tensor_digest(const std::vector<int64_t>& values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i) {
    const uint32_t w = uint32_t(int32_t(values[i]));
    for (int k = 0; k < 4; ++k) bytes[4 * i + k] = uint8_t(w >> (8 * k));
  }
  return hash::blake2s(bytes);
}

void mix_claim(Blake2sChannel& channel, const BlockClaim& claim) {
  auto mix_string = [&](const std::string& s) {
    channel.mix_u32s(std::vector<uint32_t>{uint32_t(s.size())});
    channel.mix_bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  };
  mix_string(claim.statement);
  mix_string(claim.shape.to_string());
  mix_string(claim.quantization);
  sumcheck::mix_commitment(channel, claim.model);
  channel.mix_root(claim.input_digest);
  channel.mix_root(claim.output_digest);
}

BlockProof prove_block(const TransformerBlock& block, const Values& values, const sumcheck::CommittedMle& model) {
  BlockProof out;
  out.claim.shape = block.shape;
  out.claim.model = model.commitment();
  out.input = values.at(block.input);
  out.output = values.at(block.output);
  out.claim.input_digest = tensor_digest(out.input);
  out.claim.output_digest = tensor_digest(out.output);
  Blake2sChannel channel;
  mix_claim(channel, out.claim);
  out.proof = prove_graph(block.graph, values, model, channel);
  return out;
}

GraphVerdict verify_block(const BlockProof& proof, const sumcheck::MleCommitment& model) {
  const BlockClaim& c = proof.claim;
  if (c.statement != "ptvm-zkml-block/1") return {false, "claim: unknown statement '" + c.statement + "'"};
  if (c.quantization != "int8-pow2/1") return {false, "claim: unknown quantization '" + c.quantization + "'"};
  if (!(c.model.root == model.root) || c.model.n_vars != model.n_vars || c.model.log_rows != model.log_rows ||
      c.model.log_blowup != model.log_blowup || c.model.n_queries != model.n_queries)
    return {false, "claim: the model commitment is not the verifier's model"};
  if (tensor_digest(proof.input) != c.input_digest) return {false, "claim: input digest mismatch"};
  if (tensor_digest(proof.output) != c.output_digest) return {false, "claim: output digest mismatch"};
  for (int64_t x : proof.input)
    if (x < -128 || x > 127) return {false, "input: an entry is not int8"};
  try {
    const TransformerBlock block = transformer_block(c.shape);
    Values inputs(block.graph.tensors().size());
    inputs[block.input] = proof.input;
    Blake2sChannel channel;
    mix_claim(channel, c);
    return verify_graph(block.graph, inputs, proof.output, model, proof.proof, channel);
  } catch (const std::exception& e) {
    return {false, std::string("claim: ") + e.what()};
  }
}

}  // namespace ptvm::zkml
