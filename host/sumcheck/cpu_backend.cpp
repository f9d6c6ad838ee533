// The CPU reference sumcheck backend: loops over the PTVM_HD formulas of mle.hpp, eq.hpp and
// round.hpp; the matrix restrictions accumulate lazily in u64 (one reduction per output).
//
// Threads: every operation splits its index range into contiguous chunks on the library's pool
// (ptvm/common/thread_pool.hpp). A chunk's partial sums are field elements and QM31 addition is
// exact, so the result does not depend on the split: 1 thread and N threads give the same bytes
// (tests/sumcheck/cpu_threads_test.cpp checks it on every operation and on whole proofs).
#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <type_traits>

#include "ptvm/common/error.hpp"
#include "ptvm/common/parallel.hpp"
#include "ptvm/common/thread_pool.hpp"
#include "ptvm/common/threads.hpp"
#include "ptvm/sumcheck/backend.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/lazy_dot.hpp"
#include "ptvm/sumcheck/mle.hpp"

namespace ptvm::sumcheck {
namespace {

class CpuTables final : public SumcheckTables {
 public:
  // M31 tables stay in `base` until the first challenge (the first round is computed in the base
  // field, and the first fold lifts them); `tables` holds them from then on.
  std::vector<std::vector<M31>> base;
  std::vector<std::vector<QM31>> tables;
  unsigned vars = 0;
  // The eq factor, when there is one: z, the round, prod_{j<round} eq(z_j, r_j), and the weights
  // eq(z_{round+1..}, .) of the current round.
  std::vector<QM31> eq_point;
  unsigned round = 0;
  QM31 eq_prefix = QM31::one();
  std::vector<QM31> eq_weights;

  size_t n_tables() const override { return base.empty() ? tables.size() : base.size(); }
  unsigned n_vars() const override { return vars; }
  std::vector<std::vector<QM31>> to_host() const override {
    if (base.empty()) return tables;
    std::vector<std::vector<QM31>> lifted(base.size());
    for (size_t j = 0; j < base.size(); ++j)
      for (M31 x : base[j]) lifted[j].push_back(QM31(x));
    return lifted;
  }
};

// Entries below which a chunk is not worth a task (the pool's hand-off costs a few microseconds).
constexpr size_t kMinChunk = size_t{1} << 14;

// scale * eq(r, .) (eq.hpp's table, same values): the table of the first a variables, then each of
// its 2^a entries expanded by the remaining variables in its own block of the output, a block per
// task.
std::vector<QM31> parallel_eq_table(std::span<const QM31> r, QM31 scale, unsigned threads) {
  const size_t n = r.size();
  if (threads <= 1 || n < 16) return sumcheck::eq_table(r, scale);
  if (n > 40) throw Error(ErrorCategory::Usage, "eq_table: more than 40 variables");
  unsigned a = 0;
  while ((size_t{1} << a) < 4 * size_t{threads} && a < n) ++a;
  const std::vector<QM31> top = sumcheck::eq_table(r.first(a), scale);
  const size_t block = size_t{1} << (n - a);
  std::vector<QM31> table(size_t{1} << n);
  parallel_tasks(top.size(), threads, [&](size_t j) {
    QM31* t = table.data() + j * block;
    t[0] = top[j];
    size_t len = 1;
    for (size_t k = a; k < n; ++k) {
      for (size_t i = len; i-- > 0;) eq_expand_pair(t[i], r[k], &t[2 * i], &t[2 * i + 1]);
      len *= 2;
    }
  });
  return table;
}

template <class F>
std::unique_ptr<SumcheckTables> load(std::span<const std::vector<F>> tables, std::span<const QM31> eq_point,
                                     unsigned threads) {
  if (tables.empty()) throw Error(ErrorCategory::Usage, "load_tables: no table");
  auto out = std::make_unique<CpuTables>();
  out->vars = log2_table_size(tables[0].size(), "load_tables");
  for (size_t j = 0; j < tables.size(); ++j)
    if (tables[j].size() != tables[0].size())
      throw Error(ErrorCategory::Usage, "load_tables: tables of different sizes");
  if constexpr (std::is_same_v<F, M31>)
    out->base.assign(tables.begin(), tables.end());
  else
    out->tables.assign(tables.begin(), tables.end());
  if (!eq_point.empty()) {
    if (eq_point.size() != out->vars)
      throw Error(ErrorCategory::Usage, "load_tables: an eq point of " + std::to_string(eq_point.size()) +
                                            " coordinates for " + std::to_string(out->vars) + " variables");
    out->eq_point.assign(eq_point.begin(), eq_point.end());
    out->eq_weights = parallel_eq_table(eq_point.subspan(1), QM31::one(), threads);
  }
  return out;
}

// A view of the caller's values (no copy).
class CpuResidentMatrix final : public ResidentMatrix {
 public:
  explicit CpuResidentMatrix(std::span<const M31> v) : values(v) {}
  size_t size() const override { return values.size(); }
  std::span<const M31> values;
};

std::span<const M31> cpu_matrix(const ResidentMatrix& values, size_t offset, size_t rows, size_t cols,
                                const char* who) {
  auto* p = dynamic_cast<const CpuResidentMatrix*>(&values);
  if (!p) throw Error(ErrorCategory::Usage, std::string(who) + ": resident values of another backend");
  require_resident_range(values, offset, rows, cols, who);
  return p->values.subspan(offset, rows * cols);
}

const CpuTables& cpu_tables(const SumcheckTables& t) {
  auto* p = dynamic_cast<const CpuTables*>(&t);
  if (!p) throw Error(ErrorCategory::Usage, "cpu sumcheck backend: tables of another backend");
  return *p;
}

QM31 qm31_from_accumulators(const uint64_t acc[4]) { return lazy_finish(acc); }

// The first round on M31 tables: per term t and point X, the base-field products P_t(X, x')
// summed over x' (weighted by eq(z_{1..}, x') when there is an eq factor) in u64 accumulators
// without reductions (an M31 value and a lazy product are both < 2^32, so 2^31 of them fit in one
// chunk), then c_t applied once: values[X] = sum_t c_t sum_x' [w(x')] P_t(X, x').
constexpr size_t kMaxSlots = (ProductShape::kMaxDegree + 1) * ProductShape::kMaxTerms;

// base_round's sums over x' in [begin, end), added to sums[slot].
void base_round_range(const CpuTables& t, const ProductShape& shape, uint32_t n_points, size_t begin, size_t end,
                      QM31* sums) {
  constexpr size_t kChunk = size_t{1} << 31;
  const bool with_eq = !t.eq_point.empty();
  const size_t half = t.base[0].size() / 2;
  const uint32_t n_slots = n_points * shape.n_terms;
  M31 lo[ProductShape::kMaxFactors], hi[ProductShape::kMaxFactors];
  M31 products[kMaxSlots];
  for (size_t first = begin; first < end; first += kChunk) {
    const size_t last = std::min(end, first + kChunk);
    uint64_t acc[kMaxSlots][4] = {};
    for (size_t x = first; x < last; ++x) {
      for (uint32_t j = 0; j < shape.n_factors; ++j) {
        lo[j] = t.base[j][x];
        hi[j] = t.base[j][x + half];
      }
      round_term_products_base(shape, n_points, lo, hi, products);
      if (with_eq) {
        const QM31 w = t.eq_weights[x];
        for (uint32_t k = 0; k < n_slots; ++k) lazy_accumulate(acc[k], w, products[k]);
      } else {
        for (uint32_t k = 0; k < n_slots; ++k) acc[k][0] += products[k].v;
      }
    }
    for (uint32_t k = 0; k < n_slots; ++k) sums[k] += lazy_finish(acc[k]);
  }
}

void base_round(const CpuTables& t, const ProductShape& shape, uint32_t n_points, QM31* values, unsigned threads) {
  const size_t half = t.base[0].size() / 2;
  const uint32_t n_slots = n_points * shape.n_terms;
  const size_t chunks = range_count(half, kMinChunk, threads);
  std::vector<std::array<QM31, kMaxSlots>> partial(std::max<size_t>(chunks, 1));
  for (auto& p : partial) p.fill(QM31::zero());
  for_each_range(half, chunks,
             [&](size_t c, size_t begin, size_t end) { base_round_range(t, shape, n_points, begin, end, partial[c].data()); });
  QM31 sums[kMaxSlots] = {};
  for (const auto& p : partial)
    for (uint32_t k = 0; k < n_slots; ++k) sums[k] += p[k];
  for (uint32_t x = 0; x < n_points; ++x) {
    QM31 v = QM31::zero();
    for (uint32_t term = 0; term < shape.n_terms; ++term)
      v += shape.term_coefficients[term] * sums[x * shape.n_terms + term];
    values[x] = v;
  }
}

class CpuSumcheckBackend final : public SumcheckBackend {
 public:
  // threads: 0 = the library's thread count (PTVM_THREADS, else every core), read per call.
  explicit CpuSumcheckBackend(unsigned threads = 0) : threads_(threads) {}
  std::string name() const override { return "cpu"; }

  std::unique_ptr<SumcheckTables> load_tables(std::span<const std::vector<QM31>> tables,
                                              std::span<const QM31> eq_point) override {
    return load(tables, eq_point, threads());
  }
  std::unique_ptr<SumcheckTables> load_tables(std::span<const std::vector<M31>> tables,
                                              std::span<const QM31> eq_point) override {
    return load(tables, eq_point, threads());
  }
  std::unique_ptr<SumcheckTables> load_owned_tables(std::vector<std::vector<QM31>>&& tables,
                                                    std::span<const QM31> eq_point) override {
    // load()'s checks, then the tables moved in (no second copy).
    if (tables.empty()) throw Error(ErrorCategory::Usage, "load_tables: no table");
    const unsigned vars = log2_table_size(tables[0].size(), "load_tables");
    for (size_t j = 0; j < tables.size(); ++j)
      if (tables[j].size() != tables[0].size())
        throw Error(ErrorCategory::Usage, "load_tables: tables of different sizes");
    if (!eq_point.empty() && eq_point.size() != vars)
      throw Error(ErrorCategory::Usage, "load_tables: an eq point of " + std::to_string(eq_point.size()) +
                                            " coordinates for " + std::to_string(vars) + " variables");
    auto out = std::make_unique<CpuTables>();
    out->vars = vars;
    out->tables = std::move(tables);
    if (!eq_point.empty()) {
      out->eq_point.assign(eq_point.begin(), eq_point.end());
      out->eq_weights = parallel_eq_table(eq_point.subspan(1), QM31::one(), threads());
    }
    return out;
  }

  std::vector<QM31> sumcheck_round(const SumcheckTables& resident, const ProductShape& shape,
                                   uint32_t degree) override {
    const CpuTables& t = cpu_tables(resident);
    if (t.vars == 0) throw Error(ErrorCategory::Usage, "sumcheck_round: no variable left");
    if (shape.n_factors != t.n_tables())
      throw Error(ErrorCategory::Usage, "sumcheck_round: shape and tables differ in factors");
    const bool with_eq = !t.eq_point.empty();
    if (degree > ProductShape::kMaxDegree || (with_eq && degree != shape.degree() + 1))
      throw Error(ErrorCategory::Usage, "sumcheck_round: degree " + std::to_string(degree) + " for this shape");
    const unsigned threads = this->threads();
    if (!t.base.empty()) {
      std::vector<QM31> evals(degree + 1, QM31::zero());
      if (!with_eq) {
        base_round(t, shape, degree + 1, evals.data(), threads);
        return evals;
      }
      std::vector<QM31> q(degree, QM31::zero());
      base_round(t, shape, degree, q.data(), threads);
      eq_round_from_quotient(q.data(), degree - 1, t.eq_point[t.round], t.eq_prefix, evals.data());
      return evals;
    }
    // p(0..degree) without an eq factor, q(0..degree - 1) with one (D = degree - 1), summed per
    // chunk and then over the chunks.
    const size_t half = t.tables[0].size() / 2;
    const uint32_t n_values = with_eq ? degree : degree + 1;
    const size_t chunks = range_count(half, kMinChunk, threads);
    std::vector<std::array<QM31, ProductShape::kMaxDegree + 1>> partial(std::max<size_t>(chunks, 1));
    for (auto& p : partial) p.fill(QM31::zero());
    for_each_range(half, chunks, [&](size_t c, size_t begin, size_t end) {
      QM31 lo[ProductShape::kMaxFactors], hi[ProductShape::kMaxFactors];
      QM31* sums = partial[c].data();
      for (size_t x = begin; x < end; ++x) {
        for (uint32_t j = 0; j < shape.n_factors; ++j) {
          lo[j] = t.tables[j][x];
          hi[j] = t.tables[j][x + half];
        }
        if (with_eq)
          round_accumulate_weighted(shape, degree, lo, hi, t.eq_weights[x], sums);
        else
          round_accumulate(shape, degree, lo, hi, sums);
      }
    });
    std::vector<QM31> values(n_values, QM31::zero());
    for (const auto& p : partial)
      for (uint32_t k = 0; k < n_values; ++k) values[k] += p[k];
    if (!with_eq) return values;
    std::vector<QM31> evals(degree + 1, QM31::zero());
    eq_round_from_quotient(values.data(), degree - 1, t.eq_point[t.round], t.eq_prefix, evals.data());
    return evals;
  }

  void fix_first_variable(SumcheckTables& resident, QM31 r) override {
    auto& t = const_cast<CpuTables&>(cpu_tables(resident));
    if (t.vars == 0) throw Error(ErrorCategory::Usage, "fix_first_variable: no variable left");
    const unsigned threads = this->threads();
    if (!t.base.empty()) {  // the first fold lifts: 4 base products per entry
      const size_t half = t.base[0].size() / 2;
      t.tables.resize(t.base.size());
      for (size_t j = 0; j < t.base.size(); ++j) {
        t.tables[j].resize(half);
        const M31* in = t.base[j].data();
        QM31* out = t.tables[j].data();
        parallel_for(half, kMinChunk, [&](size_t begin, size_t end) {
          for (size_t x = begin; x < end; ++x) out[x] = fold_pair(in[x], in[x + half], r);
        }, threads);
        std::vector<M31>().swap(t.base[j]);
      }
      t.base.clear();
    } else {
      // In place: entry x < half reads x and x + half only, so chunks of x are independent.
      const size_t half = t.tables[0].size() / 2;
      for (auto& table : t.tables) {
        QM31* v = table.data();
        parallel_for(half, kMinChunk, [&](size_t begin, size_t end) {
          for (size_t x = begin; x < end; ++x) v[x] = fold_pair(v[x], v[x + half], r);
        }, threads);
        table.resize(half);
      }
    }
    if (!t.eq_point.empty()) {
      t.eq_prefix *= eq_factor(t.eq_point[t.round], r);
      // eq(z_{i+2..}, y) = eq(z_{i+1..}, (0, y)) + eq(z_{i+1..}, (1, y)): eq(z, 0) + eq(z, 1) = 1.
      const size_t w_half = t.eq_weights.size() / 2;
      QM31* w = t.eq_weights.data();
      parallel_for(w_half, kMinChunk, [&](size_t begin, size_t end) {
        for (size_t y = begin; y < end; ++y) w[y] += w[y + w_half];
      }, threads);
      t.eq_weights.resize(w_half > 0 ? w_half : 1);
    }
    ++t.round;
    --t.vars;
  }

  std::vector<QM31> eq_table(std::span<const QM31> point, QM31 scale) override {
    return parallel_eq_table(point, scale, threads());
  }

  std::vector<QM31> restrict_rows(std::span<const M31> matrix, size_t rows, size_t cols,
                                  std::span<const QM31> weights) override {
    require_matrix(matrix, rows, cols, weights.size(), rows, "restrict_rows");
    // acc[c][k], c the QM31 coordinate, for a tile of columns at a time (the accumulators stay in
    // L1/L2: 4 x 8 bytes per column); each tile streams its part of every row once. A task is a
    // (row group, tile) pair: tiles alone when there are enough for the threads, else the rows
    // split too, each group's sums kept apart and added at the end.
    constexpr size_t kTile = 2048;
    const unsigned threads = this->threads();
    const size_t n_tiles = (cols + kTile - 1) / kTile;
    const bool parallel = threads > 1 && rows * cols >= kMinChunk;
    const size_t groups = parallel && n_tiles < 2 * size_t{threads} ? std::min<size_t>(threads, rows) : 1;
    std::vector<std::vector<QM31>> partial(groups, std::vector<QM31>(cols));
    auto task = [&](size_t index) {
      const size_t g = index / n_tiles, first = (index % n_tiles) * kTile;
      const size_t width = std::min(kTile, cols - first);
      const size_t row_begin = rows * g / groups, row_end = rows * (g + 1) / groups;
      std::vector<uint64_t> acc(4 * kTile, 0);
      uint64_t* a0 = acc.data();
      uint64_t* a1 = a0 + kTile;
      uint64_t* a2 = a1 + kTile;
      uint64_t* a3 = a2 + kTile;
      for (size_t i = row_begin; i < row_end; ++i) {
        const uint32_t w0 = weights[i].coord(0).v, w1 = weights[i].coord(1).v;
        const uint32_t w2 = weights[i].coord(2).v, w3 = weights[i].coord(3).v;
        const uint32_t* row = reinterpret_cast<const uint32_t*>(matrix.data() + i * cols + first);
        for (size_t k = 0; k < width; ++k) {
          const uint32_t m = row[k];
          a0[k] += lazy_product(w0, m);
          a1[k] += lazy_product(w1, m);
          a2[k] += lazy_product(w2, m);
          a3[k] += lazy_product(w3, m);
        }
      }
      QM31* out = partial[g].data() + first;
      for (size_t k = 0; k < width; ++k) {
        const uint64_t c[4] = {a0[k], a1[k], a2[k], a3[k]};
        out[k] = qm31_from_accumulators(c);
      }
    };
    if (!parallel)
      for (size_t index = 0; index < n_tiles; ++index) task(index);
    else
      parallel_tasks(groups * n_tiles, threads, task);
    std::vector<QM31> out = std::move(partial[0]);
    for (size_t g = 1; g < groups; ++g)
      for (size_t k = 0; k < cols; ++k) out[k] += partial[g][k];
    return out;
  }

  std::vector<QM31> restrict_columns(std::span<const M31> matrix, size_t rows, size_t cols,
                                     std::span<const QM31> weights) override {
    require_matrix(matrix, rows, cols, weights.size(), cols, "restrict_columns");
    // Weights as four coordinate rows, so the inner loop is four plain dot products. A task is a
    // (rows chunk, column group) pair: rows alone when there are enough, else the columns split
    // too (a matrix of few rows), each group's sums kept apart and added at the end.
    const unsigned threads = this->threads();
    std::vector<uint32_t> w(4 * cols);
    for (size_t j = 0; j < cols; ++j)
      for (int c = 0; c < 4; ++c) w[c * cols + j] = weights[j].coord(c).v;
    const bool parallel = threads > 1 && rows * cols >= kMinChunk;
    const size_t row_chunks = parallel ? std::min<size_t>(rows, 4 * size_t{threads}) : 1;
    const size_t groups = parallel && rows < 2 * size_t{threads} ? std::min<size_t>(threads, cols) : 1;
    std::vector<std::vector<QM31>> partial(groups, std::vector<QM31>(rows));
    auto task = [&](size_t index) {
      const size_t g = index / row_chunks, chunk = index % row_chunks;
      const size_t col_begin = cols * g / groups, col_end = cols * (g + 1) / groups;
      for (size_t k = rows * chunk / row_chunks; k < rows * (chunk + 1) / row_chunks; ++k) {
        const uint32_t* row = reinterpret_cast<const uint32_t*>(matrix.data() + k * cols);
        uint64_t acc[4] = {0, 0, 0, 0};
        for (size_t j = col_begin; j < col_end; ++j) {
          const uint32_t m = row[j];
          acc[0] += lazy_product(w[j], m);
          acc[1] += lazy_product(w[cols + j], m);
          acc[2] += lazy_product(w[2 * cols + j], m);
          acc[3] += lazy_product(w[3 * cols + j], m);
        }
        partial[g][k] = qm31_from_accumulators(acc);
      }
    };
    if (!parallel)
      task(0);
    else
      parallel_tasks(groups * row_chunks, threads, task);
    std::vector<QM31> out = std::move(partial[0]);
    for (size_t g = 1; g < groups; ++g)
      for (size_t k = 0; k < rows; ++k) out[k] += partial[g][k];
    return out;
  }

  std::unique_ptr<ResidentMatrix> upload_matrix(std::span<const M31> values) override {
    return std::make_unique<CpuResidentMatrix>(values);
  }
  std::vector<QM31> restrict_rows(const ResidentMatrix& values, size_t offset, size_t rows, size_t cols,
                                  std::span<const QM31> weights) override {
    return restrict_rows(cpu_matrix(values, offset, rows, cols, "restrict_rows"), rows, cols, weights);
  }
  std::vector<QM31> restrict_columns(const ResidentMatrix& values, size_t offset, size_t rows, size_t cols,
                                     std::span<const QM31> weights) override {
    return restrict_columns(cpu_matrix(values, offset, rows, cols, "restrict_columns"), rows, cols, weights);
  }

  unsigned host_threads() const override { return threads(); }

 private:
  unsigned threads() const { return threads_ != 0 ? threads_ : configured_thread_count(); }
  unsigned threads_ = 0;

  static void require_matrix(std::span<const M31> matrix, size_t rows, size_t cols, size_t n_weights,
                             size_t expected_weights, const char* who) {
    if (rows == 0 || cols == 0 || matrix.size() / cols != rows || matrix.size() % cols != 0)
      throw Error(ErrorCategory::Usage, std::string(who) + ": matrix of " + std::to_string(matrix.size()) +
                                            " values is not " + std::to_string(rows) + " x " +
                                            std::to_string(cols));
    if (n_weights != expected_weights)
      throw Error(ErrorCategory::Usage, std::string(who) + ": " + std::to_string(n_weights) +
                                            " weights, expected " + std::to_string(expected_weights));
    if (rows > kLazyDotMaxTerms || cols > kLazyDotMaxTerms)
      throw Error(ErrorCategory::Usage, std::string(who) + ": dimension above 2^32 (accumulator bound)");
  }
};

}  // namespace

void require_resident_range(const ResidentMatrix& values, size_t offset, size_t rows, size_t cols, const char* who) {
  const size_t n = values.size();
  if (rows == 0 || cols == 0 || cols > n || rows > n / cols || offset > n - rows * cols)
    throw Error(ErrorCategory::Usage, std::string(who) + ": a " + std::to_string(rows) + " x " + std::to_string(cols) +
                                          " matrix at entry " + std::to_string(offset) + " lies outside resident values of " +
                                          std::to_string(n) + " entries");
}

std::unique_ptr<SumcheckBackend> make_cpu_sumcheck_backend(unsigned threads) {
  if (threads > kMaxThreads)
    throw Error(ErrorCategory::Usage, "make_cpu_sumcheck_backend: " + std::to_string(threads) + " threads (at most " +
                                          std::to_string(kMaxThreads) + ")");
  return std::make_unique<CpuSumcheckBackend>(threads);
}

SumcheckBackend& default_sumcheck_backend() {
  static CpuSumcheckBackend backend;
  return backend;
}

}  // namespace ptvm::sumcheck
