// GKR for layered circuits of binary-tree shape (Goldwasser, Kalai, Rothblum 2008; the
// data-parallel form of Thaler 2013 and of stwo's core/lookups/gkr_*): each layer halves its
// input, out[x] = gate(in[x], in[x + half]), i.e. V_l(x) = gate(V_{l+1}(0, x), V_{l+1}(1, x)).
// A claim on V_l at z is reduced to a claim on V_{l+1} by one sumcheck of
//   V_l(z) = sum_x eq(z, x) gate(V_{l+1}(0, x), V_{l+1}(1, x)),
// whose final values (the "mask" V_{l+1}(0, r), V_{l+1}(1, r)) are joined by a fresh c into the
// claim V_{l+1}(c, r) = V(0, r) + c (V(1, r) - V(0, r)) on the point (c, r).
//
// Gates: Add and Mul on one column per layer (mixable layer by layer), Fraction on two columns
// (p, q): (p0 q1 + p1 q0, q0 q1), the fraction sum p0/q0 + p1/q1 of LogUp-GKR (logup_gkr.hpp).
// The claims of a two-column layer are joined with a fresh alpha: P(z) + alpha Q(z) = sum_x
// eq(z, x) (p0 q1 + p1 q0 + alpha q0 q1), degree 3.
//
// Layer 0 is the output layer (2^n_out entries, in the proof); layer `depth` is the input.
// Transcript: mix_felts(output layer, column by column); r = draw_felts(n_out); per layer l from the
// output down: alpha = draw_felt(); the product sumcheck of sumcheck.hpp with the eq point r (a
// layer of 0 variables has no rounds: mix the claim, check the gate on the mask, mix the mask);
// c = draw_felt(); r = (c, r).
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/sumcheck/backend.hpp"
#include "ptvm/sumcheck/streamed_sumcheck.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"

namespace ptvm::sumcheck {

enum class GkrGate : uint8_t { Add, Mul, Fraction };

struct GkrCircuit {
  // gates[l] makes layer l from layer l + 1 (gates[0] makes the output layer); depth = size.
  std::vector<GkrGate> gates;
  uint32_t n_output_vars = 0;  // log2 of the output layer's size
  size_t n_columns() const;    // 2 for Fraction circuits, 1 otherwise
  uint32_t n_input_vars() const { return n_output_vars + uint32_t(gates.size()); }
};

// The layers computed directly: layers[0] the output, layers[depth] the input; each layer is its
// columns (one, or p and q).
std::vector<std::vector<std::vector<QM31>>> evaluate_gkr_circuit(const GkrCircuit& circuit,
                                                                 std::vector<std::vector<QM31>> input);

struct GkrProof {
  std::vector<std::vector<QM31>> output;     // the output layer's columns
  std::vector<ProductSumcheckProof> layers;  // one per gate, from the output down
};

struct GkrProverOutput {
  GkrProof proof;
  std::vector<QM31> input_point;   // r on the input layer
  std::vector<QM31> input_claims;  // MLE(input column)(r), one per column
};

GkrProverOutput prove_gkr(const GkrCircuit& circuit, std::vector<std::vector<QM31>> input,
                          Blake2sChannel& channel,
                          SumcheckBackend& backend = default_sumcheck_backend());

// The input layer given as a function: fill(begin, end, columns) writes entries [begin, end) of
// each input column c to columns[c][0 .. end - begin). The same proof as prove_gkr on the
// materialised input, which is never held beside the layer above it: that layer is computed from
// the input in chunks, and the input itself is generated once more for its own sumcheck.
//
// The prover's memory is bounded by max_table_log (0: gkr_max_table_log(n_input_vars)): the layers
// of more than 2^(max_table_log + 1) entries next to the input are never held; each is a function
// of the input (fill, then the gates of the levels below it), and its sumcheck streams its first
// rounds from that function until its tables have at most 2^max_table_log entries
// (streamed_sumcheck.hpp), which costs one pass over the input per streamed round. The passes
// run on the library's thread pool: fill is called from several threads at once and must be
// safe to call concurrently.
using GkrInputFill = std::function<void(size_t begin, size_t end, QM31* const* columns)>;
GkrProverOutput prove_gkr(const GkrCircuit& circuit, const GkrInputFill& fill, Blake2sChannel& channel,
                          SumcheckBackend& backend = default_sumcheck_backend(), uint32_t max_table_log = 0);

// The default bound (streamed_sumcheck.hpp's default_max_table_log: tables of at most
// 2^max(20, n - 6) entries; with the held layers ~3 bytes per input entry), from 21 passes over
// the input at 2^30 entries down to 2 at 2^21 and below.
constexpr uint32_t gkr_max_table_log(uint32_t n_input_vars) { return default_max_table_log(n_input_vars); }

struct GkrVerdict {
  bool accepted = false;
  std::string reason;
  std::vector<std::vector<QM31>> output;  // as in the proof: the caller judges it
  std::vector<QM31> input_point;          // the claims left: MLE(input column c)(input_point)
  std::vector<QM31> input_claims;         //   = input_claims[c], to be discharged by the caller
};

// Never throws on a malformed proof or circuit.
GkrVerdict verify_gkr(const GkrCircuit& circuit, const GkrProof& proof, Blake2sChannel& channel);

}  // namespace ptvm::sumcheck
