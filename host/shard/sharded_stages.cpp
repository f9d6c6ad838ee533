// The sharded backend's constraint evaluation, DEEP quotients and FRI folds.
#include "sharded_backend_impl.hpp"

namespace ptvm::shard {

std::unique_ptr<ColumnSet> ShardedBackend::eval_composition(const air::Component& component,
                                                            const CompositionInputs& in) {
  HostColumns pre, main, inter;
  if (in.preprocessed) pre = full_set(shard(*in.preprocessed));
  main = full_set(shard(*in.main));
  if (in.interaction) inter = full_set(shard(*in.interaction));
  CompositionInputs full = in;
  full.preprocessed = in.preprocessed ? &pre : nullptr;
  full.main = &main;
  full.interaction = in.interaction ? &inter : nullptr;
  auto r = cpu_->eval_composition(component, full);
  return from_full(geometry_, std::move(backend_cpu::host(*r)));
}

std::unique_ptr<ColumnSet> ShardedBackend::deep_quotients(uint32_t log_size,
                                                          const std::vector<DeepQuotientBatch>& batches) {
  std::map<const ColumnSet*, std::unique_ptr<HostColumns>> full;
  std::vector<DeepQuotientBatch> host_batches = batches;
  for (auto& b : host_batches)
    for (auto& ref : b.columns) {
      auto& slot = full[ref.set];
      if (!slot) slot = std::make_unique<HostColumns>(full_set(shard(*ref.set)));
      ref.set = slot.get();
    }
  auto r = cpu_->deep_quotients(log_size, host_batches);
  return from_full(geometry_, std::move(backend_cpu::host(*r)));
}

std::unique_ptr<ColumnSet> ShardedBackend::fri_fold_circle(const ColumnSet& column, const QM31& alpha,
                                                           const ColumnSet* accumulate_into) {
  HostColumns in = full_set(shard(column));
  HostColumns acc;
  if (accumulate_into) acc = full_set(shard(*accumulate_into));
  auto r = cpu_->fri_fold_circle(in, alpha, accumulate_into ? &acc : nullptr);
  return from_full(geometry_, std::move(backend_cpu::host(*r)));
}

std::unique_ptr<ColumnSet> ShardedBackend::fri_fold_line(const ColumnSet& line, const circle::LineDomain& domain,
                                                         const QM31& alpha) {
  HostColumns in = full_set(shard(line));
  auto r = cpu_->fri_fold_line(in, domain, alpha);
  return from_full(geometry_, std::move(backend_cpu::host(*r)));
}

}  // namespace ptvm::shard
