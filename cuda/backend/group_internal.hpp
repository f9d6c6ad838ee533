// Internal to cuda/backend/: one job's call as the group coordinator sees it (inputs borrowed from
// the waiting job, outputs filled by the coordinator), and execute_kind, which runs the calls of
// one kind of one round together (group_batched.cpp).
#pragma once
#include <exception>
#include <functional>
#include <memory>
#include <numeric>
#include <span>
#include <vector>

#include "ptvm/backend.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/group_backend.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace group_detail {

struct Call {
  explicit Call(GroupCall k) : kind(k) {}
  virtual ~Call() = default;
  // This call executed alone (the fallback, and the path of the kinds that are not batched).
  virtual void single(CudaBackend& device) = 0;
  GroupCall kind;
  bool done = false;
  std::exception_ptr error;
};

struct SingleCall final : Call {
  SingleCall(GroupCall k, std::function<void(CudaBackend&)> f) : Call(k), fn(std::move(f)) {}
  void single(CudaBackend& d) override { fn(d); }
  std::function<void(CudaBackend&)> fn;
};

// A call whose result is one column set: its storage (the caller knows the kind).
struct SetCall : Call {
  using Call::Call;
  std::shared_ptr<ColumnSet> out;
};

struct UploadRowsCall final : SetCall {
  explicit UploadRowsCall(const std::vector<std::vector<M31>>& r) : SetCall(GroupCall::UploadRows), rows(r) {}
  void single(CudaBackend& d) override { out = d.upload_rows(rows).storage(); }
  const std::vector<std::vector<M31>>& rows;
};

// interpolate (of evaluations) or evaluate (of coefficients, with log_extension); `in` is the
// input's storage either way (the batched path reads only that).
struct FftCall final : SetCall {
  explicit FftCall(const Evaluations& e) : SetCall(GroupCall::Interpolate), in(e.set()), evaluations(&e) {}
  FftCall(const Coefficients& c, uint32_t ext)
      : SetCall(GroupCall::Evaluate), in(c.set()), coefficients(&c), log_extension(ext) {}
  void single(CudaBackend& d) override {
    out = kind == GroupCall::Interpolate ? d.interpolate(*evaluations).storage()
                                         : d.evaluate(*coefficients, log_extension).storage();
  }
  const ColumnSet& in;
  const Evaluations* evaluations = nullptr;
  const Coefficients* coefficients = nullptr;
  uint32_t log_extension = 0;
};

struct PointsCall final : Call {
  PointsCall(const Coefficients& s, std::span<const PointEvaluationRequest> r)
      : Call(GroupCall::EvaluateAtPoints), in(s), requests(r) {}
  void single(CudaBackend& d) override { out = d.evaluate_at_points(in, requests); }
  const Coefficients& in;
  std::span<const PointEvaluationRequest> requests;
  std::vector<QM31> out;
};

struct CommitCall final : Call {
  explicit CommitCall(std::vector<EvaluationsRef> s) : Call(GroupCall::Commit), sets(std::move(s)) {}
  void single(CudaBackend& d) override { out = d.commit(sets); }
  std::vector<EvaluationsRef> sets;
  std::unique_ptr<CommittedTree> out;
};

struct DeepCall final : SetCall {
  DeepCall(uint32_t l, const std::vector<DeepQuotientBatch>& b) : SetCall(GroupCall::Deep), log_size(l), batches(b) {}
  void single(CudaBackend& d) override { out = d.deep_quotients(log_size, batches).storage(); }
  uint32_t log_size;
  const std::vector<DeepQuotientBatch>& batches;
};

// fri_fold_circle (of a secure column, domain == nullptr) or fri_fold_line (of a line evaluation,
// acc == nullptr); commit: the *_and_commit variant (the folded layer's tree too, its leaves
// hashed by the fold kernel). `in` is the input's storage either way.
struct FoldCall final : SetCall {
  FoldCall(const SecureEvaluations& s, const QM31& a, const LineEvaluations* accumulate, bool with_commit)
      : SetCall(GroupCall::FoldCircle), in(s.set()), circle(&s), alpha(a), acc(accumulate), commit(with_commit) {}
  FoldCall(const LineEvaluations& l, const circle::LineDomain& d, const QM31& a, bool with_commit)
      : SetCall(GroupCall::FoldLine), in(l.set()), line(&l), alpha(a), domain(&d), commit(with_commit) {}
  void single(CudaBackend& d) override {
    if (commit) {
      Backend::CommittedColumn c = kind == GroupCall::FoldCircle ? d.fri_fold_circle_and_commit(*circle, alpha, acc)
                                                                 : d.fri_fold_line_and_commit(*line, *domain, alpha);
      out = c.column.storage();
      tree = std::move(c.tree);
    } else {
      out = kind == GroupCall::FoldCircle ? d.fri_fold_circle(*circle, alpha, acc).storage()
                                          : d.fri_fold_line(*line, *domain, alpha).storage();
    }
  }
  const ColumnSet& in;
  const SecureEvaluations* circle = nullptr;
  const LineEvaluations* line = nullptr;
  QM31 alpha;
  const LineEvaluations* acc = nullptr;
  const circle::LineDomain* domain = nullptr;
  bool commit;
  std::unique_ptr<CommittedTree> tree;
};

// extend_and_commit: the extensions of the coefficient sets and the tree over them.
struct ExtendCommitCall final : Call {
  ExtendCommitCall(std::vector<const Coefficients*> c, uint32_t ext)
      : Call(GroupCall::ExtendCommit), coefficients(std::move(c)), log_extension(ext) {}
  void single(CudaBackend& d) override { out = d.extend_and_commit(coefficients, log_extension); }
  std::vector<const Coefficients*> coefficients;
  uint32_t log_extension;
  Backend::ExtendedTree out;
};

struct GrindCall final : Call {
  GrindCall(const hash::Blake2sChannel& c, uint32_t bits) : Call(GroupCall::Grind), channel(c), pow_bits(bits) {}
  void single(CudaBackend& d) override { out = d.grind(channel, pow_bits); }
  const hash::Blake2sChannel& channel;
  uint32_t pow_bits;
  uint64_t out = 0;
};

// ColumnSet::gather, or the whole column (ColumnSet::to_host).
struct GatherCall final : Call {
  GatherCall(const ColumnSet& s, size_t c, std::span<const size_t> p) : Call(GroupCall::Gather), in(s), column(c), positions(p) {}
  GatherCall(const ColumnSet& s, size_t c) : Call(GroupCall::Gather), in(s), column(c) {
    all.resize(size_t{1} << s.log_size(c));
    std::iota(all.begin(), all.end(), size_t{0});
    positions = all;
  }
  void single(CudaBackend&) override { out = in.gather(column, positions); }
  const ColumnSet& in;
  size_t column;
  std::span<const size_t> positions;
  std::vector<size_t> all;
  std::vector<M31> out;
};

struct OpenCall final : Call {
  OpenCall(const CommittedTree& t, const hash::QueriesPerLogSize& q) : Call(GroupCall::Open), tree(t), queries(q) {}
  void single(CudaBackend&) override { out = tree.open(queries); }
  const CommittedTree& tree;
  const hash::QueriesPerLogSize& queries;
  hash::MerkleTree::Opening out;
};

struct LogupCall final : Call {
  LogupCall(const air::Component& c, const Evaluations& p, const Evaluations& m,
            std::span<const air::RelationChallenges> ch)
      : Call(GroupCall::Logup), component(c), preprocessed(p), main(m), challenges(ch) {}
  void single(CudaBackend& d) override { out = d.logup_interaction(component, preprocessed, main, challenges); }
  const air::Component& component;
  const Evaluations& preprocessed;
  const Evaluations& main;
  std::span<const air::RelationChallenges> challenges;
  Backend::Interaction out;
};

struct CompositionCall final : SetCall {
  CompositionCall(const air::Component& c, const CompositionInputs& i) : SetCall(GroupCall::Composition), component(c), in(i) {}
  void single(CudaBackend& d) override { out = d.eval_composition(component, in).storage(); }
  const air::Component& component;
  CompositionInputs in;  // column sets already unwrapped
};

struct AddAssignCall final : Call {
  AddAssignCall(SecureEvaluations& d, const SecureEvaluations& s) : Call(GroupCall::AddAssign), dst(d), src(s) {}
  void single(CudaBackend& d) override { d.add_assign(dst, src); }
  SecureEvaluations& dst;
  const SecureEvaluations& src;
};

template <class T>
std::vector<T*> calls_as(const std::vector<Call*>& calls) {
  std::vector<T*> out;
  for (Call* c : calls) {
    T* t = dynamic_cast<T*>(c);
    if (!t) throw Error(ErrorCategory::Internal, "group backend: a call of another type in a batch");
    out.push_back(t);
  }
  return out;
}

// Batched stages of group_stages.cpp (each throws on failure; execute_kind then retries singly).
void batched_points(const std::vector<Call*>& calls);
void batched_deep(const std::vector<Call*>& calls);
void batched_grind(const std::vector<Call*>& calls);
void batched_add_assign(const std::vector<Call*>& calls);
void batched_logup(CudaBackend& device, const std::vector<Call*>& calls);
void batched_composition(CudaBackend& device, const std::vector<Call*>& calls);

// The batched execution of `calls` (one kind with a batched execution, in job order); throws on a
// failure that is not one call's own (a call's own failure, a zero LogUp denominator, is its error).
void run_batched(CudaBackend& device, GroupCall kind, const std::vector<Call*>& calls);

// One call through its batched execution: the single-job CUDA backend is the group path with one
// job, so both run the same launches and build the same tables. Rethrows the call's error.
template <class C>
void run_one(CudaBackend& device, C& call) {
  run_batched(device, call.kind, {&call});
  if (call.error) std::rethrow_exception(call.error);
}

// Executes `calls` (one kind, in job order) together; never throws: a call's failure is its error
// (a failed batched execution is retried call by call, so each error lands on its own job).
void execute_kind(CudaBackend& device, GroupCall kind, const std::vector<Call*>& calls);

}  // namespace group_detail
PTVM_GPU_NAMESPACE_END
