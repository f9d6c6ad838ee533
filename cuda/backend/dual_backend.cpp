// The "dual" debugging backend (ptvm/gpu/cuda_backend.hpp): CPU and CUDA side by side, every
// stage's outputs compared; the first difference is reported by stage, column and row.
#include <sstream>

#include "ptvm/common/error.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/runtime.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace {

class DualColumns final : public ColumnSet {
 public:
  DualColumns(std::unique_ptr<ColumnSet> c, std::unique_ptr<ColumnSet> g) : cpu(std::move(c)), cuda(std::move(g)) {}
  size_t n_columns() const override { return cpu->n_columns(); }
  uint32_t log_size(size_t c) const override { return cpu->log_size(c); }
  std::vector<M31> to_host(size_t c) const override { return cpu->to_host(c); }
  std::vector<M31> gather(size_t c, std::span<const size_t> positions) const override {
    std::vector<M31> a = cpu->gather(c, positions), b = cuda->gather(c, positions);
    for (size_t i = 0; i < a.size(); ++i)
      if (i >= b.size() || a[i] != b[i])
        throw Error(ErrorCategory::Internal, "dual backend: stage 'gather': column " + std::to_string(c) + " row " +
                                                 std::to_string(positions[i]) + " differs");
    return a;
  }
  std::unique_ptr<ColumnSet> cpu, cuda;
};

const DualColumns& dual(const ColumnSet& s) {
  auto* d = dynamic_cast<const DualColumns*>(&s);
  if (!d) throw Error(ErrorCategory::Internal, "dual backend: column set from another backend");
  return *d;
}
DualColumns& dual(ColumnSet& s) {
  auto* d = dynamic_cast<DualColumns*>(&s);
  if (!d) throw Error(ErrorCategory::Internal, "dual backend: column set from another backend");
  return *d;
}

[[noreturn]] void report(const std::string& stage, const std::string& what) {
  throw Error(ErrorCategory::Internal, "dual backend: stage '" + stage + "': " + what);
}

std::string qm31_text(const QM31& v) {
  std::ostringstream s;
  s << "(" << v.x0.a.v << ", " << v.x0.b.v << ", " << v.x1.a.v << ", " << v.x1.b.v << ")";
  return s.str();
}

class DualTree final : public CommittedTree {
 public:
  DualTree(std::string stage, std::unique_ptr<CommittedTree> c, std::unique_ptr<CommittedTree> g)
      : stage_(std::move(stage)), cpu_(std::move(c)), cuda_(std::move(g)) {
    if (cpu_->root() != cuda_->root()) report(stage_, "Merkle roots differ");
  }
  hash::Blake2sHash root() const override { return cpu_->root(); }
  std::vector<uint32_t> column_log_sizes() const override { return cpu_->column_log_sizes(); }
  hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& q) const override {
    auto a = cpu_->open(q);
    auto b = cuda_->open(q);
    const std::string stage = stage_ + " open";
    for (size_t i = 0; i < std::min(a.queried_values.size(), b.queried_values.size()); ++i)
      if (a.queried_values[i] != b.queried_values[i])
        report(stage, "queried value " + std::to_string(i) + " differs: cpu " + std::to_string(a.queried_values[i].v) +
                          ", cuda " + std::to_string(b.queried_values[i].v));
    if (a.queried_values.size() != b.queried_values.size()) report(stage, "queried value counts differ");
    if (a.decommitment.column_witness != b.decommitment.column_witness) report(stage, "column witnesses differ");
    if (a.decommitment.hash_witness != b.decommitment.hash_witness) report(stage, "hash witnesses differ");
    return a;
  }

 private:
  std::string stage_;
  std::unique_ptr<CommittedTree> cpu_, cuda_;
};

class DualBackend final : public Backend {
 public:
  explicit DualBackend(DualBackendOptions options)
      : options_(std::move(options)), cpu_(make_cpu_backend()), cuda_(make_cuda_backend()) {}
  std::string name() const override { return "dual"; }

  std::unique_ptr<ColumnSet> upload_rows(const std::vector<std::vector<M31>>& rows) override {
    return pair("upload_rows", cpu_->upload_rows(rows), cuda_->upload_rows(rows));
  }
  std::vector<M31> to_host_rows(const ColumnSet& set, size_t column) override {
    return cpu_->to_host_rows(*dual(set).cpu, column);
  }
  std::unique_ptr<ColumnSet> interpolate(const ColumnSet& e) override {
    return pair("interpolate", cpu_->interpolate(*dual(e).cpu), cuda_->interpolate(*dual(e).cuda));
  }
  std::unique_ptr<ColumnSet> evaluate(const ColumnSet& c, uint32_t ext) override {
    return pair("evaluate", cpu_->evaluate(*dual(c).cpu, ext), cuda_->evaluate(*dual(c).cuda, ext));
  }
  std::vector<QM31> evaluate_at_points(const ColumnSet& c, std::span<const PointEvaluationRequest> requests) override {
    auto a = cpu_->evaluate_at_points(*dual(c).cpu, requests);
    auto b = cuda_->evaluate_at_points(*dual(c).cuda, requests);
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i])
        report("evaluate_at_points", "column " + std::to_string(requests[i].column) + " (request " + std::to_string(i) +
                                         "): cpu " + qm31_text(a[i]) + ", cuda " + qm31_text(b[i]));
    return a;
  }
  std::unique_ptr<CommittedTree> commit(const std::vector<const ColumnSet*>& sets) override {
    std::vector<const ColumnSet*> a, b;
    for (const ColumnSet* s : sets) {
      a.push_back(dual(*s).cpu.get());
      b.push_back(dual(*s).cuda.get());
    }
    return std::make_unique<DualTree>("commit", cpu_->commit(a), cuda_->commit(b));
  }
  Interaction logup_interaction(const air::Component& component, const ColumnSet& pre, const ColumnSet& main,
                                std::span<const air::RelationChallenges> challenges) override {
    auto a = cpu_->logup_interaction(component, *dual(pre).cpu, *dual(main).cpu, challenges);
    auto b = cuda_->logup_interaction(component, *dual(pre).cuda, *dual(main).cuda, challenges);
    const std::string stage = "logup_interaction (component '" + component.info().name + "')";
    if (a.claimed_sum != b.claimed_sum)
      report(stage, "claimed sums differ: cpu " + qm31_text(a.claimed_sum) + ", cuda " + qm31_text(b.claimed_sum));
    return {pair(stage, std::move(a.columns), std::move(b.columns)), a.claimed_sum};
  }
  std::unique_ptr<ColumnSet> eval_composition(const air::Component& component, const CompositionInputs& in) override {
    CompositionInputs a = in, b = in;
    a.preprocessed = in.preprocessed ? dual(*in.preprocessed).cpu.get() : nullptr;
    b.preprocessed = in.preprocessed ? dual(*in.preprocessed).cuda.get() : nullptr;
    a.main = dual(*in.main).cpu.get();
    b.main = dual(*in.main).cuda.get();
    a.interaction = in.interaction ? dual(*in.interaction).cpu.get() : nullptr;
    b.interaction = in.interaction ? dual(*in.interaction).cuda.get() : nullptr;
    return pair("eval_composition (component '" + component.info().name + "')", cpu_->eval_composition(component, a),
                cuda_->eval_composition(component, b));
  }
  void add_assign(ColumnSet& dst, const ColumnSet& src) override {
    DualColumns& d = dual(dst);
    cpu_->add_assign(*d.cpu, *dual(src).cpu);
    cuda_->add_assign(*d.cuda, *dual(src).cuda);
    compare("add_assign", *d.cpu, *d.cuda);
  }
  std::unique_ptr<ColumnSet> slice(const ColumnSet& set, size_t first, size_t count) override {
    return pair("slice", cpu_->slice(*dual(set).cpu, first, count), cuda_->slice(*dual(set).cuda, first, count));
  }
  std::unique_ptr<ColumnSet> coefficient_slice(const ColumnSet& c, size_t begin, uint32_t log) override {
    return pair("coefficient_slice", cpu_->coefficient_slice(*dual(c).cpu, begin, log),
                cuda_->coefficient_slice(*dual(c).cuda, begin, log));
  }
  std::unique_ptr<ColumnSet> deep_quotients(uint32_t log_size, const std::vector<DeepQuotientBatch>& batches) override {
    std::vector<DeepQuotientBatch> a = batches, b = batches;
    for (size_t i = 0; i < batches.size(); ++i)
      for (size_t k = 0; k < batches[i].columns.size(); ++k) {
        a[i].columns[k].set = dual(*batches[i].columns[k].set).cpu.get();
        b[i].columns[k].set = dual(*batches[i].columns[k].set).cuda.get();
      }
    return pair("deep_quotients (log size " + std::to_string(log_size) + ")", cpu_->deep_quotients(log_size, a),
                cuda_->deep_quotients(log_size, b));
  }
  std::unique_ptr<ColumnSet> fri_fold_circle(const ColumnSet& column, const QM31& alpha, const ColumnSet* acc) override {
    return pair("fri_fold_circle", cpu_->fri_fold_circle(*dual(column).cpu, alpha, acc ? dual(*acc).cpu.get() : nullptr),
                cuda_->fri_fold_circle(*dual(column).cuda, alpha, acc ? dual(*acc).cuda.get() : nullptr));
  }
  std::unique_ptr<ColumnSet> fri_fold_line(const ColumnSet& line, const circle::LineDomain& domain, const QM31& alpha) override {
    return pair("fri_fold_line", cpu_->fri_fold_line(*dual(line).cpu, domain, alpha),
                cuda_->fri_fold_line(*dual(line).cuda, domain, alpha));
  }
  uint64_t grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) override {
    uint64_t a = cpu_->grind(channel, pow_bits), b = cuda_->grind(channel, pow_bits);
    if (a != b) report("grind", "nonces differ: cpu " + std::to_string(a) + ", cuda " + std::to_string(b));
    return a;
  }

 private:
  std::unique_ptr<ColumnSet> pair(const std::string& stage, std::unique_ptr<ColumnSet> a, std::unique_ptr<ColumnSet> b) {
    if (options_.after_cuda_stage) options_.after_cuda_stage(stage, *cuda_, *b);
    compare(stage, *a, *b);
    return std::make_unique<DualColumns>(std::move(a), std::move(b));
  }
  // Rows are bit-reversed storage positions (the order every backend keeps evaluations in).
  static void compare(const std::string& stage, const ColumnSet& a, const ColumnSet& b) {
    if (a.n_columns() != b.n_columns())
      report(stage, "column counts differ: cpu " + std::to_string(a.n_columns()) + ", cuda " + std::to_string(b.n_columns()));
    for (size_t c = 0; c < a.n_columns(); ++c) {
      std::vector<M31> x = a.to_host(c), y = b.to_host(c);
      if (x.size() != y.size())
        report(stage, "column " + std::to_string(c) + ": lengths differ: cpu " + std::to_string(x.size()) + ", cuda " +
                          std::to_string(y.size()));
      for (size_t r = 0; r < x.size(); ++r)
        if (x[r] != y[r])
          report(stage, "column " + std::to_string(c) + " row " + std::to_string(r) + " (bit-reversed position): cpu " +
                            std::to_string(x[r].v) + ", cuda " + std::to_string(y[r].v));
    }
  }

  DualBackendOptions options_;
  std::unique_ptr<Backend> cpu_;
  std::unique_ptr<CudaBackend> cuda_;
};

}  // namespace

std::unique_ptr<Backend> make_dual_backend(DualBackendOptions options) {
  return std::make_unique<DualBackend>(std::move(options));
}

std::unique_ptr<Backend> make_backend(std::string_view name) {
  if (name == "cpu") return make_cpu_backend();
  if (name == "cuda") return make_cuda_backend();
  if (name == "dual") return make_dual_backend();
  throw Error(ErrorCategory::Usage, "unknown backend '" + std::string(name) + "' (known: cpu, cuda, dual)");
}

PTVM_GPU_NAMESPACE_END
