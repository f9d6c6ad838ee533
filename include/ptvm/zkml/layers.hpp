// The zkML layers over int8-quantized values, built on graph.hpp's primitives. Each layer adds its
// tensors, nodes, lookups and zero constraints to a graph and an advice step that computes its
// output by the integer semantics written below (the forward function); the graph's prover and
// verifier prove and check it. Tensor names are the layer's name plus a suffix.
//
// Integer semantics (exact; every table is built by the verifier from its name's parameters, in
// integer arithmetic only: exp, erf and sqrt by Q64 fixed point in 128-bit integers (e^(-1/16)
// and 1 / (8 sqrt(2 pi)) as constants, erf by its Taylor series in z^2 = x^2 / 512, rsqrt by an
// exact integer square root), so every platform builds the same tables; they are the correctly
// rounded values, pinned by a known-answer test. The float reference keeps libm):
//   requantize(x, s)   s = 0: q = clamp(x); s > 0: h = floor((x + 2^(s-1)) / 2^s), q = clamp(h),
//                      with clamp(v) = min(max(v, -128), 127) and h in [-2048, 2048) (else a
//                      quantization overflow). Proof: x + 2^(s-1) - 2^s h - r = 0 (zero constraint),
//                      r in range:s, (h, q) in clamp. s = 0: (x, q) in clamp.
//   add(a, b)          clamp(a + b)
//   multiply(a, b, s)  requantize(a ⊙ b, s)
//   linear_layer(x, W) requantize(x W, matmul_shift(log2 K)), matmul_shift(k) = floor((k + 1) / 2) + 6
//   activation(x, f)   x int8 read as x / 16: ReLU max(x, 0); GELU round(16 gelu(x/16));
//                      SiLU round(16 silu(x/16)); sigmoid min(127, round(128 sigmoid(x/16)));
//                      round(v) = floor(v + 1/2). Proof: (x, y) in act:<name>.
//   rmsnorm(x, gamma)  ss_i = sum_j x_ij^2, t = log2 D + 2, u_i = floor(ss_i / 2^t), w_i = ss_i mod 2^t,
//                      r_i = rsqrt(u_i) = round(1024 sqrt(d / (2^t u_i + 2^(t-1)))) with d the real
//                      row length (default D = 2^log_cols; padded columns are zero), y = requantize(
//                      x_ij r_i gamma_j, 11) (gamma: 64 = 1.0). Proof: products and a row sum (nodes),
//                      ss - 2^t u - w = 0, w in range:t, (u, r) in rsqrt:d=D,t=t.
//   rope(x, offset)    per pair (2k, 2k+1) of a row at position p = offset + i, angle
//                      p 10000^(-2k/E) (E the real head dimension, even; default 2^log_cols; the
//                      table is 0 on padded columns): the rotation table cos = round(128 cos), sin = round(128 sin)
//                      (public tensors); y = requantize(x ⊙ cos + swap(x) ⊙ sin, 7), swap(x)_{2k} =
//                      -x_{2k+1}, swap(x)_{2k+1} = x_{2k}.
//   causal_mask(s, o)  j <= i + o ? s_ij : -384  (s ⊙ keep + fill, both public), so a masked entry's
//                      gap to the row maximum is at least 256 and its exp entry 0
//   softmax(s)         rows of int8 + mask: m_i = max_j s_ij, d_ij = m_i - s_ij in [0, 512),
//                      e_ij = round(2^b exp(-d/8)) with b = min(10, 15 - log2 T) (so sum_i < 2^16),
//                      sum_i = sum_j e_ij, p_ij = floor((128 e_ij + floor(sum_i / 2)) / sum_i).
//                      Proof: (d, e) in exp:b=b; (i, m_i) looked up in the row's own (i, s_ij) (a
//                      tensor table: the maximum is an entry) with d >= 0 from the exp table's domain;
//                      the division check sum = 2 half + hb, hb in range:1, 128 e + half - p sum - rem = 0,
//                      rem and sum - 1 - rem in range:16.
#pragma once
#include <cstdint>
#include <string>

#include "ptvm/zkml/graph.hpp"

namespace ptvm::zkml {

enum class Activation : uint8_t { ReLU, GELU, SiLU, Sigmoid };
const char* activation_name(Activation a);

inline int64_t clamp8(int64_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
int64_t activation_value(Activation a, int64_t x);
inline uint32_t matmul_shift(uint32_t log_k) { return (log_k + 1) / 2 + 6; }
int64_t requantize_value(int64_t x, uint32_t shift);  // the semantics above (throws on overflow)

// Tables (deduplicated by name in the graph).
uint32_t clamp_table(Graph& g);
uint32_t range_table(Graph& g, uint32_t bits);
uint32_t activation_table(Graph& g, Activation a);
uint32_t exp_table(Graph& g, uint32_t out_bits);
uint32_t rsqrt_table(Graph& g, uint32_t log_d, uint32_t t);
int64_t rsqrt_value(uint32_t log_d, uint32_t t, int64_t u);
// The same for a row length d that is not a power of two (table name rsqrt:d=<d>,t=<t>).
uint32_t rsqrt_table_real(Graph& g, uint64_t d, uint32_t t);
int64_t rsqrt_value_real(uint64_t d, uint32_t t, int64_t u);
int64_t exp_value(uint32_t out_bits, int64_t d);

// Layers; each returns its output tensor (an int8 Advice tensor unless said otherwise).
TensorId requantize(Graph& g, TensorId x, uint32_t shift, const std::string& name);
TensorId add(Graph& g, TensorId a, TensorId b, const std::string& name);
TensorId multiply(Graph& g, TensorId a, TensorId b, uint32_t shift, const std::string& name);
TensorId linear_layer(Graph& g, TensorId x, TensorId w, const std::string& name);
TensorId activation(Graph& g, TensorId x, Activation a, const std::string& name);
// real_d / real_e: the real row length / head dimension when the tensor is zero-padded (0 = none).
TensorId rmsnorm(Graph& g, TensorId x, TensorId gamma, const std::string& name, uint32_t real_d = 0);
TensorId rope(Graph& g, TensorId x, uint32_t position_offset, const std::string& name, uint32_t real_e = 0);
TensorId causal_mask(Graph& g, TensorId scores, uint32_t position_offset, const std::string& name);  // Derived
TensorId softmax(Graph& g, TensorId masked, const std::string& name);  // p in [0, 128]

}  // namespace ptvm::zkml
