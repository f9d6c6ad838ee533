// The CUDA backend of the F128 STARK (statement-v1): stark128::Backend128 (ptvm/stark128/backend.hpp)
// on the kernels of ptvm/gpu/stark128_kernels.hpp, the F128 coset NTT (ptvm/gpu/f128_ntt.hpp) and
// the BLAKE2b Merkle tree (ptvm/gpu/merkle_blake2b.hpp). Columns stay in device memory between
// calls; the host reads roots, sampled values, openings (one gather per tree opening), the last FRI
// layer and the nonce. Its proofs are the CPU backend's byte for byte (tested under host-sim).
//
// Components are evaluated by the device kernels registered for their AIR type (the VM AIR's four,
// vm_air128_kernels(), and the wide-Fibonacci example, example_air128_kernels()); another AIR type
// is a Usage error naming the component.
#pragma once
#include <memory>
#include <string_view>

#include "ptvm/gpu/config.hpp"
#include "ptvm/stark128/backend.hpp"

PTVM_GPU_NAMESPACE_BEGIN

std::unique_ptr<stark128::Backend128> make_stark128_cuda_backend();
// "cuda": the device backend; "dual": dual(cpu, cuda) (stark128::make_dual_backend128). Throws
// ptvm::Error (Usage) for any other name.
std::unique_ptr<stark128::Backend128> make_stark128_backend(std::string_view name);

PTVM_GPU_NAMESPACE_END
