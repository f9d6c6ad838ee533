// GKR for layered arithmetic circuits with arbitrary wiring (Goldwasser, Kalai, Rothblum 2008;
// the linear-time prover of Libra, Xie, Zhang, Zhang, Papamanthou, Song 2019, §3 "phase 1 /
// phase 2", also Thaler, "Proofs, Arguments, and Zero-Knowledge" §4.6). gkr.hpp is the special
// case of binary-tree wiring; this one lets every gate name any two outputs of the layer below.
//
// Circuit: layers[0] is the output layer; the gates of layers[i] read layer i + 1; layer `depth`
// is the input (n_inputs values). Layer i is padded to 2^{s_i} entries by gates that do not exist
// (value 0): s_0 = ceil(log2 |layers[0]|) (0 allowed), every other layer s_i >= 1.
// W_i is the MLE of layer i, and add_i, mul_i the MLEs of the wiring predicates.
//
// One layer: the claim  sum_k a_k W_i(p_k)  (one point p_0 = r, a_0 = 1 at the output; two points
// afterwards) is, with G(g) = sum_k a_k eq(p_k, g),
//   sum_{x, y in {0,1}^{s_{i+1}}} sum_g G(g) [add_i(g, x, y) (W(x) + W(y))
//                                              + mul_i(g, x, y) W(x) W(y)],
// proven by one sumcheck of 2 s_{i+1} rounds of degree 2, x first. The prover never builds the
// predicates: for the x rounds (phase 1) the sum is sum_x W(x) H1(x) + H0(x) with
//   H1(x) = sum_{g: in0 = x} G(g) [add ? 1 : W(in1)],  H0(x) = sum_{g add: in0 = x} G(g) W(in1),
// and after x = u, for the y rounds (phase 2) sum_y W(y) K1(y) + K0(y) with E(g) = G(g) eq(u, in0)
//   K1(y) = sum_{g: in1 = y} E(g) [add ? 1 : W(u)],     K0(y) = sum_{g add: in1 = y} E(g) W(u):
// O(gates + 2^{s_{i+1}}) per layer. The verifier checks the final claim against
//   sum_g G(g) eq(u, in0) eq(v, in1) [add ? W(u) + W(v) : W(u) W(v)]
// with the prover's W(u), W(v): O(gates + 2^{s_i} + 2^{s_{i+1}}) (three eq tables and one pass).
// The two claims W(u), W(v) on layer i + 1 are joined by a fresh lambda: a = (1, lambda).
//
// Transcript (prover and verifier): mix_root(circuit digest); mix_felts(outputs, padded);
// r = draw_felts(s_0); per layer i: mix_felts([claim]); the rounds as verify_sumcheck_rounds
// (degree 2); mix_felts([W(u), W(v)]); lambda = draw_felt() (not drawn after the last layer).
// The circuit is bound by its digest; the caller binds the input (if public) before, and
// discharges the two claims left on the input MLE (a public input: evaluate it,
// check_layered_gkr_input; a committed one: open the commitment at both points).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/sumcheck/backend.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"

namespace ptvm::sumcheck {

enum class WiredGateKind : uint8_t { Add, Mul };

struct WiredGate {
  WiredGateKind kind = WiredGateKind::Add;
  uint32_t left = 0, right = 0; // indices into the layer below
};

struct LayeredCircuit {
  std::vector<std::vector<WiredGate>> layers; // layers[0]: the output gates
  uint32_t n_inputs = 0;

  size_t depth() const { return layers.size(); }
  // log2 of layer i's padded size (i == depth(): the input layer).
  uint32_t layer_vars(size_t i) const;
};

// Usage error naming the layer and gate when the circuit is malformed (no layer, an empty layer,
// an input index out of range, a layer above 2^30 entries).
void require_valid_circuit(const LayeredCircuit& circuit);

// Blake2s of the circuit's description (what the transcript binds).
hash::Blake2sHash layered_circuit_digest(const LayeredCircuit& circuit);

// Every layer's values, unpadded: values[0] the outputs, values[depth] the input.
std::vector<std::vector<QM31>> evaluate_layered_circuit(const LayeredCircuit& circuit,
                                                        std::span<const QM31> input);

struct LayeredGkrProof {
  std::vector<QM31> output;                 // the outputs (|layers[0]| values, unpadded)
  std::vector<ProductSumcheckProof> layers; // per layer: 2 s_{i+1} rounds; final values W(u), W(v)
};

// What is left on the input MLE: W_input(points[k]) = claims[k], k = 0, 1.
struct LayeredGkrInputClaims {
  std::vector<QM31> points[2];
  QM31 claims[2];
};

struct LayeredGkrProverOutput {
  LayeredGkrProof proof;
  LayeredGkrInputClaims input;
};

LayeredGkrProverOutput prove_layered_gkr(const LayeredCircuit& circuit, std::span<const QM31> input,
                                         Blake2sChannel& channel,
                                         SumcheckBackend& backend = default_sumcheck_backend());

struct LayeredGkrVerdict {
  bool accepted = false;
  std::string reason;
  std::vector<QM31> output;    // as in the proof: the caller judges it
  LayeredGkrInputClaims input; // to be discharged by the caller
};

// Never throws on a malformed proof or circuit.
LayeredGkrVerdict verify_layered_gkr(const LayeredCircuit& circuit, const LayeredGkrProof& proof,
                                     Blake2sChannel& channel);

// Discharges the input claims against a public input (padded with zeros): empty when they hold,
// else the reason. Never throws.
std::string check_layered_gkr_input(const LayeredCircuit& circuit,
                                    const LayeredGkrInputClaims& claims,
                                    std::span<const QM31> input);

} // namespace ptvm::sumcheck
