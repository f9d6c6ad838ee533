// Device kernels of the VM AIR's components (ptvm/vmair/vm_air.hpp: steps, program ROM, memory,
// range/bitwise tables), registered with a CUDA backend by the VM side (ptvm/gpu/vmair_device.hpp).
// Each kernel evaluates the component's trivially copyable device evaluator (RomAir::DeviceEval,
// MemoryAir::DeviceEval; StepAir and TablesAir are their own; air::Relabelled<T>::DeviceEval for
// the aggregate's relabelled components), copied byte-wise to the device; the ROM and memory
// contents stay beside them on the host.
#include "ptvm/air/relabel.hpp"
#include "ptvm/gpu/device_air.cuh"
#include "ptvm/vmair/vm_air.hpp"

namespace ptvm::vmair {

// Declared in ptvm/gpu/vmair_device.hpp (not included here: nvcc sees only the AIR and the kernels;
// vm_group_proving.cpp, which includes it, calls this).
void register_device_airs(gpu::CudaBackend& backend);

void register_device_airs(gpu::CudaBackend& backend) {
  backend.register_air(gpu::device_air_kernels<StepAir>());
  backend.register_air(gpu::device_air_kernels<RomAir>());
  backend.register_air(gpu::device_air_kernels<MemoryAir>());
  backend.register_air(gpu::device_air_kernels<TablesAir>());
  // The same components relabelled into an aggregate proof (ptvm/vmair/aggregate.hpp).
  backend.register_air(gpu::device_air_kernels<air::Relabelled<StepAir>>());
  backend.register_air(gpu::device_air_kernels<air::Relabelled<RomAir>>());
  backend.register_air(gpu::device_air_kernels<air::Relabelled<MemoryAir>>());
  backend.register_air(gpu::device_air_kernels<air::Relabelled<TablesAir>>());
}

}  // namespace ptvm::vmair
