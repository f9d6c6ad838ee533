// The F128 composition kernel (declared in ptvm/gpu/stark128_kernels.hpp): an AIR's
// `template <class E> PTVM_HD void evaluate(E&) const` run with E::F = E::EF = F128 at every
// position of the LDE domain, then the boundary constraints and the last LogUp batch in
// stark128::ComponentAdapter128's order (ptvm/stark128/air128.hpp: DomainEval128's twin), divided
// by the vanishing polynomial and added into H. Instantiated for the VM AIR's four component
// types and the wide-Fibonacci example; their evaluate() reads only sizes (ROM and memory contents enter through preprocessed
// columns), so the byte-wise device copy of the AIR objects is sound (as in vm_airs.cu).
#include <cstring>
#include <typeinfo>

#include "../common/field_access.cuh"
#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/stark128_kernels.hpp"
#include "ptvm/air/examples/wide_fibonacci.hpp"
#include "ptvm/vmair/vm_air.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace ptvm::kernels {
namespace {

using gpu::Composition128Args;
using gpu::DeviceF128ColumnRef;
constexpr unsigned kThreads = 128;

PTVM_HD PTVM_FORCEINLINE F128 value_at(const gptr<const DeviceF128ColumnRef>& table, uint32_t c, size_t pos) {
  const DeviceF128ColumnRef r = table.load(c);
  return gptr<const F128>(r.data, r.length).load(pos);
}

struct DeviceDomainEval128 {
  using F = F128;
  using EF = F128;
  const Composition128Args* args = nullptr;
  size_t pos = 0, next_pos = 0;
  F128 accumulator;
  uint32_t next_constraint = 0;
  air::LogupBatcher<DeviceDomainEval128> logup;

  PTVM_HD PTVM_FORCEINLINE size_t at(int o) const { return o == 0 ? pos : next_pos; }
  PTVM_HD PTVM_FORCEINLINE F main(uint32_t c, int o) const { return value_at(args->main, c, at(o)); }
  PTVM_HD PTVM_FORCEINLINE F preprocessed(uint32_t c, int o) const { return value_at(args->preprocessed, c, at(o)); }
  PTVM_HD F128 interaction(uint32_t batch, int o) const { return value_at(args->interaction, batch, at(o)); }
  PTVM_HD uint32_t n_logup_batches() const { return args->logup_batches; }
  PTVM_HD F128 claimed_sum_per_row() const { return args->sum_per_row; }
  PTVM_HD PTVM_FORCEINLINE void add_constraint(const F128& c) {
    accumulator += args->coefficients.load(next_constraint++) * c;
  }
  template <class Mult, size_t K>
  PTVM_HD void add_fraction(uint32_t relation, const Mult& m, const F (&values)[K]) {
    const stark128::RelationChallenges128 ch = args->challenges.load(relation);
    logup.add(*this, m, ch.combine(values));
  }
};

template <class AirT>
__global__ void composition128_kernel(const AirT* air, Composition128Args args) {
  const size_t nb = size_t{1} << args.log_lde;
  const size_t period = nb >> args.log_rows;
  for (size_t pos = grid_thread_index(); pos < nb; pos += grid_thread_count()) {
    const size_t nat = circle::bit_reverse_index(pos, args.log_lde);
    DeviceDomainEval128 e;
    e.args = &args;
    e.pos = pos;
    e.next_pos = circle::bit_reverse_index((nat + period) & (nb - 1), args.log_lde);
    air->evaluate(e);
    for (uint32_t b = 0; b < args.n_boundaries; ++b) {
      const gpu::DeviceBoundary128 bc = args.boundaries.load(b);
      e.add_constraint(e.preprocessed(bc.selector_column, 0) *
                       (e.main(bc.main_column, 0) - args.public_inputs.load(bc.public_input)));
    }
    e.logup.finalize(e);
    args.h.store(pos, args.h.load(pos) + e.accumulator * args.van_inv.load(nat & (period - 1)));
  }
}

template <class AirT>
const AirT* adapter_air(const stark128::Component128& c) {
  auto* a = dynamic_cast<const stark128::ComponentAdapter128<AirT>*>(&c);
  return a ? &a->air() : nullptr;
}

template <class AirT>
bool matches(const stark128::Component128& c) {
  return adapter_air<AirT>(c) != nullptr;
}

template <class AirT>
void add_composition(const stark128::Component128& c, const Composition128Args& args, gpu::stream_t stream) {
  const AirT* host_air = adapter_air<AirT>(c);
  if (!host_air) throw Error(ErrorCategory::Internal, "F128 composition kernel used with another AIR type");
  gpu::DeviceBuffer<unsigned char> bytes(sizeof(AirT));
  gpu::copy_to_device(bytes.data(), static_cast<const void*>(host_air), sizeof(AirT), stream);
  const size_t nb = size_t{1} << args.log_lde;
  PTVM_LAUNCH(composition128_kernel<AirT>, gpu::grid_stride_blocks(nb, kThreads), kThreads, 0, stream)(
      reinterpret_cast<const AirT*>(bytes.data()), args);
  PTVM_CHECK_LAUNCH("composition128_kernel");
#if defined(PTVM_HOSTSIM)
  // An estimate (the AIR's multiplications are not counted one by one): per constraint its own
  // product (degree <= 3: two) and its coefficient; per fraction the tuple's combination
  // (kMaxRelationTupleSize) and the pairing (three); the division by the vanishing polynomial.
  const auto& shape = c.shape();
  const uint64_t muls = 3ull * shape.n_constraints() + (air::kMaxRelationTupleSize + 3ull) * shape.n_fractions + 1;
  hostsim::declare_kernel_ops("composition128_kernel<AirT>", nb * muls * hostsim::kF128MulOps);
#endif
  gpu::synchronize(stream);  // the AIR bytes are freed on return
}

template <class AirT>
gpu::Device128AirKernels kernels_for() {
  return {typeid(AirT).name(), &matches<AirT>, &add_composition<AirT>};
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN

std::vector<Device128AirKernels> vm_air128_kernels() {
  using namespace ::ptvm::kernels;
  return {kernels_for<vmair::StepAir>(), kernels_for<vmair::RomAir>(), kernels_for<vmair::MemoryAir>(),
          kernels_for<vmair::TablesAir>()};
}

std::vector<Device128AirKernels> example_air128_kernels() {
  using namespace ::ptvm::kernels;
  return {kernels_for<air::examples::WideFibonacci>()};
}

PTVM_GPU_NAMESPACE_END
