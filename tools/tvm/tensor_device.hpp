// Where `tvm run` / `run-batch` run the tensor engine's GEMMs (--tensor-device):
//   cpu      plain CPU GEMMs (the default)
//   hostsim  the project's FP64 kernel, run on the CPU by host-sim (the GPU code path, no GPU)
//   gpu      cuBLAS grouped FP64 GEMMs on the GPU (ptvm::cuda and a visible device)
//   gpu-own  the project's FP64 kernel on the GPU
// Every choice is exact and gives the CPU's results step by step.
#pragma once
#include <string>

#include "ptvm/vm/runner.hpp"

namespace tvm_cli {

// Throws ptvm::Error (Usage) for an unknown name or one this build lacks, (Device) for gpu /
// gpu-own without a visible device. Empty for cpu.
ptvm::vm::TensorFfnFactory select_tensor_device(const std::string& name);

// Defined in backend_cuda.cpp / backend_hostsim.cpp (the bridges to those runtimes).
ptvm::vm::TensorFfnFactory make_cuda_tensor_ffn(bool cublas);
ptvm::vm::TensorFfnFactory make_hostsim_tensor_ffn();

}  // namespace tvm_cli
