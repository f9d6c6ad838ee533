// Device kernels of the VM AIR's components (ptvm/vmair/vm_air.hpp): steps, program ROM, memory,
// range/bitwise tables. Their evaluate() reads only sizes (the ROM and memory contents enter
// through preprocessed columns), so the byte-wise device copy of the AIR objects is sound.
#include "ptvm/gpu/device_air.cuh"
#include "ptvm/vmair/vm_air.hpp"

PTVM_GPU_NAMESPACE_BEGIN

std::vector<DeviceAirKernels> vm_air_kernels() {
  return {device_air_kernels<vmair::StepAir>(), device_air_kernels<vmair::RomAir>(),
          device_air_kernels<vmair::MemoryAir>(), device_air_kernels<vmair::TablesAir>()};
}

PTVM_GPU_NAMESPACE_END
