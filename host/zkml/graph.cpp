// The computation graph: building, the forward pass, packing (graph.hpp).
#include "ptvm/zkml/graph.hpp"

#include <algorithm>
#include <bit>
#include <numeric>
#include <type_traits>
#include <unordered_map>

#include "ptvm/common/error.hpp"
#include "ptvm/common/parallel.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/sumcheck/int8_gemm.hpp"

namespace ptvm::zkml {
namespace {

Error usage(const std::string& what) { return Error(ErrorCategory::Usage, "zkml graph: " + what); }

struct TupleHash {
  size_t operator()(const std::vector<int64_t>& v) const {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int64_t x : v) h = (h ^ static_cast<uint64_t>(x)) * 0x100000001b3ull + (h >> 29);
    return static_cast<size_t>(h);
  }
};

// The value of an operand at position (i, j) of a block of shape 2^lr x 2^lc.
int64_t operand_at(const Values& values, const Operand& op, uint32_t lc, size_t i, size_t j) {
  const auto& v = values[op.tensor];
  switch (op.broadcast) {
    case Broadcast::None: return v[(i << lc) + j];
    case Broadcast::Rows: return v[i];
    case Broadcast::Cols: return v[j];
  }
  return 0;
}

}  // namespace

M31 Table::tag() const {
  const hash::Blake2sHash h = hash::blake2s(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(name.data()), name.size()));
  uint32_t w = 0;
  for (int k = 0; k < 4; ++k) w |= uint32_t(h.bytes[k]) << (8 * k);
  return M31::from_u32(w & 0x7fffffffu);
}

TensorId Graph::add_tensor(std::string name, uint32_t log_rows, uint32_t log_cols, TensorKind kind) {
  if (log_rows + log_cols > 30) throw usage("tensor " + name + ": more than 2^30 entries");
  if (find(name)) throw usage("tensor " + name + " already exists");
  tensors_.push_back({std::move(name), log_rows, log_cols, kind});
  public_values_.emplace_back();
  return TensorId(tensors_.size() - 1);
}

TensorId Graph::add_public(std::string name, uint32_t log_rows, uint32_t log_cols, std::vector<int64_t> values,
                           std::vector<double> float_values) {
  const TensorId t = add_tensor(name, log_rows, log_cols, TensorKind::Public);
  if (values.size() != tensors_[t].size()) throw usage("public tensor " + name + ": wrong number of values");
  if (float_values.empty()) float_values.assign(values.begin(), values.end());
  if (float_values.size() != values.size()) throw usage("public tensor " + name + ": wrong number of float values");
  public_values_[t] = std::move(values);
  public_floats_.resize(tensors_.size());
  public_floats_[t] = std::move(float_values);
  return t;
}

std::optional<TensorId> Graph::find(const std::string& name) const {
  for (size_t t = 0; t < tensors_.size(); ++t)
    if (tensors_[t].name == name) return TensorId(t);
  return std::nullopt;
}

const std::vector<int64_t>& Graph::public_values(TensorId t) const { return public_values_.at(t); }

std::vector<TensorId> Graph::tensors_of_kind(TensorKind kind) const {
  std::vector<TensorId> out;
  for (size_t t = 0; t < tensors_.size(); ++t)
    if (tensors_[t].kind == kind) out.push_back(TensorId(t));
  return out;
}

TensorId Graph::add_derived(std::string name, uint32_t lr, uint32_t lc, Node node) {
  const TensorId t = add_tensor(std::move(name), lr, lc, TensorKind::Derived);
  node.output = t;
  nodes_.push_back(std::move(node));
  steps_.push_back({true, uint32_t(nodes_.size() - 1)});
  return t;
}

namespace {
void check_operand(const std::vector<TensorInfo>& tensors, const Operand& op, uint32_t lr, uint32_t lc,
                   const std::string& who) {
  if (op.tensor >= tensors.size()) throw usage(who + ": operand out of range");
  const TensorInfo& a = tensors[op.tensor];
  const uint32_t er = op.broadcast == Broadcast::Cols ? 0 : lr;
  const uint32_t ec = op.broadcast == Broadcast::Rows ? 0 : lc;
  if (a.log_rows != er || a.log_cols != ec)
    throw usage(who + ": operand " + a.name + " is 2^" + std::to_string(a.log_rows) + " x 2^" +
                std::to_string(a.log_cols) + ", expected 2^" + std::to_string(er) + " x 2^" + std::to_string(ec));
}
}  // namespace

TensorId Graph::linear(std::string name, uint32_t lr, uint32_t lc, std::vector<Operand> operands, int64_t constant) {
  for (const Operand& op : operands) check_operand(tensors_, op, lr, lc, name);
  if (operands.empty()) throw usage(name + ": a linear node needs an operand");
  Node node{NodeOp::Linear, 0, std::move(operands), constant, false};
  return add_derived(std::move(name), lr, lc, std::move(node));
}

TensorId Graph::mul(std::string name, Operand a, Operand b) {
  const Operand& full = a.broadcast == Broadcast::None ? a : b;
  if (full.broadcast != Broadcast::None || full.tensor >= tensors_.size())
    throw usage(name + ": a product needs one operand without broadcast");
  const uint32_t lr = tensors_[full.tensor].log_rows, lc = tensors_[full.tensor].log_cols;
  check_operand(tensors_, a, lr, lc, name);
  check_operand(tensors_, b, lr, lc, name);
  a.coeff = b.coeff = 1;
  Node node{NodeOp::Mul, 0, {a, b}, 0, false};
  return add_derived(std::move(name), lr, lc, std::move(node));
}

TensorId Graph::matmul(std::string name, TensorId a, TensorId b, bool transpose_b) {
  if (a >= tensors_.size() || b >= tensors_.size()) throw usage(name + ": operand out of range");
  const TensorInfo& A = tensors_[a];
  const TensorInfo& B = tensors_[b];
  const uint32_t lk = A.log_cols;
  const uint32_t bk = transpose_b ? B.log_cols : B.log_rows;
  if (bk != lk) throw usage(name + ": inner dimensions of " + A.name + " and " + B.name + " differ");
  const uint32_t lc = transpose_b ? B.log_rows : B.log_cols;
  Node node{NodeOp::MatMul, 0, {{a}, {b}}, 0, transpose_b};
  return add_derived(std::move(name), A.log_rows, lc, std::move(node));
}

TensorId Graph::row_sum(std::string name, TensorId a) {
  if (a >= tensors_.size()) throw usage(name + ": operand out of range");
  Node node{NodeOp::RowSum, 0, {{a}}, 0, false};
  return add_derived(std::move(name), tensors_[a].log_rows, 0, std::move(node));
}

TensorId Graph::pair_swap(std::string name, TensorId a) {
  if (a >= tensors_.size() || tensors_[a].log_cols == 0) throw usage(name + ": pair swap of a column");
  Node node{NodeOp::PairSwap, 0, {{a}}, 0, false};
  return add_derived(std::move(name), tensors_[a].log_rows, tensors_[a].log_cols, std::move(node));
}

uint32_t Graph::add_table(std::string name, std::vector<std::vector<int64_t>> columns) {
  for (size_t i = 0; i < tables_.size(); ++i)
    if (tables_[i].name == name) return uint32_t(i);
  if (columns.empty() || columns[0].empty()) throw usage("table " + name + ": no columns");
  const size_t n = columns[0].size();
  if ((n & (n - 1)) != 0) throw usage("table " + name + ": size is not a power of two");
  for (const auto& c : columns)
    if (c.size() != n) throw usage("table " + name + ": columns of different lengths");
  const uint32_t log_n = uint32_t(std::countr_zero(n));
  Table table;
  table.name = name;
  table.log_rows = log_n;
  table.public_columns = std::move(columns);
  table.multiplicities = add_tensor("mult:" + name, log_n, 0, TensorKind::Advice);
  tables_.push_back(std::move(table));
  return uint32_t(tables_.size() - 1);
}

uint32_t Graph::add_tensor_table(std::string name, uint32_t lr, uint32_t lc, std::vector<Operand> columns) {
  for (const Table& t : tables_)
    if (t.name == name) throw usage("table " + name + " already exists");
  if (columns.empty()) throw usage("table " + name + ": no columns");
  for (const Operand& op : columns) check_operand(tensors_, op, lr, lc, "table " + name);
  Table table;
  table.name = name;
  table.log_rows = lr;
  table.log_cols = lc;
  table.tensor_columns = std::move(columns);
  table.multiplicities = add_tensor("mult:" + name, lr, lc, TensorKind::Advice);
  tables_.push_back(std::move(table));
  return uint32_t(tables_.size() - 1);
}

void Graph::lookup(uint32_t table, uint32_t lr, uint32_t lc, std::vector<Operand> columns) {
  if (table >= tables_.size()) throw usage("lookup into a table that does not exist");
  if (columns.size() != tables_[table].n_columns())
    throw usage("lookup into " + tables_[table].name + ": wrong number of columns");
  for (const Operand& op : columns) check_operand(tensors_, op, lr, lc, "lookup into " + tables_[table].name);
  lookups_.push_back({table, lr, lc, std::move(columns)});
}

void Graph::assert_zero(TensorId tensor) {
  if (tensor >= tensors_.size() || tensors_[tensor].kind != TensorKind::Derived)
    throw usage("assert_zero: not a derived tensor");
  zeros_.push_back(tensor);
}

void Graph::set_extent(TensorId tensor, uint32_t rows, uint32_t cols) {
  if (tensor >= tensors_.size()) throw usage("set_extent: tensor out of range");
  TensorInfo& t = tensors_[tensor];
  if (t.kind != TensorKind::Input && t.kind != TensorKind::Weight && t.kind != TensorKind::CacheIn &&
      t.kind != TensorKind::CacheOut)
    throw usage("set_extent: " + t.name + " is not an Input, Weight or cache tensor");
  if (rows == 0 || cols == 0 || rows > (size_t{1} << t.log_rows) || cols > (size_t{1} << t.log_cols))
    throw usage("set_extent: " + t.name + ": " + std::to_string(rows) + " x " + std::to_string(cols) +
                " does not fit 2^" + std::to_string(t.log_rows) + " x 2^" + std::to_string(t.log_cols));
  t.rows = rows;
  t.cols = cols;
}

namespace {
// [start, 2^bits) as aligned dyadic intervals: (fixed bits, prefix) pairs.
void dyadic(size_t start, uint32_t bits, bool columns, std::vector<PadCube>& out) {
  const size_t end = size_t{1} << bits;
  while (start < end) {
    uint32_t free = start == 0 ? bits : uint32_t(std::countr_zero(start));
    if (free > bits) free = bits;
    out.push_back({columns, bits - free, start >> free});
    start += size_t{1} << free;
  }
}
}  // namespace

std::vector<PadCube> pad_cubes(const TensorInfo& t) {
  std::vector<PadCube> out;
  dyadic(t.real_rows(), t.log_rows, false, out);
  dyadic(t.real_cols(), t.log_cols, true, out);
  return out;
}

std::vector<QM31> pad_cube_point(const TensorInfo& t, const PadCube& c, std::span<const QM31> free) {
  if (free.size() + c.fixed_bits != t.n_vars())
    throw Error(ErrorCategory::Internal, "zkml graph: pad cube point of the wrong size for " + t.name);
  std::vector<QM31> out;
  out.reserve(t.n_vars());
  size_t k = 0;
  auto fixed = [&](uint32_t i) {
    out.push_back((c.prefix >> (c.fixed_bits - 1 - i) & 1) ? QM31::one() : QM31::zero());
  };
  if (!c.columns)
    for (uint32_t i = 0; i < c.fixed_bits; ++i) fixed(i);
  const uint32_t free_rows = c.columns ? t.log_rows : t.log_rows - c.fixed_bits;
  for (uint32_t i = 0; i < free_rows; ++i) out.push_back(free[k++]);
  if (c.columns)
    for (uint32_t i = 0; i < c.fixed_bits; ++i) fixed(i);
  while (k < free.size()) out.push_back(free[k++]);
  return out;
}

std::vector<int64_t> pad_values(const TensorInfo& t, std::span<const int64_t> real) {
  if (real.size() != t.real_size())
    throw usage("tensor " + t.name + ": " + std::to_string(real.size()) + " values, expected " +
                std::to_string(t.real_rows()) + " x " + std::to_string(t.real_cols()));
  if (!t.padded()) return {real.begin(), real.end()};
  std::vector<int64_t> out(t.size(), 0);
  const size_t R = t.real_rows(), C = t.real_cols();
  for (size_t i = 0; i < R; ++i)
    std::copy(real.begin() + i * C, real.begin() + (i + 1) * C, out.begin() + (i << t.log_cols));
  return out;
}

std::vector<int64_t> unpad_values(const TensorInfo& t, std::span<const int64_t> padded) {
  if (padded.size() != t.size()) throw usage("tensor " + t.name + ": " + std::to_string(padded.size()) + " values, expected " + std::to_string(t.size()));
  if (!t.padded()) return {padded.begin(), padded.end()};
  const size_t R = t.real_rows(), C = t.real_cols();
  std::vector<int64_t> out(R * C);
  for (size_t i = 0; i < R; ++i)
    std::copy(padded.begin() + (i << t.log_cols), padded.begin() + (i << t.log_cols) + C, out.begin() + i * C);
  return out;
}

void Graph::add_advice_step(AdviceFunction step, FloatFunction float_step) {
  advice_steps_.push_back(std::move(step));
  float_steps_.push_back(std::move(float_step));
  steps_.push_back({false, uint32_t(advice_steps_.size() - 1)});
}

namespace {

template <class T>
T operand_value(const std::vector<std::vector<T>>& values, const Operand& op, uint32_t lc, size_t i, size_t j) {
  const auto& v = values[op.tensor];
  switch (op.broadcast) {
    case Broadcast::None: return v[(i << lc) + j];
    case Broadcast::Rows: return v[i];
    case Broadcast::Cols: return v[j];
  }
  return 0;
}

// Balanced base-256 limbs: n limbs hold every v with |v| <= 127 (256^n - 1) / 255 (n = 4: beyond
// 2^30, the forward pass's bound). 0 when a larger entry needs more than four.
unsigned limbs_needed(const std::vector<int64_t>& v) {
  uint64_t max_abs = 0;
  for (int64_t x : v) max_abs = std::max(max_abs, x < 0 ? 0 - static_cast<uint64_t>(x) : static_cast<uint64_t>(x));
  uint64_t reach = 127;
  for (unsigned n = 1; n <= 4; ++n, reach = reach * 256 + 127)
    if (max_abs <= reach) return n;
  return 0;
}

// Limb l of every entry (balanced base-256 digits, d in [-128, 127]), each limb's entries in the
// order `index(e)` gives: out[l][index(e)] = digit l of v[e].
template <class Index>
std::vector<std::vector<int8_t>> split_limbs(const std::vector<int64_t>& v, unsigned n_limbs, Index index) {
  std::vector<std::vector<int8_t>> out(n_limbs, std::vector<int8_t>(v.size()));
  int8_t digits[4];
  for (size_t e = 0; e < v.size(); ++e) {
    if (!sumcheck::split_balanced_int8(v[e], n_limbs, digits))
      throw Error(ErrorCategory::Internal, "zkml forward: an entry did not fit its int8 limbs");
    const size_t at = index(e);
    for (unsigned l = 0; l < n_limbs; ++l) out[l][at] = digits[l];
  }
  return out;
}

// Y = A B (A: R x K, B: K x C, or C x K with transpose_b) exactly, through int8 GEMMs on
// `engine`: each operand in as many balanced base-256 limbs as its largest entry needs (a model's
// int8 weights: one), every limb pair one exact int32 GEMM, recombined with shifts in wrapping
// uint64 arithmetic: the int64 product the direct loop gives. False (nothing done) when an operand
// needs more than four limbs, K is above the engine's bound, or K or C is not a multiple of 4
// (cuBLASLt's layout rule).
bool matmul_by_int8_limbs(const std::vector<int64_t>& A, const std::vector<int64_t>& B, bool transpose_b, size_t R,
                          size_t K, size_t C, sumcheck::Int8GemmEngine& engine, std::vector<int64_t>& out) {
  const unsigned la = limbs_needed(A), lb = limbs_needed(B);
  if (la == 0 || lb == 0 || K > sumcheck::kInt8GemmMaxK || K % 4 != 0 || C % 4 != 0) return false;
  const auto a = split_limbs(A, la, [](size_t e) { return e; });
  // The engine takes B by columns (C x K).
  const auto bt = transpose_b ? split_limbs(B, lb, [](size_t e) { return e; })
                              : split_limbs(B, lb, [&](size_t e) { return (e % C) * K + e / C; });
  std::vector<uint64_t> acc(R * C, 0);
  std::vector<int32_t> part(R * C);
  for (unsigned l = 0; l < la; ++l)
    for (unsigned m = 0; m < lb; ++m) {
      engine.gemm(a[l], bt[m], part, R, K, C);
      const unsigned shift = 8 * (l + m);
      for (size_t i = 0; i < R * C; ++i) acc[i] += static_cast<uint64_t>(int64_t{part[i]}) << shift;
    }
  for (size_t i = 0; i < R * C; ++i) out[i] = static_cast<int64_t>(acc[i]);
  return true;
}

// The direct product, rows (or, for one row, column ranges) on the library's pool: every entry is
// computed by one task in a fixed order, so any split gives the same values.
template <class T>
void matmul_direct(const std::vector<T>& A, const std::vector<T>& B, bool transpose_b, size_t R, size_t K, size_t C,
                   std::vector<T>& out) {
  auto block = [&](size_t i0, size_t i1, size_t j0, size_t j1) {
    for (size_t i = i0; i < i1; ++i) {
      T* row = out.data() + i * C;
      if (transpose_b) {
        for (size_t j = j0; j < j1; ++j) {
          T acc = 0;
          for (size_t k = 0; k < K; ++k) acc += A[i * K + k] * B[j * K + k];
          row[j] = acc;
        }
      } else {
        for (size_t k = 0; k < K; ++k) {
          const T a = A[i * K + k];
          if (a == 0) continue;
          const T* b = B.data() + k * C;
          for (size_t j = j0; j < j1; ++j) row[j] += a * b[j];
        }
      }
    }
  };
  // Tasks of at least ~2^16 multiply-adds.
  const size_t min_rows = std::max<size_t>(1, (size_t{1} << 16) / std::max<size_t>(K * C, 1));
  if (R > 1)
    parallel_for(R, min_rows, [&](size_t i0, size_t i1) { block(i0, i1, 0, C); });
  else
    parallel_for(C, std::max<size_t>(1, (size_t{1} << 16) / std::max<size_t>(K, 1)),
                 [&](size_t j0, size_t j1) { block(0, R, j0, j1); });
}

template <class T>
void evaluate_node(const std::vector<TensorInfo>& tensors, const Node& node, std::vector<std::vector<T>>& values,
                   sumcheck::Int8GemmEngine* gemm) {
  const TensorInfo& Y = tensors[node.output];
  const size_t R = size_t{1} << Y.log_rows, C = size_t{1} << Y.log_cols;
  std::vector<T> out(R * C, 0);
  auto operand_at = [](const std::vector<std::vector<T>>& v, const Operand& op, uint32_t lc, size_t i, size_t j) {
    return operand_value<T>(v, op, lc, i, j);
  };
  switch (node.op) {
    case NodeOp::Linear:
      for (size_t i = 0; i < R; ++i)
        for (size_t j = 0; j < C; ++j) {
          T acc = T(node.constant);
          for (const Operand& op : node.operands) acc += T(op.coeff) * operand_at(values, op, Y.log_cols, i, j);
          out[i * C + j] = acc;
        }
      break;
    case NodeOp::Mul:
      for (size_t i = 0; i < R; ++i)
        for (size_t j = 0; j < C; ++j)
          out[i * C + j] = operand_at(values, node.operands[0], Y.log_cols, i, j) *
                           operand_at(values, node.operands[1], Y.log_cols, i, j);
      break;
    case NodeOp::MatMul: {
      const auto& A = values[node.operands[0].tensor];
      const auto& B = values[node.operands[1].tensor];
      const size_t K = size_t{1} << tensors[node.operands[0].tensor].log_cols;
      bool done = false;
      if constexpr (std::is_same_v<T, int64_t>)
        if (gemm) done = matmul_by_int8_limbs(A, B, node.transpose_b, R, K, C, *gemm, out);
      if (!done) matmul_direct(A, B, node.transpose_b, R, K, C, out);
      break;
    }
    case NodeOp::RowSum: {
      const auto& A = values[node.operands[0].tensor];
      const size_t AC = size_t{1} << tensors[node.operands[0].tensor].log_cols;
      for (size_t i = 0; i < R; ++i) out[i] = std::accumulate(A.begin() + i * AC, A.begin() + (i + 1) * AC, T{0});
      break;
    }
    case NodeOp::PairSwap: {
      const auto& A = values[node.operands[0].tensor];
      for (size_t i = 0; i < R; ++i)
        for (size_t j = 0; j < C; j += 2) {
          out[i * C + j] = -A[i * C + j + 1];
          out[i * C + j + 1] = A[i * C + j];
        }
      break;
    }
  }
  values[node.output] = std::move(out);
}

}  // namespace

void Graph::forward(Values& values, bool strict, sumcheck::Int8GemmEngine* gemm) const {
  values.resize(tensors_.size());
  for (size_t t = 0; t < tensors_.size(); ++t) {
    const TensorInfo& info = tensors_[t];
    if (info.kind == TensorKind::Input || info.kind == TensorKind::Weight || info.kind == TensorKind::CacheIn) {
      if (values[t].size() != info.size())
        throw usage("tensor " + info.name + ": " + std::to_string(values[t].size()) + " values, expected " +
                    std::to_string(info.size()));
    } else if (info.kind == TensorKind::Public) {
      values[t] = public_values_[t];
    }
  }
  for (const Step& step : steps_) {
    if (step.is_node) {
      evaluate_node(tensors_, nodes_[step.index], values, gemm);
    } else {
      advice_steps_[step.index](values);
    }
  }
  recount_multiplicities(values, strict);
  for (size_t t = 0; t < tensors_.size(); ++t) {
    if (values[t].size() != tensors_[t].size())
      throw Error(ErrorCategory::Internal, "zkml graph: advice step left " + tensors_[t].name + " unfilled");
    if (!strict) continue;
    for (size_t i = 0; i < values[t].size(); ++i)
      if (values[t][i] >= (int64_t{1} << 30) || values[t][i] < -(int64_t{1} << 30))
        throw usage("tensor " + tensors_[t].name + " entry " + std::to_string(i) + " = " +
                    std::to_string(values[t][i]) + " leaves [-2^30, 2^30)");
  }
}

void Graph::forward_float(FloatValues& values) const {
  values.resize(tensors_.size());
  for (size_t t = 0; t < tensors_.size(); ++t) {
    const TensorInfo& info = tensors_[t];
    if (info.kind == TensorKind::Input || info.kind == TensorKind::Weight || info.kind == TensorKind::CacheIn) {
      if (values[t].size() != info.size()) throw usage("float reference: tensor " + info.name + " has the wrong size");
    } else if (info.kind == TensorKind::Public) {
      values[t] = public_floats_[t];
    }
  }
  for (const Step& step : steps_) {
    if (step.is_node) {
      evaluate_node(tensors_, nodes_[step.index], values, nullptr);
    } else {
      if (!float_steps_[step.index]) throw usage("float reference: a layer has no float step");
      float_steps_[step.index](values);
    }
  }
}

void Graph::recount_multiplicities(Values& values, bool strict) const {
  values.resize(tensors_.size());
  for (size_t ti = 0; ti < tables_.size(); ++ti) {
    const Table& table = tables_[ti];
    const size_t rows = size_t{1} << (table.log_rows + table.log_cols);
    std::unordered_map<std::vector<int64_t>, size_t, TupleHash> index;
    index.reserve(rows * 2);
    std::vector<int64_t> tuple(table.n_columns());
    for (size_t r = 0; r < rows; ++r) {
      for (size_t k = 0; k < tuple.size(); ++k)
        tuple[k] = table.public_columns.empty()
                       ? operand_at(values, table.tensor_columns[k], table.log_cols, r >> table.log_cols,
                                    r & ((size_t{1} << table.log_cols) - 1))
                       : table.public_columns[k][r];
      index.emplace(tuple, r);
    }
    std::vector<int64_t> m(rows, 0);
    for (const Lookup& l : lookups_) {
      if (l.table != ti) continue;
      const size_t n = size_t{1} << (l.log_rows + l.log_cols);
      for (size_t x = 0; x < n; ++x) {
        for (size_t k = 0; k < tuple.size(); ++k)
          tuple[k] = operand_at(values, l.columns[k], l.log_cols, x >> l.log_cols, x & ((size_t{1} << l.log_cols) - 1));
        auto it = index.find(tuple);
        if (it == index.end()) {
          if (!strict) continue;
          std::string t = "(";
          for (size_t k = 0; k < tuple.size(); ++k) t += (k ? ", " : "") + std::to_string(tuple[k]);
          throw usage("lookup into " + table.name + ": " + t + ") at entry " + std::to_string(x) + " of " +
                      tensors_[l.columns[0].tensor].name + " is not in the table (quantization overflow)");
        }
        ++m[it->second];
      }
    }
    values[table.multiplicities] = std::move(m);
  }
}

PackedLayout packed_layout(const Graph& graph, TensorKind kind) {
  PackedLayout layout;
  layout.tensors = graph.tensors_of_kind(kind);
  std::stable_sort(layout.tensors.begin(), layout.tensors.end(), [&](TensorId a, TensorId b) {
    return graph.tensors()[a].n_vars() > graph.tensors()[b].n_vars();
  });
  layout.offsets.assign(graph.tensors().size(), SIZE_MAX);
  size_t offset = 0;
  for (TensorId t : layout.tensors) {
    layout.offsets[t] = offset;
    offset += graph.tensors()[t].size();
  }
  layout.n_vars = 10;
  while ((size_t{1} << layout.n_vars) < offset) ++layout.n_vars;
  return layout;
}

std::vector<M31> pack(const Graph& graph, const PackedLayout& layout, const Values& values) {
  std::vector<M31> out(size_t{1} << layout.n_vars, M31::zero());
  for (TensorId t : layout.tensors) {
    const auto& v = values.at(t);
    if (v.size() != graph.tensors()[t].size())
      throw usage("pack: tensor " + graph.tensors()[t].name + " has " + std::to_string(v.size()) + " values");
    for (size_t i = 0; i < v.size(); ++i) out[layout.offsets[t] + i] = to_field(v[i]);
  }
  return out;
}

sumcheck::CommittedMle commit_weights(const Graph& graph, const Values& values, unsigned n_threads, Backend* stark) {
  const PackedLayout layout = packed_layout(graph, TensorKind::Weight);
  if (stark)
    return sumcheck::CommittedMle::commit_on(*stark, pack(graph, layout, values), sumcheck::default_log_rows(layout.n_vars));
  // On the host the weights' encoding (4x the model in M31) is not kept: every opening re-encodes
  // the table.
  return sumcheck::CommittedMle::commit(pack(graph, layout, values), sumcheck::default_log_rows(layout.n_vars), {},
                                        n_threads, sumcheck::MleEncodingStorage::Recomputed);
}

sumcheck::CommittedMle commit_packed(const Graph& graph, TensorKind kind, const Values& values, unsigned n_threads,
                                     Backend* stark) {
  const PackedLayout layout = packed_layout(graph, kind);
  if (stark)
    return sumcheck::CommittedMle::commit_on(*stark, pack(graph, layout, values), sumcheck::default_log_rows(layout.n_vars));
  return sumcheck::CommittedMle::commit(pack(graph, layout, values), sumcheck::default_log_rows(layout.n_vars), {},
                                        n_threads);
}

}  // namespace ptvm::zkml
