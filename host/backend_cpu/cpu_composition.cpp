// The composition polynomial on the constraint-evaluation domain (PROTOCOL.md §4.3).
#include "cpu_backend_impl.hpp"

namespace ptvm::backend_cpu {

std::unique_ptr<ColumnSet> CpuBackend::eval_composition(const air::Component& component, const CompositionInputs& in) {
  const auto& main = host(*in.main);
  const uint32_t n = component.log_rows();
  if (main.cols.empty()) throw Error(ErrorCategory::Internal, "eval_composition: component without main columns");
  const uint32_t e = log2_exact(main.cols[0].size());
  const size_t size = size_t{1} << e;
  air::DomainColumns cols;
  cols.log_size = e;
  auto gather = [&](const ColumnSet* s, std::vector<const M31*>& dst) {
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
  // 1 / V_n depends only on pos >> n (PROTOCOL.md §4.3 step 4).
  const uint32_t k = e - n;
  std::vector<M31> inv_vanishing(size_t{1} << k);
  {
    circle::CircleDomain dom = circle::CanonicCoset{e}.circle_domain();
    std::vector<M31> v(size_t{1} << k);
    for (size_t i = 0; i < v.size(); ++i) v[i] = circle::canonic_vanishing(n, dom.at(i));
    std::vector<M31> inv = batch_inverse<M31>(std::span<const M31>(v));
    for (size_t i = 0; i < v.size(); ++i) inv_vanishing[circle::bit_reverse_index(i, k)] = inv[i];
  }
  auto out = std::make_unique<HostColumns>();
  out->cols.assign(4, Column(size));
  M31* const dst[4] = {out->cols[0].data(), out->cols[1].data(), out->cols[2].data(), out->cols[3].data()};
  parallel_for(size, 1024, [&](size_t b, size_t end) {
    component.composition_on_domain(cols, in.public_inputs, in.challenges, in.coefficients, in.claimed_sum,
                                    inv_vanishing, b, end, dst);
  });
  return out;
}

}  // namespace ptvm::backend_cpu
