#include "tensor_device.hpp"

#include "backend_select.hpp"
#include "ptvm/common/error.hpp"

namespace tvm_cli {

using ptvm::Error;
using ptvm::ErrorCategory;

ptvm::vm::TensorFfnFactory select_tensor_device(const std::string& name) {
  if (name == "cpu") return {};
  if (name == "hostsim") {
    if (!hostsim_runtime_built())
      throw Error(ErrorCategory::Usage,
                  "--tensor-device hostsim: this tvm was built without host-sim");
    return make_hostsim_tensor_ffn();
  }
  if (name == "gpu" || name == "gpu-own") {
    if (!cuda_runtime_built())
      throw Error(ErrorCategory::Usage,
                  "--tensor-device " + name +
                      ": this tvm was built without the CUDA runtime (nvcc not found); "
                      "use --tensor-device cpu or hostsim");
    if (!cuda_device_visible())
      throw Error(ErrorCategory::Device,
                  "--tensor-device " + name +
                      ": no CUDA device is visible (use --tensor-device cpu, or hostsim to "
                      "run the GPU kernel on the CPU)");
    return make_cuda_tensor_ffn(name == "gpu");
  }
  throw Error(ErrorCategory::Usage,
              "--tensor-device must be cpu, hostsim, gpu or gpu-own (got '" + name + "')");
}

}  // namespace tvm_cli
