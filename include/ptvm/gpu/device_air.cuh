// Device evaluation of an AIR's constraints and LogUp fractions: the evaluators the AIR's
// `template <class E> PTVM_HD void evaluate(E&) const` runs against inside a kernel, and
// device_air_kernels<AirT>(), the launchers a CudaBackend registers (ptvm/gpu/cuda_backend.hpp).
// Include this only from a .cu file (it defines kernels); instantiate it once per AIR type.
//
// The evaluators mirror ptvm/air/eval.hpp's host ones call for call (same LogupBatcher, same
// constraint order: the AIR's calls, then boundary constraints in ComponentInfo order, then the last
// LogUp batch), so the device result is the CPU backend's byte for byte.
#pragma once
#include <concepts>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>
#include <typeinfo>

#include "ptvm/air/component.hpp"
#include "ptvm/air/eval.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/device.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/stark_kernels.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// What a kernel evaluates for a component of AIR type AirT, copied byte-wise to device memory:
// AirT::DeviceEval when AirT declares one (with `DeviceEval device_eval() const`), a trivially
// copyable view of what evaluate() reads, the AIR keeping its host-only data (names, ROM, memory
// contents) beside it; else AirT itself, which must then be trivially copyable.
template <class AirT>
struct DeviceEvaluator {
  using type = AirT;
  static const AirT& of(const AirT& air) { return air; }
};
template <class AirT>
  requires requires(const AirT& air) {
    typename AirT::DeviceEval;
    { air.device_eval() } -> std::same_as<typename AirT::DeviceEval>;
  }
struct DeviceEvaluator<AirT> {
  using type = typename AirT::DeviceEval;
  static type of(const AirT& air) { return air.device_eval(); }
};
template <class AirT>
using device_evaluator_t = typename DeviceEvaluator<AirT>::type;

namespace device_air {

PTVM_HD PTVM_FORCEINLINE M31 column_value(const gptr<const DeviceColumnRef>& table, uint32_t column, size_t position) {
  const DeviceColumnRef ref = table.load(column);
  return gptr<const M31>(ref.data, ref.length).load(position);
}

// Storage position of row j of CanonicCoset(log_rows).
PTVM_HD PTVM_FORCEINLINE size_t row_position(size_t j, uint32_t log_rows) {
  return circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, log_rows), log_rows);
}

// Row stored at position p of CanonicCoset(log_rows) (row_position's inverse).
PTVM_HD PTVM_FORCEINLINE size_t row_at_position(size_t p, uint32_t log_rows) {
  return circle::circle_domain_index_to_coset_index(circle::bit_reverse_index(p, log_rows), log_rows);
}

// F = M31 on the constraint-evaluation domain, one position at a time (air::DomainEval's twin).
struct DomainEval {
  using F = M31;
  using EF = QM31;
  const CompositionDeviceArgs* args = nullptr;
  size_t position = 0, next_position = 0;
  QM31 accumulator;
  uint32_t next_constraint = 0;
  air::LogupBatcher<DomainEval> logup;

  PTVM_HD PTVM_FORCEINLINE size_t at(int offset) const { return offset == 0 ? position : next_position; }
  // Block mode keeps the next rows in their own columns (the *_next tables, same local index).
  PTVM_HD PTVM_FORCEINLINE const gptr<const DeviceColumnRef>& table(const gptr<const DeviceColumnRef>& now,
                                                                  const gptr<const DeviceColumnRef>& next,
                                                                  int offset) const {
    return offset != 0 && args->block_log ? next : now;
  }
  PTVM_HD PTVM_FORCEINLINE F main(uint32_t column, int offset) const {
    return column_value(table(args->main, args->main_next, offset), column, at(offset));
  }
  PTVM_HD PTVM_FORCEINLINE F preprocessed(uint32_t column, int offset) const {
    return column_value(table(args->preprocessed, args->preprocessed_next, offset), column, at(offset));
  }
  PTVM_HD QM31 interaction(uint32_t batch, int offset) const {
    const size_t p = at(offset);
    const gptr<const DeviceColumnRef>& t = table(args->interaction, args->interaction_next, offset);
    return QM31::from_m31(column_value(t, 4 * batch, p), column_value(t, 4 * batch + 1, p),
                          column_value(t, 4 * batch + 2, p), column_value(t, 4 * batch + 3, p));
  }
  PTVM_HD uint32_t n_logup_batches() const { return args->logup_batches; }
  PTVM_HD QM31 claimed_sum_per_row() const { return args->claimed_sum_per_row; }
  PTVM_HD PTVM_FORCEINLINE void add_constraint(const M31& c) {
    accumulator += args->coefficients.load(next_constraint++) * c;
  }
  PTVM_HD void add_constraint(const QM31& c) { accumulator += args->coefficients.load(next_constraint++) * c; }
  template <class Mult, size_t K>
  PTVM_HD void add_fraction(uint32_t relation, const Mult& multiplicity, const F (&values)[K]) {
    const air::RelationChallenges ch = args->challenges.load(relation);
    logup.add(*this, QM31(multiplicity), ch.combine(values));
  }
};

// F = M31 on trace rows: pairs the fractions of one row into batches as they come (the CPU
// backend's pairing), stores batch values j < B-1 and sums the row total.
struct FractionEval {
  using F = M31;
  using EF = QM31;
  const FractionsDeviceArgs* args = nullptr;
  size_t position = 0, next_position = 0;
  air::FractionPairer<QM31> pairer;
  QM31 row_total;
  bool zero_denominator = false;
  static constexpr bool kEvaluatesConstraints = false;

  PTVM_HD PTVM_FORCEINLINE size_t at(int offset) const { return offset == 0 ? position : next_position; }
  PTVM_HD PTVM_FORCEINLINE F main(uint32_t column, int offset) const {
    return column_value(args->main, column, at(offset));
  }
  PTVM_HD PTVM_FORCEINLINE F preprocessed(uint32_t column, int offset) const {
    return column_value(args->preprocessed, column, at(offset));
  }
  template <class X>
  PTVM_HD void add_constraint(const X&) {}
  template <class Mult, size_t K>
  PTVM_HD void add_fraction(uint32_t relation, const Mult& multiplicity, const F (&values)[K]) {
    const air::RelationChallenges ch = args->challenges.load(relation);
    pairer.add(QM31(multiplicity), ch.combine(values),
               [&](uint32_t batch, const QM31& num, const QM31& den) { emit(batch, num, den); });
  }
  PTVM_HD void finalize() {
    pairer.finish([&](uint32_t batch, const QM31& num, const QM31& den) { emit(batch, num, den); });
  }
  PTVM_HD void emit(uint32_t batch, const QM31& num, const QM31& den) {
    if (den.is_zero()) zero_denominator = true;
    const QM31 value = num * den.inverse();
    row_total += value;
    if (batch + 1 < args->logup_batches) {
      const SecureColumnView out = args->batch_columns.load(batch);
      for (int k = 0; k < 4; ++k) out.coords[k].store(position, value.coord(k));
    }
  }
};

template <class AirT>
__device__ PTVM_FORCEINLINE void composition_positions(const AirT* air, const CompositionDeviceArgs& args) {
  // Block mode (block_log != 0): local positions of the block, next rows in the *_next columns.
  const size_t n = size_t{1} << (args.block_log ? args.block_log : args.log_size);
  for (size_t pos = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; pos < n;
       pos += static_cast<size_t>(gridDim.x) * blockDim.x) {
    DomainEval e;
    e.args = &args;
    e.position = pos;
    e.next_position = args.block_log ? pos
                                     : circle::offset_bit_reversed_circle_domain_index(pos, args.log_rows, args.log_size, 1);
    air->evaluate(e);
    for (uint32_t b = 0; b < args.n_boundaries; ++b) {
      const DeviceBoundary bc = args.boundaries.load(b);
      e.add_constraint(e.preprocessed(bc.selector_column, 0) * (e.main(bc.main_column, 0) - bc.value));
    }
    e.logup.finalize(e);
    const QM31 v = e.accumulator * args.inv_vanishing.load((args.block_first + pos) >> args.log_rows);
    for (int k = 0; k < 4; ++k) args.out.coords[k].store(pos, v.coord(k));
  }
}

template <class AirT>
__global__ void composition_kernel(const AirT* air, CompositionDeviceArgs args) {
  composition_positions(air, args);
}
// Many components of one AIR type: component blockIdx.y (its AIR airs[y], its arguments args[y]).
template <class AirT>
__global__ void composition_many_kernel(const AirT* airs, gptr<const CompositionDeviceArgs> args) {
  const CompositionDeviceArgs a = args.load(blockIdx.y);
  composition_positions(airs + blockIdx.y, a);
}

template <class AirT>
__device__ PTVM_FORCEINLINE void fraction_rows(const AirT* air, const FractionsDeviceArgs& args) {
  const size_t n = size_t{1} << (args.block_log ? args.block_log : args.log_rows);
  // Threads walk the storage positions (consecutive lanes read consecutive values of a column: one
  // coalesced request), each evaluating the row stored there; row-block mode: row order, the
  // current row only. Every row is evaluated on its own, so the order changes no value.
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    FractionEval e;
    e.args = &args;
    const size_t row = args.block_log ? i : row_at_position(i, args.log_rows);
    e.position = i;
    e.next_position = args.block_log ? i : circle::offset_bit_reversed_circle_domain_index(i, args.log_rows, args.log_rows, 1);
    air->evaluate(e);
    e.finalize();
    if (e.zero_denominator) atomic_min_u32(args.first_zero_row, 0, static_cast<uint32_t>(row));
    args.row_totals.store(row, e.row_total);
  }
}

template <class AirT>
__global__ void fractions_kernel(const AirT* air, FractionsDeviceArgs args) {
  fraction_rows(air, args);
}
template <class AirT>
__global__ void fractions_many_kernel(const AirT* airs, gptr<const FractionsDeviceArgs> args) {
  const FractionsDeviceArgs a = args.load(blockIdx.y);
  fraction_rows(airs + blockIdx.y, a);
}

template <class AirT>
const AirT& air_of(const air::Component& component) {
  auto* adapter = dynamic_cast<const air::ComponentAdapter<AirT>*>(&component);
  if (!adapter) throw Error(ErrorCategory::Internal, "device AIR kernels used with another AIR type");
  return adapter->air();
}

// The device evaluators of components (byte-wise copies, in order) in one upload.
template <class AirT>
DeviceBuffer<unsigned char> upload_evaluators(std::span<const air::Component* const> components, stream_t stream) {
  using Eval = device_evaluator_t<AirT>;
  std::vector<unsigned char> bytes(sizeof(Eval) * components.size());
  for (size_t i = 0; i < components.size(); ++i) {
    const Eval eval = DeviceEvaluator<AirT>::of(air_of<AirT>(*components[i]));
    std::memcpy(bytes.data() + i * sizeof(Eval), static_cast<const void*>(&eval), sizeof(Eval));
  }
  return DeviceBuffer<unsigned char>::from_host(bytes, stream);
}

constexpr unsigned kAirThreads = 128;

template <class AirT>
void launch_composition(const air::Component& component, const CompositionDeviceArgs& args, stream_t stream) {
  using Eval = device_evaluator_t<AirT>;
  const air::Component* const one[] = {&component};
  DeviceBuffer<unsigned char> eval = upload_evaluators<AirT>(one, stream);
  const size_t n = size_t{1} << (args.block_log ? args.block_log : args.log_size);
  PTVM_LAUNCH(composition_kernel<Eval>, grid_stride_blocks(n, kAirThreads), kAirThreads, 0, stream)(
      reinterpret_cast<const Eval*>(eval.data()), args);
  PTVM_CHECK_LAUNCH("composition_kernel");
  synchronize_before_free(stream);  // the evaluator bytes are freed on return
}

template <class AirT>
void launch_fractions(const air::Component& component, const FractionsDeviceArgs& args, stream_t stream) {
  using Eval = device_evaluator_t<AirT>;
  const air::Component* const one[] = {&component};
  DeviceBuffer<unsigned char> eval = upload_evaluators<AirT>(one, stream);
  const size_t n = size_t{1} << (args.block_log ? args.block_log : args.log_rows);
  PTVM_LAUNCH(fractions_kernel<Eval>, grid_stride_blocks(n, kAirThreads), kAirThreads, 0, stream)(
      reinterpret_cast<const Eval*>(eval.data()), args);
  PTVM_CHECK_LAUNCH("fractions_kernel");
  synchronize_before_free(stream);
}

template <class AirT>
void launch_composition_many(std::span<const air::Component* const> components, gptr<const CompositionDeviceArgs> args,
                             uint32_t max_log_size, stream_t stream) {
  using Eval = device_evaluator_t<AirT>;
  if (components.empty()) return;
  DeviceBuffer<unsigned char> evals = upload_evaluators<AirT>(components, stream);
  const Eval* base = reinterpret_cast<const Eval*>(evals.data());
  const size_t n = size_t{1} << max_log_size;
  const uint32_t total = static_cast<uint32_t>(components.size());
  for (uint32_t first = 0; first < total; first += kMaxGridY) {
    const uint32_t count = total - first < kMaxGridY ? total - first : kMaxGridY;
    PTVM_LAUNCH(composition_many_kernel<Eval>, dim3(grid_stride_blocks(n, kAirThreads, 132 * 16 / count + 1), count),
                kAirThreads, 0, stream)(base + first, args.offset(first));
    PTVM_CHECK_LAUNCH("composition_many_kernel");
  }
  synchronize_before_free(stream);
}

template <class AirT>
void launch_fractions_many(std::span<const air::Component* const> components, gptr<const FractionsDeviceArgs> args,
                           uint32_t max_log_rows, stream_t stream) {
  using Eval = device_evaluator_t<AirT>;
  if (components.empty()) return;
  DeviceBuffer<unsigned char> evals = upload_evaluators<AirT>(components, stream);
  const Eval* base = reinterpret_cast<const Eval*>(evals.data());
  const size_t n = size_t{1} << max_log_rows;
  const uint32_t total = static_cast<uint32_t>(components.size());
  for (uint32_t first = 0; first < total; first += kMaxGridY) {
    const uint32_t count = total - first < kMaxGridY ? total - first : kMaxGridY;
    PTVM_LAUNCH(fractions_many_kernel<Eval>, dim3(grid_stride_blocks(n, kAirThreads, 132 * 16 / count + 1), count),
                kAirThreads, 0, stream)(base + first, args.offset(first));
    PTVM_CHECK_LAUNCH("fractions_many_kernel");
  }
  synchronize_before_free(stream);
}

template <class AirT>
bool matches(const air::Component& component) {
  return dynamic_cast<const air::ComponentAdapter<AirT>*>(&component) != nullptr;
}

}  // namespace device_air

template <class AirT>
DeviceAirKernels device_air_kernels() {
  static_assert(std::is_trivially_copyable_v<device_evaluator_t<AirT>>,
                "the device evaluator of an AIR is copied byte-wise to device memory: declare a trivially "
                "copyable AirT::DeviceEval (and DeviceEval device_eval() const) holding what evaluate() reads");
  return DeviceAirKernels{typeid(AirT).name(),
                          &device_air::matches<AirT>,
                          &device_air::launch_fractions<AirT>,
                          &device_air::launch_composition<AirT>,
                          &device_air::launch_fractions_many<AirT>,
                          &device_air::launch_composition_many<AirT>};
}

PTVM_GPU_NAMESPACE_END
