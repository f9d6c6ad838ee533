// Internal: the sharded backend's class, defined by stage in sharded_backend.cpp (columns,
// polynomials, OODS, proof of work), sharded_merkle.cpp, sharded_logup.cpp and
// sharded_stages.cpp (composition, DEEP, FRI).
#pragma once
#include <functional>
#include <memory>

#include "shard_columns.hpp"

namespace ptvm::shard {

class ShardedBackend : public Backend {
public:
  explicit ShardedBackend(comm::Communicator& comm);
  std::string name() const override { return "sharded"; }

  std::unique_ptr<ColumnSet> upload_rows(const std::vector<std::vector<M31>>& rows) override;
  std::vector<M31> to_host_rows(const ColumnSet& set, size_t column) override;
  std::unique_ptr<ColumnSet> interpolate(const ColumnSet& evaluations) override;
  std::unique_ptr<ColumnSet> evaluate(const ColumnSet& coefficients,
                                      uint32_t log_extension) override;
  std::vector<QM31> evaluate_at_points(const ColumnSet& coefficients,
                                       std::span<const PointEvaluationRequest> requests) override;
  std::unique_ptr<CommittedTree> commit(const std::vector<const ColumnSet*>& sets) override;
  Interaction logup_interaction(const air::Component& component, const ColumnSet& preprocessed,
                                const ColumnSet& main,
                                std::span<const air::RelationChallenges> challenges) override;
  std::unique_ptr<ColumnSet> eval_composition(const air::Component& component,
                                              const CompositionInputs& in) override;
  void add_assign(ColumnSet& dst, const ColumnSet& src) override;
  std::unique_ptr<ColumnSet> slice(const ColumnSet& set, size_t first, size_t count) override;
  std::unique_ptr<ColumnSet> coefficient_slice(const ColumnSet& coefficients, size_t begin,
                                               uint32_t log_size) override;
  std::unique_ptr<ColumnSet> deep_quotients(uint32_t log_size,
                                            const std::vector<DeepQuotientBatch>& batches) override;
  std::unique_ptr<ColumnSet> fri_fold_circle(const ColumnSet& column, const QM31& alpha,
                                             const ColumnSet* accumulate_into) override;
  std::unique_ptr<ColumnSet> fri_fold_line(const ColumnSet& line, const circle::LineDomain& domain,
                                           const QM31& alpha) override;
  uint64_t grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) override;

private:
  const circle::TwiddleTree& twiddles(uint32_t max_domain_log);
  Geometry geometry_;
  std::unique_ptr<Backend> cpu_; // the math of the stages run on whole columns
  std::unique_ptr<circle::TwiddleTree> twiddles_;
  bool committed_ = false; // the first commitment (the preprocessed tree) checks the trace size
};

} // namespace ptvm::shard
