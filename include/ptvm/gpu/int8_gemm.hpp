// The GPU int8 GEMM engine (sumcheck/int8_gemm.hpp's Int8GemmEngine): on ptvm::cuda, cuBLASLt
// int8 x int8 -> int32 on the tensor cores (cuda/sumcheck/int8_gemm_cuda.cpp); under host-sim,
// which has no cuBLASLt, the CPU reference GEMM, and name() says so
// (cuda/sumcheck/int8_gemm_hostsim.cpp). Operands and result are host spans (uploaded and
// downloaded per call). cuBLASLt's int8 kernels want k and n multiples of 4 (its "TN" layout
// rule); other shapes are a Usage error on ptvm::cuda.
#pragma once
#include <memory>

#include "ptvm/gpu/config.hpp"
#include "ptvm/sumcheck/int8_gemm.hpp"

PTVM_GPU_NAMESPACE_BEGIN

std::unique_ptr<sumcheck::Int8GemmEngine> make_gpu_int8_gemm(stream_t stream = nullptr);
// True when the engine above runs cuBLASLt (a CUDA build), false under host-sim.
bool gpu_int8_gemm_is_cublaslt();

PTVM_GPU_NAMESPACE_END
