// The VM side of the device backend: the VM AIR's components (ptvm/vmair/vm_air.hpp) registered
// with a CUDA backend, and prove_batch's lockstep groups on it. The CUDA library (cuda/) names no
// AIR of the VM: its evaluators enter through CudaBackend::register_air like any other AIR's.
// Built twice, like all GPU code, from host/air/vm/device/ (vm_device_airs.cu, vm_group_proving.cpp): library
// ptvm_vm_hostsim (with ptvm::hostsim) and ptvm_vm_cuda (with ptvm::cuda).
#pragma once
#include <cstddef>

#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/vmair/batch.hpp"

namespace ptvm::vmair {

// Registers the device launchers of StepAir, RomAir, MemoryAir and TablesAir with `backend`, and
// of the same four relabelled into an aggregate proof (air::Relabelled, ptvm/vmair/aggregate.hpp).
// Their device evaluators are trivially copyable views (the ROM and the memory contents stay on
// the host and enter the proof through preprocessed columns).
void register_device_airs(gpu::CudaBackend& backend);

// prove_batch's lockstep groups (BatchProveOptions::group) over gpu::run_group on `device`, which
// must outlive its use, the VM AIR registered with it: at most max_group jobs per group, bounded by
// the device's free memory now.
GroupProving group_proving(gpu::CudaBackend& device, size_t max_group = 256);

}  // namespace ptvm::vmair
