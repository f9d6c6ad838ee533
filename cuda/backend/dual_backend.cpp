// The "dual" debugging backend (ptvm/gpu/cuda_backend.hpp): a reference and a candidate backend
// (by default CPU and CUDA) side by side, every stage's outputs compared; the first difference is
// reported by stage, column and row.
#include <memory>
#include <sstream>

#include "ptvm/common/error.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/runtime.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace {

[[noreturn]] void report(const std::string& stage, const std::string& what) {
  throw Error(ErrorCategory::Internal, "dual backend: stage '" + stage + "': " + what);
}

// How the two sides are named in reports: their backend names ("cpu", "cuda"), made distinct
// when both are the same kind.
struct Labels {
  std::string reference, candidate;
};

// `ref` is the reference's set, `cand` the candidate's (named cpu and cuda in the CPU + CUDA pair).
class DualColumns final : public ColumnSet {
 public:
  DualColumns(std::shared_ptr<ColumnSet> a, std::shared_ptr<ColumnSet> b, std::shared_ptr<const Labels> labels)
      : ref(std::move(a)), cand(std::move(b)), labels_(std::move(labels)) {}
  size_t n_columns() const override { return ref->n_columns(); }
  uint32_t log_size(size_t c) const override { return ref->log_size(c); }
  std::vector<M31> to_host(size_t c) const override { return ref->to_host(c); }
  std::vector<M31> gather(size_t c, std::span<const size_t> positions) const override {
    std::vector<M31> a = ref->gather(c, positions), b = cand->gather(c, positions);
    for (size_t i = 0; i < a.size(); ++i)
      if (i >= b.size() || a[i] != b[i])
        report("gather", "column " + std::to_string(c) + " row " + std::to_string(positions[i]) + " differs: " +
                             labels_->reference + " " + std::to_string(a[i].v) + ", " + labels_->candidate + " " +
                             (i < b.size() ? std::to_string(b[i].v) : std::string("missing")));
    if (b.size() != a.size()) report("gather", "value counts differ");
    return a;
  }
  std::shared_ptr<ColumnSet> ref, cand;

 private:
  std::shared_ptr<const Labels> labels_;
};

const DualColumns& dual(const ColumnSet& s) {
  auto* d = dynamic_cast<const DualColumns*>(&s);
  if (!d) throw Error(ErrorCategory::Internal, "dual backend: column set from another backend");
  return *d;
}
// The reference's and the candidate's handles of a dual set, of its kind.
template <class Kind>
Columns<Kind> ref(const Columns<Kind>& c) {
  return Columns<Kind>(dual(c.set()).ref);
}
template <class Kind>
Columns<Kind> cand(const Columns<Kind>& c) {
  return Columns<Kind>(dual(c.set()).cand);
}

std::string qm31_text(const QM31& v) {
  std::ostringstream s;
  s << "(" << v.x0.a.v << ", " << v.x0.b.v << ", " << v.x1.a.v << ", " << v.x1.b.v << ")";
  return s.str();
}

std::string hash_text(const hash::Blake2sHash& h) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : h.bytes) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

class DualTree final : public CommittedTree {
 public:
  DualTree(std::string stage, std::unique_ptr<CommittedTree> a, std::unique_ptr<CommittedTree> b,
           std::shared_ptr<const Labels> labels)
      : stage_(std::move(stage)), ref_(std::move(a)), cand_(std::move(b)), labels_(std::move(labels)) {
    if (ref_->column_log_sizes() != cand_->column_log_sizes()) report(stage_, "column log sizes differ");
    if (ref_->root() != cand_->root())
      report(stage_, "Merkle roots differ: " + labels_->reference + " " + hash_text(ref_->root()) + ", " +
                         labels_->candidate + " " + hash_text(cand_->root()));
  }
  hash::Blake2sHash root() const override { return ref_->root(); }
  std::vector<uint32_t> column_log_sizes() const override { return ref_->column_log_sizes(); }
  hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& q) const override {
    auto a = ref_->open(q);
    auto b = cand_->open(q);
    const std::string stage = stage_ + " open";
    for (size_t i = 0; i < std::min(a.queried_values.size(), b.queried_values.size()); ++i)
      if (a.queried_values[i] != b.queried_values[i])
        report(stage, "queried value " + std::to_string(i) + " differs: " + labels_->reference + " " +
                          std::to_string(a.queried_values[i].v) + ", " + labels_->candidate + " " +
                          std::to_string(b.queried_values[i].v));
    if (a.queried_values.size() != b.queried_values.size()) report(stage, "queried value counts differ");
    if (a.decommitment.column_witness != b.decommitment.column_witness) report(stage, "column witnesses differ");
    if (a.decommitment.hash_witness != b.decommitment.hash_witness) report(stage, "hash witnesses differ");
    return a;
  }

 private:
  std::string stage_;
  std::unique_ptr<CommittedTree> ref_, cand_;
  std::shared_ptr<const Labels> labels_;
};

class DualBackend final : public Backend {
 public:
  DualBackend(std::unique_ptr<Backend> reference, std::unique_ptr<Backend> candidate, DualBackendOptions options)
      : options_(std::move(options)), ref_(std::move(reference)), cand_(std::move(candidate)) {
    if (!ref_ || !cand_) throw Error(ErrorCategory::Usage, "dual backend: both backends are required");
    cand_cuda_ = dynamic_cast<CudaBackend*>(cand_.get());
    auto labels = std::make_shared<Labels>(Labels{ref_->name(), cand_->name()});
    if (labels->reference == labels->candidate) {
      labels->reference += " (reference)";
      labels->candidate += " (candidate)";
    }
    labels_ = std::move(labels);
  }
  std::string name() const override { return "dual"; }

  Evaluations upload_rows(const std::vector<std::vector<M31>>& rows) override {
    return pair("upload_rows", ref_->upload_rows(rows), cand_->upload_rows(rows));
  }
  std::vector<M31> to_host_rows(const Evaluations& set, size_t column) override {
    std::vector<M31> a = ref_->to_host_rows(ref(set), column), b = cand_->to_host_rows(cand(set), column);
    compare_values("to_host_rows", column, a, b, " (row order)");
    return a;
  }
  Coefficients interpolate(const Evaluations& e) override {
    return pair("interpolate", ref_->interpolate(ref(e)), cand_->interpolate(cand(e)));
  }
  Evaluations evaluate(const Coefficients& c, uint32_t ext) override {
    return pair("evaluate", ref_->evaluate(ref(c), ext), cand_->evaluate(cand(c), ext));
  }
  std::vector<QM31> evaluate_at_points(const Coefficients& c,
                                       std::span<const PointEvaluationRequest> requests) override {
    auto a = ref_->evaluate_at_points(ref(c), requests);
    auto b = cand_->evaluate_at_points(cand(c), requests);
    if (a.size() != b.size()) report("evaluate_at_points", "result counts differ");
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i])
        report("evaluate_at_points", "column " + std::to_string(requests[i].column) + " (request " + std::to_string(i) +
                                         "): " + labels_->reference + " " + qm31_text(a[i]) + ", " +
                                         labels_->candidate + " " + qm31_text(b[i]));
    return a;
  }
  std::unique_ptr<CommittedTree> commit(const std::vector<EvaluationsRef>& sets) override {
    std::vector<EvaluationsRef> a, b;
    for (const EvaluationsRef& s : sets) {
      a.emplace_back(*dual(s.set()).ref);
      b.emplace_back(*dual(s.set()).cand);
    }
    return std::make_unique<DualTree>("commit", ref_->commit(a), cand_->commit(b), labels_);
  }
  Interaction logup_interaction(const air::Component& component, const Evaluations& pre, const Evaluations& main,
                                std::span<const air::RelationChallenges> challenges) override {
    auto a = ref_->logup_interaction(component, ref(pre), ref(main), challenges);
    auto b = cand_->logup_interaction(component, cand(pre), cand(main), challenges);
    const std::string stage = "logup_interaction (component '" + component.info().name + "')";
    if (a.claimed_sum != b.claimed_sum)
      report(stage, "claimed sums differ: " + labels_->reference + " " + qm31_text(a.claimed_sum) + ", " +
                        labels_->candidate + " " + qm31_text(b.claimed_sum));
    return {pair(stage, std::move(a.columns), std::move(b.columns)), a.claimed_sum};
  }
  SecureEvaluations eval_composition(const air::Component& component, const CompositionInputs& in) override {
    // Each side's handles of the inputs, alive for both calls.
    Evaluations pre[2], main[2] = {ref(*in.main), cand(*in.main)}, inter[2];
    if (in.preprocessed) {
      pre[0] = ref(*in.preprocessed);
      pre[1] = cand(*in.preprocessed);
    }
    if (in.interaction) {
      inter[0] = ref(*in.interaction);
      inter[1] = cand(*in.interaction);
    }
    CompositionInputs side[2] = {in, in};
    for (int k = 0; k < 2; ++k) {
      side[k].preprocessed = in.preprocessed ? &pre[k] : nullptr;
      side[k].main = &main[k];
      side[k].interaction = in.interaction ? &inter[k] : nullptr;
    }
    return pair("eval_composition (component '" + component.info().name + "')",
                ref_->eval_composition(component, side[0]), cand_->eval_composition(component, side[1]));
  }
  void add_assign(SecureEvaluations& dst, const SecureEvaluations& src) override {
    SecureEvaluations a = ref(dst), b = cand(dst);
    ref_->add_assign(a, ref(src));
    cand_->add_assign(b, cand(src));
    compare("add_assign", a.set(), b.set());
  }
  Coefficients slice(const Coefficients& set, size_t first, size_t count) override {
    return pair("slice", ref_->slice(ref(set), first, count), cand_->slice(cand(set), first, count));
  }
  Coefficients coefficient_slice(const Coefficients& c, size_t begin, uint32_t log) override {
    return pair("coefficient_slice", ref_->coefficient_slice(ref(c), begin, log),
                cand_->coefficient_slice(cand(c), begin, log));
  }
  SecureEvaluations deep_quotients(uint32_t log_size, const std::vector<DeepQuotientBatch>& batches) override {
    std::vector<DeepQuotientBatch> a = batches, b = batches;
    for (size_t i = 0; i < batches.size(); ++i)
      for (size_t k = 0; k < batches[i].columns.size(); ++k) {
        a[i].columns[k].set = EvaluationsRef(*dual(batches[i].columns[k].set.set()).ref);
        b[i].columns[k].set = EvaluationsRef(*dual(batches[i].columns[k].set.set()).cand);
      }
    return pair("deep_quotients (log size " + std::to_string(log_size) + ")", ref_->deep_quotients(log_size, a),
                cand_->deep_quotients(log_size, b));
  }
  LineEvaluations fri_fold_circle(const SecureEvaluations& column, const QM31& alpha,
                                  const LineEvaluations* acc) override {
    const LineEvaluations acc_ref = acc ? ref(*acc) : LineEvaluations();
    const LineEvaluations acc_cand = acc ? cand(*acc) : LineEvaluations();
    return pair("fri_fold_circle", ref_->fri_fold_circle(ref(column), alpha, acc ? &acc_ref : nullptr),
                cand_->fri_fold_circle(cand(column), alpha, acc ? &acc_cand : nullptr));
  }
  LineEvaluations fri_fold_line(const LineEvaluations& line, const circle::LineDomain& domain,
                                const QM31& alpha) override {
    return pair("fri_fold_line", ref_->fri_fold_line(ref(line), domain, alpha),
                cand_->fri_fold_line(cand(line), domain, alpha));
  }
  uint64_t grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) override {
    uint64_t a = ref_->grind(channel, pow_bits), b = cand_->grind(channel, pow_bits);
    if (a != b)
      report("grind", "nonces differ: " + labels_->reference + " " + std::to_string(a) + ", " + labels_->candidate + " " +
                          std::to_string(b));
    return a;
  }

 private:
  template <class Kind>
  Columns<Kind> pair(const std::string& stage, Columns<Kind> a, Columns<Kind> b) {
    if (options_.after_cuda_stage && cand_cuda_) options_.after_cuda_stage(stage, *cand_cuda_, b.set());
    compare(stage, a.set(), b.set());
    return Columns<Kind>(std::make_shared<DualColumns>(a.storage(), b.storage(), labels_));
  }
  void compare_values(const std::string& stage, size_t c, const std::vector<M31>& x, const std::vector<M31>& y,
                      const char* order) const {
    if (x.size() != y.size())
      report(stage, "column " + std::to_string(c) + ": lengths differ: " + labels_->reference + " " +
                        std::to_string(x.size()) + ", " + labels_->candidate + " " + std::to_string(y.size()));
    for (size_t r = 0; r < x.size(); ++r)
      if (x[r] != y[r])
        report(stage, "column " + std::to_string(c) + " row " + std::to_string(r) + order + ": " + labels_->reference +
                          " " + std::to_string(x[r].v) + ", " + labels_->candidate + " " + std::to_string(y[r].v));
  }
  // Rows are bit-reversed storage positions (the order every backend keeps evaluations in).
  void compare(const std::string& stage, const ColumnSet& a, const ColumnSet& b) const {
    if (a.n_columns() != b.n_columns())
      report(stage, "column counts differ: " + labels_->reference + " " + std::to_string(a.n_columns()) + ", " +
                        labels_->candidate + " " + std::to_string(b.n_columns()));
    for (size_t c = 0; c < a.n_columns(); ++c) compare_values(stage, c, a.to_host(c), b.to_host(c), " (bit-reversed position)");
  }

  DualBackendOptions options_;
  std::unique_ptr<Backend> ref_, cand_;
  CudaBackend* cand_cuda_ = nullptr;  // the candidate, if it is a CUDA backend (for after_cuda_stage)
  std::shared_ptr<const Labels> labels_;
};

}  // namespace

std::unique_ptr<Backend> make_dual_backend(std::unique_ptr<Backend> reference, std::unique_ptr<Backend> candidate,
                                           DualBackendOptions options) {
  return std::make_unique<DualBackend>(std::move(reference), std::move(candidate), std::move(options));
}

std::unique_ptr<Backend> make_dual_backend(DualBackendOptions options) {
  return make_dual_backend(make_cpu_backend(), make_cuda_backend(), std::move(options));
}

std::unique_ptr<Backend> make_backend(std::string_view name) {
  if (name == "cpu") return make_cpu_backend();
  if (name == "cuda") return make_cuda_backend();
  if (name == "dual") return make_dual_backend();
  throw Error(ErrorCategory::Usage, "unknown backend '" + std::string(name) + "' (known: cpu, cuda, dual)");
}

PTVM_GPU_NAMESPACE_END
