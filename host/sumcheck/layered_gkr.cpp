// GKR for layered circuits with arbitrary wiring (see ptvm/sumcheck/layered_gkr.hpp).
#include "ptvm/sumcheck/layered_gkr.hpp"

#include <exception>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/mle.hpp"

namespace ptvm::sumcheck {
namespace {

constexpr uint32_t kMaxLayerVars = 30;

uint32_t ceil_log2(size_t n) {
  uint32_t log = 0;
  while ((size_t{1} << log) < n)
    ++log;
  return log;
}

size_t layer_size(const LayeredCircuit& c, size_t i) {
  return i == c.layers.size() ? c.n_inputs : c.layers[i].size();
}

// The phase shape: g = W * T1 + T0 over the factors (W, T1, T0).
ProductShape phase_shape() {
  ProductShape s;
  s.n_factors = 3;
  s.n_terms = 2;
  s.term_masks[0] = 0b011;
  s.term_masks[1] = 0b100;
  s.term_coefficients[0] = s.term_coefficients[1] = QM31::one();
  return s;
}

// G(g) = sum_k a_k eq(p_k, g) over the padded layer.
std::vector<QM31> claim_weights(std::span<const std::vector<QM31>> points,
                                std::span<const QM31> coefficients) {
  std::vector<QM31> g = eq_table(points[0], coefficients[0]);
  for (size_t k = 1; k < points.size(); ++k) {
    const std::vector<QM31> t = eq_table(points[k], coefficients[k]);
    for (size_t j = 0; j < g.size(); ++j)
      g[j] += t[j];
  }
  return g;
}

// The rounds of one phase on the backend; appends to `proof` and `point`, returns W at the point.
QM31 run_phase(std::vector<std::vector<QM31>> tables, Blake2sChannel& channel,
               SumcheckBackend& backend, SumcheckProof& proof, std::vector<QM31>& point) {
  const ProductShape shape = phase_shape();
  const unsigned n_vars = log2_table_size(tables[0].size(), "layered gkr phase");
  std::unique_ptr<SumcheckTables> resident =
      backend.load_tables(std::span<const std::vector<QM31>>(tables), std::span<const QM31>());
  tables.clear();
  for (unsigned round = 0; round < n_vars; ++round) {
    const std::vector<QM31> evals = backend.sumcheck_round(*resident, shape, 2);
    RoundPolynomial p{coefficients_from_evaluations(evals)};
    channel.mix_felts(p.coefficients);
    const QM31 r = channel.draw_felt();
    point.push_back(r);
    backend.fix_first_variable(*resident, r);
    proof.rounds.push_back(std::move(p));
  }
  return resident->to_host()[0][0];
}

std::string gate_where(size_t layer, size_t gate) {
  return "layer " + std::to_string(layer) + " gate " + std::to_string(gate);
}

} // namespace

uint32_t LayeredCircuit::layer_vars(size_t i) const {
  const uint32_t log = ceil_log2(layer_size(*this, i));
  return i == 0 ? log : (log == 0 ? 1 : log);
}

void require_valid_circuit(const LayeredCircuit& c) {
  if (c.layers.empty())
    throw Error(ErrorCategory::Usage, "layered gkr: a circuit of no layer");
  for (size_t i = 0; i <= c.layers.size(); ++i) {
    const size_t n = layer_size(c, i);
    if (n == 0)
      throw Error(ErrorCategory::Usage, "layered gkr: layer " + std::to_string(i) + " is empty");
    if (n > (size_t{1} << kMaxLayerVars))
      throw Error(ErrorCategory::Usage,
                  "layered gkr: layer " + std::to_string(i) + " has more than 2^30 entries");
  }
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const size_t below = layer_size(c, i + 1);
    for (size_t g = 0; g < c.layers[i].size(); ++g) {
      const WiredGate& gate = c.layers[i][g];
      if (gate.kind != WiredGateKind::Add && gate.kind != WiredGateKind::Mul)
        throw Error(ErrorCategory::Usage,
                    "layered gkr: " + gate_where(i, g) + " has an unknown kind");
      if (gate.left >= below || gate.right >= below)
        throw Error(ErrorCategory::Usage, "layered gkr: " + gate_where(i, g) + " reads past the " +
                                              std::to_string(below) +
                                              " entries of the layer below");
    }
  }
}

hash::Blake2sHash layered_circuit_digest(const LayeredCircuit& c) {
  hash::Blake2s h;
  auto word = [&](uint32_t w) {
    const uint8_t b[4] = {uint8_t(w), uint8_t(w >> 8), uint8_t(w >> 16), uint8_t(w >> 24)};
    h.update(b);
  };
  word(uint32_t(c.layers.size()));
  word(c.n_inputs);
  for (const auto& layer : c.layers) {
    word(uint32_t(layer.size()));
    for (const WiredGate& g : layer) {
      word(uint32_t(g.kind));
      word(g.left);
      word(g.right);
    }
  }
  return h.finalize();
}

std::vector<std::vector<QM31>> evaluate_layered_circuit(const LayeredCircuit& c,
                                                        std::span<const QM31> input) {
  require_valid_circuit(c);
  if (input.size() != c.n_inputs)
    throw Error(ErrorCategory::Usage, "layered gkr: " + std::to_string(input.size()) +
                                          " inputs, expected " + std::to_string(c.n_inputs));
  std::vector<std::vector<QM31>> values(c.layers.size() + 1);
  values.back().assign(input.begin(), input.end());
  for (size_t i = c.layers.size(); i-- > 0;) {
    const auto& below = values[i + 1];
    auto& out = values[i];
    out.resize(c.layers[i].size());
    for (size_t g = 0; g < out.size(); ++g) {
      const WiredGate& gate = c.layers[i][g];
      out[g] = gate.kind == WiredGateKind::Add ? below[gate.left] + below[gate.right]
                                               : below[gate.left] * below[gate.right];
    }
  }
  return values;
}

LayeredGkrProverOutput prove_layered_gkr(const LayeredCircuit& c, std::span<const QM31> input,
                                         Blake2sChannel& channel, SumcheckBackend& backend) {
  std::vector<std::vector<QM31>> values = evaluate_layered_circuit(c, input);
  for (size_t i = 0; i < values.size(); ++i)
    values[i].resize(size_t{1} << c.layer_vars(i), QM31::zero());

  LayeredGkrProverOutput out;
  out.proof.output.assign(values[0].begin(), values[0].begin() + c.layers[0].size());
  channel.mix_root(layered_circuit_digest(c));
  channel.mix_felts(values[0]);
  std::vector<std::vector<QM31>> points{c.layer_vars(0) > 0 ? channel.draw_felts(c.layer_vars(0))
                                                            : std::vector<QM31>{}};
  std::vector<QM31> coefficients{QM31::one()};
  QM31 claim = evaluate_mle<QM31>(values[0], points[0]);

  for (size_t i = 0; i < c.layers.size(); ++i) {
    const auto& gates = c.layers[i];
    const std::vector<QM31>& w = values[i + 1];
    const size_t n = w.size();
    const std::vector<QM31> weight = claim_weights(points, coefficients);
    channel.mix_felts(std::span<const QM31>(&claim, 1));

    ProductSumcheckProof layer_proof;
    std::vector<QM31> uv;
    // Phase 1: x.
    std::vector<std::vector<QM31>> tables(3, std::vector<QM31>(n, QM31::zero()));
    tables[0] = w;
    for (size_t g = 0; g < gates.size(); ++g) {
      const WiredGate& gate = gates[g];
      if (gate.kind == WiredGateKind::Add) {
        tables[1][gate.left] += weight[g];
        tables[2][gate.left] += weight[g] * w[gate.right];
      } else {
        tables[1][gate.left] += weight[g] * w[gate.right];
      }
    }
    const QM31 w_u = run_phase(std::move(tables), channel, backend, layer_proof.sumcheck, uv);
    // Phase 2: y, with x = u.
    const std::vector<QM31> eq_u = eq_table(uv);
    tables.assign(3, std::vector<QM31>(n, QM31::zero()));
    tables[0] = w;
    for (size_t g = 0; g < gates.size(); ++g) {
      const WiredGate& gate = gates[g];
      const QM31 e = weight[g] * eq_u[gate.left];
      if (gate.kind == WiredGateKind::Add) {
        tables[1][gate.right] += e;
        tables[2][gate.right] += e * w_u;
      } else {
        tables[1][gate.right] += e * w_u;
      }
    }
    const QM31 w_v = run_phase(std::move(tables), channel, backend, layer_proof.sumcheck, uv);
    layer_proof.final_values = {w_u, w_v};
    channel.mix_felts(layer_proof.final_values);
    out.proof.layers.push_back(std::move(layer_proof));

    const size_t s = c.layer_vars(i + 1);
    points = {std::vector<QM31>(uv.begin(), uv.begin() + s),
              std::vector<QM31>(uv.begin() + s, uv.end())};
    if (i + 1 < c.layers.size()) {
      const QM31 lambda = channel.draw_felt();
      coefficients = {QM31::one(), lambda};
      claim = w_u + lambda * w_v;
    }
  }
  const auto& last = out.proof.layers.back().final_values;
  out.input.points[0] = points[0];
  out.input.points[1] = points[1];
  out.input.claims[0] = last[0];
  out.input.claims[1] = last[1];
  return out;
}

LayeredGkrVerdict verify_layered_gkr(const LayeredCircuit& c, const LayeredGkrProof& proof,
                                     Blake2sChannel& channel) {
  LayeredGkrVerdict v;
  try {
    require_valid_circuit(c);
    if (proof.output.size() != c.layers[0].size()) {
      v.reason = "layered gkr: " + std::to_string(proof.output.size()) + " outputs, expected " +
                 std::to_string(c.layers[0].size());
      return v;
    }
    if (!all_canonical(proof.output)) {
      v.reason = "layered gkr: an output value is not canonical";
      return v;
    }
    if (proof.layers.size() != c.layers.size()) {
      v.reason = "layered gkr: " + std::to_string(proof.layers.size()) +
                 " layer proofs, expected " + std::to_string(c.layers.size());
      return v;
    }
    std::vector<QM31> output = proof.output;
    output.resize(size_t{1} << c.layer_vars(0), QM31::zero());
    channel.mix_root(layered_circuit_digest(c));
    channel.mix_felts(output);
    std::vector<std::vector<QM31>> points{c.layer_vars(0) > 0 ? channel.draw_felts(c.layer_vars(0))
                                                              : std::vector<QM31>{}};
    std::vector<QM31> coefficients{QM31::one()};
    QM31 claim = evaluate_mle<QM31>(output, points[0]);

    for (size_t i = 0; i < c.layers.size(); ++i) {
      const std::string where = "layered gkr layer " + std::to_string(i) + ": ";
      const ProductSumcheckProof& lp = proof.layers[i];
      const uint32_t s = c.layer_vars(i + 1);
      channel.mix_felts(std::span<const QM31>(&claim, 1));
      SumcheckVerdict rounds = verify_sumcheck_rounds(2 * s, 2, claim, lp.sumcheck, channel);
      if (!rounds.accepted) {
        v.reason = where + rounds.reason;
        return v;
      }
      if (lp.final_values.size() != 2) {
        v.reason = where + std::to_string(lp.final_values.size()) + " final values, expected 2";
        return v;
      }
      if (!all_canonical(lp.final_values)) {
        v.reason = where + "a final value is not canonical";
        return v;
      }
      const QM31 w_u = lp.final_values[0], w_v = lp.final_values[1];
      const std::span<const QM31> u(rounds.point.data(), s), vv(rounds.point.data() + s, s);
      // The wiring predicates at (G, u, v): one pass over the gates.
      const std::vector<QM31> weight = claim_weights(points, coefficients);
      const std::vector<QM31> eq_u = eq_table(u), eq_v = eq_table(vv);
      QM31 add_sum = QM31::zero(), mul_sum = QM31::zero();
      const auto& gates = c.layers[i];
      for (size_t g = 0; g < gates.size(); ++g) {
        const QM31 term = weight[g] * eq_u[gates[g].left] * eq_v[gates[g].right];
        if (gates[g].kind == WiredGateKind::Add)
          add_sum += term;
        else
          mul_sum += term;
      }
      if (add_sum * (w_u + w_v) + mul_sum * (w_u * w_v) != rounds.claim) {
        v.reason = where + "the wiring predicates on W(u), W(v) do not give the reduced claim";
        return v;
      }
      channel.mix_felts(lp.final_values);
      points = {std::vector<QM31>(u.begin(), u.end()), std::vector<QM31>(vv.begin(), vv.end())};
      if (i + 1 < c.layers.size()) {
        const QM31 lambda = channel.draw_felt();
        coefficients = {QM31::one(), lambda};
        claim = w_u + lambda * w_v;
      } else {
        v.input.points[0] = points[0];
        v.input.points[1] = points[1];
        v.input.claims[0] = w_u;
        v.input.claims[1] = w_v;
      }
    }
    v.output = proof.output;
    v.accepted = true;
  } catch (const std::exception& e) {
    v.accepted = false;
    v.reason = std::string("layered gkr: ") + e.what();
  }
  return v;
}

std::string check_layered_gkr_input(const LayeredCircuit& c, const LayeredGkrInputClaims& claims,
                                    std::span<const QM31> input) {
  try {
    if (input.size() != c.n_inputs)
      return "layered gkr: " + std::to_string(input.size()) + " inputs, expected " +
             std::to_string(c.n_inputs);
    std::vector<QM31> padded(input.begin(), input.end());
    padded.resize(size_t{1} << c.layer_vars(c.depth()), QM31::zero());
    for (int k = 0; k < 2; ++k)
      if (evaluate_mle<QM31>(padded, claims.points[k]) != claims.claims[k])
        return "layered gkr: input claim " + std::to_string(k) + " differs from the input";
    return {};
  } catch (const std::exception& e) {
    return std::string("layered gkr: ") + e.what();
  }
}

} // namespace ptvm::sumcheck
