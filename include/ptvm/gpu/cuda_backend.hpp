// The CUDA backend of the circle-STARK prover (cuda/backend/): every ptvm::Backend stage as device
// kernels, columns resident in device memory from upload_rows() to the proof. Built twice, like all
// GPU code: in ptvm::cuda (nvcc, a real GPU) and in ptvm::hostsim (the same kernels on Boost.Fiber),
// each in its own inline namespace (see namespace.hpp). Its proofs are byte-identical to
// make_cpu_backend()'s.
//
// AIR evaluation on the device: the constraint evaluator of an AIR type is a template
// (`template <class E> PTVM_HD void evaluate(E&) const`), so a kernel must be instantiated for each
// AIR type in a .cu file: `gpu::device_air_kernels<MyAir>()` (ptvm/gpu/device_air.cuh) gives the
// launchers, and CudaBackend::register_air() makes them known. This library is generic: it
// registers only the example AIRs of ptvm/air/examples/ with every backend made here. Any other
// AIR, the VM's included (ptvm/gpu/vmair_device.hpp, outside cuda/), is registered by its owner. A
// component whose AIR type is not registered makes logup_interaction / eval_composition throw
// ptvm::Error naming it.
//
// Device AIR requirement: what a kernel evaluates is copied byte-wise to device memory, so it is
// trivially copyable (device_air_kernels static_asserts it): the AIR type itself, or, when the AIR
// holds host-only data (a name, a ROM, memory contents), its `DeviceEval` view (a nested trivially
// copyable struct with the evaluate() body, returned by `DeviceEval device_eval() const`; the AIR's
// own evaluate() forwards to it, so host and device evaluate the same code).
#pragma once
#include <functional>
#include <span>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ptvm/backend.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/stark_kernels.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// The device launchers of one AIR type (made by device_air_kernels<AirT>() in a .cu file).
struct DeviceAirKernels {
  const char* air_type_name;
  // True if the component wraps this AIR type (air::ComponentAdapter<AirT>).
  bool (*matches)(const air::Component& component);
  void (*trace_fractions)(const air::Component& component, const FractionsDeviceArgs& args, stream_t stream);
  void (*composition)(const air::Component& component, const CompositionDeviceArgs& args, stream_t stream);
  // Many components of this AIR type in one launch: component i with args[i] (a device table),
  // the grid sized for the largest (log rows / log domain size).
  void (*fractions_many)(std::span<const air::Component* const> components, gptr<const FractionsDeviceArgs> args,
                         uint32_t max_log_rows, stream_t stream);
  void (*composition_many)(std::span<const air::Component* const> components, gptr<const CompositionDeviceArgs> args,
                           uint32_t max_log_size, stream_t stream);
};

// The example AIRs of ptvm/air/examples/ (kernels/stark/example_airs.cu).
std::vector<DeviceAirKernels> example_air_kernels();

class CudaBackend : public Backend {
 public:
  // Registers an AIR type for device evaluation (later registrations of the same type win).
  virtual void register_air(const DeviceAirKernels& kernels) = 0;
  // The launchers registered for a component's AIR type; throws ptvm::Error (Usage) naming it
  // when none is.
  virtual const DeviceAirKernels& air_kernels(const air::Component& component) const = 0;
  // Test hook: overwrite one value of a device column set made by this backend (e.g. to check
  // that the dual backend reports an injected difference).
  virtual void poke_value(ColumnSet& columns, size_t column, size_t position, M31 value) = 0;
  // The backend's device pipeline (compute and copy streams, pinned staging; runtime.hpp): the
  // group prover (group_backend.hpp) runs its rounds under a PipelineScope of it, so its steady
  // state reuses the same staging slots and pooled memory group after group.
  virtual DevicePipeline& pipeline() = 0;
};

// A CUDA backend on the runtime this program links (CUDA or host-sim), the example AIRs
// registered.
// Throws ptvm::Error (Device) when no device is available.
std::unique_ptr<CudaBackend> make_cuda_backend();

// "dual": runs a reference and a candidate backend side by side on the same inputs, compares every
// stage's output (columns value by value, roots, sampled values, openings, nonces) and throws
// ptvm::Error (Internal) naming the first stage, column and row (bit-reversed storage position)
// that differ, with both values labelled by backend name. Results are the reference's.
struct DualBackendOptions {
  // Test hook: called with the stage name and the candidate's output column set before each
  // column comparison when the candidate is a CudaBackend; may change it through
  // CudaBackend::poke_value.
  std::function<void(std::string_view stage, CudaBackend& cuda, ColumnSet& cuda_output)> after_cuda_stage;
};
// The CPU backend (reference) against a CUDA backend (candidate).
std::unique_ptr<Backend> make_dual_backend(DualBackendOptions options = {});
// Any two backends (e.g. cpu against cpu, or against a backend under development). Column sets
// passed to it must come from it.
std::unique_ptr<Backend> make_dual_backend(std::unique_ptr<Backend> reference, std::unique_ptr<Backend> candidate,
                                           DualBackendOptions options = {});

// "cpu", "cuda" or "dual"; throws ptvm::Error (Usage) naming the known backends otherwise.
std::unique_ptr<Backend> make_backend(std::string_view name);

PTVM_GPU_NAMESPACE_END
