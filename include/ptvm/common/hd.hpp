// Host/device annotations shared by every header that is compiled by both g++ and nvcc.
// PTVM_HD marks math written once for host and device; it is empty in pure host builds and in
// host-sim, where the kernels themselves are compiled by the host compiler.
#pragma once

#if defined(__CUDACC__) && !defined(PTVM_HOSTSIM)
#define PTVM_HD __host__ __device__
#define PTVM_DEVICE __device__
#define PTVM_FORCEINLINE __forceinline__
#else
#define PTVM_HD
#define PTVM_DEVICE
#define PTVM_FORCEINLINE inline __attribute__((always_inline))
#endif

// True while compiling device code for a real GPU (never in host-sim).
#if defined(__CUDA_ARCH__)
#define PTVM_DEVICE_CODE 1
#else
#define PTVM_DEVICE_CODE 0
#endif
