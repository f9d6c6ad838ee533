// The transformer block (block.hpp).
#include "ptvm/zkml/block.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>
#include <sstream>

#include "ptvm/common/error.hpp"
#include "ptvm/sumcheck/gkr.hpp"
#include "ptvm/sumcheck/logup_gkr.hpp"
#include "ptvm/sumcheck/mle_commitment.hpp"
#include "ptvm/zkml/layers.hpp"

namespace ptvm::zkml {
namespace {

Error usage(const std::string& what) { return Error(ErrorCategory::Usage, "transformer block: " + what); }

// ceil(log2 v) for v >= 1: the hypercube a dimension is padded to.
uint32_t log2_ceil(uint32_t v) { return v <= 1 ? 0 : uint32_t(std::bit_width(v - 1)); }

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

namespace {

// The prefill block (no position) or one decode step at `position` over a KV cache of seq_len rows.
TransformerBlock build_block(const BlockShape& shape, std::optional<uint32_t> position) {
  TransformerBlock b;
  b.shape = shape;
  if (shape.d_model == 0 || shape.q_heads == 0 || shape.kv_heads == 0 || shape.head_dim == 0 || shape.ffn == 0 ||
      shape.seq_len == 0)
    throw usage("every dimension must be positive");
  // Dimensions that are not powers of two are zero-padded to the next one (block.hpp).
  const uint32_t ld = log2_ceil(shape.d_model), lh = log2_ceil(shape.q_heads);
  const uint32_t le = log2_ceil(shape.head_dim), lf = log2_ceil(shape.ffn);
  const uint32_t ls = log2_ceil(shape.seq_len);
  if (shape.q_heads % shape.kv_heads != 0) throw usage("q_heads is not a multiple of kv_heads");
  // Bounds that keep a verifier's graph (built from a claim it reads) small: the masks and index
  // tables are seq_len^2, the rotation tables seq_len x head_dim.
  if (shape.seq_len > (1u << 11)) throw usage("seq_len above 2^11");
  if (shape.d_model > (1u << 16) || shape.ffn > (1u << 18) || shape.head_dim > (1u << 10) || shape.q_heads > 256)
    throw usage("d_model above 2^16, ffn above 2^18, head_dim above 2^10 or q_heads above 256");
  if (shape.d_model < 2 || shape.head_dim < 2 || shape.ffn < 2) throw usage("d_model, head_dim and ffn must be at least 2");
  if (shape.head_dim % 2 != 0) throw usage("head_dim = " + std::to_string(shape.head_dim) + " is odd (RoPE rotates pairs)");
  if (position && *position >= shape.seq_len) throw usage("decode position beyond the cache's seq_len");
  const uint32_t lx = position ? 0 : ls;  // rows of the block's activations
  const uint32_t p0 = position ? *position : 0;
  Graph& g = b.graph;
  // Every weight is int8 (a lookup into int8:[-128,128)), so the field products are the integer ones.
  std::vector<int64_t> int8s(256);
  for (int i = 0; i < 256; ++i) int8s[i] = i - 128;
  const uint32_t int8_table = g.add_table("int8:[-128,128)", {int8s});
  auto weight = [&](const std::string& name, uint32_t lr, uint32_t lc, uint32_t rows, uint32_t cols) {
    const TensorId t = g.add_tensor(name, lr, lc, TensorKind::Weight);
    if (rows != (1u << lr) || cols != (1u << lc)) g.set_extent(t, rows, cols);
    g.lookup(int8_table, lr, lc, {{t}});
    b.weights.push_back(t);
    return t;
  };
  const uint32_t D = shape.d_model, E = shape.head_dim, F = shape.ffn, S = shape.seq_len;
  const uint32_t x_rows = position ? 1 : S;
  b.input = g.add_tensor("x", lx, ld, TensorKind::Input);
  if (x_rows != (1u << lx) || D != (1u << ld)) g.set_extent(b.input, x_rows, D);
  const TensorId g1 = weight("norm1.gamma", 0, ld, 1, D);
  const TensorId n1 = rmsnorm(g, b.input, g1, "norm1", D);
  std::vector<TensorId> keys, vals;
  for (uint32_t head = 0; head < shape.kv_heads; ++head) {
    const std::string s = std::to_string(head);
    const TensorId wk = weight("wk." + s, ld, le, D, E), wv = weight("wv." + s, ld, le, D, E);
    const TensorId k = rope(g, linear_layer(g, n1, wk, "k." + s + ".proj"), p0, "k." + s, E);
    const TensorId v = linear_layer(g, n1, wv, "v." + s);
    if (!position) {
      keys.push_back(k);
      vals.push_back(v);
      continue;
    }
    // The cache: row `position` of the cache in is zero, and the cache out is the cache in with the
    // new row placed there (a one-hot public tensor times the new row).
    const TensorId onehot = g.find("onehot") ? *g.find("onehot") : [&] {
      std::vector<int64_t> oh(size_t{1} << (ls + le), 0);
      for (size_t j = 0; j < (size_t{1} << le); ++j) oh[(size_t(p0) << le) + j] = 1;
      return g.add_public("onehot", ls, le, std::move(oh));
    }();
    for (int kv = 0; kv < 2; ++kv) {
      const std::string n = std::string(kv == 0 ? "k." : "v.") + s;
      const TensorId fresh = kv == 0 ? k : v;
      const TensorId in = g.add_tensor("cache.in." + n, ls, le, TensorKind::CacheIn);
      const TensorId out = g.add_tensor("cache.out." + n, ls, le, TensorKind::CacheOut);
      if (S != (1u << ls) || E != (1u << le)) {
        g.set_extent(in, S, E);
        g.set_extent(out, S, E);
      }
      const TensorId placed = g.mul("cache.placed." + n, {onehot}, {fresh, Broadcast::Cols});
      g.add_advice_step([in, out, placed](Values& x) {
        x[out].resize(x[in].size());
        for (size_t i = 0; i < x[in].size(); ++i) x[out][i] = x[in][i] + x[placed][i];
      }, [in, out, placed](FloatValues& x) {
        x[out].resize(x[in].size());
        for (size_t i = 0; i < x[in].size(); ++i) x[out][i] = x[in][i] + x[placed][i];
      });
      g.assert_zero(g.mul("cache.free." + n, {onehot}, {in}));
      g.assert_zero(g.linear("cache.update." + n, ls, le, {{out}, {in, Broadcast::None, -1}, {placed, Broadcast::None, -1}}));
      (kv == 0 ? keys : vals).push_back(out);
    }
  }
  const uint32_t group = shape.q_heads / shape.kv_heads;
  std::vector<Operand> heads;
  for (uint32_t h = 0; h < shape.q_heads; ++h) {
    const std::string s = std::to_string(h);
    const TensorId wq = weight("wq." + s, ld, le, D, E), wo = weight("wo." + s, le, ld, E, D);
    const TensorId q = rope(g, linear_layer(g, n1, wq, "q." + s + ".proj"), p0, "q." + s, E);
    const TensorId scores = requantize(g, g.matmul("att." + s + ".qk", q, keys[h / group], true), matmul_shift(le),
                                       "att." + s + ".scores");
    const TensorId p = softmax(g, causal_mask(g, scores, p0, "att." + s + ".masked"), "att." + s + ".softmax");
    const TensorId o = requantize(g, g.matmul("att." + s + ".pv", p, vals[h / group]), 7, "att." + s + ".out");
    heads.push_back({g.matmul("att." + s + ".oproj", o, wo)});
  }
  const TensorId attn_acc = g.linear("attn.acc", lx, ld, heads);
  const TensorId attn = requantize(g, attn_acc, matmul_shift(le + lh), "attn");
  const TensorId h1 = add(g, b.input, attn, "resid1");
  const TensorId g2 = weight("norm2.gamma", 0, ld, 1, D);
  const TensorId n2 = rmsnorm(g, h1, g2, "norm2", D);
  TensorId f;
  if (shape.ffn_kind == FfnKind::SwiGLU) {
    const TensorId wg = weight("ffn.gate", ld, lf, D, F), wu = weight("ffn.up", ld, lf, D, F);
    const TensorId wd = weight("ffn.down", lf, ld, F, D);
    const TensorId gate = activation(g, linear_layer(g, n2, wg, "ffn.gate.proj"), Activation::SiLU, "ffn.silu");
    const TensorId up = linear_layer(g, n2, wu, "ffn.up.proj");
    f = linear_layer(g, multiply(g, gate, up, 4, "ffn.glu"), wd, "ffn.down.proj");
  } else {
    const TensorId wu = weight("ffn.up", ld, lf, D, F), wd = weight("ffn.down", lf, ld, F, D);
    f = linear_layer(g, activation(g, linear_layer(g, n2, wu, "ffn.up.proj"), Activation::GELU, "ffn.gelu"), wd,
                     "ffn.down.proj");
  }
  b.output = add(g, h1, f, "resid2");
  if (x_rows != (1u << lx)) {
    // The padded rows (zero inputs, but they attend to the real rows) are masked out of the output,
    // which the verifier pads with zeros.
    std::vector<int64_t> real_rows(size_t{1} << lx, 0);
    for (uint32_t i = 0; i < x_rows; ++i) real_rows[i] = 1;
    const TensorId mask = g.add_public("rows.real:S=" + std::to_string(x_rows), lx, 0, std::move(real_rows));
    b.output = g.mul("resid2.masked", {b.output}, {mask, Broadcast::Rows});
  }
  g.set_output(b.output);
  return b;
}

}  // namespace

TransformerBlock transformer_block(const BlockShape& shape) { return build_block(shape, std::nullopt); }

TensorInfo output_extent(const TransformerBlock& block) {
  TensorInfo out = block.graph.tensors()[block.output];
  out.rows = out.log_rows == 0 ? 1 : block.shape.seq_len;
  out.cols = block.shape.d_model;
  return out;
}

TransformerBlock transformer_block_decode(const BlockShape& shape, uint32_t position) {
  return build_block(shape, position);
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
    std::vector<int64_t> real(info.real_size());
    for (auto& x : real) x = gamma ? 48 + int64_t(splitmix(s) % 33) : int64_t(splitmix(s) % 129) - 64;
    v[t] = pad_values(info, real);
  }
  return v;
}

std::vector<int64_t> random_input(const TransformerBlock& block, uint64_t seed) {
  const TensorInfo& info = block.graph.tensors()[block.input];
  std::vector<int64_t> x(info.real_size());
  uint64_t s = seed ^ 0x696e707574ull;
  for (auto& e : x) e = int64_t(splitmix(s) % 129) - 64;
  return pad_values(info, x);
}

namespace {

QuantizationError quantization_error_of(const TransformerBlock& block, const Values& values,
                                        const sumcheck::CommittedMle* model) {
  FloatValues f(block.graph.tensors().size());
  const PackedLayout layout = packed_layout(block.graph, TensorKind::Weight);
  for (size_t t = 0; t < f.size(); ++t) {
    const TensorKind k = block.graph.tensors()[t].kind;
    if (k == TensorKind::Weight && values.at(t).empty() && model) {
      const size_t size = block.graph.tensors()[t].size();
      const auto table = model->table();
      if (layout.offsets[t] + size > table.size())
        throw Error(ErrorCategory::Usage, "quantization_error: released weights and a table of another model");
      f[t].resize(size);
      for (size_t i = 0; i < size; ++i) {
        const uint32_t x = table[layout.offsets[t] + i].v;
        f[t][i] = x > M31::P / 2 ? -double(M31::P - x) : double(x);
      }
    } else if (k == TensorKind::Input || k == TensorKind::Weight || k == TensorKind::CacheIn) {
      f[t].assign(values.at(t).begin(), values.at(t).end());
    }
  }
  block.graph.forward_float(f);
  const TensorInfo out = output_extent(block);
  const std::vector<int64_t> q = unpad_values(out, values.at(block.output));
  std::vector<double> r(q.size());
  for (size_t i = 0; i < out.real_rows(); ++i)
    for (size_t j = 0; j < out.real_cols(); ++j) r[i * out.real_cols() + j] = f[block.output][(i << out.log_cols) + j];
  QuantizationError e;
  double se = 0, sr = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    const double d = double(q[i]) - r[i];
    e.max_abs = std::max(e.max_abs, std::fabs(d));
    se += d * d;
    sr += r[i] * r[i];
  }
  e.rms = std::sqrt(se / double(q.size()));
  e.relative_rms = sr > 0 ? std::sqrt(se / sr) : 0.0;
  e.reference = r;
  return e;
}

}  // namespace

QuantizationError quantization_error(const TransformerBlock& block, const Values& values) {
  return quantization_error_of(block, values, nullptr);
}

QuantizationError quantization_error(const TransformerBlock& block, const Values& values,
                                     const sumcheck::CommittedMle& model) {
  return quantization_error_of(block, values, &model);
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
  if (claim.decode) {
    channel.mix_u32s(std::vector<uint32_t>{1, claim.position});
    sumcheck::mix_commitment(channel, claim.cache_in);
    sumcheck::mix_commitment(channel, claim.cache_out);
  }
}

Values transfer_weights(const TransformerBlock& from, const Values& values, const TransformerBlock& to) {
  Values out(to.graph.tensors().size());
  for (TensorId t : to.weights) {
    const auto src = from.graph.find(to.graph.tensors()[t].name);
    if (!src) throw usage("transfer_weights: " + to.graph.tensors()[t].name + " missing");
    out[t] = values.at(*src);
  }
  return out;
}

namespace {
bool same_commitment(const sumcheck::MleCommitment& a, const sumcheck::MleCommitment& b) {
  return a.root == b.root && a.n_vars == b.n_vars && a.log_rows == b.log_rows && a.log_blowup == b.log_blowup &&
         a.n_queries == b.n_queries;
}
}  // namespace

sumcheck::MleCommitment empty_cache_commitment(const BlockShape& shape) {
  const TransformerBlock step = transformer_block_decode(shape, 0);
  Values zeros(step.graph.tensors().size());
  for (TensorId t : step.graph.tensors_of_kind(TensorKind::CacheIn)) zeros[t].assign(step.graph.tensors()[t].size(), 0);
  return commit_packed(step.graph, TensorKind::CacheIn, zeros).commitment();
}

DecodeChain prove_decode(const TransformerBlock& prefill, const Values& weights, const sumcheck::CommittedMle& model,
                         const std::vector<std::vector<int64_t>>& inputs, sumcheck::SumcheckBackend* backend,
                         const sumcheck::ResidentMatrix* resident_weights, sumcheck::Int8GemmEngine* gemm,
                         Backend* stark) {
  if (inputs.size() > prefill.shape.seq_len) throw usage("more decode steps than the cache's seq_len");
  std::unique_ptr<sumcheck::ResidentMatrix> uploaded;
  if (!resident_weights) {
    uploaded = (backend ? *backend : sumcheck::default_sumcheck_backend()).upload_matrix(model.table());
    resident_weights = uploaded.get();
  }
  DecodeChain chain;
  std::vector<std::vector<int64_t>> cache;  // per CacheIn tensor in creation order
  for (uint32_t t = 0; t < inputs.size(); ++t) {
    const TransformerBlock step = transformer_block_decode(prefill.shape, t);
    Values v = transfer_weights(prefill, weights, step);
    v[step.input] = pad_values(step.graph.tensors()[step.input], inputs[t]);
    const auto ins = step.graph.tensors_of_kind(TensorKind::CacheIn);
    const auto outs = step.graph.tensors_of_kind(TensorKind::CacheOut);
    if (cache.empty())
      for (TensorId c : ins) cache.emplace_back(step.graph.tensors()[c].size(), 0);
    for (size_t k = 0; k < ins.size(); ++k) v[ins[k]] = cache[k];
    step.graph.forward(v, true, gemm);
    const sumcheck::CommittedMle cache_in = commit_packed(step.graph, TensorKind::CacheIn, v, 0, stark);
    BlockProof proof;
    proof.claim.shape = prefill.shape;
    proof.claim.model = model.commitment();
    proof.input = unpad_values(step.graph.tensors()[step.input], v[step.input]);
    proof.output = unpad_values(output_extent(step), v[step.output]);
    proof.claim.input_digest = tensor_digest(proof.input);
    proof.claim.output_digest = tensor_digest(proof.output);
    proof.claim.decode = true;
    proof.claim.position = t;
    proof.claim.cache_in = cache_in.commitment();
    proof.claim.cache_out = commit_packed(step.graph, TensorKind::CacheOut, v, 0, stark).commitment();
    Blake2sChannel channel;
    mix_claim(channel, proof.claim);
    proof.proof = prove_graph(step.graph, v, model, channel, &cache_in, backend, resident_weights, stark);
    for (size_t k = 0; k < outs.size(); ++k) cache[k] = v[outs[k]];
    chain.steps.push_back(std::move(proof));
  }
  return chain;
}

GraphVerdict verify_decode(const DecodeChain& chain, const sumcheck::MleCommitment& model) {
  if (chain.steps.empty()) return {false, "decode chain: no steps"};
  try {
    const BlockShape shape = chain.steps[0].claim.shape;
    sumcheck::MleCommitment expected_in = empty_cache_commitment(shape);
    for (size_t t = 0; t < chain.steps.size(); ++t) {
      const BlockClaim& c = chain.steps[t].claim;
      const std::string who = "decode step " + std::to_string(t) + ": ";
      if (!c.decode || c.position != t) return {false, who + "not the decode step at position " + std::to_string(t)};
      if (!(c.shape == shape)) return {false, who + "another shape"};
      if (!same_commitment(c.cache_in, expected_in))
        return {false, who + (t == 0 ? "does not start from the empty cache" : "cache_in is not the previous step's cache_out")};
      const GraphVerdict v = verify_block(chain.steps[t], model);
      if (!v.accepted) return {false, who + v.reason};
      expected_in = c.cache_out;
    }
    return {true, ""};
  } catch (const std::exception& e) {
    return {false, std::string("decode chain: ") + e.what()};
  }
}

BlockProof prove_block(const TransformerBlock& block, const Values& values, const sumcheck::CommittedMle& model,
                       sumcheck::SumcheckBackend* backend, const sumcheck::ResidentMatrix* resident_weights,
                       Backend* stark) {
  BlockProof out;
  out.claim.shape = block.shape;
  out.claim.model = model.commitment();
  out.input = unpad_values(block.graph.tensors()[block.input], values.at(block.input));
  out.output = unpad_values(output_extent(block), values.at(block.output));
  out.claim.input_digest = tensor_digest(out.input);
  out.claim.output_digest = tensor_digest(out.output);
  Blake2sChannel channel;
  mix_claim(channel, out.claim);
  out.proof = prove_graph(block.graph, values, model, channel, nullptr, backend, resident_weights, stark);
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
    const TransformerBlock block = c.decode ? transformer_block_decode(c.shape, c.position) : transformer_block(c.shape);
    if (c.decode && !same_commitment(c.cache_out, proof.proof.cache_out_commitment))
      return {false, "claim: cache_out is not the proof's cache-out commitment"};
    Values inputs(block.graph.tensors().size());
    const TensorInfo& in_info = block.graph.tensors()[block.input];
    const TensorInfo out_info = output_extent(block);
    if (proof.input.size() != in_info.real_size()) return {false, "input: " + std::to_string(proof.input.size()) + " values, expected " + std::to_string(in_info.real_size())};
    if (proof.output.size() != out_info.real_size()) return {false, "output: " + std::to_string(proof.output.size()) + " values, expected " + std::to_string(out_info.real_size())};
    // The padding of the input and output is zero by construction: the verifier places the real
    // entries itself.
    inputs[block.input] = pad_values(in_info, proof.input);
    Blake2sChannel channel;
    mix_claim(channel, c);
    return verify_graph(block.graph, inputs, pad_values(out_info, proof.output), model, proof.proof, channel,
                        c.decode ? &c.cache_in : nullptr);
  } catch (const std::exception& e) {
    return {false, std::string("claim: ") + e.what()};
  }
}

uint64_t ProverMemoryEstimate::peak() const {
  constexpr uint64_t kProcess = uint64_t{64} << 20;  // code, the graph, allocator slack
  return kProcess + std::max({reference, commit, lookups, opening});
}

ProverMemoryEstimate estimated_prover_memory(const TransformerBlock& block) {
  const Graph& g = block.graph;
  ProverMemoryEstimate e;
  uint64_t other_entries = 0;
  for (const TensorInfo& t : g.tensors()) {
    e.values += 8 * uint64_t(t.size());
    if (t.kind != TensorKind::Weight) other_entries += t.size();
  }

  const uint32_t nw = packed_layout(g, TensorKind::Weight).n_vars;
  const uint64_t w = uint64_t{1} << nw;
  // The weights' encoding is streamed (MleEncodingStorage::Recomputed): a batch of rows (~2^23
  // symbols, and the rows copied) and the leaves' hash states (32 B each) at the commitment.
  const sumcheck::MleCommitmentParams params;
  const uint32_t log_code = nw - sumcheck::default_log_rows(nw) + params.log_blowup;
  const uint64_t batch = std::min(w << params.log_blowup, std::max(uint64_t{16} << log_code, uint64_t{1} << 23));
  const uint64_t encoding = 8 * batch + 96 * (uint64_t{1} << log_code);  // the batch twice; states, leaves, tree
  e.commit = e.values + 4 * w + encoding;
  // LogUp-GKR: 2^n fractions; the tables of its largest sumcheck (4 QM31 factors) and the held
  // layers (2 QM31 columns, the lowest one and all above it).
  uint64_t fractions = 0;
  for (const Lookup& l : g.lookups()) fractions += uint64_t{1} << (l.log_rows + l.log_cols);
  for (const Table& t : g.tables()) fractions += uint64_t{1} << (t.log_rows + t.log_cols);
  const uint32_t nl = sumcheck::fraction_sum_vars(fractions);
  const uint32_t table_log = sumcheck::gkr_max_table_log(nl);
  uint32_t m = 1;
  while (m < nl && nl - m > table_log + 1) ++m;
  const uint64_t gkr = 4 * 16 * (uint64_t{1} << std::min(nl - 1, table_log)) + 2 * 2 * 16 * (uint64_t{1} << (nl - m));
  // The float reference and the proof run with the weights' Values released (release_weight_values,
  // as prove-block does): the reference reads the table into its doubles of every tensor.
  e.reference = 8 * other_entries + 4 * w + e.values;
  const uint64_t proof_values = 8 * other_entries + 4 * other_entries + 4 * w;
  e.lookups = proof_values + gkr;
  e.opening = proof_values + encoding +
              2 * 16 * (uint64_t{1} << std::min(nw, sumcheck::default_max_table_log(nw)));
  return e;
}

}  // namespace ptvm::zkml
