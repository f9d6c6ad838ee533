// The stream and event handle types of the selected GPU runtime (see namespace.hpp).
#pragma once
#include "ptvm/gpu/namespace.hpp"

#if !defined(PTVM_HOSTSIM)
#include <cuda_runtime_api.h>
#endif

namespace ptvm::hostsim {
struct HostStream;  // host-sim streams are synchronous; the type only identifies them
struct HostEvent;
}  // namespace ptvm::hostsim

PTVM_GPU_NAMESPACE_BEGIN
#if defined(PTVM_HOSTSIM)
using stream_t = ::ptvm::hostsim::HostStream*;
using event_t = ::ptvm::hostsim::HostEvent*;
#else
using stream_t = cudaStream_t;
using event_t = cudaEvent_t;
#endif
PTVM_GPU_NAMESPACE_END
