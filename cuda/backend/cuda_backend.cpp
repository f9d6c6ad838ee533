// The CUDA backend (ptvm/gpu/cuda_backend.hpp): every stage of ptvm::Backend as device kernels;
// columns stay in device memory from upload_rows() until the proof. What crosses to the host is
// only what the prover core asks for as a result: Merkle roots, sampled values, claimed sums,
// the opened query values and witnesses, the PoW nonce, and whole columns when the prover calls
// ColumnSet::to_host (tests, the last FRI layer). Small constant tables derived from public values
// (column pointer tables, challenges, coefficients, 1/V on 2^k cosets, basis factors of a point)
// are uploaded per call.
#include <algorithm>
#include <array>
#include <bit>
#include <map>

#include "ptvm/circle/domain.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/gpu/circle_fft.hpp"
#include "ptvm/gpu/column_ops.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/device_wide.hpp"
#include "ptvm/gpu/merkle.hpp"
#include "ptvm/gpu/pow.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/stark_kernels.hpp"
#include "ptvm/hash/merkle_walk.hpp"
#include "device_columns.hpp"
#include "group_internal.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace {
using namespace backend_detail;
using namespace group_detail;

class CudaBackendImpl final : public CudaBackend {
 public:
  CudaBackendImpl() {
    for (const auto& k : example_air_kernels()) airs_.push_back(k);
  }
  std::string name() const override { return "cuda"; }

  void register_air(const DeviceAirKernels& kernels) override { airs_.push_back(kernels); }
  DevicePipeline& pipeline() override { return pipeline_; }

  void poke_value(ColumnSet& columns, size_t column, size_t position, M31 value) override {
    DeviceColumns& d = dev(columns);
    d.cols.at(column).upload(std::span<const M31>(&value, 1), stream_, position);
  }

  // The stages below are the group path with one job (group_batched.cpp, group_stages.cpp): the
  // same launches and tables as a group of one, written once.
  Evaluations upload_rows(const std::vector<std::vector<M31>>& rows) override {
    StageScope scope("cuda.upload_rows");
    UploadRowsCall call(rows);
    run_one(*this, call);
    return Evaluations(std::move(call.out));
  }

  std::vector<M31> to_host_rows(const Evaluations& set, size_t column) override {
    StageScope scope("cuda.to_host_rows");
    const DeviceColumns& d = dev(set);
    const uint32_t n = log2_exact(d.cols.at(column).size());
    DeviceBuffer<M31> rows(d.cols[column].size());
    bitrev_to_rows(d.cols[column].cptr(), rows.ptr(), n, stream_);
    return rows.to_host(stream_);
  }

  Coefficients interpolate(const Evaluations& evaluations) override {
    StageScope scope("cuda.interpolate", 2 * column_bytes(dev(evaluations)));
    FftCall call(evaluations);
    run_one(*this, call);
    return Coefficients(std::move(call.out));
  }

  Evaluations evaluate(const Coefficients& coefficients, uint32_t log_extension) override {
    StageScope scope("cuda.evaluate", column_bytes(dev(coefficients)) * (1 + (uint64_t{1} << log_extension)));
    FftCall call(coefficients, log_extension);
    run_one(*this, call);
    return Evaluations(std::move(call.out));
  }

  std::vector<QM31> evaluate_at_points(const Coefficients& coefficients,
                                       std::span<const PointEvaluationRequest> requests) override {
    StageScope scope("cuda.evaluate_at_points");
    PointsCall call(coefficients, requests);
    run_one(*this, call);
    return std::move(call.out);
  }

  std::unique_ptr<CommittedTree> commit(const std::vector<EvaluationsRef>& sets) override {
    uint64_t value_bytes = 0, max_length = 1;
    for (const EvaluationsRef& s : sets) {
      const DeviceColumns& d = dev(s);
      value_bytes += column_bytes(d);
      for (const auto& c : d.cols) max_length = std::max<uint64_t>(max_length, c.size());
    }
    // Every value read once, every node hash written once and read once by its parent.
    StageScope scope("cuda.commit", value_bytes + 2 * 32 * (2 * max_length - 1));
    CommitCall call(sets);
    run_one(*this, call);
    return std::move(call.out);
  }

  Interaction logup_interaction(const air::Component& component, const Evaluations& preprocessed,
                                const Evaluations& main, std::span<const air::RelationChallenges> challenges) override {
    StageScope scope("cuda.logup_interaction");
    LogupCall call(component, preprocessed, main, challenges);
    run_one(*this, call);
    return std::move(call.out);
  }

  SecureEvaluations eval_composition(const air::Component& component, const CompositionInputs& in) override {
    const DeviceColumns& main = dev(*in.main);
    // Every column read once (the next-row reads hit the same lines), 4 output coordinates written.
    StageScope scope("cuda.eval_composition",
                     (in.preprocessed ? column_bytes(dev(*in.preprocessed)) : 0) + column_bytes(main) +
                         (in.interaction ? column_bytes(dev(*in.interaction)) : 0) +
                         (main.cols.empty() ? 0 : 16 * uint64_t{main.cols[0].size()}));
    CompositionCall call(component, in);
    run_one(*this, call);
    return SecureEvaluations(std::move(call.out));
  }

  void add_assign(SecureEvaluations& dst, const SecureEvaluations& src) override {
    StageScope scope("cuda.add_assign");
    AddAssignCall call(dst, src);
    run_one(*this, call);
  }

  Coefficients slice(const Coefficients& set, size_t first, size_t count) override {
    StageScope scope("cuda.slice");
    const DeviceColumns& s = dev(set);
    if (first + count > s.cols.size()) throw Error(ErrorCategory::Internal, "slice out of range");
    auto out = std::make_unique<DeviceColumns>();
    for (size_t c = first; c < first + count; ++c) out->cols.push_back(copy(s.cols[c], 0, s.cols[c].size()));
    return Coefficients(std::move(out));
  }

  Coefficients coefficient_slice(const Coefficients& coefficients, size_t begin, uint32_t log_size) override {
    StageScope scope("cuda.coefficient_slice");
    const DeviceColumns& s = dev(coefficients);
    auto out = std::make_unique<DeviceColumns>();
    const size_t len = size_t{1} << log_size;
    for (const auto& c : s.cols) {
      if (begin + len > c.size()) throw Error(ErrorCategory::Internal, "coefficient_slice out of range");
      out->cols.push_back(copy(c, begin, len));
    }
    return Coefficients(std::move(out));
  }

  SecureEvaluations deep_quotients(uint32_t log_size, const std::vector<DeepQuotientBatch>& batches) override {
    uint64_t n_columns = 0;
    for (const auto& batch : batches) n_columns += batch.columns.size();
    StageScope scope("cuda.deep_quotients", 4 * (size_t{1} << log_size) * (n_columns + 4));
    DeepCall call(log_size, batches);
    run_one(*this, call);
    return SecureEvaluations(std::move(call.out));
  }

  LineEvaluations fri_fold_circle(const SecureEvaluations& column, const QM31& alpha,
                                  const LineEvaluations* accumulate_into) override {
    StageScope scope("cuda.fri_fold_circle", column_bytes(dev(column)) * (accumulate_into ? 4 : 3) / 2);
    FoldCall call(column, alpha, accumulate_into, false);
    run_one(*this, call);
    return LineEvaluations(std::move(call.out));
  }

  LineEvaluations fri_fold_line(const LineEvaluations& line, const circle::LineDomain& domain,
                                const QM31& alpha) override {
    StageScope scope("cuda.fri_fold_line", column_bytes(dev(line)) * 3 / 2);
    FoldCall call(line, domain, alpha, false);
    run_one(*this, call);
    return LineEvaluations(std::move(call.out));
  }

  ExtendedTree extend_and_commit(const std::vector<const Coefficients*>& coefficients,
                                 uint32_t log_extension) override {
    uint64_t value_bytes = 0, max_length = 1;
    for (const Coefficients* s : coefficients) {
      const DeviceColumns& d = dev(*s);
      value_bytes += column_bytes(d);
      for (const auto& c : d.cols) max_length = std::max<uint64_t>(max_length, c.size() << log_extension);
    }
    // Coefficients read, extensions written once; every node hash written once and read once.
    StageScope scope("cuda.extend_and_commit",
                     value_bytes * (1 + (uint64_t{1} << log_extension)) + 2 * 32 * (2 * max_length - 1));
    ExtendCommitCall call(coefficients, log_extension);
    run_one(*this, call);
    return std::move(call.out);
  }

  CommittedColumn fri_fold_circle_and_commit(const SecureEvaluations& column, const QM31& alpha,
                                             const LineEvaluations* accumulate_into) override {
    StageScope scope("cuda.fri_fold_circle", column_bytes(dev(column)) * (accumulate_into ? 4 : 3) / 2 +
                                                 16 * (column_bytes(dev(column)) / 16));
    FoldCall call(column, alpha, accumulate_into, true);
    run_one(*this, call);
    return {LineEvaluations(std::move(call.out)), std::move(call.tree)};
  }

  CommittedColumn fri_fold_line_and_commit(const LineEvaluations& line, const circle::LineDomain& domain,
                                           const QM31& alpha) override {
    StageScope scope("cuda.fri_fold_line", column_bytes(dev(line)) * 3 / 2 + 16 * (column_bytes(dev(line)) / 16));
    FoldCall call(line, domain, alpha, true);
    run_one(*this, call);
    return {LineEvaluations(std::move(call.out)), std::move(call.tree)};
  }

  uint64_t grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) override {
    StageScope scope("cuda.grind");
    GrindCall call(channel, pow_bits);
    run_one(*this, call);
    return call.out;
  }

  const DeviceAirKernels& air_kernels(const air::Component& component) const override {
    for (auto it = airs_.rbegin(); it != airs_.rend(); ++it)
      if (it->matches(component)) return *it;
    throw Error(ErrorCategory::Usage, "cuda backend: component '" + component.info().name +
                                          "' has an AIR type with no device kernels (register it with "
                                          "CudaBackend::register_air(gpu::device_air_kernels<AirT>()))");
  }

 private:
  static uint64_t column_bytes(const DeviceColumns& d) {
    uint64_t bytes = 0;
    for (const auto& c : d.cols) bytes += c.size_bytes();
    return bytes;
  }

  DeviceBuffer<M31> copy(const DeviceBuffer<M31>& src, size_t begin, size_t len) const {
    DeviceBuffer<M31> out(len);
    if (len) copy_device_to_device(out.data(), src.data() + begin, len * sizeof(M31), stream_);
    return out;
  }

  std::vector<DeviceAirKernels> airs_;
  DevicePipeline pipeline_;
  stream_t stream_ = nullptr;  // the legacy default stream: stages run in call order
};

}  // namespace

std::unique_ptr<CudaBackend> make_cuda_backend() {
  if (!device_available())
    throw Error(ErrorCategory::Device, "cuda backend: no CUDA device is visible (" + device_description() + ")");
  return std::make_unique<CudaBackendImpl>();
}

PTVM_GPU_NAMESPACE_END
