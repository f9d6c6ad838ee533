// Circle FRI folds (PROTOCOL.md §7, stark::fold_circle_pair / fold_line_pair).
#include "cpu_backend_impl.hpp"

namespace ptvm::backend_cpu {

LineEvaluations CpuBackend::fri_fold_circle(const SecureEvaluations& column, const QM31& alpha,
                                            const LineEvaluations* accumulate_into) {
  const auto& in = host(column);
  const uint32_t n = log2_exact(in.cols.at(0).size());
  const size_t half = size_t{1} << (n - 1);
  const std::vector<M31>& inv_y = circle_fold_inv_y(n);
  auto out = std::make_unique<HostColumns>();
  out->cols.assign(4, Column(half));
  const QM31 alpha_sq = alpha * alpha;
  const HostColumns* acc = accumulate_into ? &host(*accumulate_into) : nullptr;
  if (acc && acc->cols.at(0).size() != half) throw Error(ErrorCategory::Internal, "fri_fold_circle: size mismatch");
  parallel_for(half, 4096, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      QM31 g = stark::fold_circle_pair(value(in, 2 * i), value(in, 2 * i + 1), inv_y[i], alpha);
      put(*out, i, acc ? value(*acc, i) * alpha_sq + g : g);
    }
  });
  return LineEvaluations(std::move(out));
}

LineEvaluations CpuBackend::fri_fold_line(const LineEvaluations& line, const circle::LineDomain& domain,
                                          const QM31& alpha) {
  const auto& in = host(line);
  const size_t size = in.cols.at(0).size();
  if (size != domain.size()) throw Error(ErrorCategory::Internal, "fri_fold_line: size mismatch");
  const std::vector<M31>& inv_x = line_fold_inv_x(domain);
  auto out = std::make_unique<HostColumns>();
  out->cols.assign(4, Column(size / 2));
  parallel_for(size / 2, 4096, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i)
      put(*out, i, stark::fold_line_pair(value(in, 2 * i), value(in, 2 * i + 1), inv_x[i], alpha));
  });
  return LineEvaluations(std::move(out));
}

}  // namespace ptvm::backend_cpu
