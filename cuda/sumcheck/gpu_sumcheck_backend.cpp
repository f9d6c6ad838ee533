// The GPU sumcheck backend (see ptvm/gpu/sumcheck_backend.hpp).
#include "ptvm/gpu/sumcheck_backend.hpp"

#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/sumcheck_eq_table.hpp"
#include "ptvm/gpu/sumcheck_fix_variable.hpp"
#include "ptvm/gpu/sumcheck_restrict.hpp"
#include "ptvm/gpu/sumcheck_round.hpp"
#include "ptvm/sumcheck/mle.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace {

using sumcheck::ProductShape;
using sumcheck::SumcheckTables;

// n_tables tables, table j at j * capacity; folding works in place, so the stride stays.
class GpuTables final : public SumcheckTables {
 public:
  DeviceBuffer<QM31> buffer;
  size_t tables = 0, capacity = 0;
  unsigned vars = 0;
  stream_t stream = nullptr;

  size_t n_tables() const override { return tables; }
  unsigned n_vars() const override { return vars; }
  std::vector<std::vector<QM31>> to_host() const override {
    const std::vector<QM31> all = buffer.to_host(stream);
    std::vector<std::vector<QM31>> out(tables);
    const size_t size = size_t{1} << vars;
    for (size_t j = 0; j < tables; ++j)
      out[j].assign(all.begin() + j * capacity, all.begin() + j * capacity + size);
    return out;
  }
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

  std::unique_ptr<SumcheckTables> load_tables(std::span<const std::vector<QM31>> tables) override {
    return load(tables);
  }
  // M31 tables are lifted on the host (the first fold could read M31: sumcheck_fix_first_variable_m31).
  std::unique_ptr<SumcheckTables> load_tables(std::span<const std::vector<M31>> tables) override {
    return load(tables);
  }

  std::vector<QM31> sumcheck_round(const SumcheckTables& t, const ProductShape& shape, uint32_t degree) override {
    GpuTables& g = gpu_tables(t);
    return gpu::sumcheck_round(g.buffer.cptr(), g.capacity, g.tables, g.vars, shape, degree, stream_);
  }

  void fix_first_variable(SumcheckTables& t, QM31 r) override {
    GpuTables& g = gpu_tables(t);
    gpu::sumcheck_fix_first_variable(g.buffer.ptr(), g.capacity, g.tables, g.vars, r, stream_);
    --g.vars;
  }

  std::vector<QM31> eq_table(std::span<const QM31> point, QM31 scale) override {
    if (point.size() > 40) throw Error(ErrorCategory::Usage, "eq_table: more than 40 variables");
    DeviceBuffer<QM31> p(point.empty() ? 1 : point.size());
    if (!point.empty()) p.upload(point, stream_);
    DeviceBuffer<QM31> out(size_t{1} << point.size());
    gpu::sumcheck_eq_table(p.cptr(), unsigned(point.size()), scale, out.ptr(), stream_);
    return out.to_host(stream_);
  }

  std::vector<QM31> restrict_rows(std::span<const M31> matrix, size_t rows, size_t cols,
                                  std::span<const QM31> weights) override {
    require(matrix, rows, cols, weights.size(), rows, "restrict_rows");
    auto m = DeviceBuffer<M31>::from_host(matrix, stream_);
    auto w = DeviceBuffer<QM31>::from_host(weights, stream_);
    DeviceBuffer<QM31> out(cols);
    gpu::sumcheck_restrict_rows(m.cptr(), rows, cols, w.cptr(), out.ptr(), stream_);
    return out.to_host(stream_);
  }

  std::vector<QM31> restrict_columns(std::span<const M31> matrix, size_t rows, size_t cols,
                                     std::span<const QM31> weights) override {
    require(matrix, rows, cols, weights.size(), cols, "restrict_columns");
    auto m = DeviceBuffer<M31>::from_host(matrix, stream_);
    auto w = DeviceBuffer<QM31>::from_host(weights, stream_);
    DeviceBuffer<QM31> out(rows);
    gpu::sumcheck_restrict_columns(m.cptr(), rows, cols, w.cptr(), out.ptr(), stream_);
    return out.to_host(stream_);
  }

 private:
  template <class F>
  std::unique_ptr<SumcheckTables> load(std::span<const std::vector<F>> tables) {
    if (tables.empty()) throw Error(ErrorCategory::Usage, "load_tables: no table");
    auto g = std::make_unique<GpuTables>();
    g->vars = sumcheck::log2_table_size(tables[0].size(), "load_tables");
    g->tables = tables.size();
    g->capacity = tables[0].size();
    g->stream = stream_;
    std::vector<QM31> host(g->tables * g->capacity);
    for (size_t j = 0; j < tables.size(); ++j) {
      if (tables[j].size() != g->capacity) throw Error(ErrorCategory::Usage, "load_tables: tables of different sizes");
      for (size_t x = 0; x < g->capacity; ++x) host[j * g->capacity + x] = sumcheck::to_qm31(tables[j][x]);
    }
    g->buffer = DeviceBuffer<QM31>::from_host(host, stream_);
    return g;
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
};

}  // namespace

std::unique_ptr<sumcheck::SumcheckBackend> make_gpu_sumcheck_backend(stream_t stream) {
  return std::make_unique<GpuSumcheckBackend>(stream);
}

PTVM_GPU_NAMESPACE_END
