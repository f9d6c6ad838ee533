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

PTVM_GPU_NAMESPACE_BEGIN
namespace {
using namespace backend_detail;

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

  std::unique_ptr<ColumnSet> upload_rows(const std::vector<std::vector<M31>>& rows) override {
    StageScope scope("cuda.upload_rows");
    auto out = std::make_unique<DeviceColumns>();
    // One staging buffer for all columns (a free per column would wait for the device each time).
    size_t longest = 0;
    for (const auto& col : rows) longest = std::max(longest, col.size());
    DeviceBuffer<M31> staged(longest);
    for (const auto& col : rows) {
      const uint32_t n = log2_exact(col.size());
      staged.upload(std::span<const M31>(col), stream_);
      DeviceBuffer<M31> evaluations(col.size());
      rows_to_bitrev(staged.cptr(), evaluations.ptr(), n, stream_);
      out->cols.push_back(std::move(evaluations));
    }
    synchronize(stream_);
    return out;
  }

  std::vector<M31> to_host_rows(const ColumnSet& set, size_t column) override {
    StageScope scope("cuda.to_host_rows");
    const DeviceColumns& d = dev(set);
    const uint32_t n = log2_exact(d.cols.at(column).size());
    DeviceBuffer<M31> rows(d.cols[column].size());
    bitrev_to_rows(d.cols[column].cptr(), rows.ptr(), n, stream_);
    return rows.to_host(stream_);
  }

  std::unique_ptr<ColumnSet> interpolate(const ColumnSet& evaluations) override {
    const DeviceColumns& in = dev(evaluations);
    StageScope scope("cuda.interpolate", 2 * column_bytes(in));
    uint32_t max_log = 1;
    for (const auto& c : in.cols) max_log = std::max(max_log, log2_exact(c.size()));
    const DeviceTwiddles& tw = twiddles(max_log);
    auto out = std::make_unique<DeviceColumns>();
    for (const auto& c : in.cols) {
      DeviceBuffer<M31> coeffs(c.size());
      circle_interpolate_bitrev(c.cptr(), coeffs.ptr(), log2_exact(c.size()), tw, stream_);
      out->cols.push_back(std::move(coeffs));
    }
    return out;
  }

  std::unique_ptr<ColumnSet> evaluate(const ColumnSet& coefficients, uint32_t log_extension) override {
    const DeviceColumns& in = dev(coefficients);
    StageScope scope("cuda.evaluate", column_bytes(in) * (1 + (uint64_t{1} << log_extension)));
    uint32_t max_log = 1;
    for (const auto& c : in.cols) max_log = std::max(max_log, log2_exact(c.size()) + log_extension);
    const DeviceTwiddles& tw = twiddles(max_log);
    auto out = std::make_unique<DeviceColumns>();
    for (const auto& c : in.cols) {
      DeviceBuffer<M31> values(c.size() << log_extension);
      circle_evaluate_bitrev(c.cptr(), c.size(), values.ptr(), log2_exact(c.size()) + log_extension, tw, stream_);
      out->cols.push_back(std::move(values));
    }
    return out;
  }

  std::vector<QM31> evaluate_at_points(const ColumnSet& coefficients,
                                       std::span<const PointEvaluationRequest> requests) override {
    StageScope scope("cuda.evaluate_at_points");
    const DeviceColumns& in = dev(coefficients);
    // Requests sharing a point and a size share the basis factors (as in the CPU backend).
    std::map<std::pair<std::array<uint32_t, 8>, uint32_t>, std::vector<size_t>> groups;
    for (size_t i = 0; i < requests.size(); ++i) {
      const auto& p = requests[i].point;
      std::array<uint32_t, 8> key = {p.x.x0.a.v, p.x.x0.b.v, p.x.x1.a.v, p.x.x1.b.v,
                                     p.y.x0.a.v, p.y.x0.b.v, p.y.x1.a.v, p.y.x1.b.v};
      groups[{key, in.log_size(requests[i].column)}].push_back(i);
    }
    std::vector<QM31> out(requests.size());
    for (const auto& [key, members] : groups) {
      const uint32_t log = key.second;
      const auto& point = requests[members[0]].point;
      // Factors [y, x, pi(x), pi^2(x), ...] of the circle-FFT basis (PROTOCOL.md §3.1).
      std::vector<QM31> factors{point.y};
      QM31 x = point.x;
      for (uint32_t k = 1; k < log; ++k) {
        factors.push_back(x);
        x = x * x + x * x - QM31::one();
      }
      factors.resize(log);
      std::vector<DeviceColumnRef> refs;
      for (size_t m : members) refs.push_back(in.ref(requests[m].column));
      DeviceBuffer<DeviceColumnRef> table = upload(refs, stream_);
      DeviceBuffer<QM31> factor_buffer = upload(factors, stream_);
      DeviceBuffer<QM31> values(members.size());
      evaluate_columns_at_point(table.cptr(), static_cast<uint32_t>(members.size()), log, factor_buffer.cptr(),
                                values.ptr(), stream_);
      std::vector<QM31> host = values.to_host(stream_);
      for (size_t m = 0; m < members.size(); ++m) out[members[m]] = host[m];
    }
    return out;
  }

  std::unique_ptr<CommittedTree> commit(const std::vector<const ColumnSet*>& sets) override {
    std::vector<DeviceColumnRef> refs;
    uint64_t value_bytes = 0, max_length = 1;
    for (const ColumnSet* s : sets) {
      const DeviceColumns& d = dev(*s);
      for (size_t c = 0; c < d.cols.size(); ++c) refs.push_back(d.ref(c));
      value_bytes += column_bytes(d);
      for (const auto& c : d.cols) max_length = std::max<uint64_t>(max_length, c.size());
    }
    // Every value read once, every node hash written once and read once by its parent.
    StageScope scope("cuda.commit", value_bytes + 2 * 32 * (2 * max_length - 1));
    DeviceMerkleTree tree = DeviceMerkleTree::commit(refs, stream_);
    return std::make_unique<DeviceTree>(std::move(tree), std::move(refs), stream_);
  }

  Interaction logup_interaction(const air::Component& component, const ColumnSet& preprocessed, const ColumnSet& main,
                                std::span<const air::RelationChallenges> challenges) override {
    StageScope scope("cuda.logup_interaction");
    const auto& shape = component.shape();
    const uint32_t n = component.log_rows();
    const size_t rows = size_t{1} << n;
    Interaction result{std::make_unique<DeviceColumns>(), QM31::zero()};
    if (shape.n_fractions == 0) return result;
    const DeviceAirKernels& kernels = air_kernels(component);
    const uint32_t batches = shape.n_logup_batches;
    auto out = DeviceColumns::make(4 * size_t{batches}, n);
    std::vector<SecureColumnView> batch_views;
    for (uint32_t j = 0; j + 1 < batches; ++j) batch_views.push_back(out->secure(4 * j));
    DeviceBuffer<SecureColumnView> batch_table = upload(batch_views, stream_);
    DeviceBuffer<DeviceColumnRef> pre_table = column_table(preprocessed, rows);
    DeviceBuffer<DeviceColumnRef> main_table = column_table(main, rows);
    DeviceBuffer<air::RelationChallenges> challenge_buffer =
        upload(std::vector<air::RelationChallenges>(challenges.begin(), challenges.end()), stream_);
    DeviceBuffer<QM31> row_totals(rows);
    DeviceBuffer<uint32_t> first_zero_row(1);
    first_zero_row.memset(0xff, stream_);

    FractionsDeviceArgs args;
    args.log_rows = n;
    args.preprocessed = pre_table.cptr();
    args.main = main_table.cptr();
    args.challenges = challenge_buffer.cptr();
    args.logup_batches = batches;
    args.batch_columns = batch_table.cptr();
    args.row_totals = row_totals.ptr();
    args.first_zero_row = first_zero_row.ptr();
    kernels.trace_fractions(component, args, stream_);

    uint32_t zero_row = 0;
    first_zero_row.download(std::span<uint32_t>(&zero_row, 1), stream_);
    if (zero_row != UINT32_MAX)
      throw Error(ErrorCategory::Runtime, "component '" + component.info().name + "': LogUp denominator is zero at row " +
                                              std::to_string(zero_row) + " (a tuple equals the challenge)");
    // Running sum of the last batch: device-wide scan of the row totals.
    DeviceBuffer<QM31> prefix(rows);
    inclusive_scan_add(row_totals.cptr(), prefix.ptr(), rows, stream_);
    DeviceBuffer<QM31> claimed(1);
    logup_running_column(prefix.cptr(), n, out->secure(4 * (size_t{batches} - 1)), claimed.ptr(), stream_);
    claimed.download(std::span<QM31>(&result.claimed_sum, 1), stream_);
    result.columns = std::move(out);
    return result;
  }

  std::unique_ptr<ColumnSet> eval_composition(const air::Component& component, const CompositionInputs& in) override {
    const DeviceAirKernels& kernels = air_kernels(component);
    const DeviceColumns& main = dev(*in.main);
    // Every column read once (the next-row reads hit the same lines), 4 output coordinates written.
    StageScope scope("cuda.eval_composition",
                     (in.preprocessed ? column_bytes(dev(*in.preprocessed)) : 0) + column_bytes(main) +
                         (in.interaction ? column_bytes(dev(*in.interaction)) : 0) +
                         (main.cols.empty() ? 0 : 16 * uint64_t{main.cols[0].size()}));
    const uint32_t n = component.log_rows();
    if (main.cols.empty()) throw Error(ErrorCategory::Internal, "eval_composition: component without main columns");
    const uint32_t e = log2_exact(main.cols[0].size());
    if (e < n) throw Error(ErrorCategory::Internal, "eval_composition: domain smaller than the trace");
    const size_t size = size_t{1} << e;
    DeviceBuffer<DeviceColumnRef> pre_table = in.preprocessed ? column_table(*in.preprocessed, size) : DeviceBuffer<DeviceColumnRef>();
    DeviceBuffer<DeviceColumnRef> main_table = column_table(*in.main, size);
    DeviceBuffer<DeviceColumnRef> inter_table = in.interaction ? column_table(*in.interaction, size) : DeviceBuffer<DeviceColumnRef>();
    DeviceBuffer<air::RelationChallenges> challenge_buffer =
        upload(std::vector<air::RelationChallenges>(in.challenges.begin(), in.challenges.end()), stream_);
    DeviceBuffer<QM31> coefficients = upload(std::vector<QM31>(in.coefficients.begin(), in.coefficients.end()), stream_);
    if (in.coefficients.size() < component.shape().n_constraints())
      throw Error(ErrorCategory::Internal, "eval_composition: fewer coefficients than constraints");

    const auto& info = component.info();
    const auto& selector_rows = component.shape().selector_rows;
    std::vector<DeviceBoundary> boundaries;
    for (const auto& b : info.boundary_constraints) {
      if (b.public_input >= in.public_inputs.size())
        throw Error(ErrorCategory::Usage, "component '" + info.name + "': boundary constraint names public input " +
                                              std::to_string(b.public_input) + " of " + std::to_string(in.public_inputs.size()));
      const size_t sel = std::lower_bound(selector_rows.begin(), selector_rows.end(), b.row) - selector_rows.begin();
      boundaries.push_back({info.n_preprocessed_columns + static_cast<uint32_t>(sel), b.main_column, in.public_inputs[b.public_input]});
    }
    DeviceBuffer<DeviceBoundary> boundary_buffer = upload(boundaries, stream_);

    // 1 / V_n depends only on pos >> n (PROTOCOL.md §4.3 step 4): 2^(e-n) values.
    const uint32_t k = e - n;
    std::vector<M31> inv_vanishing(size_t{1} << k);
    {
      circle::CircleDomain domain = circle::CanonicCoset{e}.circle_domain();
      for (size_t i = 0; i < inv_vanishing.size(); ++i)
        inv_vanishing[circle::bit_reverse_index(i, k)] = circle::canonic_vanishing(n, domain.at(i)).inverse();
    }
    DeviceBuffer<M31> inv_vanishing_buffer = upload(inv_vanishing, stream_);

    auto out = DeviceColumns::make(4, e);
    CompositionDeviceArgs args;
    args.log_rows = n;
    args.log_size = e;
    args.preprocessed = pre_table.cptr();
    args.main = main_table.cptr();
    args.interaction = inter_table.cptr();
    args.challenges = challenge_buffer.cptr();
    args.coefficients = coefficients.cptr();
    args.claimed_sum_per_row = air::logup_sum_per_row(in.claimed_sum, n);
    args.logup_batches = component.shape().n_logup_batches;
    args.boundaries = boundary_buffer.cptr();
    args.n_boundaries = static_cast<uint32_t>(boundaries.size());
    args.inv_vanishing = inv_vanishing_buffer.cptr();
    args.out = out->secure();
    kernels.composition(component, args, stream_);
    return out;
  }

  void add_assign(ColumnSet& dst, const ColumnSet& src) override {
    StageScope scope("cuda.add_assign");
    DeviceColumns& d = dev(dst);
    const DeviceColumns& s = dev(src);
    if (d.cols.size() != s.cols.size()) throw Error(ErrorCategory::Internal, "add_assign: column count mismatch");
    for (size_t c = 0; c < d.cols.size(); ++c) {
      if (d.cols[c].size() != s.cols[c].size()) throw Error(ErrorCategory::Internal, "add_assign: size mismatch");
      m31_columns_apply(ColumnOp::Add, d.cols[c].cptr(), s.cols[c].cptr(), d.cols[c].ptr(), d.cols[c].size(), stream_);
    }
  }

  std::unique_ptr<ColumnSet> slice(const ColumnSet& set, size_t first, size_t count) override {
    StageScope scope("cuda.slice");
    const DeviceColumns& s = dev(set);
    if (first + count > s.cols.size()) throw Error(ErrorCategory::Internal, "slice out of range");
    auto out = std::make_unique<DeviceColumns>();
    for (size_t c = first; c < first + count; ++c) out->cols.push_back(copy(s.cols[c], 0, s.cols[c].size()));
    return out;
  }

  std::unique_ptr<ColumnSet> coefficient_slice(const ColumnSet& coefficients, size_t begin, uint32_t log_size) override {
    StageScope scope("cuda.coefficient_slice");
    const DeviceColumns& s = dev(coefficients);
    auto out = std::make_unique<DeviceColumns>();
    const size_t len = size_t{1} << log_size;
    for (const auto& c : s.cols) {
      if (begin + len > c.size()) throw Error(ErrorCategory::Internal, "coefficient_slice out of range");
      out->cols.push_back(copy(c, begin, len));
    }
    return out;
  }

  std::unique_ptr<ColumnSet> deep_quotients(uint32_t log_size, const std::vector<DeepQuotientBatch>& batches) override {
    const size_t size = size_t{1} << log_size;
    uint64_t n_columns = 0;
    for (const auto& batch : batches) n_columns += batch.columns.size();
    StageScope scope("cuda.deep_quotients", 4 * size * (n_columns + 4));
    std::vector<DeviceDeepBatch> device_batches;
    std::vector<DeviceColumnRef> refs;
    std::vector<QM31> coefficients;
    for (const auto& batch : batches) {
      const auto& co = batch.coefficients;
      if (co.column_coefficients.size() != batch.columns.size())
        throw Error(ErrorCategory::Internal, "deep_quotients: coefficient count differs from column count");
      DeviceDeepBatch b;
      b.a_sum = co.a_sum;
      b.b_sum = co.b_sum;
      b.alpha_pow_m = co.alpha_pow_m;
      b.prx = co.prx;
      b.pix = co.pix;
      b.pry = co.pry;
      b.piy = co.piy;
      b.first_column = static_cast<uint32_t>(refs.size());
      b.n_columns = static_cast<uint32_t>(batch.columns.size());
      for (size_t k = 0; k < batch.columns.size(); ++k) {
        const DeviceColumnRef r = dev(*batch.columns[k].set).ref(batch.columns[k].column);
        if (r.length != size) throw Error(ErrorCategory::Internal, "deep_quotients: column not on the quotient domain");
        refs.push_back(r);
        coefficients.push_back(co.column_coefficients[k]);
      }
      device_batches.push_back(b);
    }
    DeviceBuffer<DeviceDeepBatch> batch_buffer = upload(device_batches, stream_);
    DeviceBuffer<DeviceColumnRef> table = upload(refs, stream_);
    DeviceBuffer<QM31> coefficient_buffer = upload(coefficients, stream_);
    auto out = DeviceColumns::make(4, log_size);
    gpu::deep_quotients(log_size, batch_buffer.cptr(), static_cast<uint32_t>(device_batches.size()), table.cptr(),
                        coefficient_buffer.cptr(), out->secure(), stream_);
    synchronize(stream_);  // the tables die on return
    return out;
  }

  std::unique_ptr<ColumnSet> fri_fold_circle(const ColumnSet& column, const QM31& alpha,
                                             const ColumnSet* accumulate_into) override {
    const DeviceColumns& in = dev(column);
    StageScope scope("cuda.fri_fold_circle", column_bytes(in) * (accumulate_into ? 4 : 3) / 2);
    const uint32_t n = in.log_size(0);
    if (n < 1) throw Error(ErrorCategory::Internal, "fri_fold_circle: column too small");
    const DeviceColumns* acc = accumulate_into ? &dev(*accumulate_into) : nullptr;
    if (acc && acc->cols.at(0).size() != (size_t{1} << (n - 1)))
      throw Error(ErrorCategory::Internal, "fri_fold_circle: size mismatch");
    auto out = DeviceColumns::make(4, n - 1);
    gpu::fri_fold_circle(in.secure_const(), n, alpha, acc != nullptr, acc ? acc->secure_const() : in.secure_const(),
                         out->secure(), stream_);
    return out;
  }

  std::unique_ptr<ColumnSet> fri_fold_line(const ColumnSet& line, const circle::LineDomain& domain,
                                           const QM31& alpha) override {
    const DeviceColumns& in = dev(line);
    StageScope scope("cuda.fri_fold_line", column_bytes(in) * 3 / 2);
    if (in.cols.at(0).size() != domain.size() || domain.log_size() < 1)
      throw Error(ErrorCategory::Internal, "fri_fold_line: size mismatch");
    auto out = DeviceColumns::make(4, domain.log_size() - 1);
    gpu::fri_fold_line(in.secure_const(), domain, alpha, out->secure(), stream_);
    return out;
  }

  uint64_t grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) override {
    StageScope scope("cuda.grind");
#if defined(PTVM_HOSTSIM)
    // Fibers are ~10^4x slower than a GPU: small windows, so a low-bit test grind stays short.
    const uint64_t window = uint64_t{1} << 12;
#else
    const uint64_t window = uint64_t{1} << 26;
#endif
    return blake2s_grind(channel.digest(), pow_bits, stream_, window);
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

  // The device table of a set's columns, each required to have `length` values.
  DeviceBuffer<DeviceColumnRef> column_table(const ColumnSet& set, size_t length) const {
    const DeviceColumns& d = dev(set);
    std::vector<DeviceColumnRef> refs;
    for (size_t c = 0; c < d.cols.size(); ++c) {
      if (d.cols[c].size() != length)
        throw Error(ErrorCategory::Internal, "cuda backend: columns on different domains (" +
                                                 std::to_string(d.cols[c].size()) + " vs " + std::to_string(length) + ")");
      refs.push_back(d.ref(c));
    }
    return upload(refs, stream_);
  }

  DeviceBuffer<M31> copy(const DeviceBuffer<M31>& src, size_t begin, size_t len) const {
    DeviceBuffer<M31> out(len);
    if (len) copy_device_to_device(out.data(), src.data() + begin, len * sizeof(M31), stream_);
    return out;
  }

  const DeviceTwiddles& twiddles(uint32_t max_domain_log) {
    if (!twiddles_ || twiddles_->max_domain_log() < max_domain_log)
      // The kernels derive every twiddle from points on the device; only the root coset is needed
      // (building the host TwiddleTree just to pass it to DeviceTwiddles::upload was wasted work).
      twiddles_ = std::make_unique<DeviceTwiddles>(
          DeviceTwiddles{circle::CanonicCoset{std::max<uint32_t>(max_domain_log, 2)}.half_coset()});
    return *twiddles_;
  }

  std::vector<DeviceAirKernels> airs_;
  std::unique_ptr<DeviceTwiddles> twiddles_;
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
