// GKR for binary-tree layered circuits (see ptvm/sumcheck/gkr.hpp).
#include "ptvm/sumcheck/gkr.hpp"

#include <algorithm>
#include <exception>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/common/parallel.hpp"
#include "ptvm/common/threads.hpp"
#include "ptvm/sumcheck/mle.hpp"
#include "ptvm/sumcheck/streamed_sumcheck.hpp"

namespace ptvm::sumcheck {
namespace {

void require_circuit(const GkrCircuit& circuit) {
  if (circuit.gates.empty()) throw Error(ErrorCategory::Usage, "gkr: a circuit of no layer");
  if (circuit.n_input_vars() > 40) throw Error(ErrorCategory::Usage, "gkr: more than 40 input variables");
  const bool fraction = circuit.gates[0] == GkrGate::Fraction;
  for (GkrGate g : circuit.gates) {
    if (g != GkrGate::Add && g != GkrGate::Mul && g != GkrGate::Fraction)
      throw Error(ErrorCategory::Usage, "gkr: unknown gate");
    if ((g == GkrGate::Fraction) != fraction)
      throw Error(ErrorCategory::Usage, "gkr: Fraction layers cannot be mixed with Add/Mul layers");
  }
}

// The layer's sumcheck shape over the mask factors (column c: factor 2c = V(0, .), 2c+1 = V(1, .)).
ProductShape layer_shape(GkrGate gate, QM31 alpha) {
  ProductShape s;
  const QM31 one = QM31::one();
  switch (gate) {
    case GkrGate::Add:  // lo + hi
      s.n_factors = 2;
      s.n_terms = 2;
      s.term_masks[0] = 0b01;
      s.term_masks[1] = 0b10;
      s.term_coefficients[0] = s.term_coefficients[1] = one;
      break;
    case GkrGate::Mul:  // lo * hi
      s.n_factors = 2;
      s.n_terms = 1;
      s.term_masks[0] = 0b11;
      s.term_coefficients[0] = one;
      break;
    case GkrGate::Fraction:  // p0 q1 + p1 q0 + alpha q0 q1; factors p0, p1, q0, q1
      s.n_factors = 4;
      s.n_terms = 3;
      s.term_masks[0] = 0b1001;
      s.term_masks[1] = 0b0110;
      s.term_masks[2] = 0b1100;
      s.term_coefficients[0] = s.term_coefficients[1] = one;
      s.term_coefficients[2] = alpha;
      break;
  }
  return s;
}

QM31 combine(std::span<const QM31> claims, QM31 alpha) {
  QM31 acc = QM31::zero(), power = QM31::one();
  for (const QM31& c : claims) {
    acc += power * c;
    power *= alpha;
  }
  return acc;
}

std::vector<QM31> next_claims(std::span<const QM31> mask, QM31 c) {
  std::vector<QM31> out;
  for (size_t k = 0; k + 1 < mask.size(); k += 2) out.push_back(fold_pair(mask[k], mask[k + 1], c));
  return out;
}

std::vector<QM31> prepend(QM31 c, std::span<const QM31> point) {
  std::vector<QM31> out{c};
  out.insert(out.end(), point.begin(), point.end());
  return out;
}

}  // namespace

size_t GkrCircuit::n_columns() const {
  return !gates.empty() && gates[0] == GkrGate::Fraction ? 2 : 1;
}

namespace {

using Layer = std::vector<std::vector<QM31>>;  // a layer's columns (one, or p and q)

// One gate on two entries of a layer (column values lo = in[x], hi = in[x + half]).
struct Entry {
  QM31 v[2];
};

Entry apply_gate(GkrGate gate, const Entry& lo, const Entry& hi) {
  Entry out{};
  switch (gate) {
    case GkrGate::Add: out.v[0] = lo.v[0] + hi.v[0]; break;
    case GkrGate::Mul: out.v[0] = lo.v[0] * hi.v[0]; break;
    case GkrGate::Fraction:  // (p0 q1 + p1 q0, q0 q1)
      out.v[0] = lo.v[0] * hi.v[1] + hi.v[0] * lo.v[1];
      out.v[1] = lo.v[1] * hi.v[1];
      break;
  }
  return out;
}

Entry entry_at(const Layer& layer, size_t x) {
  Entry e{};
  for (size_t c = 0; c < layer.size(); ++c) e.v[c] = layer[c][x];
  return e;
}

void store(Layer& layer, size_t x, const Entry& e) {
  for (size_t c = 0; c < layer.size(); ++c) layer[c][x] = e.v[c];
}

// The entries of a layer are independent: any split into ranges on `threads` threads gives the
// same layer.

// The layer that `gate` makes from `in` (half its size).
Layer next_layer(GkrGate gate, const Layer& in, unsigned threads) {
  const size_t half = in[0].size() / 2;
  Layer out(in.size(), std::vector<QM31>(half));
  parallel_for(half, size_t{1} << 13, [&](size_t begin, size_t end) {
    for (size_t x = begin; x < end; ++x) store(out, x, apply_gate(gate, entry_at(in, x), entry_at(in, x + half)));
  }, threads);
  return out;
}

// Two layers up at once (`first` then `second`) without the middle layer: the same values as
// next_layer(second, next_layer(first, in)), a quarter of in's size.
Layer layer_two_up(GkrGate first, GkrGate second, const Layer& in, unsigned threads) {
  const size_t half = in[0].size() / 2, quarter = half / 2;
  Layer out(in.size(), std::vector<QM31>(quarter));
  parallel_for(quarter, size_t{1} << 13, [&](size_t begin, size_t end) {
    for (size_t x = begin; x < end; ++x) {
      const Entry lo = apply_gate(first, entry_at(in, x), entry_at(in, x + half));
      const Entry hi = apply_gate(first, entry_at(in, x + quarter), entry_at(in, x + quarter + half));
      store(out, x, apply_gate(second, lo, hi));
    }
  }, threads);
  return out;
}

void check_input(const GkrCircuit& circuit, const Layer& input) {
  require_circuit(circuit);
  const size_t n_cols = circuit.n_columns();
  if (input.size() != n_cols)
    throw Error(ErrorCategory::Usage, "gkr: " + std::to_string(input.size()) + " input columns, expected " +
                                          std::to_string(n_cols));
  const size_t size = size_t{1} << circuit.n_input_vars();
  for (const auto& col : input)
    if (col.size() != size)
      throw Error(ErrorCategory::Usage, "gkr: input column of " + std::to_string(col.size()) +
                                            " entries, expected " + std::to_string(size));
}

}  // namespace

std::vector<std::vector<std::vector<QM31>>> evaluate_gkr_circuit(const GkrCircuit& circuit,
                                                                 std::vector<std::vector<QM31>> input) {
  check_input(circuit, input);
  std::vector<Layer> layers(circuit.gates.size() + 1);
  layers.back() = std::move(input);
  for (size_t l = circuit.gates.size(); l-- > 0;) layers[l] = next_layer(circuit.gates[l], layers[l + 1], configured_thread_count());
  return layers;
}

namespace {

// Entries [begin, end) of the layer `level` levels above the input (level 0: the input), from
// the input's fill and the gates below that layer: 2^level ranges of the input per call.
void fill_level(const GkrCircuit& circuit, const GkrInputFill& fill, uint32_t level, size_t begin, size_t end,
                QM31* const* cols) {
  if (level == 0) {
    fill(begin, end, cols);
    return;
  }
  const size_t depth = circuit.gates.size(), n_cols = circuit.n_columns();
  const size_t size = size_t{1} << (circuit.n_input_vars() - level);  // this layer's size
  const GkrGate gate = circuit.gates[depth - level];
  Layer low(n_cols, std::vector<QM31>(end - begin)), high(n_cols, std::vector<QM31>(end - begin));
  QM31* low_ptrs[2] = {low[0].data(), n_cols > 1 ? low[1].data() : nullptr};
  QM31* high_ptrs[2] = {high[0].data(), n_cols > 1 ? high[1].data() : nullptr};
  fill_level(circuit, fill, level - 1, begin, end, low_ptrs);
  fill_level(circuit, fill, level - 1, size + begin, size + end, high_ptrs);
  for (size_t x = 0; x < end - begin; ++x) {
    const Entry e = apply_gate(gate, entry_at(low, x), entry_at(high, x));
    for (size_t c = 0; c < n_cols; ++c) cols[c][x] = e.v[c];
  }
}

// The whole layer `level` levels above the input, from the input's fill, chunk by chunk.
Layer materialise_level(const GkrCircuit& circuit, const GkrInputFill& fill, uint32_t level, unsigned threads) {
  const size_t n_cols = circuit.n_columns(), size = size_t{1} << (circuit.n_input_vars() - level);
  const size_t chunk = std::min<size_t>(size, size_t{1} << 12);
  Layer out(n_cols, std::vector<QM31>(size));
  // Chunks are disjoint: ranges of them on the pool (the fill is called concurrently).
  parallel_for(size / chunk, 1, [&](size_t first, size_t last) {
    for (size_t x0 = first * chunk; x0 < last * chunk; x0 += chunk) {
      QM31* ptrs[2] = {out[0].data() + x0, n_cols > 1 ? out[1].data() + x0 : nullptr};
      fill_level(circuit, fill, level, x0, x0 + chunk, ptrs);
    }
  }, threads);
  return out;
}

// What a fill-given prover holds: layers at levels >= materialised_level; below it, layers are
// functions of the input and their sumchecks stream rounds down to 2^max_table_log entries.
struct ImplicitLayers {
  const GkrInputFill* fill = nullptr;
  uint32_t materialised_level = 0;
  uint32_t max_table_log = 0;
};

// The proof from the layers, output first. A layer that is empty when its sumcheck comes is
// computed then (the layer above the input from the input), or, given `implicit`, streamed from
// the input's fill.
GkrProverOutput prove_layers(const GkrCircuit& circuit, std::vector<Layer> layers, const ImplicitLayers& implicit,
                             Blake2sChannel& channel, SumcheckBackend& backend) {
  const size_t depth = circuit.gates.size();
  const unsigned threads = backend.host_threads();
  GkrProverOutput out;
  out.proof.output = layers[0];
  for (const auto& col : layers[0]) channel.mix_felts(col);
  std::vector<QM31> point = circuit.n_output_vars > 0 ? channel.draw_felts(circuit.n_output_vars)
                                                      : std::vector<QM31>{};
  std::vector<QM31> claims;
  for (const auto& col : layers[0]) claims.push_back(evaluate_mle<QM31>(col, point));

  for (size_t l = 0; l < circuit.gates.size(); ++l) {
    const QM31 alpha = channel.draw_felt();
    const ProductShape shape = layer_shape(circuit.gates[l], alpha);
    const QM31 claim = combine(claims, alpha);
    const uint32_t level = uint32_t(depth - l - 1);  // of layer l + 1
    auto& next = layers[l + 1];
    ProductSumcheckProof layer_proof;
    std::vector<QM31> r;
    if (next.empty() && implicit.fill && level < implicit.materialised_level && !point.empty()) {
      // Layer l + 1 as a function: the factors (column c: 2c = V(0, .), 2c + 1 = V(1, .)) from it.
      const size_t n_cols = circuit.n_columns();
      const size_t half = size_t{1} << point.size();
      const FactorFill factors = [&](size_t begin, size_t end, QM31* const* cols) {
        QM31* low[2] = {cols[0], n_cols > 1 ? cols[2] : nullptr};
        QM31* high[2] = {cols[1], n_cols > 1 ? cols[3] : nullptr};
        fill_level(circuit, *implicit.fill, level, begin, end, low);
        fill_level(circuit, *implicit.fill, level, half + begin, half + end, high);
      };
      const uint32_t k = streamed_rounds_for(uint32_t(point.size()), implicit.max_table_log);
      auto sc = prove_product_sumcheck_streamed(shape, uint32_t(point.size()), point, factors, k, channel, backend,
                                                &claim);
      layer_proof = std::move(sc.proof);
      r = std::move(sc.point);
    } else {
      // Layer l + 1 is not needed after this sumcheck: its halves become the sumcheck's tables
      // (the low half in place, so a column is never held twice).
      if (next.empty() && implicit.fill) {
        next = materialise_level(circuit, *implicit.fill, level, threads);
      } else if (next.empty()) {
        next = next_layer(circuit.gates[l + 1], layers[l + 2], threads);  // the skipped layer
      }
      const size_t half = next[0].size() / 2;
      std::vector<std::vector<QM31>> mask_tables;
      for (auto& col : next) {
        std::vector<QM31> high(col.begin() + half, col.end());
        col.resize(half);
        col.shrink_to_fit();
        mask_tables.push_back(std::move(col));
        mask_tables.push_back(std::move(high));
      }
      std::vector<std::vector<QM31>>().swap(next);
      if (point.empty()) {
        // No variable left to sum over: the mask is the two entries of each column.
        channel.mix_felts(std::span<const QM31>(&claim, 1));
        for (const auto& t : mask_tables) layer_proof.final_values.push_back(t[0]);
        channel.mix_felts(layer_proof.final_values);
      } else {
        auto sc = prove_product_sumcheck_owned(shape, point, std::move(mask_tables), channel, backend, &claim);
        layer_proof = std::move(sc.proof);
        r = std::move(sc.point);
      }
    }
    const QM31 c = channel.draw_felt();
    claims = next_claims(layer_proof.final_values, c);
    point = prepend(c, r);
    out.proof.layers.push_back(std::move(layer_proof));
  }
  out.input_point = std::move(point);
  out.input_claims = std::move(claims);
  return out;
}

}  // namespace

GkrProverOutput prove_gkr(const GkrCircuit& circuit, std::vector<std::vector<QM31>> input,
                          Blake2sChannel& channel, SumcheckBackend& backend) {
  check_input(circuit, input);
  // The layers, except the one just above the input (the largest after it, half its size): it is
  // recomputed from the input when its sumcheck comes, after the layers above it are freed, so
  // the prover never holds the input, that layer and the rest at once.
  const size_t depth = circuit.gates.size();
  std::vector<Layer> layers(depth + 1);
  layers[depth] = std::move(input);
  const bool skip_middle = depth >= 2;
  const unsigned threads = backend.host_threads();
  if (skip_middle)
    layers[depth - 2] = layer_two_up(circuit.gates[depth - 1], circuit.gates[depth - 2], layers[depth], threads);
  for (size_t l = skip_middle ? depth - 2 : depth; l-- > 0;)
    layers[l] = next_layer(circuit.gates[l], layers[l + 1], threads);
  return prove_layers(circuit, std::move(layers), ImplicitLayers{}, channel, backend);
}

GkrProverOutput prove_gkr(const GkrCircuit& circuit, const GkrInputFill& fill, Blake2sChannel& channel,
                          SumcheckBackend& backend, uint32_t max_table_log) {
  require_circuit(circuit);
  const uint32_t depth = uint32_t(circuit.gates.size()), n_in = circuit.n_input_vars();
  ImplicitLayers implicit;
  implicit.fill = &fill;
  implicit.max_table_log = max_table_log > 0 ? max_table_log : gkr_max_table_log(n_in);
  // The lowest level held: the first of at most 2^(max_table_log + 1) entries (at least the layer
  // above the input, at most the output).
  uint32_t m = 1;
  while (m < depth && n_in - m > implicit.max_table_log + 1) ++m;
  implicit.materialised_level = m;
  std::vector<Layer> layers(depth + 1);
  const unsigned threads = backend.host_threads();
  layers[depth - m] = materialise_level(circuit, fill, m, threads);
  for (size_t l = depth - m; l-- > 0;) layers[l] = next_layer(circuit.gates[l], layers[l + 1], threads);
  return prove_layers(circuit, std::move(layers), implicit, channel, backend);
}

GkrVerdict verify_gkr(const GkrCircuit& circuit, const GkrProof& proof, Blake2sChannel& channel) {
  GkrVerdict v;
  try {
    require_circuit(circuit);
    const size_t n_cols = circuit.n_columns();
    const size_t out_size = size_t{1} << circuit.n_output_vars;
    if (proof.output.size() != n_cols) {
      v.reason = "gkr: the output has " + std::to_string(proof.output.size()) + " columns, expected " +
                 std::to_string(n_cols);
      return v;
    }
    for (const auto& col : proof.output)
      if (col.size() != out_size) {
        v.reason = "gkr: an output column of " + std::to_string(col.size()) + " entries, expected " +
                   std::to_string(out_size);
        return v;
      }
    if (proof.layers.size() != circuit.gates.size()) {
      v.reason = "gkr: " + std::to_string(proof.layers.size()) + " layer proofs, expected " +
                 std::to_string(circuit.gates.size());
      return v;
    }
    for (const auto& col : proof.output)
      if (!all_canonical(col)) {
        v.reason = "gkr: an output value is not canonical";
        return v;
      }
    for (const auto& col : proof.output) channel.mix_felts(col);
    std::vector<QM31> point = circuit.n_output_vars > 0 ? channel.draw_felts(circuit.n_output_vars)
                                                        : std::vector<QM31>{};
    std::vector<QM31> claims;
    for (const auto& col : proof.output) claims.push_back(evaluate_mle<QM31>(col, point));

    for (size_t l = 0; l < circuit.gates.size(); ++l) {
      const std::string where = "gkr layer " + std::to_string(l) + ": ";
      const QM31 alpha = channel.draw_felt();
      const ProductShape shape = layer_shape(circuit.gates[l], alpha);
      const QM31 claim = combine(claims, alpha);
      const ProductSumcheckProof& lp = proof.layers[l];
      std::vector<QM31> r;
      if (point.empty()) {
        if (!lp.sumcheck.rounds.empty()) {
          v.reason = where + "round polynomials for a layer of no variable";
          return v;
        }
        if (lp.final_values.size() != shape.n_factors) {
          v.reason = where + std::to_string(lp.final_values.size()) + " mask values, expected " +
                     std::to_string(shape.n_factors);
          return v;
        }
        if (!all_canonical(lp.final_values)) {
          v.reason = where + "a mask value is not canonical";
          return v;
        }
        channel.mix_felts(std::span<const QM31>(&claim, 1));
        if (shape.evaluate(lp.final_values.data()) != claim) {
          v.reason = where + "the gate on the mask differs from the claim";
          return v;
        }
        channel.mix_felts(lp.final_values);
      } else {
        ProductSumcheckVerdict sc =
            verify_product_sumcheck(shape, uint32_t(point.size()), point, claim, lp, channel);
        if (!sc.accepted) {
          v.reason = where + sc.reason;
          return v;
        }
        r = std::move(sc.point);
      }
      const QM31 c = channel.draw_felt();
      claims = next_claims(lp.final_values, c);
      point = prepend(c, r);
    }
    v.output = proof.output;
    v.input_point = std::move(point);
    v.input_claims = std::move(claims);
    v.accepted = true;
  } catch (const std::exception& e) {
    v.accepted = false;
    v.reason = std::string("gkr: ") + e.what();
  }
  return v;
}

}  // namespace ptvm::sumcheck
