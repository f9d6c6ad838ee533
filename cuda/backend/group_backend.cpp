// Lockstep group proving (ptvm/gpu/group_backend.hpp): per-job proxy backends, the rendezvous, and
// the coordinator that executes one round's calls together. The batched executions of the calls
// are in group_batched.cpp.
#include "ptvm/gpu/group_backend.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "device_columns.hpp"
#include "group_internal.hpp"

PTVM_GPU_NAMESPACE_BEGIN

const char* group_call_name(GroupCall call) {
  static const char* const names[] = {"upload_rows", "to_host_rows", "interpolate", "evaluate", "evaluate_at_points",
                                      "commit", "logup_interaction", "eval_composition", "add_assign", "slice",
                                      "coefficient_slice", "deep_quotients", "fri_fold_circle", "fri_fold_line",
                                      "grind", "gather", "open", "extend_and_commit"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(GroupCall::Count));
  return names[static_cast<size_t>(call)];
}

namespace group_detail {
namespace {

class Group;

// A column set of one job: the device set, forwarded to the coordinator for every device access.
class ProxyColumns final : public ColumnSet {
 public:
  ProxyColumns(Group& g, size_t job, std::shared_ptr<ColumnSet> inner) : g_(g), job_(job), inner_(std::move(inner)) {}
  ~ProxyColumns() override;
  size_t n_columns() const override { return inner_->n_columns(); }
  uint32_t log_size(size_t c) const override { return inner_->log_size(c); }
  std::vector<M31> to_host(size_t c) const override;
  std::vector<M31> gather(size_t c, std::span<const size_t> positions) const override;
  const std::shared_ptr<ColumnSet>& inner() const { return inner_; }

 private:
  Group& g_;
  size_t job_;
  std::shared_ptr<ColumnSet> inner_;
};

class ProxyTree final : public CommittedTree {
 public:
  ProxyTree(Group& g, size_t job, std::unique_ptr<CommittedTree> inner) : g_(g), job_(job), inner_(std::move(inner)) {}
  ~ProxyTree() override;
  hash::Blake2sHash root() const override { return inner_->root(); }
  std::vector<uint32_t> column_log_sizes() const override { return inner_->column_log_sizes(); }
  hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& queries) const override;

 private:
  Group& g_;
  size_t job_;
  std::unique_ptr<CommittedTree> inner_;
};

const std::shared_ptr<ColumnSet>& unwrap(const ColumnSet& s) {
  auto* p = dynamic_cast<const ProxyColumns*>(&s);
  if (!p) throw Error(ErrorCategory::Internal, "group backend: column set from another backend");
  return p->inner();
}
// The device columns behind a job's handle, as a handle of the same kind.
template <class Kind>
Columns<Kind> unwrap(const Columns<Kind>& c) {
  return Columns<Kind>(unwrap(c.set()));
}

class Group {
 public:
  Group(CudaBackend& device, size_t n_jobs) : device_(device), pending_(n_jobs, nullptr), live_(n_jobs) {}

  CudaBackend& device() { return device_; }

  // Called on a job's thread: hands the call to the coordinator and waits for its execution.
  void submit(size_t job, Call& call) {
    std::unique_lock lock(mutex_);
    pending_[job] = &call;
    ++waiting_;
    if (waiting_ == live_) coordinator_cv_.notify_one();
    jobs_cv_.wait(lock, [&] { return call.done; });
    lock.unlock();
    if (call.error) std::rethrow_exception(call.error);
  }
  void job_finished() {
    std::lock_guard lock(mutex_);
    --live_;
    if (waiting_ == live_) coordinator_cv_.notify_one();
  }
  // Device objects a job dropped: destroyed by the coordinator (the only thread that frees).
  void retire(std::shared_ptr<ColumnSet> s) {
    std::lock_guard lock(mutex_);
    retired_sets_.push_back(std::move(s));
  }
  void retire(std::unique_ptr<CommittedTree> t) {
    std::lock_guard lock(mutex_);
    retired_trees_.push_back(std::move(t));
  }

  // The coordinator: rounds until every job finished.
  void coordinate(GroupStats& stats) {
    for (;;) {
      std::vector<Call*> calls;
      {
        std::unique_lock lock(mutex_);
        coordinator_cv_.wait(lock, [&] { return waiting_ == live_; });
        free_retired_locked();
        if (live_ == 0) return;
        for (Call*& c : pending_)
          if (c) {
            calls.push_back(c);
            c = nullptr;
          }
        waiting_ = 0;
      }
      execute_round(calls, stats);
      {
        std::lock_guard lock(mutex_);
        for (Call* c : calls) c->done = true;
      }
      jobs_cv_.notify_all();
    }
  }
  void free_retired() {
    std::lock_guard lock(mutex_);
    free_retired_locked();
  }

 private:
  void free_retired_locked() {
    retired_sets_.clear();
    retired_trees_.clear();
  }

  void execute_round(const std::vector<Call*>& calls, GroupStats& stats) {
    ++stats.rounds;
    // Calls of one kind run together (job order is kept: calls are in job order).
    std::array<std::vector<Call*>, static_cast<size_t>(GroupCall::Count)> by_kind;
    size_t kinds = 0;
    for (Call* c : calls) {
      auto& v = by_kind[static_cast<size_t>(c->kind)];
      if (v.empty()) ++kinds;
      v.push_back(c);
    }
    if (kinds > 1) ++stats.mixed_rounds;
    for (size_t k = 0; k < by_kind.size(); ++k) {
      auto& v = by_kind[k];
      if (v.empty()) continue;
      ++stats.kind_rounds[k];
      stats.kind_calls[k] += v.size();
      execute_kind(device_, static_cast<GroupCall>(k), v);
    }
  }

  CudaBackend& device_;
  std::mutex mutex_;
  std::condition_variable coordinator_cv_, jobs_cv_;
  std::vector<Call*> pending_;
  size_t live_, waiting_ = 0;
  std::vector<std::shared_ptr<ColumnSet>> retired_sets_;
  std::vector<std::unique_ptr<CommittedTree>> retired_trees_;
};

ProxyColumns::~ProxyColumns() { g_.retire(std::move(inner_)); }
ProxyTree::~ProxyTree() { g_.retire(std::move(inner_)); }

std::vector<M31> ProxyColumns::to_host(size_t c) const {
  GatherCall call(*inner_, c);
  g_.submit(job_, call);
  return std::move(call.out);
}
std::vector<M31> ProxyColumns::gather(size_t c, std::span<const size_t> positions) const {
  GatherCall call(*inner_, c, positions);
  g_.submit(job_, call);
  return std::move(call.out);
}
hash::MerkleTree::Opening ProxyTree::open(const hash::QueriesPerLogSize& queries) const {
  OpenCall call(*inner_, queries);
  g_.submit(job_, call);
  return std::move(call.out);
}

// The backend one job's prover sees.
class ProxyBackend final : public Backend {
 public:
  ProxyBackend(Group& g, size_t job) : g_(g), job_(job) {}
  std::string name() const override { return "cuda-group"; }

  Evaluations upload_rows(const std::vector<std::vector<M31>>& rows) override {
    UploadRowsCall call(rows);
    return wrap<column_kind::Evaluation>(run(call));
  }
  std::vector<M31> to_host_rows(const Evaluations& s, size_t column) override {
    SingleCall call(GroupCall::ToHostRows, [&](CudaBackend& d) { rows_out_ = d.to_host_rows(unwrap(s), column); });
    run(call);
    return std::move(rows_out_);
  }
  Coefficients interpolate(const Evaluations& s) override {
    const Evaluations in = unwrap(s);
    FftCall call(in);
    return wrap<column_kind::Coefficient>(run(call));
  }
  Evaluations evaluate(const Coefficients& s, uint32_t log_extension) override {
    const Coefficients in = unwrap(s);
    FftCall call(in, log_extension);
    return wrap<column_kind::Evaluation>(run(call));
  }
  std::vector<QM31> evaluate_at_points(const Coefficients& s,
                                       std::span<const PointEvaluationRequest> requests) override {
    const Coefficients in = unwrap(s);
    PointsCall call(in, requests);
    g_.submit(job_, call);
    return std::move(call.out);
  }
  std::unique_ptr<CommittedTree> commit(const std::vector<EvaluationsRef>& sets) override {
    std::vector<EvaluationsRef> inner;
    for (const EvaluationsRef& s : sets) inner.emplace_back(*unwrap(s.set()));
    CommitCall call(std::move(inner));
    g_.submit(job_, call);
    return std::make_unique<ProxyTree>(g_, job_, std::move(call.out));
  }
  Interaction logup_interaction(const air::Component& component, const Evaluations& preprocessed,
                                const Evaluations& main, std::span<const air::RelationChallenges> challenges) override {
    const Evaluations pre = unwrap(preprocessed), m = unwrap(main);
    LogupCall call(component, pre, m, challenges);
    g_.submit(job_, call);
    call.out.columns = wrap<column_kind::SecureEvaluation>(call.out.columns.storage());
    return std::move(call.out);
  }
  SecureEvaluations eval_composition(const air::Component& component, const CompositionInputs& inputs) override {
    CompositionInputs in = inputs;
    Evaluations pre, main = unwrap(*inputs.main), inter;
    if (in.preprocessed) {
      pre = unwrap(*inputs.preprocessed);
      in.preprocessed = &pre;
    }
    in.main = &main;
    if (in.interaction) {
      inter = unwrap(*inputs.interaction);
      in.interaction = &inter;
    }
    CompositionCall call(component, in);
    return wrap<column_kind::SecureEvaluation>(run(call));
  }
  void add_assign(SecureEvaluations& dst, const SecureEvaluations& src) override {
    SecureEvaluations d = unwrap(dst);
    const SecureEvaluations s = unwrap(src);
    AddAssignCall call(d, s);
    g_.submit(job_, call);
  }
  Coefficients slice(const Coefficients& set, size_t first, size_t count) override {
    Coefficients out;
    SingleCall call(GroupCall::Slice, [&](CudaBackend& d) { out = d.slice(unwrap(set), first, count); });
    run(call);
    return wrap<column_kind::Coefficient>(out.storage());
  }
  Coefficients coefficient_slice(const Coefficients& coefficients, size_t begin, uint32_t log_size) override {
    Coefficients out;
    SingleCall call(GroupCall::CoefficientSlice,
                    [&](CudaBackend& d) { out = d.coefficient_slice(unwrap(coefficients), begin, log_size); });
    run(call);
    return wrap<column_kind::Coefficient>(out.storage());
  }
  SecureEvaluations deep_quotients(uint32_t log_size, const std::vector<DeepQuotientBatch>& batches) override {
    std::vector<DeepQuotientBatch> inner = batches;
    for (auto& b : inner)
      for (auto& c : b.columns) c.set = EvaluationsRef(*unwrap(c.set.set()));
    DeepCall call(log_size, inner);
    return wrap<column_kind::SecureEvaluation>(run(call));
  }
  LineEvaluations fri_fold_circle(const SecureEvaluations& column, const QM31& alpha,
                                  const LineEvaluations* accumulate_into) override {
    const SecureEvaluations in = unwrap(column);
    const LineEvaluations acc = accumulate_into ? unwrap(*accumulate_into) : LineEvaluations();
    FoldCall call(in, alpha, accumulate_into ? &acc : nullptr, false);
    return wrap<column_kind::LineEvaluation>(run(call));
  }
  LineEvaluations fri_fold_line(const LineEvaluations& line, const circle::LineDomain& domain,
                                const QM31& alpha) override {
    const LineEvaluations in = unwrap(line);
    FoldCall call(in, domain, alpha, false);
    return wrap<column_kind::LineEvaluation>(run(call));
  }
  ExtendedTree extend_and_commit(const std::vector<const Coefficients*>& coefficients,
                                 uint32_t log_extension) override {
    std::vector<Coefficients> inner;
    for (const Coefficients* s : coefficients) inner.push_back(unwrap(*s));
    std::vector<const Coefficients*> inner_ptrs;
    for (const Coefficients& s : inner) inner_ptrs.push_back(&s);
    ExtendCommitCall call(std::move(inner_ptrs), log_extension);
    g_.submit(job_, call);
    ExtendedTree out;
    for (auto& e : call.out.extensions) out.extensions.push_back(wrap<column_kind::Evaluation>(e.storage()));
    out.tree = std::make_unique<ProxyTree>(g_, job_, std::move(call.out.tree));
    return out;
  }
  CommittedColumn fri_fold_circle_and_commit(const SecureEvaluations& column, const QM31& alpha,
                                             const LineEvaluations* accumulate_into) override {
    const SecureEvaluations in = unwrap(column);
    const LineEvaluations acc = accumulate_into ? unwrap(*accumulate_into) : LineEvaluations();
    FoldCall call(in, alpha, accumulate_into ? &acc : nullptr, true);
    return committed(call);
  }
  CommittedColumn fri_fold_line_and_commit(const LineEvaluations& line, const circle::LineDomain& domain,
                                           const QM31& alpha) override {
    const LineEvaluations in = unwrap(line);
    FoldCall call(in, domain, alpha, true);
    return committed(call);
  }
  uint64_t grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) override {
    GrindCall call(channel, pow_bits);
    g_.submit(job_, call);
    return call.out;
  }

 private:
  std::shared_ptr<ColumnSet> run(SetCall& call) {
    g_.submit(job_, call);
    return std::move(call.out);
  }
  void run(SingleCall& call) { g_.submit(job_, call); }
  CommittedColumn committed(FoldCall& call) {
    g_.submit(job_, call);
    CommittedColumn out;
    out.column = wrap<column_kind::LineEvaluation>(std::move(call.out));
    out.tree = std::make_unique<ProxyTree>(g_, job_, std::move(call.tree));
    return out;
  }
  // A job's handle to device columns (every access forwarded to the coordinator).
  template <class Kind>
  Columns<Kind> wrap(std::shared_ptr<ColumnSet> inner) {
    return Columns<Kind>(std::make_shared<ProxyColumns>(g_, job_, std::move(inner)));
  }

  Group& g_;
  size_t job_;
  std::vector<M31> rows_out_;
};

}  // namespace
}  // namespace group_detail

std::vector<std::exception_ptr> run_group(CudaBackend& device, size_t n_jobs, const GroupJobFn& body,
                                          GroupStats* stats) {
  using namespace group_detail;
  GroupStats local;
  GroupStats& st = stats ? *stats : local;
  std::vector<std::exception_ptr> errors(n_jobs);
  if (n_jobs == 0) return errors;
  Group group(device, n_jobs);
  std::vector<std::thread> threads;
  threads.reserve(n_jobs);
  std::exception_ptr coordinator_error;
  for (size_t j = 0; j < n_jobs; ++j)
    threads.emplace_back([&, j] {
      try {
        ProxyBackend backend(group, j);
        body(j, backend);
      } catch (...) {
        errors[j] = std::current_exception();
      }
      group.job_finished();
    });
  {
    // The coordinator launches and frees on the device's pipeline: stream-ordered pooled memory,
    // staged uploads, the compute stream for every launch (runtime.hpp, DevicePipeline).
    PipelineScope pipeline(device.pipeline());
    try {
      group.coordinate(st);
    } catch (...) {
      coordinator_error = std::current_exception();  // execute_kind captures per-call errors; this is a bug
    }
    for (auto& t : threads) t.join();
    group.free_retired();
  }
  if (coordinator_error) std::rethrow_exception(coordinator_error);
  return errors;
}

PTVM_GPU_NAMESPACE_END
