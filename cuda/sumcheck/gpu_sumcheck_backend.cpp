// The GPU sumcheck backend (see ptvm/gpu/sumcheck_backend.hpp).
#include "ptvm/gpu/sumcheck_backend.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/gpu/column_ops.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/sumcheck_eq_table.hpp"
#include "ptvm/gpu/sumcheck_fix_variable.hpp"
#include "ptvm/gpu/sumcheck_restrict.hpp"
#include "ptvm/gpu/sumcheck_round.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/mle.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace {

using sumcheck::ProductShape;
using sumcheck::SumcheckTables;
using gpu::ColumnOp;

// n_tables tables, table j at j * capacity; folding works in place, so the stride stays.
class GpuTables final : public SumcheckTables {
 public:
  DeviceBuffer<QM31> buffer;
  size_t tables = 0, capacity = 0;
  unsigned vars = 0;
  stream_t stream = nullptr;
  // The eq factor (as in the CPU backend): z, the round, the prefix, and the device weights
  // eq(z_{round+1..}, .), halved in place each round (eq_size entries live).
  std::vector<QM31> eq_point;
  unsigned round = 0;
  QM31 eq_prefix = QM31::one();
  DeviceBuffer<QM31> eq_weights;
  size_t eq_size = 0;

  size_t n_tables() const override { return tables; }
  unsigned n_vars() const override { return vars; }
  // Only the live 2^vars entries of each table travel (after the last round: one each).
  std::vector<std::vector<QM31>> to_host() const override {
    std::vector<std::vector<QM31>> out(tables, std::vector<QM31>(size_t{1} << vars));
    for (size_t j = 0; j < tables; ++j) buffer.download(out[j], stream, j * capacity);
    return out;
  }
};

class GpuResidentMatrix final : public sumcheck::ResidentMatrix {
 public:
  DeviceBuffer<M31> values;
  size_t size() const override { return values.size(); }
};

GpuTables& gpu_tables(const SumcheckTables& t) {
  auto* p = dynamic_cast<const GpuTables*>(&t);
  if (!p) throw Error(ErrorCategory::Usage, "gpu sumcheck backend: tables of another backend");
  return const_cast<GpuTables&>(*p);
}

class GpuSumcheckBackend final : public sumcheck::SumcheckBackend {
 public:
  explicit GpuSumcheckBackend(stream_t stream) : stream_(stream) {}
  std::string name() const override {
#if defined(PTVM_HOSTSIM)
    return "hostsim";
#else
    return "cuda";
#endif
  }

  std::unique_ptr<SumcheckTables> load_tables(std::span<const std::vector<QM31>> tables,
                                              std::span<const QM31> eq_point) override {
    return load(tables, eq_point);
  }
  // M31 tables are lifted on the host (the first fold could read M31: sumcheck_fix_first_variable_m31).
  std::unique_ptr<SumcheckTables> load_tables(std::span<const std::vector<M31>> tables,
                                              std::span<const QM31> eq_point) override {
    return load(tables, eq_point);
  }

  std::vector<QM31> sumcheck_round(const SumcheckTables& t, const ProductShape& shape, uint32_t degree) override {
    GpuTables& g = gpu_tables(t);
    if (g.eq_point.empty()) {
      if (degree > ProductShape::kMaxDegree) throw Error(ErrorCategory::Usage, "sumcheck_round: degree too high");
      return gpu::sumcheck_round(g.buffer.cptr(), g.capacity, g.tables, g.vars, shape, degree + 1,
                                 gptr<const QM31>(), stream_);
    }
    if (degree != shape.degree() + 1 || degree > ProductShape::kMaxDegree)
      throw Error(ErrorCategory::Usage, "sumcheck_round: degree " + std::to_string(degree) + " for this shape");
    const std::vector<QM31> q =
        gpu::sumcheck_round(g.buffer.cptr(), g.capacity, g.tables, g.vars, shape, degree, g.eq_weights.cptr(), stream_);
    std::vector<QM31> evals(degree + 1);
    sumcheck::eq_round_from_quotient(q.data(), degree - 1, g.eq_point[g.round], g.eq_prefix, evals.data());
    return evals;
  }

  void fix_first_variable(SumcheckTables& t, QM31 r) override {
    GpuTables& g = gpu_tables(t);
    gpu::sumcheck_fix_first_variable(g.buffer.ptr(), g.capacity, g.tables, g.vars, r, stream_);
    if (!g.eq_point.empty()) {
      g.eq_prefix *= sumcheck::eq_factor(g.eq_point[g.round], r);
      // eq(z_{i+2..}, y) = eq(z_{i+1..}, (0, y)) + eq(z_{i+1..}, (1, y)).
      if (g.eq_size >= 2) {
        const size_t half = g.eq_size / 2;
        const gptr<QM31> w = g.eq_weights.ptr();
        gpu::qm31_columns_apply(ColumnOp::Add, gptr<const QM31>(w), gptr<const QM31>(w.offset(half)), w, half,
                                stream_);
        g.eq_size = half;
      }
    }
    ++g.round;
    --g.vars;
  }

  std::vector<QM31> eq_table(std::span<const QM31> point, QM31 scale) override {
    if (point.size() > 40) throw Error(ErrorCategory::Usage, "eq_table: more than 40 variables");
    const DeviceBuffer<QM31> p = upload(point.empty() ? std::span<const QM31>(&scale, 1) : point);
    DeviceBuffer<QM31> out(size_t{1} << point.size());
    gpu::sumcheck_eq_table(p.cptr(), unsigned(point.size()), scale, out.ptr(), stream_);
    return out.to_host(stream_);
  }

  std::vector<QM31> restrict_rows(std::span<const M31> matrix, size_t rows, size_t cols,
                                  std::span<const QM31> weights) override {
    require(matrix, rows, cols, weights.size(), rows, "restrict_rows");
    return restrict(upload(matrix).cptr(), rows, cols, weights, true);
  }
  std::vector<QM31> restrict_columns(std::span<const M31> matrix, size_t rows, size_t cols,
                                     std::span<const QM31> weights) override {
    require(matrix, rows, cols, weights.size(), cols, "restrict_columns");
    return restrict(upload(matrix).cptr(), rows, cols, weights, false);
  }

  std::unique_ptr<sumcheck::ResidentMatrix> upload_matrix(std::span<const M31> values) override {
    auto m = std::make_unique<GpuResidentMatrix>();
    m->values = upload(values);
    return m;
  }
  std::vector<QM31> restrict_rows(const sumcheck::ResidentMatrix& values, size_t offset, size_t rows, size_t cols,
                                  std::span<const QM31> weights) override {
    return restrict(resident(values, offset, rows, cols, weights.size(), rows, "restrict_rows"), rows, cols, weights,
                    true);
  }
  std::vector<QM31> restrict_columns(const sumcheck::ResidentMatrix& values, size_t offset, size_t rows, size_t cols,
                                     std::span<const QM31> weights) override {
    return restrict(resident(values, offset, rows, cols, weights.size(), cols, "restrict_columns"), rows, cols,
                    weights, false);
  }

 private:
  template <class F>
  std::unique_ptr<SumcheckTables> load(std::span<const std::vector<F>> tables, std::span<const QM31> eq_point) {
    if (tables.empty()) throw Error(ErrorCategory::Usage, "load_tables: no table");
    auto g = std::make_unique<GpuTables>();
    g->vars = sumcheck::log2_table_size(tables[0].size(), "load_tables");
    g->tables = tables.size();
    g->capacity = tables[0].size();
    g->stream = stream_;
    for (const auto& t : tables)
      if (t.size() != g->capacity) throw Error(ErrorCategory::Usage, "load_tables: tables of different sizes");
    g->buffer = DeviceBuffer<QM31>(g->tables * g->capacity);
    // Lifted straight into the pinned staging buffer.
    staged_upload(g->buffer.data(), g->buffer.size(), [&](QM31* dst, size_t first, size_t n) {
      for (size_t j = first / g->capacity, x = first % g->capacity, i = 0; i < n; ++i) {
        dst[i] = sumcheck::to_qm31(tables[j][x]);
        if (++x == g->capacity) x = 0, ++j;
      }
    });
    if (!eq_point.empty()) {
      if (eq_point.size() != g->vars)
        throw Error(ErrorCategory::Usage, "load_tables: an eq point of " + std::to_string(eq_point.size()) +
                                              " coordinates for " + std::to_string(g->vars) + " variables");
      g->eq_point.assign(eq_point.begin(), eq_point.end());
      // eq(z_{1..}, .) built on the device.
      const unsigned n = g->vars - 1;
      const DeviceBuffer<QM31> point = upload(n > 0 ? eq_point.subspan(1) : eq_point.first(1));
      g->eq_size = size_t{1} << n;
      g->eq_weights = DeviceBuffer<QM31>(g->eq_size);
      gpu::sumcheck_eq_table(point.cptr(), n, QM31::one(), g->eq_weights.ptr(), stream_);
    }
    return g;
  }

  // Host -> device copies pass through one pinned staging buffer (allocated on first use and kept:
  // a pinned allocation is slow), chunk by chunk on the backend's stream: the pinned PCIe rate, and
  // not overlapped with kernels (each chunk is waited for before the buffer is refilled).
  // fill(dst, first, n) writes elements [first, first + n) of what goes to device_dst.
  static constexpr size_t kStagingBytes = size_t{16} << 20;
  template <class T, class Fill>
  void staged_upload(T* device_dst, size_t count, Fill&& fill) {
    if (!staging_.data()) staging_ = PinnedBuffer<unsigned char>(kStagingBytes);
    T* chunk = reinterpret_cast<T*>(staging_.data());
    const size_t per_chunk = kStagingBytes / sizeof(T);
    for (size_t first = 0; first < count; first += per_chunk) {
      const size_t n = std::min(per_chunk, count - first);
      fill(chunk, first, n);
      copy_to_device(device_dst + first, chunk, n * sizeof(T), stream_);
      synchronize(stream_);
    }
  }
  template <class T>
  DeviceBuffer<T> upload(std::span<const T> host) {
    DeviceBuffer<T> b(host.size());
    staged_upload(b.data(), host.size(),
                  [&](T* dst, size_t first, size_t n) { std::memcpy(dst, host.data() + first, n * sizeof(T)); });
    return b;
  }

  // The restriction of the rows x cols matrix at m (rows: by the row weights; else by the column ones).
  std::vector<QM31> restrict(gptr<const M31> m, size_t rows, size_t cols, std::span<const QM31> weights, bool by_rows) {
    const DeviceBuffer<QM31> w = upload(weights);
    DeviceBuffer<QM31> out(by_rows ? cols : rows);
    if (by_rows)
      gpu::sumcheck_restrict_rows(m, rows, cols, w.cptr(), out.ptr(), stream_);
    else
      gpu::sumcheck_restrict_columns(m, rows, cols, w.cptr(), out.ptr(), stream_);
    return out.to_host(stream_);
  }

  static gptr<const M31> resident(const sumcheck::ResidentMatrix& values, size_t offset, size_t rows, size_t cols,
                                  size_t n_weights, size_t expected, const char* who) {
    auto* p = dynamic_cast<const GpuResidentMatrix*>(&values);
    if (!p) throw Error(ErrorCategory::Usage, std::string(who) + ": resident values of another backend");
    sumcheck::require_resident_range(values, offset, rows, cols, who);
    if (n_weights != expected)
      throw Error(ErrorCategory::Usage, std::string(who) + ": " + std::to_string(n_weights) + " weights, expected " +
                                            std::to_string(expected));
    return p->values.cptr().offset(offset);
  }

  static void require(std::span<const M31> matrix, size_t rows, size_t cols, size_t n_weights, size_t expected,
                      const char* who) {
    if (rows == 0 || cols == 0 || matrix.size() % cols != 0 || matrix.size() / cols != rows)
      throw Error(ErrorCategory::Usage, std::string(who) + ": the matrix is not " + std::to_string(rows) + " x " +
                                            std::to_string(cols));
    if (n_weights != expected)
      throw Error(ErrorCategory::Usage, std::string(who) + ": " + std::to_string(n_weights) + " weights, expected " +
                                            std::to_string(expected));
  }

  stream_t stream_;
  PinnedBuffer<unsigned char> staging_;
};

}  // namespace

std::unique_ptr<sumcheck::SumcheckBackend> make_gpu_sumcheck_backend(stream_t stream) {
  return std::make_unique<GpuSumcheckBackend>(stream);
}

PTVM_GPU_NAMESPACE_END
