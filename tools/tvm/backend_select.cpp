#include "backend_select.hpp"

#include "ptvm/common/error.hpp"

namespace tvm_cli {

using ptvm::Error;
using ptvm::ErrorCategory;

void check_backend_name(const std::string& name) {
  if (name == "auto" || name == "cpu") return;
  if (name == "cuda" || name == "dual") {
    if (!cuda_runtime_built())
      throw Error(ErrorCategory::Usage, "--backend " + name +
                                            ": this tvm was built without the CUDA backend (nvcc not found); "
                                            "use --backend cpu or hostsim");
    return;
  }
  if (name == "hostsim" || name == "hostsim-dual") {
    if (!hostsim_runtime_built())
      throw Error(ErrorCategory::Usage, "--backend " + name + ": this tvm was built without host-sim");
    return;
  }
  throw Error(ErrorCategory::Usage,
              "--backend must be auto, cpu, cuda, dual, hostsim or hostsim-dual (got '" + name + "')");
}

SelectedBackend select_backend(const std::string& name) {
  check_backend_name(name);
  SelectedBackend s;
  if (name == "auto") {
    if (cuda_runtime_built() && cuda_device_visible()) {
      s.backend = make_cuda_runtime_backend("cuda");
      s.name = "cuda";
    } else {
      s.backend = ptvm::make_cpu_backend();
      s.name = "cpu";
    }
    return s;
  }
  s.name = name;
  if (name == "cpu") {
    s.backend = ptvm::make_cpu_backend();
  } else if (name == "cuda" || name == "dual") {
    if (!cuda_device_visible())
      throw Error(ErrorCategory::Device, "--backend " + name +
                                             ": no CUDA device is visible (use --backend cpu, or hostsim to run "
                                             "the CUDA kernels on the CPU)");
    s.backend = make_cuda_runtime_backend(name);
  } else {
    s.backend = make_hostsim_runtime_backend(name == "hostsim" ? "cuda" : "dual");
  }
  return s;
}

SelectedZkmlBackend select_zkml_backend(const std::string& name) {
  if (name != "auto" && name != "cpu" && name != "cuda" && name != "hostsim")
    throw Error(ErrorCategory::Usage, "prove-block --backend must be auto, cpu, cuda or hostsim (got '" + name + "')");
  check_backend_name(name);
  const bool device = cuda_runtime_built() && cuda_device_visible();
  if (name == "cpu" || (name == "auto" && !device)) {
    SelectedZkmlBackend s;
    s.sumcheck = ptvm::sumcheck::make_cpu_sumcheck_backend();
    s.name = "cpu";
    return s;
  }
  if (name == "hostsim") return make_hostsim_zkml_backend();
  if (!device)
    throw Error(ErrorCategory::Device, "--backend cuda: no CUDA device is visible (use --backend cpu, or hostsim "
                                       "to run the GPU sumcheck kernels on the CPU)");
  return make_cuda_zkml_backend();
}

SelectedBackend128 select_stark128_backend(const std::string& name) {
  check_backend_name(name);
  SelectedBackend128 s;
  if (name == "cpu" || (name == "auto" && !(cuda_runtime_built() && cuda_device_visible()))) {
    s.name = "cpu";
    return s;  // the prover's own CPU reference
  }
  if (name == "auto" || name == "cuda" || name == "dual") {
    if (!cuda_device_visible())
      throw Error(ErrorCategory::Device, "--backend " + name +
                                             ": no CUDA device is visible (use --backend cpu, or hostsim to run "
                                             "the CUDA kernels on the CPU)");
    s.name = name == "auto" ? "cuda" : name;
    s.backend = make_cuda_runtime_stark128_backend(s.name);
    return s;
  }
  s.name = name;
  s.backend = make_hostsim_runtime_stark128_backend(name == "hostsim" ? "cuda" : "dual");
  return s;
}

}  // namespace tvm_cli
