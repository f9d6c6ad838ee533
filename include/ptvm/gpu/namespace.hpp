// Which GPU runtime this translation unit talks to: the real CUDA runtime (library ptvm::cuda,
// kernels compiled by nvcc) or host-sim (library ptvm::hostsim, the same kernels compiled by the host
// compiler and run on Boost.Fiber). Both libraries declare the same names; each lives in its own
// inline namespace so that one program may link both without symbol clashes. PTVM_HOSTSIM is a
// PUBLIC compile definition of ptvm::hostsim, so users pick the runtime by what they link.
#pragma once

#if defined(PTVM_HOSTSIM)
#define PTVM_GPU_NAMESPACE_BEGIN \
  namespace ptvm::gpu {          \
  inline namespace on_hostsim {
#define PTVM_GPU_NAMESPACE_END \
  }                            \
  }
#else
#define PTVM_GPU_NAMESPACE_BEGIN \
  namespace ptvm::gpu {          \
  inline namespace on_cuda {
#define PTVM_GPU_NAMESPACE_END \
  }                            \
  }
#endif

