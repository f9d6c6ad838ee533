// Device kernels of the test AIR of custom_air.hpp, registered from the test like any AIR owner
// registers its own (the CUDA library names none but its examples).
#include "custom_air.hpp"
#include "ptvm/gpu/device_air.cuh"

namespace ptvm::testing {

static_assert(!std::is_trivially_copyable_v<SquareChainAir>, "the AIR holds host-only data");
static_assert(std::is_same_v<gpu::device_evaluator_t<SquareChainAir>, SquareChainAir::DeviceEval>);
static_assert(std::is_trivially_copyable_v<gpu::device_evaluator_t<SquareChainAir>>);

void register_square_chain(gpu::CudaBackend& backend) { backend.register_air(gpu::device_air_kernels<SquareChainAir>()); }

}  // namespace ptvm::testing
