// The composition polynomial on the constraint-evaluation domain (PROTOCOL.md §4.3).
#include "cpu_backend_impl.hpp"

namespace ptvm::backend_cpu {

SecureEvaluations CpuBackend::eval_composition(const air::Component& component, const CompositionInputs& in) {
  const auto& main = host(*in.main);
  const uint32_t n = component.log_rows();
  if (main.cols.empty()) throw Error(ErrorCategory::Internal, "eval_composition: component without main columns");
  const uint32_t e = log2_exact(main.cols[0].size());
  const size_t size = size_t{1} << e;
  air::DomainColumns cols;
  cols.log_size = e;
  auto gather = [&](const Evaluations* s, std::vector<const M31*>& dst) {
    if (!s) return;
    for (const auto& c : host(*s).cols) {
      if (c.size() != size) throw Error(ErrorCategory::Internal, "eval_composition: columns on different domains");
      dst.push_back(c.data());
    }
  };
  gather(in.preprocessed, cols.preprocessed);
  gather(in.main, cols.main);
  gather(in.interaction, cols.interaction);
  cols.next_position = next_positions(n, e).data();
  const std::vector<M31> inv_vanishing = composition_inv_vanishing(n, e);
  auto out = std::make_unique<HostColumns>();
  out->cols.assign(4, Column(size));
  M31* const dst[4] = {out->cols[0].data(), out->cols[1].data(), out->cols[2].data(), out->cols[3].data()};
  parallel_for(size, 1024, [&](size_t b, size_t end) {
    component.composition_on_domain(cols, in.public_inputs, in.challenges, in.coefficients, in.claimed_sum,
                                    inv_vanishing, b, end, dst);
  });
  return SecureEvaluations(std::move(out));
}

}  // namespace ptvm::backend_cpu
