// Matrix products by sumcheck (see ptvm/sumcheck/matmul.hpp).
#include "ptvm/sumcheck/matmul.hpp"

#include <algorithm>
#include <bit>
#include <exception>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/mle.hpp"

namespace ptvm::sumcheck {
namespace {

unsigned log2_dim(size_t d, const std::string& what) {
  if (d == 0 || (d & (d - 1)) != 0 || d > (size_t{1} << 32))
    throw Error(ErrorCategory::Usage, what + ": dimension " + std::to_string(d) +
                                          " is not a power of two in [1, 2^32]");
  unsigned log = 0;
  while ((size_t{1} << log) < d) ++log;
  return log;
}

// Who is which factor of the batch's sumcheck, and the inner dimension.
struct Layout {
  std::vector<int> left_factor, right_factor;  // per operand, -1 when unused on that side
  std::vector<uint32_t> left_order, right_order;
  unsigned log_k = 0;
  ProductShape shape;
};

Layout layout_of(const MatmulStatement& st) {
  if (st.products.empty()) throw Error(ErrorCategory::Usage, "matmul: no product");
  if (st.products.size() > ProductShape::kMaxTerms)
    throw Error(ErrorCategory::Usage, "matmul: " + std::to_string(st.products.size()) +
                                          " products in one batch (at most " +
                                          std::to_string(ProductShape::kMaxTerms) + ")");
  for (size_t o = 0; o < st.operands.size(); ++o) {
    log2_dim(st.operands[o].rows, "matmul operand " + std::to_string(o) + " rows");
    log2_dim(st.operands[o].cols, "matmul operand " + std::to_string(o) + " cols");
  }
  Layout l;
  l.left_factor.assign(st.operands.size(), -1);
  l.right_factor.assign(st.operands.size(), -1);
  size_t k = 0;
  for (size_t t = 0; t < st.products.size(); ++t) {
    const auto& p = st.products[t];
    if (p.left >= st.operands.size() || p.right >= st.operands.size())
      throw Error(ErrorCategory::Usage, "matmul product " + std::to_string(t) + ": operand index out of range");
    const size_t inner = st.operands[p.left].cols;
    if (st.operands[p.right].rows != inner)
      throw Error(ErrorCategory::Usage, "matmul product " + std::to_string(t) + ": inner dimensions " +
                                            std::to_string(inner) + " and " +
                                            std::to_string(st.operands[p.right].rows) + " differ");
    if (t == 0) k = inner;
    if (inner != k)
      throw Error(ErrorCategory::Usage, "matmul product " + std::to_string(t) +
                                            ": a batch needs one inner dimension");
    if (l.left_factor[p.left] < 0) {
      l.left_factor[p.left] = 0;
      l.left_order.push_back(p.left);
    }
    if (l.right_factor[p.right] < 0) {
      l.right_factor[p.right] = 0;
      l.right_order.push_back(p.right);
    }
  }
  l.log_k = log2_dim(k, "matmul inner dimension");
  if (l.log_k == 0) throw Error(ErrorCategory::Usage, "matmul: inner dimension 1 (nothing to sum over)");
  const size_t n_factors = l.left_order.size() + l.right_order.size();
  if (n_factors > ProductShape::kMaxFactors)
    throw Error(ErrorCategory::Usage, "matmul: " + std::to_string(n_factors) +
                                          " distinct operands in one batch (at most " +
                                          std::to_string(ProductShape::kMaxFactors) + ")");
  for (size_t i = 0; i < l.left_order.size(); ++i) l.left_factor[l.left_order[i]] = int(i);
  for (size_t i = 0; i < l.right_order.size(); ++i)
    l.right_factor[l.right_order[i]] = int(l.left_order.size() + i);
  l.shape.n_factors = uint32_t(n_factors);
  l.shape.n_terms = uint32_t(st.products.size());
  for (size_t t = 0; t < st.products.size(); ++t)
    l.shape.term_masks[t] = (1u << l.left_factor[st.products[t].left]) |
                            (1u << l.right_factor[st.products[t].right]);
  return l;
}

void mix_statement(Blake2sChannel& channel, const MatmulStatement& st) {
  std::vector<uint32_t> words;
  words.push_back(uint32_t(st.operands.size()));
  for (const auto& o : st.operands) {
    words.push_back(uint32_t(o.rows));
    words.push_back(uint32_t(uint64_t(o.rows) >> 32));
    words.push_back(uint32_t(o.cols));
    words.push_back(uint32_t(uint64_t(o.cols) >> 32));
  }
  words.push_back(uint32_t(st.products.size()));
  for (const auto& p : st.products) {
    words.push_back(p.left);
    words.push_back(p.right);
  }
  channel.mix_u32s(words);
}

struct Points {
  std::vector<std::vector<QM31>> row, col;  // per operand
};

Points draw_points(Blake2sChannel& channel, const MatmulStatement& st) {
  Points pts;
  pts.row.resize(st.operands.size());
  pts.col.resize(st.operands.size());
  std::vector<bool> have_row(st.operands.size()), have_col(st.operands.size());
  for (const auto& p : st.products) {
    if (!have_row[p.left]) {
      have_row[p.left] = true;
      const unsigned n = log2_dim(st.operands[p.left].rows, "rows");
      if (n > 0) pts.row[p.left] = channel.draw_felts(n);
    }
    if (!have_col[p.right]) {
      have_col[p.right] = true;
      const unsigned n = log2_dim(st.operands[p.right].cols, "cols");
      if (n > 0) pts.col[p.right] = channel.draw_felts(n);
    }
  }
  return pts;
}

std::vector<QM31> concat(std::span<const QM31> a, std::span<const QM31> b) {
  std::vector<QM31> out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

QM31 batched_claim(std::span<const QM31> values, QM31 lambda) {
  QM31 acc = QM31::zero(), power = QM31::one();
  for (const QM31& v : values) {
    acc += power * v;
    power *= lambda;
  }
  return acc;
}

MatmulClaims claims_of(const MatmulStatement& st, const Layout& l, const Points& pts,
                       std::span<const QM31> product_values, std::span<const QM31> sumcheck_point,
                       std::span<const QM31> final_values) {
  MatmulClaims c;
  for (size_t t = 0; t < st.products.size(); ++t)
    c.products.push_back({concat(pts.row[st.products[t].left], pts.col[st.products[t].right]),
                          product_values[t]});
  c.left_operands.resize(st.operands.size());
  c.right_operands.resize(st.operands.size());
  c.is_left.assign(st.operands.size(), false);
  c.is_right.assign(st.operands.size(), false);
  for (uint32_t o : l.left_order) {
    c.is_left[o] = true;
    c.left_operands[o] = {concat(pts.row[o], sumcheck_point), final_values[l.left_factor[o]]};
  }
  for (uint32_t o : l.right_order) {
    c.is_right[o] = true;
    c.right_operands[o] = {concat(sumcheck_point, pts.col[o]), final_values[l.right_factor[o]]};
  }
  return c;
}

void require_view(const MatrixView& m, const MatrixShape& s, const std::string& what) {
  if (m.rows != s.rows || m.cols != s.cols || m.values.size() != s.rows * s.cols)
    throw Error(ErrorCategory::Usage, what + ": a " + std::to_string(m.rows) + " x " +
                                          std::to_string(m.cols) + " matrix of " +
                                          std::to_string(m.values.size()) + " values, expected " +
                                          std::to_string(s.rows) + " x " + std::to_string(s.cols));
}

}  // namespace

QM31 evaluate_matrix_mle(const MatrixView& matrix, std::span<const QM31> row_point,
                         std::span<const QM31> col_point, SumcheckBackend& backend) {
  const unsigned lr = log2_dim(matrix.rows, "evaluate_matrix_mle rows");
  const unsigned lc = log2_dim(matrix.cols, "evaluate_matrix_mle cols");
  if (row_point.size() != lr || col_point.size() != lc || matrix.values.size() != matrix.rows * matrix.cols)
    throw Error(ErrorCategory::Usage, "evaluate_matrix_mle: point or matrix of the wrong size");
  // Restrict along the longer side first (one pass over M), then a short dot product.
  if (matrix.cols >= matrix.rows) {
    const std::vector<QM31> restricted =
        backend.restrict_rows(matrix.values, matrix.rows, matrix.cols, backend.eq_table(row_point, QM31::one()));
    return evaluate_mle<QM31>(restricted, col_point);
  }
  const std::vector<QM31> restricted =
      backend.restrict_columns(matrix.values, matrix.rows, matrix.cols, backend.eq_table(col_point, QM31::one()));
  return evaluate_mle<QM31>(restricted, row_point);
}

MatmulProverOutput prove_matmul(const MatmulStatement& st, std::span<const MatrixView> operands,
                                std::span<const MatrixView> outputs, Blake2sChannel& channel,
                                SumcheckBackend& backend) {
  const Layout l = layout_of(st);
  if (operands.size() != st.operands.size())
    throw Error(ErrorCategory::Usage, "prove_matmul: operands differ from the statement in number");
  if (outputs.size() != st.products.size())
    throw Error(ErrorCategory::Usage, "prove_matmul: outputs differ from the products in number");
  for (size_t o = 0; o < operands.size(); ++o)
    require_view(operands[o], st.operands[o], "prove_matmul operand " + std::to_string(o));
  for (size_t t = 0; t < outputs.size(); ++t)
    require_view(outputs[t], {st.operands[st.products[t].left].rows, st.operands[st.products[t].right].cols},
                 "prove_matmul output " + std::to_string(t));

  mix_statement(channel, st);
  const Points pts = draw_points(channel, st);
  MatmulProverOutput out;
  for (size_t t = 0; t < st.products.size(); ++t)
    out.proof.product_claims.push_back(
        evaluate_matrix_mle(outputs[t], pts.row[st.products[t].left], pts.col[st.products[t].right], backend));
  channel.mix_felts(out.proof.product_claims);
  const QM31 lambda = channel.draw_felt();

  // The restricted operands: A(r_row, .) and B(., r_col) as tables over k, one pass each.
  std::vector<std::vector<QM31>> tables(l.shape.n_factors);
  for (uint32_t o : l.left_order) {
    const MatrixView& a = operands[o];
    tables[l.left_factor[o]] = backend.restrict_rows(a.values, a.rows, a.cols, backend.eq_table(pts.row[o], QM31::one()));
  }
  for (uint32_t o : l.right_order) {
    const MatrixView& b = operands[o];
    tables[l.right_factor[o]] = backend.restrict_columns(b.values, b.rows, b.cols, backend.eq_table(pts.col[o], QM31::one()));
  }
  ProductShape shape = l.shape;
  QM31 power = QM31::one();
  for (size_t t = 0; t < st.products.size(); ++t) {
    shape.term_coefficients[t] = power;
    power *= lambda;
  }
  const QM31 claim = batched_claim(out.proof.product_claims, lambda);
  auto sc = prove_product_sumcheck<QM31>(shape, {}, tables, channel, backend, &claim);
  out.proof.sumcheck = std::move(sc.proof);
  out.claims = claims_of(st, l, pts, out.proof.product_claims, sc.point, out.proof.sumcheck.final_values);
  return out;
}

MatmulVerdict verify_matmul(const MatmulStatement& st, const MatmulProof& proof, Blake2sChannel& channel) {
  MatmulVerdict v;
  try {
    const Layout l = layout_of(st);
    if (proof.product_claims.size() != st.products.size()) {
      v.reason = "matmul: " + std::to_string(proof.product_claims.size()) + " product claims, expected " +
                 std::to_string(st.products.size());
      return v;
    }
    if (!all_canonical(proof.product_claims)) {
      v.reason = "matmul: a product claim is not canonical";
      return v;
    }
    mix_statement(channel, st);
    const Points pts = draw_points(channel, st);
    channel.mix_felts(proof.product_claims);
    const QM31 lambda = channel.draw_felt();
    ProductShape shape = l.shape;
    QM31 power = QM31::one();
    for (size_t t = 0; t < st.products.size(); ++t) {
      shape.term_coefficients[t] = power;
      power *= lambda;
    }
    const QM31 claim = batched_claim(proof.product_claims, lambda);
    ProductSumcheckVerdict sc = verify_product_sumcheck(shape, l.log_k, {}, claim, proof.sumcheck, channel);
    if (!sc.accepted) {
      v.reason = "matmul: " + sc.reason;
      return v;
    }
    v.claims = claims_of(st, l, pts, proof.product_claims, sc.point, sc.final_values);
    v.accepted = true;
  } catch (const std::exception& e) {
    v.accepted = false;
    v.reason = std::string("matmul: ") + e.what();
  }
  return v;
}

std::string check_public_claim(const MleClaim& claim, const MatrixView& matrix, const char* what) {
  try {
    const unsigned lr = log2_dim(matrix.rows, what);
    const unsigned lc = log2_dim(matrix.cols, what);
    if (claim.point.size() != lr + lc || matrix.values.size() != matrix.rows * matrix.cols)
      return std::string(what) + ": the claim's point does not fit the matrix";
    const std::span<const QM31> p(claim.point);
    if (evaluate_matrix_mle(matrix, p.first(lr), p.subspan(lr)) != claim.value)
      return std::string(what) + ": the claimed MLE value differs from the public matrix";
    return {};
  } catch (const std::exception& e) {
    return std::string(what) + ": " + e.what();
  }
}

void mix_public_matrix(Blake2sChannel& channel, const MatrixView& matrix) {
  const uint32_t dims[4] = {uint32_t(matrix.rows), uint32_t(uint64_t(matrix.rows) >> 32), uint32_t(matrix.cols),
                            uint32_t(uint64_t(matrix.cols) >> 32)};
  channel.mix_u32s(dims);
  const size_t n = matrix.values.size();
  if (n != 0 && (n & (n - 1)) == 0 && n <= (size_t{1} << 40)) {
    // The values as min(256, n) contiguous chunks, the columns of a Merkle tree: its 16-lane
    // hashing binds them ~3x faster than one sequential Blake2s.
    const size_t chunks = n < 256 ? n : 256, length = n / chunks;
    std::vector<std::span<const M31>> columns;
    for (size_t c = 0; c < chunks; ++c) columns.push_back(matrix.values.subspan(c * length, length));
    channel.mix_root(hash::MerkleTree::commit(columns, 1).root());
    return;
  }
  static_assert(std::endian::native == std::endian::little, "M31 values are hashed as their LE u32 words");
  const auto* bytes = reinterpret_cast<const uint8_t*>(matrix.values.data());
  channel.mix_root(hash::blake2s(std::span<const uint8_t>(bytes, n * 4)));
}

std::vector<M31> multiply_m31(const MatrixView& a, const MatrixView& b) {
  if (a.cols != b.rows || a.values.size() != a.rows * a.cols || b.values.size() != b.rows * b.cols)
    throw Error(ErrorCategory::Usage, "multiply_m31: shapes do not match");
  std::vector<uint64_t> acc(b.cols);
  std::vector<M31> c(a.rows * b.cols);
  for (size_t i = 0; i < a.rows; ++i) {
    std::fill(acc.begin(), acc.end(), 0);
    size_t pending = 0;
    for (size_t k = 0; k < a.cols; ++k) {
      const uint64_t x = a.values[i * a.cols + k].v;
      const M31* brow = b.values.data() + k * b.cols;
      for (size_t j = 0; j < b.cols; ++j) {
        const uint64_t p = x * brow[j].v;
        acc[j] += (p & M31::P) + (p >> 31);  // < 2^32 each
      }
      if (++pending == (size_t{1} << 31)) {  // keep the sums below 2^63
        for (auto& s : acc) s = M31::reduce64(s);
        pending = 0;
      }
    }
    for (size_t j = 0; j < b.cols; ++j) c[i * b.cols + j] = M31::from_u64(acc[j]);
  }
  return c;
}

}  // namespace ptvm::sumcheck
