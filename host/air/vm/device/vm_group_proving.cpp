// prove_batch's lockstep groups on a CUDA backend (ptvm/gpu/vmair_device.hpp): host code, built
// into both ptvm_vm_hostsim and ptvm_vm_cuda by the host compiler.
#include "ptvm/gpu/group_backend.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/vmair_device.hpp"

namespace ptvm::vmair {

GroupProving group_proving(gpu::CudaBackend& device, size_t max_group) {
  register_device_airs(device);
  GroupProving g;
  gpu::CudaBackend* d = &device;
  g.run = [d](size_t n, const std::function<void(size_t, Backend&)>& body) { return gpu::run_group(*d, n, body); };
  g.max_group = max_group;
  g.device_free_bytes = gpu::device_free_bytes();
  return g;
}

}  // namespace ptvm::vmair
