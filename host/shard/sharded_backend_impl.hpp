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

  Evaluations upload_rows(const std::vector<std::vector<M31>>& rows) override;
  std::vector<M31> to_host_rows(const Evaluations& set, size_t column) override;
  Coefficients interpolate(const Evaluations& evaluations) override;
  Evaluations evaluate(const Coefficients& coefficients, uint32_t log_extension) override;
  std::vector<QM31> evaluate_at_points(const Coefficients& coefficients,
                                       std::span<const PointEvaluationRequest> requests) override;
  std::unique_ptr<CommittedTree> commit(const std::vector<EvaluationsRef>& sets) override;
  Interaction logup_interaction(const air::Component& component, const Evaluations& preprocessed,
                                const Evaluations& main,
                                std::span<const air::RelationChallenges> challenges) override;
  SecureEvaluations eval_composition(const air::Component& component,
                                     const CompositionInputs& in) override;
  void add_assign(SecureEvaluations& dst, const SecureEvaluations& src) override;
  Coefficients slice(const Coefficients& set, size_t first, size_t count) override;
  Coefficients coefficient_slice(const Coefficients& coefficients, size_t begin,
                                 uint32_t log_size) override;
  SecureEvaluations deep_quotients(uint32_t log_size,
                                   const std::vector<DeepQuotientBatch>& batches) override;
  LineEvaluations fri_fold_circle(const SecureEvaluations& column, const QM31& alpha,
                                  const LineEvaluations* accumulate_into) override;
  LineEvaluations fri_fold_line(const LineEvaluations& line, const circle::LineDomain& domain,
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
