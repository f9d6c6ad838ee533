// DEEP quotients (PROTOCOL.md §6, stark::DeepBatch).
#include "deep_rows.hpp"

namespace ptvm::backend_cpu {

SecureEvaluations CpuBackend::deep_quotients(uint32_t log_size, const std::vector<DeepQuotientBatch>& batches) {
  const size_t size = size_t{1} << log_size;
  DomainPoints points(log_size);
  auto out = std::make_unique<HostColumns>();
  out->cols.assign(4, Column(size));
  std::vector<const M31*> column_data;
  for (const auto& batch : batches)
    for (const auto& ref : batch.columns) column_data.push_back(host(ref.set).cols.at(ref.column).data());
  M31* const dst[4] = {out->cols[0].data(), out->cols[1].data(), out->cols[2].data(), out->cols[3].data()};
  deep_quotient_rows(size, [&](size_t q) { return points.at_position(q); }, batches, column_data, dst);
  return SecureEvaluations(std::move(out));
}

}  // namespace ptvm::backend_cpu
