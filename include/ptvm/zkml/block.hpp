// A Llama/Qwen-style transformer block as a graph (graph.hpp) of the layers of layers.hpp, its model
// (weights committed once), and the statement a block proof makes.
//
//   x (seq_len x d_model, int8 Input)
//   n1 = rmsnorm(x, norm1.gamma)
//   per KV head g: K_g = rope(linear_layer(n1, wk.g)), V_g = linear_layer(n1, wv.g)
//   per query head h (group g = h / (q_heads / kv_heads)): Q_h = rope(linear_layer(n1, wq.h)),
//     S_h = requantize(Q_h K_g^T, matmul_shift(log2 head_dim)), P_h = softmax(causal_mask(S_h)),
//     O_h = requantize(P_h V_g, 7)
//   a = requantize(sum_h O_h wo.h, matmul_shift(log2 (q_heads head_dim)))
//   h1 = add(x, a); n2 = rmsnorm(h1, norm2.gamma)
//   SwiGLU: f = linear_layer(multiply(silu(linear_layer(n2, ffn.gate)), linear_layer(n2, ffn.up), 4), ffn.down)
//   GELU:   f = linear_layer(gelu(linear_layer(n2, ffn.up)), ffn.down)
//   y = add(h1, f)  (the Output)
// Every weight entry is looked up in int8:[-128,128) (so the committed model is int8 and every field
// product is the integer one).
//
// Shapes. Any positive dimensions (head_dim even: RoPE rotates pairs). A dimension that is not a
// power of two is zero-padded to the next one inside the MLEs: the input x (seq_len x d_model), the
// weights (e.g. wq.h: d_model x head_dim) and the KV caches carry their real extent
// (Graph::set_extent), the verifier pads the input and output it holds with zeros itself, and the
// proof shows every weight's and cache's padding zero (graph.hpp's padding claims), so a model
// cannot hide extra rows or columns in it. With zero padding the padded block computes the real
// one on the real entries: rmsnorm divides by the real d_model (rsqrt:d=<d_model>), RoPE's angles
// use the real head_dim (0 on padded columns), padded key positions are causally masked, and when
// seq_len is not a power of two the output is multiplied by a public 0/1 row mask (the padded query
// rows attend to real rows; their output is masked to zero). The requantization shifts use
// ceil(log2) of the padded dimensions (the "pow2" of the quantization's name). q_heads and
// kv_heads need no padding (one tensor per head); the attention output's shift uses
// ceil(log2(q_heads)) + ceil(log2(head_dim)). Power-of-two shapes build exactly the graph they
// built before.
//
// The claim (statement "ptvm-zkml-block/1"): shape, quantization "int8-pow2/1", the model commitment
// (the MLE commitment of the packed weights), Blake2s digests of the input and output (int8 values
// as LE i32). The transcript starts with all of it; the verifier rebuilds the graph from the shape,
// recomputes the digests from the input and output it is given, and requires the claim's model
// commitment to be the one it holds.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ptvm/hash/blake2s.hpp"
#include "ptvm/zkml/graph.hpp"

namespace ptvm::zkml {

enum class FfnKind : uint8_t { SwiGLU = 0, GELU = 1 };

struct BlockShape {
  uint32_t d_model = 0, q_heads = 0, kv_heads = 0, head_dim = 0, ffn = 0, seq_len = 0;
  FfnKind ffn_kind = FfnKind::SwiGLU;
  std::string to_string() const;  // d_model=D,q_heads=H,kv_heads=G,head_dim=E,ffn=F,seq_len=S[,ffn_kind=gelu]
  // Parses to_string()'s form (Usage error naming the field).
  static BlockShape parse(const std::string& text);
  friend bool operator==(const BlockShape&, const BlockShape&) = default;
};

struct TransformerBlock {
  BlockShape shape;
  Graph graph;
  TensorId input = 0, output = 0;
  std::vector<TensorId> weights;  // in creation order
};

// Usage error for a zero or odd head_dim, q_heads not a multiple of kv_heads, or dimensions above
// the bounds (seq_len 2^11, d_model 2^16, ffn 2^18, head_dim 2^10, q_heads 256).
TransformerBlock transformer_block(uint32_t d_model, uint32_t q_heads, uint32_t kv_heads, uint32_t head_dim,
                                   uint32_t ffn, uint32_t seq_len, FfnKind ffn_kind = FfnKind::SwiGLU);
TransformerBlock transformer_block(const BlockShape& shape);

// One decode step: a token at `position` (< shape.seq_len, the KV cache's capacity) attends over the
// cache. Per KV head g, cache.in.{k,v}.g (CacheIn, seq_len x head_dim; its row `position` must be
// zero: a zero constraint) and cache.out.{k,v}.g = the cache in with row `position` set to the
// token's K (after RoPE at `position`) / V (a zero constraint with a one-hot public tensor); the
// attention reads the cache out, masked to j <= position. The weights are the prefill block's.
TransformerBlock transformer_block_decode(const BlockShape& shape, uint32_t position);

// The output tensor's info with its real extent (seq_len or 1 rows, d_model columns): BlockProof's
// output holds those entries, row-major (as its input holds the input's).
TensorInfo output_extent(const TransformerBlock& block);

// The weights of one block graph carried into another of the same shape (by name).
Values transfer_weights(const TransformerBlock& from, const Values& values, const TransformerBlock& to);

// Deterministic random weights (matrices uniform in [-64, 64], gammas in [48, 80]) and input
// (uniform in [-64, 64]) from a seed, into a Values for the block's graph (the real entries drawn
// row-major, the padding zero).
Values random_model(const TransformerBlock& block, uint64_t seed);
std::vector<int64_t> random_input(const TransformerBlock& block, uint64_t seed);

// The float reference of the block (graph.hpp's forward_float on the same int8 input and weights:
// no rounding, no clamping, exact functions instead of tables) beside the quantized output, in the
// output's int8 units (64 = 1.0 after the block's last residual).
struct QuantizationError {
  double max_abs = 0, rms = 0, relative_rms = 0;  // of quantized - reference; rms relative to the reference's
  std::vector<double> reference;                  // the float output
};
QuantizationError quantization_error(const TransformerBlock& block, const Values& values);
// The same with the weights' Values released (release_weight_values): their entries are read
// from the model commitment's packed table (an M31 x in [-2^30, 2^30] read as the integer x).
QuantizationError quantization_error(const TransformerBlock& block, const Values& values,
                                     const sumcheck::CommittedMle& model);

hash::Blake2sHash tensor_digest(const std::vector<int64_t>& values);

struct BlockClaim {
  std::string statement = "ptvm-zkml-block/1";
  BlockShape shape;
  std::string quantization = "int8-pow2/1";
  sumcheck::MleCommitment model;
  hash::Blake2sHash input_digest, output_digest;
  // Decode steps: the position and the KV-cache commitments the step starts from and ends with.
  bool decode = false;
  uint32_t position = 0;
  sumcheck::MleCommitment cache_in, cache_out;
};

struct BlockProof {
  BlockClaim claim;
  std::vector<int64_t> input, output;  // the real entries (no padding), row-major
  GraphProof proof;
};

// Binds a claim into a fresh transcript.
void mix_claim(Blake2sChannel& channel, const BlockClaim& claim);

// values: the block's forward pass (model weights, input, then graph.forward). resident_weights:
// backend->upload_matrix(model.table()), once per model; stark: the proof's commitments on that
// STARK backend (prove_graph).
BlockProof prove_block(const TransformerBlock& block, const Values& values, const sumcheck::CommittedMle& model,
                       sumcheck::SumcheckBackend* backend = nullptr,
                       const sumcheck::ResidentMatrix* resident_weights = nullptr, Backend* stark = nullptr);

// Checks the claim against the verifier's model commitment, the input/output digests, the shape,
// and the proof (a decode step against its claim's cache_in; the chain checks the links). Never throws.
GraphVerdict verify_block(const BlockProof& proof, const sumcheck::MleCommitment& model);

// N decode steps from an empty cache (positions 0..N-1, N <= shape.seq_len), proven one by one:
// step t's claim names the cache commitment it starts from (step 0: the all-zero cache) and the one
// it ends with, which is step t + 1's start. weights: the prefill block's Values (weights filled);
// inputs: per step the token's d_model entries. The model's table is uploaded to the backend once
// for the chain when resident_weights (as in prove_block) is not given. gemm: the engine of each
// step's forward pass (Graph::forward); stark: the KV-cache and proof commitments on that backend.
struct DecodeChain {
  std::vector<BlockProof> steps;
};
DecodeChain prove_decode(const TransformerBlock& prefill, const Values& weights, const sumcheck::CommittedMle& model,
                         const std::vector<std::vector<int64_t>>& inputs, sumcheck::SumcheckBackend* backend = nullptr,
                         const sumcheck::ResidentMatrix* resident_weights = nullptr,
                         sumcheck::Int8GemmEngine* gemm = nullptr, Backend* stark = nullptr);
// Every step and every link: positions 0, 1, ..., the first cache the all-zero one, each step's
// cache_in the previous cache_out, one shape and model. Never throws.
GraphVerdict verify_decode(const DecodeChain& chain, const sumcheck::MleCommitment& model);
// The commitment of the all-zero KV cache of a decode step's graph.
sumcheck::MleCommitment empty_cache_commitment(const BlockShape& shape);

// The prover's memory (commit_weights, forward, prove_block), modeled phase by phase from what
// each phase holds, in bytes: values: the int64 Values of every tensor; commit: those, the packed
// weight table and a batch of its streamed encoding (MleEncodingStorage::Recomputed); lookups
// (the weights' Values released: release_weight_values): the other tensors' Values and M31
// copies, the table and LogUp-GKR's held layers and tables (gkr.hpp's bound); opening: the same
// with the re-encoding's batch and the streamed join's tables instead of the GKR. `tvm
// prove-block` refuses a shape whose peak is above MemAvailable (README's zkML section compares
// the model with /usr/bin/time -v).
struct ProverMemoryEstimate {
  // reference: the Values and the float reference's doubles of every tensor (quantization_error,
  // run before the commitment).
  uint64_t values = 0, reference = 0, commit = 0, lookups = 0, opening = 0;
  uint64_t peak() const;
};
ProverMemoryEstimate estimated_prover_memory(const TransformerBlock& block);

}  // namespace ptvm::zkml
