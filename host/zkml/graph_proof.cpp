// The graph's prover and verifier: one pass from the output to the input (graph.hpp).
#include <algorithm>
#include <bit>
#include <exception>
#include <optional>

#include "ptvm/common/error.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/logup_gkr.hpp"
#include "ptvm/sumcheck/mle.hpp"
#include "ptvm/sumcheck/streamed_sumcheck.hpp"
#include "ptvm/zkml/graph.hpp"

namespace ptvm::zkml {
namespace {

using sumcheck::ProductShape;

struct Claim {
  std::vector<QM31> point;
  QM31 value;
};

ProductShape product_shape(uint32_t n_factors) {
  ProductShape s;
  s.n_factors = n_factors;
  s.n_terms = 1;
  s.term_masks[0] = (1u << n_factors) - 1;
  s.term_coefficients[0] = QM31::one();
  return s;
}

std::vector<QM31> operand_point(const Operand& op, uint32_t lr, uint32_t lc, std::span<const QM31> p) {
  switch (op.broadcast) {
    case Broadcast::None: return {p.begin(), p.end()};
    case Broadcast::Rows: return {p.begin(), p.begin() + lr};
    case Broadcast::Cols: return {p.begin() + lr, p.begin() + lr + lc};
  }
  return {};
}

std::vector<QM31> concat(std::span<const QM31> a, std::span<const QM31> b) {
  std::vector<QM31> out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// (bits of offset >> s, MSB first, in n - s coordinates) ‖ p.
std::vector<QM31> prefixed_point(size_t offset, uint32_t s, uint32_t n, std::span<const QM31> p) {
  std::vector<QM31> out;
  const size_t idx = offset >> s;
  for (uint32_t i = 0; i < n - s; ++i) out.push_back((idx >> (n - s - 1 - i) & 1) ? QM31::one() : QM31::zero());
  out.insert(out.end(), p.begin(), p.end());
  return out;
}

// eq(c_top, bits(offset >> s)) for a block of 2^s at `offset` in a layer of n variables.
QM31 block_weight(std::span<const QM31> c, size_t offset, uint32_t s, uint32_t n) {
  QM31 w = QM31::one();
  const size_t idx = offset >> s;
  for (uint32_t i = 0; i < n - s; ++i) w *= (idx >> (n - s - 1 - i) & 1) ? c[i] : QM31::one() - c[i];
  return w;
}

QM31 combine(M31 tag, QM31 alpha, std::span<const QM31> columns) {
  QM31 acc = QM31(tag), power = alpha;
  for (const QM31& c : columns) {
    acc += power * c;
    power *= alpha;
  }
  return acc;
}

// combine() of M31 columns with the powers alpha, alpha^2, ... given (the prover's hot loop: a base
// times a QM31 is 4 base products, a QM31 product ~4x that); the same field element.
QM31 combine_base(M31 tag, std::span<const QM31> alpha_powers, std::span<const M31> columns) {
  QM31 acc = QM31(tag);
  for (size_t k = 0; k < columns.size(); ++k) acc += alpha_powers[k] * columns[k];
  return acc;
}

std::vector<M31> field_values(const std::vector<int64_t>& v) {
  std::vector<M31> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = to_field(v[i]);
  return out;
}

struct FractionBlock {
  bool is_table = false;
  uint32_t index = 0;
  uint32_t n_vars = 0;
  size_t offset = 0;
};

std::vector<FractionBlock> fraction_blocks(const Graph& g, uint32_t* total_vars) {
  std::vector<FractionBlock> blocks;
  for (size_t i = 0; i < g.lookups().size(); ++i)
    blocks.push_back({false, uint32_t(i), g.lookups()[i].log_rows + g.lookups()[i].log_cols, 0});
  for (size_t i = 0; i < g.tables().size(); ++i)
    blocks.push_back({true, uint32_t(i), g.tables()[i].log_rows + g.tables()[i].log_cols, 0});
  std::stable_sort(blocks.begin(), blocks.end(),
                   [](const FractionBlock& a, const FractionBlock& b) { return a.n_vars > b.n_vars; });
  size_t offset = 0;
  for (FractionBlock& b : blocks) {
    b.offset = offset;
    offset += size_t{1} << b.n_vars;
  }
  *total_vars = sumcheck::fraction_sum_vars(offset);
  return blocks;
}

uint32_t block_cols(const Graph& g, const FractionBlock& b) {
  return b.is_table ? g.tables()[b.index].log_cols : g.lookups()[b.index].log_cols;
}
uint32_t block_rows(const Graph& g, const FractionBlock& b) {
  return b.is_table ? g.tables()[b.index].log_rows : g.lookups()[b.index].log_rows;
}
const std::vector<Operand>& block_operands(const Graph& g, const FractionBlock& b) {
  return b.is_table ? g.tables()[b.index].tensor_columns : g.lookups()[b.index].columns;
}
M31 block_tag(const Graph& g, const FractionBlock& b) {
  return g.tables()[b.is_table ? b.index : g.lookups()[b.index].table].tag();
}

bool default_params(const sumcheck::MleCommitment& c, uint32_t n_vars) {
  const sumcheck::MleCommitmentParams d;
  return c.n_vars == n_vars && c.log_rows == sumcheck::default_log_rows(n_vars) && c.log_blowup == d.log_blowup &&
         c.n_queries == d.n_queries;
}

bool is_packed(TensorKind k) {
  return k == TensorKind::Weight || k == TensorKind::CacheIn || k == TensorKind::Advice || k == TensorKind::CacheOut;
}

// The padding claims (graph.hpp's Proof): per packed tensor with an extent, per pad sub-cube, a
// point drawn from the channel and the claim value zero. Prover and verifier alike.
void add_padding_claims(const Graph& g, Blake2sChannel& ch, std::vector<std::vector<Claim>>& claims) {
  for (size_t t = 0; t < g.tensors().size(); ++t) {
    const TensorInfo& info = g.tensors()[t];
    if (!is_packed(info.kind) || !info.padded()) continue;
    for (const PadCube& c : pad_cubes(info)) {
      const std::vector<QM31> r = ch.draw_felts(info.n_vars() - c.fixed_bits);
      claims[t].push_back({pad_cube_point(info, c, r), QM31::zero()});
    }
  }
}

// The joined claims on a table of values, as the two factors of the join's sumcheck given as a
// function of the position (streamed_sumcheck.hpp): e(x) = sum_k a_k eq(p_k, x - offset_t) over
// the claims of the tensor t holding x, and the value itself. Each claim's eq(p_k, .) is the
// product of two tables of ~2^(n_t / 2) entries, so no table of the join's full size is held.
class JoinedClaims {
 public:
  explicit JoinedClaims(std::span<const M31> values) : values_(values) {}

  void add(size_t offset, uint32_t n_vars, const Claim& claim, QM31 a) {
    if (segments_.empty() || segments_.back().offset != offset) {
      if (!segments_.empty() && segments_.back().offset > offset) sorted_ = false;
      Segment s;
      s.offset = offset;
      s.size = size_t{1} << n_vars;
      s.lo_vars = n_vars - n_vars / 2;
      segments_.push_back(std::move(s));
    }
    Segment& s = segments_.back();
    std::span<const QM31> p(claim.point);
    s.hi.push_back(sumcheck::eq_table(p.first(n_vars / 2), a));
    s.lo.push_back(sumcheck::eq_table(p.subspan(n_vars / 2)));
  }

  sumcheck::FactorFill fill() {
    if (!sorted_)
      std::stable_sort(segments_.begin(), segments_.end(),
                       [](const Segment& x, const Segment& y) { return x.offset < y.offset; });
    return [this](size_t begin, size_t end, QM31* const* cols) {
      for (size_t x = begin; x < end; ++x) {
        cols[0][x - begin] = QM31::zero();
        cols[1][x - begin] = QM31(values_[x]);
      }
      auto it = std::upper_bound(segments_.begin(), segments_.end(), begin,
                                 [](size_t pos, const Segment& s) { return pos < s.offset; });
      if (it != segments_.begin()) --it;
      for (; it != segments_.end() && it->offset < end; ++it) {
        const size_t lo = std::max(begin, it->offset), hi = std::min(end, it->offset + it->size);
        const size_t mask = (size_t{1} << it->lo_vars) - 1;
        for (size_t x = lo; x < hi; ++x) {
          const size_t y = x - it->offset;
          QM31 e = QM31::zero();
          for (size_t k = 0; k < it->hi.size(); ++k) e += it->hi[k][y >> it->lo_vars] * it->lo[k][y & mask];
          cols[0][x - begin] += e;
        }
      }
    };
  }

 private:
  struct Segment {
    size_t offset = 0, size = 0;
    uint32_t lo_vars = 0;
    std::vector<std::vector<QM31>> hi, lo;  // per claim: a_k eq(p_k's high half, .), eq(low half, .)
  };
  std::span<const M31> values_;
  std::vector<Segment> segments_;
  bool sorted_ = true;
};

// ---------------------------------------------------------------------------------------------
class Prover {
 public:
  Prover(const Graph& g, const Values& v, Blake2sChannel& ch, sumcheck::SumcheckBackend& backend, Backend* stark)
      : g_(g), v_(v), ch_(ch), backend_(backend), stark_(stark), claims_(g.tensors().size()), field_(g.tensors().size()) {}

  // A tensor's values in M31. A weight whose values are the committed table's slice is read from
  // the table itself (no second copy of the model); any other tensor is converted once.
  std::span<const M31> field(TensorId t) {
    if (!alias_[t].empty()) return alias_[t];
    if (field_[t].size() != v_[t].size()) field_[t] = field_values(v_[t]);
    return field_[t];
  }
  // restrict_rows / restrict_columns of tensor t as a rows x cols matrix: a weight read from the
  // table is restricted where the backend holds the table (no copy of it per restriction).
  std::vector<QM31> restrict(TensorId t, size_t rows, size_t cols, std::span<const QM31> weights, bool by_rows) {
    if (resident_weights_ && table_offset_[t] != kNotInTable)
      return by_rows ? backend_.restrict_rows(*resident_weights_, table_offset_[t], rows, cols, weights)
                     : backend_.restrict_columns(*resident_weights_, table_offset_[t], rows, cols, weights);
    return by_rows ? backend_.restrict_rows(field(t), rows, cols, weights)
                   : backend_.restrict_columns(field(t), rows, cols, weights);
  }
  QM31 mle(TensorId t, std::span<const QM31> p) {
    return sumcheck::evaluate_mle_by_rows(field(t), p, backend_.host_threads());
  }

  void alias_weights(const sumcheck::CommittedMle& weights) {
    const PackedLayout layout = packed_layout(g_, TensorKind::Weight);
    const auto table = weights.table();
    if (table.size() != (size_t{1} << layout.n_vars)) {
      for (TensorId t : layout.tensors)
        if (v_[t].empty() && g_.tensors()[t].size() > 0)
          throw Error(ErrorCategory::Usage, "prove_graph: released weights and a table of another model");
      return;
    }
    for (TensorId t : layout.tensors) {
      const auto& v = v_[t];
      if (v.empty()) {  // released (release_weight_values): the table is the only copy
        const size_t size = g_.tensors()[t].size();
        if (layout.offsets[t] + size > table.size())
          throw Error(ErrorCategory::Usage, "prove_graph: released weights and a table of another model");
        alias_[t] = table.subspan(layout.offsets[t], size);
        table_offset_[t] = layout.offsets[t];
        continue;
      }
      if (layout.offsets[t] + v.size() > table.size()) continue;
      const auto slice = table.subspan(layout.offsets[t], v.size());
      bool same = true;
      for (size_t i = 0; i < v.size() && same; ++i) same = slice[i] == to_field(v[i]);
      if (same) {
        alias_[t] = slice;
        table_offset_[t] = layout.offsets[t];
      }
    }
  }

  // resident_weights: the weights' table on the backend (upload_matrix, once per model), or null:
  // then uploaded here, once for the proof.
  GraphProof run(const sumcheck::CommittedMle& weights, const sumcheck::CommittedMle* cache_in,
                 const sumcheck::ResidentMatrix* resident_weights) {
    alias_weights(weights);
    std::unique_ptr<sumcheck::ResidentMatrix> uploaded;
    if (!resident_weights) {
      uploaded = backend_.upload_matrix(weights.table());
      resident_weights = uploaded.get();
    } else if (resident_weights->size() != weights.table().size()) {
      throw Error(ErrorCategory::Usage, "prove_graph: resident weights of " + std::to_string(resident_weights->size()) +
                                            " entries for a model table of " + std::to_string(weights.table().size()));
    }
    resident_weights_ = resident_weights;
    const bool has_cache_in = !g_.tensors_of_kind(TensorKind::CacheIn).empty();
    const bool has_cache_out = !g_.tensors_of_kind(TensorKind::CacheOut).empty();
    if (has_cache_in && !cache_in) throw Error(ErrorCategory::Usage, "prove_graph: the graph has a cache but none was given");
    sumcheck::mix_commitment(ch_, weights.commitment());
    if (has_cache_in) sumcheck::mix_commitment(ch_, cache_in->commitment());
    const sumcheck::CommittedMle advice = commit_packed(g_, TensorKind::Advice, v_, 0, stark_);
    proof_.advice_commitment = advice.commitment();
    sumcheck::mix_commitment(ch_, advice.commitment());
    std::optional<sumcheck::CommittedMle> cache_out;
    if (has_cache_out) {
      cache_out.emplace(commit_packed(g_, TensorKind::CacheOut, v_, 0, stark_));
      proof_.cache_out_commitment = cache_out->commitment();
      sumcheck::mix_commitment(ch_, cache_out->commitment());
    }
    if (!g_.lookups().empty()) prove_lookups();
    for (TensorId z : g_.zeros()) claims_[z].push_back({ch_.draw_felts(g_.tensors()[z].n_vars()), QM31::zero()});
    add_padding_claims(g_, ch_, claims_);
    const TensorId out = g_.output();
    std::vector<QM31> r = ch_.draw_felts(g_.tensors()[out].n_vars());
    claims_[out].push_back({r, mle(out, r)});
    for (size_t i = g_.nodes().size(); i-- > 0;) {
      const Node& node = g_.nodes()[i];
      if (claims_[node.output].empty()) continue;
      const Claim c = join(node.output);
      prove_node(node, c);
    }
    open_packed(TensorKind::Weight, weights, resident_weights_);
    if (has_cache_in) open_packed(TensorKind::CacheIn, *cache_in);
    open_packed(TensorKind::Advice, advice);
    if (has_cache_out) open_packed(TensorKind::CacheOut, *cache_out);
    resident_weights_ = nullptr;
    return std::move(proof_);
  }

 private:
  void prove_lookups() {
    const std::vector<QM31> rel = ch_.draw_felts(2);
    const QM31 z = rel[0], alpha = rel[1];
    uint32_t n = 0;
    const auto blocks = fraction_blocks(g_, &n);
    // Every tensor the fill reads converted first (field() caches): the fill then only reads, and
    // the GKR calls it from several threads at once.
    for (const FractionBlock& b : blocks) {
      const Table* table = b.is_table ? &g_.tables()[b.index] : nullptr;
      if (table) field(table->multiplicities);
      if (!table || table->public_columns.empty())
        for (const Operand& op : block_operands(g_, b)) field(op.tensor);
    }
    // alpha^1, alpha^2, ... for the widest tuple (combine_base).
    size_t width = 0;
    for (const FractionBlock& b : blocks) {
      const Table* table = b.is_table ? &g_.tables()[b.index] : nullptr;
      width = std::max(width, table && !table->public_columns.empty() ? table->public_columns.size()
                                                                      : block_operands(g_, b).size());
    }
    std::vector<QM31> alpha_powers(width);
    for (size_t k = 0; k < width; ++k) alpha_powers[k] = k == 0 ? alpha : alpha_powers[k - 1] * alpha;
    // The fraction columns as a function of the position (numerators, denominators; padding
    // p = 0, q = 1): the GKR generates them in chunks instead of holding them beside its layers.
    const auto fill = [&](size_t begin, size_t end, QM31* const* cols) {
      for (size_t pos = begin; pos < end; ++pos) {
        cols[0][pos - begin] = QM31::zero();
        cols[1][pos - begin] = QM31::one();
      }
      std::vector<M31> tuple;
      for (const FractionBlock& b : blocks) {
        const size_t size = size_t{1} << b.n_vars;
        const size_t lo = std::max(begin, b.offset), hi = std::min(end, b.offset + size);
        if (lo >= hi) continue;
        const uint32_t lc = block_cols(g_, b);
        const M31 tag = block_tag(g_, b);
        const Table* table = b.is_table ? &g_.tables()[b.index] : nullptr;
        for (size_t pos = lo; pos < hi; ++pos) {
          const size_t x = pos - b.offset;
          tuple.clear();
          if (table && !table->public_columns.empty()) {
            for (const auto& col : table->public_columns) tuple.push_back(to_field(col[x]));
          } else {
            for (const Operand& op : block_operands(g_, b)) {
              const size_t i = x >> lc, j = x & ((size_t{1} << lc) - 1);
              const size_t idx = op.broadcast == Broadcast::None ? x : op.broadcast == Broadcast::Rows ? i : j;
              tuple.push_back(field(op.tensor)[idx]);
            }
          }
          cols[0][pos - begin] = table ? -QM31(field(table->multiplicities)[x]) : QM31::one();
          cols[1][pos - begin] = z - combine_base(tag, alpha_powers, tuple);
        }
      }
    };
    sumcheck::FractionSumProverOutput out = sumcheck::prove_fraction_sum(n, fill, ch_, backend_);
    proof_.lookup_gkr = std::move(out.proof);
    const std::vector<QM31>& c = out.point;
    for (const FractionBlock& b : blocks) {
      std::span<const QM31> low(c.data() + (n - b.n_vars), b.n_vars);
      const uint32_t lr = block_rows(g_, b), lc = block_cols(g_, b);
      for (const Operand& op : block_operands(g_, b)) {
        std::vector<QM31> pt = operand_point(op, lr, lc, low);
        const QM31 v = mle(op.tensor, pt);
        proof_.lookup_values.push_back(v);
        claims_[op.tensor].push_back({std::move(pt), v});
      }
      if (b.is_table) {
        const TensorId m = g_.tables()[b.index].multiplicities;
        const QM31 v = mle(m, low);
        proof_.lookup_values.push_back(v);
        claims_[m].push_back({{low.begin(), low.end()}, v});
      }
    }
    ch_.mix_felts(proof_.lookup_values);
  }

  Claim join(TensorId t) {
    std::vector<Claim>& cs = claims_[t];
    if (cs.size() == 1 || cs[0].point.empty()) return cs[0];
    const uint32_t n = uint32_t(cs[0].point.size());
    std::vector<QM31> vals;
    for (const Claim& c : cs) vals.push_back(c.value);
    ch_.mix_felts(vals);
    const std::vector<QM31> a = ch_.draw_felts(cs.size());
    JoinedClaims joined_claims(field(t));
    QM31 claim = QM31::zero();
    for (size_t k = 0; k < cs.size(); ++k) {
      joined_claims.add(0, n, cs[k], a[k]);
      claim += a[k] * cs[k].value;
    }
    // The eq combination and the values as a function: the sumcheck streams its first rounds.
    auto out = sumcheck::prove_product_sumcheck_streamed(product_shape(2), n, {}, joined_claims.fill(),
                                                         sumcheck::streamed_rounds_for(n, sumcheck::default_max_table_log(n)),
                                                         ch_, backend_, &claim);
    const Claim joined{out.point, out.proof.final_values[1]};
    proof_.steps.push_back({{}, std::move(out.proof)});
    return joined;
  }

  void send(StepProof& step, const Operand& op, std::vector<QM31> pt) {
    const QM31 v = mle(op.tensor, pt);
    step.values.push_back(v);
    claims_[op.tensor].push_back({std::move(pt), v});
  }

  void prove_node(const Node& node, const Claim& c) {
    const TensorInfo& Y = g_.tensors()[node.output];
    const uint32_t lr = Y.log_rows, lc = Y.log_cols;
    StepProof step;
    auto& backend = backend_;
    switch (node.op) {
      case NodeOp::Linear:
        for (const Operand& op : node.operands) send(step, op, operand_point(op, lr, lc, c.point));
        ch_.mix_felts(step.values);
        break;
      case NodeOp::Mul: {
        if (c.point.empty()) {
          for (const Operand& op : node.operands) send(step, op, {});
          ch_.mix_felts(step.values);
          break;
        }
        std::vector<std::vector<M31>> tables(2, std::vector<M31>(Y.size()));
        for (int k = 0; k < 2; ++k) {
          const Operand& op = node.operands[k];
          const auto f = field(op.tensor);
          for (size_t x = 0; x < Y.size(); ++x) {
            const size_t i = x >> lc, j = x & ((size_t{1} << lc) - 1);
            tables[k][x] = f[op.broadcast == Broadcast::None ? x : op.broadcast == Broadcast::Rows ? i : j];
          }
        }
        auto out = sumcheck::prove_product_sumcheck<M31>(product_shape(2), c.point, tables, ch_, backend, &c.value);
        for (int k = 0; k < 2; ++k)
          claims_[node.operands[k].tensor].push_back(
              {operand_point(node.operands[k], lr, lc, out.point), out.proof.final_values[k]});
        step.sumcheck = std::move(out.proof);
        break;
      }
      case NodeOp::MatMul: {
        const TensorId a = node.operands[0].tensor, b = node.operands[1].tensor;
        const size_t R = size_t{1} << lr, C = size_t{1} << lc, K = size_t{1} << g_.tensors()[a].log_cols;
        std::span<const QM31> pr(c.point.data(), lr), pc(c.point.data() + lr, lc);
        if (K == 1) {  // an outer product: Y(pr, pc) = A(pr) B(pc), both values sent
          send(step, node.operands[0], {pr.begin(), pr.end()});
          send(step, node.operands[1], {pc.begin(), pc.end()});
          ch_.mix_felts(step.values);
          break;
        }
        const auto eqr = sumcheck::eq_table(pr), eqc = sumcheck::eq_table(pc);
        std::vector<std::vector<QM31>> tables;
        tables.push_back(restrict(a, R, K, eqr, true));
        tables.push_back(node.transpose_b ? restrict(b, C, K, eqc, true) : restrict(b, K, C, eqc, false));
        auto out = sumcheck::prove_product_sumcheck<QM31>(product_shape(2), {}, tables, ch_, backend, &c.value);
        claims_[a].push_back({concat(pr, out.point), out.proof.final_values[0]});
        claims_[b].push_back({node.transpose_b ? concat(pc, out.point) : concat(out.point, pc), out.proof.final_values[1]});
        step.sumcheck = std::move(out.proof);
        break;
      }
      case NodeOp::RowSum: {
        const TensorId a = node.operands[0].tensor;
        const size_t R = size_t{1} << lr, AC = size_t{1} << g_.tensors()[a].log_cols;
        if (AC == 1) {  // rows of one entry: Y = A, the value sent
          send(step, node.operands[0], c.point);
          ch_.mix_felts(step.values);
          break;
        }
        std::vector<std::vector<QM31>> tables{restrict(a, R, AC, sumcheck::eq_table(c.point), true)};
        auto out = sumcheck::prove_product_sumcheck<QM31>(product_shape(1), {}, tables, ch_, backend, &c.value);
        claims_[a].push_back({concat(c.point, out.point), out.proof.final_values[0]});
        step.sumcheck = std::move(out.proof);
        break;
      }
      case NodeOp::PairSwap: {
        std::vector<QM31> p0 = c.point, p1 = c.point;
        p0.back() = QM31::zero();
        p1.back() = QM31::one();
        send(step, node.operands[0], p0);
        send(step, node.operands[0], p1);
        ch_.mix_felts(step.values);
        break;
      }
    }
    proof_.steps.push_back(std::move(step));
  }

  void open_packed(TensorKind kind, const sumcheck::CommittedMle& committed,
                   const sumcheck::ResidentMatrix* table_on_backend = nullptr) {
    const PackedLayout layout = packed_layout(g_, kind);
    const uint32_t n = layout.n_vars;
    std::vector<QM31> vals;
    for (TensorId t : layout.tensors)
      for (const Claim& c : claims_[t]) vals.push_back(c.value);
    if (vals.empty()) return;
    ch_.mix_felts(vals);
    const std::vector<QM31> a = ch_.draw_felts(vals.size());
    const auto table = committed.table();
    if (table.size() != size_t{1} << n) throw Error(ErrorCategory::Usage, "prove_graph: a packed table of another size");
    JoinedClaims joined_claims(table);
    QM31 claim = QM31::zero();
    size_t k = 0;
    for (TensorId t : layout.tensors)
      for (const Claim& c : claims_[t]) {
        joined_claims.add(layout.offsets[t], uint32_t(c.point.size()), c, a[k]);
        claim += a[k] * c.value;
        ++k;
      }
    // The eq combination over the packed table and the committed values as a function (the
    // largest sumcheck of the proof: 2^n entries): the first rounds are streamed.
    auto out = sumcheck::prove_product_sumcheck_streamed(product_shape(2), n, {}, joined_claims.fill(),
                                                         sumcheck::streamed_rounds_for(n, sumcheck::default_max_table_log(n)),
                                                         ch_, backend_, &claim);
    const QM31 value = out.proof.final_values[1];
    proof_.steps.push_back({{}, std::move(out.proof)});
    proof_.openings.push_back(committed.open(out.point, value, ch_, backend_, nullptr, table_on_backend));
  }

  const Graph& g_;
  const Values& v_;
  Blake2sChannel& ch_;
  sumcheck::SumcheckBackend& backend_;
  Backend* stark_;
  std::vector<std::vector<Claim>> claims_;
  std::vector<std::vector<M31>> field_;
  std::vector<std::span<const M31>> alias_ = std::vector<std::span<const M31>>(g_.tensors().size());
  // Where an aliased weight lies in the weights' table (kNotInTable for the other tensors).
  static constexpr size_t kNotInTable = SIZE_MAX;
  std::vector<size_t> table_offset_ = std::vector<size_t>(g_.tensors().size(), kNotInTable);
  const sumcheck::ResidentMatrix* resident_weights_ = nullptr;
  GraphProof proof_;
};

// ---------------------------------------------------------------------------------------------
struct Reject {
  std::string reason;
};

class Verifier {
 public:
  Verifier(const Graph& g, const Values& inputs, const std::vector<int64_t>& output, const GraphProof& proof,
           Blake2sChannel& ch)
      : g_(g), inputs_(inputs), output_(output), proof_(proof), ch_(ch), claims_(g.tensors().size()) {}

  void run(const sumcheck::MleCommitment& weights, const sumcheck::MleCommitment* cache_in) {
    const bool has_cache_in = !g_.tensors_of_kind(TensorKind::CacheIn).empty();
    const bool has_cache_out = !g_.tensors_of_kind(TensorKind::CacheOut).empty();
    if (has_cache_in && !cache_in) fail("the graph has a cache but no cache commitment was given");
    const TensorId out = g_.output();
    if (output_.size() != g_.tensors()[out].size()) fail("output: wrong number of values");
    for (TensorId t : g_.tensors_of_kind(TensorKind::Input)) {
      const TensorInfo& info = g_.tensors()[t];
      if (t >= inputs_.size() || inputs_[t].size() != info.size()) fail("input " + info.name + ": wrong number of values");
      if (info.padded() && pad_values(info, unpad_values(info, inputs_[t])) != inputs_[t])
        fail("input " + info.name + ": a padding entry is not zero");
    }
    if (!default_params(weights, packed_layout(g_, TensorKind::Weight).n_vars))
      fail("model commitment: shape or parameters differ from the model's");
    if (!default_params(proof_.advice_commitment, packed_layout(g_, TensorKind::Advice).n_vars))
      fail("advice commitment: shape or parameters differ from the graph's");
    if (has_cache_in && !default_params(*cache_in, packed_layout(g_, TensorKind::CacheIn).n_vars))
      fail("cache-in commitment: shape or parameters differ from the graph's");
    if (has_cache_out && !default_params(proof_.cache_out_commitment, packed_layout(g_, TensorKind::CacheOut).n_vars))
      fail("cache-out commitment: shape or parameters differ from the graph's");
    sumcheck::mix_commitment(ch_, weights);
    if (has_cache_in) sumcheck::mix_commitment(ch_, *cache_in);
    sumcheck::mix_commitment(ch_, proof_.advice_commitment);
    if (has_cache_out) sumcheck::mix_commitment(ch_, proof_.cache_out_commitment);
    if (!g_.lookups().empty()) verify_lookups();
    for (TensorId z : g_.zeros()) claims_[z].push_back({ch_.draw_felts(g_.tensors()[z].n_vars()), QM31::zero()});
    add_padding_claims(g_, ch_, claims_);
    std::vector<QM31> r = ch_.draw_felts(g_.tensors()[out].n_vars());
    claims_[out].push_back({r, sumcheck::evaluate_mle<M31>(field_values(output_), r)});
    for (size_t i = g_.nodes().size(); i-- > 0;) {
      const Node& node = g_.nodes()[i];
      if (claims_[node.output].empty()) continue;
      const Claim c = join(node.output);
      verify_node(node, c);
    }
    for (TensorKind kind : {TensorKind::Input, TensorKind::Public})
      for (TensorId t : g_.tensors_of_kind(kind)) {
        if (claims_[t].empty()) continue;
        const std::vector<M31> f = field_values(kind == TensorKind::Input ? inputs_[t] : g_.public_values(t));
        for (const Claim& c : claims_[t])
          if (sumcheck::evaluate_mle<M31>(f, c.point) != c.value)
            fail(std::string(kind == TensorKind::Input ? "input " : "public tensor ") + g_.tensors()[t].name +
                 ": claim does not hold");
      }
    open_packed(TensorKind::Weight, weights, "weights");
    if (has_cache_in) open_packed(TensorKind::CacheIn, *cache_in, "cache in");
    open_packed(TensorKind::Advice, proof_.advice_commitment, "advice");
    if (has_cache_out) open_packed(TensorKind::CacheOut, proof_.cache_out_commitment, "cache out");
    if (next_opening_ != proof_.openings.size()) fail("proof: openings left over");
    if (next_step_ != proof_.steps.size()) fail("proof: " + std::to_string(proof_.steps.size() - next_step_) +
                                                " steps left over");
  }

 private:
  [[noreturn]] void fail(const std::string& why) { throw Reject{why}; }

  const StepProof& next_step(const std::string& who) {
    if (next_step_ >= proof_.steps.size()) fail(who + ": proof has too few steps");
    return proof_.steps[next_step_++];
  }

  void check_values(const StepProof& s, size_t n, const std::string& who) {
    if (s.values.size() != n) fail(who + ": " + std::to_string(s.values.size()) + " values, expected " + std::to_string(n));
    if (!sumcheck::all_canonical(s.values)) fail(who + ": a value is not canonical");
  }

  sumcheck::ProductSumcheckVerdict check_sumcheck(const StepProof& s, uint32_t n_factors, uint32_t n_vars,
                                                  std::span<const QM31> eq_point, QM31 claim, const std::string& who) {
    check_values(s, 0, who);
    auto verdict = sumcheck::verify_product_sumcheck(product_shape(n_factors), n_vars, eq_point, claim, s.sumcheck, ch_);
    if (!verdict.accepted) fail(who + ": " + verdict.reason);
    if (verdict.final_values.size() != n_factors) fail(who + ": wrong number of final values");
    return verdict;
  }

  void verify_lookups() {
    const std::vector<QM31> rel = ch_.draw_felts(2);
    const QM31 z = rel[0], alpha = rel[1];
    uint32_t n = 0;
    const auto blocks = fraction_blocks(g_, &n);
    const auto verdict = sumcheck::verify_fraction_sum(n, proof_.lookup_gkr, ch_);
    if (!verdict.accepted) fail("lookups: " + verdict.reason);
    if (!verdict.sum.is_zero()) fail("lookups: the LogUp sum is not zero (a looked-up tuple is not in its table)");
    size_t expected = 0;
    for (const FractionBlock& b : blocks) expected += block_operands(g_, b).size() + (b.is_table ? 1 : 0);
    const auto& vals = proof_.lookup_values;
    if (vals.size() != expected || !sumcheck::all_canonical(vals)) fail("lookups: wrong column evaluations");
    ch_.mix_felts(vals);
    const std::vector<QM31>& c = verdict.point;
    QM31 p = QM31::zero(), q = QM31::zero(), wsum = QM31::zero();
    size_t k = 0;
    std::vector<QM31> tuple;
    for (const FractionBlock& b : blocks) {
      std::span<const QM31> low(c.data() + (n - b.n_vars), b.n_vars);
      const uint32_t lr = block_rows(g_, b), lc = block_cols(g_, b);
      tuple.clear();
      for (const Operand& op : block_operands(g_, b)) {
        std::vector<QM31> pt = operand_point(op, lr, lc, low);
        tuple.push_back(vals[k]);
        claims_[op.tensor].push_back({std::move(pt), vals[k++]});
      }
      const QM31 w = block_weight(c, b.offset, b.n_vars, n);
      wsum += w;
      if (b.is_table) {
        const Table& t = g_.tables()[b.index];
        for (const auto& col : t.public_columns)
          tuple.push_back(sumcheck::evaluate_mle<M31>(field_values(col), low));
        const QM31 m = vals[k++];
        claims_[t.multiplicities].push_back({{low.begin(), low.end()}, m});
        p -= w * m;
      } else {
        p += w;
      }
      q += w * (z - combine(block_tag(g_, b), alpha, tuple));
    }
    q += QM31::one() - wsum;
    if (p != verdict.numerator_claim || q != verdict.denominator_claim)
      fail("lookups: the input layer does not match the column evaluations");
  }

  Claim join(TensorId t) {
    std::vector<Claim>& cs = claims_[t];
    const std::string who = "join of " + g_.tensors()[t].name;
    if (cs.size() == 1) return cs[0];
    if (cs[0].point.empty()) {
      for (const Claim& c : cs)
        if (c.value != cs[0].value) fail(who + ": claims disagree");
      return cs[0];
    }
    const uint32_t n = uint32_t(cs[0].point.size());
    std::vector<QM31> vals;
    for (const Claim& c : cs) vals.push_back(c.value);
    ch_.mix_felts(vals);
    const std::vector<QM31> a = ch_.draw_felts(cs.size());
    QM31 claim = QM31::zero();
    for (size_t k = 0; k < cs.size(); ++k) claim += a[k] * cs[k].value;
    const auto verdict = check_sumcheck(next_step(who), 2, n, {}, claim, who);
    QM31 e = QM31::zero();
    for (size_t k = 0; k < cs.size(); ++k) e += a[k] * sumcheck::eq_eval(cs[k].point, verdict.point);
    if (e != verdict.final_values[0]) fail(who + ": wrong eq combination");
    return {verdict.point, verdict.final_values[1]};
  }

  void verify_node(const Node& node, const Claim& c) {
    const TensorInfo& Y = g_.tensors()[node.output];
    const uint32_t lr = Y.log_rows, lc = Y.log_cols;
    const std::string who = "node " + Y.name;
    const StepProof& s = next_step(who);
    switch (node.op) {
      case NodeOp::Linear: {
        check_values(s, node.operands.size(), who);
        QM31 acc = QM31(to_field(node.constant));
        for (size_t k = 0; k < node.operands.size(); ++k) {
          const Operand& op = node.operands[k];
          acc += s.values[k] * to_field(op.coeff);
          claims_[op.tensor].push_back({operand_point(op, lr, lc, c.point), s.values[k]});
        }
        if (acc != c.value) fail(who + ": the linear combination does not hold");
        ch_.mix_felts(s.values);
        break;
      }
      case NodeOp::Mul: {
        if (c.point.empty()) {
          check_values(s, 2, who);
          if (s.values[0] * s.values[1] != c.value) fail(who + ": the product does not hold");
          for (int k = 0; k < 2; ++k) claims_[node.operands[k].tensor].push_back({{}, s.values[k]});
          ch_.mix_felts(s.values);
          break;
        }
        const auto v = check_sumcheck(s, 2, lr + lc, c.point, c.value, who);
        for (int k = 0; k < 2; ++k)
          claims_[node.operands[k].tensor].push_back(
              {operand_point(node.operands[k], lr, lc, v.point), v.final_values[k]});
        break;
      }
      case NodeOp::MatMul: {
        const TensorId a = node.operands[0].tensor, b = node.operands[1].tensor;
        std::span<const QM31> pr(c.point.data(), lr), pc(c.point.data() + lr, lc);
        if (g_.tensors()[a].log_cols == 0) {
          check_values(s, 2, who);
          if (s.values[0] * s.values[1] != c.value) fail(who + ": the outer product does not hold");
          claims_[a].push_back({{pr.begin(), pr.end()}, s.values[0]});
          claims_[b].push_back({{pc.begin(), pc.end()}, s.values[1]});
          ch_.mix_felts(s.values);
          break;
        }
        const auto v = check_sumcheck(s, 2, g_.tensors()[a].log_cols, {}, c.value, who);
        claims_[a].push_back({concat(pr, v.point), v.final_values[0]});
        claims_[b].push_back({node.transpose_b ? concat(pc, v.point) : concat(v.point, pc), v.final_values[1]});
        break;
      }
      case NodeOp::RowSum: {
        const TensorId a = node.operands[0].tensor;
        if (g_.tensors()[a].log_cols == 0) {
          check_values(s, 1, who);
          if (s.values[0] != c.value) fail(who + ": the row sum does not hold");
          claims_[a].push_back({c.point, s.values[0]});
          ch_.mix_felts(s.values);
          break;
        }
        const auto v = check_sumcheck(s, 1, g_.tensors()[a].log_cols, {}, c.value, who);
        claims_[a].push_back({concat(c.point, v.point), v.final_values[0]});
        break;
      }
      case NodeOp::PairSwap: {
        check_values(s, 2, who);
        const QM31 b = c.point.back();
        if ((QM31::one() - b) * (-s.values[1]) + b * s.values[0] != c.value) fail(who + ": the swap does not hold");
        std::vector<QM31> p0 = c.point, p1 = c.point;
        p0.back() = QM31::zero();
        p1.back() = QM31::one();
        claims_[node.operands[0].tensor].push_back({p0, s.values[0]});
        claims_[node.operands[0].tensor].push_back({p1, s.values[1]});
        ch_.mix_felts(s.values);
        break;
      }
    }
  }

  void open_packed(TensorKind kind, const sumcheck::MleCommitment& commitment, const std::string& who) {
    const PackedLayout layout = packed_layout(g_, kind);
    const uint32_t n = layout.n_vars;
    std::vector<Claim> pcs;
    for (TensorId t : layout.tensors)
      for (const Claim& c : claims_[t])
        pcs.push_back({prefixed_point(layout.offsets[t], g_.tensors()[t].n_vars(), n, c.point), c.value});
    if (pcs.empty()) return;
    std::vector<QM31> vals;
    for (const Claim& c : pcs) vals.push_back(c.value);
    ch_.mix_felts(vals);
    const std::vector<QM31> a = ch_.draw_felts(vals.size());
    QM31 claim = QM31::zero();
    for (size_t k = 0; k < pcs.size(); ++k) claim += a[k] * pcs[k].value;
    const auto v = check_sumcheck(next_step(who), 2, n, {}, claim, who + " join");
    QM31 e = QM31::zero();
    for (size_t k = 0; k < pcs.size(); ++k) e += a[k] * sumcheck::eq_eval(pcs[k].point, v.point);
    if (e != v.final_values[0]) fail(who + " join: wrong eq combination");
    if (next_opening_ >= proof_.openings.size()) fail(who + ": opening missing");
    if (auto why = sumcheck::verify_mle_opening(commitment, v.point, v.final_values[1], proof_.openings[next_opening_++], ch_))
      fail(who + " opening: " + *why);
  }

  const Graph& g_;
  const Values& inputs_;
  const std::vector<int64_t>& output_;
  const GraphProof& proof_;
  Blake2sChannel& ch_;
  std::vector<std::vector<Claim>> claims_;
  size_t next_step_ = 0;
  size_t next_opening_ = 0;
};

}  // namespace

GraphProof prove_graph(const Graph& graph, const Values& values, const sumcheck::CommittedMle& weights,
                       Blake2sChannel& channel, const sumcheck::CommittedMle* cache_in,
                       sumcheck::SumcheckBackend* backend, const sumcheck::ResidentMatrix* resident_weights,
                       Backend* stark) {
  if (values.size() != graph.tensors().size()) throw Error(ErrorCategory::Usage, "prove_graph: values of another graph");
  for (size_t t = 0; t < values.size(); ++t)
    if (values[t].size() != graph.tensors()[t].size() &&
        !(values[t].empty() && graph.tensors()[t].kind == TensorKind::Weight))
      throw Error(ErrorCategory::Usage, "prove_graph: tensor " + graph.tensors()[t].name + " has the wrong size");
  Prover prover(graph, values, channel, backend ? *backend : sumcheck::default_sumcheck_backend(), stark);
  return prover.run(weights, cache_in, resident_weights);
}

void release_weight_values(const Graph& graph, Values& values) {
  for (TensorId t : graph.tensors_of_kind(TensorKind::Weight))
    if (t < values.size()) std::vector<int64_t>().swap(values[t]);
}

GraphVerdict verify_graph(const Graph& graph, const Values& inputs, const std::vector<int64_t>& output,
                          const sumcheck::MleCommitment& weights, const GraphProof& proof, Blake2sChannel& channel,
                          const sumcheck::MleCommitment* cache_in) {
  try {
    Verifier verifier(graph, inputs, output, proof, channel);
    verifier.run(weights, cache_in);
    return {true, ""};
  } catch (const Reject& r) {
    return {false, r.reason};
  } catch (const std::exception& e) {
    return {false, std::string("malformed proof: ") + e.what()};
  }
}

}  // namespace ptvm::zkml
