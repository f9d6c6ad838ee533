// Device kernels of the example AIRs (ptvm/air/examples/): their constraint evaluators
// instantiated for the device evaluators of ptvm/gpu/device_air.cuh.
#include "ptvm/air/examples/range_check.hpp"
#include "ptvm/air/examples/wide_fibonacci.hpp"
#include "ptvm/gpu/device_air.cuh"

PTVM_GPU_NAMESPACE_BEGIN

std::vector<DeviceAirKernels> example_air_kernels() {
  return {device_air_kernels<air::examples::WideFibonacci>(),
          device_air_kernels<air::examples::RangeCheckedValues>(),
          device_air_kernels<air::examples::ByteTable>()};
}

PTVM_GPU_NAMESPACE_END
