// The zkML layers one by one: forward semantics, an honest proof accepted, a cheating witness or a
// changed input/output/weight rejected.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "ptvm/zkml/graph.hpp"
#include "ptvm/zkml/layers.hpp"

namespace ptvm::zkml {
namespace {

std::vector<int64_t> pattern(size_t n, int64_t lo, int64_t hi, uint64_t seed) {
  std::vector<int64_t> v(n);
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
  for (auto& x : v) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    x = lo + int64_t(s % uint64_t(hi - lo + 1));
  }
  return v;
}

// Proves the graph on `proved` and verifies it against `inputs` / `output` (defaults: the proved
// values) and the commitment of `committed` (default: the proved values' weights).
GraphVerdict prove_verify(const Graph& g, const Values& proved, const Values* committed = nullptr,
                          const Values* inputs = nullptr, const std::vector<int64_t>* output = nullptr) {
  const auto model = commit_weights(g, committed ? *committed : proved);
  Blake2sChannel pc;
  const GraphProof proof = prove_graph(g, proved, model, pc);
  Blake2sChannel vc;
  const GraphVerdict verdict =
      verify_graph(g, inputs ? *inputs : proved, output ? *output : proved[g.output()], model.commitment(), proof, vc);
  if (std::getenv("PTVM_ZKML_VERBOSE") && !verdict.accepted) std::cerr << "rejected: " << verdict.reason << "\n";
  return verdict;
}

// A cheating witness: one advice entry changed (multiplicities recounted without the tuples that
// fell out of their tables), proven and verified.
GraphVerdict tampered(const Graph& g, Values v, const std::string& tensor, size_t index, int64_t delta) {
  const TensorId t = *g.find(tensor);
  v[t].at(index) += delta;
  g.recount_multiplicities(v, false);
  return prove_verify(g, v);
}

TEST(ZkmlLayers, RequantizeForwardProvesAndRejectsCheats) {
  Graph g;
  const TensorId x = g.add_tensor("x", 2, 3, TensorKind::Input);
  const TensorId q = requantize(g, x, 8, "q");
  g.set_output(q);
  Values v(g.tensors().size());
  v[x] = pattern(32, -40000, 40000, 1);
  v[x][0] = 127 * 256 + 200;  // clamps to 127
  g.forward(v);
  for (size_t i = 0; i < 32; ++i) {
    const int64_t h = int64_t(std::floor((double(v[x][i]) + 128.0) / 256.0));
    EXPECT_EQ(v[q][i], clamp8(h));
  }
  EXPECT_EQ(v[q][0], 127);
  const auto ok = prove_verify(g, v);
  EXPECT_TRUE(ok.accepted) << ok.reason;
  EXPECT_FALSE(tampered(g, v, "q", 3, 1).accepted);
  // h + 1 with r - 256 keeps x + 128 = 256 h + r but r leaves [0, 256).
  Values w = v;
  w[*g.find("q.hi")][5] += 1;
  w[*g.find("q.rem")][5] -= 256;
  w[q][5] = clamp8(w[*g.find("q.hi")][5]);
  g.recount_multiplicities(w, false);
  EXPECT_FALSE(prove_verify(g, w).accepted);
}

TEST(ZkmlLayers, ActivationsMatchTheirTablesAndRejectAChangedEntry) {
  for (Activation a : {Activation::ReLU, Activation::GELU, Activation::SiLU, Activation::Sigmoid}) {
    Graph g;
    const TensorId x = g.add_tensor("x", 2, 4, TensorKind::Input);
    const TensorId y = activation(g, x, a, "y");
    g.set_output(y);
    Values v(g.tensors().size());
    v[x] = pattern(64, -128, 127, 2);
    g.forward(v);
    for (size_t i = 0; i < 64; ++i) EXPECT_EQ(v[y][i], activation_value(a, v[x][i]));
    const auto ok = prove_verify(g, v);
    EXPECT_TRUE(ok.accepted) << activation_name(a) << ": " << ok.reason;
    EXPECT_FALSE(tampered(g, v, "y", 7, 1).accepted) << activation_name(a);
  }
  EXPECT_EQ(activation_value(Activation::ReLU, -5), 0);
  EXPECT_EQ(activation_value(Activation::Sigmoid, 0), 64);
  EXPECT_EQ(activation_value(Activation::SiLU, 32), 28);  // 16 * 2 sigmoid(2) = 28.18
}

TEST(ZkmlLayers, AddMultiplyAndAChangedInputOrOutput) {
  Graph g;
  const TensorId a = g.add_tensor("a", 2, 3, TensorKind::Input);
  const TensorId b = g.add_tensor("b", 2, 3, TensorKind::Input);
  const TensorId s = add(g, a, b, "s");
  const TensorId p = multiply(g, s, b, 4, "p");
  g.set_output(p);
  Values v(g.tensors().size());
  v[a] = pattern(32, -128, 127, 3);
  v[b] = pattern(32, -128, 127, 4);
  g.forward(v);
  for (size_t i = 0; i < 32; ++i) {
    EXPECT_EQ(v[s][i], clamp8(v[a][i] + v[b][i]));
    EXPECT_EQ(v[p][i], requantize_value(v[s][i] * v[b][i], 4));
  }
  EXPECT_TRUE(prove_verify(g, v).accepted);
  Values other = v;
  other[a][9] += 1;
  EXPECT_FALSE(prove_verify(g, v, nullptr, &other).accepted) << "a changed input must be rejected";
  std::vector<int64_t> out = v[p];
  out[2] += 1;
  EXPECT_FALSE(prove_verify(g, v, nullptr, nullptr, &out).accepted) << "a changed output must be rejected";
  EXPECT_FALSE(tampered(g, v, "s", 0, 1).accepted);
}

TEST(ZkmlLayers, LinearLayerRejectsAChangedWeight) {
  Graph g;
  const TensorId x = g.add_tensor("x", 2, 4, TensorKind::Input);
  const TensorId w = g.add_tensor("w", 4, 3, TensorKind::Weight);
  const TensorId wt = g.add_tensor("wt", 2, 3, TensorKind::Weight);
  const TensorId y = linear_layer(g, x, w, "y");
  const TensorId z = requantize(g, g.matmul("z.acc", y, wt, true), matmul_shift(3), "z");
  g.set_output(z);
  Values v(g.tensors().size());
  v[x] = pattern(64, -128, 127, 5);
  v[w] = pattern(128, -64, 64, 6);
  v[wt] = pattern(32, -64, 64, 7);
  g.forward(v);
  for (size_t i = 0; i < 4; ++i)
    for (size_t j = 0; j < 8; ++j) {
      int64_t acc = 0;
      for (size_t k = 0; k < 16; ++k) acc += v[x][i * 16 + k] * v[w][k * 8 + j];
      EXPECT_EQ(v[y][i * 8 + j], requantize_value(acc, matmul_shift(4)));
    }
  EXPECT_TRUE(prove_verify(g, v).accepted);
  Values changed = v;
  changed[w][17] += 1;
  g.forward(changed);
  EXPECT_FALSE(prove_verify(g, changed, &v).accepted) << "a weight other than the committed one";
}

TEST(ZkmlLayers, RmsNormRejectsAChangedRsqrtEntry) {
  Graph g;
  const TensorId x = g.add_tensor("x", 2, 4, TensorKind::Input);
  const TensorId gamma = g.add_tensor("gamma", 0, 4, TensorKind::Weight);
  const TensorId y = rmsnorm(g, x, gamma, "n");
  g.set_output(y);
  Values v(g.tensors().size());
  v[x] = pattern(64, -128, 127, 8);
  v[gamma] = pattern(16, 48, 80, 9);
  g.forward(v);
  for (size_t i = 0; i < 4; ++i) {
    int64_t ss = 0;
    for (size_t j = 0; j < 16; ++j) ss += v[x][i * 16 + j] * v[x][i * 16 + j];
    const int64_t r = rsqrt_value(4, 6, ss >> 6);
    EXPECT_NEAR(double(r), 1024.0 / std::sqrt(double(ss) / 16.0), 1024.0 / std::sqrt(double(ss) / 16.0) * 0.2);
    for (size_t j = 0; j < 16; ++j)
      EXPECT_EQ(v[y][i * 16 + j], requantize_value(v[x][i * 16 + j] * r * v[gamma][j], 11));
  }
  EXPECT_TRUE(prove_verify(g, v).accepted);
  EXPECT_FALSE(tampered(g, v, "n.rsqrt", 1, 1).accepted) << "rsqrt entry";
  EXPECT_FALSE(tampered(g, v, "n.u", 2, 1).accepted);
}

TEST(ZkmlLayers, RopeRotatesPairs) {
  Graph g;
  const TensorId x = g.add_tensor("x", 2, 3, TensorKind::Input);
  const TensorId y = rope(g, x, 0, "r");
  g.set_output(y);
  Values v(g.tensors().size());
  v[x] = pattern(32, -128, 127, 10);
  g.forward(v);
  for (size_t j = 0; j < 8; ++j) EXPECT_EQ(v[y][j], requantize_value(128 * v[x][j], 7)) << "position 0 is the identity";
  const double th = 1.0;  // position 1, pair 0
  const int64_t c = int64_t(std::floor(128 * std::cos(th) + 0.5)), s = int64_t(std::floor(128 * std::sin(th) + 0.5));
  EXPECT_EQ(v[y][8], requantize_value(v[x][8] * c - v[x][9] * s, 7));
  EXPECT_EQ(v[y][9], requantize_value(v[x][9] * c + v[x][8] * s, 7));
  EXPECT_TRUE(prove_verify(g, v).accepted);
  EXPECT_FALSE(tampered(g, v, "r", 12, -1).accepted);
}

TEST(ZkmlLayers, CausalSoftmaxRejectsAChangedNormaliserOrMaximum) {
  Graph g;
  const TensorId s = g.add_tensor("s", 3, 3, TensorKind::Input);
  const TensorId p = softmax(g, causal_mask(g, s, 0, "m"), "sm");
  g.set_output(p);
  Values v(g.tensors().size());
  v[s] = pattern(64, -128, 127, 11);
  g.forward(v);
  for (size_t i = 0; i < 8; ++i) {
    int64_t total = 0;
    for (size_t j = 0; j < 8; ++j) {
      total += v[p][i * 8 + j];
      if (j > i) {
        EXPECT_EQ(v[p][i * 8 + j], 0) << "masked";
      }
    }
    EXPECT_NEAR(double(total), 128.0, 8.0);
  }
  EXPECT_EQ(v[p][0], 128) << "the first row sees one entry";
  EXPECT_TRUE(prove_verify(g, v).accepted);
  EXPECT_FALSE(tampered(g, v, "sm.half", 3, 1).accepted) << "normaliser";
  EXPECT_FALSE(tampered(g, v, "sm.max", 4, 1).accepted) << "maximum";
  EXPECT_FALSE(tampered(g, v, "sm", 9, 1).accepted) << "probability";
  // p and rem moved together keep 128 e + half = p sum + rem, but rem leaves [0, sum).
  Values w = v;
  const TensorId sum = *g.find("sm.sum"), rem = *g.find("sm.rem");
  w[p][10] -= 1;
  w[rem][10] += w[sum][1];
  g.recount_multiplicities(w, false);
  EXPECT_FALSE(prove_verify(g, w).accepted) << "remainder at or above the normaliser";
}

TEST(ZkmlLayers, TableTagsAreBound) {
  // Two graphs alike but for one table's name (tag): a proof of one fails against the other.
  auto build = [](const std::string& table) {
    Graph g;
    const TensorId x = g.add_tensor("x", 2, 2, TensorKind::Input);
    std::vector<int64_t> col(16);
    for (int i = 0; i < 16; ++i) col[i] = i;
    const TensorId y = g.linear("y", 2, 2, {{x}});
    g.lookup(g.add_table(table, {col}), 2, 2, {{y}});
    g.set_output(y);
    return g;
  };
  const Graph a = build("range:4"), b = build("other:4");
  Values v(a.tensors().size());
  v[0] = pattern(16, 0, 15, 12);
  a.forward(v);
  const auto model = commit_weights(a, v);
  Blake2sChannel pc;
  const GraphProof proof = prove_graph(a, v, model, pc);
  Blake2sChannel vc, vc2;
  EXPECT_TRUE(verify_graph(a, v, v[a.output()], model.commitment(), proof, vc).accepted);
  EXPECT_FALSE(verify_graph(b, v, v[b.output()], model.commitment(), proof, vc2).accepted);
}

TEST(ZkmlLayers, OverflowIsAClearError) {
  Graph g;
  const TensorId x = g.add_tensor("x", 1, 1, TensorKind::Input);
  g.set_output(activation(g, x, Activation::ReLU, "y"));
  Values v(g.tensors().size());
  v[x] = {1, 2, 300, 4};
  EXPECT_THROW(g.forward(v), Error);
}

}  // namespace
}  // namespace ptvm::zkml

namespace ptvm::zkml {
namespace {

int64_t libm_round(double v) { return static_cast<int64_t>(std::floor(v + 0.5)); }

// FNV-1a over the values: the known answer of a whole table.
uint64_t checksum(const std::vector<int64_t>& v) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int64_t x : v) h = (h ^ uint64_t(x)) * 0x100000001b3ull;
  return h;
}

TEST(ZkmlLayers, TablesAreIntegerOnlyWithKnownAnswers) {
  // Hand-checked entries.
  EXPECT_EQ(exp_value(10, 0), 1024);
  EXPECT_EQ(exp_value(10, 8), 377) << "round(1024 / e)";
  EXPECT_EQ(rsqrt_value(8, 10, 0), 724) << "round(1024 sqrt(256 / 512))";
  EXPECT_EQ(activation_value(Activation::GELU, 16), 13);
  EXPECT_EQ(activation_value(Activation::GELU, -16), -3);
  EXPECT_EQ(activation_value(Activation::SiLU, 16), 12);
  EXPECT_EQ(activation_value(Activation::SiLU, -16), -4);
  EXPECT_EQ(activation_value(Activation::Sigmoid, 0), 64);
  EXPECT_EQ(activation_value(Activation::Sigmoid, 32), 113);
  EXPECT_EQ(activation_value(Activation::Sigmoid, 127), 127) << "clamped";
  // Every entry equals the libm formula it replaces (on this platform: the integer tables are the
  // correctly rounded values, which libm's doubles also give here).
  std::vector<int64_t> act;
  for (Activation a : {Activation::GELU, Activation::SiLU, Activation::Sigmoid})
    for (int64_t x = -128; x < 128; ++x) {
      const double u = double(x) / 16.0;
      const double f = a == Activation::GELU   ? 16.0 * 0.5 * u * (1.0 + std::erf(u / std::sqrt(2.0)))
                       : a == Activation::SiLU ? 16.0 * u / (1.0 + std::exp(-u))
                                               : 128.0 / (1.0 + std::exp(-u));
      const int64_t want = a == Activation::Sigmoid ? std::min<int64_t>(127, libm_round(f)) : libm_round(f);
      ASSERT_EQ(activation_value(a, x), want) << activation_name(a) << " at " << x;
      act.push_back(activation_value(a, x));
    }
  std::vector<int64_t> exps;
  for (uint32_t b = 0; b <= 10; ++b)
    for (int64_t d = 0; d < 512; ++d) {
      ASSERT_EQ(exp_value(b, d), libm_round(std::ldexp(std::exp(-double(d) / 8.0), int(b)))) << b << "," << d;
      exps.push_back(exp_value(b, d));
    }
  std::vector<int64_t> rs;
  for (uint32_t ld = 1; ld <= 16; ++ld)
    for (int64_t u = 0; u < 8192; ++u) {
      const uint32_t t = ld + 2;
      const double denom = std::ldexp(double(u), int(t)) + std::ldexp(1.0, int(t) - 1);
      ASSERT_EQ(rsqrt_value(ld, t, u), libm_round(1024.0 * std::sqrt(std::ldexp(1.0, int(ld)) / denom))) << ld << "," << u;
      rs.push_back(rsqrt_value(ld, t, u));
    }
  for (uint64_t d : {12u, 80u, 5120u})
    for (int64_t u = 0; u < 8192; ++u) {
      const uint32_t t = uint32_t(std::bit_width(d - 1)) + 2;
      const double denom = std::ldexp(double(u), int(t)) + std::ldexp(1.0, int(t) - 1);
      ASSERT_EQ(rsqrt_value_real(d, t, u), libm_round(1024.0 * std::sqrt(double(d) / denom))) << d << "," << u;
      rs.push_back(rsqrt_value_real(d, t, u));
    }
  // The known answers every platform must reproduce (no libm in the tables).
  EXPECT_EQ(checksum(act), 11652639880226109372ull) << std::hex << checksum(act);
  EXPECT_EQ(checksum(exps), 18123191573592211664ull) << std::hex << checksum(exps);
  EXPECT_EQ(checksum(rs), 12782282205410415694ull) << std::hex << checksum(rs);
}

}  // namespace
}  // namespace ptvm::zkml
